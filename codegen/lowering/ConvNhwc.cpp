//===- ConvNhwc.cpp - Channels-last convolutions off the GEMM micro-kernel ===//
//
// NHWC input, HWIO weight, NHWC result; the convolutions that are not an
// implicit GEMM on kiln.gemm_tile (TiledProduct.cpp):
//   - depthwise ones on kiln.depthwise_tile: a task is one output row and one
//     block of channels; the columns whose taps all lie inside the input run
//     in register tiles of pixels, the few edge columns one pixel at a time
//     over the taps that read inside the row;
//   - grouped ones whose groups are narrower than a vector (G input and G
//     output channels, ResNeXt's 4 to 8) on the same tiles, through
//     kiln.depthwise_tile with group_size G (kiln::mk::groupedTile);
//   - depthwise ones on plain loops along the channels of a pixel, in long
//     channel blocks (each tap's bounds checks paid once per block);
//   - the others as direct loops: a task is one output row and a block of
//     up to 64 output channels, 8 pixels at a time, each weight row reused
//     across the 8 pixels.
// Every tile goes through the bias and the fused epilogue
// (storeContractionTile) to the only store. A fused squeeze-and-excitation
// scale multiplies each input channel as it is read.
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

struct ConvNhwc {
  ConvOp o;
  FusedContractionOp fused;
  KernelBuilder &k;
  // Sizes: input h x wd x ch, kernel kh x kw, icg -> oc channels in `group`
  // groups, output oh x ow.
  int64_t batch, h, wd, ch, kh, kw, icg, oc, oh, ow, group, ocg;
  int64_t sh, sw, dh, dw, pt, pl;
  int64_t ops = 0;

  ConvNhwc(ConvOp o, FusedContractionOp fused, KernelBuilder &k) : o(o), fused(fused), k(k) {
    ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight()),
                      y = shapeOf(o.getOutput());
    batch = x[0], h = x[1], wd = x[2], ch = x[3];
    kh = w[0], kw = w[1], icg = w[2], oc = w[3];
    oh = y[1], ow = y[2], group = o.getGroup(), ocg = oc / group;
    sh = o.getStrides()[0], sw = o.getStrides()[1];
    dh = o.getDilations()[0], dw = o.getDilations()[1];
    pt = o.getPads()[0], pl = o.getPads()[1];
  }

  Type f32() { return k.b.getF32Type(); }
  Value fadd(Value a, Value b) { return k.b.create<arith::AddFOp>(k.loc, a, b); }
  Value fmul(Value a, Value b) { return k.b.create<arith::MulFOp>(k.loc, a, b); }
  Value loadLocal(Value a, Value at) { return k.b.create<memref::LoadOp>(k.loc, a, at); }
  void storeLocal(Value v, Value a, Value at) { k.b.create<memref::StoreOp>(k.loc, v, a, at); }

  /// The channel scales of image n (the squeeze-and-excitation prologue),
  /// as an offset into its kernel input; null without one.
  Value inputScale() { return fused ? fused.getInputScale() : Value(); }
  Value scaleRow(Value n) {
    return shapeOf(inputScale())[0] == 1 ? k.index(0) : k.mul(n, ch);
  }
  Value scaleAt(Value n, Value c) {
    return k.load(k.in(cast<BlockArgument>(inputScale()).getArgNumber()),
                  k.add(scaleRow(n), c));
  }

  /// Stores `count` results of pixel (n, ohv, owv) from channel c0 on.
  LogicalResult store(Value n, Value ohv, Value owv, Value c0, Value count, int64_t tile,
                      function_ref<Value(Value)> value) {
    auto coords = [&](Value j) { return SmallVector<Value>{n, ohv, owv, k.add(c0, j)}; };
    Value pixel = k.linear({n, ohv, owv}, {oh * ow, ow, 1});
    auto target = [&](Value j) { return k.add(k.add(k.mul(pixel, oc), c0), j); };
    return storeContractionTile(k, fused, value, coords, target, count, tile, ops);
  }

  LogicalResult perElement();
  LogicalResult onTensorCores(StringRef precision);
  LogicalResult depthwiseTiled(const DepthwiseTile &t);
  LogicalResult depthwiseLoops();
  LogicalResult direct();
};

