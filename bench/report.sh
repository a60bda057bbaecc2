#!/usr/bin/env bash
# Time and peak memory of `pipe report` for a 500-stage run and a 10,000-item batch, both
# recorded with --mock (no server) into a store in a temporary folder:
#   bash bench/report.sh [STAGES] [ITEMS]      # defaults 500 and 10000
# PIPE=path/to/pipe picks the executable (default .build/release/pipe; NO_BUILD=1 skips the
# release build). Prints the report sizes, wall time and peak RSS (GNU time).
set -euo pipefail
cd "$(dirname "$0")/.."
stages=${1:-500}
items=${2:-10000}
if [ -z "${PIPE:-}" ]; then
    [ -n "${NO_BUILD:-}" ] || swift build -c release --product pipe >/dev/null
    PIPE=.build/release/pipe
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A run of STAGES stages, each reading the two before it, with a 2 KB mock reply each.
reply=$(printf 'word %.0s' $(seq 1 400))
{
    echo "version: 1"
    echo "name: report-bench"
    echo "models: { m: { provider: anthropic, model: bench, price: { input: 1, output: 5 } } }"
    echo "defaults: { model: m, max_tokens: 600 }"
    echo "stages:"
    echo "  s1: { prompt: \"start {{ input }}\", mock: \"$reply\" }"
    echo "  s2: { prompt: \"next {{ s1 }}\", mock: \"$reply\" }"
    for i in $(seq 3 "$stages"); do
        echo "  s$i: { prompt: \"next {{ s$((i - 1)) }} and {{ s$((i - 2)) }}\", mock: \"$reply\" }"
    done
} > "$work/run.yaml"
echo "a topic" | "$PIPE" run "$work/run.yaml" --mock --quiet --concurrency 8 --store "$work/run.db" > /dev/null
/usr/bin/time -f "report of a $stages-stage run: %e s wall, %U s user CPU, %M KB peak RSS" \
    "$PIPE" report last --store "$work/run.db" -o "$work/run.html" 2>&1 | grep -v "wrote the report"
echo "  $(du -k "$work/run.html" | cut -f1) KB of HTML"

# A batch of ITEMS items of a 2-stage pipeline.
cat > "$work/batch.yaml" <<'SPEC'
version: 1
name: report-batch-bench
models: { m: { provider: anthropic, model: bench, price: { input: 1, output: 5 } } }
defaults: { model: m, max_tokens: 100 }
stages:
  classify: { prompt: "classify {{ input }}", mock: "billing" }
  answer: { prompt: "answer {{ input }} as {{ classify }}", mock: "Thanks for writing." }
SPEC
for i in $(seq 1 "$items"); do echo "\"question $i\""; done > "$work/items.jsonl"
"$PIPE" batch --mock "$work/batch.yaml" --input "$work/items.jsonl" --quiet --concurrency 50 --store "$work/batch.db" > /dev/null
/usr/bin/time -f "report of a $items-item batch: %e s wall, %U s user CPU, %M KB peak RSS" \
    "$PIPE" report last --store "$work/batch.db" -o "$work/batch.html" 2>&1 | grep -v "wrote the report"
echo "  $(du -k "$work/batch.html" | cut -f1) KB of HTML"
