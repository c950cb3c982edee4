//===- Reductions.cpp - Reductions along axes -> kernel loops -------------===//
//
// reduce_* keep one accumulator per output element (floats accumulate in
// double, integers in their own type, exactly) and walk the input once in
// memory order; arg_reduce, cumsum and hardmax walk their axis per
// (outer, inner) position.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/ElementwiseMath.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/TypeSwitch.h"

#include <limits>

using namespace mlir;

namespace kiln {
namespace {

/// On the GPU, reductions at least this long, when there are fewer outputs
/// than this, run as one cooperative block each.
constexpr int64_t kCooperativeReduction = 1024;

/// The final map of accumulated value `a` of output `i`, and its store.
void storeReduced(Operation *op, KernelBuilder &k, Value a, Value i, Type accElt, int64_t reduced) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  bool accFp = isa<FloatType>(a.getType()), u = eltOf(op->getOperand(0)).isUnsignedInteger();
  if (isa<ReduceL2Op>(op))
    a = b.create<math::SqrtOp>(loc, a);
  else if (isa<ReduceLogSumOp, ReduceLogSumExpOp>(op))
    a = b.create<math::LogOp>(loc, a);
  else if (isa<ReduceMeanOp>(op)) {
    Value n = k.constant(accElt, std::max<int64_t>(reduced, 1));
    a = accFp ? b.create<arith::DivFOp>(loc, a, n).getResult()
        : u   ? b.create<arith::DivUIOp>(loc, a, n).getResult()
              : b.create<arith::DivSIOp>(loc, a, n).getResult();
  }
  k.store(convertScalar(b, loc, a, accElt, eltOf(op->getResult(0))), k.out(), i);
}

/// The reduce op's accumulation: initial value, step and final map.
FailureOr<func::FuncOp> lowerReduce(Operation *op, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  Value x = op->getOperand(0), y = op->getResult(0);
  Type elt = eltOf(x);
  bool fp = isa<FloatType>(elt), u = elt.isUnsignedInteger();
  bool toDouble = fp || isa<ReduceL2Op, ReduceLogSumOp, ReduceLogSumExpOp>(op);
  Type accElt = toDouble ? b.getF64Type() : elt;
  Type acc = computeType(accElt);
  auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes").asArrayRef();

  ArrayRef<int64_t> s = shapeOf(x);
  SmallVector<int64_t> outStr = contiguousStrides(s);
  {
    SmallVector<int64_t> kept;
    for (size_t d = 0; d < s.size(); ++d)
      kept.push_back(llvm::is_contained(axes, (int64_t)d) ? 1 : s[d]);
    outStr = broadcastStrides(kept, s);
    for (size_t d = 0; d < s.size(); ++d)
      if (llvm::is_contained(axes, (int64_t)d))
        outStr[d] = 0;
  }
  int64_t count = numel(y), reduced = count ? product(s) / count : 0;
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(product(s)));
  if (count == 0)
    return k.finish();

