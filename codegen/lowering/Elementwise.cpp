//===- Elementwise.cpp - Elementwise graph ops -> kernel loops ------------===//
//
// Unary, binary (broadcasting), where, cast, clip and pointwise ops become
// one loop nest over the result; a fused chain becomes tiles of the
// innermost dimension in which each body op is its own loop over a small
// local array. That keeps ops the C++ compiler vectorises vectorised next to
// library calls it cannot, while the intermediates stay in L1. The maths of
// each op comes from ElementwiseMath.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/ElementwiseMath.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace kiln {
namespace {

} // namespace

LogicalResult emitChain(KernelBuilder &k, Block::iterator first, Block::iterator end,
                        Value result, ChainSources &sources, Value count, int64_t tile,
                        function_ref<void(Value, Value)> sink, int64_t &opsPerElement) {
  for (Operation &op : llvm::make_range(first, end)) {
    bool last = op.getResult(0) == result;
    Value array;
    if (!last)
      array = k.b.create<memref::AllocaOp>(
          k.loc, MemRefType::get({tile}, computeType(getElementTypeOrSelf(
                                             op.getResult(0).getType()))));
    LogicalResult status = success();
    k.loop(k.index(0), count, 1, [&](Value j) {
      SmallVector<Value> args;
      for (Value v : op.getOperands())
        args.push_back(sources.lookup(v)(j));
      auto v = buildElementwise(k.b, &op, args);
      if (failed(v)) {
        status = failure();
        return;
      }
      if (last)
        sink(j, *v);
      else
        k.store(*v, array, j);
    });
    if (failed(status))
      return failure();
    ++opsPerElement;
    if (!last)
      sources[op.getResult(0)] = [&k, array](Value j) { return k.load(array, j); };
  }
  return success();
}

namespace {

/// One loop nest: out[idx] = op(in0[idx0], in1[idx1], ...).
func::FuncOp lowerSingle(Operation *op, KernelBuilder &k, LogicalResult &result) {
  LoopSpace space = LoopSpace::broadcast(op->getOperands(), op->getResult(0));
  k.independentNest(space.dims, [&](ArrayRef<Value> vars) {
    SmallVector<Value> args;
    for (unsigned i = 0; i < op->getNumOperands(); ++i)
      args.push_back(k.load(k.in(i), k.linear(vars, space.strides[i])));
    auto v = buildElementwise(k.b, op, args);
    if (failed(v)) {
      result = failure();
      return;
    }
    k.store(*v, k.out(), k.linear(vars, space.strides.back()));
  });
  int64_t n = cast<ShapedType>(op->getResult(0).getType()).getNumElements();
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(n));
  return k.finish();
}

func::FuncOp lowerFused(FusedElementwiseOp o, const TargetDescription &target,
                        KernelBuilder &k, LogicalResult &result) {
  Block &body = o.getBody().front();
  Value yielded = body.getTerminator()->getOperand(0);
  LoopSpace space = LoopSpace::broadcast(o.getInputs(), o.getOutput());
  if (space.dims.empty()) {
    // One element: every (unit) dimension was dropped.
    space.dims.push_back(1);
    for (auto &s : space.strides)
      s.assign(1, 0);
  }
  int64_t numel = cast<ShapedType>(o.getType()).getNumElements();
  int64_t inner = space.dims.back(), tile = std::min(target.elementwiseTile, inner);
  ArrayRef<int64_t> outer = ArrayRef<int64_t>(space.dims).drop_back();

  // The tile of `tile` elements from j0 of the innermost dimension.
  auto emitTileAt = [&](ArrayRef<Value> outerVars, Value j0) {
    {
      Value count = k.index(tile);
      if (inner % tile)
        count = k.b.create<arith::MinSIOp>(
            k.loc, count, k.b.create<arith::SubIOp>(k.loc, k.index(inner), j0));
      auto coords = [&](Value j) {
        SmallVector<Value> vars(outerVars);
        vars.push_back(k.add(j0, j));
        return vars;
      };
      // The inputs, read through their broadcast index.
      ChainSources sources;
      for (BlockArgument arg : body.getArguments())
        sources[arg] = [&, arg](Value j) {
          return k.load(k.in(arg.getArgNumber()),
                        k.linear(coords(j), space.strides[arg.getArgNumber()]));
        };
      int64_t ops = 0;
      if (failed(emitChain(k, body.begin(), body.getTerminator()->getIterator(), yielded,
                           sources, count, tile,
                           [&](Value j, Value v) {
                             k.store(v, k.out(), k.linear(coords(j), space.strides.back()));
                           },
                           ops)))
        result = failure();
    }
  };
  auto emitTile = [&](ArrayRef<Value> outerVars) {
    k.loop(k.index(0), k.index(inner), tile, [&](Value j0) { emitTileAt(outerVars, j0); });
  };

  if (target.parallelLoopNests) {
    // One iteration per element (inner tiles of one element).
    k.independentNest(space.dims, [&](ArrayRef<Value> vars) {
      emitTileAt(vars.drop_back(), vars.back());
    });
    int64_t ops = std::distance(body.without_terminator().begin(),
                                body.without_terminator().end());
    k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(numel * ops));
    return k.finish();
  }
  // Large results split their outermost dimension across the pool.
  bool parallel = numel >= target.minParallelElements && !outer.empty() && outer[0] >= 2;
  if (parallel) {
    k.parallel(outer[0], [&](Value p0) {
      k.loopNest(outer.drop_front(), [&](ArrayRef<Value> rest) {
        SmallVector<Value> vars{p0};
        vars.append(rest.begin(), rest.end());
        emitTile(vars);
      });
    });
  } else {
    k.loopNest(outer, emitTile);
  }
  int64_t ops = std::distance(body.without_terminator().begin(),
                              body.without_terminator().end());
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(numel * ops));
  return k.finish();
}

} // namespace

FailureOr<func::FuncOp> lowerElementwise(Operation *op, const TargetDescription &target,
                                         KernelBuilder &k) {
  LogicalResult result = success();
  func::FuncOp f = isa<FusedElementwiseOp>(op)
                       ? lowerFused(cast<FusedElementwiseOp>(op), target, k, result)
                       : lowerSingle(op, k, result);
  if (failed(result))
    return failure();
  return f;
}

} // namespace kiln
