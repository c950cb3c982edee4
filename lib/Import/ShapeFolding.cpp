//===- ShapeFolding.cpp - Fold compile-time-known subgraphs ---------------===//
//
// A deliberately small evaluator: integer and floating-point values held as
// int64/double vectors, for the ops shape computations use. Anything else is
// left alone.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/ShapeFolding.h"
#include "lib/Import/TensorData.h"

#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <algorithm>

namespace kiln {
namespace {

using onnx::TensorProto;

/// A small constant: integers (incl. bool) in `i`, floats in `f`.
struct Val {
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  std::vector<int64_t> i;
  std::vector<double> f;
  bool isFloat() const {
    return dtype == TensorProto::FLOAT || dtype == TensorProto::DOUBLE ||
           dtype == TensorProto::FLOAT16;
  }
  int64_t size() const { return isFloat() ? f.size() : i.size(); }
  double at(int64_t k) const { return isFloat() ? f[k] : double(i[k]); }
};

int64_t count(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

std::optional<Val> fromTensor(const TensorProto &t) {
  if (t.data_type() == TensorProto::FLOAT16 || t.data_type() == TensorProto::STRING)
    return std::nullopt;
  auto bytes = tensorBytes(t);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    return std::nullopt;
  }
  Val v;
  v.dtype = t.data_type();
  v.dims.assign(t.dims().begin(), t.dims().end());
  int64_t n = count(v.dims);
  if (n > kMaxFoldedElements)
    return std::nullopt;
  const char *p = bytes->data();
  for (int64_t k = 0; k < n; ++k) {
    auto get = [&](auto dummy) {
      decltype(dummy) x;
      std::memcpy(&x, p + k * sizeof(x), sizeof(x));
      return x;
    };
    switch (v.dtype) {
    case TensorProto::FLOAT: v.f.push_back(get(float())); break;
    case TensorProto::DOUBLE: v.f.push_back(get(double())); break;
    case TensorProto::INT64: v.i.push_back(get(int64_t())); break;
    case TensorProto::INT32: v.i.push_back(get(int32_t())); break;
    case TensorProto::INT16: v.i.push_back(get(int16_t())); break;
    case TensorProto::INT8: v.i.push_back(get(int8_t())); break;
    case TensorProto::UINT8:
    case TensorProto::BOOL: v.i.push_back(get(uint8_t())); break;
    case TensorProto::UINT16: v.i.push_back(get(uint16_t())); break;
    case TensorProto::UINT32: v.i.push_back(get(uint32_t())); break;
    case TensorProto::UINT64: v.i.push_back((int64_t)get(uint64_t())); break;
    default: return std::nullopt;
    }
  }
  return v;
}

TensorProto toTensor(const Val &v, const std::string &name) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(v.dtype);
  for (int64_t d : v.dims)
    t.add_dims(d);
  std::string raw;
  auto put = [&](auto x) { raw.append(reinterpret_cast<const char *>(&x), sizeof(x)); };
  for (int64_t k = 0; k < v.size(); ++k) {
    switch (v.dtype) {
    case TensorProto::FLOAT: put(static_cast<float>(v.f[k])); break;
    case TensorProto::DOUBLE: put(v.f[k]); break;
    case TensorProto::INT64: put(v.i[k]); break;
    case TensorProto::INT32: put(static_cast<int32_t>(v.i[k])); break;
    case TensorProto::INT16: put(static_cast<int16_t>(v.i[k])); break;
    case TensorProto::INT8: put(static_cast<int8_t>(v.i[k])); break;
    case TensorProto::UINT8: put(static_cast<uint8_t>(v.i[k])); break;
    case TensorProto::BOOL: put(static_cast<uint8_t>(v.i[k] != 0)); break;
    case TensorProto::UINT16: put(static_cast<uint16_t>(v.i[k])); break;
    case TensorProto::UINT32: put(static_cast<uint32_t>(v.i[k])); break;
    case TensorProto::UINT64: put(static_cast<uint64_t>(v.i[k])); break;
    }
  }
  t.set_raw_data(raw);
  return t;
}

Val make(int32_t dtype, std::vector<int64_t> dims) {
  Val v;
  v.dtype = dtype;
  v.dims = std::move(dims);
  return v;
}

void push(Val &v, double x) {
  if (v.isFloat())
    v.f.push_back(x);
  else
    v.i.push_back(static_cast<int64_t>(x));
}

std::optional<std::vector<int64_t>> broadcastDims(const std::vector<Val *> &vals) {
  size_t rank = 0;
  for (Val *v : vals)
    rank = std::max(rank, v->dims.size());
  std::vector<int64_t> out(rank, 1);
  for (Val *v : vals)
    for (size_t k = 0; k < v->dims.size(); ++k) {
      int64_t &o = out[rank - v->dims.size() + k], d = v->dims[k];
      if (d != o && d != 1 && o != 1)
        return std::nullopt;
      if (o == 1)
        o = d;
    }
  return out;
}

/// Offset into `v` of the flat index `k` of a broadcast result of `dims`.
int64_t broadcastOffset(const Val &v, const std::vector<int64_t> &dims, int64_t k) {
  int64_t off = 0, stride = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    int64_t idx = k % dims[d];
    k /= dims[d];
    size_t vd = d + v.dims.size() - dims.size();
    if (d + v.dims.size() >= dims.size()) {
      if (v.dims[vd] != 1)
        off += idx * stride;
      stride *= v.dims[vd];
    }
  }
  return off;
}

