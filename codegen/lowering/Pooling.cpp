//===- Pooling.cpp - Pooling windows -> kernel loops -----------------------===//
//
// Channels-last pooling: one parallel task per output row; each window is
// reduced along the contiguous channels of its pixels into a local block of
// accumulators (a vectorisable loop), skipping pixels outside the input.
// NCHW pooling reduces each window per output element; max reads clamped
// positions and keeps them only inside the input, avg sums the window clipped
// to the input. NaN wins a max. Averages divide by the pixels inside the
// input, or by the padded window for count_include_pad (but never by the
// positions past the padding that ceil mode adds). 3-D windows (pooling and
// convolution) run a generic N-D window loop.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <limits>

using namespace mlir;

namespace kiln {
namespace {

struct Window {
  ArrayRef<int64_t> kernel, strides, dilations, pads;
  bool max = false, countPad = false;
};

/// Index arithmetic shorthands.
struct Ix {
  KernelBuilder &k;
  Value sub(Value a, Value b) { return k.b.create<arith::SubIOp>(k.loc, a, b); }
  Value div(Value a, int64_t c) { return k.b.create<arith::DivSIOp>(k.loc, a, k.index(c)); }
  Value rem(Value a, int64_t c) { return k.b.create<arith::RemSIOp>(k.loc, a, k.index(c)); }
  Value min(Value a, Value b) { return k.b.create<arith::MinSIOp>(k.loc, a, b); }
  Value max(Value a, Value b) { return k.b.create<arith::MaxSIOp>(k.loc, a, b); }
  Value cmp(arith::CmpIPredicate p, Value a, Value b) {
    return k.b.create<arith::CmpIOp>(k.loc, p, a, b);
  }
  Value both(Value a, Value b) { return k.b.create<arith::AndIOp>(k.loc, a, b); }
  /// 0 <= v < n
  Value inRange(Value v, int64_t n) {
    return both(cmp(arith::CmpIPredicate::sge, v, k.index(0)),
                cmp(arith::CmpIPredicate::slt, v, k.index(n)));
  }
  /// o * stride + tap * dilation - pad
  Value tapPos(Value o, int64_t stride, Value tap, int64_t dilation, int64_t pad) {
    return k.linear({o, tap}, {stride, dilation}, -pad);
  }
};

/// Pixels of the window (at h0/w0 in padded coordinates, dilation 1) that
/// the average divides by.
Value windowCount(KernelBuilder &k, const Window &w, Value h0, Value w0, int64_t h,
                  int64_t wd) {
  Ix ix{k};
  Value zero = k.index(0);
  auto extent = [&](Value start, int64_t size, int64_t len, int64_t padEnd) {
    Value end = ix.min(k.add(start, k.index(size)), k.index(len + (w.countPad ? padEnd : 0)));
    Value begin = w.countPad ? start : ix.max(start, zero);
    return ix.max(ix.sub(end, begin), zero);
  };
  Value n = k.b.create<arith::MulIOp>(k.loc, extent(h0, w.kernel[0], h, w.pads[2]),
                                      extent(w0, w.kernel[1], wd, w.pads[3]));
  return n;
}

/// count ? sum / count : 0 in float.
Value average(KernelBuilder &k, Value sum, Value count) {
  OpBuilder &b = k.b;
  Type t = sum.getType();
  Value n = b.create<arith::SIToFPOp>(k.loc, t,
                                      b.create<arith::IndexCastOp>(k.loc, b.getI64Type(), count));
  Value q = b.create<arith::DivFOp>(k.loc, sum, n);
  Value some = b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::ne, count, k.index(0));
  Value r = b.create<arith::SelectOp>(k.loc, some, q,
                                      b.create<arith::ConstantOp>(k.loc, b.getFloatAttr(t, 0)));
  return r.getType().isF32() ? r : b.create<arith::TruncFOp>(k.loc, b.getF32Type(), r);
}

void poolNhwc(Operation *op, const Window &w, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Ix ix{k};
  ArrayRef<int64_t> x = shapeOf(op->getOperand(0)), y = shapeOf(op->getResult(0));
  int64_t h = x[1], wd = x[2], ch = x[3], oh = y[1], ow = y[2];
  int64_t block = std::min<int64_t>(ch, 256);
  Type f32 = b.getF32Type();
  float init = w.max ? -std::numeric_limits<float>::infinity() : 0.0f;
  k.parallel(y[0] * oh, [&](Value row) {
    Value n = ix.div(row, oh), ohv = ix.rem(row, oh);
    k.loop(ow, [&](Value owv) {
      k.loop(k.index(0), k.index(ch), block, [&](Value c0) {
        // A constant count where blocks divide the channels: no remainder.
        Value count = ch % block == 0 ? k.index(block)
                                      : ix.min(k.index(block), ix.sub(k.index(ch), c0));
        Value acc = b.create<memref::AllocaOp>(k.loc, MemRefType::get({block}, f32));
        Value initV = b.create<arith::ConstantOp>(k.loc, b.getF32FloatAttr(init));
        k.loop(k.index(0), count, 1, [&](Value j) { b.create<memref::StoreOp>(k.loc, initV, acc, j); });
        k.loop(w.kernel[0], [&](Value kh) {
          Value ih = ix.tapPos(ohv, w.strides[0], kh, w.dilations[0], w.pads[0]);
          k.ifThen(ix.inRange(ih, h), [&] {
            k.loop(w.kernel[1], [&](Value kw) {
              Value iw = ix.tapPos(owv, w.strides[1], kw, w.dilations[1], w.pads[1]);
              k.ifThen(ix.inRange(iw, wd), [&] {
                Value src = k.add(k.linear({n, ih, iw}, {h * wd * ch, wd * ch, ch}), c0);
                k.loop(k.index(0), count, 1, [&](Value j) {
                  Value v = k.load(k.in(0), k.add(src, j));
                  Value a = b.create<memref::LoadOp>(k.loc, acc, j);
                  Value next = w.max ? b.create<arith::MaximumFOp>(k.loc, v, a).getResult()
                                     : b.create<arith::AddFOp>(k.loc, a, v).getResult();
                  b.create<memref::StoreOp>(k.loc, next, acc, j);
                });
              });
            });
          });
        });
        Value pixels;
        if (!w.max)
          pixels = windowCount(k, w, ix.tapPos(ohv, w.strides[0], k.index(0), 1, w.pads[0]),
                               ix.tapPos(owv, w.strides[1], k.index(0), 1, w.pads[1]), h, wd);
        Value dst = k.add(k.linear({row, owv}, {ow * ch, ch}), c0);
        k.loop(k.index(0), count, 1, [&](Value j) {
          Value a = b.create<memref::LoadOp>(k.loc, acc, j);
          k.store(w.max ? a : average(k, a, pixels), k.out(), k.add(dst, j));
        });
      });
    });
  });
}

void poolNchw(Operation *op, const Window &w, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Ix ix{k};
  ArrayRef<int64_t> x = shapeOf(op->getOperand(0)), y = shapeOf(op->getResult(0));
  int64_t h = x[2], wd = x[3];
  k.independentNest({y[0] * y[1], y[2], y[3]}, [&](ArrayRef<Value> v) {
    Value plane = v[0], ohv = v[1], owv = v[2];
    Value base = k.mul(plane, h * wd);
    Value result;
    if (w.max) {
      Value best = b.create<arith::ConstantOp>(
          k.loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()));
      result = k.reduce(w.kernel[0], best, [&](Value kh, Value acc) {
        Value ih = ix.tapPos(ohv, w.strides[0], kh, w.dilations[0], w.pads[0]);
        Value okH = ix.inRange(ih, h);
        Value safeH = ix.max(ix.min(ih, k.index(h - 1)), k.index(0));
        return k.reduce(w.kernel[1], acc, [&](Value kw, Value acc2) {
          Value iw = ix.tapPos(owv, w.strides[1], kw, w.dilations[1], w.pads[1]);
          Value inside = ix.both(okH, ix.inRange(iw, wd));
          Value safeW = ix.max(ix.min(iw, k.index(wd - 1)), k.index(0));
          Value val = k.load(k.in(0), k.add(base, k.linear({safeH, safeW}, {wd, 1})));
          Value better = b.create<arith::MaximumFOp>(k.loc, val, acc2);
          return b.create<arith::SelectOp>(k.loc, inside, better, acc2).getResult();
        });
      });
    } else {
      // The window in padded coordinates, clipped to the input.
      Value h0 = ix.tapPos(ohv, w.strides[0], k.index(0), 1, w.pads[0]);
      Value w0 = ix.tapPos(owv, w.strides[1], k.index(0), 1, w.pads[1]);
      Value hEnd = ix.min(k.add(h0, k.index(w.kernel[0])), k.index(h + w.pads[2]));
      Value wEnd = ix.min(k.add(w0, k.index(w.kernel[1])), k.index(wd + w.pads[3]));
      Value zero = b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(0));
      Value sum = k.reduce(ix.max(h0, k.index(0)), ix.min(hEnd, k.index(h)), zero,
                           [&](Value ih, Value acc) {
        return k.reduce(ix.max(w0, k.index(0)), ix.min(wEnd, k.index(wd)), acc,
                        [&](Value iw, Value acc2) {
          Value val = k.load(k.in(0), k.add(base, k.linear({ih, iw}, {wd, 1})));
          Value vd = b.create<arith::ExtFOp>(k.loc, b.getF64Type(), val);
          return b.create<arith::AddFOp>(k.loc, acc2, vd).getResult();
        });
      });
      result = average(k, sum, windowCount(k, w, h0, w0, h, wd));
    }
    k.store(result, k.out(), k.linear(v, {y[2] * y[3], y[3], 1}));
  });
}

