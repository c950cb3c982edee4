//===- KilnOps.h - Operations of the kiln dialect ---------------*- C++ -*-===//
//
// Declares the kiln ops (generated from KilnOps.td) and shape helpers the
// verifiers, passes and code generators share.
//
//===----------------------------------------------------------------------===//

#ifndef DIALECTS_KILN_KILNOPS_H
#define DIALECTS_KILN_KILNOPS_H

#include "dialects/Kiln/KilnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <optional>

namespace kiln {
namespace category {
// The op categories of KilnOps.td (marker traits; see Kiln_Category).
template <typename T>
class Elementwise : public mlir::OpTrait::TraitBase<T, Elementwise> {};
template <typename T>
class Contraction : public mlir::OpTrait::TraitBase<T, Contraction> {};
template <typename T>
class RowReduction : public mlir::OpTrait::TraitBase<T, RowReduction> {};
template <typename T>
class Reduction : public mlir::OpTrait::TraitBase<T, Reduction> {};
template <typename T>
class Pooling : public mlir::OpTrait::TraitBase<T, Pooling> {};
template <typename T>
class DataMovement : public mlir::OpTrait::TraitBase<T, DataMovement> {};
} // namespace category

inline bool isElementwise(mlir::Operation *op) {
  return op->hasTrait<category::Elementwise>();
}
inline bool isContraction(mlir::Operation *op) {
  return op->hasTrait<category::Contraction>();
}
inline bool isRowReduction(mlir::Operation *op) {
  return op->hasTrait<category::RowReduction>();
}
inline bool isReduction(mlir::Operation *op) {
  return op->hasTrait<category::Reduction>();
}
inline bool isPooling(mlir::Operation *op) {
  return op->hasTrait<category::Pooling>();
}
inline bool isDataMovement(mlir::Operation *op) {
  return op->hasTrait<category::DataMovement>();
}

/// The numpy broadcast of `shapes`, or nothing if they are incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);

} // namespace kiln

#define GET_OP_CLASSES
#include "dialects/Kiln/KilnOps.h.inc"

#endif // DIALECTS_KILN_KILNOPS_H
