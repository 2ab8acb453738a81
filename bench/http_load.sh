#!/usr/bin/env bash
# HTTP load on POST /v1/score: builds the release server, starts it on loopback, runs wrk
# (Debian package `wrk`, installed if missing) for a bounded time, prints one RESULT line.
#   bash bench/http_load.sh [duration_s=15] [connections=64] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${2:-64}
THREADS=${3:-2}
PORT=${VIGIE_BENCH_PORT:-18080}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin serve -q
RUST_LOG=warn ./target/release/serve --addr 127.0.0.1:$PORT &
PID=$!
trap 'kill $PID 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/score.lua "http://127.0.0.1:$PORT" | tee /tmp/vigie-wrk.txt | grep -E "RESULT|Latency|Req/Sec|requests in"