LogicalResult ConvNhwc::depthwiseTiled(const DepthwiseTile &t) {
  int64_t cb = t.channels(), chunks = ch / cb;
  // Interior columns [lo, hi): all taps inside the input row.
  int64_t lo = std::min((pl + sw - 1) / sw, ow);
  int64_t last = wd - 1 + pl - (kw - 1) * dw;
  int64_t hi = last < 0 ? lo : std::clamp(last / sw + 1, lo, ow);
  int64_t full = (hi - lo) / t.pixels, rest = (hi - lo) % t.pixels;
  OpBuilder &b = k.b;
  Type index = b.getIndexType();
  std::string what = t.groupSize == 1 ? std::string("depthwise convolution")
                                       : "grouped convolution, " + std::to_string(group) +
                                             " groups of " + std::to_string(t.groupSize);
  k.describe("NHWC " + what + ": " + Twine(ch) + " channels, kernel " + Twine(kh) +
             "x" + Twine(kw) + ", stride " + Twine(sh) + "x" + Twine(sw) + "; tiles of " +
             Twine(t.pixels) + " pixels x " + Twine(cb) + " channels over columns [" + Twine(lo) +
             ", " + Twine(hi) + "), the " + Twine(ow - (hi - lo)) +
             " edge columns one pixel at a time.");
  LogicalResult status = success();
  k.parallel(batch * oh * chunks, [&](Value task) {
    Value row = k.div(task, chunks), c0 = k.mul(k.rem(task, chunks), cb);
    Value n = k.div(row, oh), ohv = k.rem(row, oh);
    // The input rows of the taps, -1 where a row is padding.
    Value rows = k.local(index, kh);
    k.loop(kh, [&](Value r) {
      Value ih = k.linear({ohv, r}, {sh, dh}, -pt);
      Value start = k.mul(k.linear({n, ih}, {h, 1}), wd * ch);
      storeLocal(k.select(k.inRange(ih, h), start, k.index(-1)), rows, r);
    });
    // A tile of `pixels` pixels from column `ow0` over the taps [kw0, kw1).
    auto tile = [&](Value ow0, int64_t pixels, int64_t kw0, int64_t kw1) {
      Value shift = k.add(k.linear({ow0}, {sw * ch}, (kw0 * dw - pl) * ch), c0);
      Value from = rows;
      if (auto c = shift.getDefiningOp<arith::ConstantIndexOp>(); !c || c.value() != 0) {
        from = k.local(index, kh);
        k.loop(kh, [&](Value r) {
          Value start = loadLocal(rows, r);
          Value padding =
              b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::slt, start, k.index(0));
          storeLocal(k.select(padding, start, k.add(start, shift)), from, r);
        });
      }
      Value acc = k.local(f32(), pixels * cb, 64);
      b.create<DepthwiseTileOp>(
          k.loc, k.in(0), from, k.in(1), c0, acc, o.getBias() ? k.in(2) : Value(),
          o.getBias() ? c0 : Value(), b.getI64IntegerAttr(t.w), b.getI64IntegerAttr(pixels),
          b.getI64IntegerAttr(t.nv), b.getI64IntegerAttr(kh), b.getI64IntegerAttr(kw),
          b.getI64IntegerAttr(sw), b.getI64IntegerAttr(dw), b.getI64IntegerAttr(ch),
          b.getI64IntegerAttr(kw0), b.getI64IntegerAttr(kw1),
          b.getI64IntegerAttr(t.groupSize));
      k.loop(pixels, [&](Value p) {
        auto value = [&](Value j) { return k.load(acc, k.linear({p, j}, {cb, 1})); };
        if (failed(store(n, ohv, k.add(ow0, p), c0, k.index(cb), cb, value)))
          status = failure();
      });
    };
    if (full)
      k.loop(k.index(lo), k.index(lo + full * t.pixels), t.pixels,
             [&](Value ow0) { tile(ow0, t.pixels, 0, kw); });
    if (rest)
      tile(k.index(lo + full * t.pixels), rest, 0, kw);
    // Edge columns, each over the taps that read inside the row.
    for (int64_t col = 0; col < ow; ++col) {
      if (col >= lo && col < hi)
        continue;
      int64_t kw0 = kw, kw1 = 0;
      for (int64_t tap = 0; tap < kw; ++tap) {
        int64_t iw = col * sw + tap * dw - pl;
        if (iw >= 0 && iw < wd) {
          kw0 = std::min(kw0, tap);
          kw1 = tap + 1;
        }
      }
      // Where every tap reads padding the range is empty: the bias alone.
      tile(k.index(col), 1, std::min(kw0, kw1), kw1);
    }
  });
  k.kernel()->setAttr(kFlopsAttr,
                      b.getI64IntegerAttr(2 * batch * oh * ow * ch * kh * kw * t.groupSize +
                                          batch * oh * ow * oc * ops));
  return status;
}

