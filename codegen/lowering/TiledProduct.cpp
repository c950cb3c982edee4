//===- TiledProduct.cpp - Contractions on the micro-kernel -> kiln.gemm_tile ===//
//
// Channels-last convolutions (as implicit GEMMs), gemms and matmuls whose
// weights are constant run on the register-blocked micro-kernel with the
// weights packed at compile time (MicroKernelPlan.h). A task is one tile of
// `mr` rows (output pixels or matrix rows) by one block of outputs, or by all
// blocks of its rows where they stay in cache (allBlocksPerTask); tasks run
// block-major, so a thread's consecutive tiles reuse one block of packed
// weights. A short last tile repeats its last row and a convolution's
// padding reads a zero row, so the micro-kernel never branches; the tile's
// valid part then goes through the bias, scaling and fused epilogue to the
// only store (storeContractionTile).
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

LogicalResult storeContractionTile(KernelBuilder &k, FusedContractionOp fused,
                                   function_ref<Value(Value)> value,
                                   function_ref<SmallVector<Value>(Value)> coords,
                                   function_ref<Value(Value)> target, Value count, int64_t tile,
                                   int64_t &ops) {
  Value out = k.out();
  Block *body = fused ? &fused.getBody().front() : nullptr;
  Operation *head = fused ? fused.getContraction() : nullptr;
  if (!fused || body->getTerminator()->getOperand(0) == head->getResult(0)) {
    k.loop(k.index(0), count, 1, [&](Value j) { k.store(value(j), out, target(j)); });
    return success();
  }
  ArrayRef<int64_t> y = shapeOf(fused.getOutput());
  ChainSources sources;
  for (BlockArgument arg : body->getArguments()) {
    if (shapeOf(arg).size() > y.size())
      continue;
    SmallVector<int64_t> strides = broadcastStrides(shapeOf(arg), y);
    sources[arg] = [&k, coords, arg, strides](Value j) {
      return k.load(k.in(arg.getArgNumber()), k.linear(coords(j), strides));
    };
  }
  sources[head->getResult(0)] = value;
  ops = 0;
  return emitChain(k, std::next(head->getIterator()), body->getTerminator()->getIterator(),
                   body->getTerminator()->getOperand(0), sources, count, tile,
                   [&](Value j, Value v) { k.store(v, out, target(j)); }, ops);
}

namespace {

/// The product of `head` (the op, or the head of `fused`) on the micro-kernel.
class TiledProduct {
public:
  TiledProduct(Operation *head, FusedContractionOp fused, const GemmDims &d, int64_t w,
               KernelBuilder &k)
      : head(head), fused(fused), conv(dyn_cast<ConvOp>(head)), d(d), t(chooseTile(d, w)),
        k(k) {}

  LogicalResult lower() {
    int64_t nb = t.nb(), blocks = (d.n + nb - 1) / nb, tiles = (d.m + t.mr - 1) / t.mr;
    bool blocksInside = allBlocksPerTask(d, t);
    int64_t tasks = d.groups * (blocksInside ? 1 : blocks) * tiles;
    std::string tile = std::to_string(t.mr) + " rows x " + std::to_string(nb) + " outputs";
    if (conv) {
      ArrayRef<int64_t> x = shapeOf(conv.getInput()), w = shapeOf(conv.getWeight());
      k.describe(Twine(d.int8 ? "Quantised (int8) " : "") + "NHWC convolution as implicit GEMM: " + Twine(x[3]) + " -> " + Twine(w[3]) +
                 " channels, kernel " + Twine(w[0]) + "x" + Twine(w[1]) + ", stride " +
                 Twine(conv.getStrides()[0]) + "x" + Twine(conv.getStrides()[1]) + ", group " +
                 Twine(d.groups) + "; tiles of " + tile + ".");
    } else {
      k.describe(Twine(d.int8 ? "Quantised (int8) " : "") + "GEMM " + Twine(d.m) + " x " +
                 Twine(d.n) + " x " + Twine(d.k) +
                 " with packed constant B; tiles of " + tile + ".");
    }
    LogicalResult status = success();
    k.parallel(tasks, [&](Value task) {
      Value m0 = k.mul(k.rem(task, tiles), t.mr);
      Value g = blocksInside ? k.div(task, tiles) : k.div(task, tiles * blocks);
      RowSource rows = setUpRows(m0, g);
      auto block = [&](Value blk) {
        if (failed(runBlock(rows, m0, g, blk, blocks)))
          status = failure();
      };
      if (blocksInside)
        k.loop(blocks, block);
      else
        block(blocks == 1 ? k.index(0) : k.rem(k.div(task, tiles), blocks));
    });
    k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * d.m * d.n * d.k * d.taps *
                                                              d.groups +
                                                          numel(head->getResult(0)) * ops));
    return status;
  }

