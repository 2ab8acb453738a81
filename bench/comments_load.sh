#!/usr/bin/env bash
# HTTP load on POST /v1/comments with the SQLite backend: builds the release server, starts
# it on loopback with a fresh database, runs wrk for a bounded time, then checks that every
# acknowledged comment is in the database (and counts them). Prints RESULT and CHECK lines.
#   bash bench/comments_load.sh [duration_s=15] [connections=32] [threads=2]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNS=${2:-32}
THREADS=${3:-2}
PORT=${VIGIE_BENCH_PORT:-18081}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
command -v sqlite3 >/dev/null || { apt-get update -qq && apt-get install -y -qq sqlite3; }
cargo build --release --bin serve --bin keys -q
WORK=$(mktemp -d)
export VIGIE_ACK_DIR="$WORK/acks"
mkdir -p "$VIGIE_ACK_DIR"
VIGIE_BENCH_KEY=$(./target/release/keys --data-dir "$WORK" create bench --role scorer | grep -o 'vg_[A-Za-z0-9_-]*' | head -1)
export VIGIE_BENCH_KEY
# The per-key rate limit is for the public internet; this measures the storage path.
RUST_LOG=warn ./target/release/serve --addr 127.0.0.1:$PORT --data-dir "$WORK" --rate-limit 0 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 50); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/comments.lua "http://127.0.0.1:$PORT" | grep -E "RESULT|Latency|Req/Sec|requests in"
kill -TERM $PID; wait $PID || true
cat "$VIGIE_ACK_DIR"/acked-*.txt | sort > "$WORK/acked.txt"
sqlite3 "$WORK/vigie.db" "select id from comments" | sort > "$WORK/stored.txt"
ACKED=$(wc -l < "$WORK/acked.txt")
STORED=$(wc -l < "$WORK/stored.txt")
MISSING=$(comm -23 "$WORK/acked.txt" "$WORK/stored.txt" | wc -l)
echo "CHECK acknowledged=$ACKED stored=$STORED acknowledged_but_missing=$MISSING"
[ "$MISSING" -eq 0 ] && [ "$ACKED" -gt 0 ]
