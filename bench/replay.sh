#!/usr/bin/env bash
# `pipe run --replay` (issue 14): what reading and indexing a cassette costs. A one-stage spec
# replayed from a cassette of 1 line, and of N lines (the same stage, other prompts, each
# reply with a tool_use block and a text block, as a tool-using stage records them) with the
# matching line last. Prints wall time, CPU time and peak memory (max RSS).
#   bench/replay.sh [LINES]        CONFIG=debug to use the debug build; NO_BUILD=1 to skip building
set -euo pipefail
cd "$(dirname "$0")/.."
lines=${1:-10000}
config=${CONFIG:-release}
if [ -z "${NO_BUILD:-}" ]; then
  flags=(-c "$config"); [ "$config" = release ] && flags+=(--static-swift-stdlib)
  swift build "${flags[@]}" --product pipe >/dev/null
fi
pipe=$PWD/.build/$config/pipe
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/titles.yaml" <<'SPEC'
version: 1
name: titles
input: { schema: { type: string } }
models:
  main: { provider: anthropic, model: claude-haiku-4-5 }
defaults: { model: main, retries: 0 }
stages:
  writer:
    prompt: |
      Write a title about {{ input }}.
      Keep it short.
    output: { schema: { type: object, required: [title], properties: { title: { type: string } } } }
SPEC
python3 - "$work" "$lines" <<'PY'
import json, sys
work, lines = sys.argv[1], int(sys.argv[2])
schema = {"type": "object", "required": ["title"], "properties": {"title": {"type": "string"}}}
def line(topic, title, blocks):
    return json.dumps({"provider": "anthropic", "model": "claude-haiku-4-5", "model_name": "main", "unit": "writer",
        "request": {"stage": "writer", "messages": [f"user: Write a title about {topic}.\nKeep it short.\n"], "output_schema": schema},
        "reply": json.dumps({"title": title}), "content": blocks, "stop_reason": "end_turn", "usage": {"input": 20, "output": 8}})
match = line("tides", "Tides", [{"type": "text", "text": "{\"title\": \"Tides\"}"}])
open(f"{work}/one.jsonl", "w").write(match + "\n")
with open(f"{work}/many.jsonl", "w") as out:
    for i in range(lines - 1):
        out.write(line(f"topic {i}", f"Title {i}", [{"type": "text", "text": "Looking it up. " * 20},
            {"type": "tool_use", "id": f"toolu_{i}", "name": "search_web", "input": {"query": f"topic {i}", "limit": 5}}]) + "\n")
    out.write(match + "\n")
PY
echo "== cassette of 1 and $lines lines ($(du -h "$work/many.jsonl" | cut -f1)), $config build; $(uptime | sed 's/.*load/load/')"
measure() {
  # The replay must answer: its output is checked once first.
  "${@:2}" < <(printf tides) | grep -q Tides || { echo "$1: the replay did not answer" >&2; exit 1; }
  local name=$1; shift
  /usr/bin/time -f "$name: wall %e s, user %U s, sys %S s, max RSS %M KiB" "$@" < <(printf tides) 2>&1 >/dev/null | grep -E "^$name:" || true
}
measure "replay 1 line" "$pipe" run --no-store --quiet "$work/titles.yaml" --replay "$work/one.jsonl"
measure "replay $lines lines" "$pipe" run --no-store --quiet "$work/titles.yaml" --replay "$work/many.jsonl"
echo "$(uptime | sed 's/.*load/load/')"
