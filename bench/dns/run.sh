#!/usr/bin/env bash
# DNS throughput and latency, side by side: NSD (Debian's package, RRL off, 2 server processes) and
# webstack's DNS tier serving the same zone, measured with dnsperf alternately (NSD, webstack, NSD,
# ...) on the same query mix, in two phases per round:
#   - saturated: -q 200 outstanding queries, as fast as each server answers: queries/s, lost;
#   - fixed rate: -Q $RATE queries/s, below both servers' capacity: latency without queueing.
# Latency percentiles (p50, p99, p99.9) come from dnsperf -v, which prints every query's latency
# (Debian's dnsperf prints only the average and the maximum otherwise). Prints each run and the
# medians of the ratios webstack/NSD: queries/s (higher is better), p99 (lower is better), and the
# fixed rate's p50.
#
#   bench/dns/run.sh [rounds]            (default 3 rounds; each run is 10 s, bounded by -l)
#
# Environment: ZONE and QUERIES, the foobar.com zone file and dnsperf's query file (default the
# reference ones in ../shared/peers; bench/dns/big-zone.sh makes a zone of 100,000 names and query
# mixes for it); RATE (default 5000 q/s); CLIENTS, dnsperf's client sockets (default 2): with
# SO_REUSEPORT the kernel puts each client socket (flow) on one of webstack's per-event-loop
# sockets by a hash, so with 2 flows both land on one event loop in about half of the runs (NSD
# reads one shared socket from both processes); 8 flows show the steady state of real traffic,
# which comes from many source ports. WS_JAVA_OPTS (default -Xmx256m -XX:+UseParallelGC and the runtime flags, as the supervisor starts
# the DNS tier). UDP_READERS: webstack's dns.udp-readers (default shared; own: each event loop reads
# only its own socket). CPU_AFFINITY: webstack's dns.cpu-affinity (default on; off: the event loops run on
# any CPU and each datagram goes to a socket at random). WEBSTACK_TRANSPORT=epoll: webstack's DNS tier on
# epoll (default: io_uring where the kernel offers it, as the tier's log says). NSD_PORT and WS_PORT (default 15353 and 15354). PIN=1: one core each (taskset):
# the server under test alone on CPU 1 (NSD with one server process, webstack's JVM seeing one CPU
# and so running one event loop and one UDP socket), dnsperf on CPU 0.
# Needs: apt-get install -y nsd dnsperf (and time, for dnsperf's own CPU time); the CLI jars: ./mvnw -q -DskipTests package.
# Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
PEERS=${PEERS:-$ROOT/../shared/peers}
ROUNDS=${1:-3}
NSD_PORT=${NSD_PORT:-15353}
WS_PORT=${WS_PORT:-15354}
RATE=${RATE:-5000}
CLIENTS=${CLIENTS:-2}
UDP_READERS=${UDP_READERS:-shared}
CPU_AFFINITY=${CPU_AFFINITY:-on}
WARMUP=${WARMUP:-10}   # seconds of saturated queries to each server before the first round (JIT)
ZONE=${ZONE:-$PEERS/foobar.com.zone}   # a foobar.com zone; bench/dns/big-zone.sh makes a large one
QUERIES=${QUERIES:-$PEERS/queries.txt}
JAVA=${JAVA:-$(bin/find-jdk)/bin/java}   # a JDK 21+, as the launcher picks it
# The flags the supervisor gives every tier on Java 23+ (bin/runtime-flags).
RUNTIME_FLAGS=$("$ROOT"/bin/runtime-flags "$(dirname "$(dirname "$(readlink -f "$JAVA")")")")
WS_JAVA_OPTS=${WS_JAVA_OPTS:-"-Xmx256m -XX:+UseParallelGC $RUNTIME_FLAGS"}
# shellcheck source=../proc.sh
. "$ROOT/bench/proc.sh"   # pin_cpus, cpu_ticks
PIN=${PIN:-0}
pin_cpus
if [ "$PIN" = 1 ]; then NSD_SERVERS=1; else NSD_SERVERS=2; fi

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
  server-count: $NSD_SERVERS
  verbosity: 1
  rrl-ratelimit: 0
  rrl-whitelist-ratelimit: 0
remote-control:
  control-enable: no
zone:
  name: foobar.com
  zonefile: foobar.com.zone
