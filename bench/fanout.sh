#!/usr/bin/env bash
# The wide fan-out against a bare HTTP client, in one sitting (issue 11):
#   bench/fanout.sh [--calls N] [--concurrency C] [--latency-ms N] [--runs N] [--compare PIPE]
# Builds pipe and pipe-bench (release), then `pipe-bench fanout`: N calls (default 500) at C
# in flight (default 50) against one fake server answering after 100 ms, through `pipe run`
# (N stages, and a for_each of N items; --no-store and with a run store) and through a bare
# client on blocking sockets; prints each median and its ratio to the bare client's. With
# --compare PIPE (another build of pipe, say main's), each `pipe run` is also timed with that
# binary, in the same rounds: A/B in one sitting.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --static-swift-stdlib --product pipe >/dev/null && swift build -c release --static-swift-stdlib --product pipe-bench >/dev/null
uptime
.build/release/pipe-bench fanout "$@"