  double inf = std::numeric_limits<double>::infinity();
  unsigned w = acc.isIntOrFloat() ? acc.getIntOrFloatBitWidth() : 64;
  auto typeMin = [&]() -> Value {
    if (fp) return k.constant(accElt, -inf);
    return b.create<arith::ConstantOp>(
        loc, b.getIntegerAttr(acc, u ? APInt::getMinValue(w) : APInt::getSignedMinValue(w)));
  };
  auto typeMax = [&]() -> Value {
    if (fp) return k.constant(accElt, inf);
    return b.create<arith::ConstantOp>(
        loc, b.getIntegerAttr(acc, u ? APInt::getMaxValue(w) : APInt::getSignedMaxValue(w)));
  };
  Value init = isa<ReduceMaxOp>(op)    ? typeMin()
               : isa<ReduceMinOp>(op)  ? typeMax()
               : isa<ReduceProdOp>(op) ? k.constant(accElt, 1)
                                       : k.constant(accElt, 0);
  bool accFp = isa<FloatType>(acc);
  auto add = [&](Value a, Value c) -> Value {
    return accFp ? b.create<arith::AddFOp>(loc, a, c).getResult()
                 : b.create<arith::AddIOp>(loc, a, c).getResult();
  };
  auto mul = [&](Value a, Value c) -> Value {
    return accFp ? b.create<arith::MulFOp>(loc, a, c).getResult()
                 : b.create<arith::MulIOp>(loc, a, c).getResult();
  };
  auto step = [&](Value a, Value v) -> Value {
    return llvm::TypeSwitch<Operation *, Value>(op)
        .Case<ReduceMaxOp>([&](auto) -> Value {
          if (accFp) return b.create<arith::MaximumFOp>(loc, a, v);
          return u ? b.create<arith::MaxUIOp>(loc, a, v).getResult()
                   : b.create<arith::MaxSIOp>(loc, a, v).getResult();
        })
        .Case<ReduceMinOp>([&](auto) -> Value {
          if (accFp) return b.create<arith::MinimumFOp>(loc, a, v);
          return u ? b.create<arith::MinUIOp>(loc, a, v).getResult()
                   : b.create<arith::MinSIOp>(loc, a, v).getResult();
        })
        .Case<ReduceProdOp>([&](auto) { return mul(a, v); })
        .Case<ReduceL1Op>([&](auto) -> Value {
          if (accFp) return add(a, b.create<math::AbsFOp>(loc, v));
          if (u) return add(a, v);
          Value zero = k.constant(accElt, 0);
          Value neg = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, v, zero);
          return add(a, b.create<arith::SelectOp>(loc, neg,
                                                  b.create<arith::SubIOp>(loc, zero, v), v));
        })
        .Case<ReduceL2Op, ReduceSumSquareOp>([&](auto) { return add(a, mul(v, v)); })
        .Case<ReduceLogSumExpOp>([&](auto) { return add(a, b.create<math::ExpOp>(loc, v)); })
        .Default([&](Operation *) { return add(a, v); });
  };

  auto finish = [&](Value a, Value i) { storeReduced(op, k, a, i, accElt, reduced); };
  if (k.parallelNests) {
    SmallVector<int64_t> inStr = contiguousStrides(s), keptDims, keptStr, redDims, redStr;
    for (size_t d = 0; d < s.size(); ++d) {
      bool r = llvm::is_contained(axes, (int64_t)d);
      (r ? redDims : keptDims).push_back(s[d]);
      (r ? redStr : keptStr).push_back(inStr[d]);
    }
    if (reduced >= kCooperativeReduction && count < kCooperativeReduction) {
      // Few long reductions: one cooperative GPU block each. Every thread
      // reduces a strided part into block scratch; the parts combine in
      // thread order, and one thread stores the result.
      constexpr int64_t threads = 256;
      auto combine = [&](Value a, Value part) -> Value {
        if (isa<ReduceMaxOp, ReduceMinOp>(op))
          return step(a, part);
        return isa<ReduceProdOp>(op) ? mul(a, part) : add(a, part);
      };
      k.cooperative(count, threads, [&](Value i) {
        Value base = k.linear(k.unravel(i, keptDims), keptStr);
        Value parts = k.local(acc, threads);
        k.parallel(threads, [&](Value t) {
          auto loop = b.create<scf::ForOp>(loc, t, k.index(reduced), k.index(threads),
                                           ValueRange{init});
          {
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(loop.getBody());
            Value r = loop.getInductionVar();
            Value at = k.add(base, k.linear(k.unravel(r, redDims), redStr));
            b.create<scf::YieldOp>(
                loc, step(loop.getRegionIterArgs()[0],
                          convertScalar(b, loc, k.load(k.in(0), at), elt, accElt)));
          }
          b.create<memref::StoreOp>(loc, loop.getResult(0), parts, t);
        });
        k.parallel(1, [&](Value) {
          finish(k.reduce(threads, init, [&](Value t, Value a) {
                   return combine(a, b.create<memref::LoadOp>(loc, parts, t));
                 }),
                 i);
        });
      });
      return k.finish();
    }
    // One iteration per output, reducing its input elements in order.
    k.parallel(count, [&](Value i) {
      Value base = k.linear(k.unravel(i, keptDims), keptStr);
      Value a = k.reduce(reduced, init, [&](Value r, Value a) {
        Value at = k.add(base, k.linear(k.unravel(r, redDims), redStr));
        return step(a, convertScalar(b, loc, k.load(k.in(0), at), elt, accElt));
      });
      finish(a, i);
    });
    return k.finish();
  }
  auto accs = b.create<memref::AllocOp>(loc, MemRefType::get({count}, acc));
  k.loop(count, [&](Value i) { b.create<memref::StoreOp>(loc, init, accs, i); });
  LoopSpace space(s, {contiguousStrides(s), outStr});
  k.loopNest(space.dims, [&](ArrayRef<Value> vars) {
    Value v = convertScalar(b, loc, k.load(k.in(0), k.linear(vars, space.strides[0])), elt,
                            accElt);
    Value at = k.linear(vars, space.strides[1]);
    Value a = b.create<memref::LoadOp>(loc, accs, at);
    b.create<memref::StoreOp>(loc, step(a, v), accs, at);
  });
  k.loop(count, [&](Value i) { finish(b.create<memref::LoadOp>(loc, accs, i), i); });
  b.create<memref::DeallocOp>(loc, accs);
  return k.finish();
}


