#!/usr/bin/env bash
# Runner overhead (issue: pipe run). Release build, fake server on 127.0.0.1.
#   bench/run-overhead.sh
# 1. research-report.yaml against the fake server answering every call after 100 ms:
#    wall time minus the critical path (4 sequential calls = 400 ms) is the overhead.
# 2. 500 independent stages at --concurrency 50: ideally 500/50 x 0.1 s = 1.0 s.
# 3. Peak memory (max RSS) of the research-report run, from /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null
pipe=$PWD/.build/release/pipe
work=$(mktemp -d)
.build/release/pipe-bench fake-server --port 0 --latency-ms 100 --spec pipelines/research-report.yaml > "$work/server.txt" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/server.txt" ] && break; sleep 0.1; done
base=$(head -n 1 "$work/server.txt")
export ANTHROPIC_BASE_URL="$base" OPENAI_BASE_URL="$base/v1" ANTHROPIC_API_KEY=bench OPENAI_API_KEY=bench

echo "== research-report, 100 ms per call, critical path 400 ms"
hyperfine --warmup 2 --runs 20 -N \
  "$pipe run --quiet pipelines/research-report.yaml --input pipelines/research-report.input.txt"

echo "== 500 independent stages, --concurrency 50 (ideal 1.0 s)"
bash bench/wide-spec.sh 500 > "$work/wide.yaml"
hyperfine --warmup 1 --runs 5 -N "$pipe run --quiet --concurrency 50 $work/wide.yaml --input pipelines/research-report.input.txt"

echo "== peak memory, research-report"
/usr/bin/time -f "max RSS %M KiB" "$pipe" run --quiet pipelines/research-report.yaml \
  --input pipelines/research-report.input.txt > /dev/null
