//===- ModelLoader.h - Read a model file into an ONNX ModelProto -*- C++ -*-===//
//
// One entry point for every model format Kiln reads (`.onnx` protobuf, `.onnxtxt`
// ONNX text syntax, `.json` Kiln graphs). External data is resolved here, inside
// the model's directory only, so later stages see self-contained tensors.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_MODELLOADER_H
#define LIB_IMPORT_MODELLOADER_H

#include "onnx/onnx_pb.h"
#include "llvm/Support/Error.h"

#include <string>
#include <vector>

namespace kiln {

/// Largest model file Kiln reads (protobuf's own limit is 2 GiB).
constexpr uint64_t kMaxModelFileBytes = (1ull << 31) - 1;

/// Reads `path` by its extension. Errors name the file and the reason.
llvm::Expected<onnx::ModelProto> loadModel(const std::string &path);

/// Parses a model file's contents `bytes` as loadModel would read `path`
/// (the format from its extension; external data and a JSON model's weights
/// file relative to its directory).
llvm::Expected<onnx::ModelProto> parseModel(const std::string &bytes, const std::string &path);

/// Real paths of the files reading `path` touches: the model file, a JSON
/// model's weights file, and ONNX external-data files.
std::vector<std::string> modelSourceFiles(const std::string &path);

/// Reads a whole file, refusing files larger than `maxBytes`.
llvm::Expected<std::string> readFileBytes(const std::string &path,
                                          uint64_t maxBytes);

/// Writes `bytes` to `path` through a uniquely named temporary beside it and
/// a rename, so readers and concurrent writers never see a partial file and a
/// failure leaves nothing behind.
llvm::Error writeFileAtomically(const std::string &path, llvm::StringRef bytes);

/// Resolves `relative` inside `dir` and fails if the result (after following
/// symlinks) leaves `dir`: no absolute paths, no `..` escapes.
llvm::Expected<std::string> resolveInside(const std::string &dir,
                                          const std::string &relative);

/// Error helper: "<context>: <message>".
llvm::Error makeError(const llvm::Twine &message);

} // namespace kiln

#endif // LIB_IMPORT_MODELLOADER_H
