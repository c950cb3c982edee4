//===- harness.cpp - Check and time one CUDA-compiled model ---------------===//
//
//   harness MODEL.so NAME DATA_DIR RUNS [TOLERANCE_SCALE]
//
// Loads a model built from `kiln compile --target cuda` through its C ABI,
// runs it on DATA_DIR/input_<i>.raw (the model's input tensors, raw), checks
// every output against DATA_DIR/output_<i>.raw (float32: |a - e| <= atol +
// rtol |e|, rtol 1e-3, atol 1e-3 x max |e|, both times TOLERANCE_SCALE
// (default 1; kiln run's scales for --precision); float inputs without a file get
// fixed pseudo-random values and nothing to check), then times RUNS runs (host
// pointers in and out, copies included). Prints one JSON line; exit 0 when
// every output matches, 1 on a mismatch, 2 on an error.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Abi.h"

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

size_t dtypeSize(int dtype) {
  switch (dtype) {
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  case 10: case 5: case 4: return 2;
  default: return 1;
  }
}

bool readFile(const std::string &path, std::vector<char> &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return false;
  out.assign(std::istreambuf_iterator<char>(in), {});
  return true;
}

} // namespace

int main(int argc, char **argv) {
  if (argc != 5 && argc != 6) {
    std::fprintf(stderr, "usage: harness MODEL.so NAME DATA_DIR RUNS [TOLERANCE_SCALE]\n");
    return 2;
  }
  std::string so = argv[1], name = argv[2], data = argv[3];
  int runs = std::max(1, std::atoi(argv[4]));
  double scale = argc == 6 ? std::max(1.0, std::atof(argv[5])) : 1.0;
  void *lib = dlopen(so.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    std::fprintf(stderr, "cannot load %s: %s\n", so.c_str(), dlerror());
    return 2;
  }
  auto sym = [&](const char *suffix) { return dlsym(lib, (name + suffix).c_str()); };
  auto create = (void *(*)(const char *, int, char *, size_t))sym("_create");
  auto run = (int (*)(void *, const kiln_tensor *, size_t, kiln_tensor *, size_t, char *,
                      size_t))sym("_run");
  auto destroy = (void (*)(void *))sym("_destroy");
  auto numInputs = (size_t(*)())sym("_num_inputs");
  auto numOutputs = (size_t(*)())sym("_num_outputs");
  auto inputInfo = (int (*)(size_t, kiln_tensor_info *))sym("_input_info");
  auto outputInfo = (int (*)(size_t, kiln_tensor_info *))sym("_output_info");
  if (!create || !run || !destroy || !numInputs || !numOutputs || !inputInfo || !outputInfo) {
    std::fprintf(stderr, "%s does not export the C ABI of model '%s'\n", so.c_str(),
                 name.c_str());
    return 2;
  }
  char error[4096] = {};
  std::string weights = so.substr(0, so.size() - 3) + ".weights";
  void *model = create(weights.c_str(), 1, error, sizeof error);
  if (!model) {
    std::printf("{\"model\": \"%s\", \"error\": \"%s\"}\n", name.c_str(), error);
    return 2;
  }
  std::vector<std::vector<char>> inData(numInputs()), outData(numOutputs());
  std::vector<kiln_tensor> in(numInputs()), out(numOutputs());
  auto tensor = [](const kiln_tensor_info &info, std::vector<char> &buf) {
    kiln_tensor t{};
    t.dtype = info.dtype;
    t.rank = info.rank;
    size_t n = dtypeSize(info.dtype);
    for (int d = 0; d < info.rank; ++d) {
      t.dims[d] = info.dims[d];
      n *= static_cast<size_t>(info.dims[d]);
    }
    buf.resize(std::max(buf.size(), n));
    t.data = buf.data();
    return t;
  };
  for (size_t i = 0; i < in.size(); ++i) {
    kiln_tensor_info info;
    inputInfo(i, &info);
    bool given = readFile(data + "/input_" + std::to_string(i) + ".raw", inData[i]);
    in[i] = tensor(info, inData[i]);
    if (!given && info.dtype == 1) {
      // No input file (the GEMM benchmark): fixed pseudo-random floats.
      float *f = static_cast<float *>(in[i].data);
      uint32_t s = 12345u + static_cast<uint32_t>(i);
      for (size_t j = 0; j < inData[i].size() / 4; ++j) {
        s = s * 1664525u + 1013904223u;
        f[j] = static_cast<float>(s >> 8) / 16777216.0f - 0.5f;
      }
    } else if (!given) {
      std::fprintf(stderr, "cannot read input %zu in %s\n", i, data.c_str());
      return 2;
    }
  }
  for (size_t i = 0; i < out.size(); ++i) {
    kiln_tensor_info info;
    outputInfo(i, &info);
    out[i] = tensor(info, outData[i]);
  }
  if (run(model, in.data(), in.size(), out.data(), out.size(), error, sizeof error) != 0) {
    std::printf("{\"model\": \"%s\", \"error\": \"%s\"}\n", name.c_str(), error);
    return 2;
  }
  bool match = true;
  double worst = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    std::vector<char> expected;
    if (out[i].dtype != 1 ||
        !readFile(data + "/output_" + std::to_string(i) + ".raw", expected))
      continue;
    const float *e = reinterpret_cast<const float *>(expected.data());
    const float *a = static_cast<const float *>(out[i].data);
    size_t n = expected.size() / 4;
    double maxAbs = 0;
    for (size_t j = 0; j < n; ++j)
      maxAbs = std::max(maxAbs, std::fabs((double)e[j]));
    double atol = std::max(1e-7, 1e-3 * maxAbs) * scale;
    for (size_t j = 0; j < n; ++j) {
      double err = std::fabs((double)a[j] - e[j]);
      worst = std::max(worst, err);
      if (!(err <= atol + 1e-3 * scale * std::fabs((double)e[j])))
        match = false;
    }
  }
  std::vector<double> ms;
  for (int r = 0; r < runs + 3; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    if (run(model, in.data(), in.size(), out.data(), out.size(), error, sizeof error) != 0) {
      std::printf("{\"model\": \"%s\", \"error\": \"%s\"}\n", name.c_str(), error);
      return 2;
    }
    if (r >= 3)
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  std::printf("{\"model\": \"%s\", \"match\": %s, \"max_abs_error\": %g, \"median_ms\": %.4f}\n",
              name.c_str(), match ? "true" : "false", worst, ms[ms.size() / 2]);
  destroy(model);
  return match ? 0 : 1;
}
