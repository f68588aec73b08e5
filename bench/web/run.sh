#!/usr/bin/env bash
# Side-by-side benchmark of webstack's web tier against nginx and HAProxy (Debian's packages),
# same files, same upstream, same run. Needs: nginx, wrk, haproxy (apt-get install -y nginx wrk
# haproxy), the CLI jars (./mvnw -q -DskipTests package at the repo root).
#
#   bench/web/run.sh                 # every case, 8 s per run, A B A B
#   DURATION=4s CASES="small proxy" bench/web/run.sh
#
# Every load run is bounded (wrk -d); everything listens on 127.0.0.1 only. Prints, per case,
# each run's req/s, p99 and the server's CPU time per request, then the mean of each side and the
# ratios webstack/peer. Cases:
#   small 1k 1m notfound proxy  peer nginx (proxy: proxy_pass with upstream keepalive)
#   proxy-haproxy               peer HAProxy (../shared/peers/haproxy.cfg), same upstream
#   proxy-hdrs                  the same HAProxy, made to add the headers webstack's proxy adds
#                               (X-Forwarded-For, -Proto, -Host, X-Request-Id and Via on the way
#                               up; Via and X-Request-Id on the way down): the same work, upstream
#                               and client included (the reference config adds none)
#   tls tls1m                   the small file and the 1 MB file over HTTPS (TLS 1.3, the same
#                               ECDSA P-256 certificate on both sides, made here with openssl)
#   h2                          the small file over HTTP/2 (TLS, ALPN h2): h2load -c16 -m10
#                               (apt-get install -y nghttp2-client); skipped without h2load
#   accesslog                   each server with its access log on, then off, on the small file
#                               (webstack: the same tier reloaded with the other path, SIGHUP)
#   idle10k                     IDLE_CONNS (10000) served keep-alive connections held HOLD (20) s
#                               against each server: all still open? a fresh client served? RSS
#
# PIN=1: one core each (taskset): the server under test alone on CPU 1 (nginx with one worker,
# HAProxy with one thread, webstack's JVM seeing one CPU and so running one event loop), wrk,
# h2load, the idle-connection holder and the fixed upstream on CPU 0. Without it (the default, the
# issue's set-up) the servers, wrk and the upstream share both cores as the scheduler likes.
# LOG_FORMAT: the access log line, the same on both sides: webstack's web.access-log-format and an
# nginx log_format of the same template (default webstack: combined, then the request time and
# id, the line webstack writes by default; `combined` nginx's default line; or a template of
# nginx variables without single quotes). Until 2026-11-27 nginx always wrote `combined`, a line
# about 40 bytes shorter than webstack's default one.
# LARGE_CONNS: wrk's connections for 1m and tls1m (default 64, as every other case and the issue's
# set-up; before 2026-11-27 these two cases ran with 16).
# ACCESSLOG_ROUNDS: rounds of the accesslog case (default ROUNDS, and at least 8: single rounds of it
# move by up to ±20% on this machine, more than the 5% it measures; before 2026-11-27, night, ROUNDS).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-3s}
JIT_WARMUP=${JIT_WARMUP:-20s}
ROUNDS=${ROUNDS:-2}
LARGE_CONNS=${LARGE_CONNS:-64}
ACCESSLOG_ROUNDS=${ACCESSLOG_ROUNDS:-$(( ROUNDS > 8 ? ROUNDS : 8 ))}
LOG_FORMAT=${LOG_FORMAT:-webstack}
COMBINED='$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"'
case "$LOG_FORMAT" in
  webstack) NGINX_LOG_FORMAT="$COMBINED \$request_time \$request_id" ;;
  combined) NGINX_LOG_FORMAT=$COMBINED ;;
  *) NGINX_LOG_FORMAT=$LOG_FORMAT ;;
