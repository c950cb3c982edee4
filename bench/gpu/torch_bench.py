#!/usr/bin/env python3
"""PyTorch eager and torch.compile on the GPU, for the models Kiln compiled, and
torch.matmul on 4096^3 at each precision.

usage: torch_bench.py MODELS... [--batch 1] [--runs 50] [--out FILE]

Each model is rebuilt from models/generate.py (the same modules, seeds and
inputs as the ONNX files); a model the script cannot build (no torchvision, an
unknown name) is reported and skipped. Prints one JSON line per measurement.
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "models"))


def timed(fn, runs):
    import torch
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    return times[len(times) // 2]


def build(name):
    import generate
    if name == "bert_encoder":
        return generate.build_bert(4)[:2]
    if name == "gpt_decoder":
        return generate.build_gpt()[:2]
    if name in generate.REAL_MODELS:
        return generate.REAL_MODELS[name]()[:2]
    if name in generate.ALL_MODELS:
        return generate.build_cnn(name)[:2]
    raise KeyError(name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="*")
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--out", default="")
    args = ap.parse_args()
    import torch
    dev = torch.device("cuda")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    lines = []

    def emit(record):
        print(json.dumps(record), flush=True)
        lines.append(record)

    for name in args.models:
        try:
            model, x = build(name)
        except Exception as e:  # noqa: BLE001 - report and go on
            emit({"model": name, "error": f"cannot build: {e}"})
            continue
        model = model.eval().to(dev)
        if x.is_floating_point():
            x = x.repeat(args.batch, *[1] * (x.dim() - 1)) if args.batch > 1 else x
        x = x.to(dev)
        with torch.no_grad():
            eager = timed(lambda: model(x), args.runs)
            record = {"model": name, "batch": args.batch, "torch_eager_ms": eager}
            try:
                compiled = torch.compile(model)
                record["torch_compile_ms"] = timed(lambda: compiled(x), args.runs)
            except Exception as e:  # noqa: BLE001
                record["torch_compile_error"] = str(e)[:200]
        emit(record)

    n = 4096
    for precision, dtype, tf32 in (("fp32", torch.float32, False), ("tf32", torch.float32, True),
                                   ("fp16", torch.float16, False), ("bf16", torch.bfloat16, False)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        a = torch.randn(n, n, device=dev, dtype=dtype)
        b = torch.randn(n, n, device=dev, dtype=dtype)
        ms = timed(lambda: torch.matmul(a, b), 20)
        emit({"gemm": n, "precision": precision, "torch_matmul_ms": ms,
              "tflops": 2 * n ** 3 / ms / 1e9})
    if args.out:
        with open(args.out, "w") as f:
            json.dump(lines, f, indent=1)


if __name__ == "__main__":
    main()
