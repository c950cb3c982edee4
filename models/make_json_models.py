#!/usr/bin/python3
"""Write the small hand-written Kiln JSON test graphs (docs/json-format.md).

Usage:
    models/make_json_models.py [--out DIR] [--onnx-dir DIR]

Writes into DIR (default: the directory of this script):
    mlp/model.json                          weights inline ("data")
    cnn/model.json + cnn/cnn.weights.bin    weights in a side file (offset/length)
    attention/model.json                    weights inline
    norms/model.json                        layer norm and softmax of rows far
                                            from zero (numerics, not speed)
each with test_data_set_0/{input_<i>.pb, output_<i>.pb} (ONNX TensorProto).

Expected outputs come from an independent float64 numpy reference written in
this script (cast to float32 at the end).  Every JSON file is validated by
reading it back, converting it to an ONNX ModelProto following the rules of
docs/json-format.md, and running onnx.checker.check_model and strict shape
inference on it.  That ONNX model is not written unless --onnx-dir is given
(debugging aid, e.g. to cross-check the reference against ONNX Runtime).

All initializer values are multiples of 2**-12 so that their decimal spelling
in JSON is exact in both float32 and float64.
"""

import argparse
import json
import math
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
HERE = os.path.dirname(os.path.abspath(__file__))

DTYPES = {  # JSON dtype -> (numpy dtype, ONNX TensorProto type)
    "float32": (np.float32, TensorProto.FLOAT),
    "float64": (np.float64, TensorProto.DOUBLE),
    "float16": (np.float16, TensorProto.FLOAT16),
    "int8": (np.int8, TensorProto.INT8),
    "int16": (np.int16, TensorProto.INT16),
    "int32": (np.int32, TensorProto.INT32),
    "int64": (np.int64, TensorProto.INT64),
    "uint8": (np.uint8, TensorProto.UINT8),
    "uint16": (np.uint16, TensorProto.UINT16),
    "uint32": (np.uint32, TensorProto.UINT32),
    "uint64": (np.uint64, TensorProto.UINT64),
    "bool": (np.bool_, TensorProto.BOOL),
}
NP2DT = {np.dtype(v[0]): k for k, v in DTYPES.items()}


def qrandn(rng, shape, scale):
    """Seeded normal values, scaled, rounded to multiples of 2**-12."""
    w = rng.standard_normal(shape) * scale
    return (np.round(w * 4096.0) / 4096.0).astype(np.float32)


# ---------------------------------------------------------------------------
# Graph builder that emits the Kiln JSON form
# ---------------------------------------------------------------------------

