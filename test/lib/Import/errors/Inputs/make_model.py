"""Writes small ONNX models with defective initializers for the error tests.

usage: make_model.py DIR

Each model is y = Add(x, w) with x, w, y float[4] (16 bytes of w). Written
into DIR:
  ok.onnx, dotdot.onnx, inner.onnx, absolute.onnx, symlink.onnx,
  missing.onnx, past-end.onnx, offset.onnx, overflow.onnx, negative.onnx,
  short.onnx    w as ONNX external data (location, offset, length below)
  raw-data-size.onnx   w with 8 bytes of raw_data where its dims need 16
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
EXTERNAL = {
    "ok": ["w.bin", "0", "16"],
    "dotdot": ["../outside.bin"],
    "inner": ["a/../../outside.bin"],
    "absolute": [os.path.join(os.path.abspath(out), "..", "outside.bin")],
    "symlink": ["link.bin"],
    "missing": ["nothere.bin"],
    "past-end": ["w.bin", "8", "16"],
    "offset": ["w.bin", "20"],
    "overflow": ["w.bin", "8", "18446744073709551615"],
    "negative": ["w.bin", "-1"],
    "short": ["w.bin", "0", "8"],
}


def write(name, w):
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "w"], ["y"], name="add")],
        "defective",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])],
        [w],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    with open(os.path.join(out, name + ".onnx"), "wb") as f:
        f.write(model.SerializeToString())


for name, entries in EXTERNAL.items():
    w = numpy_helper.from_array(np.arange(4, dtype=np.float32), "w")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for key, value in zip(["location", "offset", "length"], entries):
        e = w.external_data.add()
        e.key, e.value = key, value
    write(name, w)

w = numpy_helper.from_array(np.arange(4, dtype=np.float32), "w")
w.raw_data = w.raw_data[:8]
write("raw-data-size", w)
