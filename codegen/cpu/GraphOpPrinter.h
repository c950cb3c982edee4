//===- GraphOpPrinter.h - Graph ops -> C++ (families not yet lowered) -*- C++ -*-===//

#ifndef CODEGEN_CPU_GRAPHOPPRINTER_H
#define CODEGEN_CPU_GRAPHOPPRINTER_H

#include "codegen/cpu/CppText.h"

#include "mlir/IR/Operation.h"

namespace kiln {

/// What a kernel needs besides its tensors.
struct KernelBody {
  Code code;
  bool usesPool = false;
  /// The kernel calls kiln::mk::gemmTile (kiln/runtime/MicroKernel.h).
  bool usesMicroKernel = false;
  /// The kernel returns false (and sets `error`) on bad runtime data.
  bool canFail = false;
  int64_t flops = 0;
  /// Why this contraction runs on plain loops rather than the micro-kernel
  /// or a tiled kernel (empty when it does not); reported as a fallback.
  std::string fallback;
};

/// Prints graph op `op` (a family not yet lowered to the kernel form) into
/// `k`. `vectorWidth`: floats per vector of the target's micro-kernel, 0 for
/// none (contractions then use plain loops).
mlir::LogicalResult printGraphOp(mlir::Operation *op, KernelBody &k, int64_t vectorWidth);

} // namespace kiln

#endif // CODEGEN_CPU_GRAPHOPPRINTER_H
