//===- QuantizedOps.cpp - Integer matmul/conv and dynamic quantisation ----===//
//
// The integer contractions widen their 8-bit operands to int32, subtract the
// zero points and run an int32 matmul or convolution, which is exact. The
// QLinear forms then requantise as the ONNX reference does: the int32 result
// times (scale_a * scale_b / scale_y) in float64, rounded half to even, plus
// the output zero point, saturated.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/ImporterCore.h"
#include "lib/Import/QuantizedOps.h"

#include <algorithm>
#include <cmath>

namespace kiln::import {
namespace {

bool is8Bit(Value v) {
  Type t = ValueBuilder::elementOf(v);
  return t.isInteger(8);
}

/// `x - zeroPoint` in int32. A per-row (or per-channel) zero point of n
/// entries is laid out along `axis` of x; a scalar or 1-element one
/// broadcasts.
Value centered(ValueBuilder &u, Value x, Value zeroPoint, int64_t axis, const char *what) {
  Type i32 = IntegerType::get(&u.im.context(), 32);
  if (!is8Bit(x))
    fail(std::string(what) + " must be int8 or uint8");
  Value wide = u.castTo(x, i32);
  if (!zeroPoint)
    return wide;
  if (ValueBuilder::elementOf(zeroPoint) != ValueBuilder::elementOf(x))
    fail(std::string(what) + " and its zero point must have the same type");
  int64_t n = cast<ShapedType>(zeroPoint.getType()).getNumElements();
  ArrayRef<int64_t> xs = shapeOf(x);
  Value zp = u.castTo(zeroPoint, i32);
  if (n != 1) {
    if (axis < 0 || axis >= (int64_t)xs.size() || xs[axis] != n)
      fail(std::string("the zero point of ") + what + " has " + std::to_string(n) +
           " entries, which match no axis it applies to");
    SmallVector<int64_t> shape(xs.size() - axis, 1);
    shape[0] = n;
    zp = u.reshape(zp, shape);
  } else {
    zp = u.reshape(zp, {});
  }
  return u.sub(wide, zp);
}

Value matmulInt32(Importer &im, ValueBuilder &u, Value a, Value b) {
  ArrayRef<int64_t> as = shapeOf(a), bs = shapeOf(b);
  if (as.size() < 2 || bs.size() < 2)
    fail("operands must have rank 2 or more");
  auto batch = broadcastShapes({as.drop_back(2), bs.drop_back(2)});
  if (!batch || as.back() != bs[bs.size() - 2])
    fail("operand shapes do not multiply");
  SmallVector<int64_t> shape(*batch);
  shape.push_back(as[as.size() - 2]);
  shape.push_back(bs.back());
  return im.create<MatMulOp>(u.type(shape, ValueBuilder::elementOf(a)), a, b,
                             /*a_zero_point=*/IntegerAttr());
}

/// int32 `acc * multiplier` requantised to the type of `zeroPoint` (8-bit).
Value requantize(ValueBuilder &u, Value acc, Value multiplier, Value zeroPoint) {
  Type f64 = Float64Type::get(&u.im.context());
  Value scaled = u.round(u.mul(u.castTo(acc, f64), u.castTo(multiplier, f64)));
  Type out = ValueBuilder::elementOf(zeroPoint);
  if (!out.isInteger(8))
    fail("the output zero point must be int8 or uint8");
  double lo = out.isUnsignedInteger() ? 0 : -128, hi = out.isUnsignedInteger() ? 255 : 127;
  Value shifted = u.add(scaled, u.castTo(u.reshape(zeroPoint, {}), f64));
  return u.castTo(u.clipTo(shifted, lo, hi), out);
}

/// A scalar (or 1-element) scale tensor, or a per-channel one laid out on
/// axis 1 of a rank-`rank` NCHW result.
Value channelScale(ValueBuilder &u, Value scale, int64_t channels, int64_t rank) {
  int64_t n = cast<ShapedType>(scale.getType()).getNumElements();
  if (n == 1)
    return u.reshape(scale, {});
  if (n != channels)
    fail("a scale has " + std::to_string(n) + " entries for " + std::to_string(channels) +
         " output channels");
  SmallVector<int64_t> shape(rank - 1, 1);
  shape[0] = n;
  return u.reshape(scale, shape);
}

Value integerMatMulSums(Importer &im, Value a, Value aZero, Value b, Value bZero);

/// (a - aZero) @ (b - bZero) in int32; a's zero point is per row, b's per
/// column.
Value centeredMatMul(Importer &im, ValueBuilder &u, Value a, Value aZero, Value b,
                     Value bZero, const char *aName, const char *bName) {
  if (shapeOf(a).size() < 2 || shapeOf(b).size() < 2)
    fail("operands of rank 1 are not supported");
  if (Value sums = integerMatMulSums(im, a, aZero, b, bZero))
    return sums;
  Value ac = centered(u, a, aZero, shapeOf(a).size() - 2, aName);
  Value bc = centered(u, b, bZero, shapeOf(b).size() - 1, bName);
  return matmulInt32(im, u, ac, bc);
}

void importMatMulInteger(Importer &im) {
  ValueBuilder u(im, IntegerType::get(&im.context(), 32));
  im.bind(0, centeredMatMul(im, u, im.input(0), im.optionalInput(2), im.input(1),
                            im.optionalInput(3), "A", "B"));
}

void importQLinearMatMul(Importer &im) {
  ValueBuilder u(im, IntegerType::get(&im.context(), 32));
  Value acc = centeredMatMul(im, u, im.input(0), im.input(2), im.input(3), im.input(5),
                             "a", "b");
  ValueBuilder fu(im, ValueBuilder::elementOf(im.input(1)));
  auto perAxis = [&](Value s, int64_t axis) {
    // Per-row scales of a, per-column scales of b.
    int64_t n = cast<ShapedType>(s.getType()).getNumElements();
    if (n == 1)
      return fu.reshape(s, {});
    return axis == 0 ? fu.reshape(s, {n, 1}) : fu.reshape(s, {n});
  };
  Value multiplier = fu.binary<DivOp>(fu.mul(perAxis(im.input(1), 0), perAxis(im.input(4), 1)),
                                      fu.reshape(im.input(6), {}));
  im.bind(0, requantize(u, acc, multiplier, im.input(7)));
}

struct ConvParams {
  SmallVector<int64_t> strides, dilations, pads;
  int64_t group;
};

Value integerConvSums(Importer &im, Value x, Value xZero, Value w, Value wZero,
                      const ConvParams &p);

/// The attributes of an integer conv over 2-D NCHW operands.
ConvParams convParams(Importer &im, Value x, Value w) {
  ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(w);
  if (xs.size() != 4 || ws.size() != 4)
    fail("only 2-D convolutions (rank-4 input and weight) are supported");
  if (im.stringAttr("auto_pad", "NOTSET") != "NOTSET")
    fail("auto_pad is not supported; give explicit pads");
  ConvParams p;
  p.strides = im.intsAttr("strides", {1, 1});
  p.dilations = im.intsAttr("dilations", {1, 1});
  p.pads = im.intsAttr("pads", {0, 0, 0, 0});
  p.group = im.intAttr("group", 1);
  if (p.strides.size() != 2 || p.dilations.size() != 2 || p.pads.size() != 4)
    fail("strides, dilations and pads must describe two spatial dimensions");
  if (auto ks = im.intsAttr("kernel_shape"))
    if (*ks != SmallVector<int64_t>(ws.drop_front(2)))
      fail("kernel_shape differs from the weight's shape");
  return p;
}

Value convInt32(Importer &im, ValueBuilder &u, Value x, Value w, Value bias,
                const ConvParams &p) {
  ArrayRef<int64_t> xs = shapeOf(x), ws = shapeOf(w);
  SmallVector<int64_t> y = {xs[0], ws[0]};
  for (int d = 0; d < 2; ++d) {
    int64_t span = p.dilations[d] * (ws[2 + d] - 1) + 1;
    int64_t extent = xs[2 + d] + p.pads[d] + p.pads[d + 2] - span;
    if (extent < 0 || p.strides[d] < 1)
      fail("the kernel does not fit the padded input");
    y.push_back(extent / p.strides[d] + 1);
  }
  auto &b = im.b();
  // kiln.conv takes the pads as [begin..., end...], as ONNX does.
  return im.create<ConvOp>(u.type(y, ValueBuilder::elementOf(x)), x, w, bias,
                           b.getDenseI64ArrayAttr(p.strides),
                           b.getDenseI64ArrayAttr(p.pads),
                           b.getDenseI64ArrayAttr(p.dilations), b.getI64IntegerAttr(p.group),
                           /*channels_last=*/UnitAttr(), /*input_zero_point=*/IntegerAttr());
}

void importConvInteger(Importer &im) {
  Type i32 = IntegerType::get(&im.context(), 32);
  ValueBuilder u(im, i32);
  Value x = im.input(0), w = im.input(1);
  ConvParams p = convParams(im, x, w);
  if (Value sums = integerConvSums(im, x, im.optionalInput(2), w, im.optionalInput(3), p)) {
    im.bind(0, sums);
    return;
  }
  Value xc = centered(u, x, im.optionalInput(2), 1, "x");
  if (im.hasInput(2) && cast<ShapedType>(im.input(2).getType()).getNumElements() != 1)
    fail("x_zero_point must be a scalar");
  Value wc = centered(u, w, im.optionalInput(3), 0, "w");
  im.bind(0, convInt32(im, u, xc, wc, Value(), p));
}

void importQLinearConv(Importer &im) {
  Type i32 = IntegerType::get(&im.context(), 32);
  ValueBuilder u(im, i32);
  Value x = im.input(0), w = im.input(3);
  ConvParams p = convParams(im, x, w);
  if (cast<ShapedType>(im.input(2).getType()).getNumElements() != 1)
    fail("x_zero_point must be a scalar");
  Value bias = im.optionalInput(8);
  if (bias && ValueBuilder::elementOf(bias) != i32)
    fail("the bias must be int32");
  Value acc = integerConvSums(im, x, im.input(2), w, im.input(5), p);
  if (acc && bias)
    acc = u.add(acc, u.reshape(bias, {1, shapeOf(w)[0], 1, 1}));
  if (!acc)
    acc = convInt32(im, u, centered(u, x, im.input(2), 1, "x"),
                    centered(u, w, im.input(5), 0, "w"), bias, p);
  int64_t channels = shapeOf(w)[0];
  ValueBuilder fu(im, ValueBuilder::elementOf(im.input(1)));
  Value multiplier =
      fu.binary<DivOp>(fu.mul(fu.reshape(im.input(1), {}), channelScale(fu, im.input(4), channels, 4)),
                       fu.reshape(im.input(6), {}));
  im.bind(0, requantize(u, acc, multiplier, im.input(7)));
}

/// y_scale = (max(0, max x) - min(0, min x)) / 255; the zero point puts
/// min(0, min x) at 0; y quantises x with them (uint8).
void importDynamicQuantizeLinear(Importer &im) {
  Value x = im.input(0);
  Type f32 = ValueBuilder::elementOf(x);
  if (!f32.isF32())
    fail("x must be float32");
  ValueBuilder u(im, f32);
  auto &b = im.b();
  SmallVector<int64_t> all;
  for (size_t d = 0; d < shapeOf(x).size(); ++d)
    all.push_back(d);
  auto reduce = [&](auto tag) {
    using OpTy = decltype(tag);
    return im.create<OpTy>(u.type({}), x, b.getDenseI64ArrayAttr(all), b.getBoolAttr(false));
  };
  Value zero = u.scalar(0.0);
  Value lo = u.binary<MinOp>(reduce(ReduceMinOp()), zero);
  Value hi = u.binary<MaxOp>(reduce(ReduceMaxOp()), zero);
  Value scale = u.binary<DivOp>(u.sub(hi, lo), u.scalar(255.0));
  Type u8 = IntegerType::get(&im.context(), 8, IntegerType::Unsigned);
  Value zpFloat = u.round(u.clipTo(u.sub(zero, u.binary<DivOp>(lo, scale)), 0, 255));
  Value zp = u.castTo(zpFloat, u8);
  Value y = im.create<PointwiseOp>(u.type(shapeOf(x), u8), b.getStringAttr("quantize_linear"),
                                   ValueRange{x, scale, zp}, b.getArrayAttr({}));
  im.bind(0, y);
  if (im.hasOutput(1))
    im.bind(1, scale);
  if (im.hasOutput(2))
    im.bind(2, zp);
}

/// The constant behind `v`, looking through reshapes.
DenseElementsAttr constantBehind(Value v) {
  while (auto r = v.getDefiningOp<ReshapeOp>())
    v = r.getInput();
  auto c = v.getDefiningOp<ConstantOp>();
  return c ? dyn_cast<DenseElementsAttr>(c.getValue()) : DenseElementsAttr();
}

/// Whether a per-axis parameter of n entries along `axis` (-1: a scalar),
/// with a zero point of `zeros` entries, fits a value of `shape`.
bool perAxisFits(ArrayRef<int64_t> shape, int64_t axis, int64_t n, size_t zeros) {
  if (zeros != 1 && int64_t(zeros) != n)
    return false;
  if (axis < 0)
    return n == 1;
  return axis < int64_t(shape.size()) && shape[axis] == n;
}

/// The 8-bit constant behind `v`: a constant, or a QuantizeLinear of
/// constants (PyTorch exports quantised weights as float weights, quantised
/// in the graph), evaluated as ONNX does: x / scale rounded half to even,
/// plus the zero point, saturated.
DenseElementsAttr quantizedConstant(Value v) {
  if (DenseElementsAttr c = constantBehind(v))
    return c;
  auto q = v.getDefiningOp<PointwiseOp>();
  if (!q || q.getFn() != "quantize_linear" || q->getNumOperands() != 3)
    return DenseElementsAttr();
  DenseElementsAttr x = constantBehind(q->getOperand(0)), scale = constantBehind(q->getOperand(1)),
                    zp = constantBehind(q->getOperand(2));
  auto type = cast<RankedTensorType>(v.getType());
  auto zt = zp ? dyn_cast<IntegerType>(zp.getElementType()) : IntegerType();
  if (!x || !scale || !zt || zt.getWidth() != 8 || !x.getElementType().isF32() ||
      !scale.getElementType().isF32())
    return DenseElementsAttr();
  ArrayRef<int64_t> shape = type.getShape();
  int64_t rank = shape.size(), axis = -1, n = scale.getNumElements();
  if (n != 1)
    axis = rank - int64_t(shapeOf(q->getOperand(1)).size());
  int64_t inner = 1;
  for (int64_t d = axis + 1; axis >= 0 && d < rank; ++d)
    inner *= shape[d];
  std::vector<float> xs, ss;
  for (const APFloat &f : x.getValues<APFloat>())
    xs.push_back(f.convertToFloat());
  for (const APFloat &f : scale.getValues<APFloat>())
    ss.push_back(f.convertToFloat());
  std::vector<int64_t> zs;
  for (const APInt &z : zp.getValues<APInt>())
    zs.push_back(zt.isUnsigned() ? int64_t(z.getZExtValue()) : z.getSExtValue());
  if (!perAxisFits(shape, axis, n, zs.size()))
    return DenseElementsAttr(); // left to the run-time op, which reports it
  double lo = zt.isUnsigned() ? 0 : -128, hi = zt.isUnsigned() ? 255 : 127;
  SmallVector<APInt> out;
  for (size_t e = 0; e < xs.size(); ++e) {
    size_t i = axis < 0 ? 0 : (e / inner) % n;
    double r = std::nearbyint(double(xs[e] / ss[ss.size() == 1 ? 0 : i])) +
               double(zs[zs.size() == 1 ? 0 : i]);
    out.push_back(APInt(8, uint64_t(int64_t(std::clamp(r, lo, hi))), !zt.isUnsigned()));
  }
  return DenseElementsAttr::get(type, out);
}

PointwiseOp dequantization(Value v) {
  auto p = v.getDefiningOp<PointwiseOp>();
  return p && p.getFn() == "dequantize_linear" && p->getNumOperands() == 3 ? p : PointwiseOp();
}

std::vector<int64_t> intsOf(DenseElementsAttr a) {
  std::vector<int64_t> out;
  bool isUnsigned = a.getElementType().isUnsignedInteger();
  for (const APInt &v : a.getValues<APInt>())
    out.push_back(isUnsigned ? int64_t(v.getZExtValue()) : v.getSExtValue());
  return out;
}

/// Whether a weight zero point is absent or a constant of zeros (the int8
/// kernel's form).
bool absentOrZero(Value zeroPoint) {
  if (!zeroPoint)
    return true;
  DenseElementsAttr z = constantBehind(zeroPoint);
  return z && llvm::all_of(intsOf(z), [](int64_t v) { return v == 0; });
}

std::vector<float> floatsOf(DenseElementsAttr a) {
  std::vector<float> out;
  for (const APFloat &v : a.getValues<APFloat>())
    out.push_back(float(v.convertToDouble()));
  return out;
}

/// Entries of a per-axis parameter, laid out (by quantParams) as
/// [n, 1, ..., 1] over the trailing dims of a rank-`rank` value, or a
/// scalar: the axis it runs along (-1 for a scalar) and n.
std::pair<int64_t, int64_t> paramAxis(Value param, int64_t rank) {
  ArrayRef<int64_t> s = shapeOf(param);
  int64_t n = cast<ShapedType>(param.getType()).getNumElements();
  if (n == 1)
    return {-1, 1};
  return {rank - int64_t(s.size()), n};
}

/// The quantised kiln.conv (int32 sums of (x - zeroPoint) * w) of 8-bit
/// `xq` and the int8 OIHW weights `wq`, where the int8 kernel takes it
/// (4 or more input channels per group, a multiple of 4); null otherwise.
Value int8Conv(Importer &im, Value xq, int64_t zeroPoint, DenseElementsAttr wq,
               ArrayRef<int64_t> ws, ArrayRef<int64_t> strides, ArrayRef<int64_t> pads,
               ArrayRef<int64_t> dilations, int64_t group) {
  ArrayRef<int64_t> xs = shapeOf(xq);
  if (!ValueBuilder::elementOf(xq).isInteger(8) || !wq ||
      !wq.getElementType().isSignlessInteger(8) || xs.size() != 4 || ws.size() != 4 ||
      ws[1] % 4 || group < 1 || xs[1] != ws[1] * group || ws[0] % group)
    return Value();
  SmallVector<int64_t> y = {xs[0], ws[0]};
  for (int d = 0; d < 2; ++d) {
    int64_t span = dilations[d] * (ws[2 + d] - 1) + 1;
    int64_t extent = xs[2 + d] + pads[d] + pads[d + 2] - span;
    if (extent < 0 || strides[d] < 1)
      return Value(); // the general path reports it
    y.push_back(extent / strides[d] + 1);
  }
  auto &b = im.b();
  Value weights = im.create<ConstantOp>(
      wq.reshape(RankedTensorType::get(ws, wq.getElementType())));
  return im.create<ConvOp>(RankedTensorType::get(y, b.getI32Type()), xq, weights, Value(),
                           b.getDenseI64ArrayAttr(strides), b.getDenseI64ArrayAttr(pads),
                           b.getDenseI64ArrayAttr(dilations), b.getI64IntegerAttr(group),
                           /*channels_last=*/UnitAttr(), b.getI64IntegerAttr(zeroPoint));
}

/// ConvInteger's and QLinearConv's int32 sums on the int8 kernel: constant
/// int8 weights with zero zero points and a constant scalar x zero point.
/// Null where they are not of that form.
Value integerConvSums(Importer &im, Value x, Value xZero, Value w, Value wZero,
                      const ConvParams &p) {
  DenseElementsAttr zx = xZero ? constantBehind(xZero) : DenseElementsAttr();
  DenseElementsAttr wq = quantizedConstant(w);
  if ((xZero && (!zx || zx.getNumElements() != 1)) || !wq)
    return Value();
  if (!absentOrZero(wZero))
    return Value();
  return int8Conv(im, x, zx ? intsOf(zx)[0] : 0, wq, shapeOf(w), p.strides, p.pads, p.dilations,
                  p.group);
}

/// MatMulInteger's and QLinearMatMul's int32 sums on the int8 kernel: a
/// constant 2-D int8 B with zero zero points, K a multiple of 4, and a
/// constant scalar zero point of A. Null where they are not of that form.
Value integerMatMulSums(Importer &im, Value a, Value aZero, Value b, Value bZero) {
  DenseElementsAttr za = aZero ? constantBehind(aZero) : DenseElementsAttr();
  DenseElementsAttr wq = quantizedConstant(b);
  ArrayRef<int64_t> as = shapeOf(a), bs = shapeOf(b);
  if ((aZero && (!za || za.getNumElements() != 1)) || !wq ||
      !wq.getElementType().isSignlessInteger(8) || !ValueBuilder::elementOf(a).isInteger(8) ||
      as.size() < 2 || bs.size() != 2 || as.back() != bs[0] || bs[0] % 4)
    return Value();
  if (!absentOrZero(bZero))
    return Value();
  auto &bld = im.b();
  Value weights = im.create<ConstantOp>(wq.reshape(RankedTensorType::get(bs, wq.getElementType())));
  SmallVector<int64_t> shape(as.drop_back());
  shape.push_back(bs[1]);
  return im.create<MatMulOp>(RankedTensorType::get(shape, bld.getI32Type()), a, weights,
                             bld.getI64IntegerAttr(za ? intsOf(za)[0] : 0));
}

} // namespace

Value foldDequantized(Importer &im, Value v) {
  PointwiseOp dq = dequantization(v);
  if (!dq)
    return v;
  DenseElementsAttr q = quantizedConstant(dq->getOperand(0)),
                    scale = constantBehind(dq->getOperand(1)),
                    zp = constantBehind(dq->getOperand(2));
  if (!q || !scale || !zp || !isa<IntegerType>(q.getElementType()) ||
      !isa<IntegerType>(zp.getElementType()) || !scale.getElementType().isF32())
    return v;
  ArrayRef<int64_t> shape = shapeOf(v);
  int64_t rank = shape.size();
  auto [axis, n] = paramAxis(dq->getOperand(1), rank);
  int64_t inner = 1;
  for (int64_t d = axis + 1; axis >= 0 && d < rank; ++d)
    inner *= shape[d];
  std::vector<int64_t> qs = intsOf(q), zs = intsOf(zp);
  std::vector<float> ss = floatsOf(scale), out(qs.size());
  if (!perAxisFits(shape, axis, n, zs.size()))
    return v;
  for (size_t e = 0; e < qs.size(); ++e) {
    size_t i = axis < 0 ? 0 : (e / inner) % n;
    // As the ONNX reference: (q - zero point) in float, times the scale.
    out[e] = float(qs[e] - zs[zs.size() == 1 ? 0 : i]) * ss[ss.size() == 1 ? 0 : i];
  }
  auto type = RankedTensorType::get(shape, im.b().getF32Type());
  return im.create<ConstantOp>(DenseElementsAttr::get(type, ArrayRef<float>(out)));
}

Value quantizedMatMul(Importer &im, Value a, Value b, const GemmForm &gemm) {
  PointwiseOp da = dequantization(a), db = dequantization(b);
  if (!da || !db || shapeOf(a).size() < 2 || shapeOf(b).size() != 2)
    return Value();
  Value aq = da->getOperand(0);
  DenseElementsAttr sa = constantBehind(da->getOperand(1)), za = constantBehind(da->getOperand(2));
  DenseElementsAttr wq = quantizedConstant(db->getOperand(0)),
                    sw = constantBehind(db->getOperand(1)), zw = constantBehind(db->getOperand(2));
  if (!sa || !za || !wq || !sw || !zw || !ValueBuilder::elementOf(aq).isInteger(8) ||
      sa.getNumElements() != 1 || za.getNumElements() != 1 || !sa.getElementType().isF32() ||
      !sw.getElementType().isF32() || !wq.getElementType().isSignlessInteger(8))
    return Value();
  if (!absentOrZero(db->getOperand(2)))
    return Value();
  ArrayRef<int64_t> bs = shapeOf(b);
  int64_t k = gemm.transB ? bs[1] : bs[0], n = gemm.transB ? bs[0] : bs[1];
  if (k % 4 || shapeOf(a).back() != k)
    return Value();
  // Scales per output column: along B's axis 1, or axis 0 with transB.
  auto [axis, count] = paramAxis(db->getOperand(1), 2);
  if ((axis >= 0 && axis != (gemm.transB ? 0 : 1)) || (count != 1 && count != n))
    return Value();
  std::vector<int64_t> src = intsOf(wq);
  SmallVector<APInt> kn;
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j)
      kn.push_back(APInt(8, uint64_t(src[gemm.transB ? j * k + i : i * n + j]), true));
  auto &bld = im.b();
  auto wType = RankedTensorType::get({k, n}, wq.getElementType());
  Value weights = im.create<ConstantOp>(DenseElementsAttr::get(wType, kn));
  SmallVector<int64_t> shape(shapeOf(a).drop_back());
  shape.push_back(n);
  Value acc = im.create<MatMulOp>(RankedTensorType::get(shape, bld.getI32Type()), aq, weights,
                                  bld.getI64IntegerAttr(intsOf(za)[0]));
  float inputScale = floatsOf(sa)[0];
  std::vector<float> weightScales = floatsOf(sw), scales(n);
  for (int64_t j = 0; j < n; ++j)
    scales[j] = inputScale * weightScales[count == 1 ? 0 : j] * gemm.alpha;
  ValueBuilder fu(im, bld.getF32Type());
  auto scaleType = RankedTensorType::get({n}, bld.getF32Type());
  Value y = fu.mul(fu.castTo(acc, bld.getF32Type()),
                   im.create<ConstantOp>(DenseElementsAttr::get(scaleType, ArrayRef<float>(scales))));
  if (gemm.c && gemm.beta != 0.0f)
    y = fu.add(y, gemm.beta == 1.0f ? gemm.c : fu.mul(gemm.c, fu.scalar(gemm.beta)));
  return y;
}