LogicalResult ConvNhwc::depthwiseLoops() {
  // Channel blocks of a size that divides the channels, so every loop over
  // a block has a constant trip count and vectorises without a remainder.
  int64_t block = 0;
  for (int64_t b = std::min<int64_t>(ch, 512); b >= 64 && !block; --b)
    if (ch % b == 0)
      block = b;
  bool exact = block != 0;
  if (!exact)
    block = std::min<int64_t>(ch, 256);
  k.describe("NHWC depthwise convolution: " + Twine(ch) + " channels, kernel " + Twine(kh) +
             "x" + Twine(kw) + ", stride " + Twine(sh) + "x" + Twine(sw) + ", blocks of " +
             Twine(block) + " channels.");
  LogicalResult status = success();
  k.parallel(batch * oh, [&](Value row) {
    Value n = k.div(row, oh), ohv = k.rem(row, oh);
    k.loop(k.index(0), k.index(ch), block, [&](Value c0) {
      Value nb = exact ? k.index(block) : k.min(k.sub(k.index(ch), c0), block);
      k.loop(ow, [&](Value owv) {
        Value acc = k.local(f32(), block);
        k.loop(k.index(0), nb, 1, [&](Value j) {
          Value init =
              o.getBias() ? k.load(k.in(2), k.add(c0, j)) : k.constant(f32(), 0);
          storeLocal(init, acc, j);
        });
        k.loop(kh, [&](Value r) {
          Value ih = k.linear({ohv, r}, {sh, dh}, -pt);
          k.ifThen(k.inRange(ih, h), [&] {
            k.loop(kw, [&](Value s) {
              Value iw = k.linear({owv, s}, {sw, dw}, -pl);
              k.ifThen(k.inRange(iw, wd), [&] {
                Value src = k.add(k.mul(k.linear({n, ih, iw}, {h * wd, wd, 1}), ch), c0);
                Value wr = k.add(k.mul(k.linear({r, s}, {kw, 1}), ch), c0);
                k.loop(k.index(0), nb, 1, [&](Value j) {
                  Value xv = k.load(k.in(0), k.add(src, j));
                  if (inputScale())
                    xv = fmul(xv, scaleAt(n, k.add(c0, j)));
                  Value sum = fadd(loadLocal(acc, j), fmul(xv, k.load(k.in(1), k.add(wr, j))));
                  storeLocal(sum, acc, j);
                });
              });
            });
          });
        });
        if (failed(store(n, ohv, owv, c0, nb, block,
                         [&](Value j) { return loadLocal(acc, j); })))
          status = failure();
      });
    });
  });
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batch * oh * ow * ch * kh * kw +
                                                        batch * oh * ow * oc * ops));
  return status;
}

