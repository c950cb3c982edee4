//===- ConstantEvaluator.cpp - Evaluate ONNX nodes at compile time --------===//
//
// A reference interpreter for the ONNX ops that shape computations, masks and
// weight preprocessing are made of. Each op is one entry of a table; data
// movement ops (Transpose, Slice, Gather, Expand, Tile, Concat) share one
// index-mapping builder, elementwise ops one broadcasting loop.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/ConstantEvaluator.h"
#include "lib/Import/TensorData.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

namespace kiln {
namespace {

using onnx::TensorProto;

/// Thrown inside the evaluator: the node does not fold (an input is not
/// known, an attribute is malformed, or the result is undefined).
struct NotFoldable {};
/// Thrown inside the evaluator: the result would exceed the budget.
struct OverBudget {
  int64_t elements;
};

bool isFloatType(int32_t t) { return t == TensorProto::FLOAT || t == TensorProto::DOUBLE; }

bool isIntegerType(int32_t t) {
  switch (t) {
  case TensorProto::INT8: case TensorProto::INT16: case TensorProto::INT32:
  case TensorProto::INT64: case TensorProto::UINT8: case TensorProto::UINT16:
  case TensorProto::UINT32: case TensorProto::UINT64: case TensorProto::BOOL:
    return true;
  default:
    return false;
  }
}

/// Element count of `dims`; INT64_MAX when the product overflows.
int64_t countOf(const std::vector<int64_t> &dims) {
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d < 0)
      throw NotFoldable{};
    if (__builtin_mul_overflow(n, d, &n))
      return std::numeric_limits<int64_t>::max();
  }
  return n;
}

/// `v` as an element of integer type `dtype`, or nothing when it does not fit
/// (ONNX leaves such results undefined; they are not folded).
std::optional<int64_t> fitInteger(int32_t dtype, int64_t v) {
  auto in = [&](int64_t lo, int64_t hi) -> std::optional<int64_t> {
    if (v < lo || v > hi)
      return std::nullopt;
    return v;
  };
  switch (dtype) {
  case TensorProto::INT8: return in(INT8_MIN, INT8_MAX);
  case TensorProto::INT16: return in(INT16_MIN, INT16_MAX);
  case TensorProto::INT32: return in(INT32_MIN, INT32_MAX);
  case TensorProto::UINT8: return in(0, UINT8_MAX);
  case TensorProto::UINT16: return in(0, UINT16_MAX);
  case TensorProto::UINT32: return in(0, UINT32_MAX);
  case TensorProto::UINT64: return in(0, INT64_MAX);
  case TensorProto::BOOL: return v != 0;
  default: return v;
  }
}

/// Rounds a floating-point result to its element type.
double roundTo(int32_t dtype, double v) {
  return dtype == TensorProto::FLOAT ? double(static_cast<float>(v)) : v;
}

std::vector<int64_t> stridesOf(const std::vector<int64_t> &dims) {
  std::vector<int64_t> s(dims.size(), 1);
  for (size_t d = dims.size(); d-- > 1;)
    s[d - 1] = s[d] * dims[d];
  return s;
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw NotFoldable{};
  return axis < 0 ? axis + rank : axis;
}

/// Numpy broadcasting of `shapes`.
std::vector<int64_t> broadcastDims(const std::vector<const std::vector<int64_t> *> &shapes) {
  size_t rank = 0;
  for (auto *s : shapes)
    rank = std::max(rank, s->size());
  std::vector<int64_t> out(rank, 1);
  for (auto *s : shapes)
    for (size_t k = 0; k < s->size(); ++k) {
      int64_t &o = out[rank - s->size() + k], d = (*s)[k];
      if (d == o || d == 1)
        continue;
      if (o != 1)
        throw NotFoldable{};
      o = d;
    }
  return out;
}

/// One node's evaluation: its inputs, attributes and the result budget.
class Evaluator {
public:
  Evaluator(const onnx::NodeProto &node, const EvalInputs &inputs, int64_t maxBytes)
      : node(node), inputs(inputs), maxBytes(maxBytes) {}

  const onnx::NodeProto &node;

  bool has(size_t i) const {
    return i < (size_t)node.input_size() && !node.input(i).empty();
  }
  size_t numInputs() const { return node.input_size(); }
  const EvalTensor &in(size_t i) const {
    const EvalTensor *v = has(i) ? inputs.value(i) : nullptr;
    if (!v)
      throw NotFoldable{};
    return *v;
  }
  std::vector<int64_t> shape(size_t i) const {
    if (!has(i))
      throw NotFoldable{};
    if (const EvalTensor *v = inputs.value(i))
      return v->dims;
    auto s = inputs.shape(i);
    if (!s)
      throw NotFoldable{};
    return *s;
  }
  /// The integer values of input i.
  std::vector<int64_t> ints(size_t i) const {
    const EvalTensor &v = in(i);
    if (v.isFloat())
      throw NotFoldable{};
    return v.ints;
  }
  int64_t scalarInt(size_t i) const {
    auto v = ints(i);
    if (v.size() != 1)
      throw NotFoldable{};
    return v[0];
  }

  const onnx::AttributeProto *attr(const char *name) const {
    for (const auto &a : node.attribute())
      if (a.name() == name)
        return &a;
    return nullptr;
  }
  int64_t attrInt(const char *name, int64_t dflt) const {
    const auto *a = attr(name);
    if (!a)
      return dflt;
    if (a->type() != onnx::AttributeProto::INT)
      throw NotFoldable{};
    return a->i();
  }
  std::string attrString(const char *name, const std::string &dflt) const {
    const auto *a = attr(name);
    if (!a)
      return dflt;
    if (a->type() != onnx::AttributeProto::STRING)
      throw NotFoldable{};
    return a->s();
  }
  std::optional<std::vector<int64_t>> attrInts(const char *name) const {
    const auto *a = attr(name);
    if (!a)
      return std::nullopt;
    if (a->type() != onnx::AttributeProto::INTS)
      throw NotFoldable{};
    return std::vector<int64_t>(a->ints().begin(), a->ints().end());
  }

  /// An empty result of `dtype` and `dims` within the budget.
  EvalTensor make(int32_t dtype, std::vector<int64_t> dims) const {
    int64_t n = countOf(dims);
    if (constantBytes(dtype, n) > maxBytes)
      throw OverBudget{n};
    EvalTensor t;
    t.dtype = dtype;
    t.dims = std::move(dims);
    (isFloatType(dtype) ? t.floats.reserve(n) : t.ints.reserve(n));
    return t;
  }

