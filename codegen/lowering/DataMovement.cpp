//===- DataMovement.cpp - Copies with index maps -> kernel loops ----------===//
//
// Transpose, slice, expand, tile, pad, trilu: one loop nest over the result
// whose source index is an affine (or clamped / reflected / modular) map of
// the loop variables. Concat and split: contiguous blocks copied with
// memref.copy (memcpy on the CPU), large concats split across the pool by
// outer row.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;

namespace kiln {
namespace {

/// out[i] = in[map(i)] over a loop space with one input access.
void stridedCopy(KernelBuilder &k, const LoopSpace &space, int64_t inBase = 0) {
  k.independentNest(space.dims, [&](ArrayRef<Value> vars) {
    Value v = k.load(k.in(0), k.linear(vars, space.strides[0], inBase));
    k.store(v, k.out(), k.linear(vars, space.strides[1]));
  });
}

void lowerTranspose(TransposeOp o, KernelBuilder &k) {
  SmallVector<int64_t> xs = contiguousStrides(shapeOf(o.getInput())), inStr;
  for (int64_t p : o.getPerm())
    inStr.push_back(xs[p]);
  ArrayRef<int64_t> y = shapeOf(o.getOutput());
  stridedCopy(k, LoopSpace(y, {inStr, contiguousStrides(y)}));
}

void lowerSlice(SliceOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getInput()), y = shapeOf(o.getOutput());
  if (product(y) == 0)
    return;
  SmallVector<int64_t> xs = contiguousStrides(x), inStr;
  int64_t base = 0;
  for (size_t d = 0; d < x.size(); ++d) {
    base += o.getStarts()[d] * xs[d];
    inStr.push_back(o.getSteps()[d] * xs[d]);
  }
  stridedCopy(k, LoopSpace(y, {inStr, contiguousStrides(y)}), base);
}

void lowerExpand(ExpandOp o, KernelBuilder &k) {
  stridedCopy(k, LoopSpace::broadcast(o->getOperands(), o.getOutput()));
}

void lowerTile(TileOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getInput()), y = shapeOf(o.getOutput());
  if (product(y) == 0)
    return;
  SmallVector<int64_t> xs = contiguousStrides(x);
  k.independentNest(y, [&](ArrayRef<Value> vars) {
    SmallVector<Value> src;
    for (size_t d = 0; d < x.size(); ++d)
      src.push_back(x[d] == y[d] ? vars[d]
                                 : k.b.create<arith::RemSIOp>(k.loc, vars[d], k.index(x[d])));
    k.store(k.load(k.in(0), k.linear(src, xs)), k.out(), k.linear(vars, contiguousStrides(y)));
  });
}

void lowerPad(PadOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getInput()), y = shapeOf(o.getOutput());
  ArrayRef<int64_t> pads = o.getPads();
  if (product(y) == 0)
    return;
  Value fill = k.constant(eltOf(o.getInput()), o.getValue().convertToDouble());
  SmallVector<int64_t> xs = contiguousStrides(x), ys = contiguousStrides(y);
  if (product(x) == 0) {
    // Nothing to read: every element is the pad value.
    k.loop(product(y), [&](Value i) { k.store(fill, k.out(), i); });
    return;
  }
  using P = arith::CmpIPredicate;
  OpBuilder &b = k.b;
  auto cmp = [&](P p, Value a, Value c) { return b.create<arith::CmpIOp>(k.loc, p, a, c); };
  auto sel = [&](Value c, Value a, Value e) { return b.create<arith::SelectOp>(k.loc, c, a, e); };
  k.independentNest(y, [&](ArrayRef<Value> vars) {
    SmallVector<Value> src;
    Value outside;
    for (size_t d = 0; d < x.size(); ++d) {
      Value s = vars[d];
      if (pads[d])
        s = b.create<arith::SubIOp>(k.loc, s, k.index(pads[d]));
      if (!pads[d] && y[d] <= x[d]) {
        src.push_back(s);
        continue;
      }
      Value below = cmp(P::slt, s, k.index(0)), above = cmp(P::sge, s, k.index(x[d]));
      if (o.getMode() == "reflect") {
        Value negated = b.create<arith::SubIOp>(k.loc, k.index(0), s);
        Value mirrored = b.create<arith::SubIOp>(k.loc, k.index(2 * x[d] - 2), s);
        s = sel(below, negated, sel(above, mirrored, s));
      } else {
        // Edge mode reads the nearest element; constant mode reads it too
        // (so the load stays in bounds) and then selects the pad value.
        s = sel(below, k.index(0), sel(above, k.index(x[d] - 1), s));
        if (o.getMode() == "constant") {
          Value out = b.create<arith::OrIOp>(k.loc, below, above);
          outside = outside ? b.create<arith::OrIOp>(k.loc, outside, out).getResult() : out;
        }
      }
      src.push_back(s);
    }
    Value v = k.load(k.in(0), k.linear(src, xs));
    if (outside)
      v = sel(outside, fill, v);
    k.store(v, k.out(), k.linear(vars, ys));
  });
}

