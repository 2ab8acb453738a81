#!/usr/bin/env bash
# Side-by-side benchmark: scikit-learn TF-IDF + LogisticRegressionCV vs Vigie's CLIs on the
# shared corpora. Usage (from anywhere):
#   bash bench/compare/run.sh [--corpora davidson,mlma_fr] [--out bench/out] [--data-dir ../shared/data]
# Every argument goes to compare.py (see `compare.py --help`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

SKLEARN_VERSION="1.9.1"
VENV="$ROOT/bench/.venv"
PY="$VENV/bin/python"

if [ ! -x "$PY" ]; then
    echo "== creating $VENV" >&2
    python3 -m venv "$VENV"
fi
if ! "$PY" -c "import sklearn, sys; sys.exit(sklearn.__version__ != '$SKLEARN_VERSION')" 2>/dev/null; then
    echo "== installing scikit-learn==$SKLEARN_VERSION into $VENV" >&2
    "$PY" -m pip install --quiet --disable-pip-version-check "scikit-learn==$SKLEARN_VERSION"
fi

echo "== building Vigie's release binaries (train, eval, score)" >&2
cargo build --release --bin train --bin eval --bin score

exec "$PY" "$ROOT/bench/compare/compare.py" --root "$ROOT" "$@"
