#!/usr/bin/env bash
# Builds Kiln, its runtime and its tests with AddressSanitizer and
# UndefinedBehaviorSanitizer (-DKILN_SANITIZE=address,undefined) into
# build-sanitize/, and runs the unit, lit, e2e and fuzz tests and a sample of
# the ONNX conformance suite with the code `kiln run` generates built the same
# way (KILN_CXXFLAGS). Any report is fatal. Not part of .ci/run: the build
# alone takes longer than CI's budget on two cores.
#   usage: scripts/sanitize.sh [CONFORMANCE_SAMPLE (every Nth case, default 8)]
set -euo pipefail
cd "$(dirname "$0")/.."
sample=${1:-8}
build=$PWD/build-sanitize
if [ ! -f "$build/build.ninja" ]; then
  cmake -G Ninja -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_SANITIZE=address,undefined
fi
ninja -C "$build" -j "${KILN_BUILD_JOBS:-$(nproc)}"

export KILN_CXXFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all"
# Kiln's process loads the generated code; leaks of the MLIR/ONNX libraries'
# global state at exit are not findings.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure --timeout 3000 -L "unit|lit|e2e|fuzz"
/usr/bin/python3 test/conformance/run_conformance.py --kiln "$build/bin/kiln" \
  --jobs "$(nproc)" --sample "$sample" --timeout 600 --out "$build/conformance.json"
