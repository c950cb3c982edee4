//===- CudaBackend.h - The CUDA backend: PTX and host code ------*- C++ -*-===//
//
// Emits a compiled model for NVIDIA GPUs: the kernels in the GPU form
// (GpuForm.h) compiled to PTX by LLVM's NVPTX backend, and C++ host code
// whose model class and C ABI match the CPU backend's; it launches the PTX
// through the runtime's driver loader (kiln/runtime/Cuda.h). With
// `emulate`, the GPU form is printed as C++ for the CPU instead.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CUDA_CUDABACKEND_H
#define CODEGEN_CUDA_CUDABACKEND_H

#include "codegen/cpu/CppBackend.h"

namespace kiln {

mlir::LogicalResult emitCuda(mlir::func::FuncOp func, const CppEmitOptions &options,
                             CppArtifacts &out);

} // namespace kiln

#endif // CODEGEN_CUDA_CUDABACKEND_H
