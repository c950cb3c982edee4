#!/usr/bin/env bash
# The CUDA backend on a GPU, in two phases (the GPU machine has no package
# registry and no LLVM/MLIR, so kiln runs here and only C++ is built there):
#
#   bench/gpu/run.sh prepare [MODELS_DIR]   # here: kiln compile --target cuda
#                                           # into bench/gpu/bundle (<= 60 MiB)
#   bench/gpu/run.sh device                 # there: build, check, time, compare
#
# `device` needs a C++ compiler and the NVIDIA driver; it builds the runtime
# and each model's host code, checks every model against its expected output,
# runs compute-sanitizer --tool memcheck where installed, times each model
# (host pointers in and out) and a 4096^3 GEMM at each precision, and, where python3 has
# torch, times PyTorch eager and torch.compile at batch 1 and 8 and
# torch.matmul at each precision. Results: bench/gpu/bundle/results/.
# With the device tool: carry bench/gpu/bundle, command `bash bench/gpu/run.sh device`.
set -euo pipefail
cd "$(dirname "$0")/../.."
bundle=bench/gpu/bundle
gpu=${KILN_GPU:-sm_90}

# The .pb tensors of directory $1 as raw files in $2 (what the harness reads).
raw() {
  /usr/bin/python3 - "$1" "$2" <<'PY'
import os, sys
import onnx
from onnx import numpy_helper
src, dst = sys.argv[1], sys.argv[2]
os.makedirs(dst, exist_ok=True)
for f in sorted(os.listdir(src)):
    if f.endswith(".pb"):
        numpy_helper.to_array(onnx.load_tensor(os.path.join(src, f))).tofile(
            os.path.join(dst, f[:-3] + ".raw"))
PY
}

prepare() {
  local models=${1:-build/models} kiln=${KILN:-build/bin/kiln} budget=$((50 << 20)) used=0
  rm -rf "$bundle" && mkdir -p "$bundle"
  # In order of priority; a model that would push the bundle over the budget
  # is skipped (and listed).
  local list="models/mlp models/cnn models/attention models/norms"
  for m in mobilenet_v3_small squeezenet1_1 mobilenet_v2 bert_encoder gpt_decoder vit_cls \
           swin_tiny seg_head encoder_shared decoder_tied lstm gru_bidir shufflenet_dyn resnet18; do
    list="$list $models/$m"
  done
  : > "$bundle/models.txt"
  for dir in $list; do
    local name; name=$(basename "$dir")
    local file=$dir/model.onnx; [ -f "$file" ] || file=$dir/model.json
    local out=$bundle/$name
    local shape=()
    [ "$name" = shufflenet_dyn ] && shape=(--input-shape input=1x3x64x64)
    "$kiln" compile "$file" -o "$out" --name "$name" --target cuda --gpu "$gpu" --report "${shape[@]}" >/dev/null
    raw "$dir/test_data_set_0" "$out/data"
    local size; size=$(du -sb "$out" | cut -f1)
    if [ $((used + size)) -gt $budget ]; then
      echo "skipped $name ($((size >> 20)) MiB would exceed the bundle budget)" | tee -a "$bundle/skipped.txt"
      rm -rf "$out"
      continue
    fi
    used=$((used + size))
    echo "$name 1" >> "$bundle/models.txt"
  done
  # Tensor cores: small models at each precision against the float32
  # reference (kiln run's tolerance scales), and tc_layout, whose expected
  # outputs come from the emulation (the same rounding): a fragment-layout or
  # staging bug shows there as an O(1) error under a float32 tolerance.
  /usr/bin/python3 - "$bundle/tc_layout.onnx" "$bundle/tc_layout_data" <<'PY'
import os, sys
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
rng = np.random.default_rng(3)
init = lambda name, a: numpy_helper.from_array(np.asarray(a), name)
# Sizes off the 64 x 64 tiles and 16-deep stages: every edge is exercised.
g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["m"]),
                       helper.make_node("Reshape", ["m", "shape"], ["m2"]),
                       helper.make_node("Gemm", ["m2", "w2"], ["y"], transB=1)], "tc_layout",
                      [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 100, 72])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [300, 40])],
                      [init("w", rng.standard_normal((72, 136)).astype(np.float32)),
                       init("shape", np.array([300, 136], np.int64)),
                       init("w2", rng.standard_normal((40, 136)).astype(np.float32))])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