CONF
"${ON_SERVER[@]}" nsd -c "$TMP/nsd.conf"

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
  printf '  udp-readers: %s\n' "$UDP_READERS" >> "$TMP/webstack.yml"
  grep -q '"cpu-affinity"' common/src/main/java/dev/webstack/common/config/DnsConfig.java \
    && printf '  cpu-affinity: %s\n' "$CPU_AFFINITY" >> "$TMP/webstack.yml"
else
  echo "bench: dns.rate-limit is not a config key yet, so webstack would answer 200 q/s per /24;" >&2
  echo "bench: add it (DnsConfig -> DnsServer.start(config, RateLimit)) before measuring" >&2
  exit 1
fi
# shellcheck disable=SC2086 # the options are words
"${ON_SERVER[@]}" "${AS_DAEMON[@]}" "$JAVA" $WS_JAVA_OPTS -cp "cli/target/webstack-cli.jar:cli/target/lib/*" dev.webstack.cli.Webstack dns --config "$TMP/webstack.yml" \
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
  "${ON_CLIENT[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -l "$WARMUP" -c 2 -T 1 -q 200 >/dev/null
done

# Percentiles of the latencies (seconds, one a line) on stdin: "p50 p99 p99.9" in milliseconds.
percentiles() {
  sort -n | awk '{a[NR] = $1} END {
    if (NR == 0) { print "- - -"; exit }
    split("0.50 0.99 0.999", q, " ")
    for (i = 1; i <= 3; i++) { k = int(q[i] * NR); if (k < 1) k = 1; printf "%.3f%s", a[k] * 1000, (i < 3 ? " " : "\n") }
  }'
}

# A histogram of the latencies on stdin (dnsperf prints them in whole microseconds): "latency count"
# lines; the lines of several runs together are still one histogram, for pooled_percentiles.
histogram() { awk '{n[$1]++} END {for (l in n) print l, n[l]}'; }

# Percentiles of all the queries counted in the histogram file $1: "p50 p99 p99.9" in milliseconds.
# Over the rounds together, they move less from run to run than any one round's.
pooled_percentiles() {
  awk '{n[$1] += $2} END {for (l in n) print l, n[l]}' "$1" | sort -g | awk '
    {l[NR] = $1; c[NR] = $2; sum += $2} END {
      split("0.50 0.99 0.999", q, " ")
      for (i = 1; i <= 3; i++) { acc = 0; for (k = 1; k <= NR; k++) { acc += c[k]; if (acc >= q[i] * sum) break }
        printf "%.3f%s", l[k] * 1000, (i < 3 ? " " : "\n") }
    }'
}

server_pids() { # name -> the server's processes: all of NSD's (xfrd, main, the servers), or webstack's JVM
  if [ "$1" = nsd ]; then pgrep -f "^nsd -c $TMP/nsd.conf"; else echo "$WS_PID"; fi
}

