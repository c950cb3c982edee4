#!/usr/bin/env python3
"""Writes models with a name that is not UTF-8 (ONNX requires UTF-8; proto2
does not check it) in each place a name can be: graph input, node output,
initializer, node name and graph name. y = relu(x) + w otherwise.

usage: utf8_names.py OUT_DIR
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

BAD = b"\xff\xfe"


def save(out, where):
    # Mark the chosen name with a placeholder, then patch the serialised bytes.
    names = {k: k for k in ("x", "mid", "w", "relu", "graph")}
    names[where] += "QQ"
    x, mid, w, relu, graph_name = (names[k] for k in ("x", "mid", "w", "relu", "graph"))
    graph = helper.make_graph(
        [helper.make_node("Relu", [x], [mid], name=relu),
         helper.make_node("Add", [mid, w], ["y"], name="add")],
        graph_name, [helper.make_tensor_value_info(x, TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
        [numpy_helper.from_array(np.array([1, -2, 3], np.float32), w)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    data = model.SerializeToString()
    assert data.count(b"QQ") >= 1
    with open(os.path.join(out, where + ".onnx"), "wb") as f:
        f.write(data.replace(b"QQ", BAD))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for where in ("x", "mid", "w", "relu", "graph"):
        save(out, where)


if __name__ == "__main__":
    main()