  /// The tensor of `dims` whose element at each index comes from `source`,
  /// which returns (tensor, flat offset) for a multi-index.
  template <typename F>
  EvalTensor build(int32_t dtype, std::vector<int64_t> dims, F source) const {
    EvalTensor out = make(dtype, dims);
    int64_t n = countOf(out.dims);
    std::vector<int64_t> idx(out.dims.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
      auto [t, off] = source(idx);
      if (t->isFloat())
        out.floats.push_back(t->floats[off]);
      else
        out.ints.push_back(t->ints[off]);
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < out.dims[d])
          break;
        idx[d] = 0;
      }
    }
    return out;
  }

  /// Calls fn(offsets) for every element of the broadcast of `ts`, in
  /// row-major order, with each input's element offset.
  template <typename F>
  void forEachBroadcast(const std::vector<int64_t> &dims,
                        const std::vector<const EvalTensor *> &ts, F fn) const {
    size_t rank = dims.size();
    std::vector<std::vector<int64_t>> strides;
    for (const EvalTensor *t : ts) {
      std::vector<int64_t> s(rank, 0), own = stridesOf(t->dims);
      for (size_t k = 0; k < t->dims.size(); ++k)
        if (t->dims[k] != 1)
          s[rank - t->dims.size() + k] = own[k];
      strides.push_back(std::move(s));
    }
    std::vector<int64_t> idx(rank, 0), offs(ts.size(), 0);
    int64_t n = countOf(dims);
    for (int64_t k = 0; k < n; ++k) {
      fn(offs);
      for (size_t d = rank; d-- > 0;) {
        for (size_t t = 0; t < ts.size(); ++t)
          offs[t] += strides[t][d];
        if (++idx[d] < dims[d])
          break;
        for (size_t t = 0; t < ts.size(); ++t)
          offs[t] -= strides[t][d] * dims[d];
        idx[d] = 0;
      }
    }
  }

private:
  const EvalInputs &inputs;

public:
  /// The budget of one result, in bytes.
  const int64_t maxBytes;
};

using Outputs = std::vector<EvalTensor>;
using OpFn = Outputs (*)(const Evaluator &);

int64_t flatOffset(const std::vector<int64_t> &idx, const std::vector<int64_t> &strides) {
  int64_t off = 0;
  for (size_t d = 0; d < idx.size(); ++d)
    off += idx[d] * strides[d];
  return off;
}

//===--- Elementwise ---------------------------------------------------===//

/// `fi` on integer elements (nothing = not foldable), `ff` on floats.
template <typename FI, typename FF>
Outputs unary(const Evaluator &e, FI fi, FF ff) {
  const EvalTensor &a = e.in(0);
  EvalTensor out = e.make(a.dtype, a.dims);
  if (a.isFloat()) {
    for (double x : a.floats)
      out.floats.push_back(roundTo(a.dtype, ff(x)));
  } else {
    if (a.dtype == TensorProto::UINT64)
      throw NotFoldable{};
    for (int64_t x : a.ints) {
      std::optional<int64_t> r = fi(x);
      if (r)
        r = fitInteger(a.dtype, *r);
      if (!r)
        throw NotFoldable{};
      out.ints.push_back(*r);
    }
  }
  return {out};
}

/// A float-only unary op.
template <typename FF> Outputs floatUnary(const Evaluator &e, FF ff) {
  if (!e.in(0).isFloat())
    throw NotFoldable{};
  return unary(e, [](int64_t) { return std::optional<int64_t>(); }, ff);
}

/// A binary op with broadcasting over inputs of one element type. `fi`
/// returns nothing where the integer result is undefined; `outType` 0 keeps
/// the input type (comparisons give BOOL).
template <typename FI, typename FF>
EvalTensor binary(const Evaluator &e, const EvalTensor &a, const EvalTensor &b, int32_t outType,
                  FI fi, FF ff) {
  if (a.dtype != b.dtype || a.dtype == TensorProto::UINT64)
    throw NotFoldable{};
  int32_t type = outType ? outType : a.dtype;
  EvalTensor out = e.make(type, broadcastDims({&a.dims, &b.dims}));
  e.forEachBroadcast(out.dims, {&a, &b}, [&](const std::vector<int64_t> &o) {
    if (a.isFloat()) {
      double r = ff(a.floats[o[0]], b.floats[o[1]]);
      if (out.isFloat())
        out.floats.push_back(roundTo(type, r));
      else
        out.ints.push_back(r != 0); // a comparison
      return;
    }
    std::optional<int64_t> r = fi(a.ints[o[0]], b.ints[o[1]]);
    if (r)
      r = fitInteger(type, *r);
    if (!r)
      throw NotFoldable{};
    out.ints.push_back(*r);
  });
  return out;
}

template <typename FI, typename FF> Outputs binaryOp(const Evaluator &e, FI fi, FF ff) {
  return {binary(e, e.in(0), e.in(1), 0, fi, ff)};
}

template <typename Cmp> Outputs compare(const Evaluator &e, Cmp cmp) {
  return {binary(
      e, e.in(0), e.in(1), TensorProto::BOOL,
      [&](int64_t x, int64_t y) { return std::optional<int64_t>(cmp(x, y)); },
      [&](double x, double y) { return double(cmp(x, y)); })};
}

/// A variadic op (Min, Max, Sum) folded left to right with broadcasting.
template <typename FI, typename FF> Outputs variadic(const Evaluator &e, FI fi, FF ff) {
  if (e.numInputs() == 0)
    throw NotFoldable{};
  EvalTensor acc = e.in(0);
  for (size_t i = 1; i < e.numInputs(); ++i)
    acc = binary(e, acc, e.in(i), 0, fi, ff);
  return {acc};
}

std::optional<int64_t> checkedAdd(int64_t x, int64_t y) {
  int64_t r;
  return __builtin_add_overflow(x, y, &r) ? std::nullopt : std::optional<int64_t>(r);
}
std::optional<int64_t> checkedSub(int64_t x, int64_t y) {
  int64_t r;
  return __builtin_sub_overflow(x, y, &r) ? std::nullopt : std::optional<int64_t>(r);
}
std::optional<int64_t> checkedMul(int64_t x, int64_t y) {
  int64_t r;
  return __builtin_mul_overflow(x, y, &r) ? std::nullopt : std::optional<int64_t>(r);
}

Outputs evalDiv(const Evaluator &e) {
  return binaryOp(
      e,
      [](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0 || (x == INT64_MIN && y == -1))
          return std::nullopt;
        return x / y; // truncates, as ONNX Runtime's integer Div
      },
      [](double x, double y) { return x / y; });
}