class Graph:
    def __init__(self, name, weights_file=None):
        self.name = name
        self.weights_file = weights_file
        self.blob = bytearray()
        self.inputs, self.outputs, self.inits, self.nodes = [], [], [], []
        self.values = {}  # name -> numpy value of initializers (for the reference)

    def input(self, name, dtype, shape):
        self.inputs.append({"name": name, "dtype": dtype, "shape": list(shape)})

    def output(self, name, dtype, shape=None):
        o = {"name": name, "dtype": dtype}
        if shape is not None:
            o["shape"] = list(shape)
        self.outputs.append(o)

    @staticmethod
    def tensor_json(name, arr, inline=True, blob=None):
        arr = np.asarray(arr)
        t = {"name": name, "dtype": NP2DT[arr.dtype], "shape": list(arr.shape)}
        if inline:
            flat = arr.reshape(-1)
            if arr.dtype == np.bool_:
                t["data"] = [bool(v) for v in flat]
            elif arr.dtype.kind == "f":
                t["data"] = [float(v) for v in flat]
            else:
                t["data"] = [int(v) for v in flat]
        else:
            raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
            # keep every tensor 64-byte aligned in the side file
            blob.extend(b"\0" * (-len(blob) % 64))
            t["offset"] = len(blob)
            t["length"] = len(raw)
            blob.extend(raw)
        return t

    def init(self, name, arr, inline=None):
        arr = np.asarray(arr)
        if inline is None:
            inline = self.weights_file is None or arr.size <= 4
        self.inits.append(self.tensor_json(name, arr, inline, self.blob))
        self.values[name] = arr
        return name

    def node(self, op_type, inputs, outputs, name=None, **attrs):
        if isinstance(outputs, str):
            outputs = [outputs]
        n = {"name": name or f"{op_type.lower()}_{len(self.nodes)}",
             "op_type": op_type, "domain": "",
             "inputs": list(inputs), "outputs": list(outputs)}
        if attrs:
            n["attributes"] = attrs
        self.nodes.append(n)
        return outputs[0] if len(outputs) == 1 else outputs

    def constant(self, name, arr):
        """A Constant node with a TENSOR attribute."""
        arr = np.asarray(arr)
        self.values[name] = arr
        return self.node("Constant", [], [name], name=name,
                         value={"tensor": self.tensor_json(name, arr)})

    def to_json(self):
        doc = {"format": "kiln-graph", "version": 1, "name": self.name, "opset": OPSET}
        if self.weights_file:
            doc["weights_file"] = self.weights_file
        doc.update(inputs=self.inputs, outputs=self.outputs,
                   initializers=self.inits, nodes=self.nodes)
        # one entry per line: readable diffs without a number per line
        lines = ["{"]
        items = list(doc.items())
        for k, (key, val) in enumerate(items):
            comma = "," if k + 1 < len(items) else ""
            if isinstance(val, list):
                lines.append(f"  {json.dumps(key)}: [")
                for j, e in enumerate(val):
                    c = "," if j + 1 < len(val) else ""
                    lines.append("    " + json.dumps(e, allow_nan=False) + c)
                lines.append(f"  ]{comma}")
            else:
                lines.append(f"  {json.dumps(key)}: {json.dumps(val)}{comma}")
        lines.append("}")
        return "\n".join(lines) + "\n"

    def write(self, folder, feeds, expected):
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        os.makedirs(os.path.join(folder, "test_data_set_0"))
        path = os.path.join(folder, "model.json")
        with open(path, "w") as f:
            f.write(self.to_json())
        if self.weights_file:
            with open(os.path.join(folder, self.weights_file), "wb") as f:
                f.write(bytes(self.blob))
        for i, (vi, arr) in enumerate(zip(self.inputs, feeds)):
            write_pb(os.path.join(folder, "test_data_set_0", f"input_{i}.pb"), arr, vi["name"])
        for i, (vi, arr) in enumerate(zip(self.outputs, expected)):
            write_pb(os.path.join(folder, "test_data_set_0", f"output_{i}.pb"), arr, vi["name"])
        return path


