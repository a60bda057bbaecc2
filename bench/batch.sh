#!/usr/bin/env bash
# `pipe batch` on the embedded queue (issue 12). Release build, fake server on 127.0.0.1.
#   bench/batch.sh [ITEMS] [CONCURRENCY] [RUNS]
# 10,000 one-stage items, every call answered after 100 ms, --concurrency 200: ideally
# 10,000 / 200 x 0.1 s = 5.0 s. Each run starts from a new store; prints wall time, CPU
# time and peak memory (max RSS) of each run, the fake server's CPU time during it, and the load.
# LATENCY_MS=0: an instant fake server (the runner's own throughput).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
concurrency=${2:-200}
runs=${3:-3}
[ -n "${NO_BUILD:-}" ] || { swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null; }
pipe=${PIPE:-$PWD/.build/release/pipe}   # PIPE, PIPE_BENCH: other binaries (a before/after comparison)
work=$(mktemp -d)
. bench/one-stage.sh
one_stage "$work" "$items"
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
latency=${LATENCY_MS:-100}
ideal=$(echo "scale=2; $items / $concurrency * $latency / 1000" | bc)
echo "== $items one-stage items, $latency ms a call, --concurrency $concurrency (ideal $ideal s)"
# CPU seconds (user + system) the fake server has used so far: it shares the 2 cores with pipe.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server/stat"; }
for run in $(seq "$runs"); do
  rm -rf "$work/store"
  before=$(server_cpu)
  /usr/bin/time -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
    "$pipe" batch --quiet "$work/one.yaml" --input "$work/items.jsonl" --concurrency "$concurrency" \
    --store "$work/store/pipe.db" --output "$work/results.jsonl" 2>&1 | grep -v '^pipe: batch b[0-9a-f-]*$'
  echo "results: $(grep -c '"succeeded"' "$work/results.jsonl") succeeded; fake server CPU $(echo "$(server_cpu) - $before" | bc) s; $(uptime | sed 's/.*load/load/')"
done
