//===- ModelLoader.cpp - Read a model file into an ONNX ModelProto --------===//

#include "lib/Import/ModelLoader.h"
#include "lib/Import/JsonModel.h"
#include "lib/Import/TensorData.h"

#include "onnx/defs/parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace llvm;

namespace kiln {

Error makeError(const Twine &message) {
  return createStringError(inconvertibleErrorCode(), message);
}

namespace {

/// A regular file opened for reading. It is opened without blocking and
/// checked with fstat, so a FIFO, device or directory is refused before any
/// read (and cannot be swapped in after a check by name).
struct RegularFile {
  int fd = -1;
  uint64_t size = 0;
  RegularFile() = default;
  RegularFile(RegularFile &&o) : fd(o.fd), size(o.size) { o.fd = -1; }
  RegularFile(const RegularFile &) = delete;
  ~RegularFile() {
    if (fd >= 0)
      ::close(fd);
  }

  static Expected<RegularFile> open(const std::string &path) {
    RegularFile f;
    f.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (f.fd < 0)
      return makeError("cannot open '" + path + "': " + std::strerror(errno));
    struct stat st;
    if (::fstat(f.fd, &st) != 0)
      return makeError("cannot read '" + path + "': " + std::strerror(errno));
    if (S_ISDIR(st.st_mode))
      return makeError("'" + path + "' is a directory, not a file");
    if (!S_ISREG(st.st_mode))
      return makeError("'" + path + "' is not a regular file (a pipe, socket or device)");
    f.size = static_cast<uint64_t>(st.st_size);
    return std::move(f);
  }

  /// Bytes [offset, offset + length), which the caller checked lie inside.
  Expected<std::string> read(const std::string &path, uint64_t offset, uint64_t length) {
    std::string bytes(length, '\0');
    for (uint64_t done = 0; done < length;) {
      ssize_t n = ::pread(fd, bytes.data() + done, length - done, offset + done);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return makeError("cannot read '" + path + "': " +
                         (n < 0 ? std::strerror(errno) : "it ended early"));
      done += static_cast<uint64_t>(n);
    }
    return bytes;
  }
};

} // namespace

Expected<std::string> readFileBytes(const std::string &path,
                                    uint64_t maxBytes) {
  auto file = RegularFile::open(path);
  if (!file)
    return file.takeError();
  if (file->size > maxBytes)
    return makeError("'" + path + "' is " + Twine(file->size) +
                     " bytes, more than the limit of " + Twine(maxBytes));
  return file->read(path, 0, file->size);
}

Expected<std::string> resolveInside(const std::string &dir,
                                    const std::string &relative) {
  if (relative.empty())
    return makeError("empty path");
  if (sys::path::is_absolute(relative))
    return makeError("path '" + relative + "' is absolute");
  for (auto it = sys::path::begin(relative), e = sys::path::end(relative);
       it != e; ++it)
    if (*it == "..")
      return makeError("path '" + relative + "' leaves the model directory");
  SmallString<256> realDir, realFile, joined(dir.empty() ? "." : dir);
  sys::path::append(joined, relative);
  if (sys::fs::real_path(dir.empty() ? "." : dir, realDir) ||
      sys::fs::real_path(joined, realFile))
    return makeError("cannot find '" + relative + "' next to the model");
  StringRef fileRef = realFile.str(), dirRef = realDir.str();
  if (!fileRef.starts_with(dirRef) ||
      (fileRef.size() > dirRef.size() && fileRef[dirRef.size()] != '/'))
    return makeError("path '" + relative +
                     "' resolves outside the model directory");
  return std::string(realFile.str());
}

/// Loads tensors stored as ONNX external data into raw_data.
static Error resolveExternalData(onnx::TensorProto &tensor,
                                 const std::string &dir) {
  if (tensor.data_location() != onnx::TensorProto::EXTERNAL)
    return Error::success();
  std::string location;
  uint64_t offset = 0, length = 0;
  bool hasLength = false;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset" || entry.key() == "length") {
      uint64_t v;
      if (StringRef(entry.value()).getAsInteger(10, v))
        return makeError("tensor '" + tensor.name() + "': external data " +
                         entry.key() + " '" + entry.value() +
                         "' is not a non-negative integer");
      (entry.key() == "offset" ? offset : length) = v;
      hasLength |= entry.key() == "length";
    }
  }
  auto path = resolveInside(dir, location);
  if (!path)
    return makeError("tensor '" + tensor.name() + "': external data " +
                     toString(path.takeError()));
  auto file = RegularFile::open(*path);
  if (!file)
    return makeError("tensor '" + tensor.name() + "': external data " +
                     toString(file.takeError()));
  uint64_t size = file->size;
  // Never more than the tensor's dims need: a missing length does not read a
  // huge file whole.
  SmallVector<int64_t> dims(tensor.dims().begin(), tensor.dims().end());
  auto count = checkedElementCount(dims);
  uint64_t need = 0;
  size_t elt = onnxElementSize(tensor.data_type());
  if (!count || !elt ||
      __builtin_mul_overflow(static_cast<uint64_t>(*count), static_cast<uint64_t>(elt), &need)) {
    if (!count)
      consumeError(count.takeError());
    return makeError("tensor '" + tensor.name() + "': external data of a tensor whose byte "
                     "size is unknown or overflows");
  }
  if (hasLength && length != need)
    return makeError("tensor '" + tensor.name() + "': external data length " + Twine(length) +
                     " differs from the " + Twine(need) + " bytes its dims need");
  if (!hasLength)
    length = need;
  if (offset > size || length > size - offset)
    return makeError("tensor '" + tensor.name() + "': external data range [" +
                     Twine(offset) + ", " + Twine(offset) + "+" +
                     Twine(length) + ") runs past the end of '" + location +
                     "' (" + Twine(size) + " bytes)");
  auto bytes = file->read(*path, offset, length);
  if (!bytes)
    return makeError("tensor '" + tensor.name() + "': " + toString(bytes.takeError()));
  tensor.set_raw_data(std::move(*bytes));
  tensor.clear_external_data();
  tensor.set_data_location(onnx::TensorProto::DEFAULT);
  return Error::success();
}

