#!/usr/bin/env bash
# In-corpus check of the default recipe (issue 23): on each real corpus X, is the default model
# worse than a model trained on X alone? Both are judged by 5-fold out-of-fold scores on X's
# items (`train --oof`), compared by paired bootstrap (paired.py: B = default, A = X alone).
#
#   bench/realdata/incorpus.sh [OUT_DIR]
#
# Trains the default manifest once and each real corpus alone (no seeds, no held-out file).
# Never writes under training/. Uses `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$(realpath -m "${1:-$(mktemp -d /tmp/vigie-incorpus.XXXXXX)}")
case "$OUT/" in "$ROOT/training/"*) echo "refusing to write under training/" >&2; exit 1 ;; esac
mkdir -p "$OUT/models"
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
REAL=(davidson mlma fox-news-comments wiki-toxicity-testset ftr)

nice -n 10 cargo build --release --bin train
nice -n 10 "$BIN/train" --out "$OUT/models" --name default --oof "$OUT/default.oof.jsonl" \
    > "$OUT/default.train.log" 2>&1
for x in "${REAL[@]}"; do
    nice -n 10 "$BIN/train" --data "training/real/$x.jsonl" --no-seeds --no-heldout \
        --out "$OUT/models" --name "alone-$x" --oof "$OUT/alone-$x.oof.jsonl" \
        > "$OUT/alone-$x.train.log" 2>&1
    echo "## $x: the default recipe (B) against $x alone (A), out of fold"
    python3 bench/realdata/paired.py --resamples 1000 "training/real/$x.jsonl" "$OUT/alone-$x.oof.jsonl" \
        "$OUT/default.oof.jsonl"
    echo
done | tee "$OUT/incorpus.md"
echo "results in $OUT" >&2