Outputs evalMod(const Evaluator &e) {
  bool fmod = e.attrInt("fmod", 0) != 0;
  if (e.in(0).isFloat() && !fmod)
    throw NotFoldable{}; // ONNX requires fmod=1 for floats
  return binaryOp(
      e,
      [fmod](int64_t x, int64_t y) -> std::optional<int64_t> {
        if (y == 0 || (x == INT64_MIN && y == -1))
          return std::nullopt;
        int64_t r = x % y;
        if (!fmod && r != 0 && ((r < 0) != (y < 0)))
          r += y; // the sign of the divisor, as Python's %
        return r;
      },
      [](double x, double y) { return std::fmod(x, y); });
}

Outputs evalPow(const Evaluator &e) {
  const EvalTensor &a = e.in(0), &b = e.in(1);
  // The exponent may have another type than the base; compute in double.
  EvalTensor ad = a, bd = b;
  for (EvalTensor *t : {&ad, &bd})
    if (!t->isFloat()) {
      if (t->dtype == TensorProto::UINT64)
        throw NotFoldable{};
      t->floats.assign(t->ints.begin(), t->ints.end());
      t->ints.clear();
      t->dtype = TensorProto::DOUBLE;
    }
  ad.dtype = bd.dtype = TensorProto::DOUBLE;
  EvalTensor r = binary(
      e, ad, bd, 0, [](int64_t, int64_t) { return std::optional<int64_t>(); },
      [](double x, double y) { return std::pow(x, y); });
  if (a.isFloat()) {
    r.dtype = a.dtype;
    for (double &x : r.floats)
      x = roundTo(a.dtype, x);
    return {r};
  }
  EvalTensor out = e.make(a.dtype, r.dims);
  for (double x : r.floats) {
    if (!(std::fabs(x) < 9007199254740992.0) || x != std::trunc(x))
      throw NotFoldable{};
    auto v = fitInteger(a.dtype, int64_t(x));
    if (!v)
      throw NotFoldable{};
    out.ints.push_back(*v);
  }
  return {out};
}

Outputs evalWhere(const Evaluator &e) {
  const EvalTensor &c = e.in(0), &x = e.in(1), &y = e.in(2);
  if (c.dtype != TensorProto::BOOL || x.dtype != y.dtype)
    throw NotFoldable{};
  EvalTensor out = e.make(x.dtype, broadcastDims({&c.dims, &x.dims, &y.dims}));
  e.forEachBroadcast(out.dims, {&c, &x, &y}, [&](const std::vector<int64_t> &o) {
    const EvalTensor &src = c.ints[o[0]] ? x : y;
    int64_t off = c.ints[o[0]] ? o[1] : o[2];
    if (out.isFloat())
      out.floats.push_back(src.floats[off]);
    else
      out.ints.push_back(src.ints[off]);
  });
  return {out};
}

Outputs evalCastTo(const Evaluator &e, const EvalTensor &a, int32_t to) {
  if (!isFloatType(to) && !isIntegerType(to))
    throw NotFoldable{};
  EvalTensor out = e.make(to, a.dims);
  for (int64_t k = 0, n = a.numElements(); k < n; ++k) {
    if (isFloatType(to)) {
      double x = a.isFloat() ? a.floats[k]
                 : a.dtype == TensorProto::UINT64 ? double(uint64_t(a.ints[k]))
                                                  : double(a.ints[k]);
      out.floats.push_back(roundTo(to, x));
      continue;
    }
    std::optional<int64_t> v;
    if (!a.isFloat()) {
      v = to == TensorProto::BOOL ? a.ints[k] != 0 : a.ints[k];
      if (a.dtype == TensorProto::UINT64 && a.ints[k] < 0)
        v = std::nullopt;
    } else if (to == TensorProto::BOOL) {
      v = a.floats[k] != 0;
    } else if (std::isfinite(a.floats[k]) && std::fabs(a.floats[k]) < 9.2e18) {
      v = int64_t(a.floats[k]); // truncates toward zero, as a C++ cast
    }
    if (v)
      v = fitInteger(to, *v);
    if (!v)
      throw NotFoldable{};
    out.ints.push_back(*v);
  }
  return {out};
}

//===--- Shapes and data movement ----------------------------------------===//

Outputs evalShape(const Evaluator &e) {
  std::vector<int64_t> s = e.shape(0);
  int64_t rank = s.size();
  auto clampIdx = [&](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  int64_t start = clampIdx(e.attrInt("start", 0)), end = clampIdx(e.attrInt("end", rank));
  EvalTensor out = e.make(TensorProto::INT64, {std::max<int64_t>(end - start, 0)});
  for (int64_t d = start; d < end; ++d)
    out.ints.push_back(s[d]);
  return {out};
}

Outputs evalSize(const Evaluator &e) {
  EvalTensor out = e.make(TensorProto::INT64, {});
  out.ints.push_back(countOf(e.shape(0)));
  if (out.ints[0] == std::numeric_limits<int64_t>::max())
    throw NotFoldable{};
  return {out};
}

/// The input with new dims (same elements in the same order).
Outputs withDims(const Evaluator &e, std::vector<int64_t> dims) {
  EvalTensor out = e.in(0);
  if (countOf(dims) != out.numElements())
    throw NotFoldable{};
  out.dims = std::move(dims);
  return {out};
}

Outputs evalReshape(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  std::vector<int64_t> shape = e.ints(1);
  bool allowZero = e.attrInt("allowzero", 0) != 0;
  int64_t known = 1, inferred = -1;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 0 && !allowZero) {
      if (d >= a.dims.size())
        throw NotFoldable{};
      shape[d] = a.dims[d];
    }
    if (shape[d] == -1) {
      if (inferred >= 0)
        throw NotFoldable{};
      inferred = d;
      continue;
    }
    if (shape[d] < 0 || __builtin_mul_overflow(known, shape[d], &known))
      throw NotFoldable{};
  }
  if (inferred >= 0) {
    if (known == 0 || a.numElements() % known)
      throw NotFoldable{};
    shape[inferred] = a.numElements() / known;
  }
  return withDims(e, shape);
}

Outputs evalFlatten(const Evaluator &e) {
  const std::vector<int64_t> &d = e.in(0).dims;
  int64_t rank = d.size(), axis = e.attrInt("axis", 1);
  if (axis < -rank || axis > rank)
    throw NotFoldable{};
  if (axis < 0)
    axis += rank;
  int64_t outer = countOf({d.begin(), d.begin() + axis});
  return withDims(e, {outer, countOf({d.begin() + axis, d.end()})});
}

