#!/usr/bin/env bash
# `pipe batch --provider-batch` (issue 16). Release build, fake server on 127.0.0.1 whose
# provider batches end 2 s after they are created.
#   bench/provider-batch.sh [ITEMS] [TURNAROUND_MS]
# 10,000 items through a 3-stage chain: the fewest provider batches the limits allow is 3 (one
# a stage: 10,000 requests is under Anthropic's 100,000), and the wall time can be no less
# than 3 turnarounds (6 s). Prints the batches submitted, wall time, pipe's CPU time and peak
# memory (max RSS), each per item too, and the load.
# HEAPTRACK=FILE: pipe runs under heaptrack (its data in FILE.zst), and the heap's peak and
# the largest allocation sites at the peak are printed (BENCHMARKS.md, memory per waiting item).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
turnaround=${2:-2000}
[ -n "${NO_BUILD:-}" ] || { swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null; }
pipe=${PIPE:-$PWD/.build/release/pipe}   # PIPE, PIPE_BENCH: other binaries (a before/after comparison)
work=$(mktemp -d)
"${PIPE_BENCH:-.build/release/pipe-bench}" fake-server --port 0 --batch-turnaround-ms "$turnaround" > "$work/server.txt" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/server.txt" ] && break; sleep 0.1; done
export ANTHROPIC_BASE_URL=$(head -n 1 "$work/server.txt") ANTHROPIC_API_KEY=bench-key-0123456789
cat > "$work/three.yaml" <<'SPEC'
version: 1
name: three
input:
  schema: { type: object, required: [id], properties: { id: { type: integer } } }
models:
  m: { provider: anthropic, model: claude-bench, price: { input: 1.0, output: 5.0 } }
defaults: { model: m, max_tokens: 100, timeout: 60s }
stages:
  extract:
    prompt: "Extract the topic of item {{ input.id }}."
    output: { schema: { type: object, required: [topic], properties: { topic: { type: string } } } }
  classify:
    prompt: "Classify item {{ input.id }} about {{ extract.topic }}."
    output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
  summarize:
    prompt: "Summarize item {{ input.id }}: {{ classify.label }}."
    output: { schema: { type: object, required: [summary], properties: { summary: { type: string } } } }
output: "{{ summarize.summary }}"
SPEC
seq 0 $((items - 1)) | sed 's/.*/{"id": &}/' > "$work/items.jsonl"
echo "== $items items, 3 stages, provider batch turnaround $turnaround ms (3 turnarounds: $(echo "scale=1; 3 * $turnaround / 1000" | bc) s)"
/usr/bin/time -f "%e %U %S %M" -o "$work/time.txt" \
  ${HEAPTRACK:+heaptrack -o "$HEAPTRACK"} "$pipe" batch "$work/three.yaml" --input "$work/items.jsonl" --provider-batch \
  --store "$work/store/pipe.db" --output "$work/results.jsonl" 2> "$work/stderr.txt" || { cat "$work/stderr.txt"; exit 1; }
read -r wall user sys rss < "$work/time.txt"
echo "results: $(grep -c '"succeeded"' "$work/results.jsonl") succeeded"
echo "provider batches submitted: $(grep -c 'requests submitted' "$work/stderr.txt") (fewest possible: 3)"
echo "wall $wall s; pipe CPU user $user s + sys $sys s = $(echo "scale=3; ($user + $sys) * 1000 / $items" | bc) ms an item; max RSS $rss KiB = $(echo "scale=1; $rss * 1024 / $items" | bc) bytes an item"
echo "$(uptime | sed 's/.*load/load/')"
if [ -n "${HEAPTRACK:-}" ]; then
  heaptrack_print -f "$HEAPTRACK.zst" --print-peaks 1 --print-allocators 0 --print-temporary 0 --print-leaks 0 \
    --peak-limit 25 > "$HEAPTRACK.txt" 2>/dev/null || true
  grep -E '^(peak heap memory|peak RSS|total memory leaked)' "$HEAPTRACK.txt"
  echo "largest allocation sites at the peak: $HEAPTRACK.txt"
fi
