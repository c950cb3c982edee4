//===- Lowering.cpp - Dispatch graph ops to their family's lowering -------===//

#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

using namespace mlir;

namespace kiln {

using FamilyLowering = FailureOr<func::FuncOp> (*)(Operation *, const TargetDescription &,
                                                   KernelBuilder &);

/// The lowering of `op`'s family, or null.
static FamilyLowering familyOf(Operation *op) {
  // Batch norm indexes its parameters per channel: not a plain elementwise
  // kernel (it keeps its own printer until the row family moves).
  if (isElementwise(op) && !isa<BatchNormOp>(op))
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
