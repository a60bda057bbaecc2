#!/usr/bin/env bash
# `pipe batch --provider-batch` on PostgreSQL (issue 16, `--queue`): the batch submitted with
# `--no-work`, then WORKERS local `pipe worker` processes; for each model one worker at a time
# (an advisory lock) submits and polls the provider batches of every worker's requests.
# Release build, a temporary PostgreSQL server on a unix socket (as bench/batch-pg.sh starts
# it), the fake server on 127.0.0.1 whose provider batches end TURNAROUND_MS after creation.
#   bench/provider-batch-pg.sh [ITEMS] [WORKERS] [TURNAROUND_MS]
# 10,000 items through the 3-stage chain of bench/provider-batch.sh: the fewest provider
# batches is 3 (one a stage), the wall time no less than 3 turnarounds. Prints the provider
# batches submitted (from the database), the wall time until the batch is done, and each
# worker's wall time, CPU time and peak memory (max RSS).
# PG_STATS=1: PostgreSQL's CPU, its transactions (commits) and statements (pg_stat_statements)
# per item, and the costliest statements. KEEP=DIR: the workers' stderr (their progress lines,
# each provider batch submitted and ended) copied to DIR.
# As root the server runs as the user pipe-test (PostgreSQL refuses root; created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
workers=${2:-2}
turnaround=${3:-2000}
[ -n "${NO_BUILD:-}" ] || { swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null; }
pipe=${PIPE:-$PWD/.build/release/pipe}
work=$(mktemp -d)
. bench/postgres.sh
start_postgres "$work" "${PG_STATS:+-c shared_preload_libraries=pg_stat_statements}"
"${PIPE_BENCH:-$PWD/.build/release/pipe-bench}" fake-server --port 0 --batch-turnaround-ms "$turnaround" > "$work/server.txt" &
server=$!
trap 'kill $server 2>/dev/null; stop_postgres "$work"; rm -rf "$work"' EXIT
for _ in $(seq 50); do [ -s "$work/server.txt" ] && break; sleep 0.1; done
export ANTHROPIC_BASE_URL=$(head -n 1 "$work/server.txt") ANTHROPIC_API_KEY=bench-key-0123456789
# The spec of bench/provider-batch.sh.
sed -n '/^cat > "$work\/three.yaml" <<.SPEC.$/,/^SPEC$/p' bench/provider-batch.sh | sed '1d;$d' > "$work/three.yaml"
seq 0 $((items - 1)) | sed 's/.*/{"id": &}/' > "$work/items.jsonl"
"${as_user[@]}" "$bin/createdb" -h "$work" -U postgres bench
url="postgres://postgres@/bench?host=$work"
echo "== $items items, 3 stages, provider batch turnaround $turnaround ms (3 turnarounds: $(echo "scale=1; 3 * $turnaround / 1000" | bc) s), $workers workers; load: $(cut -d' ' -f1-3 /proc/loadavg)"
"$pipe" batch --quiet "$work/three.yaml" --input "$work/items.jsonl" --queue "$url" --no-work --provider-batch 2>/dev/null
# CPU seconds of PostgreSQL: its postmaster and the server processes that ended (the workers'
# connections, counted once the workers have exited).
postgres_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' "/proc/$(head -n 1 "$work/data/postmaster.pid")/stat"; }
if [ -n "${PG_STATS:-}" ]; then
  sql bench "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
fi
commits_before=$(sql bench "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'")
postgres_before=$(postgres_cpu)
start=$(date +%s.%N)
pids=()
for number in $(seq "$workers"); do
  /usr/bin/time -o "$work/worker$number.time" -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
    "$pipe" worker --queue "$url" --exit-when-idle 2> "$work/worker$number.err" &
  pids+=($!)
done
wait -n "${pids[@]}" || echo "  a worker failed (exit $?)"
done_at=$(date +%s.%N)
wait "${pids[@]}" 2>/dev/null || true
printf "batch done %.2f s after the workers started\n" "$(echo "$done_at - $start" | bc)"
echo "provider batches submitted: $(sql bench "SELECT count(*) FROM provider_batches") (fewest possible: 3); requests: $(sql bench "SELECT count(*) FROM provider_batch_requests")"
for number in $(seq "$workers"); do
  echo "  worker $number: $(cat "$work/worker$number.time")"
done
if [ -n "${PG_STATS:-}" ]; then
  sleep 1   # the workers' server processes report their counts as they exit
  commits=$(( $(sql bench "SELECT xact_commit FROM pg_stat_database WHERE datname = 'bench'") - commits_before ))
  printf "PostgreSQL CPU %.2f s; per item: %.2f transactions, %.2f statements (BEGIN and COMMIT included)\n" \
    "$(echo "$(postgres_cpu) - $postgres_before" | bc)" "$(echo "$commits / $items" | bc -l)" \
    "$(sql bench "SELECT sum(calls)::float8 / $items FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'bench')")"
  sql bench "SELECT calls, round(total_exec_time::numeric, 0) AS exec_ms, left(regexp_replace(query, '\s+', ' ', 'g'), 90)
    FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10"
fi
[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP"; cp "$work"/worker*.err "$KEEP"/; }
"$pipe" batch results last --queue "$url" > "$work/results.jsonl"
echo "results: $(grep -c '"succeeded"' "$work/results.jsonl") succeeded of $(wc -l < "$work/results.jsonl"); load: $(cut -d' ' -f1-3 /proc/loadavg)"
