//===- AttributeChecks.h - Kiln's checks before ONNX shape inference -*- C++ -*-===//
//
// ONNX's shape inference trusts what a model says: several of its inference
// functions divide by a stride or index a shape by an axis without checking,
// and a hostile model crashes them. Kiln checks those attributes and operands
// itself first, with errors that name the model, the node and the reason.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_IMPORT_ATTRIBUTECHECKS_H
#define KILN_LIB_IMPORT_ATTRIBUTECHECKS_H

#include "onnx/onnx_pb.h"
#include "llvm/Support/Error.h"

#include <set>
#include <string>

namespace kiln {

/// True for the default ONNX domain ("" or "ai.onnx").
bool isDefaultDomain(const std::string &domain);

/// "model 'P': node 'N' (Op): " for errors of these checks; an unnamed node
/// is called as the importer calls it (Op_index).
std::string nodeContext(const std::string &path, const onnx::NodeProto &node, int index);

/// Window attributes of convolutions and pooling (ONNX's inference divides
/// by a stride of 0): strides, dilations and kernel sizes positive, pads and
/// output padding not negative, group positive. Subgraphs included.
llvm::Error checkWindowAttributes(const onnx::GraphProto &graph, const std::string &path);

/// Every node input and graph output names a value defined before it (in a
/// subgraph, possibly one of `visible` from enclosing graphs).
llvm::Error checkNodeInputs(const onnx::GraphProto &graph, std::set<std::string> visible,
                            const std::string &path);

/// The checks that need operand shapes: convolution weights against the
/// data, axis and perm attributes against their input's rank, and the size
/// arithmetic of Pad, Tile, Resize and Upsample against constant operands.
/// Walks the graph node by node, running ONNX's inference of a node only
/// after the node has passed, so a node deep in the graph is checked against
/// the shapes inferred up to it; a node whose inference fails is an error.
/// May add `kernel_shape` to convolutions whose weight shape is known, for
/// ONNX to check against the data's rank.
llvm::Error checkAgainstShapes(onnx::ModelProto &model, const std::string &path);

} // namespace kiln

#endif // KILN_LIB_IMPORT_ATTRIBUTECHECKS_H
