//===- KernelPrinter.h - The kernel form -> one C++ function ----*- C++ -*-===//
//
// The CPU backend's only view of a kernel: it prints the kernel form's
// `scf`/`arith`/`math`/`memref` ops as C++ statements, and knows nothing of
// the graph op the kernel came from. Single-use pure values print inline as
// expressions, so the output reads like hand-written loops.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CPU_KERNELPRINTER_H
#define CODEGEN_CPU_KERNELPRINTER_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace kiln {

struct PrintedKernel {
  /// Parameter list: the thread pool when the kernel has parallel loops,
  /// then `const T *__restrict in<i>` and `T *__restrict out<i>`.
  std::string params;
  /// The statements of the function body (not indented).
  std::string body;
  bool usesPool = false;
  /// The kernel calls the micro-kernel (kiln.gemm_tile): the source needs
  /// kiln/runtime/MicroKernel.h.
  bool usesMicroKernel = false;
  /// The kernel emulates kiln.mma_block: it needs kiln/runtime/Rounding.h.
  bool usesRounding = false;
  /// The kernel has kiln.check ops: it takes `std::string &error` last and
  /// returns false (with `error` set) when a check fails, true otherwise.
  bool canFail = false;
};

/// Prints kernel function `kernel` (KernelForm.h). Ops outside the kernel
/// form fail with a diagnostic.
mlir::LogicalResult printKernel(mlir::func::FuncOp kernel, PrintedKernel &out);

} // namespace kiln

#endif // CODEGEN_CPU_KERNELPRINTER_H
