#!/bin/sh
# The whole ONNX conformance suite through the CUDA backend's GPU kernels,
# emulated on the CPU (CI runs every 5th case; see test/CMakeLists.txt).
# usage: scripts/cuda-emulated-conformance.sh [build-dir]   (about 14 minutes on 2 cores)
set -e
cd "$(dirname "$0")/.."
build=${1:-build}
exec /usr/bin/python3 test/conformance/run_conformance.py --kiln "$build/bin/kiln" --jobs "$(nproc)" \
  --cxxflags=-O1 --kiln-args "--target cuda --emulate" --out "$build/conformance-cuda-emulated.json"