TIMED=()
if [ -x /usr/bin/time ]; then TIMED=(/usr/bin/time -f '%U %S' -o "$TMP/dnsperf.time"); fi
run() { # name port phase extra-dnsperf-args...; prints "qps p99 cpu p50" on stdout, the details on stderr
  local name=$1 port=$2 phase=$3 qps lost avg p50 p99 p999 done pids t0 t1 cpu
  shift 3
  pids=$(server_pids "$name")
  # shellcheck disable=SC2086 # a list of pids
  t0=$(cpu_ticks $pids)
  # dnsperf's own CPU time too (/usr/bin/time, Debian's `time`): the two share the machine's cores.
  "${ON_CLIENT[@]}" "${TIMED[@]}" dnsperf -s 127.0.0.1 -p "$port" -d "$QUERIES" -l 10 -c "$CLIENTS" -T 1 -v "$@" > "$TMP/dnsperf.out"
  # shellcheck disable=SC2086
  t1=$(cpu_ticks $pids)
  done=$(awk '/Queries completed:/ {print $3}' "$TMP/dnsperf.out")
  # The server's CPU time per answered query, in µs: a second view of its cost, steadier than
  # queries/s on a machine whose two cores the load generator shares.
  cpu=$(awk -v t=$((t1 - t0)) -v n="$done" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (n > 0 ? t * 1e6 / hz / n : 0)}')
  qps=$(awk '/Queries per second:/ {print $4}' "$TMP/dnsperf.out")
  lost=$(awk '/Queries lost:/ {print $3}' "$TMP/dnsperf.out")
  avg=$(awk '/Average Latency/ {printf "%.3f", $4 * 1000}' "$TMP/dnsperf.out")
  read -r p50 p99 p999 < <(awk '/^> / {print $NF}' "$TMP/dnsperf.out" | percentiles)
  # Every latency also counts in the histogram (latency -> queries) of all rounds together.
  awk '/^> / {print $NF}' "$TMP/dnsperf.out" | histogram >> "$TMP/histogram.$name.$phase"
  local client=-
  if [ -s "$TMP/dnsperf.time" ]; then
    client=$(awk -v n="$done" '{printf "%.2f", (n > 0 ? ($1 + $2) * 1e6 / n : 0)}' "$TMP/dnsperf.time")
  fi
  printf '%-9s q/s %9s  lost %5s  cpu/query %5s us (dnsperf %s us)  latency ms: avg %s p50 %s p99 %s p99.9 %s\n' \
    "$name" "$qps" "$lost" "$cpu" "$client" "$avg" "$p50" "$p99" "$p999" >&2
  echo "$qps $p99 $cpu $p50"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "saturated:  dnsperf -s 127.0.0.1 -p PORT -d $QUERIES -l 10 -c $CLIENTS -T 1 -v -q 200 (NSD $NSD_PORT, webstack $WS_PORT: java $WS_JAVA_OPTS)" >&2
echo "fixed rate: dnsperf -s 127.0.0.1 -p PORT -d $QUERIES -l 10 -c $CLIENTS -T 1 -v -Q $RATE" >&2
if [ "$PIN" = 1 ]; then echo "PIN=1: each server alone on CPU 1 (NSD 1 server process, webstack 1 event loop); dnsperf on CPU 0" >&2; fi
qps_ratios=()
p99_sat_ratios=()
p99_rate_ratios=()
p50_rate_ratios=()
cpu_ratios=()
for r in $(seq 1 "$ROUNDS"); do
  read -r nq np nc < <(run "nsd" $NSD_PORT saturated -q 200)
  read -r wq wp wc < <(run "webstack" $WS_PORT saturated -q 200)
  qps_ratios+=("$(ratio "$wq" "$nq")")
  cpu_ratios+=("$(ratio "$wc" "$nc")")
  p99_sat_ratios+=("$(ratio "$wp" "$np")")
  read -r _ nr _ n50 < <(run "nsd" $NSD_PORT rate -Q "$RATE")
  read -r _ wr _ w50 < <(run "webstack" $WS_PORT rate -Q "$RATE")
  p99_rate_ratios+=("$(ratio "$wr" "$nr")")
  p50_rate_ratios+=("$(ratio "$w50" "$n50")")
  echo "round $r: webstack/nsd q/s = ${qps_ratios[-1]}, cpu/query saturated = ${cpu_ratios[-1]}, p99 saturated = ${p99_sat_ratios[-1]}, p99 at $RATE q/s = ${p99_rate_ratios[-1]} (p50 ${p50_rate_ratios[-1]})" >&2
done
echo "median ratios webstack/nsd: q/s $(printf '%s\n' "${qps_ratios[@]}" | median)," \
  "cpu/query saturated $(printf '%s\n' "${cpu_ratios[@]}" | median)," \
  "p99 saturated $(printf '%s\n' "${p99_sat_ratios[@]}" | median)," \
  "p99 at $RATE q/s $(printf '%s\n' "${p99_rate_ratios[@]}" | median)" \
  "(p50 $(printf '%s\n' "${p50_rate_ratios[@]}" | median))" >&2
# The percentiles of every query of the rounds together, per server: one figure per phase that the
# run-to-run noise of any one round's p99 (about ±15% here) moves less.
for phase in saturated rate; do
  read -r n50 n99 n999 < <(pooled_percentiles "$TMP/histogram.nsd.$phase")
  read -r w50 w99 w999 < <(pooled_percentiles "$TMP/histogram.webstack.$phase")
  echo "all $ROUNDS rounds together, $phase: NSD p50 $n50 p99 $n99 p99.9 $n999 ms, webstack p50 $w50 p99 $w99 p99.9 $w999 ms;" \
    "webstack/nsd p50 $(ratio "$w50" "$n50"), p99 $(ratio "$w99" "$n99"), p99.9 $(ratio "$w999" "$n999")" >&2
done
