#!/usr/bin/env bash
# The DB-backed page side by side: the seed's LEMP stack (nginx + PHP-FPM + MariaDB, the peer of
# ../shared/peers/lemp) against the whole webstack stack (web tier -> app server -> embedded
# MariaDB), both serving the home page (the 20 newest of the same 1000 posts). Needs: nginx,
# php8.2-fpm, php8.2-mysql, php8.2-mbstring, mariadb-server, wrk, python3
# (apt-get install -y ...), and the CLI jars (./mvnw -q -DskipTests package at the repo root).
#
#   bench/lemp/run.sh                       # 8 s per run, LEMP, webstack, LEMP, webstack
#   DURATION=5s ROUNDS=3 APP_SERVERS=2 bench/lemp/run.sh
#
# Every load run is bounded (wrk -d); everything listens on 127.0.0.1 only. webstack runs from a
# throw-away config in a temporary folder (ports 24xxx), so a stack started with the repo's own
# webstack.yml is not disturbed. Prints each run's req/s and p99, the means and the ratio.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
PEERS=${PEERS:-$(cd "$REPO/.." && pwd)/shared/peers}
DURATION=${DURATION:-8s}
WARMUP=${WARMUP:-5s}
JIT_WARMUP=${JIT_WARMUP:-120s}   # webstack's app and web tiers reach full speed only once the JIT has compiled the page's path (about 2 min of load on 2 cores)
ROUNDS=${ROUNDS:-2}
CONNECTIONS=${CONNECTIONS:-64}
APP_SERVERS=${APP_SERVERS:-1}
PEER_URL=http://127.0.0.1:18280/
WEB_PORT=${WEB_PORT:-24080}
DB_PORT=${DB_PORT:-24307}

for tool in nginx php-fpm8.2 mariadbd mariadb wrk python3; do
  command -v "$tool" >/dev/null || {
    echo "missing $tool: apt-get install -y nginx php8.2-fpm php8.2-mysql php8.2-mbstring mariadb-server wrk" >&2; exit 1; }
done
[[ -f "$PEERS/lemp/start.sh" ]] || { echo "no LEMP peer at $PEERS/lemp (set PEERS=...)" >&2; exit 1; }
[[ -f "$REPO/cli/target/webstack-cli.jar" && -d "$REPO/site/target/foobar-site" ]] \
  || { echo "build first: ./mvnw -q -DskipTests package" >&2; exit 1; }

WORK=$(mktemp -d /tmp/webstack-lemp.XXXXXX)
cleanup() {
  WEBSTACK_SKIP_BUILD=1 "$REPO/webstack" down -c "$WORK/webstack.yml" >/dev/null 2>&1 || true
  bash "$PEERS/lemp/stop.sh" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- the peer -----------------------------------------------------------------------------------
bash "$PEERS/lemp/start.sh" >/dev/null

# --- webstack: the whole stack on its own ports and state --------------------------------------
cat > "$WORK/webstack.yml" <<YML
var: $WORK/var
dns:
  listen: 127.0.0.1:24353
  zones:
    - origin: foobar.com.
      file: $REPO/zones/foobar.com.zone
web:
  listen: 127.0.0.1:$WEB_PORT
  admin: 127.0.0.1:24081
  public: $REPO/site/public
app:
  servers: $APP_SERVERS
  base-port: 24001
  codebase: $REPO/site/target/foobar-site
db:
  listen: 127.0.0.1:$DB_PORT
YML
WEBSTACK_SKIP_BUILD=1 "$REPO/webstack" up -d -c "$WORK/webstack.yml" >"$WORK/up.log" 2>&1 \
  || { cat "$WORK/up.log" >&2; exit 1; }

# The same 1000 posts as the peer's, in place of the site's own seed rows.
{
  echo "DELETE FROM posts;"
  python3 "$PEERS/lemp/seed.py" | grep -v '^USE '
} | mariadb --no-defaults -h127.0.0.1 -P"$DB_PORT" -ufoobar -p"$(cat "$WORK/var/secrets/db-foobar.password")" foobar

WEB_URL=http://127.0.0.1:$WEB_PORT/
HOST='Host: www.foobar.com'
peer_articles=$(curl -s "$PEER_URL" | grep -c '<article' || true)
ours_articles=$(curl -s -H "$HOST" "$WEB_URL" | grep -c '<article' || true)
echo "home page: LEMP $(curl -s "$PEER_URL" | wc -c) B, $peer_articles posts; webstack $(curl -s -H "$HOST" "$WEB_URL" | wc -c) B, $ours_articles posts"
if [[ "$peer_articles" != 20 || "$ours_articles" != 20 ]]; then
  echo "both pages must show the 20 newest posts" >&2; exit 1
fi

run() { # run NAME URL [header]: prints "req/s p99-ms"
  local out
  out=$(wrk -t1 -c"$CONNECTIONS" -d"$DURATION" --latency ${3:+-H "$3"} "$2")
  local rps p99 errors
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  errors=$(awk '/Non-2xx|Socket errors/' <<<"$out")
  printf '  %-8s %10.0f req/s   p99 %8.2f ms %s\n' "$1" "$rps" "$p99" "${errors:+ ($errors)}" >&2
  echo "$rps $p99"
}

echo "warm-up (LEMP $WARMUP, webstack $JIT_WARMUP) ..."
wrk -t1 -c"$CONNECTIONS" -d"$WARMUP" "$PEER_URL" >/dev/null
wrk -t1 -c"$CONNECTIONS" -d"$JIT_WARMUP" -H "$HOST" "$WEB_URL" >/dev/null

echo "DB-backed home page, wrk -t1 -c$CONNECTIONS -d$DURATION, $ROUNDS rounds, webstack app servers: $APP_SERVERS"
peer_sum=0; ours_sum=0; peer_p99=0; ours_p99=0
for round in $(seq "$ROUNDS"); do
  read -r r p < <(run LEMP "$PEER_URL")
  peer_sum=$(awk -v a="$peer_sum" -v b="$r" 'BEGIN {print a + b}'); peer_p99=$(awk -v a="$peer_p99" -v b="$p" 'BEGIN {print a + b}')
  read -r r p < <(run webstack "$WEB_URL" "$HOST")
  ours_sum=$(awk -v a="$ours_sum" -v b="$r" 'BEGIN {print a + b}'); ours_p99=$(awk -v a="$ours_p99" -v b="$p" 'BEGIN {print a + b}')
done
awk -v p="$peer_sum" -v o="$ours_sum" -v pp="$peer_p99" -v op="$ours_p99" -v n="$ROUNDS" 'BEGIN {
  printf "mean: LEMP %.0f req/s (p99 %.2f ms), webstack %.0f req/s (p99 %.2f ms)\n", p/n, pp/n, o/n, op/n
  printf "ratio webstack/LEMP: %.2fx req/s, p99 %.2fx (target: >= 3x req/s)\n", o/p, op/pp }'
