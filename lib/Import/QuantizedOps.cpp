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
  return im.create<MatMulOp>(u.type(shape, ValueBuilder::elementOf(a)), a, b);
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

/// (a - aZero) @ (b - bZero) in int32; a's zero point is per row, b's per
/// column.
Value centeredMatMul(Importer &im, ValueBuilder &u, Value a, Value aZero, Value b,
                     Value bZero, const char *aName, const char *bName) {
  if (shapeOf(a).size() < 2 || shapeOf(b).size() < 2)
    fail("operands of rank 1 are not supported");
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
                           /*channels_last=*/UnitAttr());
}

void importConvInteger(Importer &im) {
  Type i32 = IntegerType::get(&im.context(), 32);
  ValueBuilder u(im, i32);
  Value x = im.input(0), w = im.input(1);
  ConvParams p = convParams(im, x, w);
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
  Value xc = centered(u, x, im.input(2), 1, "x");
  Value wc = centered(u, w, im.input(5), 0, "w");
  Value bias = im.optionalInput(8);
  if (bias && ValueBuilder::elementOf(bias) != i32)
    fail("the bias must be int32");
  Value acc = convInt32(im, u, xc, wc, bias, p);
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

} // namespace

void addQuantizedHandlers(llvm::StringMap<Handler> &table) {
  table["ConvInteger"] = importConvInteger;
  table["DynamicQuantizeLinear"] = importDynamicQuantizeLinear;
  table["MatMulInteger"] = importMatMulInteger;
  table["QLinearConv"] = importQLinearConv;
  table["QLinearMatMul"] = importQLinearMatMul;
}

} // namespace kiln::import
