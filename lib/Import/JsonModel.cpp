//===- JsonModel.cpp - Kiln JSON graphs <-> ONNX ModelProto ---------------===//
//
// Every value read from JSON is type-checked with a path to it in the message
// ("nodes[3].attributes.perm"), since a hand-written file is the likeliest to
// be wrong.
//
//===----------------------------------------------------------------------===//

#include "lib/Import/JsonModel.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstdint>
#include <cstring>
#include <limits>

using namespace llvm;
using nlohmann::json;

namespace kiln {
namespace {

/// A failure while reading JSON; carries the path of the offending entry.
struct JsonError {
  std::string message;
};

[[noreturn]] void fail(const std::string &where, const std::string &what) {
  throw JsonError{where + ": " + what};
}

const json &member(const json &obj, const std::string &where,
                   const char *key) {
  auto it = obj.find(key);
  if (it == obj.end())
    fail(where, std::string("missing required key '") + key + "'");
  return *it;
}

std::string getString(const json &v, const std::string &where) {
  if (!v.is_string())
    fail(where, "expected a string, got " + std::string(v.type_name()));
  return v.get<std::string>();
}

int64_t getInt(const json &v, const std::string &where) {
  if (!v.is_number_integer())
    fail(where, "expected an integer, got " + std::string(v.type_name()));
  // Above 2^63 - 1 the JSON library holds it unsigned: it would wrap.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX))
    fail(where, "integer " + v.dump() + " is out of range (the largest is 2^63 - 1)");
  return v.get<int64_t>();
}

/// A JSON number as float32: it must be in float32's range (1e300 would
/// become infinity).
float getFloat32(const json &v, const std::string &where) {
  if (!v.is_number())
    fail(where, "expected a number, got " + std::string(v.type_name()));
  double d = v.get<double>();
  if (std::fabs(d) > std::numeric_limits<float>::max())
    fail(where, "value " + v.dump() + " is out of float32's range");
  return static_cast<float>(d);
}

const json &getArray(const json &v, const std::string &where) {
  if (!v.is_array())
    fail(where, "expected an array, got " + std::string(v.type_name()));
  return v;
}

const json &getObject(const json &v, const std::string &where) {
  if (!v.is_object())
    fail(where, "expected an object, got " + std::string(v.type_name()));
  return v;
}

int32_t getDType(const json &v, const std::string &where) {
  std::string name = getString(v, where);
  int32_t code = onnxElementFromName(name);
  if (!code)
    fail(where, "unknown dtype '" + name + "'");
  return code;
}

std::vector<int64_t> getShape(const json &v, const std::string &where) {
  std::vector<int64_t> dims;
  for (size_t i = 0; i < getArray(v, where).size(); ++i) {
    int64_t d = getInt(v[i], where + "[" + std::to_string(i) + "]");
    if (d < 0)
      fail(where, "negative dimension " + std::to_string(d));
    dims.push_back(d);
  }
  return dims;
}

/// Reads JSON model pieces, with the weights file mapped in memory.
class JsonReader {
public:
  JsonReader(std::string weights) : weights(std::move(weights)) {}

