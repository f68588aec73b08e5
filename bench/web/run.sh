#!/usr/bin/env bash
# Side-by-side benchmark of webstack's web tier against nginx (Debian's package), same files,
# same upstream, same run. Needs: nginx, wrk (apt-get install -y nginx wrk), the CLI jars
# (./mvnw -q -DskipTests package at the repo root).
#
#   bench/web/run.sh                 # every case, 8 s per run, A B A B
#   DURATION=4s CASES="small proxy" bench/web/run.sh
#
# Every load run is bounded (wrk -d); everything listens on 127.0.0.1 only. Prints, per case,
# each run's req/s and p99, then the mean of each side and the ratio webstack/nginx.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-3s}
JIT_WARMUP=${JIT_WARMUP:-5s}
ROUNDS=${ROUNDS:-2}
CASES=${CASES:-"small 1k 1m notfound proxy"}
NGINX_STATIC=${NGINX_STATIC:-28080}
NGINX_PROXY=${NGINX_PROXY:-28081}
UPSTREAM=${UPSTREAM:-28090}
WEBSTACK=${WEBSTACK:-28180}
JAVA=${JAVA:-$(for j in /usr/lib/jvm/temurin-25-jdk-amd64/bin/java /usr/lib/jvm/temurin-21-jdk-amd64/bin/java; do [[ -x $j ]] && { echo $j; break; }; done)}
JAVA=${JAVA:-java}
JAVA_OPTS=${JAVA_OPTS:-"-Xms256m -Xmx512m -XX:+UseParallelGC"}
HOST_HEADER='Host: www.foobar.com'

for tool in nginx wrk; do
  command -v "$tool" >/dev/null || { echo "missing $tool: apt-get install -y nginx wrk" >&2; exit 1; }
done
[[ -f "$REPO/cli/target/webstack-cli.jar" ]] || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }

# The web module's own jar first, so that a rebuilt web tier is measured without repackaging the CLI.
WEB_JAR=$(ls "$REPO"/web/target/webstack-web-*.jar 2>/dev/null | grep -v -- '-sources\|-tests' | head -1 || true)
WORK=$(mktemp -d /tmp/webstack-bench.XXXXXX)
chmod 755 "$WORK"  # nginx workers run as www-data
NGINX_PID=""
WEB_PID=""
cleanup() {
  [[ -n "$WEB_PID" ]] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null || true
  [[ -f "$WORK/nginx.pid" ]] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
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

# --- nginx: static server, reverse proxy and the fixed upstream (from ../shared/peers/nginx.conf)
cat > "$WORK/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 16384; }
http {
  # Both sides log: webstack's access log is always on, buffered and flushed every second.
  access_log $WORK/nginx-access.log combined buffer=64k flush=1s;
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
  server { listen 127.0.0.1:$NGINX_PROXY;
           location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:$UPSTREAM; access_log off; location / { return 200 "hello from upstream\n"; } }
}
CONF
mkdir -p "$WORK/nginx-tmp"
nginx -c "$WORK/nginx.conf" -e "$WORK/nginx-error.log" 2>/dev/null || nginx -c "$WORK/nginx.conf"

# --- webstack's web tier on the same files, proxying to the same upstream -----------------------
cat > "$WORK/webstack.yml" <<YML
var: $WORK/var
web:
  listen: 127.0.0.1:$WEBSTACK
  public: $ROOT
  static:
    - /index.html
    - /1k.html
    - /1m.bin
    - /missing.html
  upstreams:
    - 127.0.0.1:$UPSTREAM
  access-log: $WORK/webstack-access.log
YML
# shellcheck disable=SC2086
"$JAVA" $JAVA_OPTS -cp "$REPO/cli/target/webstack-cli.jar:$WEB_JAR:$REPO/cli/target/lib/*" dev.webstack.cli.Webstack \
  web --config "$WORK/webstack.yml" --upstream "127.0.0.1:$UPSTREAM" > "$WORK/webstack.log" 2>&1 &
WEB_PID=$!

wait_port() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null -H "$HOST_HEADER" "http://127.0.0.1:$1/index.html" && return 0
    sleep 0.1
  done
  echo "nothing answers on port $1" >&2; cat "$WORK/webstack.log" >&2; exit 1
}
wait_port "$NGINX_STATIC"; wait_port "$NGINX_PROXY"; wait_port "$WEBSTACK"
grep -o 'listening on [^,]*' "$WORK/webstack.log" | head -1 | sed 's/^/webstack: /'

