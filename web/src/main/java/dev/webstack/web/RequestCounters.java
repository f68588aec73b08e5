package dev.webstack.web;

import java.util.concurrent.atomic.LongAdder;

/**
 * Requests answered since the start, by status class (1xx to 5xx), for {@link WebMetrics}:
 * counted when an answer ends, or when its connection closes before that (499, a 4xx, as in the
 * access log). Shared by every connection and event loop: one {@link LongAdder} per class, so that
 * counting is an uncontended add on each loop's own cell.
 */
final class RequestCounters {
    private final LongAdder[] byClass = new LongAdder[5];

    RequestCounters() {
        for (int i = 0; i < byClass.length; i++) {
            byClass[i] = new LongAdder();
        }
    }

    /** Counts one request answered with {@code status}; a status outside 100-599 is not counted. */
    void count(int status) {
        int c = status / 100 - 1;
        if (c >= 0 && c < byClass.length) {
            byClass[c].increment();
        }
    }

    /** Requests answered with a status of class {@code statusClass} (1 to 5). */
    long answered(int statusClass) {
        return byClass[statusClass - 1].sum();
    }
}
