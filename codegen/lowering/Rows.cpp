//===- Rows.cpp - Row normalisations -> kernel loops ----------------------===//
//
// Softmax and layer norm read each row whole before writing it: the row's
// statistics are summed in double, in 8 independent lanes and then across
// the lanes (it vectorises, keeps double precision, and the order depends
// only on the row length). A fused row runs its elementwise prologue into a
// local row, normalises it into a second one and runs the epilogue from it,
// one parallel task per row. Batch norm (inference) is a per-channel scale
// and shift.
//
// On the GPU a long row is one cooperative block (RowSchedule): its threads
// share each pass over the row, every thread summing a strided part (in
// double) into block scratch, the parts then combined in thread order.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace kiln {
namespace {

/// A row of `len` elements: buffer[base + j * stride].
struct Row {
  Value buffer, base;
  int64_t stride = 1;
  Value at(KernelBuilder &k, Value j) const { return k.add(base, k.mul(j, stride)); }
  Value load(KernelBuilder &k, Value j) const { return k.load(buffer, at(k, j)); }
  void store(KernelBuilder &k, Value j, Value v) const { k.store(v, buffer, at(k, j)); }
};

Value f64(KernelBuilder &k, double v) {
  return k.b.create<arith::ConstantOp>(k.loc, k.b.getF64FloatAttr(v));
}
Value f32(KernelBuilder &k, float v) {
  return k.b.create<arith::ConstantOp>(k.loc, k.b.getF32FloatAttr(v));
}
Value toDouble(KernelBuilder &k, Value v) {
  return k.b.create<arith::ExtFOp>(k.loc, k.b.getF64Type(), v);
}
Value toFloat(KernelBuilder &k, Value v) {
  return k.b.create<arith::TruncFOp>(k.loc, k.b.getF32Type(), v);
}

/// The double sum of term(j) over j < len, in 8 lanes then across them.
Value laneSum(KernelBuilder &k, int64_t len, function_ref<Value(Value)> term) {
  constexpr int64_t kLanes = 8;
  OpBuilder &b = k.b;
  int64_t body = len / kLanes * kLanes;
  Value sum = f64(k, 0);
  if (body) {
    Value lanes = b.create<memref::AllocaOp>(k.loc, MemRefType::get({kLanes}, b.getF64Type()));
    k.loop(kLanes, [&](Value u) { b.create<memref::StoreOp>(k.loc, f64(k, 0), lanes, u); });
    k.loop(k.index(0), k.index(body), kLanes, [&](Value j0) {
      k.loop(kLanes, [&](Value u) {
        Value lane = b.create<memref::LoadOp>(k.loc, lanes, u);
        Value next = b.create<arith::AddFOp>(k.loc, lane, term(k.add(j0, u)));
        b.create<memref::StoreOp>(k.loc, next, lanes, u);
      });
    });
    sum = k.reduce(kLanes, sum, [&](Value u, Value acc) {
      return b.create<arith::AddFOp>(k.loc, acc, b.create<memref::LoadOp>(k.loc, lanes, u))
          .getResult();
    });
  }
  if (body < len)
    sum = k.reduce(k.index(body), k.index(len), sum, [&](Value j, Value acc) {
      return b.create<arith::AddFOp>(k.loc, acc, term(j)).getResult();
    });
  return sum;
}

/// How the passes over one row of `len` elements run: by one thread
/// (`threads` 0), or shared by the threads of a cooperative GPU block, each
/// taking elements t, t + threads, ...; a reduction's per-thread parts meet
/// in block scratch and every thread combines them in thread order.
struct RowSchedule {
  KernelBuilder &k;
  int64_t len;
  int64_t threads = 0;

  /// The double sum of term(j) over the row.
  Value sum(function_ref<Value(Value)> term) {
    if (!threads)
      return laneSum(k, len, term);
    return combine(f64(k, 0), term, [&](Value a, Value v) {
      return k.b.create<arith::AddFOp>(k.loc, a, v).getResult();
    });
  }

  /// The largest term(j) (NaN-blind, -inf for none).
  Value max(function_ref<Value(Value)> term) {
    auto larger = [&](Value acc, Value v) {
      Value bigger = k.b.create<arith::CmpFOp>(k.loc, arith::CmpFPredicate::OGT, v, acc);
      return k.b.create<arith::SelectOp>(k.loc, bigger, v, acc).getResult();
    };
    Value none = f32(k, -std::numeric_limits<float>::infinity());
    if (!threads)
      return k.reduce(len, none, [&](Value j, Value acc) { return larger(acc, term(j)); });
    return combine(none, term, larger);
  }

