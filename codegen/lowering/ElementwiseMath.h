//===- ElementwiseMath.h - Per-element semantics of elementwise ops -*- C++ -*-===//
//
// The one definition of what each elementwise graph op computes on one
// element, in `arith` and `math`. Every kernel that evaluates elementwise ops
// (plain, broadcast, fused chains, contraction epilogues) builds them here.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LOWERING_ELEMENTWISEMATH_H
#define CODEGEN_LOWERING_ELEMENTWISEMATH_H

#include "mlir/IR/Builders.h"

namespace kiln {

/// Builds elementwise graph op `op` (unary, clip, cast, binary, where,
/// pointwise) on scalars `args`, one per operand in the compute type of that
/// operand's element type (KernelForm.h: computeType). The result is in the
/// compute type of `op`'s result element type. Fails with a diagnostic on
/// `op` for element types the op does not support.
mlir::FailureOr<mlir::Value> buildElementwise(mlir::OpBuilder &b, mlir::Operation *op,
                                              mlir::ValueRange args);

/// `x`, in the compute type of element type `from`, converted to the compute
/// type of element type `to` as C++'s static_cast converts (signedness from
/// the element types).
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc, mlir::Value x,
                          mlir::Type from, mlir::Type to);

} // namespace kiln

#endif // CODEGEN_LOWERING_ELEMENTWISEMATH_H
