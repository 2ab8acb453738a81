#!/usr/bin/env bash
# p99 of POST /v1/score while a retraining runs (issue 24: training never blocks scoring).
# Starts the release server on loopback with a fresh database and the committed model, gives
# it site labels through Perspective's comments:suggestscore (the first LABELS FTR comments,
# identity attack or not), measures wrk on /v1/score for DURATION s with no retraining, then
# starts POST /v1/admin/model/retrain and measures again while it runs (the retraining must
# still be running when wrk ends, or the run says so). Prints both latency distributions and
# the retraining's outcome. RATE (requests a second, 0: as fast as wrk can) paces each
# connection to a steady load below saturation instead.
#   bash bench/retrain_load.sh [duration_s=30] [connections=16] [threads=1] [labels=300] [rate=0]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-30}
CONNS=${2:-16}
THREADS=${3:-1}
LABELS=${4:-300}
RATE=${5:-0}
if [ "$RATE" -gt 0 ]; then export VIGIE_PACE_MS=$(( CONNS * 1000 / RATE )); fi
PORT=${VIGIE_BENCH_PORT:-18082}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --bin serve --bin keys -q
WORK=$(mktemp -d)
key() { ./target/release/keys --data-dir "$WORK" create "$1" --role "$2" | grep -o 'vg_[A-Za-z0-9_-]*' | head -1; }
SCORER=$(key site scorer)
ADMIN=$(key ops admin)
RUST_LOG=warn ./target/release/serve --addr 127.0.0.1:$PORT --data-dir "$WORK" \
  --models-dir "$WORK/models" --rate-limit 0 &
PID=$!
trap 'kill $PID 2>/dev/null || true; rm -rf "$WORK"' EXIT
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break
  sleep 0.1
done
URL="http://127.0.0.1:$PORT"
python3 - "$URL" "$SCORER" "$LABELS" <<'PY'
import json, sys, urllib.request
url, key, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sent = 0
with open("training/real/ftr.jsonl", encoding="utf-8") as f:
    for line in f:
        if not line.startswith("{"):
            continue
        r = json.loads(line)
        label = r.get("labels", {}).get("identity_attack")
        if label is None:
            continue
        body = {"comment": {"text": r["text"]}, "languages": ["fr"],
                "attributeScores": {"IDENTITY_ATTACK": {"summaryScore": {"value": float(label)}}}}
        req = urllib.request.Request(url + "/v1alpha1/comments:suggestscore",
            data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + key})
        urllib.request.urlopen(req).read()
        sent += 1
        if sent == n:
            break
print(f"site labels sent: {sent}")
PY
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%Y-%m-%d)"
echo "load: $CONNS connections, ${VIGIE_PACE_MS:-no} ms pause before each request"
run_wrk() {
  wrk -t"$THREADS" -c"$CONNS" -d"${DURATION}s" --latency -s bench/score.lua "$URL" |
    grep -E "RESULT|Latency|requests in|     99%|     50%"
}
status() { curl -s "$URL/v1/admin/model/retrain" -H "Authorization: Bearer $ADMIN"; }
echo "== no retraining"
run_wrk
echo "== during a retraining"
curl -sf -X POST "$URL/v1/admin/model/retrain" -H "Authorization: Bearer $ADMIN" >/dev/null
run_wrk
state=$(status | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')
echo "retraining state when wrk ended: $state"
[ "$state" = running ] || echo "WARNING: the retraining ended before wrk did; lengthen DURATION"
while [ "$(status | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])')" = running ]; do
  sleep 5
done
status | python3 -c 'import json,sys; s=json.load(sys.stdin); print("retraining:", s["state"], "promoted:", s.get("promoted"), "seconds:", s.get("seconds"))'
