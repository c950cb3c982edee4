//===- ElementwiseMath.cpp - Per-element semantics of elementwise ops -----===//
//
// Where the ONNX reference computes in double (parameters such as the alpha
// of LeakyRelu are doubles), so do we, and round once to the result type.
// Integer division and shifts never execute undefined behaviour: a zero
// divisor yields 0, as does a shift by at least the bit width.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/ElementwiseMath.h"
#include "codegen/kernel/KernelForm.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;

namespace kiln {
namespace {

Type eltOf(Value v) { return getElementTypeOrSelf(v.getType()); }

/// Scalar arithmetic that picks the float, signed or unsigned op.
struct Scalar {
  OpBuilder &b;
  Location loc;

  Value c(Type t, double v) {
    if (auto f = dyn_cast<FloatType>(t))
      return b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, v));
    return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, int64_t(v)));
  }
  Value f64(double v) { return c(b.getF64Type(), v); }
  bool fp(Value v) { return isa<FloatType>(v.getType()); }

  Value cmp(arith::CmpFPredicate f, arith::CmpIPredicate s, arith::CmpIPredicate u, Value x,
            Value y, bool isUnsigned) {
    if (fp(x))
      return b.create<arith::CmpFOp>(loc, f, x, y);
    return b.create<arith::CmpIOp>(loc, isUnsigned ? u : s, x, y);
  }
  using F = arith::CmpFPredicate;
  using I = arith::CmpIPredicate;
  Value lt(Value x, Value y, bool u = false) { return cmp(F::OLT, I::slt, I::ult, x, y, u); }
  Value gt(Value x, Value y, bool u = false) { return cmp(F::OGT, I::sgt, I::ugt, x, y, u); }
  Value le(Value x, Value y, bool u = false) { return cmp(F::OLE, I::sle, I::ule, x, y, u); }
  Value ge(Value x, Value y, bool u = false) { return cmp(F::OGE, I::sge, I::uge, x, y, u); }
  Value eq(Value x, Value y) { return cmp(F::OEQ, I::eq, I::eq, x, y, false); }
  Value ne(Value x, Value y) { return cmp(F::UNE, I::ne, I::ne, x, y, false); }
  Value sel(Value cond, Value x, Value y) { return b.create<arith::SelectOp>(loc, cond, x, y); }

  Value add(Value x, Value y) {
    return fp(x) ? b.create<arith::AddFOp>(loc, x, y).getResult()
                 : b.create<arith::AddIOp>(loc, x, y).getResult();
  }
  Value sub(Value x, Value y) {
    return fp(x) ? b.create<arith::SubFOp>(loc, x, y).getResult()
                 : b.create<arith::SubIOp>(loc, x, y).getResult();
  }
  Value mul(Value x, Value y) {
    return fp(x) ? b.create<arith::MulFOp>(loc, x, y).getResult()
                 : b.create<arith::MulIOp>(loc, x, y).getResult();
  }
  Value divf(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }

  /// `x` (compute type of `from`) converted to the compute type of `to`,
  /// as C++'s static_cast does.
  Value convert(Value x, Type from, Type to) {
    Type dst = computeType(to);
    Type src = x.getType();
    if (src == dst)
      return x;
    bool fromUnsigned = from.isUnsignedInteger() || from.isInteger(1);
    if (isa<FloatType>(src) && isa<FloatType>(dst))
      return src.getIntOrFloatBitWidth() < dst.getIntOrFloatBitWidth()
                 ? b.create<arith::ExtFOp>(loc, dst, x).getResult()
                 : b.create<arith::TruncFOp>(loc, dst, x).getResult();
    if (isa<FloatType>(dst))
      return fromUnsigned ? b.create<arith::UIToFPOp>(loc, dst, x).getResult()
                          : b.create<arith::SIToFPOp>(loc, dst, x).getResult();
    if (isa<FloatType>(src))
      return to.isUnsignedInteger() ? b.create<arith::FPToUIOp>(loc, dst, x).getResult()
                                    : b.create<arith::FPToSIOp>(loc, dst, x).getResult();
    unsigned sw = src.getIntOrFloatBitWidth(), dw = dst.getIntOrFloatBitWidth();
    if (sw > dw)
      return b.create<arith::TruncIOp>(loc, dst, x);
    return fromUnsigned ? b.create<arith::ExtUIOp>(loc, dst, x).getResult()
                        : b.create<arith::ExtSIOp>(loc, dst, x).getResult();
  }
  Value toF64(Value x, Type from) { return convert(x, from, b.getF64Type()); }
  Value fromF64(Value x, Type to) { return convert(x, b.getF64Type(), to); }
};