def write_pb(path, arr, name):
    t = numpy_helper.from_array(np.ascontiguousarray(arr), name=name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


# ---------------------------------------------------------------------------
# Independent JSON -> ONNX conversion (docs/json-format.md) for validation
# ---------------------------------------------------------------------------

def json_tensor_to_onnx(t, weights):
    np_dt, _ = DTYPES[t["dtype"]]
    shape = t["shape"]
    count = int(np.prod(shape, dtype=np.int64))
    if "data" in t:
        arr = np.array(t["data"], dtype=np_dt).reshape(shape)
    else:
        itemsize = np.dtype(np_dt).itemsize
        assert t["length"] == count * itemsize, t["name"]
        assert weights is not None and t["offset"] + t["length"] <= len(weights), t["name"]
        arr = np.frombuffer(weights, dtype=np.dtype(np_dt).newbyteorder("<"),
                            count=count, offset=t["offset"]).reshape(shape)
    assert arr.size == count, t["name"]
    return numpy_helper.from_array(arr.astype(np_dt), name=t.get("name", ""))


def json_attr_to_onnx(name, v, weights):
    """Map a JSON attribute value to an AttributeProto by its JSON type."""
    A = onnx.AttributeProto
    a = A(name=name)

    def typed(kind, value):
        a.type = kind
        if kind == A.INT:
            a.i = int(value)
        elif kind == A.FLOAT:
            a.f = float(value)
        elif kind == A.STRING:
            a.s = value.encode()
        elif kind == A.INTS:
            a.ints.extend(int(e) for e in value)
        elif kind == A.FLOATS:
            a.floats.extend(float(e) for e in value)
        elif kind == A.STRINGS:
            a.strings.extend(e.encode() for e in value)
        return a

    def is_int(e):
        return isinstance(e, int) and not isinstance(e, bool)

    if is_int(v):
        return typed(A.INT, v)
    if isinstance(v, float):
        return typed(A.FLOAT, v)
    if isinstance(v, str):
        return typed(A.STRING, v)
    if isinstance(v, dict):
        if "tensor" in v:
            a.type = A.TENSOR
            a.t.CopyFrom(json_tensor_to_onnx(v["tensor"], weights))
            return a
        kind = {"int": A.INT, "float": A.FLOAT, "string": A.STRING,
                "ints": A.INTS, "floats": A.FLOATS, "strings": A.STRINGS}[v["type"]]
        return typed(kind, v["value"])
    if isinstance(v, list) and v:
        if all(is_int(e) for e in v):
            return typed(A.INTS, v)
        if all(is_int(e) or isinstance(e, float) for e in v):
            return typed(A.FLOATS, v)
        if all(isinstance(e, str) for e in v):
            return typed(A.STRINGS, v)
    raise ValueError(f"attribute {name}: unsupported value {v!r}")


def json_to_onnx(json_path):
    with open(json_path) as f:
        doc = json.load(f)
    assert doc["format"] == "kiln-graph" and doc["version"] == 1
    weights = None
    if "weights_file" in doc:
        with open(os.path.join(os.path.dirname(json_path), doc["weights_file"]), "rb") as f:
            weights = f.read()

    def vi(v):
        return helper.make_tensor_value_info(v["name"], DTYPES[v["dtype"]][1], v.get("shape"))

    nodes = []
    for n in doc["nodes"]:
        node = helper.make_node(n["op_type"], n["inputs"], n["outputs"], name=n.get("name"),
                                domain=n.get("domain", ""))
        for k, v in n.get("attributes", {}).items():
            node.attribute.append(json_attr_to_onnx(k, v, weights))
        nodes.append(node)
    graph = helper.make_graph(
        nodes, doc.get("name", "graph"),
        [vi(v) for v in doc["inputs"]], [vi(v) for v in doc["outputs"]],
        initializer=[json_tensor_to_onnx(t, weights) for t in doc.get("initializers", [])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", doc.get("opset", 17))],
                              producer_name="kiln-make_json_models")
    model.ir_version = 8
    return model, doc


def validate(json_path, onnx_dir=None):
    model, doc = json_to_onnx(json_path)
    onnx.checker.check_model(model, full_check=True)
    inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    # the inferred output shapes must agree with the declared ones
    known = {v.name: v for v in list(inferred.graph.value_info) + list(inferred.graph.output)}
    for o in doc["outputs"]:
        t = known[o["name"]].type.tensor_type
        dims = [d.dim_value if d.HasField("dim_value") else None for d in t.shape.dim]
        if "shape" in o:
            assert dims == o["shape"], (o["name"], dims, o["shape"])
    if onnx_dir:
        d = os.path.join(onnx_dir, doc["name"])
        os.makedirs(d, exist_ok=True)
        onnx.save(model, os.path.join(d, "model.onnx"))
        src = os.path.join(os.path.dirname(json_path), "test_data_set_0")
        dst = os.path.join(d, "test_data_set_0")
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst)
    return sorted({n.op_type for n in model.graph.node})


# ---------------------------------------------------------------------------
# float64 numpy reference ops
# ---------------------------------------------------------------------------

def f64(a):
    return np.asarray(a, dtype=np.float64)


def ref_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def ref_conv2d(x, w, b=None, pad=0, stride=1):
    n, c, h, wd = x.shape
    oc, ic, kh, kw = w.shape
    assert ic == c
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    y = np.zeros((n, oc, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]  # n,c,oh,ow
            y += np.einsum("nchw,oc->nohw", patch, w[:, :, i, j])
    if b is not None:
        y += b.reshape(1, -1, 1, 1)
    return y


def ref_maxpool2x2(x):
    n, c, h, w = x.shape
    return x.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))


