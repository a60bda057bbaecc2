#!/usr/bin/env bash
# What a dependency costs every command: `pipe --version` (process start alone) timed over
# 30 runs, and its peak memory (max RSS), for one or more release binaries side by side.
#   bench/process-start.sh [PIPE...]      # default: .build/release/pipe, built first
# Used to weigh swift-subprocess (command stages): build the commit before it in another
# directory and pass both binaries. Timing by python3 (hyperfine is not on every machine).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -eq 0 ]; then
  swift build -c release --static-swift-stdlib --product pipe >/dev/null
  set -- .build/release/pipe
fi
for pipe in "$@"; do
  python3 - "$pipe" <<'PY'
import statistics, subprocess, sys, time
pipe = sys.argv[1]
for _ in range(5):
    subprocess.run([pipe, "--version"], stdout=subprocess.DEVNULL, check=True)
times = []
for _ in range(30):
    start = time.perf_counter()
    subprocess.run([pipe, "--version"], stdout=subprocess.DEVNULL, check=True)
    times.append((time.perf_counter() - start) * 1000)
times.sort()
print(f"{pipe}: --version median {statistics.median(times):.2f} ms, min {times[0]:.2f} ms, p90 {times[26]:.2f} ms")
PY
  for what in "--version" "run --mock --no-store --quiet pipelines/research-report.yaml --input pipelines/research-report.input.txt"; do
    # shellcheck disable=SC2086
    rss=$( { /usr/bin/time -f %M "$pipe" $what >/dev/null; } 2>&1 | tail -1)
    echo "$pipe: $what: max RSS ${rss} KB"
  done
  echo "$pipe: size $(stat -c %s "$pipe") bytes"
done
