#!/usr/bin/env bash
# Regenerates scripts/hot-symbols.order: the functions `pipe` executes in everyday commands,
# which the linker places side by side (Package.swift, `--symbol-ordering-file`).
#
# Why: the kernel maps a program's code in 64 KB windows around each page it touches, so a few
# hundred functions scattered over the binary's 19 MB of code keep most of it resident. Laid out
# together, a run's peak memory drops by about 2 MB (BENCHMARKS.md). Names that no longer exist
# are ignored by the linker, so a stale list costs memory, never correctness.
#
# Needs valgrind, which reads a copy of the binary without debug information (`strip -g`:
# valgrind 3.19 gives up on this toolchain's DWARF); the symbols it names are the same. Runs lint, graph, a --mock run, runs against the fake server (Anthropic and
# OpenAI shapes, recorded in a store) and `pipe logs`, each under callgrind, and keeps every
# function of the binary that ran.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${NO_BUILD:-}" ]; then  # NO_BUILD=1: profile the release binaries already built
    swift build -c release --static-swift-stdlib --product pipe >/dev/null
    swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null
fi
work=$(mktemp -d)
pipe=$work/pipe
strip -g -o "$pipe" .build/release/pipe
.build/release/pipe-bench fake-server --port 0 --latency-ms 0 > "$work/server.txt" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/server.txt" ] && break; sleep 0.1; done
base=$(head -n 1 "$work/server.txt")
export ANTHROPIC_BASE_URL="$base" OPENAI_BASE_URL="$base/v1" ANTHROPIC_API_KEY=profile OPENAI_API_KEY=profile

profile() { valgrind --tool=callgrind --demangle=no --callgrind-out-file="$work/cg.%p" "$pipe" "$@" >/dev/null 2>&1 || true; }
profile --version
profile --help
profile lint pipelines/*.yaml
profile lint --format json Tests/testdata/lint/err/unknown-field.yaml
profile graph pipelines/research-report.yaml
for example in research-report support-triage; do
  input=$(ls pipelines/$example.input.* | head -n 1)
  profile run --mock --quiet --no-store pipelines/$example.yaml --input "$input"
  profile run --store "$work/store.db" pipelines/$example.yaml --input "$input"
done
profile logs --store "$work/store.db"
profile logs --store "$work/store.db" last

nm --defined-only "$pipe" | awk '$2 ~ /^[tTwW]$/ { print $3 }' | sort -u > "$work/text.txt"
cat "$work"/cg.* | sed -n -E 's/^c?fn=\([0-9]+\) (.*)$/\1/p' | sort -u | comm -12 - "$work/text.txt" > scripts/hot-symbols.order
echo "scripts/hot-symbols.order: $(wc -l < scripts/hot-symbols.order) functions"
