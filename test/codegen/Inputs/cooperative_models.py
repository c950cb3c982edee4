#!/usr/bin/env python3
"""Writes ONNX models whose CUDA kernels are cooperative blocks (long
reductions, softmax and layer-norm rows), each with test_data_set_0 holding a
float64 NumPy reference, for `kiln run --target cuda --emulate`.

usage: cooperative_models.py OUT_DIR
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    axes = lambda a: numpy_helper.from_array(np.array(a, np.int64), "axes")

    x = rng.standard_normal((3, 5000))
    node = helper.make_node("ReduceSum", ["x", "axes"], ["y"], keepdims=0)
    # ReduceSum takes its axes as an input (an initializer here).
    g = helper.make_graph([node], "reduce_sum",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5000])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3])],
                          [axes([1])])
    write_model(out, "reduce_sum", g, [("x", x)], [("y", x.astype(np.float32).astype(np.float64).sum(1))])

    x = rng.standard_normal((4100,))
    g = helper.make_graph([helper.make_node("ReduceMax", ["x"], ["y"], keepdims=0)], "reduce_max",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4100])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [])])
    write_model(out, "reduce_max", g, [("x", x)], [("y", np.array(x.astype(np.float32).max()))])

    x = 1 + rng.uniform(-1e-3, 1e-3, (2, 2000))
    g = helper.make_graph(
        [helper.make_node("ReduceProd", ["x"], ["y"], axes=[1], keepdims=1)], "reduce_prod",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2000])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 1])])
    xf = x.astype(np.float32).astype(np.float64)
    write_model(out, "reduce_prod", g, [("x", x)], [("y", xf.prod(1, keepdims=True))])

    x = rng.standard_normal((4, 3000)) * 3
    xf = x.astype(np.float32).astype(np.float64)
    e = np.exp(xf - xf.max(1, keepdims=True))
    g = helper.make_graph([helper.make_node("Softmax", ["x"], ["y"], axis=-1)], "softmax",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 3000])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 3000])])
    write_model(out, "softmax", g, [("x", x)], [("y", e / e.sum(1, keepdims=True))])

    x = rng.standard_normal((3, 2048)) + 0.5
    scale = rng.standard_normal((2048,))
    bias = rng.standard_normal((2048,))
    xf = x.astype(np.float32).astype(np.float64)
    sf, bf = scale.astype(np.float32), bias.astype(np.float32)
    mean = xf.mean(1, keepdims=True)
    var = ((xf - mean) ** 2).mean(1, keepdims=True)
    ref = (xf - mean) / np.sqrt(var + 1e-5) * sf + bf
    g = helper.make_graph(
        [helper.make_node("LayerNormalization", ["x", "scale", "bias"], ["y"], axis=-1, epsilon=1e-5)],
        "layer_norm",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 2048])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2048])],
        [numpy_helper.from_array(sf, "scale"), numpy_helper.from_array(bf, "bias")])
    write_model(out, "layer_norm", g, [("x", x)], [("y", ref)])


def write_model(out, name, graph, inputs, outputs):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    d = os.path.join(out, name, "test_data_set_0")
    os.makedirs(d, exist_ok=True)
    onnx.save(model, os.path.join(out, name, "model.onnx"))
    for kind, values in (("input", inputs), ("output", outputs)):
        for i, (n, v) in enumerate(values):
            t = numpy_helper.from_array(np.asarray(v, np.float32), n)
            with open(os.path.join(d, f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())


if __name__ == "__main__":
    main()
