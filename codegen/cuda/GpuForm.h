//===- GpuForm.h - The kernel form tiled for GPU blocks and threads -*- C++ -*-===//
//
// The CUDA backend's first step, shared by PTX generation and by emulation
// on the CPU (`kiln run --target cuda --emulate`). A kernel function of the
// kernel form becomes a sequence of launches, each one self-contained
// two-level loop nest:
//
//   scf.parallel (%block) = (0) to (blocks) step (1) {   // gridDim.x
//     scf.parallel (%thread) = (0) to (T) step (1) {     // blockDim.x
//       %i = %block * T + %thread
//       scf.if (%i < n) { ...the body of one iteration... }
//     }
//   }
//
// Every top-level `scf.parallel` of the kernel becomes one launch with one
// GPU thread per iteration; work outside parallel loops becomes a launch of
// one thread (a "serial launch", reported as slow). Maths functions are
// expanded into polynomial arithmetic here, so that the emulated kernels
// compute exactly what the GPU does. Parallel loops nested in a thread run
// as sequential loops. Launches share no state but their memrefs: no
// barriers or shared memory appear in this form, so any order of blocks and
// threads (the CPU emulation's included) gives the same result.
//
// The exception is a cooperative loop (kCooperativeAttr, KernelForm.h): it
// becomes a launch of one block per iteration with its body kept whole, its
// steps to be shared by the block's threads (TensorCore.h maps them when
// generating PTX; emulation runs them in order).
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CUDA_GPUFORM_H
#define CODEGEN_CUDA_GPUFORM_H

#include "codegen/kernel/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace kiln {

/// Threads per block of the launches of parallel loops.
inline constexpr int64_t kGpuThreadsPerBlock = 256;

/// The description of the CUDA backend for `--gpu` (sm_80, sm_86, sm_89,
/// sm_90) and `--precision` (fp32, tf32, fp16, bf16): no CPU micro-kernel,
/// parallel loops wherever a lowering has them.
TargetDescription cudaTarget(const std::string &gpu, const std::string &precision = "fp32");

/// The `--gpu` names the CUDA backend accepts.
const std::vector<std::string> &knownGpuTargets();

struct GpuFormInfo {
  /// Launches the kernel became, and how many of them run one thread.
  int64_t launches = 0;
  int64_t serialLaunches = 0;
};

/// Rewrites every parallel loop nested in `root` (not `root` itself) into
/// sequential loops: what one GPU thread runs.
void serializeNestedParallels(mlir::Operation *root);

/// Rewrites `kernel` (the kernel form) into the GPU form above, in place.
/// Fails with a diagnostic when the kernel cannot be split into launches
/// (a local array or value shared between launches).
mlir::LogicalResult toGpuForm(mlir::func::FuncOp kernel, int64_t threadsPerBlock,
                              GpuFormInfo &info);

} // namespace kiln

#endif // CODEGEN_CUDA_GPUFORM_H
