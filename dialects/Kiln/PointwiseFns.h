//===- PointwiseFns.h - The table behind kiln.pointwise ---------*- C++ -*-===//
//
// The long tail of ONNX elementwise operators (trigonometry, rounding,
// activations with parameters, logical and bitwise ops) shares one op,
// `kiln.pointwise`, keyed by a function name from this table. The table states
// each function's arity, parameter count and type rules; the verifier enforces
// them and each code generator supplies one expression per function.
//
//===----------------------------------------------------------------------===//

#ifndef DIALECTS_KILN_POINTWISEFNS_H
#define DIALECTS_KILN_POINTWISEFNS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

namespace kiln {

/// Element types a pointwise function accepts.
enum class PointwiseOperands {
  Float,   ///< floating point only
  Numeric, ///< integers or floating point
  Integer, ///< integers only
  Bool,    ///< booleans only
  Mixed,   ///< per-operand types documented with the function
};

/// Element type of the result.
enum class PointwiseResult {
  SameAsInput,
  Bool,
  Integer, ///< an integer type chosen by the importer
  Float,   ///< a floating-point type chosen by the importer
};

struct PointwiseFn {
  llvm::StringLiteral name;
  unsigned arity;
  /// Number of f64 parameters (alpha, beta, ...), in the documented order.
  unsigned numParams;
  PointwiseOperands operands;
  PointwiseResult result;
  llvm::StringLiteral doc;
};

/// Every pointwise function, sorted by name.
llvm::ArrayRef<PointwiseFn> pointwiseFns();
/// The function called `name`, or null.
const PointwiseFn *lookupPointwiseFn(llvm::StringRef name);

} // namespace kiln

#endif // DIALECTS_KILN_POINTWISEFNS_H
