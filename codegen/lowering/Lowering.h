//===- Lowering.h - Graph ops -> the kernel form ----------------*- C++ -*-===//
//
// One entry point per op family (one file each under codegen/lowering/);
// lowerToKernel picks the family by the op's category. See
// codegen/kernel/KernelForm.h for the form itself.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LOWERING_LOWERING_H
#define CODEGEN_LOWERING_LOWERING_H

#include "codegen/kernel/KernelForm.h"
#include "codegen/kernel/Target.h"

namespace kiln {

/// Lowers graph op `op` to a kernel function `@name` appended to `kernels`.
/// Returns a null function when the op's family has no lowering yet (the
/// backend then falls back to its own printer for it); fails with a
/// diagnostic on `op` when the op cannot be lowered at all.
mlir::FailureOr<mlir::func::FuncOp> lowerToKernel(mlir::Operation *op,
                                                  const TargetDescription &target,
                                                  mlir::ModuleOp kernels,
                                                  llvm::StringRef name);

/// Attribute on kernel functions: floating-point operations per call.
inline constexpr llvm::StringLiteral kFlopsAttr = "kiln.flops";

// Op families.
mlir::FailureOr<mlir::func::FuncOp> lowerElementwise(mlir::Operation *op,
                                                     const TargetDescription &target,
                                                     KernelBuilder &k);

/// Null for the data-movement ops without a lowering yet.
mlir::FailureOr<mlir::func::FuncOp> lowerDataMovement(mlir::Operation *op,
                                                      const TargetDescription &target,
                                                      KernelBuilder &k);

/// gather, gather_elements, gather_nd, scatter_elements, scatter_nd (the
/// data-movement ops whose indices are data); null for other ops.
mlir::FailureOr<mlir::func::FuncOp> lowerIndexedCopy(mlir::Operation *op, KernelBuilder &k);

/// reduce_*, arg_reduce, cumsum, hardmax (null for other ops).
mlir::FailureOr<mlir::func::FuncOp> lowerReductions(mlir::Operation *op,
                                                    const TargetDescription &target,
                                                    KernelBuilder &k);

/// max_pool, avg_pool (2-D), global_average_pool (null for 3-D pools).
mlir::FailureOr<mlir::func::FuncOp> lowerPooling(mlir::Operation *op,
                                                 const TargetDescription &target,
                                                 KernelBuilder &k);

} // namespace kiln

#endif // CODEGEN_LOWERING_LOWERING_H