os.makedirs(sys.argv[2], exist_ok=True)
with open(os.path.join(sys.argv[2], "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(rng.standard_normal((3, 100, 72)).astype(np.float32), "x").SerializeToString())
PY
  for precision in tf32 fp16 bf16; do
    local scale=10; [ $precision = bf16 ] && scale=50
    for m in models/mlp models/cnn $models/vit_cls; do
      local name; name=$(basename "$m")_$precision
      local file=$m/model.onnx; [ -f "$file" ] || file=$m/model.json
      "$kiln" compile "$file" -o "$bundle/$name" --name "$name" --target cuda --gpu "$gpu" \
        --precision $precision --report >/dev/null
      raw "$m/test_data_set_0" "$bundle/$name/data"
      echo "$name $scale" >> "$bundle/models.txt"
    done
    local name=tc_layout_$precision
    "$kiln" compile "$bundle/tc_layout.onnx" -o "$bundle/$name" --name "$name" --target cuda \
      --gpu "$gpu" --precision $precision --report >/dev/null
    rm -rf "$bundle/$name.expected" && mkdir -p "$bundle/$name.expected"
    cp "$bundle/tc_layout_data/input_0.pb" "$bundle/$name.expected/"
    "$kiln" run "$bundle/tc_layout.onnx" --data "$bundle/tc_layout_data" --target cuda \
      --precision $precision --emulate --save "$bundle/$name.expected" >/dev/null
    raw "$bundle/$name.expected" "$bundle/$name/data"
    echo "$name 1" >> "$bundle/models.txt"
  done
  # A 4096^3 GEMM with both operands as inputs (random on the device).
  /usr/bin/python3 - "$bundle/gemm4096.onnx" <<'PY'
import sys
import onnx
from onnx import TensorProto, helper
n = 4096
g = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["y"])], "gemm4096",
                      [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n]),
                       helper.make_tensor_value_info("b", TensorProto.FLOAT, [n, n])],
                      [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, n])])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), sys.argv[1])
PY
  for precision in fp32 tf32 fp16 bf16; do
    local name=gemm4096_$precision
    "$kiln" compile "$bundle/gemm4096.onnx" -o "$bundle/$name" --name "$name" --target cuda \
      --gpu "$gpu" --precision $precision --report >/dev/null
    mkdir -p "$bundle/$name/data"
    echo "$name 1" >> "$bundle/gemms.txt"
  done
  echo "bundle: $(du -sh "$bundle" | cut -f1) in $bundle ($(wc -l < "$bundle/models.txt") models)"
}

device() {
  [ -d "$bundle" ] || { echo "no $bundle: run 'bench/gpu/run.sh prepare' first (where kiln is built)"; exit 2; }
  local cxx=${CXX:-c++} results=$bundle/results lib=$bundle/libkiln_runtime.a
  mkdir -p "$results" "$bundle/obj"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$results/gpu.txt" 2>&1 || true
  cat "$results/gpu.txt"
  for src in runtime/src/*.cpp; do
    "$cxx" -std=c++17 -O2 -fPIC -Iruntime/include -c "$src" -o "$bundle/obj/$(basename "$src" .cpp).o"
  done
  ar rcs "$lib" "$bundle"/obj/*.o
  "$cxx" -std=c++17 -O2 -Iruntime/include bench/gpu/harness.cpp -ldl -o "$bundle/harness"
  : > "$results/kiln.jsonl"
  local status=0
  while read -r name scale; do
    local out=$bundle/$name
    "$cxx" -std=c++17 -O2 -fPIC -shared -I"$out" -Iruntime/include "$out/$name.cpp" "$lib" \
      -ldl -lpthread -o "$out/$name.so"
    "$bundle/harness" "$out/$name.so" "$name" "$out/data" 50 "$scale" | tee -a "$results/kiln.jsonl" || status=1
    if command -v compute-sanitizer >/dev/null && [[ "$name" != gemm4096* ]]; then
      compute-sanitizer --tool memcheck --error-exitcode 3 "$bundle/harness" "$out/$name.so" "$name" "$out/data" 1 "$scale" \
        > "$results/memcheck-$name.txt" 2>&1 && echo "memcheck $name: clean" || { echo "memcheck $name: ERRORS (see $results/memcheck-$name.txt)"; status=1; }
    fi
  done < <(cat "$bundle/models.txt" "$bundle/gemms.txt")
  if python3 -c "import torch; assert torch.cuda.is_available()" 2>/dev/null; then
    local names; names=$(cut -d' ' -f1 "$bundle/models.txt" | grep -v -E '^(mlp|cnn|attention|norms|tc_layout)|_(tf32|fp16|bf16)$' | tr '\n' ' ')
    python3 bench/gpu/torch_bench.py $names --batch 1 --out "$results/torch-b1.json" || true
    python3 bench/gpu/torch_bench.py $names --batch 8 --out "$results/torch-b8.json" || true
  else
    echo "no torch with CUDA on this machine: PyTorch comparison skipped" | tee "$results/torch-skipped.txt"
  fi
  echo "results in $results"
  return $status
}

case "${1:-}" in
  prepare) shift; prepare "$@" ;;
  device) device ;;
  *) echo "usage: bench/gpu/run.sh prepare [MODELS_DIR] | device"; exit 2 ;;
esac
