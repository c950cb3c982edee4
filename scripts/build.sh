#!/usr/bin/env bash
# Configures (once) and builds Kiln into build/ with Ninja and ccache.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -S . -B build -DCMAKE_BUILD_TYPE=Release
fi
# MLIR translation units need ~1.5 GiB each; two jobs fit the 2-core machine.
ninja -C build -j "${KILN_BUILD_JOBS:-$(nproc)}"
