//===- EntryPointFuzzer.cpp - Fuzz target: a compiled model's entry points ===//
//
// Drives the entry points of a generated model (`fuzzmodel`: Gather rows of
// a constant table by a run-time int64 index tensor, so input values matter)
// with what a careless or hostile caller could pass. The first byte picks
// the entry point:
//   0  createFromMemory on the remaining bytes as a weights image;
//   1  run() on TensorView arrays of fuzzed count, element types, ranks,
//      dims, null pointers and contents;
//   2  the C ABI's fuzzmodel_run the same way (and null handles);
//   3  the typed run() with fuzzed index values.
// Every buffer holds exactly what its declared dims need, so an entry point
// that accepts a view and then reads past it is caught by ASan.
//
//===----------------------------------------------------------------------===//

#include "fuzzmodel.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace {

/// Reads the fuzzer's bytes as small integers; zeros once they run out.
class Bytes {
public:
  Bytes(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint8_t u8() { return pos < size ? data[pos++] : 0; }
  int64_t dim() {
    uint8_t b = u8();
    // Mostly small extents, sometimes huge or negative ones.
    switch (b >> 6) {
    case 0:
    case 1:
      return b & 7;
    case 2:
      return int64_t(b & 63) << (u8() % 48);
    default:
      return -int64_t(b & 63) - 1;
    }
  }
  void fill(void *out, size_t n) {
    auto *p = static_cast<uint8_t *>(out);
    for (size_t i = 0; i < n; ++i)
      p[i] = u8();
  }

private:
  const uint8_t *data;
  size_t size, pos = 0;
};

/// One fuzzed tensor: its descriptor and a buffer of exactly the bytes its
/// dims say (none when null, negative or too large to allocate).
struct Tensor {
  kiln_tensor desc{};
  std::vector<uint8_t> storage;
};

Tensor makeTensor(Bytes &in) {
  Tensor t;
  static const int32_t dtypes[] = {1, 7, 6, 9, 10, 11, 0, 99, -1};
  t.desc.dtype = dtypes[in.u8() % (sizeof dtypes / sizeof *dtypes)];
  t.desc.rank = in.u8() % 10 - 1; // -1 .. 8, KILN_ABI_MAX_RANK is 8
  uint64_t count = 1;
  bool allocatable = t.desc.rank >= 0;
  for (int i = 0; i < std::min<int32_t>(std::max(t.desc.rank, 0), KILN_ABI_MAX_RANK); ++i) {
    t.desc.dims[i] = in.dim();
    if (t.desc.dims[i] < 0 || __builtin_mul_overflow(count, uint64_t(t.desc.dims[i]), &count))
      allocatable = false;
  }
  size_t elem = kiln::dtypeSize(static_cast<kiln::DType>(t.desc.dtype));
  uint64_t bytes = 0;
  if (allocatable && elem && !__builtin_mul_overflow(count, elem, &bytes) && bytes <= (1u << 20) &&
      in.u8() % 8 != 0) {
    t.storage.resize(std::max<uint64_t>(bytes, 1));
    in.fill(t.storage.data(), bytes);
    t.desc.data = t.storage.data();
  }
  return t;
}

fuzzmodel::Model *sharedModel() {
  static std::unique_ptr<fuzzmodel::Model> model = [] {
    std::unique_ptr<fuzzmodel::Model> m;
    if (!fuzzmodel::Model::createEmbedded(1, m).ok())
      __builtin_trap(); // the build's own weights must load
    return m;
  }();
  return model.get();
}

/// The typed run() on three indices (the model's int64[3] input).
void runTyped(fuzzmodel::Model &model, const int64_t *idx) {
  float y[6];
  fuzzmodel::Inputs in;
  in.idx = idx;
  fuzzmodel::Outputs out;
  out.y = y;
  (void)model.run(in, out);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Bytes in(data, size);
  fuzzmodel::Model *model = sharedModel();
  switch (in.u8() % 4) {
  case 0: {
    std::vector<uint8_t> image(data + std::min<size_t>(size, 2), data + size);
    std::unique_ptr<fuzzmodel::Model> fresh;
    int threads = int(in.u8() % 4);
    if (fuzzmodel::Model::createFromMemory(image.data(), image.size(), threads, fresh).ok()) {
      const int64_t idx[3] = {0, 1, 3};
      runTyped(*fresh, idx);
    }
    break;
  }
  case 1:
  case 2: {
    bool abi = data[0] % 4 == 2;
    size_t numInputs = in.u8() % 4, numOutputs = in.u8() % 4;
    std::vector<Tensor> inputs, outputs;
    for (size_t i = 0; i < numInputs; ++i)
      inputs.push_back(makeTensor(in));
    for (size_t i = 0; i < numOutputs; ++i)
      outputs.push_back(makeTensor(in));
    std::vector<kiln_tensor> inDescs, outDescs;
    for (auto &t : inputs)
      inDescs.push_back(t.desc);
    for (auto &t : outputs)
      outDescs.push_back(t.desc);
    uint8_t nulls = in.u8();
    const kiln_tensor *inArray = (nulls & 1) ? nullptr : inDescs.data();
    kiln_tensor *outArray = (nulls & 2) ? nullptr : outDescs.data();
    if (abi) {
      char error[128];
      void *handle = (nulls & 4) ? nullptr : model;
      // The C ABI's handle is the Model; a null one must be refused.
      (void)fuzzmodel_run(handle, inArray, numInputs, outArray, numOutputs, error,
                          (nulls & 8) ? 0 : sizeof error);
    } else {
      std::vector<kiln::TensorView> inViews, outViews;
      for (auto &d : inDescs)
        inViews.emplace_back(static_cast<kiln::DType>(d.dtype), d.dims,
                             std::clamp(d.rank, 0, KILN_ABI_MAX_RANK), d.data);
      for (auto &d : outDescs)
        outViews.emplace_back(static_cast<kiln::DType>(d.dtype), d.dims,
                              std::clamp(d.rank, 0, KILN_ABI_MAX_RANK), d.data);
      (void)model->run((nulls & 1) ? nullptr : inViews.data(), numInputs,
                       (nulls & 2) ? nullptr : outViews.data(), numOutputs);
    }
    break;
  }
  default: {
    int64_t idx[3];
    in.fill(idx, sizeof idx);
    runTyped(*model, idx);
    break;
  }
  }
  return 0;
}
