//===- TensorFile.h - ONNX TensorProto files and comparisons ----*- C++ -*-===//
//
// `kiln run` reads inputs and expected outputs as ONNX TensorProto files
// (`input_<i>.pb`, `output_<i>.pb`, as in ONNX test data sets), writes its
// own outputs the same way, and compares with ONNX's test tolerances.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DRIVER_TENSORFILE_H
#define LIB_DRIVER_TENSORFILE_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class TypeProto;
}

namespace kiln {

/// A dense tensor held in memory.
struct HostTensor {
  std::string name;
  int32_t dtype = 0; // ONNX TensorProto.DataType
  std::vector<int64_t> dims;
  std::vector<char> data;
};

llvm::Expected<HostTensor> readTensorFile(const std::string &path);
/// Parses a `.pb` file's contents as readTensorFile would read `path`.
llvm::Expected<HostTensor> parseTensorFile(const std::string &bytes, const std::string &path);
llvm::Error writeTensorFile(const HostTensor &tensor, const std::string &path);

/// A value of an ONNX test data file: a tensor (TensorProto file), a sequence
/// (SequenceProto) or an optional (OptionalProto).
struct HostValue {
  enum class Kind { Tensor, Sequence, Optional };
  Kind kind = Kind::Tensor;
  HostTensor tensor;
  /// Sequence: its elements; Optional: none or one.
  std::vector<HostValue> elements;
};

/// Reads `path` as the kind of value `declared` (an onnx::TypeProto) says.
llvm::Expected<HostValue> readValueFile(const std::string &path,
                                        const onnx::TypeProto &declared);
/// Parses a value file's contents as readValueFile would read `path`.
llvm::Expected<HostValue> parseValueFile(const std::string &bytes,
                                         const onnx::TypeProto &declared,
                                         const std::string &path);
llvm::Error writeValueFile(const HostValue &value, const std::string &path);

struct Comparison {
  bool match = true;
  /// Human-readable reason for a mismatch, naming the worst element.
  std::string message;
  double maxAbsError = 0;
  int64_t mismatches = 0;
};

/// The default absolute tolerance of a float output: kMagnitudeAtolFactor
/// times its largest finite |expected| element, at least kMagnitudeAtolFloor.
/// Float32 reassociation (another summation order, fused kernels) moves
/// results by a small fraction of the magnitudes being summed, so near-zero
/// elements of an O(1) output differ by far more than their own size.
constexpr double kMagnitudeAtolFactor = 1e-3;
constexpr double kMagnitudeAtolFloor = 1e-7;
double magnitudeAtol(const HostTensor &expected);

/// Compares `actual` with `expected`: dtypes and shapes exactly; floats with
/// |a - e| <= atol + rtol * |e| (NaN equals NaN, infinities must agree),
/// where a negative atol means -atol x magnitudeAtol(expected); integers and
/// booleans exactly.
Comparison compareTensors(const HostTensor &actual, const HostTensor &expected,
                          double rtol, double atol);

/// compareTensors over the structure of two values (lengths and presence
/// must agree; the message names the element that differs).
Comparison compareValues(const HostValue &actual, const HostValue &expected,
                         double rtol, double atol);

} // namespace kiln

#endif // LIB_DRIVER_TENSORFILE_H