# case → "connections path-on-nginx-port" ; the nginx port differs for the proxy case only
case_conns() { [[ "$1" == 1m ]] && echo 16 || echo 64; }
case_path() {
  case "$1" in
    small) echo /index.html ;; 1k) echo /1k.html ;; 1m) echo /1m.bin ;;
    notfound) echo /missing.html ;; proxy) echo /app/hello ;;
  esac
}
nginx_port() { [[ "$1" == proxy ]] && echo "$NGINX_PROXY" || echo "$NGINX_STATIC"; }

# Sanity: same status on both sides.
for c in $CASES; do
  a=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOST_HEADER" "http://127.0.0.1:$(nginx_port "$c")$(case_path "$c")")
  b=$(curl -s -o /dev/null -w '%{http_code}' -H "$HOST_HEADER" "http://127.0.0.1:$WEBSTACK$(case_path "$c")")
  [[ "$a" == "$b" ]] || { echo "case $c: nginx answers $a, webstack $b" >&2; exit 1; }
done

# One wrk run; prints "req/s p99_ms"
run_wrk() { # conns url duration
  local out
  out=$(wrk -t1 -c"$1" -d"$3" --latency -H "$HOST_HEADER" "$2" 2>&1)
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' <<<"$out")
  if grep -q 'Non-2xx\|Socket errors' <<<"$out" && [[ "$2" != *missing* ]]; then
    grep 'Non-2xx\|Socket errors' <<<"$out" | sed 's/^/    /' >&2
  fi
  echo "${rps:-0} ${p99:-0}"
}

# The JIT needs a moment: warm webstack up on every case once before measuring anything.
for c in $CASES; do run_wrk "$(case_conns "$c")" "http://127.0.0.1:$WEBSTACK$(case_path "$c")" "$JIT_WARMUP" >/dev/null; done

echo "wrk -t1 -c<64|16 for 1m> -d$DURATION --latency, $ROUNDS rounds A B A B, after a $WARMUP warm-up of each side"
printf '%-9s %12s %10s %12s %10s %8s %8s\n' case nginx_rps p99_ms webstack_rps p99_ms ratio p99x
for c in $CASES; do
  conns=$(case_conns "$c"); path=$(case_path "$c")
  A="http://127.0.0.1:$(nginx_port "$c")$path"; B="http://127.0.0.1:$WEBSTACK$path"
  run_wrk "$conns" "$A" "$WARMUP" >/dev/null; run_wrk "$conns" "$B" "$WARMUP" >/dev/null
  sa=0; sb=0; pa=0; pb=0
  for r in $(seq 1 "$ROUNDS"); do
    read -r ra qa < <(run_wrk "$conns" "$A" "$DURATION")
    read -r rb qb < <(run_wrk "$conns" "$B" "$DURATION")
    printf '  %-7s %12s %10s %12s %10s\n' "#$r" "$ra" "$qa" "$rb" "$qb"
    sa=$(awk -v x="$sa" -v y="$ra" 'BEGIN{print x+y}'); sb=$(awk -v x="$sb" -v y="$rb" 'BEGIN{print x+y}')
    pa=$(awk -v x="$pa" -v y="$qa" 'BEGIN{print x+y}'); pb=$(awk -v x="$pb" -v y="$qb" 'BEGIN{print x+y}')
  done
  awk -v c="$c" -v sa="$sa" -v sb="$sb" -v pa="$pa" -v pb="$pb" -v n="$ROUNDS" 'BEGIN{
    printf "%-9s %12.0f %10.2f %12.0f %10.2f %7.2fx %7.2fx\n", c, sa/n, pa/n, sb/n, pb/n, (sa>0?sb/sa:0), (pa>0?pb/pa:0) }'
done
echo "webstack RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$WEB_PID/status)"
