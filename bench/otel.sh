#!/usr/bin/env bash
# What OpenTelemetry export costs `pipe` (issue 15), export off vs on:
#   bench/otel.sh [--runs N] [--calls N] [PIPE [PIPE_BENCH]]
# PIPE defaults to .build/release/pipe, PIPE_BENCH (its fake LLM server) to .build/release/pipe-bench.
# 1. start: `pipe --version` and `pipe lint` of a 500-stage spec, median wall of N runs and
#    peak memory (`/usr/bin/time`), without and with OTEL_EXPORTER_OTLP_ENDPOINT set;
# 2. a `--mock` run of pipelines/research-report.yaml and 3. a 500-stage fan-out
#    (`--concurrency 50 --no-store`, fake server answering after 100 ms): median wall, user+system
#    CPU and peak memory of N runs with export off, to a live receiver
#    (Tests/testdata/otel/receiver.py, which decodes every span), and to a dead endpoint (a
#    closed port). The arms alternate in each round.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=10 calls=500
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --calls) calls=$2; shift 2 ;;
        *) break ;;
    esac
done
pipe=${1:-.build/release/pipe} bench=${2:-.build/release/pipe-bench}
dir=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$dir"' EXIT
bash bench/wide-spec.sh "$calls" > "$dir/wide.yaml"
echo "The history of tide prediction" > "$dir/input.txt"
"$bench" fake-server --latency-ms 100 > "$dir/url" &
pids+=($!)
python3 Tests/testdata/otel/receiver.py --out "$dir/spans.jsonl" --raw /dev/null --lifetime 3600 > "$dir/receiver" &
pids+=($!)
while [ ! -s "$dir/url" ] || [ ! -s "$dir/receiver" ]; do sleep 0.1; done
receiver="http://127.0.0.1:$(head -1 "$dir/receiver")"
dead="http://127.0.0.1:$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export ANTHROPIC_BASE_URL=$(head -1 "$dir/url") ANTHROPIC_API_KEY=bench
uptime
python3 - "$pipe" "$runs" "$dir" "$receiver" "$dead" <<'PY'
import os, statistics, subprocess, sys
pipe, runs, folder, receiver, dead = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
wide, given = f"{folder}/wide.yaml", f"{folder}/input.txt"
arms = {"off": None, "receiver": receiver, "dead endpoint": dead}

def timed(arguments, endpoint):
    environment = dict(os.environ)
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    if endpoint:
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", pipe] + arguments, env=environment,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall, user, system, rss = out.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(system), int(rss)

def measure(name, arguments, chosen):
    results = {arm: [] for arm in chosen}
    for round in range(runs + 1):
        for arm in chosen:
            sample = timed(arguments, arms[arm])
            if round > 0:  # round 0 warms up
                results[arm].append(sample)
    for arm in chosen:
        samples = results[arm]
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rss = max(s[2] for s in samples)
        print(f"{name:<28} export {arm:<14} wall {wall * 1000:8.0f} ms   cpu {cpu * 1000:8.0f} ms   peak {rss / 1024:6.1f} MB")

measure("--version", ["--version"], ["off", "receiver"])
measure("lint (wide spec)", ["lint", wide], ["off", "receiver"])
mock = ["run", "--mock", "--no-store", "--quiet", "pipelines/research-report.yaml", "--input", "pipelines/research-report.input.txt"]
measure("run --mock research-report", mock, list(arms))
measure("fan-out", ["run", "--quiet", "--concurrency", "50", "--no-store", wide, "--input", given], list(arms))
spans = sum(1 for _ in open(f"{folder}/spans.jsonl")) if os.path.exists(f"{folder}/spans.jsonl") else 0
print(f"spans the receiver decoded: {spans}")
PY
