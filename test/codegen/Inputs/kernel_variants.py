#!/usr/bin/python3
"""Write small ONNX models that exercise Kiln's kernel variants, with expected
outputs from a float64 numpy reference.

Usage: kernel_variants.py OUT_DIR

Writes OUT_DIR/<case>/model.onnx and OUT_DIR/<case>/test_data_set_0/ with
input_<i>.pb and output_<i>.pb for each case:
  conv      channels-last convolutions: odd sizes, stride 2, uneven pads,
            more than 64 output channels, groups with dilation, depthwise,
            a 3-channel 7x7 first layer,
            and relu / residual add + clip epilogues
  depthwise depthwise convolutions on the register-tiled kernel: 32 and 24
            channels, 3x3 and 5x5, stride 2, dilation, uneven pads, rows
            with whole tiles, a shorter tile and edge columns, and relu /
            hard-swish / hard-sigmoid epilogues
  attention scaled dot-product attention matched into kiln.attention: query,
            key and value counts that are no multiple of the tiles, K
            transposed by the graph (key rows) and Kt given as is (key
            columns), an additive mask with -inf entries, a causal Where mask
  pool      max pooling (floor and ceil mode), average pooling with and without
            counting pads, global average pooling
  se        squeeze-and-excitation: the scaled input of a 1x1 and a 3x3 conv,
            two images
  matmul    batched matmul + bias + tanh, gemm (transB) + relu
  rows      bias + scale + softmax + scale, add + layer norm + relu
  grouped   groups narrower than a vector (2, 4 and 8 channels), stride 2,
            dilation, uneven pads
  dilated   dilations as large as the map (taps that read only padding),
            dense, strided and depthwise
  qdq       quantised (QDQ) convolutions on the int8 kernel: uint8 and int8
            activations with zero points, per-channel and per-tensor int8
            weights, bias, stride 2, uneven pads, 70 outputs, 8 groups of 4
            channels, a requantising relu epilogue feeding the next conv,
            QLinearConv (int32 bias, uint8 result) and ConvInteger, QDQ
            MatMul (3-D activations) and Gemm (transB, alpha, bias),
            MatMulInteger and QLinearMatMul, and a float depthwise conv
            whose epilogue requantises for a quantised 1x1 (MobileNet),
            and the convs left to the float kernels (3 input channels,
            depthwise)
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(7)


def rand(*shape):
    return rng.standard_normal(shape).astype(np.float32)


def conv(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), group=1):
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n, c, h, wd = x.shape
    o, icg, kh, kw = w.shape
    xp = np.zeros((n, c, h + pads[0] + pads[2], wd + pads[1] + pads[3]))
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + wd] = x
    oh = (xp.shape[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (xp.shape[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    y = np.zeros((n, o, oh, ow))
    ocg = o // group
    for oc in range(o):
        g = oc // ocg
        for i in range(oh):
            for j in range(ow):
                patch = xp[:, g * icg:(g + 1) * icg,
                           i * stride[0]:i * stride[0] + dil[0] * (kh - 1) + 1:dil[0],
                           j * stride[1]:j * stride[1] + dil[1] * (kw - 1) + 1:dil[1]]
                y[:, oc, i, j] = (patch * w[oc]).sum(axis=(1, 2, 3))
        if b is not None:
            y[:, oc] += b[oc]
    return y


def pool(x, kind, k, stride, pads, ceil=False, count_pad=False):
    n, c, h, w = x.shape
    def extent(size, i):
        span = size + pads[i] + pads[i + 2] - k
        return (-(-span // stride) if ceil else span // stride) + 1
    oh, ow = extent(h, 0), extent(w, 1)
    y = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            h0, w0 = i * stride - pads[0], j * stride - pads[1]
            h1, w1 = min(h0 + k, h + pads[2]), min(w0 + k, w + pads[3])
            win = x[:, :, max(h0, 0):min(h1, h), max(w0, 0):min(w1, w)].astype(np.float64)
            if kind == "max":
                y[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = (h1 - h0) * (w1 - w0) if count_pad else win.shape[2] * win.shape[3]
                y[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return y


def write(out_dir, name, nodes, inputs, outputs, inits):
    """inputs/outputs: lists of (name, array); inits: dict name -> array."""
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, a.shape) for n, a in outputs],
        [numpy_helper.from_array(a if a.dtype in (np.int8, np.uint8, np.int32) else a.astype(np.float32), n)
         for n, a in inits.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    data = os.path.join(out_dir, name, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(out_dir, name, "model.onnx"))
    for kind, values in (("input", inputs), ("output", outputs)):
        for i, (n, a) in enumerate(values):
            t = numpy_helper.from_array(a.astype(np.float32), n)
            with open(os.path.join(data, f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())


def node(op, ins, outs, **attrs):
    return helper.make_node(op, ins, outs, **attrs)


def case_conv(out):
    x = rand(1, 4, 7, 9)
    wa, ba = rand(70, 4, 3, 3), rand(70)
    wb = rand(6, 2, 3, 3)
    wc, bc = rand(6, 1, 3, 3), rand(6)
    a = np.maximum(conv(x, wa, ba, stride=(2, 2), pads=(1, 0, 2, 1)), 0)
    b = conv(x, wb, pads=(2, 2, 2, 2), dil=(2, 2), group=2)
    c = np.clip(conv(b, wc, bc, pads=(1, 1, 1, 1), group=6) + b, 0, 6)
    nodes = [
        node("Conv", ["x", "wa", "ba"], ["ca"], strides=[2, 2], pads=[1, 0, 2, 1]),
        node("Relu", ["ca"], ["a"]),
        node("Conv", ["x", "wb"], ["b"], pads=[2, 2, 2, 2], dilations=[2, 2], group=2),
        node("Conv", ["b", "wc", "bc"], ["cc"], pads=[1, 1, 1, 1], group=6),
        node("Add", ["cc", "b"], ["s"]),
        node("Clip", ["s", "lo", "hi"], ["c"]),
    ]
    inits = {"wa": wa, "ba": ba, "wb": wb, "wc": wc, "bc": bc,
             "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    # A first layer: 3 channels, 7x7, stride 2, padding on every side (each
    # kernel row is one contiguous stretch of the input row).
    z, wd_, bd = rand(1, 3, 17, 15), rand(20, 3, 7, 7), rand(20)
    d = np.maximum(conv(z, wd_, bd, stride=(2, 2), pads=(3, 3, 2, 1)), 0)
    nodes += [
        node("Conv", ["z", "wd", "bd"], ["cd"], strides=[2, 2], pads=[3, 3, 2, 1]),
        node("Relu", ["cd"], ["d"]),
    ]
    inits.update({"wd": wd_, "bd": bd})
    write(out, "conv", nodes, [("x", x), ("z", z)], [("a", a), ("c", c), ("d", d)], inits)


def case_depthwise(out):
    x, y = rand(1, 32, 13, 19), rand(1, 24, 11, 23)
    wa, ba = rand(32, 1, 3, 3), rand(32)
    wb, bb = rand(24, 1, 5, 5), rand(24)
    wc = rand(32, 1, 3, 3)
    a = np.maximum(conv(x, wa, ba, pads=(1, 1, 1, 1), group=32), 0)
    b = conv(y, wb, bb, stride=(2, 2), pads=(2, 1, 2, 3), dil=(1, 2), group=24)
    hswish = b * np.clip(b / 6 + 0.5, 0, 1)
    c = conv(x, wc, stride=(2, 2), pads=(0, 0, 1, 1), group=32)
    hsig = np.clip(0.25 * c + 0.4, 0, 1)
    nodes = [
        node("Conv", ["x", "wa", "ba"], ["ca"], pads=[1, 1, 1, 1], group=32),
        node("Relu", ["ca"], ["a"]),
        node("Conv", ["y", "wb", "bb"], ["cb"], strides=[2, 2], pads=[2, 1, 2, 3],
             dilations=[1, 2], group=24),
        node("HardSwish", ["cb"], ["b"]),
        node("Conv", ["x", "wc"], ["cc"], strides=[2, 2], pads=[0, 0, 1, 1], group=32),
        node("HardSigmoid", ["cc"], ["c"], alpha=0.25, beta=0.4),
    ]
    inits = {"wa": wa, "ba": ba, "wb": wb, "bb": bb, "wc": wc}
    write(out, "depthwise", nodes, [("x", x), ("y", y)],
          [("a", a), ("b", hswish), ("c", hsig)], inits)


def softmax_rows(s):
    s = s - s.max(axis=-1, keepdims=True)
    e = np.exp(s)
    return e / e.sum(axis=-1, keepdims=True)


def case_attention(out):
    # 130 keys: blocks of keys with a short last one; query 5 sees no key in
    # the first block, query 3 only every other key.
    q, k, v = rand(2, 3, 37, 20), rand(2, 3, 130, 20), rand(2, 3, 130, 13)
    mask = rand(1, 1, 37, 130)
    mask[0, 0, ::5, 7] = -np.inf
    mask[0, 0, 3, ::2] = -np.inf
    mask[0, 0, 5, :70] = -np.inf
    scale = np.float32(1 / np.sqrt(20))
    f64 = lambda a: a.astype(np.float64)
    a = softmax_rows(f64(q) @ f64(k).transpose(0, 1, 3, 2) * f64(scale) + f64(mask)) @ f64(v)
    # Kt given as is, and a causal mask: Where(keep, scores, -inf).
    kt = rand(3, 20, 70)
    q2, v2 = rand(3, 70, 20), rand(3, 70, 16)
    keep = np.tril(np.ones((70, 70), dtype=bool))
    s2 = f64(q2) @ f64(kt) * f64(scale)
    b = softmax_rows(np.where(keep, s2, -np.inf)) @ f64(v2)
    nodes = [
        node("Transpose", ["k"], ["kT"], perm=[0, 1, 3, 2]),
        node("MatMul", ["q", "kT"], ["s"]),
        node("Mul", ["s", "scale"], ["ss"]),
        node("Add", ["ss", "mask"], ["sm"]),
        node("Softmax", ["sm"], ["p"], axis=-1),
        node("MatMul", ["p", "v"], ["a"]),
        node("MatMul", ["q2", "kt"], ["t"]),
        node("Mul", ["t", "scale"], ["ts"]),
        node("Where", ["keep", "ts", "ninf"], ["tm"]),
        node("Softmax", ["tm"], ["p2"], axis=-1),
        node("MatMul", ["p2", "v2"], ["b"]),
    ]
    graph = helper.make_graph(
        nodes, "attention",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, x.shape)
         for n, x in (("q", q), ("k", k), ("v", v), ("mask", mask), ("kt", kt), ("q2", q2),
                      ("v2", v2))],
        [helper.make_tensor_value_info("a", TensorProto.FLOAT, a.shape),
         helper.make_tensor_value_info("b", TensorProto.FLOAT, b.shape)],
        [numpy_helper.from_array(np.array(scale, np.float32), "scale"),
         numpy_helper.from_array(keep, "keep"),
         numpy_helper.from_array(np.array(-np.inf, np.float32), "ninf")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    data = os.path.join(out, "attention", "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    onnx.save(model, os.path.join(out, "attention", "model.onnx"))
    for kind, values in (("input", (("q", q), ("k", k), ("v", v), ("mask", mask), ("kt", kt),
                                    ("q2", q2), ("v2", v2))),
                         ("output", (("a", a), ("b", b)))):
        for i, (n, x) in enumerate(values):
            t = numpy_helper.from_array(x.astype(np.float32), n)
            with open(os.path.join(data, f"{kind}_{i}.pb"), "wb") as f:
                f.write(t.SerializeToString())


def case_pool(out):
    x = rand(1, 5, 9, 11)
    outs = [
        ("m1", pool(x, "max", 3, 2, (1, 1, 1, 1))),
        ("m2", pool(x, "max", 2, 2, (0, 0, 0, 0), ceil=True)),
        ("a1", pool(x, "avg", 3, 2, (1, 1, 1, 1))),
        ("a2", pool(x, "avg", 3, 1, (1, 1, 1, 1), count_pad=True)),
        ("g", x.astype(np.float64).mean(axis=(2, 3), keepdims=True)),
    ]
    nodes = [
        node("MaxPool", ["x"], ["m1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        node("MaxPool", ["x"], ["m2"], kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),
        node("AveragePool", ["x"], ["a1"], kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1]),
        node("AveragePool", ["x"], ["a2"], kernel_shape=[3, 3], strides=[1, 1],
             pads=[1, 1, 1, 1], count_include_pad=1),
        node("GlobalAveragePool", ["x"], ["g"]),
    ]
    write(out, "pool", nodes, [("x", x)], outs, {})


def case_se(out):
    # Two images (a scale per image and channel); the scaled input feeds a 1x1
    # conv (micro-kernel, scaled tile rows) and a 3x3 conv (direct loops).
    x = rand(2, 8, 5, 7)
    w1, w2, w3, w4 = rand(8, 8, 1, 1), rand(8, 8, 1, 1), rand(12, 8, 1, 1), rand(6, 8, 3, 3)
    h = np.maximum(conv(x, w1), 0)
    s = np.clip(conv(h.mean(axis=(2, 3), keepdims=True), w2) / 6 + 0.5, 0, 1)
    y = conv(h * s, w3)
    z = conv(h * s, w4, pads=(1, 1, 1, 1))
    nodes = [
        node("Conv", ["x", "w1"], ["c1"]),
        node("Relu", ["c1"], ["h"]),
        node("GlobalAveragePool", ["h"], ["p"]),
        node("Conv", ["p", "w2"], ["e"]),
        node("HardSigmoid", ["e"], ["s"], alpha=1.0 / 6),
        node("Mul", ["h", "s"], ["hs"]),
        node("Conv", ["hs", "w3"], ["y"]),
        node("Mul", ["h", "s"], ["hs2"]),
        node("Conv", ["hs2", "w4"], ["z"], pads=[1, 1, 1, 1]),
    ]
    write(out, "se", nodes, [("x", x)], [("y", y), ("z", z)],
          {"w1": w1, "w2": w2, "w3": w3, "w4": w4})


def case_matmul(out):
    a, b, bias = rand(2, 3, 5, 7), rand(2, 3, 7, 9), rand(9)
    ga, gb, gc = rand(3, 10), rand(13, 10), rand(13)
    y = np.tanh(a.astype(np.float64) @ b + bias)
    z = np.maximum(ga.astype(np.float64) @ gb.T.astype(np.float64) + gc, 0)
    nodes = [
        node("MatMul", ["a", "b"], ["m"]),
        node("Add", ["m", "bias"], ["mb"]),
        node("Tanh", ["mb"], ["y"]),
        node("Gemm", ["ga", "gb", "gc"], ["g"], transB=1),
        node("Relu", ["g"], ["z"]),
    ]
    write(out, "matmul", nodes, [("a", a), ("ga", ga)], [("y", y), ("z", z)],
          {"b": b, "bias": bias, "gb": gb, "gc": gc})


def case_dilated(out):
    """ASPP-style dilations on maps no larger than the dilation: taps that
    read only padding (kiln-trim-conv-taps drops them)."""
    x, z = rand(1, 8, 5, 5), rand(1, 4, 3, 3)
    wa, ba = rand(8, 8, 3, 3), rand(8)
    wb, wc, wd = rand(8, 8, 3, 3), rand(6, 4, 3, 3), rand(8, 1, 3, 3)
    a = np.maximum(conv(x, wa, ba, pads=(6, 6, 6, 6), dil=(6, 6)), 0)
    b = conv(x, wb, pads=(3, 5, 3, 5), dil=(3, 5))
    c = conv(z, wc, stride=(2, 2), pads=(4, 4, 4, 4), dil=(4, 4))
    d = conv(x, wd, pads=(6, 6, 6, 6), dil=(6, 6), group=8)
    nodes = [
        node("Conv", ["x", "wa", "ba"], ["ca"], pads=[6, 6, 6, 6], dilations=[6, 6]),
        node("Relu", ["ca"], ["a"]),
        node("Conv", ["x", "wb"], ["b"], pads=[3, 5, 3, 5], dilations=[3, 5]),
        node("Conv", ["z", "wc"], ["c"], strides=[2, 2], pads=[4, 4, 4, 4], dilations=[4, 4]),
        node("Conv", ["x", "wd"], ["d"], pads=[6, 6, 6, 6], dilations=[6, 6], group=8),
    ]
    inits = {"wa": wa, "ba": ba, "wb": wb, "wc": wc, "wd": wd}
    write(out, "dilated", nodes, [("x", x), ("z", z)],
          [("a", a), ("b", b), ("c", c), ("d", d)], inits)


def case_grouped(out):
    """Groups narrower than a vector (ResNeXt): 4 channels per group at
    stride 1 and 2 with a bias and relu, 8 per group with dilation and
    uneven pads, 2 per group; rows of 11 and 9 columns give whole tiles,
    short tiles and edge columns."""
    x, y = rand(1, 32, 9, 11), rand(1, 64, 7, 9)
    wa, ba = rand(32, 4, 3, 3), rand(32)
    wb, wc, wd = rand(32, 4, 3, 3), rand(64, 8, 3, 3), rand(32, 2, 3, 3)
    a = np.maximum(conv(x, wa, ba, pads=(1, 1, 1, 1), group=8), 0)
    b = conv(x, wb, stride=(2, 2), pads=(1, 1, 1, 1), group=8)
    c = conv(y, wc, pads=(2, 1, 2, 3), dil=(2, 2), group=8)
    d = conv(x, wd, pads=(1, 1, 1, 1), group=16)
    nodes = [
        node("Conv", ["x", "wa", "ba"], ["ca"], pads=[1, 1, 1, 1], group=8),
        node("Relu", ["ca"], ["a"]),
        node("Conv", ["x", "wb"], ["b"], strides=[2, 2], pads=[1, 1, 1, 1], group=8),
        node("Conv", ["y", "wc"], ["c"], pads=[2, 1, 2, 3], dilations=[2, 2], group=8),
        node("Conv", ["x", "wd"], ["d"], pads=[1, 1, 1, 1], group=16),
    ]
    inits = {"wa": wa, "ba": ba, "wb": wb, "wc": wc, "wd": wd}
    write(out, "grouped", nodes, [("x", x), ("y", y)], [("a", a), ("b", b), ("c", c), ("d", d)],
          inits)


def quantize(x, scale, zero, dtype):
    info = np.iinfo(dtype)
    return np.clip(np.rint(x.astype(np.float32) / np.float32(scale)) + zero,
                   info.min, info.max).astype(dtype)


def case_qdq(out):
    """QDQ convolutions as quantisers write them: x -> QuantizeLinear ->
    DequantizeLinear -> Conv, with weights DequantizeLinear(int8 constant,
    per-output-channel scales, zero zero points). The reference convolves
    the dequantised values in float64 (exact), so only the requantisation
    between the chained convs rounds, identically on both sides."""
    inits, nodes = {}, []

    def qdq(name, src, scale, zero, dtype):
        inits[name + "_s"] = np.array(scale, np.float32)
        inits[name + "_z"] = np.array(zero, dtype)
        nodes.append(node("QuantizeLinear", [src, name + "_s", name + "_z"], [name + "_q"]))
        nodes.append(node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name]))
        q = quantize(VALUES[src], scale, zero, dtype)
        return (q.astype(np.float64) - zero) * np.float64(np.float32(scale))

    def weights(name, shape, per_channel=True):
        q = rng.integers(-127, 128, size=shape).astype(np.int8)
        s = (rng.random(shape[0]) * 0.02 + 0.002).astype(np.float32) if per_channel \
            else np.array(0.00913, np.float32)
        inits[name + "_q"], inits[name + "_s"] = q, s
        inits[name + "_z"] = np.zeros(s.shape, np.int8)
        nodes.append(node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name],
                          axis=0))
        return q.astype(np.float64) * (s.astype(np.float64).reshape(-1, 1, 1, 1)
                                       if per_channel else np.float64(s))

    x, z = rand(1, 16, 9, 11) * 2, rand(1, 3, 10, 7)
    VALUES = {"x": x, "z": z}
    xu = qdq("xu", "x", 0.03, 131, np.uint8)
    xs = qdq("xs", "x", 0.0247, -5, np.int8)
    wa, ba = weights("wa", (70, 16, 3, 3)), rand(70)
    inits["ba"] = ba
    a = conv(xu, wa, ba, stride=(2, 2), pads=(1, 0, 2, 1))
    nodes.append(node("Conv", ["xu", "wa", "ba"], ["a"], strides=[2, 2], pads=[1, 0, 2, 1]))
    # int8 activations, a per-tensor weight scale, 1x1; then relu, requantised
    # to uint8 (the epilogue), into 8 groups of 4 channels.
    wb = weights("wb", (32, 16, 1, 1), per_channel=False)
    rb = np.maximum(conv(xs, wb), 0).astype(np.float32)
    nodes += [node("Conv", ["xs", "wb"], ["cb"]), node("Relu", ["cb"], ["rb"])]
    VALUES["rb"] = rb
    rq = qdq("rq", "rb", 0.0371, 0, np.uint8)
    wc, bc = weights("wc", (32, 4, 3, 3)), rand(32)
    inits["bc"] = bc
    c = conv(rq, wc, bc, pads=(1, 1, 1, 1), group=8)
    nodes.append(node("Conv", ["rq", "wc", "bc"], ["c"], pads=[1, 1, 1, 1], group=8))
    # Off the int8 kernel: 3 input channels; depthwise.
    zq = qdq("zq", "z", 0.02, 120, np.uint8)
    wd, wdw = weights("wd", (8, 3, 3, 3)), weights("wdw", (16, 1, 3, 3))
    d = conv(zq, wd, pads=(1, 1, 1, 1))
    e = conv(xu, wdw, pads=(1, 1, 1, 1), group=16)
    nodes += [node("Conv", ["zq", "wd"], ["d"], pads=[1, 1, 1, 1]),
              node("Conv", ["xu", "wdw"], ["e"], pads=[1, 1, 1, 1], group=16)]
    # QLinearConv (int32 bias, requantised to uint8, read back as float) and
    # ConvInteger with int8 weights: integer results, exact.
    xq = quantize(x, 0.03, 131, np.uint8).astype(np.int64)
    wf, bf = inits["wa_q"][:24], rng.integers(-2000, 2000, 24).astype(np.int32)
    inits.update({"wf_q": wf, "wf_s": inits["wa_s"][:24], "wf_z": np.zeros(24, np.int8),
                  "bf": bf, "yf_s": np.array(0.713, np.float32),
                  "yf_z": np.array(100, np.uint8)})
    acc = np.rint(conv(xq - 131, wf.astype(np.int64), bf, pads=(1, 1, 1, 1))).astype(np.int64)
    multiplier = np.float32(0.03) * inits["wf_s"] / np.float32(0.713)  # float32, as ONNX
    f = np.clip(np.rint(acc * multiplier.astype(np.float64).reshape(1, -1, 1, 1)) + 100, 0, 255)
    f = (f - 100) * np.float64(np.float32(0.713))
    acc_g = np.rint(conv(xq - 131, wf.astype(np.int64), stride=(2, 2)))
    nodes += [
        node("QLinearConv", ["xu_q", "xu_s", "xu_z", "wf_q", "wf_s", "wf_z", "yf_s", "yf_z", "bf"],
             ["fq"], pads=[1, 1, 1, 1]),
        node("DequantizeLinear", ["fq", "yf_s", "yf_z"], ["f"]),
        node("ConvInteger", ["xu_q", "wf_q", "xu_z"], ["gi"], strides=[2, 2]),
        node("Cast", ["gi"], ["g"], to=TensorProto.FLOAT),
    ]
    # QDQ MatMul (3-D activations, per-column scales) and Gemm (transB,
    # per-row scales of B, alpha, bias); K = 18 stays on the float kernel.
    p_in = rand(2, 5, 16) * 2
    VALUES["p"] = p_in
    pq = qdq("pq", "p", 0.0213, 7, np.int8)
    wm_q = rng.integers(-127, 128, size=(16, 24)).astype(np.int8)
    wm_s = (rng.random(24) * 0.02 + 0.002).astype(np.float32)
    inits.update({"wm_q": wm_q, "wm_s": wm_s, "wm_z": np.zeros(24, np.int8)})
    nodes += [node("DequantizeLinear", ["wm_q", "wm_s", "wm_z"], ["wm"], axis=1),
              node("MatMul", ["pq", "wm"], ["h"])]
    h = pq @ (wm_q.astype(np.float64) * wm_s.astype(np.float64))
    g_in = rand(3, 16)
    VALUES["gi_in"] = g_in
    gq = qdq("gq", "gi_in", 0.0177, 120, np.uint8)
    wg_q = rng.integers(-127, 128, size=(10, 16)).astype(np.int8)
    wg_s = (rng.random(10) * 0.02 + 0.002).astype(np.float32)
    bg = rand(10)
    inits.update({"wg_q": wg_q, "wg_s": wg_s, "wg_z": np.zeros(10, np.int8), "bg": bg})
    nodes += [node("DequantizeLinear", ["wg_q", "wg_s", "wg_z"], ["wg"], axis=0),
              node("Gemm", ["gq", "wg", "bg"], ["k"], transB=1, alpha=0.5)]
    kk = 0.5 * gq @ (wg_q.astype(np.float64) * wg_s.astype(np.float64).reshape(-1, 1)).T + bg
    # MobileNet's block: a float depthwise conv (3 channels per tap row is no
    # int8 form) whose epilogue requantises for the next, quantised, 1x1.
    wdw2 = weights("wdw2", (16, 1, 3, 3))
    VALUES["er"] = np.clip(conv(xu, wdw2, pads=(1, 1, 1, 1), group=16), 0, 6).astype(np.float32)
    nodes += [node("Conv", ["xu", "wdw2"], ["e2"], pads=[1, 1, 1, 1], group=16),
              node("Clip", ["e2", "lo6", "hi6"], ["er"])]
    inits.update({"lo6": np.array(0, np.float32), "hi6": np.array(6, np.float32)})
    eq = qdq("eq", "er", 0.0237, 0, np.uint8)
    wl = weights("wl", (12, 16, 1, 1))
    l_out = conv(eq, wl)
    nodes.append(node("Conv", ["eq", "wl"], ["l"]))

    # MatMulInteger and QLinearMatMul with a constant int8 B (zero zero
    # points): integer sums, exact.
    aq = quantize(p_in, 0.0213, 7, np.int8).astype(np.int64)
    inits.update({"mz": np.zeros(24, np.int8), "ms": np.array(0.37, np.float32),
                  "mzy": np.array(-3, np.int8)})
    mi = (aq - 7) @ wm_q.astype(np.int64)
    mult = (np.float32(0.0213) * wm_s / np.float32(0.37)).astype(np.float64)
    ml = (np.clip(np.rint(mi * mult) - 3, -128, 127) + 3) * np.float64(np.float32(0.37))
    nodes += [
        node("MatMulInteger", ["pq_q", "wm_q", "pq_z", "mz"], ["mii"]),
        node("Cast", ["mii"], ["mi"], to=TensorProto.FLOAT),
        node("QLinearMatMul", ["pq_q", "pq_s", "pq_z", "wm_q", "wm_s", "mz", "ms", "mzy"], ["mlq"]),
        node("DequantizeLinear", ["mlq", "ms", "mzy"], ["ml"]),
    ]
    write(out, "qdq", nodes, [("x", x), ("z", z), ("p", p_in), ("gi_in", g_in)],
          [("a", a), ("c", c), ("d", d), ("e", e), ("f", f), ("g", acc_g), ("h", h), ("k", kk),
           ("mi", mi), ("ml", ml), ("l", l_out)],
          inits)


def case_rows(out):
    x, bias = rand(2, 8, 16), rand(16)
    p, q, scale, shift = rand(6, 40), rand(6, 40), rand(40), rand(40)
    t = (x.astype(np.float64) + bias) * 0.5
    e = np.exp(t - t.max(axis=-1, keepdims=True))
    y = e / e.sum(axis=-1, keepdims=True) * 3.0
    u = p.astype(np.float64) + q
    mean = u.mean(axis=-1, keepdims=True)
    var = ((u - mean) ** 2).mean(axis=-1, keepdims=True)
    z = np.maximum((u - mean) / np.sqrt(var + 1e-5) * scale + shift, 0)
    nodes = [
        node("Add", ["x", "bias"], ["xb"]),
        node("Mul", ["xb", "half"], ["xs"]),
        node("Softmax", ["xs"], ["sm"], axis=-1),
        node("Mul", ["sm", "three"], ["y"]),
        node("Add", ["p", "q"], ["u"]),
        node("LayerNormalization", ["u", "scale", "shift"], ["n"], axis=-1, epsilon=1e-5),
        node("Relu", ["n"], ["z"]),
    ]
    inits = {"bias": bias, "half": np.array(0.5, np.float32),
             "three": np.array(3.0, np.float32), "scale": scale, "shift": shift}
    write(out, "rows", nodes, [("x", x), ("p", p), ("q", q)], [("y", y), ("z", z)], inits)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for case in (case_conv, case_depthwise, case_attention, case_pool, case_se, case_matmul, case_rows,
                 case_dilated, case_grouped, case_qdq):
        case(sys.argv[1])
