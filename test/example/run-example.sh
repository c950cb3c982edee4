#!/usr/bin/env bash
# Builds examples/cnn-classifier against this Kiln build tree (as a user's
# project would, through find_package(Kiln) and kiln_add_model), then checks
# its output against the model's expected output.
set -euo pipefail
src=$1 kiln_build=$2 work=$3
mkdir -p "$work"
cmake -G Ninja -S "$src/examples/cnn-classifier" -B "$work/build" \
  -DKiln_DIR="$kiln_build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build"
/usr/bin/python3 - "$src/models/cnn/test_data_set_0" "$work" <<'PY'
import sys
import onnx
from onnx import numpy_helper
data, work = sys.argv[1], sys.argv[2]
for kind in ("input", "output"):
    t = onnx.load_tensor(f"{data}/{kind}_0.pb")
    numpy_helper.to_array(t).astype("<f4").tofile(f"{work}/{kind}_0.raw")
PY
"$work/build/cnn_classifier" "$work/input_0.raw" "$work/output_0.raw"
"$work/build/cnn_classifier_c" "$work/input_0.raw" "$work/output_0.raw"
# The CUDA build: checked against the expected output where a GPU is present,
# otherwise it must fail with a clear error (not crash).
if out=$("$work/build/cnn_classifier_cuda" "$work/input_0.raw" "$work/output_0.raw" 2>&1); then
  echo "cnn_classifier_cuda: ran on the GPU: $out"
else
  rc=$?
  echo "cnn_classifier_cuda (exit $rc): $out"
  [ "$rc" -eq 1 ] && echo "$out" | grep -Eq "no CUDA driver|no usable GPU|no CUDA device"
fi