/// Clamp to a clip's bounds: infinite bounds are no-ops and integer bounds
/// round inward; NaN passes through (as std::max/std::min leave it).
Value buildClip(Scalar &s, ClipOp o, Value x, Type elt) {
  double lo = o.getMin().convertToDouble(), hi = o.getMax().convertToDouble();
  bool fp = isa<FloatType>(elt), u = elt.isUnsignedInteger();
  if (!fp) {
    double typeLo = u ? 0.0 : -std::ldexp(1.0, elt.getIntOrFloatBitWidth() - 1);
    double typeHi = u ? std::ldexp(1.0, elt.getIntOrFloatBitWidth()) - 1
                      : std::ldexp(1.0, elt.getIntOrFloatBitWidth() - 1) - 1;
    lo = std::isinf(lo) || std::ceil(lo) <= typeLo ? NAN : std::ceil(lo);
    hi = std::isinf(hi) || std::floor(hi) >= typeHi ? NAN : std::floor(hi);
  }
  Type t = x.getType();
  if (!std::isnan(lo) && !(std::isinf(lo) && lo < 0)) {
    Value bound = s.c(t, lo);
    x = s.sel(s.lt(x, bound, u), bound, x);
  }
  if (!std::isnan(hi) && !(std::isinf(hi) && hi > 0)) {
    Value bound = s.c(t, hi);
    x = s.sel(s.lt(bound, x, u), bound, x);
  }
  return x;
}

FailureOr<Value> buildUnary(Scalar &s, Operation *op, Value x) {
  Type elt = eltOf(op->getOperand(0));
  bool u = elt.isUnsignedInteger(), fp = isa<FloatType>(elt);
  OpBuilder &b = s.b;
  Location loc = s.loc;
  Type t = x.getType();
  if (!fp && !isa<ReluOp, NegOp, AbsOp>(op))
    return op->emitOpError("is only supported on floating-point tensors");
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case<ReluOp>([&](auto) { return u ? x : s.sel(s.lt(x, s.c(t, 0)), s.c(t, 0), x); })
      .Case<ErfOp>([&](auto) { return Value(b.create<math::ErfOp>(loc, x)); })
      .Case<SqrtOp>([&](auto) { return Value(b.create<math::SqrtOp>(loc, x)); })
      .Case<ExpOp>([&](auto) { return Value(b.create<math::ExpOp>(loc, x)); })
      .Case<LogOp>([&](auto) { return Value(b.create<math::LogOp>(loc, x)); })
      .Case<TanhOp>([&](auto) { return Value(b.create<math::TanhOp>(loc, x)); })
      .Case<SigmoidOp>([&](auto) {
        Value e = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
        return s.divf(s.c(t, 1), s.add(s.c(t, 1), e));
      })
      .Case<NegOp>([&](auto) {
        return fp ? Value(b.create<arith::NegFOp>(loc, x)) : s.sub(s.c(t, 0), x);
      })
      .Case<AbsOp>([&](auto) {
        if (u)
          return x;
        if (fp)
          return Value(b.create<math::AbsFOp>(loc, x));
        return s.sel(s.lt(x, s.c(t, 0)), s.sub(s.c(t, 0), x), x);
      })
      .Case<ReciprocalOp>([&](auto) { return s.divf(s.c(t, 1), x); })
      .Default([&](Operation *) -> FailureOr<Value> {
        return op->emitOpError("has no elementwise lowering");
      });
}

