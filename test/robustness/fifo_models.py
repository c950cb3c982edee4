#!/usr/bin/env python3
"""Writes relu.onnx (y = relu(x), x: float[4]) and external.onnx, whose
initializer w (float[4]) is external data in w.bin; the test replaces data
files by FIFOs, which nothing may block on.

usage: fifo_models.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])
    relu = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "relu", [x], [y])
    onnx.save(helper.make_model(relu, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "relu.onnx"))
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[4],
                    data_location=TensorProto.EXTERNAL)
    w.external_data.add(key="location", value="w.bin")
    add = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add")], "external",
                            [x], [y], [w])
    onnx.save(helper.make_model(add, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "external.onnx"))


if __name__ == "__main__":
    main()
