//===- CudaBackend.cpp - The CUDA backend: PTX and host code --------------===//

#include "codegen/cuda/CudaBackend.h"

using namespace mlir;

namespace kiln {

LogicalResult emitCuda(func::FuncOp func, const CppEmitOptions &options, CppArtifacts &out) {
  if (options.emulate)
    return emitCpp(func, options, out);
  return func.emitError("PTX output is not implemented yet (use --emulate)");
}

} // namespace kiln
