//===- TensorData.h - ONNX TensorProto contents as raw bytes -----*- C++ -*-===//
//
// ONNX stores tensor data in raw_data or in one of several typed fields; these
// helpers give one little-endian, row-major byte buffer with its size checked
// against the dims, for the JSON writer, the importer and `kiln run`.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_IMPORT_TENSORDATA_H
#define LIB_IMPORT_TENSORDATA_H

#include "onnx/onnx_pb.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// Dimensions as messages print them: "[2,3,4]".
std::string dimsText(llvm::ArrayRef<int64_t> dims);

/// Bytes per element of an ONNX element type, or 0 if Kiln does not support it.
size_t onnxElementSize(int32_t elemType);
/// The JSON format's name of an ONNX element type ("float32"), or "".
std::string onnxElementName(int32_t elemType);
/// Inverse of onnxElementName; 0 if unknown.
int32_t onnxElementFromName(const std::string &name);

/// Product of dims with overflow and negativity checks.
llvm::Expected<int64_t> checkedElementCount(llvm::ArrayRef<int64_t> dims);

/// The dims of a tensor type whose shape is fully static, or nothing (not a
/// tensor, no shape, or a symbolic/unknown dimension).
std::optional<std::vector<int64_t>> staticDims(const onnx::TypeProto &type);

/// The tensor's data as packed little-endian bytes (bool as one byte each).
/// Fails if the amount of data disagrees with the dims or the type is unsupported.
llvm::Expected<std::string> tensorBytes(const onnx::TensorProto &tensor);

} // namespace kiln

#endif // LIB_IMPORT_TENSORDATA_H
