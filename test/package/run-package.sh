#!/usr/bin/env bash
# Kiln as a user installs it: `cmake --install` to a prefix that is then
# moved (the package must be relocatable), the example project built against
# it with find_package(Kiln 0.1) in a Debug build (the generated model must
# still be optimised), from C++ and from C, pkg-config for builds without
# CMake, two models in one kiln_add_model target, and the .deb from cpack.
set -euo pipefail
src=$1 build=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
version=$(sed -n 's/^project(Kiln VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")
fail() { echo "package test: $*" >&2; exit 1; }

echo "== install, then move the prefix"
cmake --install "$build" --prefix "$work/staged" >/dev/null
mv "$work/staged" "$work/prefix"
p=$work/prefix
for f in bin/kiln bin/kiln-opt lib/libkiln_runtime.a include/kiln/runtime/Abi.h \
         lib/cmake/Kiln/KilnConfig.cmake lib/cmake/Kiln/KilnConfigVersion.cmake \
         lib/cmake/Kiln/KilnModel.cmake lib/pkgconfig/kiln-runtime.pc; do
  [ -e "$p/$f" ] || fail "missing $f"
done
if grep -rlF "$work/staged" "$p"; then fail "files above name the prefix before the move"; fi
"$p/bin/kiln" --version | grep -qx "kiln $version" || fail "kiln --version is not $version"
"$p/bin/kiln-opt" --version | grep -q "^kiln-opt $version " || fail "kiln-opt --version is not $version"

echo "== the example against the moved prefix (Debug build)"
cmake -G Ninja -S "$src/examples/cnn-classifier" -B "$work/example" -DCMAKE_PREFIX_PATH="$p" \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
cmake --build "$work/example" --target cnn_classifier cnn_classifier_c
/usr/bin/python3 - "$work/example/compile_commands.json" <<'PY'
import json, re, sys
for entry in json.load(open(sys.argv[1])):
    if entry["file"].endswith("cnn_model-kiln/cnn.cpp"):
        levels = re.findall(r"(?:^| )-O([0-3sg]?)(?= |$)", entry["command"])
        assert levels and levels[-1] == "3", f"generated model not built -O3: {entry['command']}"
        print("generated model compiled with", " ".join("-O" + l for l in levels), "(last wins)")
        break
else:
    sys.exit("no compile command for the generated model")
PY
/usr/bin/python3 - "$src/models/cnn/test_data_set_0" "$work" <<'PY'
import sys
import onnx
from onnx import numpy_helper
data, work = sys.argv[1], sys.argv[2]
for kind in ("input", "output"):
    t = onnx.load_tensor(f"{data}/{kind}_0.pb")
    numpy_helper.to_array(t).astype("<f4").tofile(f"{work}/{kind}_0.raw")
PY
"$work/example/cnn_classifier" "$work/input_0.raw" "$work/output_0.raw" | tail -1
"$work/example/cnn_classifier_c" "$work/input_0.raw" "$work/output_0.raw" | grep -E "refused|matches"

echo "== find_package(Kiln 0.2) must not accept $version"
mkdir -p "$work/wrong-version"
cat > "$work/wrong-version/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.20)
project(wrong_version LANGUAGES CXX)
find_package(Kiln 0.2 REQUIRED)
CM
if cmake -S "$work/wrong-version" -B "$work/wrong-version/build" -DCMAKE_PREFIX_PATH="$p" \
     >"$work/wrong-version.log" 2>&1; then
  fail "find_package(Kiln 0.2) accepted version $version"
fi
grep -q "version: $version" "$work/wrong-version.log" || fail "no version in: $(cat "$work/wrong-version.log")"

echo "== pkg-config, without CMake: C program, generated C++, embedded weights"
"$p/bin/kiln" compile "$src/models/cnn/model.json" -o "$work/pc" --embed-weights >/dev/null
cflags=$(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --cflags kiln-runtime)
libs=$(PKG_CONFIG_PATH="$p/lib/pkgconfig" pkg-config --libs kiln-runtime)
cc -std=c11 -Wall -Wextra -pedantic -Werror -I"$work/pc" $cflags -c "$src/examples/cnn-classifier/main.c" \
  -o "$work/pc/main.o"
c++ -std=c++17 -O2 -march=native -I"$work/pc" $cflags "$work/pc/cnn.cpp" "$work/pc/cnn.weights.S" "$work/pc/main.o" \
  $libs -o "$work/pc/classifier"
"$work/pc/classifier" "$work/input_0.raw" "$work/output_0.raw" | tail -1

echo "== two models in one kiln_add_model target"
mkdir -p "$work/two"
cat > "$work/two/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.20)
project(two_models LANGUAGES C CXX)
find_package(Kiln 0.1 REQUIRED)
kiln_add_model(models MODEL "$src/models/cnn/model.json" NAME cnn CPU x86-64-v3)
kiln_add_model(models MODEL "$src/models/mlp/model.json" NAME mlp CPU generic)
add_executable(two main.cpp)
target_link_libraries(two PRIVATE models)
CM
cat > "$work/two/main.cpp" <<'CPP'
#include "cnn.h"
#include "mlp.h"
#include <cstdio>
int main() {
  std::unique_ptr<cnn::Model> a;
  std::unique_ptr<mlp::Model> b;
  kiln::Status s = cnn::Model::createEmbedded(1, a);
  kiln::Status t = mlp::Model::createEmbedded(1, b);
  std::printf("cnn: %s, mlp: %s\n", s.ok() ? "ok" : s.message().c_str(),
              t.ok() ? "ok" : t.message().c_str());
  return s.ok() && t.ok() ? 0 : 1;
}
CPP
cmake -G Ninja -S "$work/two" -B "$work/two/build" -DCMAKE_PREFIX_PATH="$p" >/dev/null
cmake --build "$work/two/build" >/dev/null
"$work/two/build/two"

echo "== the .deb from cpack"
(cd "$work" && cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/deb" >/dev/null)
deb=$(ls "$work"/deb/kiln_"$version"_*.deb)
dpkg-deb -f "$deb" Package Version Depends
# Its dependencies resolve with apt (a simulation: nothing is installed).
if apt-get install -s "$deb" >"$work/apt.log" 2>&1; then
  grep -E "^Inst kiln" "$work/apt.log"
else
  fail "apt cannot install $deb: $(tail -5 "$work/apt.log")"
fi
# Its contents work from where they are unpacked.
dpkg-deb -x "$deb" "$work/deb/root"
"$work/deb/root/usr/bin/kiln" --version | grep -qx "kiln $version" || fail "kiln from the .deb"
[ -f "$work/deb/root/usr/lib/cmake/Kiln/KilnConfig.cmake" ] || fail "no KilnConfig.cmake in the .deb"
echo "package test: all passed"