Outputs evalSqueeze(const Evaluator &e) {
  const std::vector<int64_t> &d = e.in(0).dims;
  int64_t rank = d.size();
  std::vector<bool> drop(rank, false);
  if (e.has(1)) {
    for (int64_t ax : e.ints(1)) {
      ax = normalizeAxis(ax, rank);
      if (d[ax] != 1)
        throw NotFoldable{};
      drop[ax] = true;
    }
  } else {
    for (int64_t k = 0; k < rank; ++k)
      drop[k] = d[k] == 1;
  }
  std::vector<int64_t> dims;
  for (int64_t k = 0; k < rank; ++k)
    if (!drop[k])
      dims.push_back(d[k]);
  return withDims(e, dims);
}

Outputs evalUnsqueeze(const Evaluator &e) {
  std::vector<int64_t> dims = e.in(0).dims, axes = e.ints(1);
  int64_t rank = dims.size() + axes.size();
  for (int64_t &ax : axes)
    ax = normalizeAxis(ax, rank);
  std::sort(axes.begin(), axes.end());
  if (std::adjacent_find(axes.begin(), axes.end()) != axes.end())
    throw NotFoldable{};
  for (int64_t ax : axes)
    dims.insert(dims.begin() + ax, 1);
  return withDims(e, dims);
}

Outputs evalExpand(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  std::vector<int64_t> shape = e.ints(1);
  EvalTensor out = e.make(a.dtype, broadcastDims({&a.dims, &shape}));
  e.forEachBroadcast(out.dims, {&a}, [&](const std::vector<int64_t> &o) {
    if (a.isFloat())
      out.floats.push_back(a.floats[o[0]]);
    else
      out.ints.push_back(a.ints[o[0]]);
  });
  return {out};
}

Outputs evalTranspose(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  int64_t rank = a.dims.size();
  std::vector<int64_t> perm(rank);
  for (int64_t k = 0; k < rank; ++k)
    perm[k] = rank - 1 - k;
  if (auto p = e.attrInts("perm"))
    perm = *p;
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t k = 0; k < rank; ++k)
    if ((int64_t)sorted.size() != rank || sorted[k] != k)
      throw NotFoldable{};
  std::vector<int64_t> dims(rank), strides = stridesOf(a.dims), permStrides(rank);
  for (int64_t k = 0; k < rank; ++k) {
    dims[k] = a.dims[perm[k]];
    permStrides[k] = strides[perm[k]];
  }
  return {e.build(a.dtype, dims, [&](const std::vector<int64_t> &idx) {
    return std::pair{&a, flatOffset(idx, permStrides)};
  })};
}

Outputs evalConcat(const Evaluator &e) {
  const EvalTensor &first = e.in(0);
  int64_t rank = first.dims.size();
  int64_t axis = normalizeAxis(e.attrInt("axis", 0), rank);
  std::vector<const EvalTensor *> parts;
  std::vector<int64_t> dims = first.dims, starts;
  dims[axis] = 0;
  for (size_t i = 0; i < e.numInputs(); ++i) {
    const EvalTensor &p = e.in(i);
    if (p.dtype != first.dtype || (int64_t)p.dims.size() != rank)
      throw NotFoldable{};
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis && p.dims[d] != first.dims[d])
        throw NotFoldable{};
    parts.push_back(&p);
    starts.push_back(dims[axis]);
    dims[axis] += p.dims[axis];
  }
  std::vector<std::vector<int64_t>> strides;
  for (const EvalTensor *p : parts)
    strides.push_back(stridesOf(p->dims));
  return {e.build(first.dtype, dims, [&](std::vector<int64_t> idx) {
    // The last part starting at or before the index (empty parts share the
    // start of the next one).
    size_t i = std::upper_bound(starts.begin(), starts.end(), idx[axis]) - starts.begin() - 1;
    idx[axis] -= starts[i];
    return std::pair{parts[i], flatOffset(idx, strides[i])};
  })};
}

Outputs evalSlice(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  int64_t rank = a.dims.size();
  std::vector<int64_t> starts = e.ints(1), ends = e.ints(2), axes, steps;
  if (e.has(3)) {
    axes = e.ints(3);
  } else {
    for (size_t k = 0; k < starts.size(); ++k)
      axes.push_back(k);
  }
  steps = e.has(4) ? e.ints(4) : std::vector<int64_t>(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() ||
      steps.size() != starts.size())
    throw NotFoldable{};
  std::vector<int64_t> first(rank, 0), step(rank, 1), dims = a.dims;
  std::vector<bool> seen(rank, false);
  for (size_t k = 0; k < starts.size(); ++k) {
    int64_t ax = normalizeAxis(axes[k], rank), dim = a.dims[ax], s = starts[k], t = ends[k],
            st = steps[k];
    if (st == 0 || seen[ax])
      throw NotFoldable{};
    seen[ax] = true;
    if (s < 0)
      s += dim;
    if (t < 0)
      t += dim;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      t = std::clamp<int64_t>(t, 0, dim);
      dims[ax] = t > s ? (t - s + st - 1) / st : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      t = std::clamp<int64_t>(t, -1, dim - 1);
      dims[ax] = s > t ? (s - t - st - 1) / -st : 0;
    }
    first[ax] = s;
    step[ax] = st;
  }
  std::vector<int64_t> strides = stridesOf(a.dims);
  return {e.build(a.dtype, dims, [&](const std::vector<int64_t> &idx) {
    int64_t off = 0;
    for (int64_t d = 0; d < rank; ++d)
      off += (first[d] + idx[d] * step[d]) * strides[d];
    return std::pair{&a, off};
  })};
}

Outputs evalGather(const Evaluator &e) {
  const EvalTensor &a = e.in(0), &indices = e.in(1);
  int64_t rank = a.dims.size();
  if (rank == 0 || indices.isFloat())
    throw NotFoldable{};
  int64_t axis = normalizeAxis(e.attrInt("axis", 0), rank), dim = a.dims[axis];
  std::vector<int64_t> dims(a.dims.begin(), a.dims.begin() + axis);
  dims.insert(dims.end(), indices.dims.begin(), indices.dims.end());
  dims.insert(dims.end(), a.dims.begin() + axis + 1, a.dims.end());
  for (int64_t j : indices.ints)
    if (j < -dim || j >= dim)
      throw NotFoldable{}; // left for the importer's range check
  std::vector<int64_t> strides = stridesOf(a.dims), idxStrides = stridesOf(indices.dims);
  int64_t q = indices.dims.size();
  return {e.build(a.dtype, dims, [&](const std::vector<int64_t> &idx) {
    int64_t j = 0;
    for (int64_t d = 0; d < q; ++d)
      j += idx[axis + d] * idxStrides[d];
    j = indices.ints[j];
    if (j < 0)
      j += dim;
    int64_t off = j * strides[axis];
    for (int64_t d = 0; d < axis; ++d)
      off += idx[d] * strides[d];
    for (int64_t d = axis + 1; d < rank; ++d)
      off += idx[d - 1 + q] * strides[d];
    return std::pair{&a, off};
  })};
}

