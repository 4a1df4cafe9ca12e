#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/, clang 14 + ASan + UBSan) into ./build-fuzz and runs each
# for SECONDS (default 30), two at a time, on a copy of its seed corpus (fuzz/corpus/<target>)
# with its dictionary (fuzz/dict/<target>.dict) where there is one. Usage:
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      # targets: config safetensors cvdb trex hf_tokenizer idx
# Exit status 1 if any target crashed, leaked, hung (> 10 s on one input) or ran out of memory;
# the input that did it is kept in build-fuzz/fuzz-out/<target>/ and the log printed.
# Needs clang-14 and libclang-rt-14-dev (libFuzzer) besides the packages of scripts/bootstrap.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
shift || true
targets=("$@")
((${#targets[@]})) || targets=(config safetensors cvdb trex hf_tokenizer idx)
parallel=${FUZZ_PARALLEL:-2}
cxx=${FUZZ_CXX:-clang++-14}
build=build-fuzz

export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/ccache}"
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$cxx" \
  -DIMLHOST_FUZZ=ON -DIMLHOST_BUILD_TESTS=OFF -DIMLHOST_BUILD_BENCH=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"

# Leaks count as failures (libFuzzer's -detect_leaks=1 is the default with ASan).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

run_one() {
  local t=$1 out=$build/fuzz-out/$1
  rm -rf "$out" && mkdir -p "$out/corpus"
  local args=("$out/corpus" "fuzz/corpus/$t" -max_total_time="$seconds" -timeout=10
              -rss_limit_mb=2048 -max_len=8192 -print_final_stats=1 -artifact_prefix="$out/")
  [ -f "fuzz/dict/$t.dict" ] && args+=(-dict="fuzz/dict/$t.dict")
  if "$build/fuzz/fuzz_$t" "${args[@]}" >"$out/log" 2>&1; then
    local stats
    stats=$(grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' "$out/log" |
            sed 's/stat:://' | tr '\n' ' ')
    echo "fuzz: $t: ok, ${seconds} s: $stats$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$out/log" | tail -1)"
  else
    echo "fuzz: $t: FAILED (log: $out/log)"
    tail -n 60 "$out/log"
    return 1
  fi
}

status=0
running=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" & pids+=($!)
  running=$((running + 1))
  if ((running >= parallel)); then
    wait -n || status=1
    running=$((running - 1))
  fi
done
while ((running > 0)); do
  wait -n || status=1
  running=$((running - 1))
done
exit $status
