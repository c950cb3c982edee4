//===- TensorCore.h - Cooperative launches and kiln.mma_block on the GPU -*- C++ -*-===//
//
// The thread mapping of the GPU form's cooperative launches (kCooperativeAttr
// in KernelForm.h), which GpuForm.cpp leaves whole so that emulation runs
// their steps in order:
//
//   scf.parallel (%tile) ... {kiln.gpu_cooperative = 128}    // blocks
//     %acc = memref.alloca                                    // block scratch
//     kiln.mma_block ... %acc                                 // step 1
//     scf.parallel (%e) = (0) to (4096) { ... %acc[%e] ... }  // step 2
//
// becomes, per thread %tid of the block, the steps one after another with a
// barrier between them: block scratch moves to shared memory, a nested
// parallel loop becomes `for %e = %tid to 4096 step 128`, and kiln.mma_block
// expands into cp.async staging of float32 tiles (three stages), tensor-core
// mma.sync per warp (inputs rounded to tf32, fp16 or bf16 as they are read
// from shared memory) and a store of the accumulators into the scratch.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CUDA_TENSORCORE_H
#define CODEGEN_CUDA_TENSORCORE_H

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace kiln {

/// Maps the cooperative launches of the kernels in `module` (the GPU form)
/// onto their blocks' threads, expanding kiln.mma_block, before
/// convert-parallel-loops-to-gpu.
mlir::LogicalResult mapCooperativeLaunches(mlir::ModuleOp module);

/// After outlining: the block scratch of `kernel` (allocas in workgroup
/// memory) becomes its workgroup attributions.
void moveScratchToWorkgroup(mlir::gpu::GPUFuncOp kernel);

} // namespace kiln

#endif // CODEGEN_CUDA_TENSORCORE_H
