//===- CompositeOps.cpp - ONNX ops expanded into several kiln ops ---------===//
//
// Ops that are rare enough not to deserve a kernel of their own, written as
// the ONNX specification (or function body) defines them.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/CompositeOps.h"

namespace kiln::import {
namespace {

Type elementOf(Value v) { return ValueBuilder::elementOf(v); }

/// LRN: x / (bias + alpha / size * sum of x^2 over a window of channels)^beta,
/// the window reaching floor((size-1)/2) channels back and ceil((size-1)/2)
/// forward.
void importLrn(Importer &im) {
  Value x = im.input(0);
  if (!isa<FloatType>(elementOf(x)) || shapeOf(x).size() < 3)
    fail("X must be a floating-point tensor of rank 3 or more");
  int64_t size = im.intAttr("size", 0);
  if (size < 1)
    fail("size must be positive");
  double alpha = im.floatAttr("alpha", 1e-4f), beta = im.floatAttr("beta", 0.75f),
         bias = im.floatAttr("bias", 1.0f);
  ValueBuilder u(im, elementOf(x));
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t rank = xs.size(), channels = xs[1];
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value sq = u.mul(x, x);
  SmallVector<int64_t> pads(2 * rank, 0);
  pads[1] = before;
  pads[rank + 1] = after;
  SmallVector<int64_t> padded(xs);
  padded[1] += before + after;
  auto &b = im.b();
  Value p = im.create<PadOp>(u.type(padded), sq, b.getDenseI64ArrayAttr(pads),
                             b.getStringAttr("constant"), b.getF64FloatAttr(0.0));
  Value sum;
  for (int64_t i = 0; i < size; ++i) {
    Value window = u.slice(p, 1, i, channels);
    sum = sum ? u.add(sum, window) : window;
  }
  Value base = u.add(u.pointwise("scale", sum, {alpha / size}), u.scalar(bias));
  im.bind(0, u.binary<DivOp>(x, u.binary<PowOp>(base, u.scalar(beta))));
}

/// MeanVarianceNormalization, as its ONNX function body computes it:
/// (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9) over `axes`.
void importMvn(Importer &im) {
  Value x = im.input(0);
  if (!isa<FloatType>(elementOf(x)))
    fail("X must be floating point");
  ValueBuilder u(im, elementOf(x));
  int64_t rank = shapeOf(x).size();
  SmallVector<int64_t> axes;
  for (int64_t a : im.intsAttr("axes", {0, 2, 3}))
    axes.push_back(normalizeAxis(a, rank));
  std::sort(axes.begin(), axes.end());
  SmallVector<int64_t> kept(shapeOf(x));
  for (int64_t a : axes)
    kept[a] = 1;
  auto &b = im.b();
  auto mean = [&](Value v) {
    return im.create<ReduceMeanOp>(u.type(kept), v, b.getDenseI64ArrayAttr(axes),
                                   b.getBoolAttr(true));
  };
  Value m = mean(x);
  Value variance = u.sub(mean(u.mul(x, x)), u.mul(m, m));
  Value sd = u.add(im.create<SqrtOp>(variance.getType(), variance), u.scalar(1e-9));
  im.bind(0, u.binary<DivOp>(u.sub(x, m), sd));
}

/// ReverseSequence: along the time axis, the first sequence_lens[b] entries
/// of batch entry b are reversed, the rest copied. The gather indices are
/// computed at run time from sequence_lens.
void importReverseSequence(Importer &im) {
  Value x = im.input(0), lens = im.input(1);
  ArrayRef<int64_t> xs = shapeOf(x);
  int64_t rank = xs.size();
  if (rank < 2)
    fail("input must have rank 2 or more");
  int64_t timeAxis = normalizeAxis(im.intAttr("time_axis", 0), rank, "time_axis");
  int64_t batchAxis = normalizeAxis(im.intAttr("batch_axis", 1), rank, "batch_axis");
  if (!((timeAxis == 0 && batchAxis == 1) || (timeAxis == 1 && batchAxis == 0)))
    fail("time_axis and batch_axis must be 0 and 1 in some order");
  Type i64 = IntegerType::get(&im.context(), 64);
  if (elementOf(lens) != i64 || shapeOf(lens) != ArrayRef<int64_t>{xs[batchAxis]})
    fail("sequence_lens must be int64 with one entry per batch entry");
  ValueBuilder u(im, i64);
  int64_t steps = xs[timeAxis], batch = xs[batchAxis];
  // [T, 1] or [1, T] time indices, [1, B] or [B, 1] lengths.
  SmallVector<int64_t> tShape(2, 1), bShape(2, 1);
  tShape[timeAxis] = steps;
  bShape[batchAxis] = batch;
  SmallVector<int64_t> t(steps);
  for (int64_t i = 0; i < steps; ++i)
    t[i] = i;
  Value tv = im.create<ConstantOp>(DenseElementsAttr::get(u.type(tShape), ArrayRef<int64_t>(t)));
  Value lv = u.reshape(lens, bShape);
  SmallVector<int64_t> grid(2);
  grid[timeAxis] = steps;
  grid[batchAxis] = batch;
  Value inside = im.create<LessOp>(u.type(grid, im.b().getI1Type()), tv, lv);
  Value reversed = u.sub(u.sub(lv, u.scalarOf(i64, 1)), tv);
  Value index = im.create<WhereOp>(u.type(grid), inside, reversed,
                                   im.create<ExpandOp>(u.type(grid), tv));
  SmallVector<int64_t> full(grid);
  for (int64_t d = 2; d < rank; ++d)
    full.push_back(1);
  index = u.reshape(index, full);
  index = im.create<ExpandOp>(u.type(xs), index);
  im.bind(0, im.create<GatherElementsOp>(x.getType(), x, index,
                                         im.b().getI64IntegerAttr(timeAxis)));
}

} // namespace

void addCompositeHandlers(llvm::StringMap<Handler> &table) {
  table["LRN"] = importLrn;
  table["MeanVarianceNormalization"] = importMvn;
  table["ReverseSequence"] = importReverseSequence;
}

} // namespace kiln::import
