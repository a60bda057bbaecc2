#!/usr/bin/env bash
# What a circuit breaker saves: a for_each of ITEMS items on a model that answers 503 after
# LATENCY ms (retries: 2, then a fallback model), with and without `circuit_breaker:
# { failures: 5, cool_down: 60s }`. Prints the calls the down model received and the wall time.
# Usage: bash bench/circuit.sh [ITEMS] [LATENCY_MS]   (NO_BUILD=1 to use the existing debug build)
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-100}; latency=${2:-100}; port=18931
[ "${NO_BUILD:-}" = 1 ] || swift build --product pipe >/dev/null
dir=$(mktemp -d); trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
python3 bench/circuit-server.py $port "$latency" & server=$!
for _ in $(seq 50); do curl -s --noproxy "*" -o /dev/null http://127.0.0.1:$port/ && break; sleep 0.1; done
for breaker in "" ", circuit_breaker: { failures: 5, cool_down: 60s }"; do
  cat > "$dir/spec.yaml" <<YAML
version: 1
models:
  down: { provider: anthropic, model: claude-down$breaker }
  backup: { provider: anthropic, model: claude-backup }
defaults: { model: down, fallback: [backup], retries: 2, timeout: 10s }
stages:
  list: { run: [python3, -c, "print(list(range($items)))"], output: { schema: { type: array } } }
  work: { for_each: list, concurrency: 10, prompt: "item {{ item }}" }
output: "{{ work }}"
YAML
  before=$(curl -s --noproxy "*" http://127.0.0.1:$port/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["down_calls"])')
  start=$(date +%s.%N)
  ANTHROPIC_BASE_URL=http://127.0.0.1:$port ANTHROPIC_API_KEY=k PATH=$PATH .build/debug/pipe run --no-store --quiet "$dir/spec.yaml" </dev/null >/dev/null
  end=$(date +%s.%N)
  after=$(curl -s --noproxy "*" http://127.0.0.1:$port/ | python3 -c 'import json,sys; print(json.load(sys.stdin)["down_calls"])')
  label=${breaker#, }; echo "${label:-no breaker}: $((after - before)) calls to the down model, $(python3 -c "print(round($end - $start, 2))") s"
done