static Error resolveGraphExternalData(onnx::GraphProto &graph,
                                      const std::string &dir) {
  for (auto &init : *graph.mutable_initializer())
    if (Error e = resolveExternalData(init, dir))
      return e;
  for (auto &node : *graph.mutable_node())
    for (auto &attr : *node.mutable_attribute()) {
      if (attr.has_t())
        if (Error e = resolveExternalData(*attr.mutable_t(), dir))
          return e;
      if (attr.has_g())
        if (Error e = resolveGraphExternalData(*attr.mutable_g(), dir))
          return e;
    }
  return Error::success();
}

std::vector<std::string> modelSourceFiles(const std::string &path) {
  std::vector<std::string> files;
  auto add = [&](const Twine &p) {
    SmallString<256> real;
    if (!sys::fs::real_path(p, real))
      files.push_back(real.str().str());
  };
  add(path);
  std::string dir = sys::path::parent_path(path).str();
  if (dir.empty())
    dir = ".";
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes) {
    consumeError(bytes.takeError());
    return files;
  }
  if (sys::path::extension(path) == ".json") {
    // Cheap scan for the weights file name; full validation happens on load.
    size_t key = bytes->find("\"weights_file\"");
    size_t open = key == std::string::npos ? key : bytes->find('"', bytes->find(':', key));
    size_t close = open == std::string::npos ? open : bytes->find('"', open + 1);
    if (close != std::string::npos)
      add(dir + "/" + bytes->substr(open + 1, close - open - 1));
  } else {
    onnx::ModelProto model;
    if (model.ParseFromString(*bytes))
      for (const auto &t : model.graph().initializer())
        for (const auto &entry : t.external_data())
          if (entry.key() == "location")
            add(dir + "/" + entry.value());
  }
  return files;
}

