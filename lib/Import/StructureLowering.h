//===- StructureLowering.h - Sequences, optionals and control flow -*- C++ -*-===//
//
// Kiln compiles straight-line tensor dataflow. ONNX models may also carry
// sequences and optionals, and If/Loop/Scan/SequenceMap subgraphs. With every
// shape fixed at compile time their structure is known too: a sequence's
// length and element shapes, whether an optional holds a value, how often a
// loop runs. This pass rewrites the ONNX graph accordingly, before shape
// inference: sequences become lists of tensors, optionals are present or
// absent, If picks its branch (or selects between both results with Where
// when the condition is only known at run time), Loop, Scan and SequenceMap
// are unrolled. Graph inputs and outputs that are sequences or optionals
// become one tensor per element, named `name[i]`; the signature records how.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_STRUCTURELOWERING_H
#define LIB_IMPORT_STRUCTURELOWERING_H

#include "lib/Import/ConstantEvaluator.h"
#include "onnx/onnx_pb.h"
#include "llvm/Support/Error.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace kiln {

/// The concrete form of a graph input or output. Text form (`--input-shape`):
/// a tensor is `2x3x4` (`scalar` for rank 0), a sequence `seq(2x3,4)`
/// (`seq()` when empty), an optional `opt(...)` or `none`.
struct ValueShape {
  enum class Kind { Tensor, Sequence, Optional };
  Kind kind = Kind::Tensor;
  std::vector<int64_t> dims;
  /// Sequence: its elements. Optional: none or one.
  std::vector<ValueShape> elements;
};

llvm::Expected<ValueShape> parseValueShape(const std::string &text);
std::string formatValueShape(const ValueShape &shape);

/// One graph input or output of the model as the user sees it, and the flat
/// tensors of the compiled model that hold it, in order.
struct SignatureEntry {
  std::string name;
  /// Structure only; tensor dims are those of the compiled tensors.
  ValueShape shape;
  std::vector<std::string> tensors;
};

struct Signature {
  std::vector<SignatureEntry> inputs, outputs;
};

/// Ops this pass removes from the graph, with their limits (for the
/// supported-op check and docs/operators.md).
const std::map<std::string, std::string> &structureOps();
bool isStructureOp(const std::string &opType);

/// Whether lowerStructuredValues has anything to rewrite: structure ops (also
/// inside subgraphs), sequence or optional graph values, or given shapes.
bool needsStructureLowering(const onnx::ModelProto &model,
                            const std::map<std::string, ValueShape> &inputShapes);

/// Rewrites `model` in place into plain tensor dataflow. `inputShapes` gives
/// the form of graph inputs that are sequences or optionals (required) or
/// tensors with dynamic dimensions (to fix them). `specialized` inputs have
/// an initializer but stay in the signature. Nodes of unrolled bodies are
/// folded within `budget`. Errors name the model and node.
llvm::Expected<Signature>
lowerStructuredValues(onnx::ModelProto &model,
                      const std::map<std::string, ValueShape> &inputShapes,
                      const std::set<std::string> &specialized,
                      const std::string &modelPath, const ConstantBudget &budget);

} // namespace kiln

#endif // LIB_IMPORT_STRUCTURELOWERING_H
