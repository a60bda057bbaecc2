#!/usr/bin/env bash
# `pipe batch`: how long after it starts its first request leaves (issue 12: items start while
# the input is still being enqueued). Release build, fake server on 127.0.0.1 (100 ms a call).
#   bench/batch-first-request.sh [ITEMS] [CONCURRENCY] [RUNS]
# Runs `pipe batch` under `strace -f --seccomp-bpf -tt -e trace=execve,openat,connect` on the
# one-stage spec of bench/batch.sh, each run on a new store, and prints the milliseconds from
# its execve to the input's open and to its first connect() to the fake server. PIPE,
# PIPE_BENCH: other binaries (a before/after comparison).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
concurrency=${2:-200}
runs=${3:-3}
pipe=${PIPE:-$PWD/.build/release/pipe}
work=$(mktemp -d)
. bench/one-stage.sh
one_stage "$work" "$items"
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
port=${ANTHROPIC_BASE_URL##*:}
port=${port%%/*}
# Milliseconds since midnight of an strace -tt time (HH:MM:SS.micro).
ms() { awk -F'[:.]' '{ printf "%.1f", ($1 * 3600 + $2 * 60 + $3) * 1000 + $4 / 1000 }' <<< "$1"; }
echo "== $items items, --concurrency $concurrency: ms from execve to the input's open, to the first request"
for run in $(seq "$runs"); do
  rm -rf "$work/store"
  strace -f --seccomp-bpf -tt -e trace=execve,openat,connect -o "$work/trace" \
    "$pipe" batch --quiet "$work/one.yaml" --input "$work/items.jsonl" --concurrency "$concurrency" \
    --store "$work/store/pipe.db" --output "$work/results.jsonl" 2>/dev/null || true
  start=$(awk '/execve\(/ { print $2; exit }' "$work/trace")
  input=$(awk '/items.jsonl/ && /openat/ { print $2; exit }' "$work/trace")
  first=$(awk -v port="htons($port)" 'index($0, "connect(") && index($0, port) { print $2; exit }' "$work/trace")
  echo "run $run: input opened at +$(echo "$(ms "$input") - $(ms "$start")" | bc) ms, first request at +$(echo "$(ms "$first") - $(ms "$start")" | bc) ms"
done
