#!/usr/bin/env bash
# The learning curve (issue 24): how fast a site's labels teach the model. See the header of
# benches/learning_curve.rs for what is simulated.
#
#   bench/learning_curve/run.sh [--write] [OUT_DIR]
#
# For each site corpus below, trains the default manifest without it (bench/realdata's
# leave-one-corpus-out model; one already in OUT_DIR/models is reused), then labels the site's
# pool at random and in the teach order, retraining at each k. Prints the table; --write also
# copies the plot to bench/learning_curve/curve.png. VIGIE_CURVE_ARGS adds arguments to the
# benchmark (e.g. "--warm-up 0" to try another teach order setting). Plotting needs
# matplotlib, installed from requirements.txt into a virtualenv under the target folder.
# Uses `nice -n 10`.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
WRITE=0
if [ "${1:-}" = --write ]; then WRITE=1; shift; fi
OUT=$(realpath -m "${1:-$(mktemp -d /tmp/vigie-curve.XXXXXX)}")
case "$OUT/" in "$ROOT/training/"*) echo "refusing to write under training/" >&2; exit 1 ;; esac
mkdir -p "$OUT/models"
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET/release

nice -n 10 cargo build --release --bin train
nice -n 10 cargo bench --no-run --bench learning_curve 2>&1 | tail -1
CURVE=$(ls -t "$BIN"/deps/learning_curve-* | grep -v '\.d$' | head -1)
python3 bench/realdata/card.py --loco-manifests training/sources.toml "$OUT" > /dev/null

# corpus  language  head the test set measures
SITES=${VIGIE_CURVE_SITES:-"ftr fr identity_attack
mlma fr toxicity
fox-news-comments en identity_attack"}
while read -r x lang head; do
    t0=$(date +%s)
    [ -s "$OUT/models/without-$x.vigie" ] ||
        nice -n 10 "$BIN/train" --sources "$OUT/without-$x.toml" --out "$OUT/models" \
            --name "without-$x" > "$OUT/without-$x.train.log" 2>&1
    echo "base without $x: $(( $(date +%s) - t0 )) s" >&2
    [ -s "$OUT/$x.curve.json" ] ||
        nice -n 10 "$CURVE" --corpus "$x" --manifest "$OUT/without-$x.toml" \
            --champion "$OUT/models/without-$x.vigie" --site "training/real/$x.jsonl" \
            --lang "$lang" --head "$head" --out "$OUT/$x.curve.json" ${VIGIE_CURVE_ARGS:-}
done <<< "$SITES"

VENV=$TARGET/bench-venv
[ -x "$VENV/bin/python" ] || { python3 -m venv "$VENV" &&
    "$VENV/bin/pip" install -q -r bench/learning_curve/requirements.txt; }
"$VENV/bin/python" bench/learning_curve/plot.py "$OUT" "$OUT/curve.png" | tee "$OUT/table.md"
if [ "$WRITE" = 1 ]; then
    cp "$OUT/curve.png" bench/learning_curve/curve.png
    echo "wrote bench/learning_curve/curve.png" >&2
fi
echo "results in $OUT" >&2