void globalAverage(GlobalAveragePoolOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Ix ix{k};
  ArrayRef<int64_t> x = shapeOf(o.getInput());
  Type f64 = b.getF64Type();
  Value zero = b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(0));
  auto mean = [&](Value sum, int64_t n) {
    Value q = b.create<arith::DivFOp>(k.loc, sum,
                                      b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(n)));
    return b.create<arith::TruncFOp>(k.loc, b.getF32Type(), q).getResult();
  };
  if (o.getChannelsLast() && k.parallelNests) {
    // One iteration per (image, channel), summing its pixels.
    int64_t pixels = x[1] * x[2], ch = x[3];
    k.parallel(x[0] * ch, [&](Value i) {
      Value base = k.add(k.mul(k.div(i, ch), pixels * ch), k.rem(i, ch));
      Value sum = k.reduce(pixels, zero, [&](Value p, Value acc) {
        Value v = b.create<arith::ExtFOp>(k.loc, f64, k.load(k.in(0), k.add(base, k.mul(p, ch))));
        return b.create<arith::AddFOp>(k.loc, acc, v).getResult();
      });
      k.store(mean(sum, pixels), k.out(), i);
    });
    return;
  }
  if (o.getChannelsLast()) {
    // Per image, the pixels' channel rows summed in double, a block of
    // channels at a time.
    int64_t pixels = x[1] * x[2], ch = x[3], block = std::min<int64_t>(ch, 256);
    k.loop(x[0], [&](Value n) {
      k.loop(k.index(0), k.index(ch), block, [&](Value c0) {
        Value count = ch % block == 0 ? k.index(block)
                                      : ix.min(k.index(block), ix.sub(k.index(ch), c0));
        Value sum = b.create<memref::AllocaOp>(k.loc, MemRefType::get({block}, f64));
        k.loop(k.index(0), count, 1, [&](Value j) { b.create<memref::StoreOp>(k.loc, zero, sum, j); });
        k.loop(pixels, [&](Value p) {
          Value src = k.add(k.linear({n, p}, {pixels * ch, ch}), c0);
          k.loop(k.index(0), count, 1, [&](Value j) {
            Value v = b.create<arith::ExtFOp>(k.loc, f64, k.load(k.in(0), k.add(src, j)));
            Value a = b.create<memref::LoadOp>(k.loc, sum, j);
            b.create<memref::StoreOp>(k.loc, b.create<arith::AddFOp>(k.loc, a, v), sum, j);
          });
        });
        k.loop(k.index(0), count, 1, [&](Value j) {
          Value a = b.create<memref::LoadOp>(k.loc, sum, j);
          k.store(mean(a, pixels), k.out(), k.add(k.add(k.mul(n, ch), c0), j));
        });
      });
    });
    return;
  }
  int64_t planes = x[0] * x[1], size = product(x.drop_front(2));
  k.independentNest({planes}, [&](ArrayRef<Value> v) {
    Value plane = v[0];
    Value sum = k.reduce(size, zero, [&](Value p, Value acc) {
      Value v = k.load(k.in(0), k.add(k.mul(plane, size), p));
      return b.create<arith::AddFOp>(k.loc, acc, b.create<arith::ExtFOp>(k.loc, f64, v))
          .getResult();
    });
    k.store(mean(sum, size), k.out(), plane);
  });
}

} // namespace

