//===- Lowering.cpp - Dispatch graph ops to their family's lowering -------===//

#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

using namespace mlir;

namespace kiln {

FailureOr<func::FuncOp> lowerToKernel(Operation *op, const TargetDescription &target,
                                      ModuleOp kernels, StringRef name) {
  // Batch norm indexes its parameters per channel: not a plain elementwise
  // kernel (it keeps its own printer until the row family moves).
  if (isElementwise(op) && !isa<BatchNormOp>(op)) {
    KernelBuilder k(op, kernels, name);
    auto f = lowerElementwise(op, target, k);
    if (failed(f))
      k.kernel().erase();
    return f;
  }
  return func::FuncOp();
}

} // namespace kiln