Error writeFileAtomically(const std::string &path, StringRef bytes) {
  SmallString<256> tmp;
  int fd = -1;
  if (std::error_code ec = sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, tmp))
    return makeError("cannot write '" + path + "': " + ec.message());
  bool written;
  {
    raw_fd_ostream out(fd, /*shouldClose=*/true);
    out << bytes;
    out.close();
    written = !out.has_error();
    out.clear_error();
  }
  if (!written) {
    sys::fs::remove(tmp);
    return makeError("cannot write '" + path + "'");
  }
  if (std::error_code ec = sys::fs::rename(tmp, path)) {
    sys::fs::remove(tmp);
    return makeError("cannot write '" + path + "': " + ec.message());
  }
  return Error::success();
}

/// Whether the element types a type declares are ONNX data types.
static bool knownElementTypes(const onnx::TypeProto &type) {
  if (type.has_tensor_type())
    return onnx::TensorProto_DataType_IsValid(type.tensor_type().elem_type());
  if (type.has_sequence_type())
    return knownElementTypes(type.sequence_type().elem_type());
  if (type.has_optional_type())
    return knownElementTypes(type.optional_type().elem_type());
  return true;
}

/// The amount of a tensor's data agrees with its dims: ONNX's shape
/// inference copies as many elements as the dims say from a constant input,
/// unchecked (a scalar int64 Constant with one byte of data crashes it).
/// External data is checked when it is read.
static Error checkTensorData(const onnx::TensorProto &t, const std::string &what) {
  using T = onnx::TensorProto;
  if (t.data_location() == T::EXTERNAL)
    return Error::success();
  SmallVector<int64_t> dims(t.dims().begin(), t.dims().end());
  auto count = checkedElementCount(dims);
  if (!count)
    return makeError(what + ": " + toString(count.takeError()));
  const std::string shape = dimsText(dims);
  uint64_t want = static_cast<uint64_t>(*count);
  if (t.has_raw_data()) {
    uint64_t elt = onnxElementSize(t.data_type()), bytes = t.raw_data().size();
    if (elt && (bytes % elt || bytes / elt != want))
      return makeError(what + " has " + std::to_string(bytes) + " bytes of data, but its dims " +
                       shape + " need " + std::to_string(want) + " elements of " +
                       std::to_string(elt) + " bytes");
    return Error::success();
  }
  uint64_t have;
  switch (t.data_type()) {
  case T::FLOAT:
    have = t.float_data_size();
    break;
  case T::DOUBLE:
    have = t.double_data_size();
    break;
  case T::INT64:
    have = t.int64_data_size();
    break;
  case T::UINT32:
  case T::UINT64:
    have = t.uint64_data_size();
    break;
  case T::STRING:
    have = t.string_data_size();
    break;
  case T::INT32:
  case T::INT16:
  case T::INT8:
  case T::UINT16:
  case T::UINT8:
  case T::BOOL:
  case T::FLOAT16:
  case T::BFLOAT16:
    have = t.int32_data_size();
    break;
  default:
    return Error::success(); // complex and undefined: Kiln refuses them later
  }
  if (have != want)
    return makeError(what + " holds " + std::to_string(have) + " elements, but its dims " +
                     shape + " need " + std::to_string(want));
  return Error::success();
}

