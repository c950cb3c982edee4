#!/usr/bin/env bash
# Builds Kiln's fuzz targets (test/fuzz) with clang-19, libFuzzer, ASan and
# UBSan into build-fuzz/ and runs each one on the seed corpus.
#   usage: scripts/fuzz.sh [SECONDS_PER_TARGET (default 600)] [TARGET...]
#   targets: onnx onnxtxt json tensor-file entry-point (default: all)
# New inputs libFuzzer finds are kept in build-fuzz/fuzz-corpus/TARGET and
# reused by the next run; findings (crash-*, timeout-*, oom-*) and each
# target's log go to build-fuzz/findings/. Turn each finding into a test in
# test/robustness/fuzz-findings.test.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
seconds=${1:-600}
shift || true
targets=${*:-onnx onnxtxt json tensor-file entry-point}

# clang-19 and its libFuzzer/sanitizer runtimes (Debian: libclang-rt-19-dev).
if [ ! -e /usr/lib/llvm-19/lib/clang/19/lib/linux/libclang_rt.fuzzer-x86_64.a ]; then
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    clang-19 libclang-rt-19-dev
fi
build=$root/build-fuzz
if [ ! -f "$build/build.ninja" ]; then
  CC=clang-19 CXX=clang++-19 cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_FUZZ=ON -DKILN_SANITIZE=address,undefined
fi
ninja -C "$build" -j "${KILN_BUILD_JOBS:-$(nproc)}" $(for t in $targets; do echo "kiln-fuzz-$t"; done)
sh test/fuzz/make_corpus.sh "$root" "$build/test/fuzz/corpus" \
  "$build/test/fuzz/kiln_fuzz_model-kiln/fuzzmodel.weights"

mkdir -p "$build/findings"
cd "$build/findings"
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
status=0
for t in $targets; do
  mkdir -p "$build/fuzz-corpus/$t"
  echo "fuzz: $t for $seconds s"
  if ! "$build/bin/kiln-fuzz-$t" -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 \
      -print_final_stats=1 "$build/fuzz-corpus/$t" "$build/test/fuzz/corpus/$t" > "$t.log" 2>&1; then
    status=1
    echo "fuzz: $t found something; see $build/findings/$t.log"
  fi
  grep -E "^stat::number_of_executed_units|^Done [0-9]+ runs" "$t.log" || true
done
exit $status
