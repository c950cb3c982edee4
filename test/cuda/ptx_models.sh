#!/usr/bin/env bash
# Every model of models/ and the generated set compiled with --target cuda for
# sm_80 and sm_90 at fp32, and at each tensor-core precision (tf32 and bf16
# for sm_80, fp16 for sm_90); with ptxas installed (the CUDA toolkit; Kiln never needs
# it), each PTX is assembled for its architecture. Exits 77 (skipped) without
# ptxas after checking that the PTX was written.
# usage: ptx_models.sh KILN SOURCE_DIR GENERATED_MODELS_DIR WORK_DIR
set -euo pipefail
kiln=$1 src=$2 generated=$3 work=$4
ptxas=$(command -v ptxas || true)
[ -z "$ptxas" ] && [ -x /usr/local/cuda/bin/ptxas ] && ptxas=/usr/local/cuda/bin/ptxas
rm -rf "$work" && mkdir -p "$work"
failed=0 count=0
for file in "$src"/models/{mlp,cnn,attention,norms}/model.json "$generated"/*/model.onnx; do
  name=$(basename "$(dirname "$file")")
  shape=()
  [ "$name" = shufflenet_dyn ] && shape=(--input-shape input=1x3x64x64)
  for config in sm_80:fp32 sm_90:fp32 sm_80:tf32 sm_90:fp16 sm_80:bf16; do
    sm=${config%:*} precision=${config#*:}
    out=$work/$name-$sm-$precision
    if ! "$kiln" compile "$file" -o "$out" --name m --target cuda --gpu "$sm" \
         --precision "$precision" "${shape[@]}" > "$out.log" 2>&1; then
      echo "FAIL $name $sm $precision: $(cat "$out.log")"; failed=1; continue
    fi
    grep -q "^.target $sm" "$out/m.ptx" || { echo "FAIL $name $sm $precision: no .target"; failed=1; }
    if [ -n "$ptxas" ] && ! "$ptxas" -arch="$sm" "$out/m.ptx" -o /dev/null 2> "$out.ptxas"; then
      echo "FAIL $name $sm $precision: ptxas: $(head -c 400 "$out.ptxas")"; failed=1
    fi
    count=$((count + 1))
  done
done
echo "$count PTX modules$([ -n "$ptxas" ] && echo ", assembled by $ptxas")"
[ "$failed" = 0 ] || exit 1
[ -n "$ptxas" ] || { echo "no ptxas: PTX written but not assembled"; exit 77; }