void lowerWindowNd(Operation *op, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                   ArrayRef<int64_t> dilations, ArrayRef<int64_t> pads, WindowKind kind,
                   bool countPad, int64_t group, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Ix ix{k};
  ArrayRef<int64_t> x = shapeOf(op->getOperand(0)), y = shapeOf(op->getResult(0));
  size_t n = x.size() - 2;
  bool conv = kind == WindowKind::Conv, max = kind == WindowKind::Max;
  int64_t icg = conv ? x[1] / group : 1, ocg = conv ? y[1] / group : 1;
  int64_t inPlane = product(x.drop_front(2)), outPlane = product(y.drop_front(2));
  int64_t kSize = product(kernel);
  SmallVector<int64_t> xs = contiguousStrides(x.drop_front(2)),
                       ys = contiguousStrides(y.drop_front(2)), ks = contiguousStrides(kernel);
  int64_t flops = (conv ? 2 * icg : 1) * product(y) * kSize;
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(flops));
  Type f32 = b.getF32Type();
  auto perPlane = [&](Value plane) {
    Value ch = ix.rem(plane, y[1]), nIdx = ix.div(plane, y[1]);
    k.loopNest(y.drop_front(2), [&](ArrayRef<Value> o) {
      Value init = max ? b.create<arith::ConstantOp>(
                             k.loc, b.getF32FloatAttr(-std::numeric_limits<float>::infinity()))
                             .getResult()
                 : conv && op->getNumOperands() > 2 ? k.load(k.in(2), ch)
                                                     : k.constant(f32, 0);
      // Accumulate over input channels (conv) and kernel positions, reading
      // clamped positions and keeping those inside the input.
      auto window = [&](Value ic, ValueRange accs) {
        SmallVector<Value> cur(accs);
        std::function<void(size_t, SmallVector<Value> &)> level = [&](size_t d,
                                                                       SmallVector<Value> &kv) {
          if (d == n) {
            Value inside, padded;
            SmallVector<Value> pos;
            for (size_t e = 0; e < n; ++e) {
              Value p = ix.tapPos(o[e], strides[e], kv[e], dilations[e], pads[e]);
              Value in = ix.inRange(p, x[2 + e]);
              Value inPad = ix.cmp(arith::CmpIPredicate::slt, p, k.index(x[2 + e] + pads[n + e]));
              inside = inside ? ix.both(inside, in) : in;
              padded = padded ? ix.both(padded, inPad) : inPad;
              pos.push_back(ix.max(ix.min(p, k.index(x[2 + e] - 1)), k.index(0)));
            }
            Value src = k.linear(pos, xs);
            Value v;
            if (conv) {
              Value chan = k.add(k.mul(ix.div(ch, ocg), icg), ic);
              Value xv = k.load(k.in(0), k.add(k.mul(k.add(k.mul(nIdx, x[1]), chan), inPlane), src));
              Value wv = k.load(k.in(1), k.add(k.mul(k.add(k.mul(ch, icg), ic), kSize),
                                               k.linear(kv, ks)));
              v = b.create<arith::MulFOp>(k.loc, xv, wv);
            } else {
              v = k.load(k.in(0), k.add(k.mul(plane, inPlane), src));
            }
            Value next = max ? b.create<arith::MaximumFOp>(k.loc, v, cur[0]).getResult()
                             : b.create<arith::AddFOp>(k.loc, cur[0], v).getResult();
            cur[0] = b.create<arith::SelectOp>(k.loc, inside, next, cur[0]);
            if (kind == WindowKind::Avg) {
              // Padded positions count for count_include_pad, but not those
              // past the padding that ceil mode adds.
              Value counts = countPad ? padded : inside;
              cur[1] = b.create<arith::SelectOp>(k.loc, counts, k.add(cur[1], k.index(1)), cur[1]);
            }
            return;
          }
          SmallVector<Value> inits(cur);
          SmallVector<Value> res = k.reduce(kernel[d], inits, [&](Value t, ValueRange a) {
            cur.assign(a.begin(), a.end());
            kv.push_back(t);
            level(d + 1, kv);
            kv.pop_back();
            return cur;
          });
          cur.assign(res.begin(), res.end());
        };
        SmallVector<Value> kv;
        level(0, kv);
        return cur;
      };
      SmallVector<Value> inits{init};
      if (kind == WindowKind::Avg)
        inits.push_back(k.index(0));
      SmallVector<Value> res = conv ? k.reduce(icg, inits, [&](Value ic, ValueRange a) {
                                        return window(ic, a);
                                      })
                                    : window(Value(), inits);
      Value result = res[0];
      if (kind == WindowKind::Avg)
        result = average(k, res[0], res[1]);
      k.store(result, k.out(), k.add(k.mul(plane, outPlane), k.linear(o, ys)));
    });
  };
  if (conv)
    k.parallel(y[0] * y[1], perPlane);
  else
    k.loop(y[0] * y[1], perPlane);
}

