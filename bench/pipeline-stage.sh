#!/usr/bin/env bash
# Pipeline stages (`pipeline:`): what running stages inside a child spec costs against the
# same stages written in the parent. N items, each researched then reviewed (two model
# stages, mock provider, no store): a `for_each` over a two-stage child spec, against two
# `for_each` stages in one spec. Also `pipe lint` of the parent with its child.
#   bash bench/pipeline-stage.sh [ITEMS] [RUNS] [BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-200}; runs=${2:-5}; pipe=${3:-.build/debug/pipe}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/teams"
cat > "$work/teams/team.yaml" <<'SPEC'
version: 1
input: { schema: { type: object, required: [topic], properties: { topic: { type: string } } } }
models: { m: { provider: mock } }
defaults: { model: m }
stages:
  researcher: { prompt: "Research {{ input.topic }}" }
  reviewer: { prompt: "Review {{ researcher }}" }
output: { findings: "{{ reviewer }}" }
SPEC
cat > "$work/nested.yaml" <<'SPEC'
version: 1
input: { schema: { type: array, items: { type: string } } }
models: { m: { provider: mock } }
stages:
  teams:
    for_each: input
    as: topic
    pipeline: teams/team.yaml
    input: { topic: "{{ topic }}" }
SPEC
cat > "$work/flat.yaml" <<'SPEC'
version: 1
input: { schema: { type: array, items: { type: string } } }
models: { m: { provider: mock } }
defaults: { model: m }
stages:
  researcher: { for_each: input, as: topic, prompt: "Research {{ topic }}" }
  reviewer: { for_each: researcher, as: found, prompt: "Review {{ found }}" }
SPEC
seq 1 "$items" | sed 's/.*/"topic &"/' | paste -sd, | sed 's/^/[/; s/$/]/' > "$work/input.json"
measure() {
  for _ in $(seq "$runs"); do
    /usr/bin/time -f "%e %M" "$pipe" "$@" > /dev/null 2>> "$work/time.txt" < "$work/input.json" || true
  done
  # the last line of each run's stderr is time's: seconds and peak KB
  grep -E '^[0-9.]+ [0-9]+$' "$work/time.txt" | sort -n | awk '{ s[NR]=$1; m[NR]=$2 } END { printf "median %.2f s, peak %d KB\n", s[int((NR+1)/2)], m[int((NR+1)/2)] }'
  : > "$work/time.txt"
}
echo "items=$items runs=$runs binary=$pipe"
echo -n "nested (for_each over a pipeline: stage): "; measure run "$work/nested.yaml" --mock --no-store --quiet
echo -n "flat (two for_each stages):              "; measure run "$work/flat.yaml" --mock --no-store --quiet
echo -n "pipe lint nested.yaml (parent + child):  "; measure lint "$work/nested.yaml"
echo -n "pipe lint teams/team.yaml (child alone): "; measure lint "$work/teams/team.yaml"