int64_t attrInt(const onnx::NodeProto &n, const char *name, int64_t dflt) {
  for (const auto &a : n.attribute())
    if (a.name() == name && a.type() == onnx::AttributeProto::INT)
      return a.i();
  return dflt;
}

const onnx::AttributeProto *attrOf(const onnx::NodeProto &n, const char *name) {
  for (const auto &a : n.attribute())
    if (a.name() == name)
      return &a;
  return nullptr;
}

using Inputs = std::vector<const Val *>;

std::optional<Val> elementwise(const Inputs &in, int32_t dtype,
                               const std::function<double(double, double)> &fn) {
  std::vector<Val *> vs = {const_cast<Val *>(in[0]), const_cast<Val *>(in[1])};
  auto dims = broadcastDims(vs);
  if (!dims || count(*dims) > kMaxFoldedElements)
    return std::nullopt;
  Val out = make(dtype, *dims);
  for (int64_t k = 0; k < count(*dims); ++k)
    push(out, fn(in[0]->at(broadcastOffset(*in[0], *dims, k)),
                 in[1]->at(broadcastOffset(*in[1], *dims, k))));
  return out;
}

/// Evaluates one node on constant inputs (`in`, null where unknown) and the
/// static input shapes (`shapes`, empty optional where unknown).
std::optional<Val> evaluate(const onnx::NodeProto &n, const Inputs &in,
                            const std::vector<std::optional<std::vector<int64_t>>> &shapes) {
  const std::string &op = n.op_type();
  auto allConst = [&]() {
    for (const Val *v : in)
      if (!v)
        return false;
    return !in.empty();
  };
  if (op == "Shape" && !in.empty() && shapes[0]) {
    int64_t rank = shapes[0]->size();
    auto clampIdx = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
    int64_t start = clampIdx(attrInt(n, "start", 0)), end = clampIdx(attrInt(n, "end", rank));
    Val out = make(TensorProto::INT64, {std::max<int64_t>(end - start, 0)});
    for (int64_t d = start; d < end; ++d)
      out.i.push_back((*shapes[0])[d]);
    return out;
  }
  if (op == "Size" && !in.empty() && shapes[0]) {
    Val out = make(TensorProto::INT64, {});
    out.i.push_back(count(*shapes[0]));
    return out;
  }
  if (!allConst())
    return std::nullopt;
  const Val &a = *in[0];
  if (op == "Identity")
    return a;
  if (op == "Cast") {
    int64_t to = attrInt(n, "to", 0);
    if (!onnxElementSize(to) || to == TensorProto::FLOAT16)
      return std::nullopt;
    Val out = make(to, a.dims);
    for (int64_t k = 0; k < a.size(); ++k)
      push(out, to == TensorProto::BOOL ? (a.at(k) != 0) : a.at(k));
    return out;
  }
  if (in.size() == 1) {
    std::function<double(double)> fn;
    if (op == "Neg") fn = [](double x) { return -x; };
    if (op == "Abs") fn = [](double x) { return std::fabs(x); };
    if (op == "Not") fn = [](double x) { return double(x == 0); };
    if (a.isFloat()) {
      if (op == "Ceil") fn = [](double x) { return std::ceil(x); };
      if (op == "Floor") fn = [](double x) { return std::floor(x); };
      if (op == "Relu") fn = [](double x) { return x > 0 ? x : 0.0; };
    } else if (op == "Relu") {
      fn = [](double x) { return x > 0 ? x : 0.0; };
    }
    if (fn) {
      Val out = make(a.dtype, a.dims);
      for (int64_t k = 0; k < a.size(); ++k)
        push(out, fn(a.at(k)));
      return out;
    }
  }
  if ((op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten") &&
      n.output_size() == 1) {
    return std::nullopt; // Handled by the caller from the inferred output shape.
  }
  if (in.size() == 2) {
    bool fp = a.isFloat();
    if (op == "Add") return elementwise(in, a.dtype, [](double x, double y) { return x + y; });
    if (op == "Sub") return elementwise(in, a.dtype, [](double x, double y) { return x - y; });
    if (op == "Mul") return elementwise(in, a.dtype, [](double x, double y) { return x * y; });
    if (op == "Div")
      return elementwise(in, a.dtype, [fp](double x, double y) {
        return fp ? x / y : (y == 0 ? 0.0 : std::trunc(x / y));
      });
    if (op == "Equal")
      return elementwise(in, TensorProto::BOOL, [](double x, double y) { return x == y; });
    if (op == "Less")
      return elementwise(in, TensorProto::BOOL, [](double x, double y) { return x < y; });
    if (op == "Greater")
      return elementwise(in, TensorProto::BOOL, [](double x, double y) { return x > y; });
  }
  if (op == "Range" && in.size() == 3) {
    double start = a.at(0), limit = in[1]->at(0), delta = in[2]->at(0);
    if (delta == 0)
      return std::nullopt;
    int64_t num = std::max<int64_t>(std::ceil((limit - start) / delta), 0);
    if (num > kMaxFoldedElements)
      return std::nullopt;
    Val out = make(a.dtype, {num});
    for (int64_t k = 0; k < num; ++k)
      push(out, a.dtype == TensorProto::FLOAT ? double(float(start) + float(k) * float(delta))
                                              : start + k * delta);
    return out;
  }
  if (op == "ConstantOfShape") {
    std::vector<int64_t> dims(a.i.begin(), a.i.end());
    for (int64_t d : dims)
      if (d < 0)
        return std::nullopt;
    if (count(dims) > kMaxFoldedElements)
      return std::nullopt;
    Val fill = make(TensorProto::FLOAT, {});
    fill.f.push_back(0.0);
    if (const auto *value = attrOf(n, "value"); value && value->has_t()) {
      auto v = fromTensor(value->t());
      if (!v || v->size() != 1)
        return std::nullopt;
      fill = *v;
    }
    Val out = make(fill.dtype, dims);
    for (int64_t k = 0; k < count(dims); ++k)
      push(out, fill.at(0));
    return out;
  }
  if (op == "Concat" && a.dims.size() == 1) {
    Val out = make(a.dtype, {0});
    for (const Val *v : in) {
      if (v->dims.size() != 1 || v->dtype != a.dtype)
        return std::nullopt;
      // Integers are copied as int64 so values like INT64_MAX stay exact.
      out.i.insert(out.i.end(), v->i.begin(), v->i.end());
      out.f.insert(out.f.end(), v->f.begin(), v->f.end());
      out.dims[0] += v->dims[0];
    }
    return out;
  }
  if (op == "Gather" && a.dims.size() == 1 && in.size() == 2) {
    const Val &idx = *in[1];
    Val out = make(a.dtype, idx.dims);
    for (int64_t k = 0; k < idx.size(); ++k) {
      int64_t j = idx.i.empty() ? (int64_t)idx.at(k) : idx.i[k];
      if (j < 0)
        j += a.dims[0];
      if (j < 0 || j >= a.dims[0])
        return std::nullopt;
      if (a.isFloat())
        out.f.push_back(a.f[j]);
      else
        out.i.push_back(a.i[j]);
    }
    return out;
  }
  return std::nullopt;
}

} // namespace

