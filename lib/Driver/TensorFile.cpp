//===- TensorFile.cpp - ONNX TensorProto files and comparisons ------------===//

#include "lib/Driver/TensorFile.h"

#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstring>
#include <fstream>

using llvm::Error;
using llvm::Expected;

namespace kiln {

std::string dimsString(const std::vector<int64_t> &dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i)
    s += (i ? "," : "") + std::to_string(dims[i]);
  return s + "]";
}

Expected<HostTensor> readTensorFile(const std::string &path) {
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes)
    return bytes.takeError();
  onnx::TensorProto proto;
  if (!proto.ParseFromString(*bytes))
    return makeError("'" + path + "' is not an ONNX TensorProto file");
  auto data = tensorBytes(proto);
  if (!data)
    return makeError("'" + path + "': " + llvm::toString(data.takeError()));
  HostTensor t;
  t.name = proto.name();
  t.dtype = proto.data_type();
  t.dims.assign(proto.dims().begin(), proto.dims().end());
  t.data.assign(data->begin(), data->end());
  return t;
}

Error writeTensorFile(const HostTensor &tensor, const std::string &path) {
  onnx::TensorProto proto;
  proto.set_name(tensor.name);
  proto.set_data_type(tensor.dtype);
  for (int64_t d : tensor.dims)
    proto.add_dims(d);
  proto.set_raw_data(std::string(tensor.data.begin(), tensor.data.end()));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!proto.SerializeToOstream(&out) || !out.flush())
      return makeError("cannot write '" + path + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return makeError("cannot write '" + path + "'");
  return Error::success();
}

namespace {

/// IEEE half-precision bits to double.
double halfToDouble(uint16_t h) {
  int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double sign = (h & 0x8000) ? -1.0 : 1.0;
  if (exponent == 0)
    return sign * std::ldexp(mantissa, -24);
  if (exponent == 31)
    return mantissa ? NAN : sign * INFINITY;
  return sign * std::ldexp(mantissa + 1024, exponent - 25);
}

/// Reads element i as double (integers widen exactly up to 2^53).
double elementAsDouble(const HostTensor &t, size_t i, bool &isFloat) {
  const char *p = t.data.data();
  auto get = [&](auto dummy) {
    decltype(dummy) v;
    std::memcpy(&v, p + i * sizeof(v), sizeof(v));
    return v;
  };
  using T = onnx::TensorProto;
  isFloat = t.dtype == T::FLOAT || t.dtype == T::DOUBLE || t.dtype == T::FLOAT16;
  switch (t.dtype) {
  case T::FLOAT: return get(float());
  case T::FLOAT16: return halfToDouble(get(uint16_t()));
  case T::DOUBLE: return get(double());
  case T::INT8: return get(int8_t());
  case T::UINT8: return get(uint8_t());
  case T::BOOL: return get(uint8_t()) != 0;
  case T::INT16: return get(int16_t());
  case T::UINT16: return get(uint16_t());
  case T::INT32: return get(int32_t());
  case T::UINT32: return get(uint32_t());
  case T::INT64: return static_cast<double>(get(int64_t()));
  case T::UINT64: return static_cast<double>(get(uint64_t()));
  default: return 0;
  }
}

std::string unravel(size_t index, const std::vector<int64_t> &dims) {
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    int64_t n = std::max<int64_t>(dims[d], 1);
    idx[d] = index % n;
    index /= n;
  }
  return dimsString(idx);
}

std::string number(double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

} // namespace

Comparison compareTensors(const HostTensor &actual, const HostTensor &expected,
                          double rtol, double atol) {
  Comparison c;
  if (actual.dtype != expected.dtype) {
    c.match = false;
    c.message = "element type " + onnxElementName(actual.dtype) +
                " differs from expected " + onnxElementName(expected.dtype);
    return c;
  }
  if (actual.dims != expected.dims) {
    c.match = false;
    c.message = "shape " + dimsString(actual.dims) + " differs from expected " +
                dimsString(expected.dims);
    return c;
  }
  size_t elt = onnxElementSize(actual.dtype);
  size_t n = elt ? actual.data.size() / elt : 0;
  if (actual.data.size() != expected.data.size()) {
    c.match = false;
    c.message = "data sizes differ";
    return c;
  }
  // Integers and booleans must match bit for bit.
  bool isInteger = actual.dtype != onnx::TensorProto::FLOAT &&
                   actual.dtype != onnx::TensorProto::DOUBLE &&
                   actual.dtype != onnx::TensorProto::FLOAT16;
  double worstExcess = -1;
  size_t worst = 0;
  for (size_t i = 0; i < n; ++i) {
    bool isFloat;
    double a = elementAsDouble(actual, i, isFloat);
    double e = elementAsDouble(expected, i, isFloat);
    bool ok;
    double excess;
    if (isInteger) {
      ok = std::memcmp(actual.data.data() + i * elt,
                       expected.data.data() + i * elt, elt) == 0;
      excess = ok ? 0 : std::fabs(a - e) + 1;
    } else if (std::isnan(e) || std::isnan(a)) {
      ok = std::isnan(e) && std::isnan(a);
      excess = ok ? 0 : INFINITY;
    } else if (std::isinf(e) || std::isinf(a)) {
      ok = a == e;
      excess = ok ? 0 : INFINITY;
    } else {
      double err = std::fabs(a - e);
      c.maxAbsError = std::max(c.maxAbsError, err);
      excess = err - (atol + rtol * std::fabs(e));
      ok = excess <= 0;
    }
    if (!ok) {
      ++c.mismatches;
      if (excess > worstExcess) {
        worstExcess = excess;
        worst = i;
      }
    }
  }
  if (c.mismatches) {
    bool isFloat;
    double a = elementAsDouble(actual, worst, isFloat);
    double e = elementAsDouble(expected, worst, isFloat);
    c.match = false;
    c.message = std::to_string(c.mismatches) + " of " + std::to_string(n) +
                " elements differ; worst at " + unravel(worst, actual.dims) +
                ": got " + number(a) + ", expected " + number(e) +
                " (abs error " + number(std::fabs(a - e)) + ", allowed " +
                number(isInteger ? 0 : atol + rtol * std::fabs(e)) + ")";
  }
  return c;
}

} // namespace kiln
