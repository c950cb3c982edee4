//===- ShapeFolding.h - Fold compile-time-known subgraphs --------*- C++ -*-===//
//
// Exporters often compute shapes at run time (Shape -> Gather -> Concat ->
// Reshape, Cast -> Range, ...). With static shapes these values are known at
// compile time; ONNX shape inference does not always see through them. This
// folds such nodes into Constant nodes, alternating with shape inference until
// nothing changes, so every value gets a static shape.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_SHAPEFOLDING_H
#define LIB_IMPORT_SHAPEFOLDING_H

#include "onnx/onnx_pb.h"

#include <optional>
#include <vector>

namespace kiln {

/// Largest tensor the folder creates; bigger results stay run-time work.
constexpr int64_t kMaxFoldedElements = 1 << 16;

/// Folds constant subgraphs of `model` in place. Returns how many nodes were
/// folded. Shape-inference errors are left for the strict pass that follows.
int foldShapeSubgraphs(onnx::ModelProto &model);

/// A Constant node named `nodeName` whose output is `value`, named as
/// `value.name()`.
onnx::NodeProto constantNode(const std::string &nodeName, onnx::TensorProto value);

/// Evaluates one node whose inputs are all constants, for the small integer
/// and floating-point values control flow and shapes are made of; nullopt
/// when the node is not foldable.
std::optional<onnx::TensorProto>
foldConstantNode(const onnx::NodeProto &node,
                 const std::vector<const onnx::TensorProto *> &inputs);

} // namespace kiln

#endif // LIB_IMPORT_SHAPEFOLDING_H
