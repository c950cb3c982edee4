//===- ConstantEvaluator.h - Evaluate ONNX nodes at compile time -*- C++ -*-===//
//
// One evaluator for every ONNX node whose result is known at compile time:
// nodes whose inputs are constants, and nodes that read only static shapes
// (Shape, Size). Constant folding (ShapeFolding.h) and control-flow lowering
// (StructureLowering.h) both use it, so an op folds the same way everywhere.
//
// Values are held as int64 (integers and bool) or double (floating point,
// rounded to float after every float32 op, so a folded chain gives what the
// same ops give at run time). Where ONNX leaves a result undefined (a
// float-to-integer cast out of range, integer overflow, division by zero)
// the node is not folded and stays run-time work.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_CONSTANTEVALUATOR_H
#define LIB_IMPORT_CONSTANTEVALUATOR_H

#include "onnx/onnx_pb.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// The budget for constants Kiln makes at compile time (folded values and
/// ConstantOfShape fills), in bytes of their element type. The model's total
/// is `--max-constant-bytes`; one folded value may take a sixteenth of it (a
/// bigger foldable node stays run-time work instead).
struct ConstantBudget {
  static constexpr int64_t kDefaultModelBytes = int64_t(256) << 20;
  int64_t modelBytes = kDefaultModelBytes;
  int64_t valueBytes() const { return modelBytes / 16; }
  /// "B bytes per value and M per model (--max-constant-bytes)".
  std::string describe() const;
};

/// Bytes a constant of `dtype` holding `elements` takes (INT64_MAX when that
/// overflows; 8 per element for types without a fixed size).
int64_t constantBytes(int32_t dtype, int64_t elements);

/// A tensor known at compile time.
struct EvalTensor {
  int32_t dtype = 0;
  std::vector<int64_t> dims;
  std::vector<int64_t> ints;  ///< integer and bool elements
  std::vector<double> floats; ///< floating-point elements

  bool isFloat() const;
  int64_t numElements() const;
};

/// The contents of `t`, or nothing when its type is not supported (strings,
/// float16, bfloat16), its data is malformed, or it takes more than
/// `maxBytes`.
std::optional<EvalTensor> evalTensorFromProto(const onnx::TensorProto &t,
                                              int64_t maxBytes = ConstantBudget().valueBytes());

/// `v` as a TensorProto named `name` (raw data).
onnx::TensorProto evalTensorToProto(const EvalTensor &v, const std::string &name);

/// What the evaluator may ask about the node's inputs: the value of input i
/// (null when it is not a constant or absent), and its static shape (nothing
/// when unknown).
struct EvalInputs {
  std::function<const EvalTensor *(size_t)> value;
  std::function<std::optional<std::vector<int64_t>>(size_t)> shape;
};

/// The outcome of evaluating one node.
struct EvalResult {
  /// One value per node output (an empty output name gets an empty tensor);
  /// empty when the node was not folded.
  std::vector<EvalTensor> outputs;
  /// Set when the node was foldable but its result would exceed the budget:
  /// the number of elements it would have.
  int64_t overBudgetElements = 0;
};

/// Whether the evaluator knows `opType` (default domain).
bool isEvaluable(const std::string &opType);

/// Evaluates `node` (opset 17 semantics). Results taking more than
/// `maxBytes` are not created.
EvalResult evaluateNode(const onnx::NodeProto &node, const EvalInputs &inputs,
                        int64_t maxBytes = ConstantBudget().valueBytes());

} // namespace kiln

#endif // LIB_IMPORT_CONSTANTEVALUATOR_H