  /// body(j) for every element.
  void forEach(function_ref<void(Value)> body) {
    if (threads)
      k.parallel(len, body);
    else
      k.loop(len, body);
  }

private:
  Value combine(Value init, function_ref<Value(Value)> term,
                function_ref<Value(Value, Value)> op) {
    OpBuilder &b = k.b;
    Value parts = k.local(init.getType(), threads);
    k.parallel(threads, [&](Value t) {
      auto loop = b.create<scf::ForOp>(k.loc, t, k.index(len), k.index(threads), ValueRange{init});
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value next = op(loop.getRegionIterArgs()[0], term(loop.getInductionVar()));
        b.create<scf::YieldOp>(k.loc, next);
      }
      b.create<memref::StoreOp>(k.loc, loop.getResult(0), parts, t);
    });
    return k.reduce(threads, init, [&](Value t, Value acc) {
      return op(acc, b.create<memref::LoadOp>(k.loc, parts, t));
    });
  }
};

/// Rows at least this long run as one cooperative GPU block each (on a
/// target with parallel loop nests), with this many threads.
constexpr int64_t kCooperativeRow = 128;
int64_t rowThreads(int64_t len) { return len >= 1024 ? 256 : 128; }

/// Softmax (or log-softmax) of row x into row y.
void softmaxRow(RowSchedule &s, bool log, const Row &x, const Row &y) {
  KernelBuilder &k = s.k;
  OpBuilder &b = k.b;
  Value mx = s.max([&](Value j) { return x.load(k, j); });
  s.forEach([&](Value j) {
    y.store(k, j, b.create<math::ExpOp>(k.loc, b.create<arith::SubFOp>(k.loc, x.load(k, j), mx)));
  });
  Value sum = s.sum([&](Value j) { return toDouble(k, y.load(k, j)); });
  if (log) {
    Value shift = b.create<arith::AddFOp>(k.loc, mx, toFloat(k, b.create<math::LogOp>(k.loc, sum)));
    s.forEach([&](Value j) {
      y.store(k, j, b.create<arith::SubFOp>(k.loc, x.load(k, j), shift));
    });
  } else {
    Value scale = toFloat(k, b.create<arith::DivFOp>(k.loc, f64(k, 1), sum));
    s.forEach([&](Value j) {
      y.store(k, j, b.create<arith::MulFOp>(k.loc, y.load(k, j), scale));
    });
  }
}

/// Layer normalisation of row x into row y; scale(j) and bias(j) (may be
/// null) give the affine parameters.
void layerNormRow(RowSchedule &s, LayerNormOp o, const Row &x, const Row &y,
                  function_ref<Value(Value)> scale, function_ref<Value(Value)> bias) {
  KernelBuilder &k = s.k;
  OpBuilder &b = k.b;
  Value n = f64(k, s.len);
  Value sum = s.sum([&](Value j) { return toDouble(k, x.load(k, j)); });
  Value mean = b.create<arith::DivFOp>(k.loc, sum, n);
  Value sq = s.sum([&](Value j) {
    Value d = b.create<arith::SubFOp>(k.loc, toDouble(k, x.load(k, j)), mean);
    return b.create<arith::MulFOp>(k.loc, d, d).getResult();
  });
  Value var = b.create<arith::AddFOp>(k.loc, b.create<arith::DivFOp>(k.loc, sq, n),
                                      f64(k, o.getEpsilon().convertToFloat()));
  Value inv = toFloat(k, b.create<arith::DivFOp>(k.loc, f64(k, 1),
                                                 b.create<math::SqrtOp>(k.loc, var)));
  Value m = toFloat(k, mean);
  s.forEach([&](Value j) {
    Value v = b.create<arith::MulFOp>(
        k.loc, b.create<arith::MulFOp>(k.loc, b.create<arith::SubFOp>(k.loc, x.load(k, j), m), inv),
        scale(j));
    if (Value c = bias ? bias(j) : Value())
      v = b.create<arith::AddFOp>(k.loc, v, c);
    y.store(k, j, v);
  });
}

/// The element j of a layer norm's scale or bias over a normalised block of
/// `len` elements (null when it broadcasts partially).
std::function<Value(Value)> paramOf(KernelBuilder &k, Value param, Value buffer, int64_t len) {
  int64_t count = numel(param);
  if (count == len)
    return [&k, buffer](Value j) { return k.load(buffer, j); };
  if (count == 1)
    return [&k, buffer](Value) { return k.load(buffer, k.index(0)); };
  return nullptr;
}

/// How the rows of a kernel are spread.
enum class RowSpread {
  /// Independent iterations (KernelBuilder::independentNest); cooperative
  /// blocks for long rows on the GPU.
  Independent,
  /// The same, but one parallel task per row on the CPU too.
  Parallel,
  /// One parallel task per row everywhere (rows too long for shared memory).
  ParallelOnly,
};

