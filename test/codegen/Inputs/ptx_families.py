#!/usr/bin/env python3
"""Compiles every case of the kernel-form lowering tests (test/codegen/lowering)
for the CUDA target: kiln-opt lowers it with the GPU target, rewrites it into
the GPU form and prints PTX; with --ptxas, ptxas assembles each PTX module for
sm_80 and sm_90. Fails naming each case that does not get through.

usage: ptx_families.py KILN_OPT LOWERING_DIR OUT_DIR [--ptxas PTXAS]
"""
import argparse
import os
import subprocess
import sys


# Cases the CUDA backend does not compile yet, with the reason (its error).
KNOWN = {
    "elementwise.mlir#1": "unsigned tensors are not supported by the CUDA backend yet",
    "reductions.mlir#0": "unsigned tensors are not supported by the CUDA backend yet",
    "topk.mlir#0": "'kiln.top_indices' op has no GPU form yet",
    "reduce-variants.mlir#0": "__nv_log",  # f64 logarithm: needs libdevice
}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kiln_opt")
    p.add_argument("lowering_dir")
    p.add_argument("out_dir")
    p.add_argument("--ptxas")
    args = p.parse_args()
    os.makedirs(args.out_dir, exist_ok=True)
    failures, cases = [], 0
    for name in sorted(os.listdir(args.lowering_dir)):
        if not name.endswith(".mlir"):
            continue
        text = open(os.path.join(args.lowering_dir, name)).read()
        for i, chunk in enumerate(text.split("\n// -----\n")):
            if "kiln." not in chunk or "expected-error" in chunk:
                continue
            cases += 1
            case = f"{name}#{i}"
            src = os.path.join(args.out_dir, f"{name}.{i}.mlir")
            open(src, "w").write(chunk)
            for sm in ("sm_80", "sm_90"):
                proc = subprocess.run([args.kiln_opt, src, "--kiln-lower-to-kernels=gpu=sm_80",
                                       "--kiln-gpu-form", f"--kiln-print-ptx=gpu={sm}",
                                       "-o", os.devnull], capture_output=True, text=True)
                if proc.returncode != 0:
                    if case in KNOWN and KNOWN[case] in proc.stderr:
                        print(f"known: {case}: {KNOWN[case]}")
                    else:
                        failures.append(f"{case}: {proc.stderr.strip().splitlines()[0:1]}")
                    break
                if case in KNOWN:
                    failures.append(f"{case} now compiles: remove it from KNOWN")
                if not args.ptxas:
                    continue
                path = os.path.join(args.out_dir, f"{name}.{i}.{sm}.ptx")
                open(path, "w").write(proc.stdout)
                asm = subprocess.run([args.ptxas, f"-arch={sm}", path, "-o", os.devnull],
                                     capture_output=True, text=True)
                if asm.returncode != 0:
                    failures.append(f"{case} ({sm}): {asm.stderr.strip()[:300]}")
    print(f"{cases} cases, {len(failures)} failed")
    for f in failures:
        print("  " + f)
    return 1 if failures or cases == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
