#!/usr/bin/python3
"""Check the compile-report figures the graph passes promise (issue 4).

Usage: check_report_figures.py --kiln BIN --models DIR --json-models DIR

Compiles every model with `kiln compile --report` and checks:
  * every CNN: layout_conversions <= 2 (the model input and output);
  * every model: arena_bytes within 10% of the liveness bound
    arena_live_bound_bytes, kernels <= ops_imported, and no fallback_kernels
    (every contraction on the micro-kernel or a tiled kernel);
  * bert_encoder (4 layers) and bert_encoder_8l: sdpa_matched equals the
    layer count and unique_kernels is the same for both;
  * gpt_decoder: sdpa_matched == 6;
  * resnet18: fewer kernel functions than kernel calls (repeated blocks
    share theirs), and at most half as many with fusion off, when the
    repeated relu and add kernels are separate.
Prints one line per model with the figures, and exits 1 on any failure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

CNNS = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1", "cnn"]
# Models exported with a dynamic batch, and the shape they are compiled for.
PINNED = {"shufflenet_dyn": ["--input-shape", "input=1x3x64x64"]}


def report(kiln, model, workdir, extra=()):
    out = os.path.join(workdir, os.path.basename(os.path.dirname(model)) +
                       "".join(e for e in extra if e.startswith("--disable")))
    proc = subprocess.run([kiln, "compile", model, "-o", out, "--report", *extra],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"kiln compile {model} failed:\n{proc.stderr}")
    files = [f for f in os.listdir(out) if f.endswith(".report.json")]
    with open(os.path.join(out, files[0])) as f:
        return json.load(f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kiln", required=True)
    ap.add_argument("--models", required=True, help="generated ONNX models")
    ap.add_argument("--json-models", required=True, help="models/ in the source tree")
    args = ap.parse_args()

    paths = {}
    for name in sorted(os.listdir(args.models)):
        p = os.path.join(args.models, name, "model.onnx")
        if os.path.exists(p):
            paths[name] = p
    for name in sorted(os.listdir(args.json_models)):
        p = os.path.join(args.json_models, name, "model.json")
        if os.path.exists(p):
            paths[name] = p
    for needed in ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1",
                   "bert_encoder", "bert_encoder_8l", "gpt_decoder"]:
        if needed not in paths:
            sys.exit(f"model {needed} is missing from {args.models}")

    failures = []

    def expect(ok, what):
        if not ok:
            failures.append(what)

    reports = {}
    with tempfile.TemporaryDirectory() as work:
        for name, path in paths.items():
            r = reports[name] = report(args.kiln, path, work, tuple(PINNED.get(name, ())))
            print(f"{name}: ops_imported {r['ops_imported']} kernels {r['kernels']} "
                  f"unique_kernels {r['unique_kernels']} sdpa_matched {r['sdpa_matched']} "
                  f"layout_conversions {r['layout_conversions']} arena_bytes {r['arena_bytes']} "
                  f"bound {r['arena_live_bound_bytes']}")
            expect(r["arena_bytes"] <= 1.1 * r["arena_live_bound_bytes"],
                   f"{name}: arena_bytes {r['arena_bytes']} is more than 10% above the "
                   f"liveness bound {r['arena_live_bound_bytes']}")
            expect(r["kernels"] <= r["ops_imported"],
                   f"{name}: {r['kernels']} kernels for {r['ops_imported']} imported ops")
            for f in r["fallback_kernels"]:
                expect(False, f"{name}: fallback kernel {f['op']} for {f['nodes']}: {f['reason']}")
            if name in CNNS:
                expect(r["layout_conversions"] <= 2,
                       f"{name}: layout_conversions {r['layout_conversions']} > 2")
        unfused = report(args.kiln, paths["resnet18"], work, ("--disable=fusion",))

    bert4, bert8 = reports["bert_encoder"], reports["bert_encoder_8l"]
    expect(bert4["sdpa_matched"] == 4, f"bert_encoder: sdpa_matched {bert4['sdpa_matched']} != 4")
    expect(bert8["sdpa_matched"] == 8, f"bert_encoder_8l: sdpa_matched {bert8['sdpa_matched']} != 8")
    expect(bert4["unique_kernels"] == bert8["unique_kernels"],
           f"unique_kernels grows with depth: {bert4['unique_kernels']} at 4 layers, "
           f"{bert8['unique_kernels']} at 8")
    expect(reports["gpt_decoder"]["sdpa_matched"] == 6,
           f"gpt_decoder: sdpa_matched {reports['gpt_decoder']['sdpa_matched']} != 6")
    resnet = reports["resnet18"]
    expect(resnet["unique_kernels"] < resnet["kernels"],
           f"resnet18: {resnet['unique_kernels']} kernel functions for "
           f"{resnet['kernels']} calls")
    print(f"resnet18 without fusion: kernels {unfused['kernels']} "
          f"unique_kernels {unfused['unique_kernels']}")
    expect(2 * unfused["unique_kernels"] <= unfused["kernels"],
           f"resnet18 without fusion: {unfused['unique_kernels']} kernel functions for "
           f"{unfused['kernels']} calls")

    for f in failures:
        print("FAIL: " + f)
    print(f"{len(reports)} models, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