onnx::NodeProto constantNode(const std::string &nodeName, onnx::TensorProto value) {
  onnx::NodeProto n;
  n.set_op_type("Constant");
  n.set_name(nodeName);
  n.add_output(value.name());
  auto *attr = n.add_attribute();
  attr->set_name("value");
  attr->set_type(onnx::AttributeProto::TENSOR);
  *attr->mutable_t() = std::move(value);
  return n;
}

std::optional<onnx::TensorProto>
foldConstantNode(const onnx::NodeProto &node,
                 const std::vector<const onnx::TensorProto *> &inputs) {
  if (node.output_size() != 1)
    return std::nullopt;
  std::vector<Val> vals;
  for (const auto *t : inputs) {
    if (!t)
      return std::nullopt;
    auto v = fromTensor(*t);
    if (!v)
      return std::nullopt;
    vals.push_back(std::move(*v));
  }
  Inputs in;
  std::vector<std::optional<std::vector<int64_t>>> shapes;
  for (const Val &v : vals) {
    in.push_back(&v);
    shapes.push_back(v.dims);
  }
  const std::string &op = node.op_type();
  std::optional<Val> result;
  if ((op == "Unsqueeze" || op == "Squeeze") && !vals.empty()) {
    // Opset 13+: axes come as the second input.
    std::vector<int64_t> dims = vals[0].dims, axes;
    if (vals.size() > 1)
      axes = vals[1].i;
    if (op == "Unsqueeze") {
      int64_t rank = dims.size() + axes.size();
      for (int64_t &ax : axes)
        ax = ax < 0 ? ax + rank : ax;
      std::sort(axes.begin(), axes.end());
      for (int64_t ax : axes) {
        if (ax < 0 || ax > (int64_t)dims.size())
          return std::nullopt;
        dims.insert(dims.begin() + ax, 1);
      }
    } else {
      std::vector<int64_t> kept;
      for (int64_t d = 0; d < (int64_t)dims.size(); ++d) {
        bool drop = axes.empty() ? dims[d] == 1
                                 : std::count(axes.begin(), axes.end(), d) ||
                                       std::count(axes.begin(), axes.end(), d - (int64_t)dims.size());
        if (!drop)
          kept.push_back(dims[d]);
      }
      dims = kept;
    }
    result = vals[0];
    result->dims = dims;
  } else {
    result = evaluate(node, in, shapes);
  }
  if (!result || result->size() > kMaxFoldedElements)
    return std::nullopt;
  return toTensor(*result, node.output(0));
}

