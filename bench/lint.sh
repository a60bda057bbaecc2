#!/usr/bin/env bash
# Lint benchmarks (issue: spec compiler). Release build; process start included.
#   bench/lint.sh
# 1. `pipe lint` on one example, 200 runs with hyperfine (apt-get install hyperfine).
# 2. 1,000 specs in one invocation: copies of the examples in a temporary directory.
# 3. One spec of 500 stages (the one bench/run-overhead.sh runs).
# 4. One line of 20,000 unknown keys: 200 diagnostics printed, the rest counted (exit 1).
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product pipe >/dev/null
pipe=.build/release/pipe
hyperfine --warmup 20 --runs 200 -N "$pipe lint pipelines/research-report.yaml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r pipelines/schemas "$work/schemas"
for i in $(seq 1 250); do
  for name in research-report support-triage code-review meeting-notes; do
    cp "pipelines/$name.yaml" "$work/$name-$i.yaml"
  done
done
hyperfine --warmup 2 --runs 10 -N "$pipe lint $(ls "$work"/*.yaml | tr '\n' ' ')"
bash bench/wide-spec.sh 500 > "$work/wide.yaml"
hyperfine --warmup 5 --runs 50 -N "$pipe lint $work/wide.yaml"
{
  printf '{version: 1, models: {m: {provider: mock}}, defaults: {model: m}, stages: {a: {prompt: hi}}'
  for i in $(seq 0 19999); do printf ', key%d: 1' "$i"; done
  printf '}\n'
} > "$work/one-line.yaml"
hyperfine --warmup 2 --runs 20 -N -i "$pipe lint $work/one-line.yaml"