/// body(row coordinates, schedule) for each of `rows` rows of `len` elements.
void forEachRow(KernelBuilder &k, const TargetDescription &target, ArrayRef<int64_t> rows,
                int64_t len, RowSpread spread,
                function_ref<void(ArrayRef<Value>, RowSchedule &)> body) {
  auto coords = [&](Value r) {
    return rows.size() == 1 ? SmallVector<Value>{r} : k.unravel(r, rows);
  };
  if (spread != RowSpread::ParallelOnly && target.parallelLoopNests && len >= kCooperativeRow) {
    k.cooperative(product(rows), rowThreads(len), [&](Value r) {
      RowSchedule s{k, len, rowThreads(len)};
      body(coords(r), s);
    });
    return;
  }
  if (spread != RowSpread::Independent) {
    k.parallel(product(rows), [&](Value r) {
      RowSchedule s{k, len};
      body(coords(r), s);
    });
    return;
  }
  k.independentNest(rows, [&](ArrayRef<Value> v) {
    RowSchedule s{k, len};
    body(v, s);
  });
}

LogicalResult lowerSoftmax(SoftmaxOp o, const TargetDescription &target, KernelBuilder &k) {
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t axis = o.getAxis(), len = s[axis];
  int64_t outer = product(s.take_front(axis)), inner = product(s.drop_front(axis + 1));
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(4 * product(s)));
  forEachRow(k, target, {outer, inner}, len, RowSpread::Independent,
             [&](ArrayRef<Value> v, RowSchedule &rs) {
    Value base = k.linear(v, {len * inner, 1});
    softmaxRow(rs, o.getLog(), Row{k.in(0), base, inner}, Row{k.out(), base, inner});
  });
  return success();
}

LogicalResult lowerLayerNorm(LayerNormOp o, const TargetDescription &target, KernelBuilder &k) {
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t outer = product(s.take_front(o.getAxis())), len = product(s.drop_front(o.getAxis()));
  auto scale = paramOf(k, o.getScale(), k.in(1), len);
  std::function<Value(Value)> bias;
  if (o.getBias())
    bias = paramOf(k, o.getBias(), k.in(2), len);
  if (!scale || (o.getBias() && !bias))
    return o.emitOpError("scale/bias that broadcast partially are not supported");
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(8 * product(s)));
  forEachRow(k, target, {outer}, len, RowSpread::Independent,
             [&](ArrayRef<Value> v, RowSchedule &rs) {
    Value base = k.mul(v[0], len);
    layerNormRow(rs, o, Row{k.in(0), base}, Row{k.out(), base}, scale, bias);
  });
  return success();
}

LogicalResult lowerBatchNorm(BatchNormOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> s = shapeOf(o.getInput());
  int64_t channels = s[1], inner = product(s.drop_front(2));
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * product(s)));
  k.independentNest({s[0], channels}, [&](ArrayRef<Value> v) {
    Value ch = v[1];
    Value var = b.create<arith::AddFOp>(k.loc, k.load(k.in(4), ch),
                                        f32(k, o.getEpsilon().convertToFloat()));
    Value scale = b.create<arith::DivFOp>(k.loc, k.load(k.in(1), ch),
                                          b.create<math::SqrtOp>(k.loc, var));
    Value shift = b.create<arith::SubFOp>(
        k.loc, k.load(k.in(2), ch), b.create<arith::MulFOp>(k.loc, k.load(k.in(3), ch), scale));
    Value base = k.linear(v, {channels * inner, inner});
    k.loop(inner, [&](Value p) {
      Value at = k.add(base, p);
      Value y = b.create<arith::AddFOp>(
          k.loc, b.create<arith::MulFOp>(k.loc, k.load(k.in(0), at), scale), shift);
      k.store(y, k.out(), at);
    });
  });
  return success();
}

/// The elementwise chain [first, end) of a fused row computing `result`,
/// each element j stored by sink(j, value): in tiles of the whole row by one
/// thread, or one element per iteration of the block's threads.
LogicalResult chainOverRow(RowSchedule &s, Block::iterator first, Block::iterator end,
                           Value result, const ChainSources &sources,
                           function_ref<void(Value, Value)> sink, int64_t &ops) {
  KernelBuilder &k = s.k;
  if (!s.threads) {
    ChainSources copy = sources;
    return emitChain(k, first, end, result, copy, k.index(s.len), s.len, sink, ops);
  }
  LogicalResult status = success();
  s.forEach([&](Value j) {
    ChainSources at;
    for (auto &[v, source] : sources)
      at[v] = [&k, source, j](Value) { return source(j); };
    if (failed(emitChain(k, first, end, result, at, k.index(1), 1,
                         [&](Value, Value v) { sink(j, v); }, ops)))
      status = failure();
  });
  return status;
}

