//===- CompositeOps.cpp - ONNX ops expanded into several kiln ops ---------===//
//
// Ops that are rare enough not to deserve a kernel of their own, written as
// the ONNX specification (or function body) defines them.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/CompositeOps.h"
#include "lib/Import/EinsumEquation.h"

#include <map>

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

/// `v` with its dimensions in the order `to`, a permutation of `from`.
Value permuteTo(ValueBuilder &u, Value v, const std::vector<int> &from,
                const std::vector<int> &to) {
  SmallVector<int64_t> perm;
  for (int id : to)
    perm.push_back(std::find(from.begin(), from.end(), id) - from.begin());
  bool identity = true;
  for (size_t k = 0; k < perm.size(); ++k)
    identity &= perm[k] == (int64_t)k;
  return identity ? v : u.transpose(v, perm);
}

/// Sums `v` (indices `ids`) over the indices `keep` lacks; updates `ids`.
Value sumAway(Importer &im, ValueBuilder &u, Value v, std::vector<int> &ids,
              const std::function<bool(int)> &keep) {
  SmallVector<int64_t> axes, shape;
  std::vector<int> kept;
  for (size_t d = 0; d < ids.size(); ++d) {
    if (keep(ids[d])) {
      kept.push_back(ids[d]);
      shape.push_back(shapeOf(v)[d]);
    } else {
      axes.push_back(d);
    }
  }
  if (axes.empty())
    return v;
  ids = kept;
  auto &b = im.b();
  return im.create<ReduceSumOp>(u.type(shape), v, b.getDenseI64ArrayAttr(axes),
                                b.getBoolAttr(false));
}

/// Einsum of one or two operands as sums, transposes, reshapes and one
/// batched MatMul: the indices of a product are batch (in both operands and
/// the output), contracted (in both, not the output) or free (in one
/// operand and the output); an index of one operand that neither the other
/// nor the output has is summed first. Diagonals (an index twice in one
/// operand) and three or more operands are not supported.
void importEinsum(Importer &im) {
  SmallVector<Value> operands;
  for (size_t i = 0; i < im.numInputs(); ++i)
    operands.push_back(im.input(i));
  if (operands.empty() || operands.size() > 2)
    fail("Einsum of " + std::to_string(operands.size()) +
         " operands is not supported (one or two)");
  std::vector<int64_t> ranks;
  for (Value v : operands)
    ranks.push_back(shapeOf(v).size());
  auto parsed = parseEinsum(im.stringAttr("equation", ""), ranks);
  if (!parsed)
    fail(llvm::toString(parsed.takeError()));
  const EinsumTerms &terms = *parsed;
  std::vector<std::vector<int64_t>> shapes;
  for (Value v : operands)
    shapes.emplace_back(shapeOf(v).begin(), shapeOf(v).end());
  if (auto checked = einsumShape(terms, shapes); !checked)
    fail(llvm::toString(checked.takeError()));
  std::map<int, int64_t> size;
  for (size_t i = 0; i < operands.size(); ++i) {
    const std::vector<int> &t = terms.inputs[i];
    for (size_t d = 0; d < t.size(); ++d) {
      if (std::count(t.begin(), t.end(), t[d]) > 1)
        fail("an index repeated in one operand (a diagonal) is not supported");
      size[t[d]] = shapes[i][d];
    }
  }
  Type elt = ValueBuilder::elementOf(operands[0]);
  ValueBuilder u(im, elt);
  auto inOutput = [&](int id) {
    return std::find(terms.output.begin(), terms.output.end(), id) != terms.output.end();
  };
  if (operands.size() == 1) {
    std::vector<int> ids = terms.inputs[0];
    Value v = sumAway(im, u, operands[0], ids, inOutput);
    im.bind(0, permuteTo(u, v, ids, terms.output));
    return;
  }
  if (ValueBuilder::elementOf(operands[1]) != elt ||
      !(elt.isF32() || elt.isF64() || elt.isSignlessInteger(32) || elt.isSignlessInteger(64)))
    fail("Einsum of two operands takes float32, float64, int32 or int64 tensors of one type");
  std::vector<int> a = terms.inputs[0], b = terms.inputs[1];
  auto has = [](const std::vector<int> &t, int id) {
    return std::find(t.begin(), t.end(), id) != t.end();
  };
  Value av = sumAway(im, u, operands[0], a, [&](int id) { return has(b, id) || inOutput(id); });
  Value bv = sumAway(im, u, operands[1], b, [&](int id) { return has(a, id) || inOutput(id); });
  std::vector<int> batch, freeA, freeB, contracted;
  for (int id : terms.output) {
    if (has(a, id) && has(b, id))
      batch.push_back(id);
    else if (has(a, id))
      freeA.push_back(id);
    else
      freeB.push_back(id);
  }
  for (int id : a)
    if (has(b, id) && !inOutput(id))
      contracted.push_back(id);
  auto dims = [&](const std::vector<int> &ids) {
    int64_t n = 1;
    for (int id : ids)
      n *= size[id];
    return n;
  };
  SmallVector<int64_t> lead;
  for (int id : batch)
    lead.push_back(size[id]);
  auto concat = [](std::initializer_list<const std::vector<int> *> parts) {
    std::vector<int> out;
    for (auto *p : parts)
      out.insert(out.end(), p->begin(), p->end());
    return out;
  };
  int64_t m = dims(freeA), k = dims(contracted), n = dims(freeB);
  SmallVector<int64_t> aShape(lead), bShape(lead), yShape(lead), freeShape(lead);
  aShape.append({m, k});
  bShape.append({k, n});
  yShape.append({m, n});
  for (int id : concat({&freeA, &freeB}))
    freeShape.push_back(size[id]);
  Value lhs = u.reshape(permuteTo(u, av, a, concat({&batch, &freeA, &contracted})), aShape);
  Value rhs = u.reshape(permuteTo(u, bv, b, concat({&batch, &contracted, &freeB})), bShape);
  Value y = im.create<MatMulOp>(u.type(yShape), lhs, rhs, /*a_zero_point=*/IntegerAttr());
  y = u.reshape(y, freeShape);
  im.bind(0, permuteTo(u, y, concat({&batch, &freeA, &freeB}), terms.output));
}

} // namespace

void addCompositeHandlers(llvm::StringMap<Handler> &table) {
  table["Einsum"] = importEinsum;
  table["LRN"] = importLrn;
  table["MeanVarianceNormalization"] = importMvn;
  table["ReverseSequence"] = importReverseSequence;
}

} // namespace kiln::import