Outputs evalTile(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  std::vector<int64_t> repeats = e.ints(1), dims = a.dims;
  if (repeats.size() != dims.size())
    throw NotFoldable{};
  for (size_t d = 0; d < dims.size(); ++d)
    if (repeats[d] < 0 || __builtin_mul_overflow(dims[d], repeats[d], &dims[d]))
      throw NotFoldable{};
  std::vector<int64_t> strides = stridesOf(a.dims);
  return {e.build(a.dtype, dims, [&](const std::vector<int64_t> &idx) {
    int64_t off = 0;
    for (size_t d = 0; d < idx.size(); ++d)
      off += (idx[d] % a.dims[d]) * strides[d];
    return std::pair{&a, off};
  })};
}

Outputs evalTrilu(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  int64_t rank = a.dims.size();
  if (rank < 2)
    throw NotFoldable{};
  int64_t k = e.has(1) ? e.scalarInt(1) : 0;
  bool upper = e.attrInt("upper", 1) != 0;
  int64_t rows = a.dims[rank - 2], cols = a.dims[rank - 1];
  EvalTensor out = a;
  for (int64_t off = 0, n = a.numElements(); off < n; ++off) {
    int64_t i = off / cols % rows, j = off % cols;
    // j - i is small; compare without forming k + i (k may be INT64_MIN).
    bool keep = upper ? j - i >= k : j - i <= k;
    if (!keep)
      (out.isFloat() ? out.floats[off] = 0 : out.ints[off] = 0);
  }
  return {out};
}

Outputs evalRange(const Evaluator &e) {
  const EvalTensor &start = e.in(0), &limit = e.in(1), &delta = e.in(2);
  if (start.numElements() != 1 || limit.numElements() != 1 || delta.numElements() != 1 ||
      start.dtype != limit.dtype || start.dtype != delta.dtype)
    throw NotFoldable{};
  if (start.isFloat()) {
    double s = start.floats[0], l = limit.floats[0], d = delta.floats[0];
    double n = std::ceil((l - s) / d);
    if (d == 0 || !std::isfinite(n))
      throw NotFoldable{};
    n = std::max(n, 0.0);
    if (n * double(constantBytes(start.dtype, 1)) > double(e.maxBytes))
      throw OverBudget{n < 9.2e18 ? int64_t(n) : std::numeric_limits<int64_t>::max()};
    EvalTensor out = e.make(start.dtype, {int64_t(n)});
    for (int64_t k = 0; k < int64_t(n); ++k)
      out.floats.push_back(start.dtype == TensorProto::FLOAT
                               ? double(float(s) + float(k) * float(d))
                               : s + double(k) * d);
    return {out};
  }
  int64_t s = start.ints[0], l = limit.ints[0], d = delta.ints[0];
  if (d == 0 || start.dtype == TensorProto::UINT64)
    throw NotFoldable{};
  // ceil((l - s) / d) in 128 bits, so no int64 difference overflows.
  __int128 span = (__int128)l - s, n = span / d;
  if (n * d != span && ((span < 0) == (d < 0)))
    ++n;
  if (n < 0)
    n = 0;
  if (n * constantBytes(start.dtype, 1) > e.maxBytes)
    throw OverBudget{n < INT64_MAX ? int64_t(n) : std::numeric_limits<int64_t>::max()};
  EvalTensor out = e.make(start.dtype, {int64_t(n)});
  for (int64_t k = 0; k < int64_t(n); ++k)
    out.ints.push_back(int64_t(s + (__int128)k * d));
  return {out};
}

Outputs evalConstantOfShape(const Evaluator &e) {
  std::vector<int64_t> dims = e.ints(0);
  for (int64_t d : dims)
    if (d < 0)
      throw NotFoldable{};
  EvalTensor fill;
  fill.dtype = TensorProto::FLOAT;
  fill.floats = {0.0};
  if (const auto *value = e.attr("value")) {
    if (!value->has_t())
      throw NotFoldable{};
    auto v = evalTensorFromProto(value->t(), /*maxBytes=*/8);
    if (!v || v->numElements() != 1)
      throw NotFoldable{};
    fill = *v;
  }
  EvalTensor out = e.make(fill.dtype, dims);
  int64_t n = countOf(dims);
  if (fill.isFloat())
    out.floats.assign(n, fill.floats[0]);
  else
    out.ints.assign(n, fill.ints[0]);
  return {out};
}

Outputs evalSplit(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  int64_t rank = a.dims.size(), axis = normalizeAxis(e.attrInt("axis", 0), rank);
  int64_t outputs = e.node.output_size(), dim = a.dims[axis];
  std::vector<int64_t> sizes;
  if (e.has(1)) {
    sizes = e.ints(1);
  } else {
    if (outputs == 0 || dim % outputs)
      throw NotFoldable{};
    sizes.assign(outputs, dim / outputs);
  }
  int64_t total = 0;
  for (int64_t s : sizes)
    if (s < 0 || __builtin_add_overflow(total, s, &total))
      throw NotFoldable{};
  if ((int64_t)sizes.size() != outputs || total != dim)
    throw NotFoldable{};
  std::vector<int64_t> strides = stridesOf(a.dims);
  Outputs out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    std::vector<int64_t> dims = a.dims;
    dims[axis] = s;
    out.push_back(e.build(a.dtype, dims, [&](std::vector<int64_t> idx) {
      idx[axis] += start;
      return std::pair{&a, flatOffset(idx, strides)};
    }));
    start += s;
  }
  return out;
}