/// The index of the first (or last) extreme along the axis.
func::FuncOp lowerArgReduce(ArgReduceOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t axis = o.getAxis(), len = s[axis];
  int64_t outer = product(s.take_front(axis)), inner = product(s.drop_front(axis + 1));
  Type elt = eltOf(o.getInput());
  bool fp = isa<FloatType>(elt), u = elt.isUnsignedInteger(), last = o.getSelectLastIndex();
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(product(s)));
  k.independentNest({outer, inner}, [&](ArrayRef<Value> v) {
    Value base = k.linear(v, {len * inner, 1});
    auto loop = b.create<scf::ForOp>(k.loc, k.index(1), k.index(std::max<int64_t>(len, 1)),
                                     k.index(1), ValueRange{k.index(0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value j = loop.getInductionVar(), best = loop.getRegionIterArgs()[0];
      Value xj = k.load(k.in(0), k.add(base, k.mul(j, inner)));
      Value xb = k.load(k.in(0), k.add(base, k.mul(best, inner)));
      Value better;
      if (fp)
        better = b.create<arith::CmpFOp>(
            k.loc, o.getMax() ? (last ? arith::CmpFPredicate::OGE : arith::CmpFPredicate::OGT)
                              : (last ? arith::CmpFPredicate::OLE : arith::CmpFPredicate::OLT),
            xj, xb);
      else {
        using P = arith::CmpIPredicate;
        P p = o.getMax() ? (last ? (u ? P::uge : P::sge) : (u ? P::ugt : P::sgt))
                         : (last ? (u ? P::ule : P::sle) : (u ? P::ult : P::slt));
        better = b.create<arith::CmpIOp>(k.loc, p, xj, xb);
      }
      b.create<scf::YieldOp>(k.loc, ValueRange{b.create<arith::SelectOp>(k.loc, better, j, best)});
    }
    Value index = b.create<arith::IndexCastOp>(k.loc, b.getI64Type(), loop.getResult(0));
    k.store(index, k.out(), k.linear(v, {inner, 1}));
  });
  return k.finish();
}

/// Running sums along the axis (in double for floats).
func::FuncOp lowerCumSum(CumSumOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t axis = o.getAxis(), len = s[axis];
  int64_t outer = product(s.take_front(axis)), inner = product(s.drop_front(axis + 1));
  Type elt = eltOf(o.getInput());
  Type accElt = isa<FloatType>(elt) ? b.getF64Type() : elt;
  bool fp = isa<FloatType>(accElt);
  k.independentNest({outer, inner}, [&](ArrayRef<Value> v) {
    auto loop = b.create<scf::ForOp>(k.loc, k.index(0), k.index(len), k.index(1),
                                     ValueRange{k.constant(accElt, 0)});
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value n = loop.getInductionVar(), sum = loop.getRegionIterArgs()[0];
    Value j = o.getReverse() ? b.create<arith::SubIOp>(k.loc, k.index(len - 1), n).getResult() : n;
    Value at = k.linear({v[0], j, v[1]}, {len * inner, inner, 1});
    Value x = convertScalar(b, k.loc, k.load(k.in(0), at), elt, accElt);
    Value next = fp ? b.create<arith::AddFOp>(k.loc, sum, x).getResult()
                    : b.create<arith::AddIOp>(k.loc, sum, x).getResult();
    k.store(convertScalar(b, k.loc, o.getExclusive() ? sum : next, accElt, elt), k.out(), at);
    b.create<scf::YieldOp>(k.loc, ValueRange{next});
  });
  return k.finish();
}

/// 1 at the first maximum along the axis, 0 elsewhere.
func::FuncOp lowerHardmax(HardmaxOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t axis = o.getAxis(), len = s[axis];
  int64_t outer = product(s.take_front(axis)), inner = product(s.drop_front(axis + 1));
  Type elt = eltOf(o.getInput());
  if (len == 0)
    return k.finish();
  k.independentNest({outer, inner}, [&](ArrayRef<Value> v) {
    Value base = k.linear(v, {len * inner, 1});
    auto loop = b.create<scf::ForOp>(k.loc, k.index(0), k.index(len), k.index(1),
                                     ValueRange{k.index(0)});
    Value best;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value j = loop.getInductionVar(), cur = loop.getRegionIterArgs()[0];
      Value xj = k.load(k.in(0), k.add(base, k.mul(j, inner)));
      Value xb = k.load(k.in(0), k.add(base, k.mul(cur, inner)));
      Value better = isa<FloatType>(xj.getType())
                         ? b.create<arith::CmpFOp>(k.loc, arith::CmpFPredicate::OGT, xj, xb)
                               .getResult()
                         : b.create<arith::CmpIOp>(k.loc,
                                                   elt.isUnsignedInteger()
                                                       ? arith::CmpIPredicate::ugt
                                                       : arith::CmpIPredicate::sgt,
                                                   xj, xb)
                               .getResult();
      k.store(k.constant(elt, 0), k.out(), k.add(base, k.mul(j, inner)));
      b.create<scf::YieldOp>(k.loc, ValueRange{b.create<arith::SelectOp>(k.loc, better, j, cur)});
    }
    best = loop.getResult(0);
    k.store(k.constant(elt, 1), k.out(), k.add(base, k.mul(best, inner)));
  });
  return k.finish();
}

