#!/usr/bin/env python3
"""A matmul with a 32768-long reduction of positive products, with expected
outputs computed in float64 (then rounded to float32).

usage: long_reduction.py OUT_DIR BOUND

Writes OUT_DIR/model.onnx and OUT_DIR/test_data_set_0/. Exits non-zero unless
summing the same products sequentially in float32 misses the float64 result
by more than 3 * BOUND (relative), so a test that checks Kiln's outputs to
BOUND shows that Kiln's summation is more precise than the naive one.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out, bound = sys.argv[1], float(sys.argv[2])
M, K, N = 4, 32768, 16
rng = np.random.default_rng(7)
a = rng.random((M, K), dtype=np.float32)
b = rng.random((K, N), dtype=np.float32)
expected = (a.astype(np.float64) @ b.astype(np.float64))

# The naive order: one float32 running sum per output, along k.
products = a[:, :, None] * b[None, :, :]  # exact enough: float32 products
naive = np.cumsum(products, axis=1, dtype=np.float32)[:, -1, :]
naive_err = np.max(np.abs(naive - expected) / expected)
if naive_err <= 3 * bound:
    sys.exit(f"long_reduction.py: naive float32 error {naive_err:.2e} is not above "
             f"3 * {bound:.0e}: the test would not tell the summations apart")

graph = helper.make_graph(
    [helper.make_node("MatMul", ["a", "b"], ["y"], name="long_matmul")], "long_reduction",
    [helper.make_tensor_value_info("a", TensorProto.FLOAT, [M, K])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [M, N])],
    [numpy_helper.from_array(b, "b")])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
onnx.save(model, os.path.join(out, "model.onnx"))
with open(os.path.join(out, "test_data_set_0", "input_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(a, "a").SerializeToString())
with open(os.path.join(out, "test_data_set_0", "output_0.pb"), "wb") as f:
    f.write(numpy_helper.from_array(expected.astype(np.float32), "y").SerializeToString())
print(f"naive float32 relative error {naive_err:.2e}")
