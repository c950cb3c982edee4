//===- IndexMaps.h - Strides and loop spaces shared by lowerings -*- C++ -*-===//
//
// Every tensor is a flat row-major buffer in the kernel form; an access is a
// set of per-dimension strides over the loop variables. These helpers build
// the strides and merge loops that every access walks contiguously.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LOWERING_INDEXMAPS_H
#define CODEGEN_LOWERING_INDEXMAPS_H

#include "mlir/IR/ValueRange.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace kiln {

llvm::SmallVector<int64_t> contiguousStrides(llvm::ArrayRef<int64_t> shape);

/// Strides of each logical dimension of a tensor stored with `shape` and
/// read through the permutation `perm` (logical dim i is stored dim
/// perm[i]); the contiguous strides without one.
llvm::SmallVector<int64_t> permutedStrides(llvm::ArrayRef<int64_t> shape,
                                           std::optional<llvm::ArrayRef<int64_t>> perm);

/// Strides of `operand` indexed by the dims of its numpy broadcast `out`
/// (0 along broadcast dimensions).
llvm::SmallVector<int64_t> broadcastStrides(llvm::ArrayRef<int64_t> operand,
                                            llvm::ArrayRef<int64_t> out);

/// Loops over `dims` reading or writing accesses with the given strides,
/// with unit dims dropped and adjacent dims merged where every access walks
/// them contiguously, so loops are as few and as long as possible.
struct LoopSpace {
  llvm::SmallVector<int64_t> dims;
  llvm::SmallVector<llvm::SmallVector<int64_t>> strides;
  LoopSpace(llvm::ArrayRef<int64_t> dims,
            llvm::ArrayRef<llvm::SmallVector<int64_t>> accessStrides);
  /// The space of a broadcast: each operand's strides, then the result's.
  static LoopSpace broadcast(mlir::ValueRange operands, mlir::Value result);
};

llvm::ArrayRef<int64_t> shapeOf(mlir::Value v);
mlir::Type eltOf(mlir::Value v);
int64_t numel(mlir::Value v);
int64_t product(llvm::ArrayRef<int64_t> dims);

} // namespace kiln

#endif // CODEGEN_LOWERING_INDEXMAPS_H
