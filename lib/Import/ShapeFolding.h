//===- ShapeFolding.h - Fold compile-time-known subgraphs --------*- C++ -*-===//
//
// Exporters compute shapes, paddings, masks and index tensors at run time
// (Shape -> Gather -> Concat -> Reshape, ConstantOfShape -> Where -> Expand,
// Shape -> Slice -> Resize, ...). With static shapes these values are known at
// compile time. foldConstants evaluates every node whose inputs are constants
// or static shapes (ConstantEvaluator.h) into a Constant node, alternating
// with ONNX shape inference until nothing changes, so every value gets a
// static shape and every shape-like operand a constant.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_SHAPEFOLDING_H
#define LIB_IMPORT_SHAPEFOLDING_H

#include "lib/Import/ConstantEvaluator.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// What constant folding did to a model.
struct FoldReport {
  int folded = 0;
  /// Values left to run time because folding them would exceed the budget,
  /// with the reason (naming the node), for errors that need them constant.
  std::map<std::string, std::string> overBudget;
};

/// Folds the compile-time-known nodes of `model` in place, to a fixpoint,
/// within `budget`. Shape-inference errors are left for the strict pass that
/// follows.
FoldReport foldConstants(onnx::ModelProto &model, const ConstantBudget &budget);

/// A Constant node named `nodeName` whose output is `value`, named as
/// `value.name()`.
onnx::NodeProto constantNode(const std::string &nodeName, onnx::TensorProto value);

/// Evaluates a one-output node whose inputs are all constants; nullopt when
/// the node is not foldable or its result would take more than `maxBytes`.
std::optional<onnx::TensorProto>
foldConstantNode(const onnx::NodeProto &node,
                 const std::vector<const onnx::TensorProto *> &inputs, int64_t maxBytes);

} // namespace kiln

#endif // LIB_IMPORT_SHAPEFOLDING_H