void lowerTrilu(TriluOp o, KernelBuilder &k) {
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t rows = s[s.size() - 2], cols = s.back();
  Value zero = k.constant(eltOf(o.getInput()), 0);
  k.independentNest({product(s.drop_back(2)), rows, cols}, [&](ArrayRef<Value> v) {
    Value at = k.linear(v, {rows * cols, cols, 1});
    Value diagonal = k.b.create<arith::SubIOp>(k.loc, v[2], v[1]);
    Value keep = k.b.create<arith::CmpIOp>(
        k.loc, o.getUpper() ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle, diagonal,
        k.index(o.getK()));
    Value x = k.load(k.in(0), at);
    k.store(k.b.create<arith::SelectOp>(k.loc, keep, x, zero), k.out(), at);
  });
}

/// Copies the blocks of a piece along `axis` between it and a whole tensor
/// (concat: into the whole; split: out of it).
void copyBlocks(KernelBuilder &k, ArrayRef<int64_t> whole, int64_t axis, int64_t pieceLen,
                int64_t pieceStart, Value piece, Value wholeBuf, bool intoWhole,
                Value outerVar = Value()) {
  int64_t inner = product(whole.drop_front(axis + 1));
  int64_t block = pieceLen * inner, wholeRow = whole[axis] * inner;
  if (block == 0)
    return;
  auto body = [&](Value o) {
    Value wholeAt = k.linear({o}, {wholeRow}, pieceStart * inner);
    Value pieceAt = k.linear({o}, {block});
    if (intoWhole)
      k.copy(piece, pieceAt, wholeBuf, wholeAt, block);
    else
      k.copy(wholeBuf, wholeAt, piece, pieceAt, block);
  };
  if (outerVar) {
    body(outerVar);
  } else if (k.parallelNests) {
    // One iteration per element (the GPU's threads).
    k.independentNest({product(whole.take_front(axis)), block}, [&](ArrayRef<Value> v) {
      Value wholeAt = k.add(k.linear({v[0]}, {wholeRow}, pieceStart * inner), v[1]);
      Value pieceAt = k.add(k.linear({v[0]}, {block}), v[1]);
      if (intoWhole)
        k.store(k.load(piece, pieceAt), wholeBuf, wholeAt);
      else
        k.store(k.load(wholeBuf, wholeAt), piece, pieceAt);
    });
  } else {
    k.loop(product(whole.take_front(axis)), body);
  }
}

void lowerConcat(ConcatOp o, const TargetDescription &target, KernelBuilder &k) {
  ArrayRef<int64_t> y = shapeOf(o.getOutput());
  int64_t axis = o.getAxis(), outer = product(y.take_front(axis));
  auto pieces = [&](Value outerVar) {
    int64_t start = 0;
    for (auto [i, v] : llvm::enumerate(o.getInputs())) {
      copyBlocks(k, y, axis, shapeOf(v)[axis], start, k.in(i), k.out(), true, outerVar);
      start += shapeOf(v)[axis];
    }
  };
  // Large concats (channels-last fire modules) split across the pool by
  // outer row; each row is written whole by one thread.
  if (outer > 1 && numel(o.getOutput()) >= target.minParallelCopyElements &&
      !target.parallelLoopNests)
    k.parallel(outer, pieces);
  else
    pieces(Value());
}

void lowerSplit(SplitOp o, KernelBuilder &k) {
  ArrayRef<int64_t> x = shapeOf(o.getInput());
  int64_t start = 0, axis = o.getAxis();
  for (auto [i, v] : llvm::enumerate(o.getOutputs())) {
    copyBlocks(k, x, axis, shapeOf(v)[axis], start, k.out(i), k.in(0), false);
    start += shapeOf(v)[axis];
  }
}

} // namespace

FailureOr<func::FuncOp> lowerDataMovement(Operation *op, const TargetDescription &target,
                                          KernelBuilder &k) {
  if (auto resize = dyn_cast<ResizeOp>(op))
    return lowerResize(resize, target, k);
  bool lowered = llvm::TypeSwitch<Operation *, bool>(op)
                     .Case<TransposeOp>([&](auto o) { return lowerTranspose(o, k), true; })
                     .Case<SliceOp>([&](auto o) { return lowerSlice(o, k), true; })
                     .Case<ExpandOp>([&](auto o) { return lowerExpand(o, k), true; })
                     .Case<TileOp>([&](auto o) { return lowerTile(o, k), true; })
                     .Case<PadOp>([&](auto o) { return lowerPad(o, k), true; })
                     .Case<TriluOp>([&](auto o) { return lowerTrilu(o, k), true; })
                     .Case<ConcatOp>([&](auto o) { return lowerConcat(o, target, k), true; })
                     .Case<SplitOp>([&](auto o) { return lowerSplit(o, k), true; })
                     .Default([](Operation *) { return false; });
  if (!lowered)
    return lowerIndexedCopy(op, k);
  return k.finish();
}

} // namespace kiln
