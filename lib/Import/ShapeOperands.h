//===- ShapeOperands.h - Graph inputs that decide shapes --------*- C++ -*-===//
//
// Kiln compiles static shapes. An operand whose *role* decides an output's
// shape or a kernel's structure (a Reshape shape, Slice bounds, TopK's k, an
// axes list, a loop's trip count) must be known at compile time; every other
// operand is data and stays a run-time input. This is what
// `kiln run --specialize-inputs shapes` compiles in.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_SHAPEOPERANDS_H
#define LIB_IMPORT_SHAPEOPERANDS_H

#include "onnx/onnx_pb.h"

#include <set>
#include <string>

namespace kiln {

/// Operand positions of `opType` that decide shapes or kernel structure;
/// empty for ops whose operands are all data.
const std::set<int> &shapeOperandPositions(const std::string &opType);

/// The graph inputs (not initializers) whose values reach a shape operand of
/// some node, directly or through other nodes (subgraphs included). Shape and
/// Size read only their operand's shape, so the walk stops there.
std::set<std::string> inputsReachingShapeOperands(const onnx::GraphProto &graph);

} // namespace kiln

#endif // LIB_IMPORT_SHAPEOPERANDS_H
