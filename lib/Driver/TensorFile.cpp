//===- TensorFile.cpp - ONNX TensorProto files and comparisons ------------===//

#include "lib/Driver/TensorFile.h"

#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "onnx/onnx-data.pb.h"
#include "onnx/onnx_pb.h"

#include <cmath>
#include <cstring>

using llvm::Error;
using llvm::Expected;

namespace kiln {

namespace {

Expected<HostTensor> fromProto(const onnx::TensorProto &proto, const std::string &path) {
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

onnx::TensorProto toProto(const HostTensor &tensor) {
  onnx::TensorProto proto;
  proto.set_name(tensor.name);
  proto.set_data_type(tensor.dtype);
  for (int64_t d : tensor.dims)
    proto.add_dims(d);
  proto.set_raw_data(std::string(tensor.data.begin(), tensor.data.end()));
  return proto;
}

Error writeProto(const google::protobuf::MessageLite &proto, const std::string &path) {
  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    return makeError("cannot write '" + path + "': the message is too large to serialise");
  return writeFileAtomically(path, bytes);
}

Expected<HostValue> fromSequence(const onnx::SequenceProto &seq, const std::string &path,
                                 int depth);

Expected<HostValue> fromOptional(const onnx::OptionalProto &opt, const std::string &path,
                                 int depth) {
  HostValue v;
  v.kind = HostValue::Kind::Optional;
  if (opt.has_tensor_value()) {
    auto t = fromProto(opt.tensor_value(), path);
    if (!t)
      return t.takeError();
    HostValue e;
    e.tensor = std::move(*t);
    v.elements.push_back(std::move(e));
  } else if (opt.has_sequence_value()) {
    auto s = fromSequence(opt.sequence_value(), path, depth + 1);
    if (!s)
      return s.takeError();
    v.elements.push_back(std::move(*s));
  } else if (opt.elem_type() != onnx::OptionalProto::UNDEFINED &&
             opt.elem_type() != onnx::OptionalProto::TENSOR &&
             opt.elem_type() != onnx::OptionalProto::SEQUENCE) {
    return makeError("'" + path + "': only optionals of tensors and sequences are supported");
  }
  return v;
}

Expected<HostValue> fromSequence(const onnx::SequenceProto &seq, const std::string &path,
                                 int depth) {
  if (depth > 8)
    return makeError("'" + path + "': values nested too deeply");
  if (seq.elem_type() != onnx::SequenceProto::TENSOR &&
      seq.elem_type() != onnx::SequenceProto::UNDEFINED)
    return makeError("'" + path + "': only sequences of tensors are supported");
  HostValue v;
  v.kind = HostValue::Kind::Sequence;
  for (const auto &t : seq.tensor_values()) {
    auto e = fromProto(t, path);
    if (!e)
      return e.takeError();
    HostValue ev;
    ev.tensor = std::move(*e);
    v.elements.push_back(std::move(ev));
  }
  return v;
}

} // namespace

Expected<HostTensor> readTensorFile(const std::string &path) {
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes)
    return bytes.takeError();
  return parseTensorFile(*bytes, path);
}

Expected<HostTensor> parseTensorFile(const std::string &bytes, const std::string &path) {
  onnx::TensorProto proto;
  if (!proto.ParseFromString(bytes))
    return makeError("'" + path + "' is not an ONNX TensorProto file");
  return fromProto(proto, path);
}

Error writeTensorFile(const HostTensor &tensor, const std::string &path) {
  return writeProto(toProto(tensor), path);
}

Expected<HostValue> readValueFile(const std::string &path, const onnx::TypeProto &declared) {
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes)
    return bytes.takeError();
  return parseValueFile(*bytes, declared, path);
}

Expected<HostValue> parseValueFile(const std::string &bytes, const onnx::TypeProto &declared,
                                   const std::string &path) {
  if (declared.has_sequence_type()) {
    onnx::SequenceProto seq;
    if (!seq.ParseFromString(bytes))
      return makeError("'" + path + "' is not an ONNX SequenceProto file");
    return fromSequence(seq, path, 0);
  }
  if (declared.has_optional_type()) {
    onnx::OptionalProto opt;
    if (!opt.ParseFromString(bytes))
      return makeError("'" + path + "' is not an ONNX OptionalProto file");
    return fromOptional(opt, path, 0);
  }
  auto t = parseTensorFile(bytes, path);
  if (!t)
    return t.takeError();
  HostValue v;
  v.tensor = std::move(*t);
  return v;
}

