//===- Recurrence.cpp - kiln.recurrence -> a kernel loop over time --------===//
//
// One kernel per recurrent layer direction. The states live in the state
// results from the start. Per step, the recurrent product h·Rᵀ of the whole
// batch goes to a scratch block: on the micro-kernel (kiln.gemm_tile, split
// across the pool when the product is worth a dispatch; the tasks of
// consecutive steps keep their blocks of R in their cores' caches) or, off
// it, as plain dot products. Then the cell runs over each batch row in tiles
// of units (the body as an elementwise chain) and writes y and the new
// states. Past a batch entry's sequence length its states are held and its
// y row is zero.
//
//===----------------------------------------------------------------------===//

#include "codegen/MicroKernelPlan.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;

namespace kiln {

namespace {

/// A product h·Rᵀ is split across the pool from this many multiply-adds: a
/// dispatch costs microseconds.
constexpr int64_t kMinParallelMacs = 1 << 17;
/// Units of the cell per tile (the chain's local arrays).
constexpr int64_t kUnitTile = 256;

/// rec[b * n + c] = sum_kk h[b * hidden + kk] * R[c * hidden + kk] on the
/// micro-kernel: tiles of batch rows x output blocks.
void productOnMicroKernel(KernelBuilder &k, Value h, Value weights, Value rec,
                          const TileShape &tile, int64_t batch, int64_t n, int64_t hidden) {
  OpBuilder &b = k.b;
  int64_t nb = tile.nb(), tiles = (batch + tile.mr - 1) / tile.mr, blocks = (n + nb - 1) / nb;
  auto task = [&](Value t) {
    // Task t is tile t % tiles of block t / tiles.
    Value m0 = tiles == 1 ? k.index(0)
                          : k.mul(b.create<arith::RemSIOp>(k.loc, t, k.index(tiles)), tile.mr);
    Value blk = tiles == 1 ? t : b.create<arith::DivSIOp>(k.loc, t, k.index(tiles)).getResult();
    Value col0 = k.mul(blk, nb);
    // Rows past the batch repeat its last row; their results are not stored.
    auto rowsType = MemRefType::get({tile.mr}, b.getIndexType());
    Value rows = b.create<memref::AllocaOp>(k.loc, rowsType);
    k.loop(tile.mr, [&](Value p) {
      Value r = k.min(k.add(m0, p), batch - 1);
      b.create<memref::StoreOp>(k.loc, k.mul(r, hidden), rows, ValueRange{p});
    });
    auto accType = MemRefType::get({tile.mr * nb}, b.getF32Type());
    Value acc = b.create<memref::AllocaOp>(k.loc, accType, /*alignment=*/b.getI64IntegerAttr(64));
    b.create<GemmTileOp>(k.loc, h, rows, Value(), Value(), weights, k.mul(blk, hidden * nb), acc,
                         k.index(hidden), b.getI64IntegerAttr(tile.w),
                         b.getI64IntegerAttr(tile.mr), b.getI64IntegerAttr(tile.nv),
                         b.getI64IntegerAttr(1), b.getI64IntegerAttr(1), UnitAttr(), IntegerAttr());
    Value count = k.min(k.sub(k.index(batch), m0), tile.mr);
    Value width = n % nb == 0 ? k.index(nb) : k.min(k.sub(k.index(n), col0), nb);
    k.loop(k.index(0), count, 1, [&](Value p) {
      k.loop(k.index(0), width, 1, [&](Value j) {
        Value v = k.load(acc, k.add(k.mul(p, nb), j));
        k.store(v, rec, k.add(k.mul(k.add(m0, p), n), k.add(col0, j)));
      });
    });
  };
  if (tiles * blocks > 1 && batch * n * hidden >= kMinParallelMacs)
    k.parallel(tiles * blocks, task);
  else
    k.loop(tiles * blocks, task);
}

/// The same product as plain dot products (float32 accumulation).
void productOnLoops(KernelBuilder &k, Value h, Value weights, Value rec, int64_t batch, int64_t n,
                    int64_t hidden) {
  k.loop(batch * n, [&](Value r) {
    Value hrow = k.mul(k.b.create<arith::DivSIOp>(k.loc, r, k.index(n)), hidden);
    Value wrow = k.mul(k.b.create<arith::RemSIOp>(k.loc, r, k.index(n)), hidden);
    Value sum = k.reduce(hidden, k.constant(k.b.getF32Type(), 0), [&](Value kk, Value acc) {
      Value x = k.b.create<arith::MulFOp>(k.loc, k.load(h, k.add(hrow, kk)),
                                          k.load(weights, k.add(wrow, kk)));
      return k.b.create<arith::AddFOp>(k.loc, acc, x).getResult();
    });
    k.store(sum, rec, r);
  });
}

} // namespace

FailureOr<func::FuncOp> lowerRecurrence(RecurrenceOp o, const TargetDescription &target,
                                        KernelBuilder &k) {
  for (Value v : o->getOperands())
    if (v != o.getSequenceLens() && !eltOf(v).isF32())
      return o.emitOpError("is only supported on float32 tensors");
  OpBuilder &b = k.b;
  ArrayRef<int64_t> x = shapeOf(o.getInputs());
  int64_t steps = x[0], batch = x[1], n = x[2], gates = o.getGates(), hidden = n / gates;
  size_t numStates = o.getInitial().size(), numExtras = o.getExtras().size();
  unsigned firstExtra = 2 + numStates, lensArg = firstExtra + numExtras;
  Block &body = o.getBody().front();

  for (size_t i = 0; i < numStates; ++i)
    k.copy(k.in(2 + i), k.index(0), k.out(1 + i), k.index(0), batch * hidden);
  Value rec = b.create<memref::AllocOp>(k.loc, MemRefType::get({batch * n}, b.getF32Type()));
  std::optional<GemmDims> dims =
      target.vectorWidth ? microKernelDims(o.getOperation()) : std::nullopt;
  if (!dims)
    k.kernel()->setAttr(kFallbackAttr, b.getStringAttr(fallbackReason(
                                           o.getWeights(), o.getY(), target.vectorWidth)));

  int64_t tile = std::min(hidden, kUnitTile), perElement = 0;
  LogicalResult status = success();
  k.loop(steps, [&](Value step) {
    Value t = o.getReverse() ? k.sub(k.index(steps - 1), step) : step;
    Value h = k.out(1);
    if (dims)
      productOnMicroKernel(k, h, k.in(1), rec, chooseTile(*dims, target.vectorWidth), batch, n,
                           hidden);
    else
      productOnLoops(k, h, k.in(1), rec, batch, n, hidden);

    k.loop(batch, [&](Value bi) {
      Value yRow = k.mul(k.add(k.mul(t, batch), bi), hidden);
      auto cell = [&]() {
        k.loop(k.index(0), k.index(hidden), tile, [&](Value j0) {
          Value count = k.index(tile);
          if (hidden % tile)
            count = k.min(k.sub(k.index(hidden), j0), tile);
          Value xRow = k.mul(k.add(k.mul(t, batch), bi), n);
          ChainSources sources;
          for (int64_t g = 0; g < gates; ++g) {
            sources[body.getArgument(g)] = [&, g, xRow, j0](Value j) {
              return k.load(k.in(0), k.add(xRow, k.add(k.index(g * hidden), k.add(j0, j))));
            };
            sources[body.getArgument(gates + g)] = [&, g, bi, j0](Value j) {
              return k.load(rec, k.add(k.mul(bi, n), k.add(k.index(g * hidden), k.add(j0, j))));
            };
          }
          for (size_t i = 0; i < numStates; ++i)
            sources[body.getArgument(2 * gates + i)] = [&, i, bi, j0](Value j) {
              return k.load(k.out(1 + i), k.add(k.mul(bi, hidden), k.add(j0, j)));
            };
          for (size_t e = 0; e < numExtras; ++e)
            sources[body.getArgument(2 * gates + numStates + e)] = [&, e, j0](Value j) {
              return k.load(k.in(firstExtra + e), k.add(j0, j));
            };
          perElement = 0;
          if (failed(emitChain(k, body.begin(), body.getTerminator()->getIterator(), Value(),
                               sources, count, tile, [](Value, Value) {}, perElement))) {
            status = failure();
            return;
          }
          ValueRange yielded = cast<YieldOp>(body.getTerminator()).getValues();
          for (Value v : yielded)
            if (!sources.count(v)) {
              status = o.emitOpError("yields a value its body does not compute per element");
              return;
            }
          k.loop(k.index(0), count, 1, [&](Value j) {
            Value at = k.add(j0, j);
            k.store(sources[yielded[0]](j), k.out(0), k.add(yRow, at));
            for (size_t i = 0; i < numStates; ++i)
              k.store(sources[yielded[i]](j), k.out(1 + i), k.add(k.mul(bi, hidden), at));
          });
        });
      };
      if (!o.getSequenceLens())
        return cell();
      // Past the entry's length: states held, the y row zero.
      Value len = b.create<arith::IndexCastOp>(
          k.loc, b.getIndexType(), k.load(k.in(lensArg), bi));
      Value past = b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, t, len);
      k.ifThen(past, [&] {
        k.loop(hidden, [&](Value j) {
          k.store(k.constant(b.getF32Type(), 0), k.out(0), k.add(yRow, j));
        });
      });
      Value within = b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::slt, t, len);
      k.ifThen(within, cell);
    });
  });
  if (failed(status))
    return failure();
  b.create<memref::DeallocOp>(k.loc, rec);
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(steps * batch *
                                                      (2 * n * hidden + hidden * perElement)));
  return k.finish();
}

} // namespace kiln