/// What ONNX's own code takes on trust: names are UTF-8 (ONNX says so; proto2
/// does not check; a bad one would fail deep in JSON output with no context),
/// and every data type is one ONNX defines (its shape inference indexes
/// tables by them: a Constant of type 71 crashes it).
static Error checkNamesAndTypes(const onnx::GraphProto &graph) {
  auto checkType = [](const onnx::ValueInfoProto &v, const std::string &what) -> Error {
    if (knownElementTypes(v.type()))
      return Error::success();
    return makeError(what + " '" + json::fixUTF8(v.name()) + "' has an unknown element type");
  };
  auto checkTensor = [](const onnx::TensorProto &t, const std::string &what) -> Error {
    if (!onnx::TensorProto_DataType_IsValid(t.data_type()))
      return makeError(what + " has unknown data type " + std::to_string(t.data_type()));
    return checkTensorData(t, what);
  };
  for (const auto *list : {&graph.input(), &graph.output(), &graph.value_info()})
    for (const auto &v : *list)
      if (Error e = checkType(v, "value"))
        return e;
  for (const auto &t : graph.initializer())
    if (Error e = checkTensor(t, "initializer '" + json::fixUTF8(t.name()) + "'"))
      return e;
  for (const auto &node : graph.node())
    for (const auto &attr : node.attribute()) {
      std::string where = "node '" + json::fixUTF8(node.name()) + "': attribute '" +
                          json::fixUTF8(attr.name()) + "'";
      if (attr.has_t())
        if (Error e = checkTensor(attr.t(), where))
          return e;
      for (const auto &t : attr.tensors())
        if (Error e = checkTensor(t, where))
          return e;
    }
  auto check = [](const std::string &name, const std::string &what) -> Error {
    size_t offset = 0;
    if (json::isUTF8(name, &offset))
      return Error::success();
    return makeError(what + " \"" + json::fixUTF8(name) + "\" is not valid UTF-8 (byte " +
                     std::to_string(offset) + ")");
  };
  if (Error e = check(graph.name(), "graph name"))
    return e;
  for (const auto &v : graph.input())
    if (Error e = check(v.name(), "graph input"))
      return e;
  for (const auto &v : graph.output())
    if (Error e = check(v.name(), "graph output"))
      return e;
  for (const auto &v : graph.value_info())
    if (Error e = check(v.name(), "value_info entry"))
      return e;
  for (const auto &t : graph.initializer())
    if (Error e = check(t.name(), "initializer"))
      return e;
  for (const auto &t : graph.sparse_initializer())
    if (Error e = check(t.values().name(), "sparse initializer"))
      return e;
  for (const auto &node : graph.node()) {
    if (Error e = check(node.name(), "node name"))
      return e;
    std::string where = "node '" + json::fixUTF8(node.name()) + "'";
    for (const auto &v : node.input())
      if (Error e = check(v, where + ": input"))
        return e;
    for (const auto &v : node.output())
      if (Error e = check(v, where + ": output"))
        return e;
    for (const auto &attr : node.attribute()) {
      if (Error e = check(attr.name(), where + ": attribute name"))
        return e;
      if (attr.has_g())
        if (Error e = checkNamesAndTypes(attr.g()))
          return e;
      for (const auto &g : attr.graphs())
        if (Error e = checkNamesAndTypes(g))
          return e;
    }
  }
  return Error::success();
}

Expected<onnx::ModelProto> loadModel(const std::string &path) {
  auto bytes = readFileBytes(path, kMaxModelFileBytes);
  if (!bytes)
    return makeError("model '" + path + "': " + toString(bytes.takeError()));
  return parseModel(*bytes, path);
}

Expected<onnx::ModelProto> parseModel(const std::string &bytes, const std::string &path) {
  auto withFile = [&](Error e) {
    return makeError("model '" + path + "': " + toString(std::move(e)));
  };
  StringRef ext = sys::path::extension(path);
  std::string dir = sys::path::parent_path(path).str();
  if (ext == ".json")
    return parseJsonModel(bytes, path);

  onnx::ModelProto model;
  if (ext == ".onnxtxt") {
    onnx::OnnxParser parser(bytes.c_str());
    onnx::Status status;
    try {
      status = parser.Parse(model);
    } catch (const std::out_of_range &) {
      // ONNX's parser converts literals with std::stoll/stof, which throw.
      return withFile(makeError("cannot parse ONNX text " + parser.GetCurrentPos() +
                                ": a number is out of range for its type"));
    } catch (const std::exception &e) {
      return withFile(
          makeError("cannot parse ONNX text " + parser.GetCurrentPos() + ": " + e.what()));
    }
    if (!status.IsOK())
      return withFile(makeError("cannot parse ONNX text: " +
                                status.ErrorMessage()));
  } else if (!model.ParseFromString(bytes)) {
    return withFile(makeError(
        "not a valid ONNX protobuf (truncated or not an ONNX file)"));
  }
  if (!model.has_graph())
    return withFile(makeError("the model has no graph"));
  if (Error e = checkNamesAndTypes(model.graph()))
    return withFile(std::move(e));
  if (Error e = resolveGraphExternalData(*model.mutable_graph(), dir))
    return withFile(std::move(e));
  return model;
}

} // namespace kiln