FailureOr<Value> buildBinary(Scalar &s, Operation *op, Value x, Value y) {
  Type elt = eltOf(op->getOperand(0));
  bool u = elt.isUnsignedInteger(), fp = isa<FloatType>(x.getType());
  OpBuilder &b = s.b;
  Location loc = s.loc;
  Type t = x.getType();
  return llvm::TypeSwitch<Operation *, FailureOr<Value>>(op)
      .Case<AddOp>([&](auto) { return s.add(x, y); })
      .Case<SubOp>([&](auto) { return s.sub(x, y); })
      .Case<MulOp>([&](auto) { return s.mul(x, y); })
      .Case<DivOp>([&](auto) -> Value {
        if (fp)
          return s.divf(x, y);
        Value zero = s.eq(y, s.c(t, 0));
        Value safe = s.sel(zero, s.c(t, 1), y);
        Value q = u ? b.create<arith::DivUIOp>(loc, x, safe).getResult()
                    : b.create<arith::DivSIOp>(loc, x, safe).getResult();
        return s.sel(zero, s.c(t, 0), q);
      })
      .Case<PowOp>([&](auto) {
        Value p = b.create<math::PowFOp>(loc, s.toF64(x, elt),
                                         s.toF64(y, eltOf(op->getOperand(1))));
        return s.fromF64(p, eltOf(op->getResult(0)));
      })
      .Case<MaxOp>([&](auto) -> Value {
        if (fp)
          return b.create<arith::MaximumFOp>(loc, x, y);
        return u ? b.create<arith::MaxUIOp>(loc, x, y).getResult()
                 : b.create<arith::MaxSIOp>(loc, x, y).getResult();
      })
      .Case<MinOp>([&](auto) -> Value {
        if (fp)
          return b.create<arith::MinimumFOp>(loc, x, y);
        return u ? b.create<arith::MinUIOp>(loc, x, y).getResult()
                 : b.create<arith::MinSIOp>(loc, x, y).getResult();
      })
      .Case<EqualOp>([&](auto) { return s.eq(x, y); })
      .Case<LessOp>([&](auto) { return s.lt(x, y, u); })
      .Case<GreaterOp>([&](auto) { return s.gt(x, y, u); })
      .Default([&](Operation *) -> FailureOr<Value> {
        return op->emitOpError("has no elementwise lowering");
      });
}

