//===- Tensor.cpp - Element types and tensor views ------------------------===//

#include "kiln/runtime/Tensor.h"

#include <algorithm>

namespace kiln {

size_t tensorBytes(const kiln_tensor_info &info) {
  size_t n = dtypeSize(static_cast<DType>(info.dtype));
  for (int32_t i = 0; i < info.rank && i < KILN_ABI_MAX_RANK; ++i)
    n *= static_cast<size_t>(info.dims[i]);
  return n;
}

size_t dtypeSize(DType type) {
  switch (type) {
  case DType::Bool:
  case DType::Int8:
  case DType::UInt8:
    return 1;
  case DType::Int16:
  case DType::UInt16:
  case DType::Float16:
    return 2;
  case DType::Int32:
  case DType::UInt32:
  case DType::Float32:
    return 4;
  case DType::Int64:
  case DType::UInt64:
  case DType::Float64:
    return 8;
  }
  return 0;
}

std::string dtypeName(DType type) {
  switch (type) {
  case DType::Float32: return "float32";
  case DType::UInt8: return "uint8";
  case DType::Int8: return "int8";
  case DType::UInt16: return "uint16";
  case DType::Int16: return "int16";
  case DType::Int32: return "int32";
  case DType::Int64: return "int64";
  case DType::Bool: return "bool";
  case DType::Float16: return "float16";
  case DType::Float64: return "float64";
  case DType::UInt32: return "uint32";
  case DType::UInt64: return "uint64";
  }
  return "unknown(" + std::to_string(static_cast<int32_t>(type)) + ")";
}

TensorView::TensorView(DType dtype, std::initializer_list<int64_t> shape,
                       void *data)
    : dtype(dtype), rank(static_cast<int>(shape.size())), data(data) {
  std::copy_n(shape.begin(), std::min<size_t>(shape.size(), kMaxRank), dims);
}

TensorView::TensorView(DType dtype, const int64_t *shape, int rank, void *data)
    : dtype(dtype), rank(rank), data(data) {
  if (shape && rank > 0)
    std::copy_n(shape, std::min(rank, kMaxRank), dims);
}

Status TensorView::numElements(int64_t &count) const {
  if (rank < 0 || rank > kMaxRank)
    return Status::error("rank " + std::to_string(rank) + " out of range [0, " +
                         std::to_string(kMaxRank) + "]");
  count = 1;
  for (int i = 0; i < rank; ++i) {
    if (dims[i] < 0)
      return Status::error("negative dimension " + std::to_string(dims[i]));
    if (__builtin_mul_overflow(count, dims[i], &count))
      return Status::error("element count overflows");
  }
  return Status::success();
}

std::string TensorView::shapeString() const {
  std::string s = "[";
  for (int i = 0; i < std::min(std::max(rank, 0), kMaxRank); ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

Status checkTensor(const TensorView &view, DType dtype, const int64_t *shape,
                   int rank, const std::string &what) {
  TensorView expected(dtype, shape, rank, nullptr);
  if (view.dtype != dtype)
    return Status::error(what + ": expected element type " + dtypeName(dtype) +
                         ", got " + dtypeName(view.dtype));
  bool same = view.rank == rank;
  for (int i = 0; same && i < rank; ++i)
    same = view.dims[i] == shape[i];
  if (!same)
    return Status::error(what + ": expected shape " + expected.shapeString() +
                         ", got " +
                         (view.rank < 0 || view.rank > kMaxRank
                              ? "rank " + std::to_string(view.rank)
                              : view.shapeString()));
  int64_t count = 0;
  if (Status s = expected.numElements(count); !s.ok())
    return s.prepend(what + ": ");
  if (!view.data && count > 0)
    return Status::error(what + ": data pointer is null");
  return Status::success();
}

Status checkTensor(const TensorView &view, DType dtype,
                   std::initializer_list<int64_t> shape,
                   const std::string &what) {
  return checkTensor(view, dtype, shape.begin(), static_cast<int>(shape.size()),
                     what);
}

} // namespace kiln
