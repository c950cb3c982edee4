//===- Gathers.cpp - Copies through run-time indices -> kernel loops ------===//
//
// gather, gather_elements, gather_nd, scatter_elements, scatter_nd: indices
// are data, so each is normalised (negative counts from the end) and checked
// with kiln.check before it addresses anything; a bad index fails the run
// with the index and the dimension it missed.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/ElementwiseMath.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace kiln {
namespace {

/// The index read from `indices` at `at`, as an index in [0, len): negative
/// values count from the end; anything else outside fails the kernel with
/// `message` ({0} is the raw index, {1}.. are `extra`).
Value checkedIndex(KernelBuilder &k, Value indices, Value at, int64_t len,
                   const std::string &message, ValueRange extra = {}) {
  OpBuilder &b = k.b;
  Type elt = cast<MemRefType>(indices.getType()).getElementType();
  Value raw = convertScalar(b, k.loc, k.load(indices, at), elt, b.getI64Type());
  Value i = b.create<arith::IndexCastOp>(k.loc, b.getIndexType(), raw);
  Value negative = b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::slt, i, k.index(0));
  i = b.create<arith::SelectOp>(k.loc, negative, k.add(i, k.index(len)), i);
  Value ok = b.create<arith::AndIOp>(
      k.loc, b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, i, k.index(0)),
      b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::slt, i, k.index(len)));
  SmallVector<Value> values{raw};
  values.append(extra.begin(), extra.end());
  b.create<CheckOp>(k.loc, ok, b.getStringAttr(message), values);
  return i;
}

std::string rangeOf(int64_t len) {
  return "[-" + std::to_string(len) + ", " + std::to_string(len) + ")";
}
std::string dimensionOf(int64_t len) {
  return "index {0} is out of range for a dimension of size " + std::to_string(len);
}

void lowerGather(GatherOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getData());
  int64_t axis = o.getAxis(), len = x[axis], count = numel(o.getIndices());
  int64_t outer = product(x.take_front(axis)), inner = product(x.drop_front(axis + 1));
  if (k.parallelNests) {
    // One iteration per output element (the GPU's threads).
    if (inner == 0)
      return;
    k.independentNest({outer, count, inner}, [&](ArrayRef<Value> v) {
      Value idx = checkedIndex(k, k.in(1), v[1], len,
                               "index {0} at position {1} is out of range " + rangeOf(len), v[1]);
      Value from = k.add(k.mul(k.add(k.mul(v[0], len), idx), inner), v[2]);
      Value to = k.add(k.mul(k.add(k.mul(v[0], count), v[1]), inner), v[2]);
      k.store(k.load(k.in(0), from), k.out(), to);
    });
    return;
  }
  k.loop(count, [&](Value i) {
    Value idx = checkedIndex(k, k.in(1), i, len,
                             "index {0} at position {1} is out of range " + rangeOf(len), i);
    if (inner == 0)
      return;
    k.loop(outer, [&](Value oi) {
      k.copy(k.in(0), k.mul(k.add(k.mul(oi, len), idx), inner), k.out(),
             k.mul(k.add(k.mul(oi, count), i), inner), inner);
    });
  });
}

void lowerGatherElements(GatherElementsOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getData()), idx = shapeOf(o.getIndices());
  int64_t axis = o.getAxis(), len = x[axis];
  SmallVector<int64_t> xs = contiguousStrides(x), is = contiguousStrides(idx), rest(xs);
  rest[axis] = 0;
  k.independentNest(idx, [&](ArrayRef<Value> vars) {
    Value at = k.linear(vars, is);
    Value i = checkedIndex(k, k.in(1), at, len, "index {0} is out of range " + rangeOf(len));
    Value v = k.load(k.in(0), k.add(k.linear(vars, rest), k.mul(i, xs[axis])));
    k.store(v, k.out(), at);
  });
}

/// Offset of the slice addressed by `m` indices starting at `first` (checked
/// against dims [dim0, dim0 + m) of `data`).
Value tupleOffset(KernelBuilder &k, Value first, int64_t m, ArrayRef<int64_t> data,
                  int64_t dim0) {
  SmallVector<int64_t> ds = contiguousStrides(data);
  Value base = k.index(0);
  for (int64_t j = 0; j < m; ++j) {
    Value v = checkedIndex(k, k.in(1), k.add(first, k.index(j)), data[dim0 + j],
                           dimensionOf(data[dim0 + j]));
    base = k.add(base, k.mul(v, ds[dim0 + j]));
  }
  return base;
}

void lowerGatherND(GatherNDOp o, KernelBuilder &k) {
  ArrayRef<int64_t> d = shapeOf(o.getData()), ix = shapeOf(o.getIndices());
  int64_t b = o.getBatchDims(), m = ix.back();
  int64_t batches = product(ix.take_front(b)), tuples = product(ix.slice(b, ix.size() - 1 - b));
  int64_t slice = product(d.drop_front(b + m)), batchSize = product(d.drop_front(b));
  k.independentNest({batches, tuples}, [&](ArrayRef<Value> v) {
    Value tuple = k.linear(v, {tuples, 1});
    Value base = k.add(k.mul(v[0], batchSize), tupleOffset(k, k.mul(tuple, m), m, d, b));
    if (slice)
      k.copy(k.in(0), base, k.out(), k.mul(tuple, slice), slice);
  });
}

