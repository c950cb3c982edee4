#!/usr/bin/env bash
# README command 1: install what is missing, build, then compile the bundled
# CNN (models/cnn) to C++, build and run it, print its outputs and time per run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

model=models/cnn/model.json
echo
echo "== kiln compile $model -o build/demo/cnn --report"
build/bin/kiln compile "$model" -o build/demo/cnn --report
ls -l build/demo/cnn
echo
echo "== kiln run $model --data models/cnn/test_data_set_0 --bench 50"
build/bin/kiln run "$model" --data models/cnn/test_data_set_0 --atol 1e-4 --bench 50 --threads "$(nproc)"
