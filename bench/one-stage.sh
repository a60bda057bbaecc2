# Sourced by bench/batch.sh and bench/batch-pg.sh: starts the fake server (every call answered
# after 100 ms, or LATENCY_MS; its pid in $server, its address in ANTHROPIC_BASE_URL) and
# writes the one-stage spec ($1/one.yaml) and $2 items ($1/items.jsonl, {"id": N} a line).
#   one_stage WORK ITEMS
one_stage() {
  "${PIPE_BENCH:-.build/release/pipe-bench}" fake-server --port 0 --latency-ms "${LATENCY_MS:-100}" > "$1/server.txt" &
  server=$!
  for _ in $(seq 50); do [ -s "$1/server.txt" ] && break; sleep 0.1; done
  export ANTHROPIC_BASE_URL=$(head -n 1 "$1/server.txt") ANTHROPIC_API_KEY=bench-key-0123456789
  cat > "$1/one.yaml" <<'SPEC'
version: 1
name: one
input:
  schema: { type: object, required: [id], properties: { id: { type: integer } } }
models:
  m: { provider: anthropic, model: claude-bench }
defaults: { model: m, max_tokens: 100, timeout: 60s }
stages:
  answer:
    prompt: "Answer item {{ input.id }}."
    output: { schema: { type: object, required: [label], properties: { label: { type: string } } } }
output: "{{ answer.label }}"
SPEC
  seq 0 $(($2 - 1)) | sed 's/.*/{"id": &}/' > "$1/items.jsonl"
}