/// ScatterND: slices of a copy of the data replaced by (or, with a
/// reduction, combined with) the updates, in index order.
Outputs evalScatterND(const Evaluator &e) {
  const EvalTensor &data = e.in(0), &indices = e.in(1), &updates = e.in(2);
  std::string reduction = e.attrString("reduction", "none");
  if (indices.isFloat() || updates.dtype != data.dtype || data.dtype == TensorProto::UINT64 ||
      indices.dims.empty())
    throw NotFoldable{};
  int64_t k = indices.dims.back(), rank = data.dims.size();
  if (k < 1 || k > rank)
    throw NotFoldable{};
  std::vector<int64_t> lead(indices.dims.begin(), indices.dims.end() - 1),
      tail(data.dims.begin() + k, data.dims.end()), expected = lead;
  expected.insert(expected.end(), tail.begin(), tail.end());
  if (updates.dims != expected)
    throw NotFoldable{};
  int64_t slice = countOf(tail), n = countOf(lead);
  std::vector<int64_t> strides = stridesOf(data.dims);
  EvalTensor out = data;
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (int64_t j = 0; j < k; ++j) {
      int64_t idx = indices.ints[i * k + j], dim = data.dims[j];
      if (idx < -dim || idx >= dim)
        throw NotFoldable{};
      off += (idx < 0 ? idx + dim : idx) * strides[j];
    }
    for (int64_t s = 0; s < slice; ++s) {
      auto combine = [&](auto old, auto upd) -> decltype(old) {
        if (reduction == "add") return old + upd;
        if (reduction == "mul") return old * upd;
        if (reduction == "max") return std::max(old, upd);
        if (reduction == "min") return std::min(old, upd);
        if (reduction == "none") return upd;
        throw NotFoldable{};
      };
      if (out.isFloat()) {
        double &x = out.floats[off + s];
        x = roundTo(out.dtype, combine(x, updates.floats[i * slice + s]));
      } else {
        int64_t &x = out.ints[off + s];
        int64_t u = updates.ints[i * slice + s];
        if ((reduction == "add" && !checkedAdd(x, u)) || (reduction == "mul" && !checkedMul(x, u)))
          throw NotFoldable{};
        auto v = fitInteger(out.dtype, combine(x, u));
        if (!v)
          throw NotFoldable{};
        x = *v;
      }
    }
  }
  return {out};
}

/// ReduceSum/Prod/Min/Max/Mean: axes from input 1 (ReduceSum) or the
/// attribute, keepdims, noop_with_empty_axes.
Outputs evalReduce(const Evaluator &e) {
  const std::string &op = e.node.op_type();
  const EvalTensor &a = e.in(0);
  if (a.dtype == TensorProto::UINT64 || a.dtype == TensorProto::BOOL ||
      (op == "ReduceMean" && !a.isFloat()))
    throw NotFoldable{};
  int64_t rank = a.dims.size();
  std::vector<int64_t> axes;
  if (op == "ReduceSum")
    axes = e.has(1) ? e.ints(1) : std::vector<int64_t>();
  else if (auto ax = e.attrInts("axes"))
    axes = *ax;
  if (axes.empty() && e.attrInt("noop_with_empty_axes", 0))
    return {a};
  std::vector<bool> reduced(rank, axes.empty());
  for (int64_t ax : axes)
    reduced[normalizeAxis(ax, std::max<int64_t>(rank, 1))] = true;
  bool keep = e.attrInt("keepdims", 1) != 0;
  std::vector<int64_t> outDims, keptDims(rank);
  for (int64_t d = 0; d < rank; ++d) {
    keptDims[d] = reduced[d] ? 1 : a.dims[d];
    if (!reduced[d] || keep)
      outDims.push_back(keptDims[d]);
  }
  int64_t outCount = countOf(keptDims), n = a.numElements();
  if (outCount > 0 && n == 0 && (op == "ReduceMin" || op == "ReduceMax" || op == "ReduceMean"))
    throw NotFoldable{};
  EvalTensor out = e.make(a.dtype, outDims);
  std::vector<double> f(outCount, op == "ReduceProd" ? 1.0 : 0.0);
  std::vector<int64_t> i(outCount, op == "ReduceProd" ? 1 : 0);
  std::vector<bool> started(outCount, false);
  std::vector<int64_t> outStrides = stridesOf(keptDims), idx(rank, 0);
  for (int64_t k = 0; k < n; ++k) {
    int64_t o = 0;
    for (int64_t d = 0; d < rank; ++d)
      o += (reduced[d] ? 0 : idx[d]) * outStrides[d];
    bool first = !started[o];
    started[o] = true;
    if (a.isFloat()) {
      double x = a.floats[k];
      f[o] = op == "ReduceMin"   ? (first ? x : std::min(f[o], x))
             : op == "ReduceMax" ? (first ? x : std::max(f[o], x))
             : op == "ReduceProd" ? f[o] * x
                                  : f[o] + x;
    } else {
      int64_t x = a.ints[k];
      std::optional<int64_t> r = op == "ReduceMin"   ? std::optional(first ? x : std::min(i[o], x))
                                 : op == "ReduceMax" ? std::optional(first ? x : std::max(i[o], x))
                                 : op == "ReduceProd" ? checkedMul(i[o], x)
                                                      : checkedAdd(i[o], x);
      if (!r)
        throw NotFoldable{};
      i[o] = *r;
    }
    for (int64_t d = rank; d-- > 0;) {
      if (++idx[d] < a.dims[d])
        break;
      idx[d] = 0;
    }
  }
  int64_t perOut = outCount ? n / outCount : 0;
  for (int64_t o = 0; o < outCount; ++o) {
    if (a.isFloat()) {
      out.floats.push_back(roundTo(a.dtype, op == "ReduceMean" ? f[o] / double(perOut) : f[o]));
    } else {
      auto v = fitInteger(a.dtype, i[o]);
      if (!v)
        throw NotFoldable{};
      out.ints.push_back(*v);
    }
  }
  return {out};
}

/// Numpy matmul of float tensors (1-D operands promoted), accumulated in double.
Outputs evalMatMul(const Evaluator &e) {
  EvalTensor a = e.in(0), b = e.in(1);
  if (!a.isFloat() || a.dtype != b.dtype || a.dims.empty() || b.dims.empty())
    throw NotFoldable{};
  bool vecA = a.dims.size() == 1, vecB = b.dims.size() == 1;
  if (vecA)
    a.dims.insert(a.dims.begin(), 1);
  if (vecB)
    b.dims.push_back(1);
  int64_t m = a.dims[a.dims.size() - 2], k = a.dims.back(), n = b.dims.back();
  if (b.dims[b.dims.size() - 2] != k)
    throw NotFoldable{};
  std::vector<int64_t> batchA(a.dims.begin(), a.dims.end() - 2),
      batchB(b.dims.begin(), b.dims.end() - 2);
  std::vector<int64_t> batch = broadcastDims({&batchA, &batchB});
  std::vector<int64_t> dims = batch;
  if (!vecA)
    dims.push_back(m);
  if (!vecB)
    dims.push_back(n);
  EvalTensor out = e.make(a.dtype, dims);
  // Batch offsets through broadcasting views of shape batch + [1].
  EvalTensor viewA, viewB;
  viewA.dtype = viewB.dtype = TensorProto::INT64;
  viewA.dims = batchA;
  viewB.dims = batchB;
  std::vector<std::pair<int64_t, int64_t>> bases;
  e.forEachBroadcast(batch, {&viewA, &viewB}, [&](const std::vector<int64_t> &o) {
    bases.push_back({o[0] * m * k, o[1] * k * n});
  });
  for (auto [baseA, baseB] : bases)
    for (int64_t r = 0; r < m; ++r)
      for (int64_t c = 0; c < n; ++c) {
        double acc = 0;
        for (int64_t j = 0; j < k; ++j)
          acc += a.floats[baseA + r * k + j] * b.floats[baseB + j * n + c];
        out.floats.push_back(roundTo(a.dtype, acc));
      }
  return {out};
}

