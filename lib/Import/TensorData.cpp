//===- TensorData.cpp - ONNX TensorProto contents as raw bytes ------------===//

#include "lib/Import/TensorData.h"
#include "lib/Import/ModelLoader.h"

#include <cstring>

using namespace llvm;
using onnx::TensorProto;

namespace kiln {

size_t onnxElementSize(int32_t t) {
  switch (t) {
  case TensorProto::BOOL:
  case TensorProto::INT8:
  case TensorProto::UINT8:
    return 1;
  case TensorProto::INT16:
  case TensorProto::UINT16:
  case TensorProto::FLOAT16:
    return 2;
  case TensorProto::INT32:
  case TensorProto::UINT32:
  case TensorProto::FLOAT:
    return 4;
  case TensorProto::INT64:
  case TensorProto::UINT64:
  case TensorProto::DOUBLE:
    return 8;
  default:
    return 0;
  }
}

static const std::pair<int32_t, const char *> kNames[] = {
    {TensorProto::FLOAT, "float32"}, {TensorProto::DOUBLE, "float64"},
    {TensorProto::FLOAT16, "float16"}, {TensorProto::INT8, "int8"},
    {TensorProto::INT16, "int16"},   {TensorProto::INT32, "int32"},
    {TensorProto::INT64, "int64"},   {TensorProto::UINT8, "uint8"},
    {TensorProto::UINT16, "uint16"}, {TensorProto::UINT32, "uint32"},
    {TensorProto::UINT64, "uint64"}, {TensorProto::BOOL, "bool"},
};

std::string onnxElementName(int32_t t) {
  for (auto &[code, name] : kNames)
    if (code == t)
      return name;
  return "";
}

int32_t onnxElementFromName(const std::string &n) {
  for (auto &[code, name] : kNames)
    if (n == name)
      return code;
  return 0;
}

Expected<int64_t> checkedElementCount(ArrayRef<int64_t> dims) {
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d < 0)
      return makeError("negative dimension " + Twine(d));
    if (__builtin_mul_overflow(count, d, &count))
      return makeError("element count overflows");
  }
  return count;
}

std::string dimsText(ArrayRef<int64_t> dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

template <typename Src, typename Dst, typename Field>
static std::string packField(const Field &field) {
  std::string out(field.size() * sizeof(Dst), '\0');
  for (int i = 0; i < field.size(); ++i) {
    Dst v = static_cast<Dst>(static_cast<Src>(field.Get(i)));
    std::memcpy(out.data() + i * sizeof(Dst), &v, sizeof(Dst));
  }
  return out;
}

Expected<std::string> tensorBytes(const TensorProto &t) {
  std::string what = "tensor '" + t.name() + "'";
  size_t elt = onnxElementSize(t.data_type());
  if (!elt)
    return makeError(what + ": unsupported element type " +
                     Twine(t.data_type()));
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  auto count = checkedElementCount(dims);
  if (!count)
    return makeError(what + ": " + toString(count.takeError()));
  if (t.data_location() == TensorProto::EXTERNAL)
    return makeError(what + ": external data was not resolved");
  std::string bytes;
  if (t.has_raw_data()) {
    bytes = t.raw_data();
  } else {
    switch (t.data_type()) {
    case TensorProto::FLOAT:
      bytes = packField<float, float>(t.float_data());
      break;
    case TensorProto::DOUBLE:
      bytes = packField<double, double>(t.double_data());
      break;
    case TensorProto::INT64:
      bytes = packField<int64_t, int64_t>(t.int64_data());
      break;
    case TensorProto::UINT64:
      bytes = packField<uint64_t, uint64_t>(t.uint64_data());
      break;
    case TensorProto::UINT32:
      bytes = packField<uint64_t, uint32_t>(t.uint64_data());
      break;
    case TensorProto::INT32:
      bytes = packField<int32_t, int32_t>(t.int32_data());
      break;
    case TensorProto::INT16:
      bytes = packField<int32_t, int16_t>(t.int32_data());
      break;
    case TensorProto::INT8:
      bytes = packField<int32_t, int8_t>(t.int32_data());
      break;
    case TensorProto::UINT16:
    case TensorProto::FLOAT16:
      bytes = packField<int32_t, uint16_t>(t.int32_data());
      break;
    case TensorProto::UINT8:
    case TensorProto::BOOL:
      bytes = packField<int32_t, uint8_t>(t.int32_data());
      break;
    }
  }
  uint64_t expected;
  if (__builtin_mul_overflow(static_cast<uint64_t>(*count), static_cast<uint64_t>(elt), &expected))
    return makeError(what + ": its byte size overflows (dims " + dimsText(dims) + ")");
  if (bytes.size() != expected)
    return makeError(what + ": holds " + Twine(bytes.size()) +
                     " bytes of data, its dims need " + Twine(expected));
  return bytes;
}

std::optional<std::vector<int64_t>> staticDims(const onnx::TypeProto &type) {
  if (!type.has_tensor_type() || !type.tensor_type().has_shape())
    return std::nullopt;
  std::vector<int64_t> dims;
  for (const auto &d : type.tensor_type().shape().dim()) {
    if (!d.has_dim_value())
      return std::nullopt;
    dims.push_back(d.dim_value());
  }
  return dims;
}

} // namespace kiln