Value quantizedConv(Importer &im, Value x, Value w, Value bias, ArrayRef<int64_t> strides,
                    ArrayRef<int64_t> pads, ArrayRef<int64_t> dilations, int64_t group) {
  PointwiseOp dx = dequantization(x), dw = dequantization(w);
  if (!dx || !dw || shapeOf(x).size() != 4 || shapeOf(w).size() != 4)
    return Value();
  // The int8 kernel takes 4 input channels per step; narrower convs (first
  // layers, depthwise) run faster on the float kernels.
  if (shapeOf(w)[1] % 4)
    return Value();
  Value xq = dx->getOperand(0);
  DenseElementsAttr sx = constantBehind(dx->getOperand(1)), zx = constantBehind(dx->getOperand(2));
  DenseElementsAttr wq = quantizedConstant(dw->getOperand(0)),
                    sw = constantBehind(dw->getOperand(1)),
                    zw = constantBehind(dw->getOperand(2));
  Type xt = ValueBuilder::elementOf(xq);
  if (!sx || !zx || !wq || !sw || !zw || !xt.isInteger(8) || sx.getNumElements() != 1 ||
      zx.getNumElements() != 1 || !sx.getElementType().isF32() ||
      !sw.getElementType().isF32() || !wq.getElementType().isSignlessInteger(8))
    return Value();
  // Zero weight zero points only: a nonzero one would need each pixel's
  // input sum.
  if (!absentOrZero(dw->getOperand(2)))
    return Value();
  int64_t channels = shapeOf(w)[0];
  auto [axis, n] = paramAxis(dw->getOperand(1), 4);
  if (axis > 0 || (n != 1 && n != channels))
    return Value();
  float inputScale = floatsOf(sx)[0];
  std::vector<float> weightScales = floatsOf(sw), scales(channels);
  for (int64_t o = 0; o < channels; ++o)
    scales[o] = inputScale * weightScales[n == 1 ? 0 : o];

  auto &b = im.b();
  Value acc = int8Conv(im, xq, intsOf(zx)[0], wq, shapeOf(w), strides, pads, dilations, group);
  if (!acc)
    return Value();
  ValueBuilder fu(im, b.getF32Type());
  auto scaleType = RankedTensorType::get({1, channels, 1, 1}, b.getF32Type());
  Value scaled = fu.mul(fu.castTo(acc, b.getF32Type()),
                        im.create<ConstantOp>(DenseElementsAttr::get(scaleType,
                                                                     ArrayRef<float>(scales))));
  if (bias)
    scaled = fu.add(scaled, fu.reshape(bias, {1, channels, 1, 1}));
  return scaled;
}

void addQuantizedHandlers(llvm::StringMap<Handler> &table) {
  table["ConvInteger"] = importConvInteger;
  table["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
  table["MatMulInteger"] = importMatMulInteger;
  table["QLinearConv"] = importQLinearConv;
  table["QLinearMatMul"] = importQLinearMatMul;
}

} // namespace kiln::import