Outputs evalNonZero(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  int64_t rank = a.dims.size(), n = a.numElements();
  std::vector<int64_t> hits;
  for (int64_t k = 0; k < n; ++k)
    if (a.isFloat() ? a.floats[k] != 0 : a.ints[k] != 0)
      hits.push_back(k);
  EvalTensor out = e.make(TensorProto::INT64, {std::max<int64_t>(rank, 1), (int64_t)hits.size()});
  std::vector<int64_t> strides = stridesOf(a.dims);
  for (int64_t d = 0; d < std::max<int64_t>(rank, 1); ++d)
    for (int64_t k : hits)
      out.ints.push_back(rank ? k / strides[d] % a.dims[d] : 0);
  return {out};
}

Outputs evalClip(const Evaluator &e) {
  const EvalTensor &a = e.in(0);
  auto bound = [&](size_t i, double dflt) {
    if (!e.has(i))
      return dflt;
    const EvalTensor &b = e.in(i);
    if (b.numElements() != 1 || b.dtype != a.dtype)
      throw NotFoldable{};
    return b.isFloat() ? b.floats[0] : double(b.ints[0]);
  };
  double lo = bound(1, -INFINITY), hi = bound(2, INFINITY);
  if (!a.isFloat() && (std::fabs(lo) > 9e15 || std::fabs(hi) > 9e15) &&
      std::isfinite(lo + hi))
    throw NotFoldable{}; // integer bounds beyond double precision
  return unary(
      e,
      [&](int64_t x) {
        double y = std::min(std::max(double(x), lo), hi);
        return std::optional<int64_t>(y == double(x) ? x : int64_t(y));
      },
      [&](double x) { return std::isnan(x) ? x : std::min(std::max(x, lo), hi); });
}

const std::map<std::string, OpFn> &opTable() {
  using I = std::optional<int64_t>;
  static const std::map<std::string, OpFn> table = {
      {"Shape", evalShape},
      {"Size", evalSize},
      {"Identity", [](const Evaluator &e) -> Outputs { return {e.in(0)}; }},
      {"Cast",
       [](const Evaluator &e) { return evalCastTo(e, e.in(0), e.attrInt("to", 0)); }},
      {"CastLike", [](const Evaluator &e) { return evalCastTo(e, e.in(0), e.in(1).dtype); }},
      {"Reshape", evalReshape},
      {"Flatten", evalFlatten},
      {"Squeeze", evalSqueeze},
      {"Unsqueeze", evalUnsqueeze},
      {"Expand", evalExpand},
      {"Transpose", evalTranspose},
      {"Concat", evalConcat},
      {"Slice", evalSlice},
      {"Gather", evalGather},
      {"Tile", evalTile},
      {"Trilu", evalTrilu},
      {"Range", evalRange},
      {"ConstantOfShape", evalConstantOfShape},
      {"Split", evalSplit},
      {"ReduceSum", evalReduce},
      {"ReduceProd", evalReduce},
      {"ReduceMin", evalReduce},
      {"ReduceMax", evalReduce},
      {"ReduceMean", evalReduce},
      {"MatMul", evalMatMul},
      {"NonZero", evalNonZero},
      {"Clip", evalClip},
      {"Where", evalWhere},
      {"ScatterND", evalScatterND},
      {"Neg", [](const Evaluator &e) {
         return unary(e, [](int64_t x) { return x == INT64_MIN ? I() : I(-x); },
                      [](double x) { return -x; });
       }},
      {"Abs", [](const Evaluator &e) {
         return unary(e, [](int64_t x) { return x == INT64_MIN ? I() : I(x < 0 ? -x : x); },
                      [](double x) { return std::fabs(x); });
       }},
      {"Sign", [](const Evaluator &e) {
         return unary(e, [](int64_t x) { return I((x > 0) - (x < 0)); },
                      [](double x) { return std::isnan(x) ? x : double((x > 0) - (x < 0)); });
       }},
      {"Relu", [](const Evaluator &e) {
         return unary(e, [](int64_t x) { return I(std::max<int64_t>(x, 0)); },
                      [](double x) { return x > 0 ? x : (std::isnan(x) ? x : 0.0); });
       }},
      {"Not", [](const Evaluator &e) {
         if (e.in(0).dtype != TensorProto::BOOL)
           throw NotFoldable{};
         return unary(e, [](int64_t x) { return I(x == 0); }, [](double x) { return x; });
       }},
      {"Ceil", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::ceil(x); }); }},
      {"Floor", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::floor(x); }); }},
      {"Round", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::nearbyint(x); }); }},
      {"Sqrt", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::sqrt(x); }); }},
      {"Reciprocal", [](const Evaluator &e) { return floatUnary(e, [](double x) { return 1.0 / x; }); }},
      {"Exp", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::exp(x); }); }},
      {"Log", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::log(x); }); }},
      {"Erf", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::erf(x); }); }},
      {"Tanh", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::tanh(x); }); }},
      {"Sin", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::sin(x); }); }},
      {"Cos", [](const Evaluator &e) { return floatUnary(e, [](double x) { return std::cos(x); }); }},
      {"Sigmoid", [](const Evaluator &e) {
         return floatUnary(e, [](double x) { return 1.0 / (1.0 + std::exp(-x)); });
       }},
      {"Add", [](const Evaluator &e) {
         return binaryOp(e, checkedAdd, [](double x, double y) { return x + y; });
       }},
      {"Sub", [](const Evaluator &e) {
         return binaryOp(e, checkedSub, [](double x, double y) { return x - y; });
       }},
      {"Mul", [](const Evaluator &e) {
         return binaryOp(e, checkedMul, [](double x, double y) { return x * y; });
       }},
      {"Div", evalDiv},
      {"Mod", evalMod},
      {"Pow", evalPow},
      {"Min", [](const Evaluator &e) {
         return variadic(e, [](int64_t x, int64_t y) { return I(std::min(x, y)); },
                         [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : std::min(x, y); });
       }},
      {"Max", [](const Evaluator &e) {
         return variadic(e, [](int64_t x, int64_t y) { return I(std::max(x, y)); },
                         [](double x, double y) { return std::isnan(x) || std::isnan(y) ? NAN : std::max(x, y); });
       }},
      {"Sum", [](const Evaluator &e) {
         return variadic(e, checkedAdd, [](double x, double y) { return x + y; });
       }},
      {"And", [](const Evaluator &e) {
         return compare(e, [](auto x, auto y) { return x != 0 && y != 0; });
       }},
      {"Or", [](const Evaluator &e) {
         return compare(e, [](auto x, auto y) { return x != 0 || y != 0; });
       }},
      {"Xor", [](const Evaluator &e) {
         return compare(e, [](auto x, auto y) { return (x != 0) != (y != 0); });
       }},
      {"Equal", [](const Evaluator &e) { return compare(e, [](auto x, auto y) { return x == y; }); }},
      {"Less", [](const Evaluator &e) { return compare(e, [](auto x, auto y) { return x < y; }); }},
      {"LessOrEqual", [](const Evaluator &e) { return compare(e, [](auto x, auto y) { return x <= y; }); }},
      {"Greater", [](const Evaluator &e) { return compare(e, [](auto x, auto y) { return x > y; }); }},
      {"GreaterOrEqual", [](const Evaluator &e) { return compare(e, [](auto x, auto y) { return x >= y; }); }},
  };
  return table;
}

} // namespace