int foldShapeSubgraphs(onnx::ModelProto &model) {
  int folded = 0;
  for (int round = 0; round < 16; ++round) {
    try {
      onnx::ShapeInferenceOptions options(false, 0, true);
      onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(), options);
    } catch (const std::exception &) {
      // The strict pass after folding reports shape errors with context.
    }
    auto *graph = model.mutable_graph();
    std::map<std::string, Val> consts;
    std::map<std::string, std::vector<int64_t>> shapes;
    for (const auto &t : graph->initializer())
      if (auto v = fromTensor(t))
        consts[t.name()] = *v;
    auto addShape = [&](const onnx::ValueInfoProto &info) {
      if (auto dims = staticDims(info.type()))
        shapes[info.name()] = *dims;
    };
    for (const auto &v : graph->input())
      addShape(v);
    for (const auto &v : graph->value_info())
      addShape(v);
    for (const auto &v : graph->output())
      addShape(v);

    bool changed = false;
    for (auto &node : *graph->mutable_node()) {
      if (!node.domain().empty() && node.domain() != "ai.onnx")
        continue;
      if (node.op_type() == "Constant") {
        if (const auto *v = attrOf(node, "value"); v && v->has_t() && node.output_size() == 1)
          if (auto val = fromTensor(v->t()))
            consts[node.output(0)] = *val;
        continue;
      }
      if (node.output_size() != 1 || node.output(0).empty())
        continue;
      Inputs in;
      std::vector<std::optional<std::vector<int64_t>>> inShapes;
      for (const std::string &name : node.input()) {
        auto c = consts.find(name);
        in.push_back(c == consts.end() ? nullptr : &c->second);
        auto s = shapes.find(name);
        inShapes.push_back(s == shapes.end() ? std::nullopt
                                             : std::optional<std::vector<int64_t>>(s->second));
      }
      std::optional<Val> result = evaluate(node, in, inShapes);
      // Reshape-like ops on constants: the data is unchanged, the inferred
      // output shape is the new one.
      const std::string &op = node.op_type();
      if (!result && !in.empty() && in[0] &&
          (op == "Unsqueeze" || op == "Squeeze" || op == "Reshape" || op == "Flatten")) {
        auto s = shapes.find(node.output(0));
        if (s != shapes.end() && count(s->second) == in[0]->size()) {
          result = *in[0];
          result->dims = s->second;
        }
      }
      if (!result || result->size() > kMaxFoldedElements)
        continue;
      std::string out = node.output(0);
      consts[out] = *result;
      node = constantNode(node.name(), toTensor(*result, out));
      ++folded;
      changed = true;
    }
    if (!changed)
      break;
  }
  return folded;
}

} // namespace kiln
