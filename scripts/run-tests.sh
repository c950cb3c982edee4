#!/usr/bin/env bash
# README command 2: install what is missing, build, and run every test
# (lit, Catch2 unit tests, end-to-end models, the CMake consumer example).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build -j "$(nproc)" --output-on-failure --timeout 1500
