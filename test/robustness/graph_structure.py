#!/usr/bin/env python3
"""Writes graphs whose node inputs are not defined before use: a name no
value has, and a value produced by a later node.

usage: graph_structure.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def save(out, name, nodes):
    graph = helper.make_graph(nodes, name,
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, name + ".onnx"))


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    save(out, "undefined", [helper.make_node("Add", ["x", "nothing"], ["y"], name="add")])
    save(out, "unsorted", [helper.make_node("Relu", ["t"], ["y"], name="relu"),
                           helper.make_node("Neg", ["x"], ["t"], name="neg")])


if __name__ == "__main__":
    main()