private:
  /// The tile's A rows: offsets into the input, or into a scratch of copied
  /// rows where `alt` is set.
  struct RowSource {
    Value offsets, alt, altRows;
  };

  Value input() { return k.in(0); }

  /// The offsets of the tile's rows (m0 + p, the last row repeated past m).
  RowSource setUpRows(Value m0, Value g) {
    RowSource rows;
    Type index = k.b.getIndexType();
    rows.offsets = k.local(index, d.taps * t.mr);
    if (conv && d.rowTaps) {
      rows.alt = k.local(k.b.getF32Type(), d.taps * t.mr * d.k, 64);
      rows.altRows = k.local(k.b.getI1Type(), d.taps * t.mr);
    }
    k.loop(t.mr, [&](Value p) {
      Value r = k.min(k.add(m0, p), d.m - 1);
      if (conv)
        convRows(rows, r, p, g);
      else
        k.store(k.mul(r, d.k), rows.offsets, p);
    });
    if (Value scale = fused ? fused.getInputScale() : Value())
      scaleRows(rows, m0, g, scale);
    return rows;
  }

  /// Row offsets of output pixel r for each tap: a tap reads one input
  /// pixel's channels of group g (or, with row taps, a kernel row of
  /// pixels); -1 reads zeros.
  void convRows(RowSource &rows, Value r, Value p, Value g) {
    ArrayRef<int64_t> x = shapeOf(conv.getInput()), w = shapeOf(conv.getWeight()),
                      y = shapeOf(conv.getOutput());
    int64_t sh = conv.getStrides()[0], sw = conv.getStrides()[1];
    int64_t dh = conv.getDilations()[0], dw = conv.getDilations()[1];
    int64_t pt = conv.getPads()[0], pl = conv.getPads()[1];
    SmallVector<Value> pixel = k.unravel(r, y.drop_back());
    Value n = pixel[0], oh = pixel[1], ow = pixel[2];
    Value none = k.index(-1);
    k.loop(w[0], [&](Value kh) {
      Value ih = k.linear({oh, kh}, {sh, dh}, -pt);
      Value rowInside = k.inRange(ih, x[1]);
      Value rowStart = k.mul(k.linear({n, ih}, {x[1], 1}), x[2] * x[3]);
      if (!d.rowTaps) {
        k.loop(w[1], [&](Value kw) {
          Value iw = k.linear({ow, kw}, {sw, dw}, -pl);
          Value inside = k.b.create<arith::AndIOp>(k.loc, rowInside, k.inRange(iw, x[2]));
          Value at = k.add(k.add(rowStart, k.mul(iw, x[3])), k.mul(g, d.k));
          k.store(k.select(inside, at, none), rows.offsets,
                  k.linear({kh, kw, p}, {w[1] * t.mr, t.mr, 1}));
        });
        return;
      }
      // A tap is a kernel row: kw * channels contiguous floats of the input
      // row, copied with zeros into the scratch where it reaches into the
      // padding.
      Value slot = k.linear({kh, p}, {t.mr, 1});
      Value iw0 = k.linear({ow}, {sw}, -pl);
      Value whole = k.b.create<arith::AndIOp>(
          k.loc, k.b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, iw0, k.index(0)),
          k.b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sle, iw0,
                                    k.index(x[2] - w[1])));
      Value copied = k.b.create<arith::AndIOp>(
          k.loc, rowInside,
          k.b.create<arith::XOrIOp>(k.loc, whole,
                                    k.b.create<arith::ConstantIntOp>(k.loc, 1, 1)));
      Value direct = k.add(rowStart, k.mul(iw0, x[3]));
      k.store(k.select(rowInside, k.select(whole, direct, k.mul(slot, d.k)), none),
              rows.offsets, slot);
      k.store(copied, rows.altRows, slot);
      k.ifThen(copied, [&] {
        k.loop(w[1], [&](Value kw) {
          Value iw = k.add(iw0, kw);
          // Read at a clamped column, so that no load leaves the input.
          Value col = k.b.create<arith::MaxSIOp>(k.loc, k.min(iw, x[2] - 1), k.index(0));
          k.loop(x[3], [&](Value ch) {
            Value v = k.load(input(), k.add(k.add(rowStart, k.mul(col, x[3])), ch));
            Value zero = k.constant(k.b.getF32Type(), 0);
            k.store(k.select(k.inRange(iw, x[2]), v, zero), rows.alt,
                    k.linear({slot, kw, ch}, {d.k, x[3], 1}));
          });
        });
      });
    });
  }

  /// Squeeze-and-excitation prologue (1x1 convolutions, see MicroKernelPlan):
  /// the tile's input rows, scaled per image and channel, in a scratch that
  /// the micro-kernel then reads instead.
  void scaleRows(RowSource &rows, Value m0, Value g, Value scale) {
    OpBuilder &b = k.b;
    ArrayRef<int64_t> y = shapeOf(conv.getOutput());
    Value sc = k.in(cast<BlockArgument>(scale).getArgNumber());
    bool perImage = shapeOf(scale)[0] != 1;
    Value scaled = k.local(b.getF32Type(), t.mr * d.k, 64);
    Value fromScaled = k.local(b.getI1Type(), t.mr);
    Value zero = k.constant(b.getF32Type(), 0);
    k.loop(t.mr, [&](Value p) {
      Value r = k.min(k.add(m0, p), d.m - 1);
      // The row as set up: in the input, in the copied rows, or zeros (where
      // the offset is negative). Loads go to offset 0 where not read.
      Value from = b.create<memref::LoadOp>(k.loc, rows.offsets, p);
      Value inside = b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, from, k.index(0));
      Value copied = rows.altRows ? b.create<memref::LoadOp>(k.loc, rows.altRows, p).getResult()
                                  : Value();
      Value fromInput = copied ? b.create<arith::AndIOp>(
                                     k.loc, inside,
                                     b.create<arith::XOrIOp>(
                                         k.loc, copied, b.create<arith::ConstantIntOp>(k.loc, 1, 1)))
                               : inside;
      Value scaleRow = k.add(perImage ? k.mul(k.div(r, y[1] * y[2]), d.k * d.groups) : k.index(0),
                             k.mul(g, d.k));
      k.loop(d.k, [&](Value kk) {
        Value v = k.load(input(), k.add(k.select(fromInput, from, k.index(0)), kk));
        v = k.select(inside, v, zero);
        if (copied)
          v = k.select(copied,
                       b.create<memref::LoadOp>(
                           k.loc, rows.alt, ValueRange{k.add(k.select(copied, from, k.index(0)), kk)}),
                       v);
        v = b.create<arith::MulFOp>(k.loc, v, k.load(sc, k.add(scaleRow, kk)));
        b.create<memref::StoreOp>(k.loc, v, scaled, ValueRange{k.linear({p, kk}, {d.k, 1})});
      });
      b.create<memref::StoreOp>(k.loc, k.mul(p, d.k), rows.offsets, ValueRange{p});
      b.create<memref::StoreOp>(k.loc, b.create<arith::ConstantIntOp>(k.loc, 1, 1), fromScaled,
                                ValueRange{p});
    });
    rows.alt = scaled;
    rows.altRows = fromScaled;
  }

  /// Block `blk` of outputs for the tile at m0: the micro-kernel, then the
  /// store of the valid part.
  LogicalResult runBlock(const RowSource &rows, Value m0, Value g, Value blk, int64_t blocks) {
    OpBuilder &b = k.b;
    int64_t nb = t.nb();
    Value col0 = k.mul(blk, nb);
    Value acc = k.local(d.int8 ? Type(b.getI32Type()) : b.getF32Type(), t.mr * nb, 64);
    Value base = k.mul(k.add(k.mul(g, blocks), blk),
                       d.int8 ? int8BlockBytes(d, t) : d.taps * d.k * nb);
    b.create<GemmTileOp>(
        k.loc, input(), rows.offsets, rows.alt, rows.altRows, k.in(1), base, acc, k.index(d.k),
        b.getI64IntegerAttr(t.w), b.getI64IntegerAttr(t.mr), b.getI64IntegerAttr(t.nv),
        b.getI64IntegerAttr(d.taps), b.getI64IntegerAttr(1),
        conv ? b.getUnitAttr() : UnitAttr(),
        conv && d.int8 ? b.getI64IntegerAttr(*conv.getInputZeroPoint()) : IntegerAttr());
    Value count = k.min(k.sub(k.index(d.m), m0), t.mr);
    // A constant width lets the epilogue loop vectorise without a remainder.
    Value width = d.n % nb == 0 ? k.index(nb) : k.min(k.sub(k.index(d.n), col0), nb);
    LogicalResult status = success();
    k.loop(k.index(0), count, 1, [&](Value p) {
      Value r = k.add(m0, p);
      auto accAt = [&](Value j) { return k.load(acc, k.linear({p, j}, {nb, 1})); };
      std::function<Value(Value)> value = accAt;
      std::function<SmallVector<Value>(Value)> coords;
      std::function<Value(Value)> target;
      if (conv) {
        SmallVector<Value> pixel = k.unravel(r, shapeOf(conv.getOutput()).drop_back());
        Value oc = k.add(k.mul(g, d.n), col0);
        int64_t channels = d.n * d.groups;
        if (conv.getBias())
          value = [&, oc](Value j) {
            return b.create<arith::AddFOp>(k.loc, accAt(j), k.load(k.in(2), k.add(oc, j)))
                .getResult();
          };
        coords = [&, pixel, oc](Value j) {
          SmallVector<Value> c(pixel);
          c.push_back(k.add(oc, j));
          return c;
        };
        target = [&, r, oc, channels](Value j) {
          return k.add(k.add(k.mul(r, channels), oc), j);
        };
      } else {
        SmallVector<Value> lead = k.unravel(r, shapeOf(head->getResult(0)).drop_back());
        coords = [&, lead, col0](Value j) {
          SmallVector<Value> c(lead);
          c.push_back(k.add(col0, j));
          return c;
        };
        target = [&, r, col0](Value j) { return k.add(k.mul(r, d.n), k.add(col0, j)); };
        if (auto gemm = dyn_cast<GemmOp>(head))
          value = gemmValue(gemm, accAt, coords);
      }
      if (failed(storeContractionTile(k, fused, value, coords, target, width, nb, ops)))
        status = failure();
    });
    return status;
  }

  /// alpha * acc + beta * C at the result coordinates.
  std::function<Value(Value)> gemmValue(GemmOp gemm, std::function<Value(Value)> accAt,
                                        std::function<SmallVector<Value>(Value)> coords) {
    double alpha = gemm.getAlpha().convertToDouble(), beta = gemm.getBeta().convertToDouble();
    bool withC = gemm.getC() && beta != 0.0;
    if (alpha == 1.0 && !withC)
      return accAt;
    SmallVector<int64_t> cStrides;
    if (withC)
      cStrides = broadcastStrides(shapeOf(gemm.getC()), shapeOf(gemm.getOutput()));
    return [this, alpha, beta, withC, cStrides, accAt, coords](Value j) {
      OpBuilder &b = k.b;
      Type f32 = b.getF32Type();
      Value v = accAt(j);
      if (alpha != 1.0)
        v = b.create<arith::MulFOp>(k.loc, k.constant(f32, alpha), v);
      if (withC) {
        Value c = k.load(k.in(2), k.linear(coords(j), cStrides));
        if (beta != 1.0)
          c = b.create<arith::MulFOp>(k.loc, k.constant(f32, beta), c);
        v = b.create<arith::AddFOp>(k.loc, v, c);
      }
      return v;
    };
  }

  Operation *head;
  FusedContractionOp fused;
  ConvOp conv;
  GemmDims d;
  TileShape t;
  KernelBuilder &k;
  int64_t ops = 0;
};

} // namespace

FailureOr<func::FuncOp> lowerTiledProduct(Operation *op, const TargetDescription &target,
                                          KernelBuilder &k) {
  std::optional<GemmDims> dims = target.vectorWidth ? microKernelDims(op) : std::nullopt;
  if (!dims || chooseGroupedTile(op, target.vectorWidth)) // narrow groups: ConvNhwc.cpp
    return func::FuncOp();
  auto fused = dyn_cast<FusedContractionOp>(op);
  Operation *head = fused ? fused.getContraction() : op;
  if (!dims->int8 &&
      failed(isa<MatMulOp>(head) ? requireContractionTypes(head) : requireF32(head)))
    return failure();
  if (failed(TiledProduct(head, fused, *dims, target.vectorWidth, k).lower()))
    return failure();
  return k.finish();
}

} // namespace kiln
