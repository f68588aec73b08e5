#!/usr/bin/env bash
# A large foobar.com zone and query mixes for bench/dns/run.sh: the reference zone of
# ../shared/peers plus N address records (hK IN A 10.x.y.z), and three dnsperf query files:
#   names.txt   A queries for random names of the zone (every answer precompiled);
#   absent.txt  A queries for random names h0 ... h(3N-1): two thirds absent (NXDOMAIN);
#   nodata.txt  AAAA queries for random names of the zone (NODATA).
#
#   bench/dns/big-zone.sh DIR [N]      (default N 100000; 300,000 queries per file)
#   ZONE=DIR/foobar.com.zone QUERIES=DIR/absent.txt bench/dns/run.sh 3
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR=${1:?usage: bench/dns/big-zone.sh DIR [N]}
N=${2:-100000}
PEERS=${PEERS:-$PWD/../shared/peers}
mkdir -p "$DIR"
{
  cat "$PEERS/foobar.com.zone"
  awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "h%d IN A 10.%d.%d.%d\n", i, int(i / 65536), int(i / 256) % 256, i % 256 }'
} > "$DIR/foobar.com.zone"
awk -v n="$N" -v seed=1 'BEGIN { srand(seed); for (i = 0; i < 300000; i++) printf "h%d.foobar.com A\n", int(rand() * n) }' > "$DIR/names.txt"
awk -v n="$N" -v seed=2 'BEGIN { srand(seed); for (i = 0; i < 300000; i++) printf "h%d.foobar.com A\n", int(rand() * 3 * n) }' > "$DIR/absent.txt"
awk -v n="$N" -v seed=3 'BEGIN { srand(seed); for (i = 0; i < 300000; i++) printf "h%d.foobar.com AAAA\n", int(rand() * n) }' > "$DIR/nodata.txt"
echo "big-zone: $DIR/foobar.com.zone ($(wc -l < "$DIR/foobar.com.zone") lines), names.txt, absent.txt, nodata.txt"