LogicalResult lowerFusedRow(FusedRowOp o, const TargetDescription &target, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Block &body = o.getBody().front();
  Operation *head = o.getHead();
  ArrayRef<int64_t> shape = shapeOf(o.getOutput());
  int64_t len = shape.back(), rows = numel(o.getOutput()) / len;
  ArrayRef<int64_t> lead = shape.drop_back();
  Type f32Type = b.getF32Type();
  Value result = body.getTerminator()->getOperand(0);
  bool epilogue = result != head->getResult(0);
  LogicalResult status = success();
  int64_t ops = 0;
  // Cooperative rows keep both local rows in shared memory: up to 32 KiB.
  RowSpread spread = 2 * len * 4 <= (32 << 10) ? RowSpread::Parallel : RowSpread::ParallelOnly;
  forEachRow(k, target, {rows}, len, spread, [&](ArrayRef<Value> rowIndex, RowSchedule &s) {
    Value r = rowIndex[0];
    Value xr = b.create<memref::AllocaOp>(k.loc, MemRefType::get({len}, f32Type));
    Value yr = b.create<memref::AllocaOp>(k.loc, MemRefType::get({len}, f32Type));
    // Result coordinates of row r, to index inputs that broadcast.
    SmallVector<Value> coords = k.unravel(r, lead);
    ChainSources sources;
    for (BlockArgument arg : body.getArguments()) {
      if (shapeOf(arg).size() > shape.size())
        continue;
      SmallVector<int64_t> strides = broadcastStrides(shapeOf(arg), shape);
      sources[arg] = [&, arg, strides](Value j) {
        SmallVector<Value> vars(coords);
        vars.push_back(j);
        return k.load(k.in(arg.getArgNumber()), k.linear(vars, strides));
      };
    }
    Row xRow{xr, k.index(0)}, yRow{yr, k.index(0)};
    // The prologue computes the head's input into xr.
    Value input = head->getOperand(0);
    if (!isa<BlockArgument>(input)) {
      if (failed(chainOverRow(s, body.begin(), head->getIterator(), input, sources,
                              [&](Value j, Value v) { xRow.store(k, j, v); }, ops)))
        status = failure();
    } else {
      s.forEach([&](Value j) { xRow.store(k, j, sources.lookup(input)(j)); });
    }
    Row normalised = epilogue ? yRow : Row{k.out(), k.mul(r, len)};
    if (auto ln = dyn_cast<LayerNormOp>(head)) {
      auto param = [&](Value v) -> std::function<Value(Value)> {
        auto arg = dyn_cast<BlockArgument>(v);
        if (!arg)
          return nullptr;
        return paramOf(k, v, k.in(arg.getArgNumber()), len);
      };
      auto scale = param(ln.getScale());
      std::function<Value(Value)> bias;
      if (ln.getBias())
        bias = param(ln.getBias());
      if (!scale || (ln.getBias() && !bias)) {
        status = ln.emitOpError("scale/bias that broadcast partially are not supported");
        return;
      }
      layerNormRow(s, ln, xRow, normalised, scale, bias);
    } else {
      softmaxRow(s, cast<SoftmaxOp>(head).getLog(), xRow, normalised);
    }
    if (epilogue) {
      sources[head->getResult(0)] = [&](Value j) { return yRow.load(k, j); };
      Row out{k.out(), k.mul(r, len)};
      if (failed(chainOverRow(s, std::next(head->getIterator()),
                              body.getTerminator()->getIterator(), result, sources,
                              [&](Value j, Value v) { out.store(k, j, v); }, ops)))
        status = failure();
    }
  });
  int64_t perElement = isa<LayerNormOp>(head) ? 8 : 4;
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(numel(o.getOutput()) * (perElement + ops)));
  return status;
}

} // namespace

FailureOr<func::FuncOp> lowerRows(Operation *op, const TargetDescription &target,
                                  KernelBuilder &k) {
  if (failed(requireF32(op)))
    return failure();
  LogicalResult result = success();
  if (auto o = dyn_cast<SoftmaxOp>(op))
    result = lowerSoftmax(o, target, k);
  else if (auto o = dyn_cast<LayerNormOp>(op))
    result = lowerLayerNorm(o, target, k);
  else if (auto o = dyn_cast<BatchNormOp>(op))
    result = lowerBatchNorm(o, k);
  else if (auto o = dyn_cast<FusedRowOp>(op))
    result = lowerFusedRow(o, target, k);
  else
    return func::FuncOp();
  if (failed(result))
    return failure();
  return k.finish();
}

} // namespace kiln
