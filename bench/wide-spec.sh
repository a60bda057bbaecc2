#!/usr/bin/env bash
# Prints a spec of N independent stages (default 500), one Anthropic-shaped model:
#   bench/wide-spec.sh 500 > wide.yaml
# Used by bench/lint.sh and bench/run-overhead.sh.
set -euo pipefail
echo "version: 1"
echo "models: { m: { provider: anthropic, model: bench } }"
echo "defaults: { model: m, max_tokens: 16 }"
echo "stages:"
for i in $(seq 1 "${1:-500}"); do echo "  s$i: { prompt: \"item $i: {{ input }}\" }"; done
