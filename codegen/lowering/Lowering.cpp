//===- Lowering.cpp - Dispatch graph ops to their family's lowering -------===//

#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

using namespace mlir;

namespace kiln {

using FamilyLowering = FailureOr<func::FuncOp> (*)(Operation *, const TargetDescription &,
                                                   KernelBuilder &);

/// The lowering of `op`'s family, or null.
static FamilyLowering familyOf(Operation *op) {
  // Batch norm indexes its parameters per channel: a row-family kernel.
  if ((isRowReduction(op) && !isa<CumSumOp, HardmaxOp>(op)) || isa<BatchNormOp>(op))
    return lowerRows;
  if (isElementwise(op))
    return lowerElementwise;
  if (isDataMovement(op))
    return lowerDataMovement;
  if (isReduction(op) || isa<CumSumOp, HardmaxOp>(op))
    return lowerReductions;
  if (isPooling(op))
    return lowerPooling;
  return nullptr;
}

FailureOr<func::FuncOp> lowerToKernel(Operation *op, const TargetDescription &target,
                                      ModuleOp kernels, StringRef name) {
  FamilyLowering lower = familyOf(op);
  if (!lower)
    return func::FuncOp();
  KernelBuilder k(op, kernels, name);
  auto f = lower(op, target, k);
  // A family may leave some of its ops to the backend printer (null).
  if (failed(f) || !*f)
    k.kernel().erase();
  return f;
}

} // namespace kiln
