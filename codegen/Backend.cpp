//===- Backend.cpp - The --target registry --------------------------------===//

#include "codegen/Backend.h"

namespace kiln {

static const Backend kBackends[] = {
    {"cpu", "C++ source for the CPU (a model class, a C ABI and a weights file)", emitCpp},
    {"cuda", "PTX for NVIDIA GPUs and the C++ host code that launches it", emitCuda},
};

const Backend *lookupBackend(const std::string &name) {
  for (const Backend &b : kBackends)
    if (name == b.name)
      return &b;
  return nullptr;
}

std::vector<std::string> backendNames() {
  std::vector<std::string> names;
  for (const Backend &b : kBackends)
    names.push_back(b.name);
  return names;
}

} // namespace kiln
