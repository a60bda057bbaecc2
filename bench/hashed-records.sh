#!/usr/bin/env bash
# What `record: { prompts: hash, outputs: hash }` costs a run: a three-stage spec (two stages
# read the input, one reads both) under --mock with a 1 MiB input, recorded in full and hashed,
# N runs each, alternating. Prints the mean wall time and CPU time (user + system) per run of each mode.
#   bench/hashed-records.sh [RUNS]      (uses the build in .build/debug unless PIPE=path)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-10}
pipe=${PIPE:-$PWD/.build/debug/pipe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -c "import sys; sys.stdout.write(('tides and the moon ' * 60000)[:1048576])" > "$work/input.txt"
cat > "$work/spec.yaml" <<'SPEC'
version: 1
models:
  m: { provider: anthropic, model: claude-haiku-4-5 }
defaults: { model: m, max_tokens: 100 }
stages:
  facts: { prompt: "Facts about: {{ input }}" }
  tone: { prompt: "Tone of: {{ input }}" }
  writer: { prompt: "Write with {{ facts }} in {{ tone }}" }
SPEC
declare -A wall cpu
for mode in full hash; do wall[$mode]=0; cpu[$mode]=0; done
for _ in $(seq "$runs"); do
  for mode in full hash; do
    PIPE_STORE="$work/$mode/pipe.db" /usr/bin/time -f "%e %U %S" -o "$work/time" "$pipe" run --quiet --mock --record-prompts "$mode" --record-outputs "$mode" \
      "$work/spec.yaml" --input "$work/input.txt" > /dev/null
    read -r e u s < "$work/time"
    wall[$mode]=$(python3 -c "print(${wall[$mode]} + $e)")
    cpu[$mode]=$(python3 -c "print(${cpu[$mode]} + $u + $s)")
  done
done
for mode in full hash; do
  python3 -c "print('$mode: wall %.3f s, cpu %.3f s per run (mean of $runs)' % (${wall[$mode]} / $runs, ${cpu[$mode]} / $runs))"
done
for mode in full hash; do
  du -cb "$work/$mode"/pipe.db* | tail -n 1 | awk -v m="$mode" -v r="$runs" '{ print m ": store after " r " runs: " $1 " bytes" }'
done