  void readTensor(const json &v, const std::string &where,
                  onnx::TensorProto &t) {
    getObject(v, where);
    if (v.contains("name"))
      t.set_name(getString(v["name"], where + ".name"));
    int32_t dtype = getDType(member(v, where, "dtype"), where + ".dtype");
    t.set_data_type(dtype);
    std::vector<int64_t> dims =
        getShape(member(v, where, "shape"), where + ".shape");
    for (int64_t d : dims)
      t.add_dims(d);
    auto count = checkedElementCount(dims);
    if (!count)
      fail(where, toString(count.takeError()));
    size_t elt = onnxElementSize(dtype);
    if (static_cast<uint64_t>(*count) > kMaxModelFileBytes / elt)
      fail(where, "tensor is larger than 2 GiB");
    size_t bytes = static_cast<size_t>(*count) * elt;
    if (v.contains("data")) {
      const json &data = getArray(v["data"], where + ".data");
      if (data.size() != static_cast<size_t>(*count))
        fail(where + ".data", "has " + std::to_string(data.size()) +
                                  " values, shape needs " +
                                  std::to_string(*count));
      std::string raw(bytes, '\0');
      for (size_t i = 0; i < data.size(); ++i)
        packValue(data[i], dtype, raw.data() + i * elt,
                  where + ".data[" + std::to_string(i) + "]");
      t.set_raw_data(std::move(raw));
      return;
    }
    if (!v.contains("offset"))
      fail(where, "needs either 'data' or 'offset' and 'length'");
    int64_t offset = getInt(v["offset"], where + ".offset");
    int64_t length = getInt(member(v, where, "length"), where + ".length");
    if (length < 0 || static_cast<uint64_t>(length) != bytes)
      fail(where, "length " + std::to_string(length) + " disagrees with shape (" +
                      std::to_string(bytes) + " bytes)");
    if (offset < 0 || static_cast<uint64_t>(offset) > weights.size() ||
        static_cast<uint64_t>(length) > weights.size() - offset)
      fail(where, "range [" + std::to_string(offset) + ", +" +
                      std::to_string(length) +
                      ") lies outside the weights file (" +
                      std::to_string(weights.size()) + " bytes)");
    t.set_raw_data(weights.substr(offset, length));
  }

  void readValueInfo(const json &v, const std::string &where,
                     onnx::ValueInfoProto &info, bool shapeRequired) {
    getObject(v, where);
    info.set_name(getString(member(v, where, "name"), where + ".name"));
    auto *tensorType = info.mutable_type()->mutable_tensor_type();
    tensorType->set_elem_type(
        getDType(member(v, where, "dtype"), where + ".dtype"));
    if (v.contains("shape") || shapeRequired) {
      auto *shape = tensorType->mutable_shape();
      for (int64_t d : getShape(member(v, where, "shape"), where + ".shape"))
        shape->add_dim()->set_dim_value(d);
    }
  }

  void readAttribute(const std::string &name, const json &v,
                     const std::string &where, onnx::AttributeProto &a) {
    a.set_name(name);
    if (v.is_object() && v.contains("tensor")) {
      a.set_type(onnx::AttributeProto::TENSOR);
      readTensor(v["tensor"], where + ".tensor", *a.mutable_t());
      return;
    }
    if (v.is_object()) {
      std::string type = getString(member(v, where, "type"), where + ".type");
      const json &value = member(v, where, "value");
      if (type == "int" || type == "float" || type == "string") {
        readScalar(value, where + ".value", a, type);
        return;
      }
      if (type != "ints" && type != "floats" && type != "strings")
        fail(where + ".type", "unknown attribute type '" + type + "'");
      readList(value, where + ".value", a, type);
      return;
    }
    if (v.is_array()) {
      if (v.empty())
        fail(where, "an empty list needs the explicit form "
                    "{\"type\": \"ints\", \"value\": []}");
      std::string type = "ints";
      for (const json &e : v) {
        if (e.is_string())
          type = "strings";
        else if (e.is_number_float() && type != "strings")
          type = "floats";
      }
      readList(v, where, a, type);
      return;
    }
    readScalar(v, where, a,
               v.is_number_integer() ? "int"
               : v.is_number()       ? "float"
                                     : "string");
  }

private:
  void readScalar(const json &v, const std::string &where,
                  onnx::AttributeProto &a, const std::string &type) {
    if (type == "int") {
      a.set_type(onnx::AttributeProto::INT);
      a.set_i(getInt(v, where));
    } else if (type == "float") {
      a.set_type(onnx::AttributeProto::FLOAT);
      a.set_f(getFloat32(v, where));
    } else {
      a.set_type(onnx::AttributeProto::STRING);
      a.set_s(getString(v, where));
    }
  }

  void readList(const json &v, const std::string &where,
                onnx::AttributeProto &a, const std::string &type) {
    getArray(v, where);
    a.set_type(type == "ints"     ? onnx::AttributeProto::INTS
               : type == "floats" ? onnx::AttributeProto::FLOATS
                                  : onnx::AttributeProto::STRINGS);
    for (size_t i = 0; i < v.size(); ++i) {
      std::string at = where + "[" + std::to_string(i) + "]";
      if (type == "ints")
        a.add_ints(getInt(v[i], at));
      else if (type == "floats") {
        a.add_floats(getFloat32(v[i], at));
      } else
        a.add_strings(getString(v[i], at));
    }
  }

