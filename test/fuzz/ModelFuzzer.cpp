//===- ModelFuzzer.cpp - Fuzz target: model bytes to generated C++ --------===//
//
// A model file's bytes go through everything `kiln compile` does with them:
// parsing, Kiln's own checks, ONNX checking and shape inference, import,
// constant folding, the graph passes and C++ code generation. The format is
// the extension of KILN_FUZZ_MODEL_PATH (.onnx, .onnxtxt or .json); its
// directory does not exist, so no external data or weights file is read.
// Any error is an acceptable outcome; a crash, hang or sanitizer report is
// a finding.
//
//===----------------------------------------------------------------------===//

#include "lib/Driver/Compiler.h"
#include "lib/Import/ModelLoader.h"

#include <cstdint>
#include <exception>
#include <string>

#ifndef KILN_FUZZ_MODEL_PATH
#error "define KILN_FUZZ_MODEL_PATH (its extension picks the format)"
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const std::string path = KILN_FUZZ_MODEL_PATH;
  std::string bytes(reinterpret_cast<const char *>(data), size);
  auto model = kiln::parseModel(bytes, path);
  if (!model) {
    llvm::consumeError(model.takeError());
    return 0;
  }
  kiln::CompileOptions options;
  options.modelPath = path;
  options.name = "fuzzed";
  options.cpu = "generic"; // the same code whatever the fuzzing machine
  options.maxConstantBytes = 16 << 20;
  try {
    auto result = kiln::compileLoadedModel(std::move(*model), options);
    if (!result)
      llvm::consumeError(result.takeError());
  } catch (const std::exception &) {
    // What kiln's main() catches as its last line of defence: an error
    // message, not a crash.
  }
  return 0;
}
