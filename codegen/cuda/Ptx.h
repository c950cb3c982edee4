//===- Ptx.h - The GPU form -> PTX through MLIR's gpu/NVVM path -*- C++ -*-===//
//
// Maps each launch of the GPU form (GpuForm.h) to `gpu.launch` (blocks on
// x, threads on x), outlines the launches into one `gpu.module`, lowers it
// to the NVVM dialect with bare-pointer kernel parameters and has LLVM's
// NVPTX backend print PTX, all inside the compiler: no CUDA toolkit, no
// libdevice (GpuForm expanded the maths functions).
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CUDA_PTX_H
#define CODEGEN_CUDA_PTX_H

#include "mlir/IR/BuiltinOps.h"

#include <map>
#include <string>
#include <vector>

namespace kiln {

/// One kernel launch: the PTX entry point, its grid and block (x only),
/// and which parameters of the kernel function it takes, in order.
struct GpuLaunch {
  std::string entry;
  int64_t blocks = 1, threads = 1;
  std::vector<unsigned> params;
};

struct PtxModule {
  std::string ptx;
  /// The launches of each kernel function of the input, in order.
  std::map<std::string, std::vector<GpuLaunch>> launches;
};

/// What `ptxas -v` says one entry point uses.
struct KernelResources {
  int64_t registers = 0, sharedBytes = 0;
};

/// The CUDA toolkit's ptxas (on PATH, or /usr/local/cuda/bin), or "".
std::string findPtxas();

/// Assembles `ptx` for `chip` with `ptxas` (findPtxas()) and returns each
/// entry point's registers and static shared memory; fails with ptxas's
/// message when it rejects the PTX.
mlir::FailureOr<std::map<std::string, KernelResources>>
ptxasResources(const std::string &ptxas, const std::string &ptx, llvm::StringRef chip,
               std::string &error);

/// Compiles the kernel functions of `kernels` (each in the GPU form) to one
/// PTX module for `chip` (sm_80...). `kernels` is left unchanged.
mlir::FailureOr<PtxModule> compileToPtx(mlir::ModuleOp kernels, llvm::StringRef chip);

} // namespace kiln

#endif // CODEGEN_CUDA_PTX_H
