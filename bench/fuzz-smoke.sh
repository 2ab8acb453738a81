#!/usr/bin/env bash
# Fuzz smoke test: builds the cargo-fuzz targets of fuzz/ and runs each one for a short,
# bounded time. Exits non-zero if any target crashes (a panic, a failed invariant, a 5xx,
# a timeout or the memory limit), leaving the input in fuzz/artifacts/<target>/.
#
#   bash bench/fuzz-smoke.sh [SECONDS_PER_TARGET]     # default 20
#
# Environment: FUZZ_SANITIZER (address or none; default address), FUZZ_TARGETS (default
# "normalize score request"); cargo's own variables apply (CARGO_BUILD_JOBS, ...).
# Stable Rust is enough: RUSTC_BOOTSTRAP=1 lets it take the -Z flags cargo-fuzz passes.
# New inputs the runs find go to fuzz/corpus/<target>/ next to the committed seeds
# (git ignores them), so later runs start from them.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-${FUZZ_SECONDS:-20}}
sanitizer=${FUZZ_SANITIZER:-address}
targets=${FUZZ_TARGETS:-normalize score request}
export RUSTC_BOOTSTRAP=1
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version

echo "== build (sanitizer: $sanitizer)"
t0=$(date +%s)
# shellcheck disable=SC2086 # targets is a word list
for t in $targets; do
  cargo fuzz build -s "$sanitizer" "$t"
done
t1=$(date +%s)
build_s=$((t1 - t0))

failed=()
for t in $targets; do
  echo "== run $t for ${seconds}s"
  log=$(mktemp)
  extra=()
  [[ -f fuzz/$t.dict ]] && extra+=(-dict="fuzz/$t.dict")
  rc=0
  cargo fuzz run -s "$sanitizer" "$t" -- "${extra[@]}" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
    >"$log" 2>&1 || rc=$?
  grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|Done [0-9]+ runs|stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb))' "$log" || true
  if ((rc != 0)); then
    echo "!! $t failed (exit $rc); the end of its log:"
    tail -n 60 "$log"
    failed+=("$t")
  fi
  rm -f "$log"
done
t2=$(date +%s)

echo "== fuzz smoke: build ${build_s}s, runs $((t2 - t1))s (${seconds}s per target), total $((t2 - t0))s"
if ((${#failed[@]})); then
  echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/)"
  exit 1
fi
echo "no crash in: $targets"
