#!/usr/bin/env python3
"""A Gemm whose [3,4] weight is stored as float16 and cast to float32 in the
graph; writes OUT/model.onnx and OUT/test_data_set_0 (float64 reference).

usage: half_weights.py OUT
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper, save

out = sys.argv[1]
w = (np.arange(12, dtype=np.float32).reshape(3, 4) / 8 - 0.5).astype(np.float16)
x = np.random.default_rng(5).standard_normal((2, 4)).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("Cast", ["w"], ["w32"], to=TensorProto.FLOAT),
     helper.make_node("Gemm", ["x", "w32"], ["y"], transB=1)],
    "half_weights",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    [numpy_helper.from_array(w, "w")])
os.makedirs(os.path.join(out, "test_data_set_0"), exist_ok=True)
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
     os.path.join(out, "model.onnx"))
y = x.astype(np.float64) @ w.astype(np.float64).T
for name, v, f in [("x", x, "input_0.pb"), ("y", y.astype(np.float32), "output_0.pb")]:
    with open(os.path.join(out, "test_data_set_0", f), "wb") as fh:
        fh.write(numpy_helper.from_array(v, name).SerializeToString())
