//===- NpyFile.cpp - NumPy .npy tensor files ------------------------------===//
//
// The format: the magic "\x93NUMPY", a major and minor version byte, the
// header's length (2 bytes little-endian in version 1, 4 in versions 2 and 3)
// and the header, a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (1, 3, 224, 224), }
// padded with spaces and a newline, then the elements.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/NpyFile.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "llvm/ADT/StringRef.h"

#include <map>

namespace kiln {

namespace {

// ONNX element type <-> NumPy type string (without byte order).
const std::map<std::string, int32_t> &npyTypes() {
  static const std::map<std::string, int32_t> types = {
      {"b1", 9},  {"i1", 3},  {"u1", 2},  {"i2", 5},  {"u2", 4},  {"i4", 6}, {"u4", 12},
      {"i8", 7},  {"u8", 13}, {"f2", 10}, {"f4", 1},  {"f8", 11}};
  return types;
}

/// The value of `key` in the header dict, as written (a quoted string, a
/// word or a parenthesised tuple), or "" if absent.
std::string headerValue(llvm::StringRef header, llvm::StringRef key) {
  for (char quote : {'\'', '"'}) {
    std::string quoted = std::string(1, quote) + key.str() + quote;
    size_t at = header.find(quoted);
    if (at == llvm::StringRef::npos)
      continue;
    llvm::StringRef rest = header.drop_front(at + quoted.size()).ltrim();
    if (!rest.consume_front(":"))
      return "";
    rest = rest.ltrim();
    if (rest.starts_with("(")) {
      size_t end = rest.find(')');
      return end == llvm::StringRef::npos ? "" : rest.take_front(end + 1).str();
    }
    if (rest.starts_with("'") || rest.starts_with("\"")) {
      size_t end = rest.find(rest.front(), 1);
      return end == llvm::StringRef::npos ? "" : rest.take_front(end + 1).str();
    }
    return rest.take_until([](char c) { return c == ',' || c == '}'; }).rtrim().str();
  }
  return "";
}

} // namespace

llvm::Expected<HostTensor> parseNpy(const std::string &bytes, const std::string &path) {
  auto bad = [&](const std::string &why) {
    return makeError("'" + path + "' is not a .npy file Kiln can read: " + why);
  };
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return bad("no .npy magic");
  int major = static_cast<unsigned char>(bytes[6]);
  size_t lengthBytes = major == 1 ? 2 : major == 2 || major == 3 ? 4 : 0;
  if (!lengthBytes)
    return bad("format version " + std::to_string(major) + " (1 to 3 are known)");
  if (bytes.size() < 8 + lengthBytes)
    return bad("truncated header");
  size_t headerLength = 0;
  for (size_t i = 0; i < lengthBytes; ++i)
    headerLength |= size_t(static_cast<unsigned char>(bytes[8 + i])) << (8 * i);
  size_t dataOffset = 8 + lengthBytes + headerLength;
  if (dataOffset > bytes.size())
    return bad("truncated header");
  llvm::StringRef header(bytes.data() + 8 + lengthBytes, headerLength);

  std::string descr = headerValue(header, "descr");
  if (descr.size() < 3)
    return bad("no 'descr' in the header");
  llvm::StringRef type = llvm::StringRef(descr).drop_front().drop_back(); // quotes
  char order = type.empty() ? 0 : type.front();
  if (order == '>')
    return bad("big-endian data ('" + type.str() + "')");
  if (order == '<' || order == '|' || order == '=')
    type = type.drop_front();
  auto known = npyTypes().find(type.str());
  if (known == npyTypes().end())
    return bad("element type '" + type.str() +
               "' (bool, int8-64, uint8-64 and float16/32/64 are supported)");
  if (headerValue(header, "fortran_order") != "False")
    return bad("Fortran-ordered data (save it C-ordered: numpy.ascontiguousarray)");
  std::string shape = headerValue(header, "shape");
  if (shape.size() < 2 || shape.front() != '(' || shape.back() != ')')
    return bad("no 'shape' tuple in the header");

  HostTensor t;
  t.dtype = known->second;
  llvm::SmallVector<llvm::StringRef> dims;
  llvm::StringRef(shape).drop_front().drop_back().split(dims, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef d : dims) {
    d = d.trim();
    if (d.empty())
      continue;
    int64_t v;
    if (d.getAsInteger(10, v) || v < 0)
      return bad("shape " + shape + " has a bad dimension '" + d.str() + "'");
    t.dims.push_back(v);
  }
  auto count = checkedElementCount(t.dims);
  if (!count)
    return bad(llvm::toString(count.takeError()));
  size_t elementSize = onnxElementSize(t.dtype);
  if (*count && size_t(*count) > (bytes.size() - dataOffset) / elementSize)
    return bad("shape " + shape + " needs " + std::to_string(*count) + " elements but the file " +
               "holds " + std::to_string((bytes.size() - dataOffset) / elementSize));
  size_t dataBytes = size_t(*count) * elementSize;
  if (bytes.size() - dataOffset != dataBytes)
    return bad(std::to_string(bytes.size() - dataOffset - dataBytes) +
               " bytes after the data of shape " + shape);
  t.data.assign(bytes.begin() + dataOffset, bytes.end());
  return t;
}

llvm::Expected<HostTensor> readNpyFile(const std::string &path) {
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes)
    return bytes.takeError();
  return parseNpy(*bytes, path);
}

llvm::Error writeNpyFile(const HostTensor &tensor, const std::string &path) {
  std::string type;
  for (const auto &[name, code] : npyTypes())
    if (code == tensor.dtype)
      type = name;
  if (type.empty())
    return makeError("cannot write '" + path + "': no .npy type for element type " +
                     onnxElementName(tensor.dtype));
  std::string shape = "(";
  for (int64_t d : tensor.dims)
    shape += std::to_string(d) + ", ";
  if (tensor.dims.size() > 1)
    shape.resize(shape.size() - 2);
  else if (tensor.dims.size() == 1)
    shape.pop_back(); // "(n,)"
  shape += ")";
  std::string header = "{'descr': '" + std::string(type[0] == 'b' || type == "i1" || type == "u1" ? "|" : "<") +
                       type + "', 'fortran_order': False, 'shape': " + shape + ", }";
  // Magic, version 1.0, 2-byte length; the data starts at a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(tensor.data.begin(), tensor.data.end());
  return writeFileAtomically(path, bytes);
}

} // namespace kiln