/// Negative log-likelihood: -x[b, target, d] * weight[target] per element,
/// summed (and weighted) in double; ignored targets add nothing, and targets
/// outside the classes fail the run.
func::FuncOp lowerNllLoss(NllLossOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  ArrayRef<int64_t> x = shapeOf(o.getInput());
  int64_t n = x[0], classes = x[1], inner = product(x.drop_front(2));
  Type elt = eltOf(o.getInput()), f64 = b.getF64Type();
  Type targetElt = eltOf(o.getTarget());
  StringRef reduction = o.getReduction();
  Value zero = b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(0));
  auto loop = b.create<scf::ForOp>(loc, k.index(0), k.index(n * inner), k.index(1),
                                   ValueRange{zero, zero});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value e = loop.getInductionVar();
    Value total = loop.getRegionIterArgs()[0], weights = loop.getRegionIterArgs()[1];
    Value raw = convertScalar(b, loc, k.load(k.in(1), e), targetElt, b.getI64Type());
    Value cls = b.create<arith::IndexCastOp>(loc, b.getIndexType(), raw);
    Value ignored = b.create<arith::ConstantOp>(loc, b.getBoolAttr(false));
    if (auto ignore = o.getIgnoreIndex())
      ignored = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, cls, k.index(*ignore));
    Value inRange = b.create<arith::AndIOp>(
        loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, cls, k.index(0)),
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, cls, k.index(classes)));
    Value ok = b.create<arith::OrIOp>(loc, ignored, inRange);
    b.create<CheckOp>(loc, ok,
                      b.getStringAttr("target {0} is out of range [0, " +
                                      std::to_string(classes) + ")"),
                      ValueRange{raw});
    // Ignored targets read class 0 (in bounds) and count for nothing.
    Value safe = b.create<arith::SelectOp>(loc, ignored, k.index(0), cls);
    Value w = o.getWeight() ? convertScalar(b, loc, k.load(k.in(2), safe), elt, f64)
                            : b.create<arith::ConstantOp>(loc, b.getF64FloatAttr(1)).getResult();
    w = b.create<arith::SelectOp>(loc, ignored, zero, w);
    Value bi = b.create<arith::DivSIOp>(loc, e, k.index(inner));
    Value d = b.create<arith::RemSIOp>(loc, e, k.index(inner));
    Value at = k.add(k.mul(k.add(k.mul(bi, classes), safe), inner), d);
    Value v = convertScalar(b, loc, k.load(k.in(0), at), elt, f64);
    Value loss = b.create<arith::MulFOp>(loc, b.create<arith::NegFOp>(loc, v), w);
    loss = b.create<arith::SelectOp>(loc, ignored, zero, loss);
    if (reduction == "none")
      k.store(convertScalar(b, loc, loss, f64, elt), k.out(), e);
    b.create<scf::YieldOp>(loc, ValueRange{b.create<arith::AddFOp>(loc, total, loss),
                                           b.create<arith::AddFOp>(loc, weights, w)});
  }
  Value total = loop.getResult(0), weights = loop.getResult(1);
  if (reduction == "sum")
    k.store(convertScalar(b, loc, total, f64, elt), k.out(), k.index(0));
  else if (reduction == "mean")
    k.store(convertScalar(b, loc, b.create<arith::DivFOp>(loc, total, weights), f64, elt),
            k.out(), k.index(0));
  return k.finish();
}