/// One iteration per output element, taps outside the input masked rather
/// than branched around (the GPU's threads; every group, depthwise included).
LogicalResult ConvNhwc::perElement() {
  k.describe("NHWC convolution, one output element per iteration: " + Twine(ch) + " -> " +
             Twine(oc) + " channels, kernel " + Twine(kh) + "x" + Twine(kw) + ", stride " +
             Twine(sh) + "x" + Twine(sw) + ", group " + Twine(group) + ".");
  LogicalResult status = success();
  std::optional<int64_t> zeroPoint = o.getInputZeroPoint();
  Type acct = zeroPoint ? Type(k.b.getI32Type()) : f32();
  Value zero = k.constant(acct, 0);
  k.parallel(batch * oh * ow * oc, [&](Value p) {
    Value c = k.rem(p, oc), pixel = k.div(p, oc);
    Value owv = k.rem(pixel, ow), row = k.div(pixel, ow);
    Value ohv = k.rem(row, oh), n = k.div(row, oh);
    Value firstIn = k.mul(k.div(c, ocg), icg);
    Value init = o.getBias() ? k.load(k.in(2), c) : zero;
    Value acc = k.reduce(kh, init, [&](Value r, Value a) {
      Value ih = k.linear({ohv, r}, {sh, dh}, -pt);
      return k.reduce(kw, a, [&](Value s, Value a2) {
        Value iw = k.linear({owv, s}, {sw, dw}, -pl);
        Value inside = k.b.create<arith::AndIOp>(k.loc, k.inRange(ih, h), k.inRange(iw, wd));
        // Outside the input, read element 0 and add nothing.
        Value at = k.select(
            inside, k.add(k.mul(k.linear({n, ih, iw}, {h * wd, wd, 1}), ch), firstIn), k.index(0));
        Value wAt = k.add(k.mul(k.linear({r, s}, {kw * icg, icg}), oc), c);
        return k.reduce(icg, a2, [&](Value ic, Value a3) {
          Value xv = k.load(k.in(0), k.add(at, ic));
          Value wv = k.load(k.in(1), k.add(wAt, k.mul(ic, oc)));
          if (zeroPoint) {
            Value term = k.b.create<arith::MulIOp>(
                k.loc, centeredInput(k, xv, eltOf(o.getInput()), *zeroPoint),
                widenedWeight(k, wv));
            return k.b.create<arith::AddIOp>(k.loc, a3, k.select(inside, term, zero))
                .getResult();
          }
          if (inputScale())
            xv = fmul(xv, scaleAt(n, k.add(firstIn, ic)));
          Value term = fmul(xv, wv);
          return fadd(a3, k.select(inside, term, zero));
        });
      });
    });
    if (failed(store(n, ohv, owv, c, k.index(1), 1, [&](Value) { return acc; })))
      status = failure();
  });
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batch * oh * ow * oc * icg * kh * kw +
                                                        batch * oh * ow * oc * ops));
  return status;
}

