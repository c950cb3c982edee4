#!/usr/bin/env python3
"""Writes convolutions and pools whose window attributes are out of range
(ONNX shape inference divides by a stride of 0): one model per case, named
after it. Each must be refused with a message naming the node and the
attribute.

usage: window_attributes.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper


CASES = {
    "conv_stride_0": ("Conv", dict(kernel_shape=[3, 3], strides=[0, 0])),
    "conv_dilation_0": ("Conv", dict(kernel_shape=[3, 3], dilations=[1, 0])),
    "conv_negative_pad": ("Conv", dict(kernel_shape=[3, 3], pads=[0, -2, 0, 0])),
    "conv_group_0": ("Conv", dict(kernel_shape=[3, 3], group=0)),
    "maxpool_stride_0": ("MaxPool", dict(kernel_shape=[2, 2], strides=[0, 1])),
    "maxpool_kernel_0": ("MaxPool", dict(kernel_shape=[0, 2])),
    "averagepool_stride_0": ("AveragePool", dict(kernel_shape=[2, 2], strides=[0, 0])),
    "averagepool_negative_kernel": ("AveragePool", dict(kernel_shape=[-3, 2])),
    "convtranspose_stride_0": ("ConvTranspose", dict(kernel_shape=[3, 3], strides=[0, 2])),
    "convtranspose_negative_output_padding": (
        "ConvTranspose", dict(kernel_shape=[3, 3], strides=[2, 2], output_padding=[-1, 0])),
}


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, (op, attrs) in CASES.items():
        inputs = ["x", "w"] if "Conv" in op else ["x"]
        inits = []
        if "Conv" in op:
            inits.append(helper.make_tensor("w", TensorProto.FLOAT, [4, 4, 3, 3], [0.0] * 144))
        graph = helper.make_graph(
            [helper.make_node(op, inputs, ["y"], name=name, **attrs)], name,
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
        onnx.save(model, os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
