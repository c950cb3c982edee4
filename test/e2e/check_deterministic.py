#!/usr/bin/env python3
"""`kiln run --deterministic` gives bitwise identical outputs across thread
counts and across runs (separate processes), on the encoder and a CNN.

usage: check_deterministic.py --kiln PATH --models DIR [--models-list a,b]

For each model it runs the compiled model with 1, 2 and 3 threads and once
more with 2, saves the outputs (--save) and compares the files byte for byte.
The first run also checks the outputs against the test data, so identical
but wrong results cannot pass.
"""
import argparse
import filecmp
import os
import subprocess
import sys
import tempfile


def tolerance(name):
    """--rtol/--atol of `name` from tolerances.txt (beside this script)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "tolerances.txt")) as f:
        for line in f:
            body = line.split("#")[0].split()
            if body and body[0] == name:
                return ["--rtol", body[1], "--atol", body[2]]
    sys.exit(f"check_deterministic: tolerances.txt has no line for {name}")


def run(kiln, model, data, threads, save, cache):
    name = os.path.basename(os.path.dirname(model))
    cmd = [kiln, "run", model, "--data", data, "--threads", str(threads),
           "--deterministic", *tolerance(name), "--save", save]
    env = dict(os.environ, KILN_CACHE_DIR=cache)
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        sys.exit(f"check_deterministic: {' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", required=True)
    ap.add_argument("--models-list", default="bert_encoder,squeezenet1_1")
    args = ap.parse_args()
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        cache = os.path.join(tmp, "cache")
        for name in args.models_list.split(","):
            model = os.path.join(args.models, name, "model.onnx")
            data = os.path.join(args.models, name, "test_data_set_0")
            saved = []
            for i, threads in enumerate([1, 2, 3, 2]):
                out = os.path.join(tmp, f"{name}-{i}-t{threads}")
                run(args.kiln, model, data, threads, out, cache)
                saved.append((threads, out))
            files = sorted(f for f in os.listdir(saved[0][1]) if f.endswith(".pb"))
            if not files:
                sys.exit(f"check_deterministic: {name}: no outputs saved")
            for threads, out in saved[1:]:
                for f in files:
                    same = filecmp.cmp(os.path.join(saved[0][1], f), os.path.join(out, f),
                                       shallow=False)
                    if not same:
                        print(f"FAIL {name}: {f} with {threads} threads differs from 1 thread")
                        failures += 1
            if not failures:
                print(f"ok {name}: {len(files)} output(s) bitwise identical at 1, 2, 3 threads "
                      f"and across runs")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
