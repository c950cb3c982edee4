#!/bin/sh
# Seeds for the fuzz targets (test/fuzz), one directory per target:
#   onnx         models generated into the build's models/, the ONNX suite's
#   onnxtxt      the tests' .onnxtxt files
#   json         models/*.json and the tests' JSON models, weights_file
#                renamed to the fuzz home's weights.bin
#   tensor-file  test data .pb files, after the byte that selects tensor (0),
#                sequence (1) or optional (2)
#   entry-point  a few calls of each kind
# usage: make_corpus.sh SOURCE_DIR OUT_DIR [WEIGHTS_FILE of the entry-point model]
set -eu
src=$1
out=$2
weights=${3:-}
suite=/usr/share/libonnx-testdata/data
rm -rf "$out"
for t in onnx onnxtxt json tensor-file entry-point; do mkdir -p "$out/$t"; done

n=0
seed() { # TARGET FILE
  n=$((n + 1))
  cp "$1" "$out/$2/$n"
}

for f in $(find "$src/models" "$src/test" -name '*.onnxtxt' | sort); do seed "$f" onnxtxt; done
for f in $(find "$src/models" "$src/test" -name '*.json' | sort); do
  n=$((n + 1))
  sed 's/"weights_file": *"[^"]*"/"weights_file": "weights.bin"/' "$f" > "$out/json/$n"
done
for f in $(find "$src/build/models" -name '*.onnx' 2>/dev/null | sort); do seed "$f" onnx; done
if [ -d "$suite" ]; then
  # Every model of the node suite (small: an op or two each).
  for f in $(find "$suite/node" -name model.onnx | sort); do seed "$f" onnx; done
  for f in $(find "$suite/node" -name '*.pb' -path '*test_data_set_0*' | sort | awk 'NR % 8 == 0'); do
    kind=0
    case $f in *sequence*) kind=1 ;; *optional*) kind=2 ;; esac
    n=$((n + 1))
    { printf "\\$(printf '%03o' $kind)"; cat "$f"; } > "$out/tensor-file/$n"
  done
fi
for f in $(find "$src/models" -name '*.pb' | sort); do
  n=$((n + 1))
  { printf '\000'; cat "$f"; } > "$out/tensor-file/$n"
done

# Entry points: a valid typed call, a view call with one int64[3] input and a
# float[3,2] output, the same through the C ABI, and a weights image.
printf '\003\000\000\000\000\000\000\000\001\000\000\000\000\000\000\000\002\000\000\000\000\000\000\000' \
  > "$out/entry-point/typed"
printf '\001\001\001\001\002\003\001\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\003\003\002\001\000' \
  > "$out/entry-point/views"
printf '\002\001\001\001\002\003\001\001\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\001\003\003\002\001\000' \
  > "$out/entry-point/abi"
if [ -n "$weights" ]; then
  { printf '\000\001'; cat "$weights"; } > "$out/entry-point/weights"
fi
for t in onnx onnxtxt json tensor-file entry-point; do
  echo "$t: $(ls "$out/$t" | wc -l) seeds"
done
