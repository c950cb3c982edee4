//===- Resize.cpp - Resize -> kernel loops over compile-time tap tables ---===//
//
// Every output coordinate of a resized dimension reads a few input taps with
// fixed weights, known at compile time: they go into constant tables
// (memref.global), and the kernel sums weight x input over the taps of each
// resized dimension. Dimensions the resize leaves alone (batch, channels)
// index the input directly, and independent planes split across the pool.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/ElementwiseMath.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/Hashing.h"
#include "llvm/Support/Format.h"

#include <cmath>

using namespace mlir;

namespace kiln {
namespace {

struct Taps {
  SmallVector<int64_t> index;
  SmallVector<double> weight;
  bool extrapolate = false;
};

/// The input taps of output coordinate `x` of a dimension resized from
/// `inLen` to `outLen` (ONNX Resize semantics).
Taps resizeTaps(ResizeOp o, int64_t x, int64_t inLen, double scale, double roiStart,
                double roiEnd) {
  StringRef ctm = o.getCoordinateTransformationMode(), mode = o.getMode();
  double outWidth = scale * inLen, xo = 0;
  Taps taps;
  if (ctm == "align_corners")
    xo = outWidth == 1 ? 0.0 : x * (inLen - 1) / (outWidth - 1);
  else if (ctm == "asymmetric")
    xo = x / scale;
  else if (ctm == "tf_crop_and_resize") {
    xo = outWidth == 1 ? (roiEnd - roiStart) * (inLen - 1) / 2
                       : x * (roiEnd - roiStart) * (inLen - 1) / (outWidth - 1);
    xo += roiStart * (inLen - 1);
    if (xo < 0 || xo > inLen - 1)
      taps.extrapolate = true;
  } else if (ctm == "pytorch_half_pixel")
    xo = outWidth == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
  else if (ctm == "tf_half_pixel_for_nn")
    xo = (x + 0.5) / scale;
  else
    xo = (x + 0.5) / scale - 0.5;
  double xf = std::floor(xo);
  double ratio = xo == xf ? 1.0 : xo - xf;
  SmallVector<double> coeffs;
  if (mode == "nearest") {
    StringRef nm = o.getNearestMode();
    if (xo == xf || nm == "ceil")
      coeffs = {0, 1};
    else if (nm == "floor")
      coeffs = {1, 0};
    else if (nm == "round_prefer_ceil")
      coeffs = {ratio < 0.5 ? 1.0 : 0.0, ratio >= 0.5 ? 1.0 : 0.0};
    else
      coeffs = {ratio <= 0.5 ? 1.0 : 0.0, ratio > 0.5 ? 1.0 : 0.0};
  } else if (mode == "linear") {
    coeffs = {1 - ratio, ratio};
  } else {
    double a = o.getCubicCoeffA().convertToDouble(), r = ratio, q = 1 - ratio;
    coeffs = {((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a,
              ((a + 2) * r - (a + 3)) * r * r + 1,
              ((a + 2) * q - (a + 3)) * q * q + 1,
              ((a * (q + 1) - 5 * a) * (q + 1) + 8 * a) * (q + 1) - 4 * a};
  }
  // The n integer points nearest xo (ties to the lower index), in order.
  int64_t n = coeffs.size();
  int64_t pad = (n + 1) / 2;
  SmallVector<int64_t> candidates;
  for (int64_t i = -pad; i < inLen + pad; ++i)
    candidates.push_back(i);
  std::stable_sort(candidates.begin(), candidates.end(), [&](int64_t a, int64_t b) {
    return std::fabs(xo - a) < std::fabs(xo - b);
  });
  candidates.resize(std::min<int64_t>(n, candidates.size()));
  std::sort(candidates.begin(), candidates.end());
  double total = 0;
  for (int64_t i = 0; i < (int64_t)candidates.size(); ++i) {
    int64_t idx = candidates[i];
    double w = coeffs[i];
    if (o.getExcludeOutside() && (idx < 0 || idx >= inLen))
      w = 0;
    total += w;
    taps.index.push_back(std::clamp<int64_t>(idx, 0, inLen - 1));
    taps.weight.push_back(w);
  }
  if (o.getExcludeOutside() && total != 0)
    for (double &w : taps.weight)
      w /= total;
  return taps;
}

/// A constant table in the kernel module (one per distinct content, so that
/// identical kernels share it), read in the kernel through memref.get_global.
Value table(KernelBuilder &k, ModuleOp kernels, DenseElementsAttr values) {
  auto type = MemRefType::get({values.getNumElements()}, values.getElementType());
  std::string name;
  llvm::raw_string_ostream os(name);
  os << "table_" << llvm::format_hex_no_prefix(
                        static_cast<uint64_t>(llvm::hash_combine(
                            values.getAsOpaquePointer(), type.getAsOpaquePointer())),
                        16);
  if (!kernels.lookupSymbol(name)) {
    OpBuilder::InsertionGuard guard(k.b);
    k.b.setInsertionPointToStart(kernels.getBody());
    k.b.create<memref::GlobalOp>(k.loc, name, k.b.getStringAttr("private"), type, values,
                                 /*constant=*/true, /*alignment=*/nullptr);
  }
  return k.b.create<memref::GetGlobalOp>(k.loc, type, name);
}

/// The common resize of images (2 taps per coordinate, only the last two
/// dimensions resized, float32) on a CPU, separably: each output row first
/// blends its two input rows into a scratch row, then each output element
/// blends two elements of that row. That is 3 multiply-adds per output
/// element plus a share of the row blend, in loops without per-element
/// tables of the leading dimensions, where the general path computes each
/// element from 4 taps in float64.
/// With `channelsLast`, the images are NHWC: dimensions rank-3 and rank-2
/// resize and each output pixel sums its four input pixels' channels, which
/// are contiguous.
func::FuncOp resizeRowsThenColumns(ResizeOp o, const TargetDescription &target, KernelBuilder &k,
                                   ArrayRef<SmallVector<Taps>> allTaps, bool channelsLast) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> x = shapeOf(o.getInput()), y = shapeOf(o.getOutput());
  int64_t rank = x.size(), hd = rank - (channelsLast ? 3 : 2);
  int64_t h = x[hd], w = x[hd + 1], oh = y[hd], ow = y[hd + 1];
  int64_t ch = channelsLast ? x[rank - 1] : 1;
  ArrayRef<SmallVector<Taps>> taps = allTaps;
  ModuleOp kernels = k.kernel()->getParentOfType<ModuleOp>();
  Type f32 = b.getF32Type();
  // Per output coordinate of each dimension: two input indices, two weights.
  auto tablesOf = [&](ArrayRef<Taps> dim) {
    SmallVector<int64_t> idx;
    SmallVector<float> wts;
    for (const Taps &t : dim)
      for (int j = 0; j < 2; ++j) {
        idx.push_back(t.index[j]);
        wts.push_back(static_cast<float>(t.weight[j]));
      }
    auto type = [&](Type elt) { return RankedTensorType::get({int64_t(idx.size())}, elt); };
    return std::make_pair(
        table(k, kernels, DenseElementsAttr::get(type(b.getI64Type()), ArrayRef<int64_t>(idx))),
        table(k, kernels, DenseElementsAttr::get(type(f32), ArrayRef<float>(wts))));
  };
  auto [rowIdx, rowWts] = tablesOf(taps[hd]);
  auto [colIdx, colWts] = tablesOf(taps[hd + 1]);
  // w0 * a + w1 * b where a zero weight adds nothing, even times an infinite
  // input (as the general path).
  Value zero = k.constant(f32, 0);
  auto term = [&](Value weight, Value v) {
    Value isZero = b.create<arith::CmpFOp>(k.loc, arith::CmpFPredicate::OEQ, weight, zero);
    return k.select(isZero, zero, b.create<arith::MulFOp>(k.loc, weight, v));
  };
  // The two input indices and weights of output coordinate `at`.
  auto tapsAt = [&](Value idx, Value wts, Value at) {
    Value slot = k.mul(at, 2), next = k.add(slot, k.index(1));
    auto index = [&](Value s) {
      return b.create<arith::IndexCastOp>(k.loc, b.getIndexType(),
                                          b.create<memref::LoadOp>(k.loc, idx, s));
    };
    Value w0 = b.create<memref::LoadOp>(k.loc, wts, slot);
    Value w1 = b.create<memref::LoadOp>(k.loc, wts, next);
    return std::make_tuple(index(slot), index(next), w0, w1);
  };
  if (channelsLast) {
    k.describe("Resize of " + Twine(h) + "x" + Twine(w) + " to " + Twine(oh) + "x" + Twine(ow) +
               " NHWC images of " + Twine(ch) + " channels: each output pixel blends the "
               "channels of four input pixels.");
    int64_t rows = product(y.take_front(hd)) * oh;
    auto perRow = [&](Value task) {
      Value plane = k.div(task, oh), r = k.rem(task, oh);
      auto [i0, i1, w0, w1] = tapsAt(rowIdx, rowWts, r);
      Value inBase = k.mul(plane, h * w * ch);
      Value r0 = k.add(inBase, k.mul(i0, w * ch)), r1 = k.add(inBase, k.mul(i1, w * ch));
      Value outRow = k.mul(task, ow * ch);
      k.loop(ow, [&](Value c) {
        auto [j0, j1, v0, v1] = tapsAt(colIdx, colWts, c);
        Value p00 = k.add(r0, k.mul(j0, ch)), p01 = k.add(r0, k.mul(j1, ch));
        Value p10 = k.add(r1, k.mul(j0, ch)), p11 = k.add(r1, k.mul(j1, ch));
        auto mulf = [&](Value a, Value bb) { return b.create<arith::MulFOp>(k.loc, a, bb); };
        Value w00 = mulf(w0, v0), w01 = mulf(w0, v1), w10 = mulf(w1, v0), w11 = mulf(w1, v1);
        Value out = k.add(outRow, k.mul(c, ch));
        k.loop(ch, [&](Value j) {
          auto at = [&](Value p) { return k.load(k.in(0), k.add(p, j)); };
          Value top = b.create<arith::AddFOp>(k.loc, term(w00, at(p00)), term(w01, at(p01)));
          Value bottom = b.create<arith::AddFOp>(k.loc, term(w10, at(p10)), term(w11, at(p11)));
          k.store(b.create<arith::AddFOp>(k.loc, top, bottom), k.out(), k.add(out, j));
        });
      });
    };
    if (rows > 1 && product(y) >= target.minParallelElements)
      k.parallel(rows, perRow);
    else
      k.loop(rows, perRow);
    return k.finish();
  }
  k.describe("Resize of " + Twine(h) + "x" + Twine(w) + " to " + Twine(oh) + "x" + Twine(ow) +
             " images: each output row blends two input rows, then each element two of "
             "that row's.");
  int64_t planes = product(y.drop_back(2));
  auto perPlane = [&](Value plane) {
    Value inBase = k.mul(plane, h * w), outBase = k.mul(plane, oh * ow);
    Value row = k.local(f32, w, 64);
    k.loop(oh, [&](Value r) {
      auto [i0, i1, w0, w1] = tapsAt(rowIdx, rowWts, r);
      Value r0 = k.add(inBase, k.mul(i0, w)), r1 = k.add(inBase, k.mul(i1, w));
      k.loop(w, [&](Value c) {
        Value v = b.create<arith::AddFOp>(k.loc, term(w0, k.load(k.in(0), k.add(r0, c))),
                                          term(w1, k.load(k.in(0), k.add(r1, c))));
        k.store(v, row, c);
      });
      Value outRow = k.add(outBase, k.mul(r, ow));
      k.loop(ow, [&](Value c) {
        auto [j0, j1, v0, v1] = tapsAt(colIdx, colWts, c);
        Value v = b.create<arith::AddFOp>(k.loc, term(v0, k.load(row, j0)),
                                          term(v1, k.load(row, j1)));
        k.store(v, k.out(), k.add(outRow, c));
      });
    });
  };
  if (planes > 1 && product(y) >= target.minParallelElements)
    k.parallel(planes, perPlane);
  else
    k.loop(planes, perPlane);
  return k.finish();
}

} // namespace

FailureOr<func::FuncOp> lowerResize(ResizeOp o, const TargetDescription &target,
                                    KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> x = shapeOf(o.getInput()), y = shapeOf(o.getOutput());
  int64_t rank = x.size();
  Type elt = getElementTypeOrSelf(o.getInput().getType());
  if (product(y) == 0)
    return k.finish();
  if (product(x) == 0 || rank == 0)
    return o.emitOpError("cannot resize an empty tensor or a scalar");
  ModuleOp kernels = k.kernel()->getParentOfType<ModuleOp>();
  SmallVector<int64_t> xs = contiguousStrides(x), ys = contiguousStrides(y);
  int64_t n = o.getMode() == "nearest" || o.getMode() == "linear" ? 2 : 4;
  bool crop = o.getCoordinateTransformationMode() == "tf_crop_and_resize";
  // The taps of every output coordinate of each dimension. A dimension whose
  // every output reads its own input index with weight 1 (taps of weight 0
  // elsewhere read nothing) is an identity.
  SmallVector<bool> identity(rank, false);
  SmallVector<SmallVector<Taps>> allTaps(rank);
  for (int64_t d = 0; d < rank; ++d) {
    double scale = cast<FloatAttr>(o.getScales()[d]).getValueAsDouble();
    double r0 = crop ? cast<FloatAttr>(o.getRoi()[d]).getValueAsDouble() : 0;
    double r1 = crop ? cast<FloatAttr>(o.getRoi()[rank + d]).getValueAsDouble() : 1;
    bool same = x[d] == y[d];
    for (int64_t i = 0; i < y[d]; ++i) {
      Taps taps = resizeTaps(o, i, x[d], scale, r0, r1);
      double own = 0;
      same &= !taps.extrapolate;
      for (int64_t j = 0; j < n; ++j) {
        if (taps.index[j] == i)
          own += taps.weight[j];
        else
          same &= taps.weight[j] == 0.0;
      }
      same &= own == 1.0;
      allTaps[d].push_back(std::move(taps));
    }
    identity[d] = same;
  }
  // Images on a CPU, NCHW (the last two dimensions resize) or NHWC (the two
  // before the last).
  auto identities = [&](int64_t from, int64_t to) {
    return llvm::all_of(ArrayRef<bool>(identity).slice(from, to - from), [](bool i) { return i; });
  };
  if (n == 2 && !crop && rank >= 2 && elt.isF32() && !target.parallelLoopNests) {
    if (identities(0, rank - 2) && !identity[rank - 1])
      return resizeRowsThenColumns(o, target, k, allTaps, /*channelsLast=*/false);
    if (rank >= 3 && identities(0, rank - 3) && identity[rank - 1])
      return resizeRowsThenColumns(o, target, k, allTaps, /*channelsLast=*/true);
  }
  // Per-dimension tables of tap indices (times the input stride), weights
  // and, for crops, whether the output extrapolates.
  SmallVector<Value> indexTables(rank), weightTables(rank), extrapolates(rank);
  for (int64_t d = 0; d < rank; ++d) {
    if (identity[d])
      continue;
    SmallVector<int64_t> idx;
    SmallVector<double> wts;
    SmallVector<int8_t> ext;
    for (const Taps &taps : allTaps[d]) {
      for (int64_t j = 0; j < n; ++j) {
        idx.push_back(taps.index[j] * xs[d]);
        wts.push_back(taps.weight[j]);
      }
      ext.push_back(taps.extrapolate);
    }
    auto tensorOf = [&](Type t, int64_t len) { return RankedTensorType::get({len}, t); };
    indexTables[d] = table(k, kernels, DenseElementsAttr::get(tensorOf(b.getI64Type(), idx.size()),
                                                              ArrayRef<int64_t>(idx)));
    weightTables[d] = table(k, kernels, DenseElementsAttr::get(tensorOf(b.getF64Type(), wts.size()),
                                                               ArrayRef<double>(wts)));
    if (crop)
      extrapolates[d] = table(k, kernels, DenseElementsAttr::get(
                                              tensorOf(b.getI8Type(), ext.size()),
                                              ArrayRef<int8_t>(ext)));
  }
  // The leading identity dimensions are independent planes.
  int64_t lead = 0;
  while (lead < rank - 1 && identity[lead])
    ++lead;
  int64_t planes = product(y.take_front(lead));
  Type f64 = b.getF64Type();
  auto perPlane = [&](Value plane) {
    SmallVector<Value> outer = k.unravel(plane, y.take_front(lead));
    k.loopNest(y.drop_front(lead), [&](ArrayRef<Value> inner) {
      SmallVector<Value> vars(outer);
      vars.append(inner.begin(), inner.end());
      Value at = k.linear(vars, ys);
      // Sum over the taps of each resized dimension, innermost last; a zero
      // weight adds nothing (even to an infinite input).
      std::function<Value(int64_t, Value, Value, Value)> taps = [&](int64_t d, Value weight,
                                                                   Value src, Value acc) -> Value {
        if (d == rank) {
          Value v = convertScalar(b, k.loc, k.load(k.in(0), src), elt, f64);
          Value w = weight ? weight : b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(1));
          Value sum = b.create<arith::AddFOp>(k.loc, acc, b.create<arith::MulFOp>(k.loc, w, v));
          if (!weight)
            return sum;
          Value zero = b.create<arith::CmpFOp>(k.loc, arith::CmpFPredicate::OEQ, weight,
                                               b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(0)));
          return b.create<arith::SelectOp>(k.loc, zero, acc, sum).getResult();
        }
        if (identity[d])
          return taps(d + 1, weight, k.add(src, k.mul(vars[d], xs[d])), acc);
        return k.reduce(n, acc, [&](Value t, Value acc2) {
          Value slot = k.add(k.mul(vars[d], n), t);
          Value w = b.create<memref::LoadOp>(k.loc, weightTables[d], slot);
          if (weight)
            w = b.create<arith::MulFOp>(k.loc, weight, w);
          Value i = b.create<arith::IndexCastOp>(
              k.loc, b.getIndexType(), b.create<memref::LoadOp>(k.loc, indexTables[d], slot));
          return taps(d + 1, w, k.add(src, i), acc2);
        });
      };
      auto interpolate = [&] {
        Value acc = taps(0, Value(), k.index(0), b.create<arith::ConstantOp>(k.loc, b.getF64FloatAttr(0)));
        k.store(convertScalar(b, k.loc, acc, f64, elt), k.out(), at);
      };
      Value outside;
      if (crop)
        for (int64_t d = 0; d < rank; ++d) {
          if (identity[d])
            continue;
          Value e = b.create<arith::CmpIOp>(
              k.loc, arith::CmpIPredicate::ne,
              b.create<memref::LoadOp>(k.loc, extrapolates[d], vars[d]),
              b.create<arith::ConstantOp>(k.loc, b.getI8IntegerAttr(0)));
          outside = outside ? b.create<arith::OrIOp>(k.loc, outside, e).getResult() : e;
        }
      if (!outside)
        return interpolate();
      auto ifOp = b.create<scf::IfOp>(k.loc, outside, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      k.store(k.constant(elt, o.getExtrapolationValue().convertToDouble()), k.out(), at);
      b.setInsertionPointToStart(ifOp.elseBlock());
      interpolate();
    });
  };
  if (planes > 1 && product(y) >= target.minParallelElements)
    k.parallel(planes, perPlane);
  else
    k.loop(planes, perPlane);
  return k.finish();
}

} // namespace kiln
