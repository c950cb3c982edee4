//===- RunInputs.h - Inputs of `kiln run` without a data directory -*- C++ -*-===//
//
// `--input NAME=FILE` (.npy or .pb) and `--random-inputs` become a data
// directory of input_<i>.pb files, so that they take the same path, with the
// same checks, as an ONNX test data set.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TOOLS_KILN_RUNINPUTS_H
#define KILN_TOOLS_KILN_RUNINPUTS_H

#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace onnx {
class ModelProto;
}

namespace kiln {

/// Writes the model's inputs into `dir` as input_<i>.pb: those named by
/// `inputs` (NAME=FILE) from their files, the others, with `random`, drawn
/// from a generator seeded by `seed` (floats uniform in [-1, 1], integers in
/// [0, 3], booleans either) in the declared shape. Returns a description of
/// where the inputs came from.
llvm::Expected<std::string> writeInputDirectory(const onnx::ModelProto &model,
                                                const std::string &modelPath,
                                                const std::vector<std::string> &inputs,
                                                bool random, uint64_t seed,
                                                const std::string &dir);

} // namespace kiln

#endif // KILN_TOOLS_KILN_RUNINPUTS_H
