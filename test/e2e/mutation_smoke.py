#!/usr/bin/python3
"""Mutation smoke test: injects known faults into generated code and checks
that the end-to-end comparison catches each one.

For every fault it compiles and builds the model with `kiln run` into a
private cache, edits the cached C++ (a regular-expression substitution that
must apply), rebuilds it with the cache entry's build-command.sh, and runs
`kiln run` again on the same data with the model's e2e tolerance from
test/e2e/tolerances.txt. A fault is caught when that run reports a mismatch
(exit 1) or fails (exit 2); it is missed when the outputs still match.

  test/e2e/mutation_smoke.py --kiln build/bin/kiln --models build/models

Prints a table (fault, model, what changed, result) and exits 1 if a fault
was missed or a substitution no longer applies to the generated code.
"""

import argparse
import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# (fault, model, what the edit does, pattern, replacement)
FAULTS = [
    ("dropped mask", "gpt_decoder",
     "the attention kernel ignores the causal mask",
     r"= (r3\[[^\]]+\]) \? ", r"= (false && \1) ? "),
    ("wrong epsilon", "gpt_decoder",
     "layer norm epsilon 1e-5 becomes 1e-3",
     r"\+ 9\.99999974737875\d*e-06\)", "+ 1e-3)"),
    ("off-by-one tail", "cnn",
     "the last row of a contraction's tail tile is not stored",
     r"(i\d+) < std::min<int64_t>\((\d+) - (v\d+), (\d+)\); \+\+\1\)",
     r"\1 < std::min<int64_t>(\2 - \3 - 1, \4); ++\1)"),
    ("wrong padding", "cnn",
     "a 3x3 convolution reads its rows with pad 0 in place of 1",
     r"(const int64_t v\d+ = v\d+ \+ i\d+) - 1;", r"\1 - 0;"),
    ("summation order", "norms",
     "layer norm variance as E[x^2] - E[x]^2 in float, not sum((x - mean)^2) in double",
     r"const double v(\d+) = static_cast<double>\(in0\[v0 \+ \(i1 \+ i2\)\]\) - v(\d+);\n"
     r"(\s*)t1\[i2\] = t1\[i2\] \+ v\1 \* v\1;",
     r"const float v\1 = in0[v0 + (i1 + i2)];\n\3t1[i2] = float(t1[i2]) + v\1 * v\1 - "
     r"float(v\2 * v\2);"),
]


def model_paths(models, name):
    for base in (models, os.path.join(ROOT, "models")):
        for fname in ("model.onnx", "model.json"):
            path = os.path.join(base, name, fname)
            if os.path.exists(path):
                return path, os.path.join(base, name, "test_data_set_0")
    sys.exit(f"mutation_smoke: no model '{name}' under {models} or models/")


def tolerances():
    table = {}
    with open(os.path.join(HERE, "tolerances.txt")) as f:
        for line in f:
            body = line.split("#")[0].split()
            if body:
                table[body[0]] = (body[1], body[2])
    return table


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kiln", required=True)
    parser.add_argument("--models", required=True, help="generated models (models/generate.py)")
    args = parser.parse_args()
    tol = tolerances()
    rows, bad = [], 0
    for fault, name, what, pattern, replacement in FAULTS:
        model, data = model_paths(args.models, name)
        rtol, atol = tol[name]
        with tempfile.TemporaryDirectory(prefix="kiln-mutation-") as cache:
            env = dict(os.environ, KILN_CACHE_DIR=cache)
            cmd = [args.kiln, "run", model, "--data", data, "--rtol", rtol, "--atol", atol,
                   "--threads", "2", "--json"]
            first = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if first.returncode != 0:
                rows.append((fault, name, what, "ERROR: the unmodified model does not pass"))
                bad += 1
                continue
            sources = glob.glob(os.path.join(cache, "*", "*.cpp"))
            text = open(sources[0]).read()
            mutated, count = re.subn(pattern, replacement, text)
            if count == 0:
                rows.append((fault, name, what, "ERROR: the edit no longer applies"))
                bad += 1
                continue
            with open(sources[0], "w") as f:
                f.write(mutated)
            build = os.path.join(os.path.dirname(sources[0]), "build-command.sh")
            if subprocess.run(["bash", build], capture_output=True).returncode != 0:
                rows.append((fault, name, what, "ERROR: the edited source does not build"))
                bad += 1
                continue
            second = subprocess.run(cmd, capture_output=True, text=True, env=env)
            if second.returncode == 1:
                result = "caught (mismatch)"
            elif second.returncode == 0:
                result = "MISSED"
                bad += 1
            else:
                result = "caught (run failed)"
            rows.append((fault, name, f"{what} ({count} place{'s' if count > 1 else ''})",
                         result))
    print("| fault | model | what the edit does | result |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
