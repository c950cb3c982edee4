//===- Tensor.h - Element types and tensor views ----------------*- C++ -*-===//
//
// Non-owning views of tensors passed across the compiled model's entry points,
// with the checks the generated code runs on what it is given.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNTIME_TENSOR_H
#define KILN_RUNTIME_TENSOR_H

#include "kiln/runtime/Abi.h"
#include "kiln/runtime/Status.h"

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace kiln {

/// Element types. The values are ONNX's TensorProto.DataType codes so that
/// files and tools can exchange them without a table.
enum class DType : int32_t {
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
};

/// Size in bytes of one element, or 0 for an unknown code.
size_t dtypeSize(DType type);
/// Bytes of a dense tensor described by `info` (a model's input or output).
size_t tensorBytes(const kiln_tensor_info &info);
/// "float32", "int64", ...; "unknown(<code>)" for an unknown code.
std::string dtypeName(DType type);

constexpr int kMaxRank = 8;

/// A non-owning view: element type, shape and data pointer.
struct TensorView {
  DType dtype = DType::Float32;
  int rank = 0;
  int64_t dims[kMaxRank] = {};
  void *data = nullptr;

  TensorView() = default;
  TensorView(DType dtype, std::initializer_list<int64_t> shape, void *data);
  TensorView(DType dtype, const int64_t *shape, int rank, void *data);

  /// Product of the dims; fails on negative dims or overflow.
  Status numElements(int64_t &count) const;
  std::string shapeString() const;
};

/// Checks `view` against the expected element type and shape. `what` names the
/// tensor in the message ("input 0 'x'").
Status checkTensor(const TensorView &view, DType dtype,
                   std::initializer_list<int64_t> shape, const std::string &what);
Status checkTensor(const TensorView &view, DType dtype, const int64_t *shape,
                   int rank, const std::string &what);

/// Typed view of a tensor whose shape the generated code knows statically.
template <typename T> struct TensorRef {
  T *data = nullptr;
  TensorRef() = default;
  TensorRef(T *data) : data(data) {}
};

} // namespace kiln

#endif // KILN_RUNTIME_TENSOR_H
