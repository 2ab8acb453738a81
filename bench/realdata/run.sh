#!/usr/bin/env bash
# The default model on real text it never trained on (issue 23). See README.md here.
#
#   bench/realdata/run.sh [--write] [--no-loco] [OUT_DIR]
#
# Scores the committed models/default.vigie on RTP-LX French (evaluation only, converted into
# OUT_DIR), then, unless --no-loco, trains the default manifest (training/sources.toml)
# without each real corpus X in turn and scores X on its labels (leave one corpus out). Prints
# the tables and writes OUT_DIR/realdata.json; --write also copies it to
# models/default.realdata.json, which `train` puts into the report and `serve` into
# GET /v1/model (retrain once to refresh the report). Never writes under training/.
# Needs ../shared/data (or VIGIE_SHARED_DATA). Run from anywhere; uses `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WRITE=0 LOCO=1
while [ $# -gt 0 ]; do
    case "$1" in
    --write) WRITE=1 ;;
    --no-loco) LOCO=0 ;;
    *) break ;;
    esac
    shift
done
OUT=$(realpath -m "${1:-$(mktemp -d /tmp/vigie-realdata.XXXXXX)}")
case "$OUT/" in "$ROOT/training/"*) echo "refusing to write under training/" >&2; exit 1 ;; esac
mkdir -p "$OUT/models"
SHARED=${VIGIE_SHARED_DATA:-$ROOT/../shared/data}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release

nice -n 10 cargo build --release --bin train --bin eval
python3 bench/realdata/rtp_lx_fr.py "$SHARED/rtp-lx-fr/RTP_LX_FR.json" "$OUT/rtp-lx-fr.jsonl"
nice -n 10 "$BIN/eval" --model models/default.vigie --data "$OUT/rtp-lx-fr.jsonl" --json \
    > "$OUT/french.json"

if [ "$LOCO" = 1 ]; then
    # One manifest per real corpus of the default one, without that corpus.
    for x in $(python3 bench/realdata/card.py --loco-manifests training/sources.toml "$OUT"); do
        t0=$(date +%s)
        # A model already in OUT/models (an interrupted run, or bench/realdata/ablation.sh's
        # B/without-X.vigie for the same manifest) is scored, not trained again.
        [ -s "$OUT/models/without-$x.vigie" ] ||
            nice -n 10 "$BIN/train" --sources "$OUT/without-$x.toml" --out "$OUT/models" \
                --name "without-$x" > "$OUT/without-$x.train.log" 2>&1
        echo "trained without $x in $(( $(date +%s) - t0 )) s" >&2
        nice -n 10 "$BIN/eval" --model "$OUT/models/without-$x.vigie" \
            --data "training/real/$x.jsonl" --json > "$OUT/loco.$x.json"
    done
fi
python3 bench/realdata/card.py --card "$OUT" > "$OUT/tables.md"
cat "$OUT/tables.md"
if [ "$WRITE" = 1 ]; then
    cp "$OUT/realdata.json" models/default.realdata.json
    echo "wrote models/default.realdata.json" >&2
fi
echo "results in $OUT" >&2
