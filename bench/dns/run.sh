#!/usr/bin/env bash
# DNS throughput, side by side: NSD (Debian's package, RRL off, 2 server processes) and webstack's
# DNS tier serving the same zone, measured with dnsperf alternately (NSD, webstack, NSD, ...) on
# the same query mix. Prints each run and the median queries/s ratio webstack/NSD.
#
#   bench/dns/run.sh [rounds]            (default 3 rounds; each run is 10 s, bounded by -l)
#
# Needs: apt-get install -y nsd dnsperf; the CLI jars: ./mvnw -q -DskipTests package.
# Loopback only: NSD on 127.0.0.1:15353, webstack on 127.0.0.1:15354.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/peers}
ROUNDS=${1:-3}
NSD_PORT=15353
WS_PORT=15354
ZONE=$PEERS/foobar.com.zone
QUERIES=$PEERS/queries.txt
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java

for tool in nsd dnsperf; do
  command -v "$tool" >/dev/null || { echo "bench: $tool missing (apt-get install -y nsd dnsperf)" >&2; exit 1; }
done
[ -f cli/target/webstack-cli.jar ] || { echo "bench: build first: ./mvnw -q -DskipTests package" >&2; exit 1; }

TMP=$(mktemp -d /tmp/webstack-dns-bench.XXXXXX)
NSD_PID=""
WS_PID=""
cleanup() {
  [ -n "$WS_PID" ] && kill "$WS_PID" 2>/dev/null && wait "$WS_PID" 2>/dev/null || true
  if [ -f "$TMP/nsd.pid" ]; then
    local pid
    pid=$(cat "$TMP/nsd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$TMP" 2>/dev/null || true
}
trap cleanup EXIT

cp "$ZONE" "$TMP/foobar.com.zone"

# NSD: the peer config of ../shared/peers/nsd.conf, with its files kept in $TMP.
cat > "$TMP/nsd.conf" <<CONF
server:
  ip-address: 127.0.0.1@$NSD_PORT
  port: $NSD_PORT
  username: ""
  chroot: ""
  zonesdir: "$TMP"
  database: ""
  pidfile: "$TMP/nsd.pid"
  xfrdfile: "$TMP/nsd-xfrd.state"
  zonelistfile: "$TMP/nsd-zone.list"
  logfile: "$TMP/nsd.log"
  server-count: 2
  verbosity: 1
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: foobar.com
  zonefile: foobar.com.zone
CONF
nsd -c "$TMP/nsd.conf"

cat > "$TMP/webstack.yml" <<CONF
var: $TMP/var
dns:
  listen: 127.0.0.1:$WS_PORT
  zones:
    - origin: foobar.com.
      file: $TMP/foobar.com.zone
CONF
# Response rate limiting is on by default (200 answers/s per /24, like NSD's): off for throughput,
# as for NSD above. The key exists once DnsConfig reads it (dns.rate-limit.responses-per-second).
if grep -q '"rate-limit"' common/src/main/java/dev/webstack/common/config/DnsConfig.java; then
  printf '  rate-limit:\n    responses-per-second: 0\n' >> "$TMP/webstack.yml"
else
  echo "bench: dns.rate-limit is not a config key yet, so webstack would answer 200 q/s per /24;" >&2
  echo "bench: add it (DnsConfig -> DnsServer.start(config, RateLimit)) before measuring" >&2
  exit 1
fi
"$JAVA" -cp "cli/target/webstack-cli.jar:cli/target/lib/*" dev.webstack.cli.Webstack dns --config "$TMP/webstack.yml" \
  > "$TMP/webstack.log" 2>&1 &
WS_PID=$!

# Both must answer before the first run.
for port in $NSD_PORT $WS_PORT; do
  for _ in $(seq 1 100); do
    dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 foobar.com A >/dev/null 2>&1 && break
    sleep 0.1
  done
  dig +short +time=1 +tries=1 -p "$port" @127.0.0.1 foobar.com A | grep -q . \
    || { echo "bench: nothing answers on port $port" >&2; cat "$TMP"/*.log >&2; exit 1; }
done

# Warm-up (JIT) for both, not counted.
for port in $NSD_PORT $WS_PORT; do
  dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -l 3 -c 2 -T 1 -q 200 >/dev/null
done

run() { # name port
  local out qps lost avg max
  out=$(dnsperf -s 127.0.0.1 -p "$2" -d "$QUERIES" -l 10 -c 2 -T 1 -q 200)
  qps=$(awk '/Queries per second:/ {print $4}' <<<"$out")
  lost=$(awk '/Queries lost:/ {print $3}' <<<"$out")
  avg=$(awk '/Average Latency/ {print $4}' <<<"$out")
  max=$(awk '/Average Latency/ {gsub(/[(),]/, ""); print $8}' <<<"$out")
  sd=$(awk '/Latency StdDev/ {print $4}' <<<"$out")
  printf '%-9s q/s %10s  lost %6s  latency avg %ss stddev %ss max %ss\n' "$1" "$qps" "$lost" "$avg" "$sd" "$max" >&2
  echo "$qps"
}

echo "command: dnsperf -s 127.0.0.1 -p PORT -d $QUERIES -l 10 -c 2 -T 1 -q 200 (NSD $NSD_PORT, webstack $WS_PORT)" >&2
ratios=()
for r in $(seq 1 "$ROUNDS"); do
  n=$(run "nsd" $NSD_PORT)
  w=$(run "webstack" $WS_PORT)
  ratios+=("$(awk -v w="$w" -v n="$n" 'BEGIN {printf "%.3f", w / n}')")
  echo "round $r: webstack/nsd = ${ratios[-1]}" >&2
done
median=$(printf '%s\n' "${ratios[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}')
echo "median ratio webstack/nsd (queries/s): $median" >&2
