//===- OnnxImporter.h - ONNX ModelProto -> kiln dialect ----------*- C++ -*-===//
//
// Validates a model (supported ops, ONNX checker), converts it to Kiln's one
// canonical opset, infers every shape, and builds a `func.func @main` of kiln
// ops. Every error names the model, the node (name and op type) and the reason.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_ONNXIMPORTER_H
#define LIB_IMPORT_ONNXIMPORTER_H

#include "lib/Import/StructureLowering.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "onnx/onnx_pb.h"
#include "llvm/Support/Error.h"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace kiln {

/// The opset every model is converted to before import, so each op has one
/// meaning in the importer.
constexpr int64_t kCanonicalOpset = 17;

struct ImportOptions {
  /// Shown in error messages and locations.
  std::string modelPath;
  /// Graph inputs that also have an initializer and are compiled as that
  /// constant while staying in the signature (see kiln.specialized).
  std::set<std::string> specializedInputs;
  /// Forms of graph inputs that are sequences or optionals, or tensors with
  /// dynamic dimensions (see StructureLowering.h).
  std::map<std::string, ValueShape> inputShapes;
  /// The budget for constants made at compile time (`--max-constant-bytes`).
  ConstantBudget constantBudget;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  /// Graph name from the model.
  std::string graphName;
  int64_t opsImported = 0;
  std::map<std::string, int64_t> opsByType;
  /// How the model's inputs and outputs map to the compiled tensors.
  Signature signature;
};

/// Imports `model` into a new module in `context` (which must have the kiln and
/// func dialects loaded).
llvm::Expected<ImportResult> importOnnxModel(onnx::ModelProto model,
                                             mlir::MLIRContext &context,
                                             const ImportOptions &options);

/// The ONNX op types (default domain) the importer handles, sorted.
std::vector<std::string> supportedOnnxOps();

/// docs/operators.md: every supported op with its element types and limits.
std::string operatorsMarkdown();

} // namespace kiln

#endif // LIB_IMPORT_ONNXIMPORTER_H
