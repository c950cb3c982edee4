//===- CudaBackend.cpp - The CUDA backend: PTX and host code --------------===//

#include "codegen/cuda/CudaBackend.h"

using namespace mlir;

namespace kiln {

// The model wrapper is shared with the CPU backend: with target "cuda" it
// puts each kernel into the GPU form, compiles the distinct kernels to one
// PTX module (Ptx.h) and writes host code that launches them; with
// `emulate` it prints the GPU form as C++ kernels for the CPU instead.
LogicalResult emitCuda(func::FuncOp func, const CppEmitOptions &options, CppArtifacts &out) {
  return emitCpp(func, options, out);
}

} // namespace kiln
