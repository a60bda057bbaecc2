#!/usr/bin/env bash
# Where the run store's cost sits on `pipe run`'s critical path, by phase (issue 11):
#   bench/store-phases.sh [RUNS] [PIPE]
# The 5-stage chain of `pipe-bench store-overhead` against `pipe-bench fake-server` (100 ms a
# call), each run under `perf trace` (syscalls only, little overhead), with the run store and
# with --no-store in turn. Prints the median of each phase in ms: process start to the first
# request, each reply to the next request, the last reply to exit_group. Needs perf (root).
# Uses the release binaries already built (bench/fanout.sh builds them).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-10}
PIPE=${2:-.build/release/pipe}
BENCH=$(dirname "$PIPE")/pipe-bench
[ -x "$BENCH" ] || BENCH=.build/release/pipe-bench
WORK=$(mktemp -d)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
PORT=$((20000 + RANDOM % 20000))
"$BENCH" fake-server --port "$PORT" --latency-ms 100 --reply "a step further" >"$WORK/server.log" 2>&1 &
SERVER=$!
sleep 1
{
  printf 'version: 1\nname: chain\nmodels: { m: { provider: anthropic, model: claude-bench } }\n'
  printf 'defaults: { model: m, max_tokens: 200 }\nstages:\n'
  printf '  s0: { prompt: "Step 0: {{ input }}" }\n'
  for i in 1 2 3 4; do printf '  s%d: { prompt: "Step %d: {{ s%d }}" }\n' "$i" "$i" $((i - 1)); done
  printf 'output: "{{ s4 }}"\n'
} >"$WORK/chain.yaml"
printf 'The history of tide prediction' >"$WORK/input.txt"
export ANTHROPIC_BASE_URL="http://127.0.0.1:$PORT" ANTHROPIC_API_KEY=bench
# The store is created, and both ways warmed up, before anything is timed.
for _ in 1 2; do
  "$PIPE" run --quiet "$WORK/chain.yaml" --input "$WORK/input.txt" --store "$WORK/S/pipe.db" >/dev/null
  "$PIPE" run --quiet "$WORK/chain.yaml" --input "$WORK/input.txt" --no-store >/dev/null
done
uptime
for i in $(seq "$RUNS"); do
  for mode in store nostore; do
    if [ "$mode" = store ]; then flag=(--store "$WORK/S/pipe.db"); else flag=(--no-store); fi
    perf trace -e 'brk,sendto,recvfrom,exit_group' -o "$WORK/trace.$mode.$i" -- \
      "$PIPE" run --quiet "$WORK/chain.yaml" --input "$WORK/input.txt" "${flag[@]}" >/dev/null
  done
done
for mode in store nostore; do
  for i in $(seq "$RUNS"); do
    awk '/brk\(/ && !b {b=$1}
         /sendto\(/ { if (!f) {f=$1; printf "%s ", $1-b} else printf "%s ", $1-r }
         /recvfrom\(/ && $0 !~ /= -1/ {r=$1}
         /exit_group/ {printf "%s\n", $1-r}' "$WORK/trace.$mode.$i"
  done >"$WORK/phases.$mode"
  python3 - "$mode" "$WORK/phases.$mode" <<'PY'
import statistics, sys
rows = [list(map(float, line.split())) for line in open(sys.argv[2]) if len(line.split()) == 6]
names = ["start->1st request", "reply1->req2", "reply2->req3", "reply3->req4", "reply4->req5", "last reply->exit"]
print(f"{sys.argv[1]:8} ({len(rows)} runs): " + ", ".join(f"{n} {statistics.median(c):.2f}" for n, c in zip(names, zip(*rows))))
PY
done
uptime
