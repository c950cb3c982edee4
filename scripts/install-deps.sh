#!/usr/bin/env bash
# Installs the Debian bookworm packages Kiln needs to build and test, skipping
# those already present. Run as root (or with sudo) on a fresh machine.
set -euo pipefail

packages=(
  # Build
  cmake ninja-build ccache g++ clang-19
  # Compiler infrastructure: LLVM/MLIR 19 (lit and FileCheck are in llvm-19-tools)
  llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
  # Model formats and command line
  libonnx-dev libprotobuf-dev protobuf-compiler nlohmann-json3-dev libcli11-dev
  # Tests
  catch2 pkgconf python3 python3-numpy python3-onnx python3-torch python3-torchvision
  libonnx-testdata
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The benchmark's ONNX Runtime baseline (npm onnxruntime-node) needs Node.js
# and npm; a Node.js from elsewhere (e.g. NodeSource, which bundles npm) will do.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present, and node and npm"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