/// An implicit GEMM on tensor cores (the CUDA backend under --precision
/// tf32/fp16/bf16): rows are output pixels, the depth runs over (tap row,
/// tap column, input channel), so A's elements in the padding do not exist.
LogicalResult ConvNhwc::onTensorCores(StringRef precision) {
  k.describe("NHWC convolution as an implicit GEMM on tensor cores (" + precision + "): " +
             Twine(ch) + " -> " + Twine(oc) + " channels, kernel " + Twine(kh) + "x" + Twine(kw) +
             ", stride " + Twine(sh) + "x" + Twine(sw) + ".");
  TensorCoreProduct p;
  p.precision = precision.str();
  p.a = k.in(0);
  p.b = k.in(1);
  p.m = batch * oh * ow;
  p.n = oc;
  p.depth = kh * kw * ch;
  p.aElement = [&](Value, Value pixel, Value d) -> std::pair<Value, Value> {
    Value owv = k.rem(pixel, ow), row = k.div(pixel, ow);
    Value ohv = k.rem(row, oh), n = k.div(row, oh);
    Value ic = k.rem(d, ch), tap = k.div(d, ch);
    Value ih = k.linear({ohv, k.div(tap, kw)}, {sh, dh}, -pt);
    Value iw = k.linear({owv, k.rem(tap, kw)}, {sw, dw}, -pl);
    Value inside = k.b.create<arith::AndIOp>(k.loc, k.inRange(ih, h), k.inRange(iw, wd));
    return {k.add(k.mul(k.linear({n, ih, iw}, {h * wd, wd, 1}), ch), ic), inside};
  };
  // HWIO weights: depth (r, s, ic) then output channel.
  p.bElement = [&](Value, Value d, Value c) -> std::pair<Value, Value> {
    return {k.linear({d, c}, {oc, 1}), Value()};
  };
  LogicalResult status = success();
  p.store = [&](Value, Value pixel, Value c, Value v) {
    if (o.getBias())
      v = fadd(v, k.load(k.in(2), c));
    Value owv = k.rem(pixel, ow), row = k.div(pixel, ow);
    if (failed(store(k.div(row, oh), k.rem(row, oh), owv, c, k.index(1), 1,
                     [&](Value) { return v; })))
      status = failure();
  };
  lowerTensorCoreProduct(k, p);
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batch * oh * ow * oc * ch * kh * kw +
                                                        batch * oh * ow * oc * ops));
  return status;
}

LogicalResult ConvNhwc::direct() {
  constexpr int64_t kPixels = 8;
  int64_t block = std::min<int64_t>(ocg, 64), blocks = (ocg + block - 1) / block;
  Type index = k.b.getIndexType();
  k.describe("NHWC direct convolution: " + Twine(ch) + " -> " + Twine(oc) + " channels, kernel " +
             Twine(kh) + "x" + Twine(kw) + ", stride " + Twine(sh) + "x" + Twine(sw) +
             ", group " + Twine(group) + ", 8 pixels by blocks of " + Twine(block) +
             " channels.");
  LogicalResult status = success();
  k.parallel(batch * oh * group * blocks, [&](Value task) {
    Value row = k.div(task, group * blocks), g = k.rem(k.div(task, blocks), group);
    Value first = k.mul(k.rem(task, blocks), block);
    Value c0 = k.add(k.mul(g, ocg), first);
    Value nb = k.min(k.sub(k.index(ocg), first), block);
    Value n = k.div(row, oh), ohv = k.rem(row, oh);
    k.loop(k.index(0), k.index(ow), kPixels, [&](Value ow0) {
      Value pw = k.min(k.sub(k.index(ow), ow0), kPixels);
      Value acc = k.local(f32(), kPixels * block);
      k.loop(k.index(0), pw, 1, [&](Value p) {
        k.loop(k.index(0), nb, 1, [&](Value j) {
          Value init =
              o.getBias() ? k.load(k.in(2), k.add(c0, j)) : k.constant(f32(), 0);
          storeLocal(init, acc, k.linear({p, j}, {block, 1}));
        });
      });
      Value src = k.local(index, kPixels);
      k.loop(kh, [&](Value r) {
        Value ih = k.linear({ohv, r}, {sh, dh}, -pt);
        k.ifThen(k.inRange(ih, h), [&] {
          k.loop(kw, [&](Value s) {
            // The input pixel of each of the 8 columns, -1 in the padding.
            k.loop(k.index(0), pw, 1, [&](Value p) {
              Value iw = k.linear({ow0, p, s}, {sw, sw, dw}, -pl);
              Value at = k.add(k.mul(k.linear({n, ih, iw}, {h * wd, wd, 1}), ch), k.mul(g, icg));
              storeLocal(k.select(k.inRange(iw, wd), at, k.index(-1)), src, p);
            });
            Value wt = k.add(k.mul(k.linear({r, s}, {kw, 1}), icg * oc), c0);
            k.loop(icg, [&](Value ic) {
              Value wr = k.add(wt, k.mul(ic, oc));
              k.loop(k.index(0), pw, 1, [&](Value p) {
                Value at = loadLocal(src, p);
                Value inside =
                    k.b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, at, k.index(0));
                k.ifThen(inside, [&] {
                  Value xv = k.load(k.in(0), k.add(at, ic));
                  if (inputScale())
                    xv = fmul(xv, scaleAt(n, k.add(k.mul(g, icg), ic)));
                  k.loop(k.index(0), nb, 1, [&](Value j) {
                    Value slot = k.linear({p, j}, {block, 1});
                    Value sum = fadd(loadLocal(acc, slot),
                                     fmul(xv, k.load(k.in(1), k.add(wr, j))));
                    storeLocal(sum, acc, slot);
                  });
                });
              });
            });
          });
        });
      });
      k.loop(k.index(0), pw, 1, [&](Value p) {
        auto value = [&](Value j) { return loadLocal(acc, k.linear({p, j}, {block, 1})); };
        if (failed(store(n, ohv, k.add(ow0, p), c0, nb, block, value)))
          status = failure();
      });
    });
  });
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batch * oh * ow * oc * icg * kh * kw +
                                                        batch * oh * ow * oc * ops));
  return status;
}

} // namespace