FailureOr<Value> buildPointwise(Scalar &s, PointwiseOp o, ValueRange a) {
  OpBuilder &b = s.b;
  Location loc = s.loc;
  StringRef fn = o.getFn();
  Type elt = eltOf(o.getInputs()[0]), res = eltOf(o.getOutput());
  bool u = elt.isUnsignedInteger();
  SmallVector<double> p;
  for (Attribute attr : o.getParams())
    p.push_back(cast<FloatAttr>(attr).getValueAsDouble());
  Value x = a.empty() ? Value() : a[0], y = a.size() > 1 ? a[1] : Value();
  Type t = x.getType();
  auto f64 = [&](Value v) { return s.toF64(v, elt); };
  auto back = [&](Value v) { return s.fromF64(v, res); };
  auto math1 = [&](auto tag) -> Value { return b.create<decltype(tag)>(loc, x); };

  if (fn == "acos") return math1(math::AcosOp());
  if (fn == "acosh") return math1(math::AcoshOp());
  if (fn == "asin") return math1(math::AsinOp());
  if (fn == "asinh") return math1(math::AsinhOp());
  if (fn == "atan") return math1(math::AtanOp());
  if (fn == "atanh") return math1(math::AtanhOp());
  if (fn == "ceil") return math1(math::CeilOp());
  if (fn == "cos") return math1(math::CosOp());
  if (fn == "cosh") return math1(math::CoshOp());
  if (fn == "floor") return math1(math::FloorOp());
  if (fn == "round") return math1(math::RoundEvenOp());
  if (fn == "sin") return math1(math::SinOp());
  if (fn == "sinh") return math1(math::SinhOp());
  if (fn == "tan") return math1(math::TanOp());
  if (fn == "and") return Value(b.create<arith::AndIOp>(loc, x, y));
  if (fn == "or") return Value(b.create<arith::OrIOp>(loc, x, y));
  if (fn == "xor") return Value(b.create<arith::XOrIOp>(loc, x, y));
  if (fn == "not") return Value(b.create<arith::XOrIOp>(loc, x, s.c(t, 1)));
  if (fn == "greater_equal") return s.ge(x, y, u);
  if (fn == "less_equal") return s.le(x, y, u);
  if (fn == "is_nan")
    return Value(b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x));
  if (fn == "is_inf") {
    Value r = s.c(b.getI1Type(), 0);
    double inf = std::numeric_limits<double>::infinity();
    if (p[0] != 0)
      r = s.eq(x, s.c(t, inf));
    if (p[1] != 0) {
      Value neg = s.eq(x, s.c(t, -inf));
      r = p[0] != 0 ? Value(b.create<arith::OrIOp>(loc, r, neg)) : neg;
    }
    return r;
  }
  if (fn == "bitshift_left" || fn == "bitshift_right") {
    Value tooFar = s.ge(y, s.c(t, t.getIntOrFloatBitWidth()), /*unsigned=*/true);
    Value amount = s.sel(tooFar, s.c(t, 0), y);
    Value shifted = fn == "bitshift_left"
                        ? b.create<arith::ShLIOp>(loc, x, amount).getResult()
                        : b.create<arith::ShRUIOp>(loc, x, amount).getResult();
    return s.sel(tooFar, s.c(t, 0), shifted);
  }
  if (fn == "fmod" || fn == "mod") {
    if (s.fp(x))
      return Value(b.create<arith::RemFOp>(loc, x, y));
    Value zero = s.eq(y, s.c(t, 0));
    Value safe = s.sel(zero, s.c(t, 1), y);
    Value r = u ? b.create<arith::RemUIOp>(loc, x, safe).getResult()
                : b.create<arith::RemSIOp>(loc, x, safe).getResult();
    if (fn == "mod" && !u) {
      // Python's modulus takes the sign of the divisor.
      Value differ = b.create<arith::XOrIOp>(loc, s.lt(r, s.c(t, 0)), s.lt(y, s.c(t, 0)));
      Value fix = b.create<arith::AndIOp>(loc, s.ne(r, s.c(t, 0)), differ);
      r = s.sel(fix, s.add(r, y), r);
    }
    return s.sel(zero, s.c(t, 0), r);
  }
  if (fn == "prelu") return s.sel(s.lt(x, s.c(t, 0), u), s.mul(y, x), x);
  if (fn == "quantize_linear") {
    // Divide in the input's precision, as the ONNX reference does: a
    // float32 quotient can round to .5 where the exact one does not. A
    // float32 quotient is rounded, shifted and clamped in float32 (vector
    // lanes twice as wide): exact, since an integer-valued float32 of
    // magnitude 2^24 or more saturates whatever the zero point adds.
    Value quotient = s.divf(x, y);
    Type ft = quotient.getType().isF32() ? quotient.getType() : b.getF64Type();
    Value q = b.create<math::RoundEvenOp>(loc, ft.isF32() ? quotient : f64(quotient));
    Type zt = eltOf(o.getInputs()[2]);
    Value sum = s.add(q, s.convert(a[2], zt, ft));
    unsigned w = res.getIntOrFloatBitWidth();
    bool ru = res.isUnsignedInteger();
    double lo = ru ? 0 : -std::ldexp(1.0, w - 1);
    double hi = ru ? std::ldexp(1.0, w) - 1 : std::ldexp(1.0, w - 1) - 1;
    sum = s.sel(s.lt(sum, s.c(ft, lo)), s.c(ft, lo), sum);
    sum = s.sel(s.lt(s.c(ft, hi), sum), s.c(ft, hi), sum);
    return s.convert(sum, ft, res);
  }
  if (fn == "dequantize_linear") {
    Type i32 = b.getI32Type();
    Value xi = s.convert(x, elt, i32);
    Value zi = s.convert(a[2], eltOf(o.getInputs()[2]), i32);
    Value f = b.create<arith::SIToFPOp>(loc, b.getF32Type(), s.sub(xi, zi));
    if (!y.getType().isF32())
      f = b.create<arith::ExtFOp>(loc, y.getType(), f);
    return s.convert(s.mul(f, y), y.getType(), res);
  }
  if (fn == "sign")
    return s.sel(s.gt(x, s.c(t, 0), u), s.c(t, 1),
                 s.sel(s.lt(x, s.c(t, 0), u), s.c(t, -1), s.c(t, 0)));
  if (fn == "softplus")
    return Value(b.create<math::Log1pOp>(loc, b.create<math::ExpOp>(loc, x)));
  if (fn == "softsign")
    return s.divf(x, s.add(s.c(t, 1), b.create<math::AbsFOp>(loc, x)));
  if (fn == "scale") return back(s.mul(f64(x), s.f64(p[0])));
  if (fn == "elu") {
    Value neg = back(s.mul(s.f64(p[0]), f64(b.create<math::ExpM1Op>(loc, x))));
    return s.sel(s.ge(x, s.c(t, 0)), x, neg);
  }
  if (fn == "celu") {
    Value xd = f64(x), zero = s.f64(0);
    Value pos = s.sel(s.lt(zero, xd), xd, zero);
    Value e = s.mul(s.f64(p[0]), b.create<math::ExpM1Op>(loc, s.divf(xd, s.f64(p[0]))));
    Value neg = s.sel(s.lt(e, zero), e, zero);
    return back(s.add(pos, neg));
  }
  if (fn == "selu") {
    Value neg = s.mul(s.f64(p[0]), f64(b.create<math::ExpM1Op>(loc, x)));
    Value v = s.sel(s.gt(x, s.c(t, 0)), f64(x), neg);
    return back(s.mul(s.f64(p[1]), v));
  }
  if (fn == "leaky_relu")
    return s.sel(s.ge(x, s.c(t, 0)), x, back(s.mul(s.f64(p[0]), f64(x))));
  if (fn == "thresholded_relu")
    return s.sel(s.gt(f64(x), s.f64(p[0])), x, s.c(t, 0));
  if (fn == "hard_sigmoid" || fn == "hard_swish") {
    // In the compute type (float for float tensors), so that it vectorises.
    double alpha = 1.0 / 6.0, beta = 0.5;
    if (fn == "hard_sigmoid") {
      alpha = p[0];
      beta = p[1];
    }
    Value v = s.add(s.mul(s.c(t, alpha), x), s.c(t, beta));
    Value one = s.c(t, 1), zero = s.c(t, 0);
    Value m = s.sel(s.lt(v, one), v, one);
    Value gate = s.sel(s.lt(zero, m), m, zero);
    return fn == "hard_swish" ? s.mul(x, gate) : gate;
  }
  if (fn == "shrink") {
    Value xd = f64(x);
    Value below = s.lt(xd, s.f64(-p[1])), above = s.gt(xd, s.f64(p[1]));
    Value v = s.sel(above, back(s.sub(xd, s.f64(p[0]))), s.c(t, 0));
    return s.sel(below, back(s.add(xd, s.f64(p[0]))), v);
  }
  return o.emitOpError("pointwise function '") << fn << "' has no lowering";
}

} // namespace

Value convertScalar(OpBuilder &b, Location loc, Value x, Type from, Type to) {
  Scalar s{b, loc};
  return s.convert(x, from, to);
}

FailureOr<Value> buildElementwise(OpBuilder &b, Operation *op, ValueRange args) {
  Scalar s{b, op->getLoc()};
  if (auto clip = dyn_cast<ClipOp>(op))
    return buildClip(s, clip, args[0], eltOf(op->getOperand(0)));
  if (isa<CastOp>(op)) {
    Type to = eltOf(op->getResult(0));
    if (to.isInteger(1))
      return s.ne(args[0], s.c(args[0].getType(), 0));
    return s.convert(args[0], eltOf(op->getOperand(0)), to);
  }
  if (isa<WhereOp>(op))
    return s.sel(args[0], args[1], args[2]);
  if (auto pw = dyn_cast<PointwiseOp>(op))
    return buildPointwise(s, pw, args);
  if (op->getNumOperands() == 2)
    return buildBinary(s, op, args[0], args[1]);
  if (op->getNumOperands() == 1)
    return buildUnary(s, op, args[0]);
  return op->emitOpError("has no elementwise lowering");
}

} // namespace kiln
