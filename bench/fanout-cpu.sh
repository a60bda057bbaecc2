#!/usr/bin/env bash
# The CPU a `pipe` process spends on the wide fan-out, for each binary given (say main's build
# and yours), against one fake server (`pipe-bench fake-server`, 100 ms a call):
#   bench/fanout-cpu.sh [--calls N] [--runs R] PIPE_BINARY...
# `pipe run --quiet --concurrency 50 --no-store` of N independent stages (default 500). Prints,
# for each binary: the median user and system CPU time of R runs (default 5; the binaries in
# turn each round) and the voluntary context switches, then the instructions callgrind counts
# in user space (all threads, and the three busiest: the HTTP thread first). Needs valgrind,
# which reads a copy without debug information (`strip -g`: valgrind 3.19 gives up on the
# toolchain's), and a release pipe-bench (`swift build -c release --static-swift-stdlib --product pipe-bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
calls=500 runs=5
while [ $# -gt 0 ]; do
    case $1 in
        --calls) calls=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        *) break ;;
    esac
done
dir=$(mktemp -d)
server=
trap '[ -n "$server" ] && kill "$server"; rm -rf "$dir"' EXIT
bash bench/wide-spec.sh "$calls" > "$dir/wide.yaml"
echo "The history of tide prediction" > "$dir/input.txt"
.build/release/pipe-bench fake-server --latency-ms 100 > "$dir/url" &
server=$!
while [ ! -s "$dir/url" ]; do sleep 0.1; done
export ANTHROPIC_BASE_URL=$(head -1 "$dir/url") ANTHROPIC_API_KEY=bench
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
uptime
for round in $(seq 0 "$runs"); do
    for index in $(seq 1 $#); do
        binary=${!index}
        /usr/bin/time -o "$dir/time" -f "%U %S %w" "$binary" run --quiet --concurrency 50 --no-store \
            "$dir/wide.yaml" --input "$dir/input.txt" > /dev/null
        [ "$round" -gt 0 ] && cat "$dir/time" >> "$dir/times.$index"  # round 0 warms up
    done
done
for index in $(seq 1 $#); do
    binary=${!index}
    printf '%s: user %s s, system %s s, %s voluntary context switches (medians of %s runs)\n' "$binary" \
        "$(cut -d' ' -f1 "$dir/times.$index" | median)" "$(cut -d' ' -f2 "$dir/times.$index" | median)" \
        "$(cut -d' ' -f3 "$dir/times.$index" | median)" "$runs"
done
for binary in "$@"; do
    rm -f "$dir"/cg.*
    strip -g -o "$dir/pipe" "$binary"
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$dir/cg.%p" \
        "$dir/pipe" run --quiet --concurrency 50 --no-store "$dir/wide.yaml" --input "$dir/input.txt" \
        > /dev/null 2> "$dir/valgrind.log"
    threads=$(for file in "$dir"/cg.*; do awk '/^(summary|totals):/ { print $2; exit }' "$file"; done | sort -rn)
    printf '%s: %s instructions (callgrind); busiest threads: %s\n' "$binary" \
        "$(echo "$threads" | awk '{ sum += $1 } END { print sum }')" "$(echo "$threads" | head -3 | tr '\n' ' ')"
done
uptime