/// dst = reduction(dst, v) for scatter's "none", "add", "mul", "max", "min".
Value combine(KernelBuilder &k, StringRef reduction, Value dst, Value v, Type elt) {
  OpBuilder &b = k.b;
  bool fp = isa<FloatType>(v.getType()), u = elt.isUnsignedInteger();
  if (reduction == "add")
    return fp ? b.create<arith::AddFOp>(k.loc, dst, v).getResult()
              : b.create<arith::AddIOp>(k.loc, dst, v).getResult();
  if (reduction == "mul")
    return fp ? b.create<arith::MulFOp>(k.loc, dst, v).getResult()
              : b.create<arith::MulIOp>(k.loc, dst, v).getResult();
  if (reduction == "max")
    return fp ? b.create<arith::MaximumFOp>(k.loc, dst, v).getResult()
           : u ? b.create<arith::MaxUIOp>(k.loc, dst, v).getResult()
               : b.create<arith::MaxSIOp>(k.loc, dst, v).getResult();
  if (reduction == "min")
    return fp ? b.create<arith::MinimumFOp>(k.loc, dst, v).getResult()
           : u ? b.create<arith::MinUIOp>(k.loc, dst, v).getResult()
               : b.create<arith::MinSIOp>(k.loc, dst, v).getResult();
  return v;
}

LogicalResult lowerScatterElements(ScatterElementsOp o, KernelBuilder &k) {
  StringRef red = o.getReduction();
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    return o.emitOpError("reduction '") << red << "' is not supported";
  ArrayRef<int64_t> x = shapeOf(o.getData()), idx = shapeOf(o.getIndices());
  int64_t axis = o.getAxis();
  SmallVector<int64_t> xs = contiguousStrides(x), is = contiguousStrides(idx), rest(xs);
  rest[axis] = 0;
  if (product(x))
    k.copy(k.in(0), k.index(0), k.out(), k.index(0), product(x));
  k.loopNest(idx, [&](ArrayRef<Value> vars) {
    Value at = k.linear(vars, is);
    Value i = checkedIndex(k, k.in(1), at, x[axis], dimensionOf(x[axis]));
    Value dst = k.add(k.linear(vars, rest), k.mul(i, xs[axis]));
    Value v = k.load(k.in(2), at);
    k.store(combine(k, red, k.load(k.out(), dst), v, eltOf(o.getData())), k.out(), dst);
  });
  return success();
}

LogicalResult lowerScatterND(ScatterNDOp o, KernelBuilder &k) {
  StringRef red = o.getReduction();
  if (red != "none" && red != "add" && red != "mul" && red != "max" && red != "min")
    return o.emitOpError("reduction '") << red << "' is not supported";
  ArrayRef<int64_t> d = shapeOf(o.getData()), ix = shapeOf(o.getIndices());
  int64_t m = ix.back(), tuples = product(ix.drop_back()), slice = product(d.drop_front(m));
  if (product(d))
    k.copy(k.in(0), k.index(0), k.out(), k.index(0), product(d));
  k.loop(tuples, [&](Value u) {
    Value base = tupleOffset(k, k.mul(u, m), m, d, 0);
    k.loop(slice, [&](Value e) {
      Value dst = k.add(base, e);
      Value v = k.load(k.in(2), k.add(k.mul(u, slice), e));
      k.store(combine(k, red, k.load(k.out(), dst), v, eltOf(o.getData())), k.out(), dst);
    });
  });
  return success();
}

} // namespace

FailureOr<func::FuncOp> lowerIndexedCopy(Operation *op, KernelBuilder &k) {
  LogicalResult result = success();
  if (auto o = dyn_cast<GatherOp>(op))
    lowerGather(o, k);
  else if (auto o = dyn_cast<GatherElementsOp>(op))
    lowerGatherElements(o, k);
  else if (auto o = dyn_cast<GatherNDOp>(op)) {
    ArrayRef<int64_t> d = shapeOf(o.getData()), ix = shapeOf(o.getIndices());
    int64_t b = o.getBatchDims(), m = ix.back();
    if (b < 0 || m < 1 || b + m > (int64_t)d.size())
      return o.emitOpError("unsupported batch_dims/index depth");
    lowerGatherND(o, k);
  } else if (auto o = dyn_cast<ScatterElementsOp>(op))
    result = lowerScatterElements(o, k);
  else if (auto o = dyn_cast<ScatterNDOp>(op))
    result = lowerScatterND(o, k);
  else
    return func::FuncOp();
  if (failed(result))
    return failure();
  return k.finish();
}

} // namespace kiln
