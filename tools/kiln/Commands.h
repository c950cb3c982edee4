//===- Commands.h - Subcommands of the kiln tool ----------------*- C++ -*-===//

#ifndef TOOLS_KILN_COMMANDS_H
#define TOOLS_KILN_COMMANDS_H

#include "lib/Import/ConstantEvaluator.h"

#include <string>
#include <vector>

namespace kiln {

struct RunOptions {
  std::string model;
  std::vector<std::string> dataDirs;
  /// `--input NAME=FILE` (.npy or .pb) and `--random-inputs` (seeded by
  /// `--seed`): the inputs without a data directory (RunInputs.h).
  std::vector<std::string> inputs;
  bool randomInputs = false;
  uint64_t seed = 1;
  std::string saveDir;
  /// `--save-format`: "pb" (ONNX TensorProto) or "npy".
  std::string saveFormat = "pb";
  std::string name;
  /// Negative: the default, 1e-3 scaled for --precision
  /// (precisionToleranceScale).
  double rtol = -1;
  /// Negative: relative to each output's magnitude (magnitudeAtol), scaled
  /// for --precision.
  double atol = -1;
  int bench = 0;
  /// Untimed runs before the timed ones; negative: max(2, bench / 10).
  int warmup = -1;
  int threads = 1;
  bool json = false;
  bool foldBatchNorm = true;
  /// "shapes" (old name "auto"), or comma-separated graph input names, to
  /// specialise on the values in the first data directory (see `kiln run --help`).
  std::string specializeInputs;
  /// Fail (exit 2) when an output has no output_<i>.pb to compare with.
  bool requireExpected = false;
  /// Comma-separated optimisations to leave out (see CompileOptions).
  std::string disable;
  /// `--target` backend, `--cpu` target (see CompileOptions) and
  /// `--deterministic`.
  std::string target = "cpu";
  std::string cpu = "native";
  bool deterministic = false;
  /// `--gpu`, `--precision` and `--emulate` of the CUDA target.
  std::string gpu = "sm_80";
  std::string precision = "fp32";
  bool emulate = false;
  /// Build with per-kernel timers and print where the time goes.
  bool profile = false;
  /// `--max-constant-bytes`, as for compile.
  int64_t maxConstantBytes = ConstantBudget::kDefaultModelBytes;
};

/// `kiln run`: returns the process exit code (0 match, 1 mismatch, 2 error).
int runCommand(const RunOptions &options);

} // namespace kiln

#endif // TOOLS_KILN_COMMANDS_H