def ref_layernorm(x, g, b, eps):
    mu = x.mean(axis=-1, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * g + b


_erf = np.vectorize(math.erf)


def check_output(name, y):
    std, mx = float(np.std(y)), float(np.abs(y).max())
    print(f"[{name}] output shape {list(y.shape)} std {std:.4g} max|y| {mx:.4g}")
    assert np.isfinite(y).all(), name
    assert mx > 0 and std > 1e-3, f"{name}: output is (nearly) all zeros"


# ---------------------------------------------------------------------------
# models
# ---------------------------------------------------------------------------

def make_mlp(out_dir):
    rng = np.random.default_rng(100)
    g = Graph("mlp")
    g.input("x", "float32", [1, 64])
    g.output("y", "float32", [1, 10])
    W1 = g.init("w1", qrandn(rng, (128, 64), math.sqrt(2 / 64)))
    B1 = g.init("b1", qrandn(rng, (128,), 0.1))
    W2 = g.init("w2", qrandn(rng, (64, 128), math.sqrt(2 / 128)))
    B2 = g.init("b2", qrandn(rng, (64,), 0.1))
    W3 = g.init("w3", qrandn(rng, (10, 64), 1.0 / math.sqrt(64)))
    B3 = g.init("b3", qrandn(rng, (10,), 0.1))
    h = g.node("Gemm", ["x", W1, B1], "h1", name="fc1", transB=1)
    h = g.node("Relu", [h], "r1", name="relu1")
    h = g.node("Gemm", [h, W2, B2], "h2", name="fc2", transB=1, alpha=1.0, beta=1.0)
    h = g.node("Relu", [h], "r2", name="relu2")
    h = g.node("Gemm", [h, W3, B3], "logits", name="fc3", transB=1)
    g.node("Softmax", [h], "y", name="softmax", axis=-1)

    x = rng.standard_normal((1, 64)).astype(np.float32)
    v = {k: f64(a) for k, a in g.values.items()}
    r = np.maximum(f64(x) @ v["w1"].T + v["b1"], 0)
    r = np.maximum(r @ v["w2"].T + v["b2"], 0)
    y = ref_softmax(r @ v["w3"].T + v["b3"], -1).astype(np.float32)
    check_output("mlp", y)
    assert abs(float(y.sum()) - 1) < 1e-5
    return g.write(os.path.join(out_dir, "mlp"), [x], [y])


def make_cnn(out_dir):
    rng = np.random.default_rng(200)
    g = Graph("cnn", weights_file="cnn.weights.bin")
    g.input("x", "float32", [1, 3, 32, 32])
    g.output("y", "float32", [1, 10])
    g.init("conv1_w", qrandn(rng, (8, 3, 3, 3), math.sqrt(2 / 27)))
    g.init("bn_scale", (1 + qrandn(rng, (8,), 0.1)).astype(np.float32))
    g.init("bn_bias", qrandn(rng, (8,), 0.1))
    g.init("bn_mean", qrandn(rng, (8,), 0.1))
    g.init("bn_var", (np.round(rng.uniform(0.5, 1.5, 8) * 4096) / 4096).astype(np.float32))
    g.init("conv2_w", qrandn(rng, (16, 8, 3, 3), math.sqrt(2 / 72)))
    g.init("conv2_b", qrandn(rng, (16,), 0.1))
    g.init("proj_w", qrandn(rng, (16, 8, 1, 1), math.sqrt(1 / 8)))
    g.init("clip_max", np.array(6.0, dtype=np.float32))  # scalar initializer
    g.init("fc_w", qrandn(rng, (10, 16), 1.0 / math.sqrt(16)))
    g.init("fc_b", qrandn(rng, (10,), 0.1))

    g.node("Conv", ["x", "conv1_w"], "c1", name="conv1",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
    g.node("BatchNormalization", ["c1", "bn_scale", "bn_bias", "bn_mean", "bn_var"], "bn1",
           name="bn1", epsilon=1e-5)
    g.node("Relu", ["bn1"], "r1", name="relu1")
    g.node("MaxPool", ["r1"], "p1", name="pool1", kernel_shape=[2, 2], strides=[2, 2])
    # branch A: 3x3 conv + bias -> Clip(0, 6)  (min from a Constant node, max an initializer)
    g.node("Conv", ["p1", "conv2_w", "conv2_b"], "c2", name="conv2",
           kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1)
    g.constant("clip_min", np.array(0.0, dtype=np.float32))
    g.node("Clip", ["c2", "clip_min", "clip_max"], "a", name="relu6")
    # branch B: 1x1 projection without bias (explicitly omitted optional input)
    g.node("Conv", ["p1", "proj_w", ""], "b", name="proj", kernel_shape=[1, 1])
    g.node("Add", ["a", "b"], "s", name="residual")
    g.node("GlobalAveragePool", ["s"], "gap", name="gap")
    g.node("Flatten", ["gap"], "flat", name="flatten", axis=1)
    g.node("Gemm", ["flat", "fc_w", "fc_b"], "y", name="fc", transB=1)

    x = rng.standard_normal((1, 3, 32, 32)).astype(np.float32)
    v = {k: f64(a) for k, a in g.values.items()}
    c1 = ref_conv2d(f64(x), v["conv1_w"], pad=1)
    bn = ((c1 - v["bn_mean"].reshape(1, -1, 1, 1)) / np.sqrt(v["bn_var"].reshape(1, -1, 1, 1) + 1e-5)
          * v["bn_scale"].reshape(1, -1, 1, 1) + v["bn_bias"].reshape(1, -1, 1, 1))
    p1 = ref_maxpool2x2(np.maximum(bn, 0))
    a = np.clip(ref_conv2d(p1, v["conv2_w"], v["conv2_b"], pad=1), 0.0, 6.0)
    b = ref_conv2d(p1, v["proj_w"])
    gap = (a + b).mean(axis=(2, 3))
    y = (gap @ v["fc_w"].T + v["fc_b"]).astype(np.float32)
    check_output("cnn", y)
    return g.write(os.path.join(out_dir, "cnn"), [x], [y])


def make_attention(out_dir):
    rng = np.random.default_rng(300)
    T, C, H, D, F = 16, 32, 2, 16, 64
    g = Graph("attention")
    g.input("x", "float32", [1, T, C])
    g.output("y", "float32", [1, T, C])

    # positional table, gathered with non-contiguous int64 indices
    g.init("pos_table", qrandn(rng, (24, C), 0.5))
    g.init("pos_idx", rng.permutation(24)[:T].astype(np.int64))
    g.node("Gather", ["pos_table", "pos_idx"], "pos", name="pos_gather", axis=0)  # [T,C]
    g.node("Add", ["x", "pos"], "x0", name="add_pos")  # [1,T,C]

    # fused QKV weight built with Concat, projection split with Split
    for n in ("wq", "wk", "wv"):
        g.init(n, qrandn(rng, (C, C), 1.0 / math.sqrt(C)))
    g.node("Concat", ["wq", "wk", "wv"], "wqkv", name="concat_qkv", axis=1)  # [C,3C]
    g.node("MatMul", ["x0", "wqkv"], "qkv", name="qkv_proj")  # [1,T,3C]
    g.init("qkv_split", np.array([C, C, C], dtype=np.int64))
    g.node("Split", ["qkv", "qkv_split"], ["q", "k", "v"], name="split_qkv", axis=-1)
    g.init("heads_shape", np.array([1, T, H, D], dtype=np.int64))
    for n in ("q", "k", "v"):
        g.node("Reshape", [n, "heads_shape"], f"{n}_h", name=f"reshape_{n}")
    g.node("Transpose", ["q_h"], "q_t", name="transpose_q", perm=[0, 2, 1, 3])  # [1,H,T,D]
    g.node("Transpose", ["k_h"], "k_t", name="transpose_k", perm=[0, 2, 3, 1])  # [1,H,D,T]
    g.node("Transpose", ["v_h"], "v_t", name="transpose_v", perm=[0, 2, 1, 3])  # [1,H,T,D]
    g.node("MatMul", ["q_t", "k_t"], "scores", name="qk")  # [1,H,T,T]

    # scale = Sqrt(Cast<float>(Squeeze(int64 [D])))
    g.constant("head_dim", np.array([D], dtype=np.int64))
    g.init("axes0", np.array([0], dtype=np.int64))
    g.node("Squeeze", ["head_dim", "axes0"], "head_dim_s", name="squeeze_hd")
    g.node("Cast", ["head_dim_s"], "head_dim_f", name="cast_hd", to=TensorProto.FLOAT)
    g.node("Sqrt", ["head_dim_f"], "scale", name="sqrt_hd")
    g.node("Div", ["scores", "scale"], "scores_s", name="scale_scores")

    # causal mask: Slice a [32,32] bool table to [T,T], Unsqueeze to [1,1,T,T], Where
    tri = np.tril(np.ones((32, 32), dtype=np.bool_))
    g.init("causal_table", tri)
    g.init("sl_starts", np.array([0, 0], dtype=np.int64))
    g.init("sl_ends", np.array([T, T], dtype=np.int64))
    g.init("sl_axes", np.array([0, 1], dtype=np.int64))
    g.node("Slice", ["causal_table", "sl_starts", "sl_ends", "sl_axes"], "mask2d", name="slice_mask")
    g.node("Constant", [], ["unsq_axes"], name="unsq_axes", value_ints=[0, 1])
    g.node("Unsqueeze", ["mask2d", "unsq_axes"], "mask", name="unsqueeze_mask")
    g.node("Constant", [], ["neg_big"], name="neg_big", value_float=-1e9)
    g.node("Where", ["mask", "scores_s", "neg_big"], "scores_m", name="causal_where")
    g.node("Softmax", ["scores_m"], "probs", name="softmax", axis=-1)
    g.node("MatMul", ["probs", "v_t"], "ctx", name="pv")  # [1,H,T,D]
    g.node("Transpose", ["ctx"], "ctx_t", name="transpose_ctx", perm=[0, 2, 1, 3])  # [1,T,H,D]
    g.init("merge_shape", np.array([1, T, C], dtype=np.int64))
    g.node("Reshape", ["ctx_t", "merge_shape"], "ctx_m", name="merge_heads")
    g.init("wo", qrandn(rng, (C, C), 1.0 / math.sqrt(C)))
    g.node("MatMul", ["ctx_m", "wo"], "attn", name="out_proj")
    g.node("Add", ["x0", "attn"], "res1", name="residual1")
    g.init("ln_g", (1 + qrandn(rng, (C,), 0.1)).astype(np.float32))
    g.init("ln_b", qrandn(rng, (C,), 0.1))
    g.node("LayerNormalization", ["res1", "ln_g", "ln_b"], "h", name="ln1",
           axis=-1, epsilon=1e-5)

    # FFN with erf-GELU spelled out
    g.init("w1", qrandn(rng, (C, F), 1.0 / math.sqrt(C)))
    g.init("b1", qrandn(rng, (F,), 0.1))
    g.init("w2", qrandn(rng, (F, C), 1.0 / math.sqrt(F)))
    g.node("MatMul", ["h", "w1"], "f1", name="ffn1")
    g.node("Add", ["f1", "b1"], "u", name="ffn1_bias")
    g.init("sqrt2", np.array(math.sqrt(2.0), dtype=np.float32))  # float32 value, spelled exactly
    g.init("one", np.array(1.0, dtype=np.float32))
    g.init("half", np.array(0.5, dtype=np.float32))
    g.node("Div", ["u", "sqrt2"], "u_s", name="gelu_div")
    g.node("Erf", ["u_s"], "u_erf", name="gelu_erf")
    g.node("Add", ["u_erf", "one"], "u_1p", name="gelu_add")
    g.node("Mul", ["u", "u_1p"], "u_m", name="gelu_mul")
    g.node("Mul", ["u_m", "half"], "gelu", name="gelu_half")
    g.node("MatMul", ["gelu", "w2"], "f2", name="ffn2")
    g.node("Add", ["h", "f2"], "res2", name="residual2")

    # manual centring + RMS normalisation: c / Sqrt(ReduceMean(Pow(c, 2)) + 1e-6)
    g.node("ReduceMean", ["res2"], "mean", name="rm_mean", axes=[-1], keepdims=1)
    g.node("Sub", ["res2", "mean"], "cent", name="center")
    g.init("two", np.array(2.0, dtype=np.float32))
    g.init("eps", np.array(1e-6, dtype=np.float32))
    g.node("Pow", ["cent", "two"], "sq", name="square")
    g.node("ReduceMean", ["sq"], "ms", name="rm_ms", axes=[-1], keepdims=1)
    g.node("Add", ["ms", "eps"], "ms_eps", name="add_eps")
    g.node("Sqrt", ["ms_eps"], "rms", name="sqrt_rms")
    g.node("Div", ["cent", "rms"], "y", name="rms_norm")

    x = rng.standard_normal((1, T, C)).astype(np.float32)
    v = {k: f64(a) if a.dtype.kind == "f" else a for k, a in g.values.items()}
    x0 = f64(x) + v["pos_table"][v["pos_idx"]]
    q, k, vv = (x0 @ v["wq"], x0 @ v["wk"], x0 @ v["wv"])
    heads = lambda t: t.reshape(1, T, H, D).transpose(0, 2, 1, 3)  # noqa: E731
    s = heads(q) @ heads(k).transpose(0, 1, 3, 2) / math.sqrt(D)
    s = np.where(np.tril(np.ones((T, T), dtype=bool))[None, None], s, -1e9)
    ctx = (ref_softmax(s, -1) @ heads(vv)).transpose(0, 2, 1, 3).reshape(1, T, C)
    h = ref_layernorm(x0 + ctx @ v["wo"], v["ln_g"], v["ln_b"], 1e-5)
    u = h @ v["w1"] + v["b1"]
    gelu = u * 0.5 * (1 + _erf(u / float(v["sqrt2"])))
    r2 = h + gelu @ v["w2"]
    c = r2 - r2.mean(axis=-1, keepdims=True)
    y = (c / np.sqrt((c ** 2).mean(axis=-1, keepdims=True) + float(v["eps"]))).astype(np.float32)
    check_output("attention", y)
    return g.write(os.path.join(out_dir, "attention"), [x], [y])


def make_norms(out_dir):
    """Layer norm and softmax of rows whose mean (100) dwarfs their spread
    (about 1): a naive one-pass variance or an exp without the row maximum
    taken out fails here, while random data centred on zero hides both."""
    rng = np.random.default_rng(400)
    R, C = 8, 384
    g = Graph("norms")
    g.input("x", "float32", [R, C])
    g.output("ln", "float32", [R, C])
    g.output("probs", "float32", [R, C])
    g.init("ln_g", (1 + qrandn(rng, (C,), 0.1)).astype(np.float32))
    g.init("ln_b", qrandn(rng, (C,), 0.1))
    g.node("LayerNormalization", ["x", "ln_g", "ln_b"], "ln", name="ln", axis=-1, epsilon=1e-5)
    g.node("Softmax", ["x"], "probs", name="softmax", axis=-1)
    x = (100 + rng.standard_normal((R, C))).astype(np.float32)
    v = {k: f64(a) for k, a in g.values.items()}
    ln = ref_layernorm(f64(x), v["ln_g"], v["ln_b"], 1e-5).astype(np.float32)
    probs = ref_softmax(f64(x), -1).astype(np.float32)
    check_output("norms", ln)
    return g.write(os.path.join(out_dir, "norms"), [x], [ln, probs])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=HERE, help="output directory (default: %(default)s)")
    ap.add_argument("--onnx-dir", default=None,
                    help="also write the equivalent ONNX models here (debugging only)")
    args = ap.parse_args()

    for make in (make_mlp, make_cnn, make_attention, make_norms):
        path = make(args.out)
        ops = validate(path, args.onnx_dir)
        folder = os.path.dirname(path)
        size = sum(os.path.getsize(os.path.join(dp, f))
                   for dp, _, fs in os.walk(folder) for f in fs)
        assert size < 1 << 20, f"{folder} is {size} bytes"
        print(f"  wrote {os.path.relpath(path)} ({size} bytes in folder); "
              f"checker + strict shape inference OK; ops: {' '.join(ops)}")


if __name__ == "__main__":
    sys.exit(main())
