#!/usr/bin/env python3
"""The generated C++ of every model compiles without a warning.

For each DIR/<name>/model.onnx under --models (and each model.json under
--json-models), runs `kiln compile` and then the C++ compiler with -Wall
-Wextra -Wpedantic -Werror -fsyntax-only on the source. Models with a dynamic
dimension are compiled for the shape of their test data. Exits 1 naming every
model whose source warns.
"""
import argparse
import os
import subprocess
import sys
import tempfile


# Dynamic-batch models: their pinned input shape (as check_report_figures.py).
PINNED = {"shufflenet_dyn": ["--input-shape", "input=1x3x64x64"]}


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--kiln", required=True)
    p.add_argument("--models", required=True)
    p.add_argument("--json-models")
    p.add_argument("--runtime-include", required=True)
    p.add_argument("--cxx", default=os.environ.get("CXX") or "c++")
    args = p.parse_args()
    models = []
    for root, pattern in ((args.models, "model.onnx"), (args.json_models, "model.json")):
        if not root:
            continue
        for name in sorted(os.listdir(root)):
            path = os.path.join(root, name, pattern)
            if os.path.isfile(path):
                models.append((name, path))
    failed = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in models:
            out = os.path.join(tmp, name)
            cmd = [args.kiln, "compile", path, "-o", out, "--name", name] + PINNED.get(name, [])
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode != 0:
                failed.append(name)
                print(f"{name}: kiln compile failed:\n{r.stderr}", file=sys.stderr)
                continue
            cxx = [args.cxx, "-std=c++17", "-march=native", "-Wall", "-Wextra", "-Wpedantic",
                   "-Werror", "-fsyntax-only", "-I" + args.runtime_include, "-I" + out,
                   os.path.join(out, name + ".cpp")]
            r = subprocess.run(cxx, capture_output=True, text=True)
            status = "ok" if r.returncode == 0 else "WARNS"
            print(f"{name}: {status}")
            if r.returncode != 0:
                failed.append(name)
                print(r.stderr[:4000], file=sys.stderr)
    if failed:
        print("generated C++ with warnings: " + ", ".join(failed), file=sys.stderr)
        return 1
    print(f"{len(models)} models compile warning-free")
    return 0


if __name__ == "__main__":
    sys.exit(main())