bool EvalTensor::isFloat() const { return isFloatType(dtype); }

int64_t EvalTensor::numElements() const { return isFloat() ? floats.size() : ints.size(); }

std::string ConstantBudget::describe() const {
  return std::to_string(valueBytes()) + " bytes per value and " + std::to_string(modelBytes) +
         " per model (--max-constant-bytes)";
}

int64_t constantBytes(int32_t dtype, int64_t elements) {
  int64_t size = onnxElementSize(dtype) ? int64_t(onnxElementSize(dtype)) : 8;
  return elements > INT64_MAX / size ? INT64_MAX : elements * size;
}

std::optional<EvalTensor> evalTensorFromProto(const TensorProto &t, int64_t maxBytes) {
  if (!isFloatType(t.data_type()) && !isIntegerType(t.data_type()))
    return std::nullopt;
  EvalTensor v;
  v.dtype = t.data_type();
  v.dims.assign(t.dims().begin(), t.dims().end());
  auto n = checkedElementCount(v.dims);
  if (!n) {
    llvm::consumeError(n.takeError());
    return std::nullopt;
  }
  if (constantBytes(t.data_type(), *n) > maxBytes)
    return std::nullopt;
  auto bytes = tensorBytes(t);
  if (!bytes) {
    llvm::consumeError(bytes.takeError());
    return std::nullopt;
  }
  const char *p = bytes->data();
  auto get = [&](auto x, int64_t k) {
    std::memcpy(&x, p + k * sizeof(x), sizeof(x));
    return x;
  };
  (v.isFloat() ? v.floats.reserve(*n) : v.ints.reserve(*n));
  for (int64_t k = 0; k < *n; ++k) {
    switch (v.dtype) {
    case TensorProto::FLOAT: v.floats.push_back(get(float(), k)); break;
    case TensorProto::DOUBLE: v.floats.push_back(get(double(), k)); break;
    case TensorProto::INT64: v.ints.push_back(get(int64_t(), k)); break;
    case TensorProto::INT32: v.ints.push_back(get(int32_t(), k)); break;
    case TensorProto::INT16: v.ints.push_back(get(int16_t(), k)); break;
    case TensorProto::INT8: v.ints.push_back(get(int8_t(), k)); break;
    case TensorProto::UINT8: v.ints.push_back(get(uint8_t(), k)); break;
    case TensorProto::BOOL: v.ints.push_back(get(uint8_t(), k) != 0); break;
    case TensorProto::UINT16: v.ints.push_back(get(uint16_t(), k)); break;
    case TensorProto::UINT32: v.ints.push_back(get(uint32_t(), k)); break;
    case TensorProto::UINT64: v.ints.push_back(int64_t(get(uint64_t(), k))); break;
    }
  }
  return v;
}

TensorProto evalTensorToProto(const EvalTensor &v, const std::string &name) {
  TensorProto t;
  t.set_name(name);
  t.set_data_type(v.dtype);
  for (int64_t d : v.dims)
    t.add_dims(d);
  std::string raw;
  raw.reserve(v.numElements() * onnxElementSize(v.dtype));
  auto put = [&](auto x) { raw.append(reinterpret_cast<const char *>(&x), sizeof(x)); };
  for (int64_t k = 0; k < v.numElements(); ++k) {
    switch (v.dtype) {
    case TensorProto::FLOAT: put(static_cast<float>(v.floats[k])); break;
    case TensorProto::DOUBLE: put(v.floats[k]); break;
    case TensorProto::INT64: put(v.ints[k]); break;
    case TensorProto::INT32: put(static_cast<int32_t>(v.ints[k])); break;
    case TensorProto::INT16: put(static_cast<int16_t>(v.ints[k])); break;
    case TensorProto::INT8: put(static_cast<int8_t>(v.ints[k])); break;
    case TensorProto::UINT8: put(static_cast<uint8_t>(v.ints[k])); break;
    case TensorProto::BOOL: put(static_cast<uint8_t>(v.ints[k] != 0)); break;
    case TensorProto::UINT16: put(static_cast<uint16_t>(v.ints[k])); break;
    case TensorProto::UINT32: put(static_cast<uint32_t>(v.ints[k])); break;
    case TensorProto::UINT64: put(static_cast<uint64_t>(v.ints[k])); break;
    }
  }
  t.set_raw_data(std::move(raw));
  return t;
}

bool isEvaluable(const std::string &opType) { return opTable().count(opType) != 0; }

EvalResult evaluateNode(const onnx::NodeProto &node, const EvalInputs &inputs,
                        int64_t maxBytes) {
  EvalResult result;
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return result;
  auto it = opTable().find(node.op_type());
  if (it == opTable().end())
    return result;
  Evaluator e(node, inputs, maxBytes);
  try {
    Outputs outs = it->second(e);
    if (outs.size() != (size_t)node.output_size())
      return result;
    result.outputs = std::move(outs);
  } catch (const NotFoldable &) {
  } catch (const OverBudget &over) {
    result.overBudgetElements = over.elements;
  }
  return result;
}

} // namespace kiln
