"""Writes a model whose values have zero-sized dimensions, with test data.

Empty tensors are legal ONNX: elementwise ops (fused by Kiln) on [0, 3],
Concat of an empty tensor, ReduceSum over an empty axis (zeros) and MatMul of
an empty batch. Usage: empty_tensors.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto as T
from onnx import helper as h
from onnx import numpy_helper as nh

out = sys.argv[1]
data = os.path.join(out, "test_data_set_0")
os.makedirs(data, exist_ok=True)
nodes = [
    h.make_node("Add", ["X", "Y"], ["A"]),
    h.make_node("Relu", ["A"], ["R"]),
    h.make_node("Concat", ["R", "Z"], ["C"], axis=0),
    h.make_node("ReduceSum", ["X"], ["S"], axes=[0], keepdims=0),
    h.make_node("Exp", ["C"], ["E"]),
    h.make_node("MatMul", ["X", "W"], ["M"]),
]
inputs = [("X", [0, 3]), ("Y", [0, 3]), ("Z", [2, 3]), ("W", [3, 4])]
outputs = [("R", [0, 3]), ("E", [2, 3]), ("S", [3]), ("M", [0, 4])]
graph = h.make_graph(nodes, "empty_tensors",
                     [h.make_tensor_value_info(n, T.FLOAT, s) for n, s in inputs],
                     [h.make_tensor_value_info(n, T.FLOAT, s) for n, s in outputs])
model = h.make_model(graph, opset_imports=[h.make_opsetid("", 12)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "model.onnx"))

x = np.zeros((0, 3), np.float32)
z = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
w = np.ones((3, 4), np.float32)
for i, a in enumerate([x, x, z, w]):
    onnx.save_tensor(nh.from_array(a), os.path.join(data, f"input_{i}.pb"))
expected = [np.maximum(x + x, 0), np.exp(np.concatenate([np.maximum(x + x, 0), z])),
            x.sum(0), x @ w]
for i, a in enumerate(expected):
    onnx.save_tensor(nh.from_array(a.astype(np.float32)), os.path.join(data, f"output_{i}.pb"))
