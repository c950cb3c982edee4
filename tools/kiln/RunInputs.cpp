//===- RunInputs.cpp - Inputs of `kiln run` without a data directory ------===//

#include "tools/kiln/RunInputs.h"
#include "lib/Driver/NpyFile.h"
#include "lib/Driver/TensorFile.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"

#include "onnx/onnx_pb.h"
#include "llvm/ADT/StringRef.h"

#include <cstring>
#include <map>
#include <random>
#include <set>

namespace kiln {

namespace {

/// The IEEE half-precision bits of `v`, for |v| <= 1 (what random inputs
/// draw): subnormal results flush to zero.
uint16_t halfBits(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  uint16_t sign = (bits >> 16) & 0x8000;
  int exponent = int((bits >> 23) & 0xff) - 127 + 15;
  if (exponent <= 0)
    return sign;
  return sign | uint16_t(exponent << 10) | uint16_t((bits >> 13) & 0x3ff);
}

llvm::Expected<HostTensor> randomTensor(const onnx::ValueInfoProto &input, std::mt19937_64 &rng,
                                        const std::string &path) {
  const auto &type = input.type();
  if (!type.has_tensor_type())
    return makeError("model '" + path + "': input '" + input.name() +
                     "' is not a tensor: give it with --input NAME=FILE.pb");
  auto dims = staticDims(type);
  if (!dims)
    return makeError("model '" + path + "': input '" + input.name() +
                     "' has no static shape: give it with --input NAME=FILE");
  HostTensor t;
  t.dtype = type.tensor_type().elem_type();
  t.dims = *dims;
  auto count = checkedElementCount(t.dims);
  if (!count)
    return count.takeError();
  size_t size = onnxElementSize(t.dtype);
  if (!size || t.dtype == 16 /*bfloat16*/)
    return makeError("model '" + path + "': input '" + input.name() + "' is " +
                     onnxElementName(t.dtype) + ": --random-inputs draws bool, integers, " +
                     "float16, float32 and float64");
  t.data.resize(size_t(*count) * size);
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 3);
  for (int64_t i = 0; i < *count; ++i) {
    char *at = t.data.data() + i * size;
    switch (t.dtype) {
    case 1: { float v = float(real(rng)); std::memcpy(at, &v, 4); break; }
    case 11: { double v = real(rng); std::memcpy(at, &v, 8); break; }
    case 10: { uint16_t v = halfBits(float(real(rng))); std::memcpy(at, &v, 2); break; }
    case 9: *at = char(small(rng) & 1); break;
    default: {
      // Integers, little-endian: a small non-negative value in the low byte.
      std::memset(at, 0, size);
      *at = char(small(rng));
    }
    }
  }
  return t;
}

} // namespace

llvm::Expected<std::string> writeInputDirectory(const onnx::ModelProto &model,
                                                const std::string &modelPath,
                                                const std::vector<std::string> &inputs,
                                                bool random, uint64_t seed,
                                                const std::string &dir) {
  const std::string &path = modelPath;
  std::set<std::string> initializers;
  for (const auto &t : model.graph().initializer())
    initializers.insert(t.name());
  std::vector<const onnx::ValueInfoProto *> graphInputs;
  for (const auto &v : model.graph().input())
    if (!initializers.count(v.name()))
      graphInputs.push_back(&v);

  std::map<std::string, std::string> files;
  for (const std::string &entry : inputs) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return makeError("--input expects NAME=FILE (.npy or .pb), got '" + entry + "'");
    std::string name = entry.substr(0, eq);
    bool known = false;
    for (const auto *v : graphInputs)
      known |= v->name() == name;
    if (!known) {
      std::string names;
      for (const auto *v : graphInputs)
        names += (names.empty() ? "'" : ", '") + v->name() + "'";
      return makeError("--input " + entry + ": the model has no input '" + name +
                       "' (its inputs: " + names + ")");
    }
    if (!files.emplace(name, entry.substr(eq + 1)).second)
      return makeError("--input: input '" + name + "' is given twice");
  }

  std::mt19937_64 rng(seed);
  std::string described;
  for (size_t i = 0; i < graphInputs.size(); ++i) {
    const onnx::ValueInfoProto &v = *graphInputs[i];
    std::string target = dir + "/input_" + std::to_string(i) + ".pb";
    auto file = files.find(v.name());
    std::string from;
    if (file != files.end()) {
      llvm::StringRef f(file->second);
      if (f.ends_with(".npy")) {
        auto t = readNpyFile(file->second);
        if (!t)
          return t.takeError();
        t->name = v.name();
        // Say which file is wrong while it is known (the run's own check
        // would name the directory this writes).
        if (v.type().has_tensor_type()) {
          int32_t want = v.type().tensor_type().elem_type();
          auto dims = staticDims(v.type());
          if ((want && want != t->dtype) || (dims && *dims != t->dims)) {
            return makeError("model '" + path + "': input '" + v.name() + "' is " +
                             onnxElementName(want) + (dims ? dimsText(*dims) : "") +
                             ", but '" + file->second + "' holds " +
                             onnxElementName(t->dtype) + dimsText(t->dims));
          }
        }
        if (llvm::Error e = writeTensorFile(*t, target))
          return std::move(e);
      } else if (f.ends_with(".pb")) {
        auto bytes = readFileBytes(file->second, kMaxModelFileBytes);
        if (!bytes)
          return bytes.takeError();
        if (llvm::Error e = writeFileAtomically(target, *bytes))
          return std::move(e);
      } else {
        return makeError("--input " + v.name() + "=" + file->second +
                         ": the file must end in .npy or .pb");
      }
      from = v.name() + "=" + file->second;
    } else if (random) {
      auto t = randomTensor(v, rng, path);
      if (!t)
        return t.takeError();
      t->name = v.name();
      if (llvm::Error e = writeTensorFile(*t, target))
        return std::move(e);
      from = v.name() + " random";
    } else {
      return makeError("no data for input '" + v.name() +
                       "': give it with --input NAME=FILE, or use --random-inputs");
    }
    described += (described.empty() ? "" : ", ") + from;
  }
  if (random)
    described += " (seed " + std::to_string(seed) + ")";
  return described.empty() ? std::string("no inputs") : described;
}

} // namespace kiln
