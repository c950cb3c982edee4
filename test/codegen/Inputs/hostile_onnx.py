#!/usr/bin/env python3
"""Writes an ONNX model whose every name-like string carries code for the
places it could land in generated C++: a line break then a preprocessor
directive and a statement, a backslash and "??/" at the end (line splices),
"*/", a bidirectional override, U+2028 and invalid UTF-8. Names of inputs,
outputs, nodes, initializers, the graph, doc strings, the producer and the
file name itself. y = relu(x) + w, with test data.

usage: hostile_onnx.py OUT_DIR   (prints the model's path)
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def evil(tag):
    return (f"{tag}\n#error injected {tag}\nstatic int pwned_{tag} = 1; //\r\n"
            f"*/ \u202e \u2028 ??/\n\\")


def main():
    out = sys.argv[1]
    x, mid, w, y = evil("x"), evil("mid"), evil("w"), evil("y")
    nodes = [helper.make_node("Relu", [x], [mid], name=evil("relu")),
             helper.make_node("Add", [mid, w], [y], name=evil("add"))]
    nodes[0].doc_string = evil("doc")
    graph = helper.make_graph(
        nodes, evil("graph"), [helper.make_tensor_value_info(x, TensorProto.FLOAT, [2, 3])],
        [helper.make_tensor_value_info(y, TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array([1, -2, 3], np.float32), w)])
    graph.doc_string = evil("graphdoc")
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name=evil("producer"), doc_string=evil("modeldoc"))
    # Invalid UTF-8 in a doc string (protobuf strings must be UTF-8, bytes
    # fields need not): the raw serialised bytes are patched below.
    data = model.SerializeToString().replace(b"graphdoc", b"graph\xff\xfe\xfd")
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "hostile\nmodel\\.onnx")
    with open(path, "wb") as f:
        f.write(data)
    d = os.path.join(out, "data")
    os.makedirs(d, exist_ok=True)
    xv = np.array([[-1, 0.5, 2], [3, -4, 0]], np.float32)
    for name, value in (("input_0.pb", xv),
                        ("output_0.pb", np.maximum(xv, 0) + np.array([1, -2, 3], np.float32))):
        with open(os.path.join(d, name), "wb") as f:
            f.write(numpy_helper.from_array(value).SerializeToString())
    print(path)


if __name__ == "__main__":
    main()
