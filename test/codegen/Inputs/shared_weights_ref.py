#!/usr/bin/env python3
"""Inputs and float64 reference outputs of shared-weights.onnxtxt.

usage: shared_weights_ref.py OUT_DIR   (writes input_<i>.pb and output_<i>.pb)
"""
import os
import sys

import numpy as np
from onnx import numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
w = np.array([(i % 7 - 3) * 0.125 for i in range(512)], dtype=np.float64).reshape(32, 16)
ids = np.array([[3, 0, 31, 7]], dtype=np.int64)
x = np.random.default_rng(3).standard_normal((4, 16)).astype(np.float32)
y = x.astype(np.float64) @ w.T
outputs = [y, w[ids], y]
for i, (name, v) in enumerate([("ids", ids), ("x", x)]):
    with open(os.path.join(out, f"input_{i}.pb"), "wb") as f:
        f.write(numpy_helper.from_array(v, name).SerializeToString())
for i, (name, v) in enumerate(zip(["y", "emb", "z"], outputs)):
    with open(os.path.join(out, f"output_{i}.pb"), "wb") as f:
        f.write(numpy_helper.from_array(v.astype(np.float32), name).SerializeToString())
