#!/usr/bin/env bash
# The comparison of run.sh repeated with each fifth of every corpus as the test split
# (--test-fold 0..4), then one table over the five: per-fold AUC differences, their mean,
# and both sides' AUC over all items pooled, with a paired bootstrap. About five times
# run.sh's time. Usage: bash bench/compare/folds.sh [--corpora ...]  (other flags go to
# every run). Output: bench/out/folds/<k>/ and bench/out/folds/results-folds.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BASE="$ROOT/bench/out/folds"
for k in 0 1 2 3 4; do
    echo "== test fold $k" >&2
    mkdir -p "$BASE"
    bash "$ROOT/bench/compare/run.sh" --test-fold "$k" --out "$BASE/$k" "$@" > "$BASE.$k.log" 2>&1 \
        || { echo "fold $k failed; see $BASE.$k.log" >&2; exit 1; }
done
exec "$ROOT/bench/.venv/bin/python" "$ROOT/bench/compare/compare.py" _folds "$BASE"