  static void packValue(const json &v, int32_t dtype, char *out,
                        const std::string &where) {
    if (!v.is_number() && !v.is_boolean())
      fail(where, "expected a number, got " + std::string(v.type_name()));
    auto store = [&](auto value) { std::memcpy(out, &value, sizeof(value)); };
    bool isInt = v.is_number_integer() || v.is_boolean();
    if (dtype != onnx::TensorProto::FLOAT && dtype != onnx::TensorProto::DOUBLE &&
        dtype != onnx::TensorProto::FLOAT16 && !isInt)
      fail(where, "expected an integer for dtype " + onnxElementName(dtype));
    // Integers must fit the dtype exactly: never wrap or saturate silently.
    auto integer = [&](auto type, int64_t lo, uint64_t hi) {
      using T = decltype(type);
      if (v.is_boolean())
        return store(static_cast<T>(v.get<bool>()));
      if (v.is_number_unsigned() ? v.get<uint64_t>() > hi
                                 : (v.get<int64_t>() < lo ||
                                    (v.get<int64_t>() >= 0 &&
                                     static_cast<uint64_t>(v.get<int64_t>()) > hi)))
        fail(where, "value " + v.dump() + " does not fit dtype " + onnxElementName(dtype));
      if (v.is_number_unsigned())
        return store(static_cast<T>(v.get<uint64_t>()));
      return store(static_cast<T>(v.get<int64_t>()));
    };
    switch (dtype) {
    case onnx::TensorProto::FLOAT: return store(getFloat32(v, where));
    case onnx::TensorProto::DOUBLE: return store(v.get<double>());
    case onnx::TensorProto::INT64: return integer(int64_t(), INT64_MIN, INT64_MAX);
    case onnx::TensorProto::UINT64: return integer(uint64_t(), 0, UINT64_MAX);
    case onnx::TensorProto::INT32: return integer(int32_t(), INT32_MIN, INT32_MAX);
    case onnx::TensorProto::UINT32: return integer(uint32_t(), 0, UINT32_MAX);
    case onnx::TensorProto::INT16: return integer(int16_t(), INT16_MIN, INT16_MAX);
    case onnx::TensorProto::UINT16: return integer(uint16_t(), 0, UINT16_MAX);
    case onnx::TensorProto::INT8: return integer(int8_t(), INT8_MIN, INT8_MAX);
    case onnx::TensorProto::UINT8: return integer(uint8_t(), 0, UINT8_MAX);
    case onnx::TensorProto::BOOL: return integer(uint8_t(), 0, 1);
    default:
      fail(where, "inline data of dtype " + onnxElementName(dtype) +
                      " is not supported; use the weights file");
    }
  }

