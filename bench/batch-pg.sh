#!/usr/bin/env bash
# `pipe batch` on PostgreSQL with local `pipe worker` processes (issue 12). Release build, a
# temporary PostgreSQL server (its default settings: durable commits) on a unix socket, the
# fake server on 127.0.0.1.
#   bench/batch-pg.sh [ITEMS] [WORKERS] [CONCURRENCY] [RUNS]
# 10,000 one-stage items, every call answered after 100 ms, 4 workers at --concurrency 50:
# ideally 10,000 / 200 x 0.1 s = 5.0 s. Each run submits the batch to a new database
# (`pipe batch --no-work`, timed apart), then starts the workers (`--exit-when-idle`) at once
# and times them until the batch is done (the first worker exits: none exits before every
# item has ended) and until the last exits; prints each worker's wall time, CPU time and
# peak memory (max RSS). PG_OPTIONS adds server settings (e.g. "-c synchronous_commit=off").
# LATENCY_MS=0: an instant fake server, so the batch measures the queue and the workers
# (items claimed and completed per second, printed with each run).
# PG_STATS=1: the server counts statements (pg_stat_statements) and each run prints the
# workers' statements and transactions (commits: one per group of writes) per item.
# As root the server runs as the user pipe-test (PostgreSQL refuses root; created if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
items=${1:-10000}
workers=${2:-4}
concurrency=${3:-50}
runs=${4:-3}
[ -n "${NO_BUILD:-}" ] || { swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null; }
pipe=${PIPE:-$PWD/.build/release/pipe}   # PIPE, PIPE_BENCH: other binaries (a before/after comparison)
work=$(mktemp -d)
. bench/postgres.sh
start_postgres "$work" "${PG_STATS:+-c shared_preload_libraries=pg_stat_statements}"
. bench/one-stage.sh
one_stage "$work" "$items"
trap 'kill $server 2>/dev/null; stop_postgres "$work"; rm -rf "$work"' EXIT
latency=${LATENCY_MS:-100}
ideal=$(echo "scale=2; $items / ($workers * $concurrency) * $latency / 1000" | bc)
echo "== $items one-stage items, $latency ms a call, $workers workers at --concurrency $concurrency (ideal $ideal s); load: $(cut -d' ' -f1-3 /proc/loadavg)"
# CPU seconds (user + system) the fake server has used so far: it shares the cores with the workers.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$server/stat"; }
# CPU seconds of PostgreSQL: its postmaster and the server processes that ended (the workers'
# connections, counted once the workers have exited).
postgres_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15 + $16 + $17) / hz }' "/proc/$(head -n 1 "$work/data/postmaster.pid")/stat"; }
for run in $(seq "$runs"); do
  "${as_user[@]}" "$bin/createdb" -h "$work" -U postgres "run$run"
  url="postgres://postgres@/run$run?host=$work"
  start=$(date +%s.%N)
  "$pipe" batch --quiet "$work/one.yaml" --input "$work/items.jsonl" --queue "$url" --no-work 2>/dev/null
  submitted=$(date +%s.%N)
  server_before=$(server_cpu)
  postgres_before=$(postgres_cpu)
  if [ -n "${PG_STATS:-}" ]; then
    sql "run$run" "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset()" >/dev/null
  fi
  commits_before=$(sql "run$run" "SELECT xact_commit FROM pg_stat_database WHERE datname = 'run$run'")
  wal_before=$(sql "run$run" "SELECT pg_current_wal_lsn()")
  pids=()
  for number in $(seq "$workers"); do
    /usr/bin/time -o "$work/worker$number.time" -f "wall %e s, user %U s, sys %S s, max RSS %M KiB" \
      "$pipe" worker --queue "$url" --concurrency "$concurrency" --exit-when-idle 2>/dev/null &
    pids+=($!)
  done
  # A worker exits once no item is pending or running: the first to exit saw the batch end;
  # the others notice at their next look (50 ms after their last item, then less often).
  wait -n "${pids[@]}" || echo "  a worker failed (exit $?)"
  done_at=$(date +%s.%N)
  wait "${pids[@]}" 2>/dev/null || true
  ended=$(date +%s.%N)
  printf "run %d: submit %.2f s; batch done %.2f s after the workers started (last worker exited at %.2f s), %.0f items/s\n" "$run" \
    "$(echo "$submitted - $start" | bc)" "$(echo "$done_at - $submitted" | bc)" "$(echo "$ended - $submitted" | bc)" \
    "$(echo "$items / ($done_at - $submitted)" | bc -l)"
  # How long after the batch's last item ended the first worker exited (finished_at is UTC).
  last=$(sql "run$run" "SELECT max(finished_at) FROM items")
  printf "  the first worker exited %.2f s after the last item ended\n" "$(echo "$done_at - $(date -d "$last" +%s.%N)" | bc)"
  for number in $(seq "$workers"); do echo "  worker $number: $(cat "$work/worker$number.time")"; done
  sleep 1   # the workers' server processes report their counts as they exit
  commits=$(( $(sql "run$run" "SELECT xact_commit FROM pg_stat_database WHERE datname = 'run$run'") - commits_before ))
  wal=$(sql "run$run" "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$wal_before')")
  printf "  PostgreSQL CPU %.2f s; per item: %.2f transactions, %.0f WAL bytes" "$(echo "$(postgres_cpu) - $postgres_before" | bc)" \
    "$(echo "$commits / $items" | bc -l)" "$(echo "$wal / $items" | bc -l)"
  if [ -n "${PG_STATS:-}" ]; then
    printf ", %.2f statements (BEGIN and COMMIT included)" "$(sql "run$run" \
      "SELECT sum(calls)::float8 / $items FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'run$run')")"
  fi
  echo
  if [ -n "${PG_TOP:-}" ]; then   # PG_TOP=1 (with PG_STATS=1): the costliest statements
    sql "run$run" "SELECT calls, round(total_exec_time::numeric, 0) AS exec_ms, round(total_plan_time::numeric, 0) AS plan_ms,
      round(wal_bytes / nullif(calls, 0)) AS wal_per_call, left(regexp_replace(query, '\s+', ' ', 'g'), 70)
      FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 10"
  fi
  "$pipe" batch results last --queue "$url" > "$work/results.jsonl"
  echo "  results: $(grep -c '"succeeded"' "$work/results.jsonl") succeeded, $(wc -l < "$work/results.jsonl") lines; fake server CPU $(echo "$(server_cpu) - $server_before" | bc) s; load: $(cut -d' ' -f1-3 /proc/loadavg)"
done
