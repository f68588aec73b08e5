// www.foobar.com: small progressive enhancements; every page works without them.
(function () {
  'use strict';

  // "3 days ago" next to each date; the exact date stays in the tooltip.
  var units = [['year', 31536000], ['month', 2592000], ['day', 86400], ['hour', 3600], ['minute', 60]];
  function relative(date) {
    var seconds = Math.round((Date.now() - date.getTime()) / 1000);
    if (seconds < 60) { return 'just now'; }
    for (var i = 0; i < units.length; i++) {
      var n = Math.floor(seconds / units[i][1]);
      if (n >= 1) { return n + ' ' + units[i][0] + (n > 1 ? 's' : '') + ' ago'; }
    }
    return 'just now';
  }
  function showRelativeDates() {
    document.querySelectorAll('time[datetime]').forEach(function (el) {
      var date = new Date(el.getAttribute('datetime'));
      if (isNaN(date.getTime())) { return; }
      if (!el.title) { el.title = el.textContent; }
      el.textContent = relative(date);
    });
  }

  // A "n / max" counter under each field of the post form.
  function addCounters() {
    document.querySelectorAll('[data-counter][maxlength]').forEach(function (field) {
      var max = parseInt(field.getAttribute('maxlength'), 10);
      var counter = document.createElement('span');
      counter.className = 'counter';
      counter.setAttribute('aria-live', 'polite');
      field.insertAdjacentElement('afterend', counter);
      function update() {
        var used = Array.from(field.value).length;
        counter.textContent = used + ' / ' + max;
        counter.classList.toggle('near-limit', used > max * 0.9);
      }
      field.addEventListener('input', update);
      update();
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    showRelativeDates();
    addCounters();
  });
})();
