#!/usr/bin/env bash
# The DNS tier's fuzz test (dns/src/test/java/dev/webstack/dns/DnsFuzzTest.java) at a larger scale:
# millions of mutated and random packets through the query handling in process, and tens of
# thousands over the real UDP and TCP sockets, with the same assertions as in the test suite (an
# answer is silence, or parses with the query's ID and is FORMERR or a proper answer; nothing
# throws; each packet takes under a second).
#
#   bench/dns/fuzz.sh [packets] [seed]     (default 5000000 packets, seed 4592; about 40 s per million on an idle core)
#
# A failure prints the seed, the packet's index and its bytes in hex: rerun with that seed to replay.
set -euo pipefail
cd "$(dirname "$0")/../.."
COUNT=${1:-5000000}
SEED=${2:-4592}
SOCKETS=$(( COUNT / 100 < 3000 ? 3000 : COUNT / 100 ))
exec ./mvnw -B -q -o -pl dns -am test -Dsurefire.failIfNoSpecifiedTests=false -Dtest=DnsFuzzTest \
  -Ddns.fuzz.count="$COUNT" -Ddns.fuzz.socket-count="$SOCKETS" -Ddns.fuzz.seed="$SEED"
