//===- MemoryPlan.h - Where every tensor of a compiled model lives -*- C++ -*-===//
//
// Assigns each SSA value of the model function a place: a caller's input or
// output buffer, the weights file, or a static offset in the activation arena.
// Reshapes alias their input. Arena offsets come from liveness: a buffer's
// space is reused once its last reader has run.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_MEMORYPLAN_H
#define CODEGEN_MEMORYPLAN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"

#include <string>
#include <vector>

namespace kiln {

struct Storage {
  enum Kind { Input, Output, Weight, Arena } kind = Arena;
  /// Input/output index, or byte offset into the weights payload or arena.
  int64_t index = 0;
};

struct MemoryPlan {
  /// Ops that launch a kernel, in execution order (not constants/reshapes).
  std::vector<mlir::Operation *> kernels;
  /// Storage of every value (aliases resolved).
  llvm::DenseMap<mlir::Value, Storage> storage;
  /// Graph outputs that need a copy after the kernels (they alias an input,
  /// a weight or another output): (output index, value).
  std::vector<std::pair<unsigned, mlir::Value>> outputCopies;
  /// Weights payload (constants at 64-byte aligned offsets).
  std::vector<char> weights;
  int64_t arenaBytes = 0;
  /// Largest total size of arena buffers live at one time (a lower bound for
  /// any plan without in-place reuse).
  int64_t liveBytesBound = 0;
};

/// Byte size of a statically shaped tensor value.
int64_t byteSize(mlir::Value value);

/// Appends `dense` row-major (booleans as one byte each) to `weights` at the
/// next 64-byte aligned offset, which is returned in `offset`.
mlir::LogicalResult appendDenseBytes(mlir::DenseElementsAttr dense,
                                     std::vector<char> &weights,
                                     int64_t &offset);

/// Plans `func` (a kiln model function). Fails with a diagnostic at the
/// offending op for values the plan cannot place.
/// `vectorWidth` (floats per vector, 0 for none) packs the weights of
/// micro-kernel contractions into their tile layout (see MicroKernelPlan.h).
mlir::LogicalResult planMemory(mlir::func::FuncOp func, MemoryPlan &plan,
                               bool reuse = true, int64_t vectorWidth = 0);

} // namespace kiln

#endif // CODEGEN_MEMORYPLAN_H