FailureOr<func::FuncOp> lowerConvNhwc(Operation *op, const TargetDescription &target,
                                      KernelBuilder &k) {
  auto fused = dyn_cast<FusedContractionOp>(op);
  auto conv = dyn_cast<ConvOp>(fused ? fused.getContraction() : op);
  if (!conv || !conv.getChannelsLast() || shapeOf(conv.getInput()).size() != 4)
    return func::FuncOp();
  if (conv.getInputZeroPoint()) {
    // Quantised convs the int8 micro-kernel does not take (TiledProduct.cpp):
    // depthwise, fewer than 4 channels per group, or a target without it.
    ConvNhwc c(conv, fused, k);
    k.kernel()->setAttr(kFallbackAttr,
                        k.b.getStringAttr("quantised convolution off the int8 micro-kernel"));
    if (failed(c.perElement()))
      return failure();
    return k.finish();
  }
  if (failed(requireF32(conv)))
    return failure();
  ConvNhwc c(conv, fused, k);
  LogicalResult status = success();
  bool depthwise = c.icg == 1 && c.ocg == 1;
  std::optional<DepthwiseTile> tile;
  if (depthwise && target.vectorWidth && !c.inputScale())
    tile = chooseDepthwiseTile(c.ch, target.vectorWidth);
  else if (!target.parallelLoopNests)
    tile = chooseGroupedTile(op, target.vectorWidth);
  if (target.parallelLoopNests && target.precision != "fp32" && c.group == 1 &&
      !c.inputScale()) {
    status = c.onTensorCores(target.precision);
  } else if (target.parallelLoopNests) {
    status = c.perElement();
  } else if (tile) {
    status = c.depthwiseTiled(*tile);
  } else if (depthwise) {
    status = c.depthwiseLoops();
  } else {
    Value w = conv.getWeight();
    if (auto arg = dyn_cast<BlockArgument>(w); arg && fused)
      w = fused->getOperand(arg.getArgNumber());
    k.kernel()->setAttr(kFallbackAttr, k.b.getStringAttr(fallbackReason(
                                           w, op->getResult(0), target.vectorWidth)));
    status = c.direct();
  }
  if (failed(status))
    return failure();
  return k.finish();
}

} // namespace kiln