esac
CASES=${CASES:-"small 1k 1m notfound proxy proxy-haproxy proxy-hdrs tls tls1m h2 accesslog idle10k"}
IDLE_CONNS=${IDLE_CONNS:-10000}
HOLD=${HOLD:-20}
NGINX_STATIC=${NGINX_STATIC:-28080}
NGINX_PROXY=${NGINX_PROXY:-28081}
HAPROXY=${HAPROXY:-28082}
HAPROXY_HDRS=${HAPROXY_HDRS:-28084}
NGINX_NOLOG=${NGINX_NOLOG:-28083}
NGINX_TLS=${NGINX_TLS:-28443}
WEBSTACK_TLS=${WEBSTACK_TLS:-28444}
UPSTREAM=${UPSTREAM:-28090}
WEBSTACK=${WEBSTACK:-28180}
JAVA=${JAVA:-$("$REPO/bin/find-jdk")/bin/java}   # a JDK 21+, as the launcher picks it
# The flags the supervisor gives every tier on Java 23+ (bin/runtime-flags).
RUNTIME_FLAGS=$("$REPO"/bin/runtime-flags "$(dirname "$(dirname "$(readlink -f "$JAVA")")")")
HOST_HEADER='Host: www.foobar.com'
# shellcheck source=../proc.sh
. "$REPO/bench/proc.sh"   # pin_cpus, cpu_ticks
PIN=${PIN:-0}
pin_cpus
if [[ "$PIN" == 1 ]]; then WORKERS=1; HAPROXY_THREADS=1; else WORKERS=auto; HAPROXY_THREADS=""; fi

has_case() { [[ " $CASES " == *" $1 "* ]]; }
for tool in nginx wrk openssl; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx wrk haproxy" >&2; exit 1; }
done
if { has_case proxy-haproxy || has_case proxy-hdrs; } && ! command -v haproxy >/dev/null; then
  echo "missing haproxy: apt-get install -y haproxy" >&2; exit 1