Error writeValueFile(const HostValue &value, const std::string &path) {
  using K = HostValue::Kind;
  if (value.kind == K::Tensor)
    return writeTensorFile(value.tensor, path);
  auto toSequence = [](const HostValue &v) {
    onnx::SequenceProto seq;
    seq.set_elem_type(onnx::SequenceProto::TENSOR);
    for (const HostValue &e : v.elements)
      *seq.add_tensor_values() = toProto(e.tensor);
    return seq;
  };
  if (value.kind == K::Sequence)
    return writeProto(toSequence(value), path);
  onnx::OptionalProto opt;
  if (!value.elements.empty()) {
    const HostValue &e = value.elements[0];
    if (e.kind == K::Sequence) {
      opt.set_elem_type(onnx::OptionalProto::SEQUENCE);
      *opt.mutable_sequence_value() = toSequence(e);
    } else {
      opt.set_elem_type(onnx::OptionalProto::TENSOR);
      *opt.mutable_tensor_value() = toProto(e.tensor);
    }
  }
  return writeProto(opt, path);
}

Comparison compareValues(const HostValue &actual, const HostValue &expected, double rtol,
                         double atol) {
  using K = HostValue::Kind;
  auto kindName = [](K k) {
    return k == K::Tensor ? "a tensor" : k == K::Sequence ? "a sequence" : "an optional";
  };
  Comparison c;
  if (actual.kind != expected.kind) {
    c.match = false;
    c.message = std::string("got ") + kindName(actual.kind) + ", expected " +
                kindName(expected.kind);
    return c;
  }
  if (actual.kind == K::Tensor)
    return compareTensors(actual.tensor, expected.tensor, rtol, atol);
  if (actual.elements.size() != expected.elements.size()) {
    c.match = false;
    c.message = actual.kind == K::Optional
                    ? std::string(actual.elements.empty() ? "empty" : "has a value") +
                          ", expected " + (expected.elements.empty() ? "empty" : "a value")
                    : "sequence of " + std::to_string(actual.elements.size()) +
                          " values, expected " + std::to_string(expected.elements.size());
    return c;
  }
  for (size_t i = 0; i < actual.elements.size(); ++i) {
    Comparison e = compareValues(actual.elements[i], expected.elements[i], rtol, atol);
    c.maxAbsError = std::max(c.maxAbsError, e.maxAbsError);
    c.mismatches += e.mismatches;
    if (!e.match && c.match) {
      c.match = false;
      c.message = (actual.kind == K::Sequence ? "element " + std::to_string(i) + ": "
                                              : std::string()) +
                  e.message;
    }
  }
  return c;
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
  return dimsText(idx);
}

std::string number(double v) {
  char buf[64];
  snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

} // namespace

double magnitudeAtol(const HostTensor &expected) {
  size_t elt = onnxElementSize(expected.dtype);
  size_t n = elt ? expected.data.size() / elt : 0;
  double largest = 0;
  for (size_t i = 0; i < n; ++i) {
    bool isFloat;
    double e = std::fabs(elementAsDouble(expected, i, isFloat));
    if (std::isfinite(e))
      largest = std::max(largest, e);
  }
  return std::max(kMagnitudeAtolFloor, kMagnitudeAtolFactor * largest);
}

Comparison compareTensors(const HostTensor &actual, const HostTensor &expected,
                          double rtol, double atol) {
  Comparison c;
  if (atol < 0)
    atol = -atol * magnitudeAtol(expected);
  if (actual.dtype != expected.dtype) {
    c.match = false;
    c.message = "element type " + onnxElementName(actual.dtype) +
                " differs from expected " + onnxElementName(expected.dtype);
    return c;
  }
  if (actual.dims != expected.dims) {
    c.match = false;
    c.message = "shape " + dimsText(actual.dims) + " differs from expected " +
                dimsText(expected.dims);
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