  std::string weights;
};

} // namespace

Expected<onnx::ModelProto> loadJsonModel(const std::string &path) {
  auto text = readFileBytes(path, kMaxModelFileBytes);
  if (!text)
    return makeError("model '" + path + "': " + toString(text.takeError()));
  return parseJsonModel(*text, path);
}

Expected<onnx::ModelProto> parseJsonModel(const std::string &text, const std::string &path) {
  auto prefix = [&](const std::string &m) {
    return makeError("model '" + path + "': " + m);
  };
  json root;
  try {
    // The callback sees every nesting level; refuse pathological depth before
    // the recursive parser gets there.
    root = json::parse(text, [](int depth, json::parse_event_t, json &) {
      if (depth > kMaxJsonDepth)
        throw JsonError{"nesting deeper than " + std::to_string(kMaxJsonDepth) +
                        " levels"};
      return true;
    });
  } catch (const JsonError &e) {
    return prefix(e.message);
  } catch (const json::exception &e) {
    return prefix(std::string("invalid JSON: ") + e.what());
  }

  try {
    getObject(root, "(top level)");
    if (getString(member(root, "(top level)", "format"), "format") !=
        "kiln-graph")
      fail("format", "expected \"kiln-graph\"");
    if (getInt(member(root, "(top level)", "version"), "version") != 1)
      fail("version", "unsupported version (this Kiln reads version 1)");

    std::string weights;
    std::string dir = sys::path::parent_path(path).str();
    if (root.contains("weights_file")) {
      auto resolved = resolveInside(
          dir, getString(root["weights_file"], "weights_file"));
      if (!resolved)
        fail("weights_file", toString(resolved.takeError()));
      auto bytes = readFileBytes(*resolved, kMaxModelFileBytes);
      if (!bytes)
        fail("weights_file", toString(bytes.takeError()));
      weights = std::move(*bytes);
    }
    JsonReader reader(std::move(weights));

    onnx::ModelProto model;
    model.set_ir_version(8);
    model.set_producer_name("kiln-json");
    auto *opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(root.contains("opset") ? getInt(root["opset"], "opset")
                                              : 17);
    auto *graph = model.mutable_graph();
    graph->set_name(root.contains("name")
                        ? getString(root["name"], "name")
                        : sys::path::stem(path).str());

    const json &inputs = getArray(member(root, "(top level)", "inputs"), "inputs");
    for (size_t i = 0; i < inputs.size(); ++i)
      reader.readValueInfo(inputs[i], "inputs[" + std::to_string(i) + "]",
                           *graph->add_input(), /*shapeRequired=*/true);
    const json &outputs =
        getArray(member(root, "(top level)", "outputs"), "outputs");
    for (size_t i = 0; i < outputs.size(); ++i)
      reader.readValueInfo(outputs[i], "outputs[" + std::to_string(i) + "]",
                           *graph->add_output(), /*shapeRequired=*/true);
    if (root.contains("initializers")) {
      const json &inits = getArray(root["initializers"], "initializers");
      for (size_t i = 0; i < inits.size(); ++i) {
        std::string where = "initializers[" + std::to_string(i) + "]";
        member(inits[i], where, "name");
        reader.readTensor(inits[i], where, *graph->add_initializer());
      }
    }
    const json &nodes = getArray(member(root, "(top level)", "nodes"), "nodes");
    for (size_t i = 0; i < nodes.size(); ++i) {
      std::string where = "nodes[" + std::to_string(i) + "]";
      const json &n = getObject(nodes[i], where);
      auto *node = graph->add_node();
      node->set_op_type(getString(member(n, where, "op_type"), where + ".op_type"));
      if (n.contains("name"))
        node->set_name(getString(n["name"], where + ".name"));
      if (n.contains("domain")) {
        // "ai.onnx" is another spelling of the default domain.
        std::string domain = getString(n["domain"], where + ".domain");
        node->set_domain(domain == "ai.onnx" ? "" : domain);
      }
      const json &ins = getArray(member(n, where, "inputs"), where + ".inputs");
      for (size_t k = 0; k < ins.size(); ++k)
        node->add_input(getString(ins[k], where + ".inputs[" + std::to_string(k) + "]"));
      const json &outs = getArray(member(n, where, "outputs"), where + ".outputs");
      for (size_t k = 0; k < outs.size(); ++k)
        node->add_output(
            getString(outs[k], where + ".outputs[" + std::to_string(k) + "]"));
      if (n.contains("attributes")) {
        const json &attrs = getObject(n["attributes"], where + ".attributes");
        for (auto it = attrs.begin(); it != attrs.end(); ++it)
          reader.readAttribute(it.key(), it.value(),
                               where + ".attributes." + it.key(),
                               *node->add_attribute());
      }
    }
    return model;
  } catch (const JsonError &e) {
    return prefix(e.message);
  } catch (const json::exception &e) {
    return prefix(e.what());
  }
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

namespace {

// The writer keeps keys in the documented order (docs/json-format.md).
using ojson = nlohmann::ordered_json;

/// `v` on one line, with a space after each ',' and ':' as people write JSON.
void writeInline(const ojson &v, std::string &out) {
  if (v.is_object()) {
    out += '{';
    bool first = true;
    for (const auto &[key, value] : v.items()) {
      out += first ? "" : ", ";
      first = false;
      out += ojson(key).dump() + ": ";
      writeInline(value, out);
    }
    out += '}';
  } else if (v.is_array()) {
    out += '[';
    for (size_t i = 0; i < v.size(); ++i) {
      out += i ? ", " : "";
      writeInline(v[i], out);
    }
    out += ']';
  } else {
    out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
}

/// The model's layout: one top-level key per line, and one line per value
/// info, initializer and node (8,000 lines of shape numbers otherwise).
std::string formatModel(const ojson &root) {
  std::string out = "{\n";
  size_t k = 0;
  for (const auto &[key, value] : root.items()) {
    out += "  " + ojson(key).dump() + ": ";
    if (value.is_array() && !value.empty()) {
      out += "[\n";
      for (size_t i = 0; i < value.size(); ++i) {
        out += "    ";
        writeInline(value[i], out);
        out += i + 1 < value.size() ? ",\n" : "\n";
      }
      out += "  ]";
    } else {
      writeInline(value, out);
    }
    out += ++k < root.size() ? ",\n" : "\n";
  }
  return out + "}\n";
}

/// The double with the fewest digits that reads back as `f`, so that a
/// float attribute prints as 1e-05 rather than 9.999999747378752e-06.
double shortestFloat(float f) {
  if (!std::isfinite(f))
    return f;
  char buf[32];
  for (int digits = 6; digits < 9; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, static_cast<double>(f));
    if (std::strtof(buf, nullptr) == f)
      return std::strtod(buf, nullptr);
  }
  return f;
}

/// Collects tensor bytes into the side file, 64-byte aligned.
struct WeightsWriter {
  std::string bytes;
  Expected<ojson> tensor(const onnx::TensorProto &t) {
    ojson j;
    if (!t.name().empty())
      j["name"] = t.name();
    std::string dtype = onnxElementName(t.data_type());
    if (dtype.empty())
      return makeError("tensor '" + t.name() + "': element type " +
                       Twine(t.data_type()) + " has no JSON form");
    j["dtype"] = dtype;
    j["shape"] = std::vector<int64_t>(t.dims().begin(), t.dims().end());
    auto data = tensorBytes(t);
    if (!data)
      return data.takeError();
    bytes.resize((bytes.size() + 63) / 64 * 64, '\0');
    j["offset"] = bytes.size();
    j["length"] = data->size();
    bytes += *data;
    return j;
  }
};

Expected<ojson> attributeJson(const onnx::AttributeProto &a,
                             WeightsWriter &weights) {
  using A = onnx::AttributeProto;
  switch (a.type()) {
  case A::INT:
    return ojson(a.i());
  case A::FLOAT:
    // Keep a fraction so it reads back as FLOAT even when integral.
    if (std::isfinite(a.f()) && a.f() == std::floor(a.f()))
      return ojson{{"type", "float"}, {"value", static_cast<double>(a.f())}};
    return ojson(shortestFloat(a.f()));
  case A::STRING:
    return ojson(a.s());
  case A::INTS:
    return ojson{{"type", "ints"},
                {"value", std::vector<int64_t>(a.ints().begin(), a.ints().end())}};
  case A::FLOATS: {
    std::vector<double> v;
    for (float f : a.floats())
      v.push_back(shortestFloat(f));
    return ojson{{"type", "floats"}, {"value", v}};
  }
  case A::STRINGS:
    return ojson{{"type", "strings"},
                {"value", std::vector<std::string>(a.strings().begin(),
                                                   a.strings().end())}};
  case A::TENSOR: {
    auto t = weights.tensor(a.t());
    if (!t)
      return t.takeError();
    return ojson{{"tensor", *t}};
  }
  default:
    return makeError("attribute '" + a.name() + "' of type " +
                     A::AttributeType_Name(a.type()) + " has no JSON form");
  }
}

Expected<ojson> valueInfoJson(const onnx::ValueInfoProto &v) {
  ojson j;
  j["name"] = v.name();
  const auto &tt = v.type().tensor_type();
  std::string dtype = onnxElementName(tt.elem_type());
  if (!v.type().has_tensor_type() || dtype.empty())
    return makeError("value '" + v.name() + "' is not a tensor of a supported type");
  j["dtype"] = dtype;
  if (tt.has_shape()) {
    std::vector<int64_t> dims;
    for (const auto &d : tt.shape().dim()) {
      if (!d.has_dim_value())
        return makeError("value '" + v.name() +
                         "' has a dynamic dimension; the JSON form is static");
      dims.push_back(d.dim_value());
    }
    j["shape"] = dims;
  }
  return j;
}

} // namespace

Error writeJsonModel(const onnx::ModelProto &model, const std::string &jsonPath,
                     const std::vector<std::string> &sourceFiles) {
  const onnx::GraphProto &g = model.graph();
  WeightsWriter weights;
  ojson root;
  root["format"] = "kiln-graph";
  root["version"] = 1;
  root["name"] = g.name();
  int64_t opset = 0;
  for (const auto &o : model.opset_import())
    if (o.domain().empty() || o.domain() == "ai.onnx")
      opset = o.version();
  root["opset"] = opset ? opset : 17;
  std::string weightsName = sys::path::stem(jsonPath).str() + ".weights.bin";
  root["weights_file"] = weightsName;
  {
    // Refuse to replace a file the source model may still read (its weights
    // file or external data): the source would silently change meaning.
    SmallString<256> target(sys::path::parent_path(jsonPath));
    sys::path::append(target, weightsName);
    SmallString<256> realTarget;
    if (!sys::fs::real_path(target, realTarget))
      for (const std::string &used : sourceFiles)
        if (used == realTarget.str())
          return makeError("writing '" + jsonPath + "' would overwrite '" +
                           realTarget.str().str() +
                           "', which the source model reads; choose another output name");
  }

  std::set<std::string> initNames;
  for (const auto &t : g.initializer())
    initNames.insert(t.name());
  ojson inputs = ojson::array(), outputs = ojson::array(),
       inits = ojson::array(), nodes = ojson::array();
  for (const auto &v : g.input()) {
    if (initNames.count(v.name()))
      continue;
    auto j = valueInfoJson(v);
    if (!j)
      return j.takeError();
    inputs.push_back(*j);
  }
  for (const auto &v : g.output()) {
    auto j = valueInfoJson(v);
    if (!j)
      return j.takeError();
    outputs.push_back(*j);
  }
  for (const auto &t : g.initializer()) {
    auto j = weights.tensor(t);
    if (!j)
      return j.takeError();
    inits.push_back(*j);
  }
  for (const auto &n : g.node()) {
    ojson jn;
    if (!n.name().empty())
      jn["name"] = n.name();
    jn["op_type"] = n.op_type();
    if (!n.domain().empty())
      jn["domain"] = n.domain();
    jn["inputs"] = std::vector<std::string>(n.input().begin(), n.input().end());
    jn["outputs"] =
        std::vector<std::string>(n.output().begin(), n.output().end());
    ojson attrs = ojson::object();
    for (const auto &a : n.attribute()) {
      auto j = attributeJson(a, weights);
      if (!j)
        return makeError("node '" + n.name() + "' (" + n.op_type() + "): " +
                         toString(j.takeError()));
      attrs[a.name()] = *j;
    }
    if (!attrs.empty())
      jn["attributes"] = attrs;
    nodes.push_back(jn);
  }
  root["inputs"] = inputs;
  root["outputs"] = outputs;
  root["initializers"] = inits;
  root["nodes"] = nodes;

  // The weights first: a JSON file is never left naming weights not written.
  SmallString<256> weightsPath(sys::path::parent_path(jsonPath));
  sys::path::append(weightsPath, weightsName);
  if (Error e = writeFileAtomically(weightsPath.str().str(),
                                    StringRef(weights.bytes.data(), weights.bytes.size())))
    return e;
  std::string text = formatModel(root);
  if (Error e = writeFileAtomically(jsonPath, text)) {
    sys::fs::remove(weightsPath);
    return e;
  }
  return Error::success();
}

} // namespace kiln
