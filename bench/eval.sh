#!/usr/bin/env bash
# `pipe eval`'s overhead per item over `pipe batch` (issue 14): the same one-stage items against
# the fake server (100 ms a call), run as a batch, as an eval with one check, and as an eval
# with a check and a judge (a second call per item). Each run starts from a new store; prints
# wall time, CPU time and peak memory (max RSS).
#   bench/eval.sh [ITEMS] [CONCURRENCY]        CONFIG=debug to use the debug build
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-2000}
concurrency=${2:-200}
config=${CONFIG:-release}
if [ -z "${NO_BUILD:-}" ]; then
  flags=(-c "$config"); [ "$config" = release ] && flags+=(--static-swift-stdlib)
  swift build "${flags[@]}" --product pipe >/dev/null && swift build "${flags[@]}" --product pipe-bench >/dev/null
fi
pipe=$PWD/.build/$config/pipe
work=$(mktemp -d)
# one-stage.sh starts .build/release/pipe-bench; point it at the chosen build.
. <(sed "s#\.build/release/pipe-bench#.build/$config/pipe-bench#" bench/one-stage.sh)
one_stage "$work" "$items"
trap 'kill $server 2>/dev/null; rm -rf "$work"' EXIT
sed -i 's/^  m: { provider: anthropic, model: claude-bench }/  m: { provider: anthropic, model: claude-bench }\n  judge: { provider: anthropic, model: claude-judge }/' "$work/one.yaml"
sed 's/.*/{"input": &, "expected": {"label": ""}}/' "$work/items.jsonl" > "$work/golden.jsonl"
cat > "$work/check.test.yaml" <<'TESTS'
spec: one.yaml
evals:
  - name: label
    check: { path: output, equals: "{{ expected.label }}" }
TESTS
cat > "$work/judge.test.yaml" <<'TESTS'
spec: one.yaml
evals:
  - name: label
    check: { path: output, equals: "{{ expected.label }}" }
  - name: judged
    judge:
      model: judge
      prompt: "Judge item {{ input.id }}: {{ output }}"
      output: { schema: { type: object, required: [score], properties: { score: { type: integer } } } }
      pass: score >= 0
TESTS
echo "== $items one-stage items, 100 ms a call, --concurrency $concurrency, $config build; $(uptime | sed 's/.*load/load/')"
measure() {
  local name=$1; shift
  rm -rf "$work/store"
  /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, max RSS %M KiB" "$@" 2>&1 >/dev/null | grep -E "^$name:" || true
}
measure batch "$pipe" batch --quiet "$work/one.yaml" --input "$work/items.jsonl" --concurrency "$concurrency" --store "$work/store/pipe.db" --output /dev/null
measure eval-check "$pipe" eval --quiet --tests "$work/check.test.yaml" --dataset "$work/golden.jsonl" --concurrency "$concurrency" --store "$work/store/pipe.db"
measure eval-judge "$pipe" eval --quiet --tests "$work/judge.test.yaml" --dataset "$work/golden.jsonl" --concurrency "$concurrency" --store "$work/store/pipe.db"
echo "$(uptime | sed 's/.*load/load/')"