/// The k best elements along the axis, best first (equal values keep index
/// order): per (outer, inner) position a partial sort of the indices.
func::FuncOp lowerTopK(TopKOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t axis = o.getAxis(), len = s[axis], kk = shapeOf(o.getValues())[axis];
  int64_t outer = product(s.take_front(axis)), inner = product(s.drop_front(axis + 1));
  if (kk == 0 || outer * inner == 0)
    return k.finish();
  auto order = b.create<memref::AllocOp>(
      k.loc, MemRefType::get({std::max<int64_t>(len, 1)}, b.getIndexType()));
  k.loopNest({outer, inner}, [&](ArrayRef<Value> v) {
    Value base = k.linear(v, {len * inner, 1});
    b.create<TopIndicesOp>(k.loc, k.in(0), base, order, b.getI64IntegerAttr(kk),
                           b.getI64IntegerAttr(len), b.getI64IntegerAttr(inner),
                           b.getBoolAttr(o.getLargest()));
    k.loop(kk, [&](Value j) {
      Value idx = b.create<memref::LoadOp>(k.loc, order, j);
      Value at = k.linear({v[0], j, v[1]}, {kk * inner, inner, 1});
      k.store(k.load(k.in(0), k.add(base, k.mul(idx, inner))), k.out(0), at);
      k.store(b.create<arith::IndexCastOp>(k.loc, b.getI64Type(), idx), k.out(1), at);
    });
  });
  b.create<memref::DeallocOp>(k.loc, order);
  return k.finish();
}

} // namespace

FailureOr<func::FuncOp> lowerReductions(Operation *op, const TargetDescription &,
                                        KernelBuilder &k) {
  if (isa<ReduceMeanOp, ReduceSumOp, ReduceMaxOp, ReduceMinOp, ReduceProdOp, ReduceL1Op,
          ReduceL2Op, ReduceSumSquareOp, ReduceLogSumOp, ReduceLogSumExpOp>(op))
    return lowerReduce(op, k);
  if (auto o = dyn_cast<ArgReduceOp>(op))
    return lowerArgReduce(o, k);
  if (auto o = dyn_cast<CumSumOp>(op))
    return lowerCumSum(o, k);
  if (auto o = dyn_cast<HardmaxOp>(op))
    return lowerHardmax(o, k);
  if (auto o = dyn_cast<NllLossOp>(op))
    return lowerNllLoss(o, k);
  if (auto o = dyn_cast<TopKOp>(op))
    return lowerTopK(o, k);
  return func::FuncOp();
}

} // namespace kiln