FailureOr<func::FuncOp> lowerPooling(Operation *op, const TargetDescription &,
                                     KernelBuilder &k) {
  if (failed(requireF32(op)))
    return failure();
  if (auto g = dyn_cast<GlobalAveragePoolOp>(op)) {
    k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(numel(g.getInput())));
    globalAverage(g, k);
    return k.finish();
  }
  if (shapeOf(op->getOperand(0)).size() == 5) {
    SmallVector<int64_t> ones(3, 1);
    if (auto m = dyn_cast<MaxPoolOp>(op))
      lowerWindowNd(op, m.getKernelShape(), m.getStrides(), m.getDilations(), m.getPads(),
                    WindowKind::Max, false, 1, k);
    else if (auto a = dyn_cast<AvgPoolOp>(op))
      lowerWindowNd(op, a.getKernelShape(), a.getStrides(), ones, a.getPads(), WindowKind::Avg,
                    a.getCountIncludePad(), 1, k);
    else
      return func::FuncOp();
    return k.finish();
  }
  if (shapeOf(op->getOperand(0)).size() != 4)
    return func::FuncOp();
  Window w;
  SmallVector<int64_t> ones(2, 1);
  bool channelsLast = false;
  if (auto m = dyn_cast<MaxPoolOp>(op)) {
    w = {m.getKernelShape(), m.getStrides(), m.getDilations(), m.getPads(), true, false};
    channelsLast = m.getChannelsLast();
  } else if (auto a = dyn_cast<AvgPoolOp>(op)) {
    w = {a.getKernelShape(), a.getStrides(), ones, a.getPads(), false, a.getCountIncludePad()};
    channelsLast = a.getChannelsLast();
  } else {
    return func::FuncOp();
  }
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(numel(op->getResult(0)) *
                                                        w.kernel[0] * w.kernel[1]));
  if (channelsLast)
    poolNhwc(op, w, k);
  else
    poolNchw(op, w, k);
  return k.finish();
}

} // namespace kiln
