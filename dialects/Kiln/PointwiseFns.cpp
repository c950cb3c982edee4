//===- PointwiseFns.cpp - The table behind kiln.pointwise -----------------===//

#include "dialects/Kiln/PointwiseFns.h"

#include <algorithm>

namespace kiln {

using O = PointwiseOperands;
using R = PointwiseResult;

static const PointwiseFn kFns[] = {
    {"acos", 1, 0, O::Float, R::SameAsInput, "acos(x)"},
    {"acosh", 1, 0, O::Float, R::SameAsInput, "acosh(x)"},
    {"and", 2, 0, O::Bool, R::Bool, "a && b"},
    {"asin", 1, 0, O::Float, R::SameAsInput, "asin(x)"},
    {"asinh", 1, 0, O::Float, R::SameAsInput, "asinh(x)"},
    {"atan", 1, 0, O::Float, R::SameAsInput, "atan(x)"},
    {"atanh", 1, 0, O::Float, R::SameAsInput, "atanh(x)"},
    {"bitshift_left", 2, 0, O::Integer, R::SameAsInput, "a << b (0 when b >= bit width)"},
    {"bitshift_right", 2, 0, O::Integer, R::SameAsInput, "a >> b (0 when b >= bit width)"},
    {"ceil", 1, 0, O::Float, R::SameAsInput, "ceil(x)"},
    {"celu", 1, 1, O::Float, R::SameAsInput, "max(0,x) + min(0, alpha*(exp(x/alpha)-1)); params [alpha]"},
    {"cos", 1, 0, O::Float, R::SameAsInput, "cos(x)"},
    {"cosh", 1, 0, O::Float, R::SameAsInput, "cosh(x)"},
    {"dequantize_linear", 3, 0, O::Mixed, R::Float, "(x - zero_point) * scale; operands (x: integer, scale: float, zero_point: x's type)"},
    {"elu", 1, 1, O::Float, R::SameAsInput, "x >= 0 ? x : alpha*(exp(x)-1); params [alpha]"},
    {"floor", 1, 0, O::Float, R::SameAsInput, "floor(x)"},
    {"fmod", 2, 0, O::Numeric, R::SameAsInput, "C fmod: the result has the sign of a"},
    {"greater_equal", 2, 0, O::Numeric, R::Bool, "a >= b"},
    {"hard_sigmoid", 1, 2, O::Float, R::SameAsInput, "max(0, min(1, alpha*x + beta)); params [alpha, beta]"},
    {"hard_swish", 1, 0, O::Float, R::SameAsInput, "x * max(0, min(1, x/6 + 1/2))"},
    {"is_inf", 1, 2, O::Float, R::Bool, "x is +inf (if params[0]) or -inf (if params[1]); params [detect_positive, detect_negative]"},
    {"is_nan", 1, 0, O::Float, R::Bool, "x is NaN"},
    {"leaky_relu", 1, 1, O::Float, R::SameAsInput, "x >= 0 ? x : alpha*x; params [alpha]"},
    {"less_equal", 2, 0, O::Numeric, R::Bool, "a <= b"},
    {"mod", 2, 0, O::Integer, R::SameAsInput, "integer modulus with the sign of b (Python semantics)"},
    {"not", 1, 0, O::Bool, R::Bool, "!x"},
    {"or", 2, 0, O::Bool, R::Bool, "a || b"},
    {"prelu", 2, 0, O::Numeric, R::SameAsInput, "a < 0 ? b*a : a"},
    {"quantize_linear", 3, 0, O::Mixed, R::Integer, "saturate(round_half_even(x / scale) + zero_point); operands (x: float, scale: float, zero_point: the result type)"},
    {"round", 1, 0, O::Float, R::SameAsInput, "round half to even"},
    {"scale", 1, 1, O::Float, R::SameAsInput, "x * s; params [s]"},
    {"selu", 1, 2, O::Float, R::SameAsInput, "gamma * (x > 0 ? x : alpha*(exp(x)-1)); params [alpha, gamma]"},
    {"shrink", 1, 2, O::Numeric, R::SameAsInput, "x < -lambd ? x+bias : x > lambd ? x-bias : 0; params [bias, lambd]"},
    {"sign", 1, 0, O::Numeric, R::SameAsInput, "-1, 0 or 1"},
    {"sin", 1, 0, O::Float, R::SameAsInput, "sin(x)"},
    {"sinh", 1, 0, O::Float, R::SameAsInput, "sinh(x)"},
    {"softplus", 1, 0, O::Float, R::SameAsInput, "log(1 + exp(x))"},
    {"softsign", 1, 0, O::Float, R::SameAsInput, "x / (1 + |x|)"},
    {"tan", 1, 0, O::Float, R::SameAsInput, "tan(x)"},
    {"thresholded_relu", 1, 1, O::Float, R::SameAsInput, "x > alpha ? x : 0; params [alpha]"},
    {"xor", 2, 0, O::Bool, R::Bool, "a != b"},
};

llvm::ArrayRef<PointwiseFn> pointwiseFns() { return kFns; }

const PointwiseFn *lookupPointwiseFn(llvm::StringRef name) {
  auto it = std::lower_bound(
      std::begin(kFns), std::end(kFns), name,
      [](const PointwiseFn &f, llvm::StringRef n) { return f.name < n; });
  return it != std::end(kFns) && it->name == name ? it : nullptr;
}

} // namespace kiln
