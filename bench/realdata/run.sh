#!/usr/bin/env bash
# First measurement of the default model on real comments (issue 23). See README.md here.
#
#   bench/realdata/run.sh [--no-loco] [OUT_DIR]
#
# Trains in OUT_DIR (default: a new folder under /tmp), never writes under training/:
#   a  the committed models/default.vigie (trained on the project's data only);
#   b  training/corpus.jsonl + training/bias/augment.jsonl (+ seeds) + every real corpus at weight 1;
#   c  the same, real corpora at weight 0.2 (training/sources.real.toml);
# scores each on the French RTP-LX set (evaluation only, converted into OUT_DIR), then, unless
# --no-loco, trains c without each real corpus X in turn and scores X (leave one corpus out).
# EXTRA_WEIGHTS="0.05 0.5" also trains and scores model wW (w0_05, w0_5) for each weight W.
# Needs ../shared/data (or VIGIE_SHARED_DATA). Run from anywhere; uses `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
LOCO=1
if [ "${1:-}" = "--no-loco" ]; then LOCO=0; shift; fi
OUT=$(realpath -m "${1:-$(mktemp -d /tmp/vigie-realdata.XXXXXX)}")
case "$OUT/" in "$ROOT/training/"*) echo "refusing to write under training/" >&2; exit 1 ;; esac
mkdir -p "$OUT/models"
SHARED=${VIGIE_SHARED_DATA:-$ROOT/../shared/data}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
REAL=(davidson mlma fox-news-comments wiki-toxicity-testset ftr)

nice -n 10 cargo build --release --bin train --bin eval
python3 bench/realdata/rtp_lx_fr.py "$SHARED/rtp-lx-fr/RTP_LX_FR.json" "$OUT/rtp-lx-fr.jsonl"

# manifest NAME WEIGHT [EXCLUDED]: the project's files at 1, the real corpora at WEIGHT.
manifest() {
    local f="$OUT/$1.toml"
    {
        echo "[[source]]"; echo "path = \"$ROOT/training/corpus.jsonl\""
        echo "[[source]]"; echo "path = \"$ROOT/training/bias/augment.jsonl\""
        for c in "${REAL[@]}"; do
            [ "$c" = "${3:-}" ] && continue
            echo "[[source]]"; echo "path = \"$ROOT/training/real/$c.jsonl\""; echo "weight = $2"
        done
    } > "$f"
}

# train NAME: trains from $OUT/NAME.toml, records the wall time in $OUT/NAME.seconds.
train() {
    local t0 t1
    t0=$(date +%s%N)
    nice -n 10 "$BIN/train" --sources "$OUT/$1.toml" --out "$OUT/models" --name "$1" \
        > "$OUT/$1.train.log" 2>&1
    t1=$(date +%s%N)
    echo "$(( (t1 - t0) / 1000000000 ))" > "$OUT/$1.seconds"
    echo "trained $1 in $(cat "$OUT/$1.seconds") s" >&2
}

# score MODEL DATA NAME: eval --json into $OUT/NAME.json.
score() {
    nice -n 10 "$BIN/eval" --model "$1" --data "$2" --json > "$OUT/$3.json"
}

cp models/default.vigie "$OUT/models/a.vigie"
manifest b 1
manifest c 0.2
train b
train c
for m in a b c; do score "$OUT/models/$m.vigie" "$OUT/rtp-lx-fr.jsonl" "rtp.$m"; done
for w in ${EXTRA_WEIGHTS:-}; do
    m="w${w//./_}" # a model name has no '.'
    manifest "$m" "$w"
    train "$m"
    score "$OUT/models/$m.vigie" "$OUT/rtp-lx-fr.jsonl" "rtp.$m"
done

if [ "$LOCO" = 1 ]; then
    for x in "${REAL[@]}"; do
        manifest "c-no-$x" 0.2 "$x"
        train "c-no-$x"
        score "$OUT/models/c-no-$x.vigie" "training/real/$x.jsonl" "loco.$x"
        # The committed model never saw any real corpus: the same table's baseline.
        score "$OUT/models/a.vigie" "training/real/$x.jsonl" "loco-a.$x"
    done
fi
python3 bench/realdata/summary.py "$OUT"
echo "results in $OUT" >&2
