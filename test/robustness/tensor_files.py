#!/usr/bin/env python3
"""Writes a model y = relu(x), x: float[4], and data directories whose
input_0.pb is hostile: dims whose byte size wraps 2^64 with no data, dims
whose element count overflows, and data shorter than the dims need.

usage: tensor_files.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")], "relu",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "relu.onnx"))
    cases = {
        "bytes_wrap": ([1 << 62], b""),             # 2^62 floats: 2^64 bytes wrap to 0
        "count_overflow": ([1 << 32, 1 << 32], b""),  # 2^64 elements
        "short_data": ([4], b"\0" * 12),
    }
    for name, (dims, raw) in cases.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        t = TensorProto(name="x", data_type=TensorProto.FLOAT, dims=dims, raw_data=raw)
        with open(os.path.join(d, "input_0.pb"), "wb") as f:
            f.write(t.SerializeToString())


if __name__ == "__main__":
    main()
