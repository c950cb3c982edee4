//===- JsonModel.h - Kiln JSON graphs <-> ONNX ModelProto --------*- C++ -*-===//
//
// The JSON format (docs/json-format.md) is a spelling of an ONNX graph, so it is
// read into a ModelProto and from there shares the ONNX import path.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_JSONMODEL_H
#define LIB_IMPORT_JSONMODEL_H

#include "onnx/onnx_pb.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace kiln {

/// Deepest nesting accepted in a JSON model.
constexpr int kMaxJsonDepth = 64;

/// Reads a JSON model (and its weights file) into a ModelProto.
llvm::Expected<onnx::ModelProto> loadJsonModel(const std::string &path);

/// Parses JSON model text as loadJsonModel would read it from `path`.
llvm::Expected<onnx::ModelProto> parseJsonModel(const std::string &text, const std::string &path);

/// Writes `model` as JSON to `jsonPath`, with initializers in
/// `<stem>.weights.bin` beside it. Nothing is left behind on failure. It
/// refuses to replace any of `sourceFiles` (real paths of files the source
/// model reads; see modelSourceFiles).
llvm::Error writeJsonModel(const onnx::ModelProto &model,
                           const std::string &jsonPath,
                           const std::vector<std::string> &sourceFiles = {});

} // namespace kiln

#endif // LIB_IMPORT_JSONMODEL_H