fi
[[ -f "$REPO/cli/target/webstack-cli.jar" ]] || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }
# The JVM flags the supervisor starts the web tier with: heap, collector, compiler (StackPlan.WEB_JVM_OPTIONS, printed by the CLI).
JAVA_OPTS=${JAVA_OPTS:-"$("$JAVA" -cp "$REPO/cli/target/webstack-cli.jar:$REPO/cli/target/lib/*" dev.webstack.cli.Webstack web --print-jvm-options) $RUNTIME_FLAGS"}
# idle10k: each server and the holder need a descriptor per connection, and some more.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if has_case idle10k && (( $(ulimit -n) < IDLE_CONNS + 1000 )); then
  echo "idle10k needs ulimit -n >= $((IDLE_CONNS + 1000)) (hard limit: $(ulimit -Hn)); lower IDLE_CONNS" >&2; exit 1
fi

# The web module's own jar first, so that a rebuilt web tier is measured without repackaging the CLI.
WEB_JAR=$(ls "$REPO"/web/target/webstack-web-*.jar 2>/dev/null | grep -v -- '-sources\|-tests' | head -1 || true)
WORK=$(mktemp -d /tmp/webstack-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as www-data
WEB_PID=""
cleanup() {
  [[ -n "$WEB_PID" ]] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null || true
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  [[ -f "$WORK/upstream.pid" ]] && kill "$(cat "$WORK/upstream.pid")" 2>/dev/null || true
  [[ -f "$WORK/haproxy.pid" ]] && kill "$(cat "$WORK/haproxy.pid")" 2>/dev/null || true
  [[ -f "$WORK/haproxy-hdrs.pid" ]] && kill "$(cat "$WORK/haproxy-hdrs.pid")" 2>/dev/null || true
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the files both servers serve --------------------------------------------------------------
ROOT="$WORK/root"
mkdir -p "$ROOT"
{
  printf '<!DOCTYPE html>\n<html><head><title>foobar</title></head>\n<body><p>Hello from www.foobar.com, a small static page of about two hundred bytes.</p></body></html>\n'
} > "$ROOT/index.html"
{
  printf '<!DOCTYPE html>\n<html><head><title>foobar 1k</title></head>\n<body>\n'
  for i in $(seq 1 14); do printf '<p>Line %02d of a page of about one kilobyte, served as is.</p>\n' "$i"; done
  printf '</body></html>\n'
} > "$ROOT/1k.html"
head -c 1048576 /dev/urandom > "$ROOT/1m.bin"

# --- one certificate for both HTTPS sides (ECDSA P-256, as webstack's self-signed default) -------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=www.foobar.com \
  -addext subjectAltName=DNS:www.foobar.com,IP:127.0.0.1 -keyout "$WORK/tls.key" -out "$WORK/tls.crt" 2>/dev/null
chmod 644 "$WORK/tls.key"  # nginx's workers (www-data) need not read it, but its master may drop privileges first

# --- nginx: static server, reverse proxy and the fixed upstream (from ../shared/peers/nginx.conf)
# worker_connections and worker_rlimit_nofile are raised so that one worker can hold idle10k.
cat > "$WORK/nginx.conf" <<CONF
worker_processes $WORKERS;
worker_rlimit_nofile $(ulimit -n);
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections $((IDLE_CONNS + 6384)); }
http {
  # Both sides log the same line (LOG_FORMAT), buffered and flushed every second.
  log_format same '$NGINX_LOG_FORMAT';
  access_log $WORK/nginx-access.log same buffer=256k flush=1s;
  sendfile on; tcp_nopush on; tcp_nodelay on;
  keepalive_requests 100000;
  open_file_cache max=1000 inactive=60s;
  include /etc/nginx/mime.types;
  client_body_temp_path $WORK/nginx-tmp;
  proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp;
  scgi_temp_path $WORK/nginx-tmp;
  upstream app { server 127.0.0.1:$UPSTREAM; keepalive 64; }
  server { listen 127.0.0.1:$NGINX_STATIC; root $ROOT; }
  server { listen 127.0.0.1:$NGINX_NOLOG; root $ROOT; access_log off; }
  server { listen 127.0.0.1:$NGINX_TLS ssl http2; root $ROOT;
           ssl_certificate $WORK/tls.crt; ssl_certificate_key $WORK/tls.key; ssl_protocols TLSv1.2 TLSv1.3; }
  server { listen 127.0.0.1:$NGINX_PROXY;
           location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
CONF
# The fixed upstream is an nginx of its own, so that the CPU time read per case (see below) is the
# proxy's alone on both sides.
cat > "$WORK/upstream.conf" <<CONF
worker_processes $WORKERS;
pid $WORK/upstream.pid;
error_log $WORK/upstream-error.log warn;
events { worker_connections 4096; }
http {
  keepalive_requests 100000;
  client_body_temp_path $WORK/nginx-tmp;
  proxy_temp_path $WORK/nginx-tmp;
  fastcgi_temp_path $WORK/nginx-tmp;
  uwsgi_temp_path $WORK/nginx-tmp;
  scgi_temp_path $WORK/nginx-tmp;
  server { listen 127.0.0.1:$UPSTREAM; access_log off; location / { return 200 "hello from upstream\n"; } }
}
CONF
mkdir -p "$WORK/nginx-tmp"
start_nginx() { # conf, then the command prefix (where it runs)
  local conf=$1; shift
  "$@" nginx -c "$WORK/$conf.conf" -e "$WORK/$conf-error.log" 2>/dev/null || "$@" nginx -c "$WORK/$conf.conf"
}
# The peer where the server under test runs, the fixed upstream with the load generators (PIN=1).
start_nginx nginx "${ON_SERVER[@]}"
start_nginx upstream "${ON_CLIENT[@]}"

# --- HAProxy in front of the same upstream: the peer config, with this run's ports and pid file.
# It has no log line: HAProxy logs nothing here, so webstack's log is off for that case.
if has_case proxy-haproxy; then
  sed -e "s/127\.0\.0\.1:18082/127.0.0.1:$HAPROXY/" -e "s/127\.0\.0\.1:18090/127.0.0.1:$UPSTREAM/" \
      -e "s#pidfile .*#pidfile $WORK/haproxy.pid#" "$REPO/../shared/peers/haproxy.cfg" > "$WORK/haproxy.cfg"
  if [[ -n "$HAPROXY_THREADS" ]]; then sed -i "s/^  nbthread .*/  nbthread $HAPROXY_THREADS/" "$WORK/haproxy.cfg"; fi
  "${ON_SERVER[@]}" haproxy -D -f "$WORK/haproxy.cfg"
fi
# proxy-hdrs: the peer config, on its own port, adding in its frontend what webstack's proxy adds.
if has_case proxy-hdrs; then
  sed -e "s/127\.0\.0\.1:18082/127.0.0.1:$HAPROXY_HDRS/" -e "s/127\.0\.0\.1:18090/127.0.0.1:$UPSTREAM/" \
      -e "s#pidfile .*#pidfile $WORK/haproxy-hdrs.pid#" \
      -e 's#^  default_backend app#  unique-id-format %{+X}o%ci%cp%fi%fp%Ts%rt%pid\
  option forwardfor\
  http-request set-header X-Forwarded-Proto http\
  http-request set-header X-Forwarded-Host %[req.hdr(host)]\
  http-request set-header X-Request-Id %[unique-id]\
  http-request add-header Via "1.1 haproxy"\
  http-response add-header Via "1.1 haproxy"\
  http-response set-header X-Request-Id %[unique-id]\
  default_backend app#' "$REPO/../shared/peers/haproxy.cfg" > "$WORK/haproxy-hdrs.cfg"
  if [[ -n "$HAPROXY_THREADS" ]]; then sed -i "s/^  nbthread .*/  nbthread $HAPROXY_THREADS/" "$WORK/haproxy-hdrs.cfg"; fi
  "${ON_SERVER[@]}" haproxy -D -f "$WORK/haproxy-hdrs.cfg"
fi

# --- webstack's web tier on the same files, proxying to the same upstream -----------------------
cat > "$WORK/webstack.yml" <<YML
var: $WORK/var
web:
  listen: 127.0.0.1:$WEBSTACK
  admin: 127.0.0.1:0
  public: $ROOT
  static:
    - /index.html
    - /1k.html
    - /1m.bin
    - /missing.html
  upstreams:
    - 127.0.0.1:$UPSTREAM
  access-log: $WORK/webstack-access.log
  access-log-format: '$LOG_FORMAT'
  # nginx's keepalive_requests of the peer config (../shared/peers/nginx.conf); both default to 1000.
  keepalive-requests: 100000
  tls:
    listen: 127.0.0.1:$WEBSTACK_TLS
    certificate: $WORK/tls.crt
    key: $WORK/tls.key
YML
# shellcheck disable=SC2086
"${ON_SERVER[@]}" "${AS_DAEMON[@]}" "$JAVA" $JAVA_OPTS -cp "$REPO/cli/target/webstack-cli.jar:$WEB_JAR:$REPO/cli/target/lib/*" dev.webstack.cli.Webstack \
  web --config "$WORK/webstack.yml" --upstream "127.0.0.1:$UPSTREAM" > "$WORK/webstack.log" 2>&1 &
WEB_PID=$!

wait_port() { # port [scheme]
  for _ in $(seq 1 100); do
    curl -sk -o /dev/null -H "$HOST_HEADER" "${2:-http}://127.0.0.1:$1/index.html" && return 0
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2; cat "$WORK"/*.log >&2; exit 1
}
wait_port "$NGINX_STATIC"; wait_port "$NGINX_PROXY"; wait_port "$WEBSTACK"
if has_case proxy-haproxy; then wait_port "$HAPROXY"; fi
if has_case proxy-hdrs; then wait_port "$HAPROXY_HDRS"; fi
if has_case accesslog; then wait_port "$NGINX_NOLOG"; fi
if has_case tls || has_case tls1m || has_case h2; then wait_port "$NGINX_TLS" https; wait_port "$WEBSTACK_TLS" https; fi
# The tier accepts connections before it logs where it listens: give the line a moment.
for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/webstack.log" && break; sleep 0.1; done
{ grep -o 'listening on [^,]*' "$WORK/webstack.log" || true; } | head -1 | sed 's/^/webstack: /'

# Per case: connections, path, the peer's name and port (webstack's is $WEBSTACK).
case_conns() { [[ "$1" == 1m || "$1" == tls1m ]] && echo "$LARGE_CONNS" || echo 64; }
case_path() {
  case "$1" in
    small|accesslog|idle10k|tls|h2) echo /index.html ;; 1k) echo /1k.html ;; 1m|tls1m) echo /1m.bin ;;
    notfound) echo /missing.html ;; proxy|proxy-haproxy|proxy-hdrs) echo /app/hello ;;
    *) echo "unknown case: $1" >&2; exit 1 ;;
  esac
}
peer_name() { [[ "$1" == proxy-haproxy || "$1" == proxy-hdrs ]] && echo haproxy || echo nginx; }
peer_port() {
  case "$1" in proxy) echo "$NGINX_PROXY" ;; proxy-haproxy) echo "$HAPROXY" ;; proxy-hdrs) echo "$HAPROXY_HDRS" ;;
    tls|tls1m|h2) echo "$NGINX_TLS" ;; *) echo "$NGINX_STATIC" ;; esac
}
webstack_port() { [[ "$1" == tls* || "$1" == h2 ]] && echo "$WEBSTACK_TLS" || echo "$WEBSTACK"; }
case_scheme() { [[ "$1" == tls* || "$1" == h2 ]] && echo https || echo http; }

# Sanity: same status on both sides.
for c in $CASES; do
  a=$(curl -sk -o /dev/null -w '%{http_code}' -H "$HOST_HEADER" "$(case_scheme "$c")://127.0.0.1:$(peer_port "$c")$(case_path "$c")")
  b=$(curl -sk -o /dev/null -w '%{http_code}' -H "$HOST_HEADER" "$(case_scheme "$c")://127.0.0.1:$(webstack_port "$c")$(case_path "$c")")
  [[ "$a" == "$b" ]] || { echo "case $c: $(peer_name "$c") answers $a, webstack $b" >&2; exit 1; }
done

# One wrk run; prints "req/s p99_ms"
run_wrk() { # conns url duration
  local out
  out=$("${ON_CLIENT[@]}" wrk -t1 -c"$1" -d"$3" --latency -H "$HOST_HEADER" "$2" 2>&1)
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  if grep -q 'Non-2xx\|Socket errors' <<<"$out" && [[ "$2" != *missing* ]]; then
    grep 'Non-2xx\|Socket errors' <<<"$out" | sed 's/^/    /' >&2
  fi
  echo "${rps:-0} ${p99:-0}"
}
add() { awk -v x="$1" -v y="$2" 'BEGIN{print x+y}'; }

# The JIT needs a moment: warm webstack up on every path once before measuring anything.
for u in $(for c in $CASES; do echo "$(case_scheme "$c")://127.0.0.1:$(webstack_port "$c")$(case_path "$c")"; done | sort -u); do
  run_wrk 64 "$u" "$JIT_WARMUP" >/dev/null
done

rss_kb() { local s=0 pid; for pid in "$@"; do s=$((s + $(awk '/VmRSS/ {print $2}' "/proc/$pid/status"))); done; echo "$s"; }
nginx_pids() { local m; m=$(cat "$WORK/nginx.pid"); echo "$m" $(pgrep -P "$m"); }

# webstack's access log on (the file) or off: the same web tier, reloaded (SIGHUP) with the other
# path (`access-log: off` for none), so that both sides of the comparison run with the same JIT
# state.
set_webstack_log() { # path
  local before
  before=$(grep -c 'web: reloaded' "$WORK/webstack.log" || true)
  sed -i "s#^  access-log: .*#  access-log: $1#" "$WORK/webstack.yml"
  kill -HUP "$WEB_PID"
  for _ in $(seq 1 100); do
    (( $(grep -c 'web: reloaded' "$WORK/webstack.log" || true) > before )) && return 0
    sleep 0.1
  done
  echo "webstack did not reload its access log; the end of its log:" >&2
  tail -n 20 "$WORK/webstack.log" >&2
  exit 1
}

# accesslog: nginx and webstack, each with its access log on and off, in turn, on the small file.
# Besides requests/s it reads each server's CPU time per request (all its processes and threads,
# from /proc), a second view of the same cost; on this shared 2-core machine both move from run
# to run with the machine's speed, so compare them within a round.
cpu_us() { # ticks rps -> CPU µs per request over one run of $DURATION
  awk -v t="$1" -v r="$2" -v s="${DURATION%s}" -v hz="$(getconf CLK_TCK)" 'BEGIN{printf "%.1f", (r > 0 ? t * 1e6 / hz / (r * s) : 0)}'
}
run_accesslog() {
  local names=(nginx_log nginx_nolog webstack_log webstack_nolog)
  local urls=("http://127.0.0.1:$NGINX_STATIC/index.html" "http://127.0.0.1:$NGINX_NOLOG/index.html"
              "http://127.0.0.1:$WEBSTACK/index.html" "http://127.0.0.1:$WEBSTACK/index.html")
  local logs=("" "" "$WORK/webstack-access.log" off)
  local sums=(0 0 0 0) cpus=(0 0 0 0) i r rps p99 line pids t0 t1 us
  for i in 0 1 2 3; do
    [[ -n "${logs[$i]}" ]] && set_webstack_log "${logs[$i]}"
    run_wrk 64 "${urls[$i]}" "$WARMUP" >/dev/null
  done
  printf '  %-7s %12s %12s %14s %14s   (CPU µs per request)\n' round "${names[@]}"
  local order
  for r in $(seq 1 "$ACCESSLOG_ROUNDS"); do
    line=()
    # On before off in odd rounds, off before on in even ones, so that a machine speeding up or
    # slowing down during the run favours neither side (the rounds' means are compared).
    if (( r % 2 )); then order="0 1 2 3"; else order="1 0 3 2"; fi
    for i in $order; do
      [[ -n "${logs[$i]}" ]] && set_webstack_log "${logs[$i]}"
      if (( i < 2 )); then pids=$(nginx_pids); else pids=$WEB_PID; fi
      # shellcheck disable=SC2086 # a list of pids
      t0=$(cpu_ticks $pids)
      read -r rps p99 < <(run_wrk 64 "${urls[$i]}" "$DURATION")
      # shellcheck disable=SC2086
      t1=$(cpu_ticks $pids)
      us=$(cpu_us "$((t1 - t0))" "$rps")
      sums[i]=$(add "${sums[i]}" "$rps"); cpus[i]=$(add "${cpus[i]}" "$us"); line[i]="$rps/$us"
    done
    printf '  %-7s %12s %12s %14s %14s\n' "#$r" "${line[@]}"
  done
  awk -v a="${sums[0]}" -v b="${sums[1]}" -v c="${sums[2]}" -v d="${sums[3]}" -v n="$ACCESSLOG_ROUNDS" \
      -v ca="${cpus[0]}" -v cb="${cpus[1]}" -v cc="${cpus[2]}" -v cd="${cpus[3]}" 'BEGIN{
    printf "accesslog     nginx %.0f on / %.0f off: cost %.1f%%; webstack %.0f on / %.0f off: cost %.1f%%\n",
      a/n, b/n, (b>0 ? (1-a/b)*100 : 0), c/n, d/n, (d>0 ? (1-c/d)*100 : 0)
    printf "accesslog     CPU per request: nginx %.1f on / %.1f off µs (%+.1f%%); webstack %.1f on / %.1f off µs (%+.1f%%)\n",
      ca/n, cb/n, (cb>0 ? (ca/cb-1)*100 : 0), cc/n, cd/n, (cd>0 ? (cc/cd-1)*100 : 0) }'
  set_webstack_log "$WORK/webstack-access.log"
  # The lines both wrote, to be seen to be the same (both logs flush within a second).
  sleep 1.2
  echo "accesslog     nginx's line:    $(tail -n 1 "$WORK/nginx-access.log")"
  echo "accesslog     webstack's line: $(tail -n 1 "$WORK/webstack-access.log")"
}

# h2: the small file over HTTP/2, h2load with 16 connections of up to 10 streams each, A B A B.
# h2load sends the URL's host as :authority; webstack's is set to the site's name.
run_h2() {
  local a="https://127.0.0.1:$NGINX_TLS/index.html" b="https://127.0.0.1:$WEBSTACK_TLS/index.html" r ra rb sa=0 sb=0
  if ! command -v h2load >/dev/null; then echo "h2            skipped: no h2load (apt-get install -y nghttp2-client)"; return; fi
  h2rps() { "${ON_CLIENT[@]}" h2load -t1 -c16 -m10 -D "${2%s}" "${@:3}" "$1" 2>/dev/null | awk '/^finished in/ {print $4}'; }
  h2rps "$a" "$WARMUP" >/dev/null; h2rps "$b" "$JIT_WARMUP" -H ":authority: www.foobar.com" >/dev/null
  for r in $(seq 1 "$ROUNDS"); do
    ra=$(h2rps "$a" "$DURATION"); rb=$(h2rps "$b" "$DURATION" -H ":authority: www.foobar.com")
    printf '  %-19s %10s %9s %12s %9s\n' "#$r" "${ra:-0}" - "${rb:-0}" -
    sa=$(add "$sa" "${ra:-0}"); sb=$(add "$sb" "${rb:-0}")
  done
  awk -v sa="$sa" -v sb="$sb" -v n="$ROUNDS" 'BEGIN{
    printf "%-13s %-7s %10.0f %9s %12.0f %9s %7.2fx\n", "h2", "nginx", sa/n, "-", sb/n, "-", (sa>0?sb/sa:0) }'
}

# idle10k: the holder opens IDLE_CONNS connections (one request each), holds them HOLD s, checks
# them and a fresh client, and reads the server's RSS (nginx: master and workers) while holding.
run_idle() {
  local out rn rw
  echo "idle10k: $IDLE_CONNS connections to each server, one GET /index.html each, held ${HOLD}s"
  # shellcheck disable=SC2046
  echo "  nginx    RSS before: $(rss_kb $(nginx_pids)) kB"
  # shellcheck disable=SC2046
  out=$("${ON_CLIENT[@]}" "$JAVA" "$HERE/IdleHolder.java" "$NGINX_STATIC" /index.html www.foobar.com "$IDLE_CONNS" "$HOLD" $(nginx_pids) 2>&1) || true
  echo "  nginx    $out"; rn=$(grep -o 'rss_kb=[0-9]*' <<<"$out" | cut -d= -f2 || true)
  echo "  webstack RSS before: $(rss_kb "$WEB_PID") kB"
  out=$("${ON_CLIENT[@]}" "$JAVA" "$HERE/IdleHolder.java" "$WEBSTACK" /index.html www.foobar.com "$IDLE_CONNS" "$HOLD" "$WEB_PID" 2>&1) || true
  echo "  webstack $out"; rw=$(grep -o 'rss_kb=[0-9]*' <<<"$out" | cut -d= -f2 || true)
  awk -v n="${rn:-0}" -v w="${rw:-0}" 'BEGIN{
    printf "idle10k       RSS while held: nginx %.0f MB, webstack %.0f MB, ratio %.2fx\n", n/1024, w/1024, (n>0 ? w/n : 0) }'
}

# Besides requests/s and p99, each wrk case reads the CPU time each server spent (all its processes
# and threads, from /proc; the fixed upstream is not counted on either side) per request: a steadier
# view of their cost than requests/s when wrk, the server and the upstream share two cores.
peer_pids() {
  case "$1" in proxy-haproxy) cat "$WORK/haproxy.pid" ;; proxy-hdrs) cat "$WORK/haproxy-hdrs.pid" ;; *) nginx_pids ;; esac
}
run_measured() { # conns url pids... -> "req/s p99_ms cpu_us"
  local t0 t1 rps p99
  t0=$(cpu_ticks "${@:3}")
  read -r rps p99 < <(run_wrk "$1" "$2" "$DURATION")
  t1=$(cpu_ticks "${@:3}")
  echo "$rps $p99 $(cpu_us "$((t1 - t0))" "$rps")"
}

echo "wrk -t1 -c64 (1m, tls1m: -c$LARGE_CONNS) -d$DURATION --latency, $ROUNDS rounds A B A B, after a $WARMUP warm-up of each side"
# The 1 MB case's figures depend on the kernel's TCP congestion control: with BBR (this project's
# VM's default) every server's CPU per 1 MB answer is about 2.5x what it is with cubic (pacing).
echo "TCP congestion control: $(cat /proc/sys/net/ipv4/tcp_congestion_control 2>/dev/null || echo unknown)"
if [[ "$PIN" == 1 ]]; then echo "PIN=1: each server alone on CPU 1 (nginx 1 worker, HAProxy 1 thread, webstack 1 event loop); wrk and the upstream on CPU 0"; fi
echo "cpu_us: the server's CPU time per request (µs); cpu_x: webstack's over the peer's (lower is better)"
printf '%-13s %-7s %10s %9s %7s %12s %9s %7s %8s %8s %7s\n' case peer peer_rps p99_ms cpu_us webstack_rps p99_ms cpu_us ratio p99x cpu_x
for c in $CASES; do
  if [[ "$c" == accesslog ]]; then run_accesslog; continue; fi
  if [[ "$c" == idle10k ]]; then run_idle; continue; fi
  if [[ "$c" == h2 ]]; then run_h2; continue; fi
  # HAProxy logs nothing here: against it, webstack's access log is off too (a reload, as accesslog).
  if [[ "$c" == proxy-haproxy || "$c" == proxy-hdrs ]]; then set_webstack_log off; fi
  conns=$(case_conns "$c"); path=$(case_path "$c")
  A="$(case_scheme "$c")://127.0.0.1:$(peer_port "$c")$path"; B="$(case_scheme "$c")://127.0.0.1:$(webstack_port "$c")$path"
  run_wrk "$conns" "$A" "$WARMUP" >/dev/null; run_wrk "$conns" "$B" "$WARMUP" >/dev/null
  # shellcheck disable=SC2207 # pids are numbers
  pa=($(peer_pids "$c"))
  sa=0; sb=0; qsa=0; qsb=0; ca=0; cb=0; ratios=()
  for r in $(seq 1 "$ROUNDS"); do
    read -r ra qa ua < <(run_measured "$conns" "$A" "${pa[@]}")
    read -r rb qb ub < <(run_measured "$conns" "$B" "$WEB_PID")
    printf '  %-19s %10s %9s %7s %12s %9s %7s %7sx\n' "#$r" "$ra" "$qa" "$ua" "$rb" "$qb" "$ub" \
      "$(awk -v a="$ra" -v b="$rb" 'BEGIN{printf "%.2f", (a>0?b/a:0)}')"
    sa=$(add "$sa" "$ra"); sb=$(add "$sb" "$rb"); qsa=$(add "$qsa" "$qa"); qsb=$(add "$qsb" "$qb")
    ca=$(add "$ca" "$ua"); cb=$(add "$cb" "$ub"); ratios+=("$(awk -v a="$ra" -v b="$rb" 'BEGIN{print (a>0?b/a:0)}')")
  done
  awk -v c="$c" -v p="$(peer_name "$c")" -v sa="$sa" -v sb="$sb" -v pa="$qsa" -v pb="$qsb" -v ca="$ca" -v cb="$cb" -v n="$ROUNDS" 'BEGIN{
    printf "%-13s %-7s %10.0f %9.2f %7.1f %12.0f %9.2f %7.1f %7.2fx %7.2fx %6.2fx\n", c, p, sa/n, pa/n, ca/n, sb/n, pb/n, cb/n,
      (sa>0?sb/sa:0), (pa>0?pb/pa:0), (ca>0?cb/ca:0) }'
  # The machine's speed drifts between rounds; each round's pair ran back to back, so the ratios
  # of the pairs say more than the ratio of the means when they disagree.
  printf '%s\n' "${ratios[@]}" | sort -g | awk -v c="$c" '{r[NR]=$1} END{
    printf "%-13s req/s ratio per round: median %.2fx, lowest %.2fx, highest %.2fx\n", "", (NR%2 ? r[(NR+1)/2] : (r[NR/2]+r[NR/2+1])/2), r[1], r[NR] }'
  if [[ "$c" == proxy-haproxy || "$c" == proxy-hdrs ]]; then set_webstack_log "$WORK/webstack-access.log"; fi
done
echo "webstack RSS: $(rss_kb "$WEB_PID") kB"
