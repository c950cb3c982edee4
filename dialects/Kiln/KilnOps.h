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

/// The numpy broadcast of `shapes`, or nothing if they are incompatible.
std::optional<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);

} // namespace kiln

#define GET_OP_CLASSES
#include "dialects/Kiln/KilnOps.h.inc"

#endif // DIALECTS_KILN_KILNOPS_H
