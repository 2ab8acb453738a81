#!/usr/bin/env bash
# Does a change of the default recipe help on real text? Trains two manifests A and B the
# same way and compares them by paired bootstrap (paired.py, B - A): on each real corpus X
# left out of both (cross-corpus), on RTP-LX French (evaluation only) and on the project's
# held-out comments. Used for the lexicon features (issue 23).
#
#   bench/realdata/ablation.sh A.toml B.toml [OUT_DIR]
#
# Never writes under training/. Needs ../shared/data (or VIGIE_SHARED_DATA). Uses `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
A=$(realpath "$1") B=$(realpath "$2")
OUT=$(realpath -m "${3:-$(mktemp -d /tmp/vigie-ablation.XXXXXX)}")
case "$OUT/" in "$ROOT/training/"*) echo "refusing to write under training/" >&2; exit 1 ;; esac
SHARED=${VIGIE_SHARED_DATA:-$ROOT/../shared/data}
BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release
mkdir -p "$OUT/A" "$OUT/B"

nice -n 10 cargo build --release --bin train --bin score
python3 bench/realdata/rtp_lx_fr.py "$SHARED/rtp-lx-fr/RTP_LX_FR.json" "$OUT/rtp-lx-fr.jsonl"

# Trains manifest $2 as $OUT/$1/$3 and scores file $4 into $OUT/$1/$3.$5.scores.jsonl; skips
# what an interrupted run already did, so the script resumes.
train_and_score() {
    local model="$OUT/$1/$3.vigie" scores="$OUT/$1/$3.$5.scores.jsonl"
    [ -s "$model" ] || nice -n 10 "$BIN/train" --sources "$2" --out "$OUT/$1" --name "$3" \
        > "$OUT/$1/$3.log" 2>&1
    [ -s "$scores" ] || nice -n 10 "$BIN/score" --model "$model" < "$4" > "$scores"
    echo "$1: $3 scored on $5" >&2
}

for side in A B; do
    manifest=$A; [ "$side" = B ] && manifest=$B
    python3 bench/realdata/card.py --loco-manifests "$manifest" "$OUT/$side" > "$OUT/$side/corpora"
    train_and_score "$side" "$manifest" full "$OUT/rtp-lx-fr.jsonl" rtp
    train_and_score "$side" "$manifest" full training/heldout.jsonl heldout
done
# A and B in turn for each corpus: an early stop still leaves paired results.
for x in $(cat "$OUT/A/corpora"); do
    for side in A B; do
        train_and_score "$side" "$OUT/$side/without-$x.toml" "without-$x" \
            "training/real/$x.jsonl" "$x"
    done
done

{
    for x in $(cat "$OUT/A/corpora"); do
        echo "## cross-corpus: $x (trained without it), B - A"
        python3 bench/realdata/paired.py --resamples 1000 "training/real/$x.jsonl" \
            "$OUT/A/without-$x.$x.scores.jsonl" "$OUT/B/without-$x.$x.scores.jsonl"
        echo
    done
    echo "## RTP-LX French, B - A"
    python3 bench/realdata/paired.py --resamples 1000 "$OUT/rtp-lx-fr.jsonl" \
        "$OUT/A/full.rtp.scores.jsonl" "$OUT/B/full.rtp.scores.jsonl"
    echo
    echo "## held-out project comments, B - A"
    python3 bench/realdata/paired.py --resamples 1000 training/heldout.jsonl \
        "$OUT/A/full.heldout.scores.jsonl" "$OUT/B/full.heldout.scores.jsonl"
} | tee "$OUT/ablation.md"
echo "results in $OUT" >&2
