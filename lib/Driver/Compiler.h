//===- Compiler.h - Model file -> generated C++ and report ------*- C++ -*-===//
//
// The whole compile path behind `kiln compile` and `kiln run`: load, import,
// run the pass pipeline, emit C++, and describe what was done in a report.
//
//===----------------------------------------------------------------------===//

#ifndef LIB_DRIVER_COMPILER_H
#define LIB_DRIVER_COMPILER_H

#include "lib/Import/StructureLowering.h"

#include "llvm/Support/Error.h"
#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>

namespace kiln {

struct CompileOptions {
  std::string modelPath;
  /// Namespace and C ABI prefix; empty picks a name from the model path.
  std::string name;
  bool foldBatchNorm = true;
  /// Also emit `<name>.weights.S`, which embeds the weights file, and
  /// Model::createEmbedded().
  bool embedWeights = false;
  /// Graph inputs compiled as the constants in these TensorProto files
  /// (input name -> .pb path). The inputs stay in the signature and the
  /// generated code checks at run time that callers pass exactly these values.
  std::map<std::string, std::string> specialize;
  /// Forms of graph inputs (`--input-shape`): fixes dynamic dimensions, and
  /// gives sequences their lengths and optionals their presence.
  std::map<std::string, ValueShape> inputShapes;
  /// Optimisations to leave out (`--disable`): see knownPassNames().
  std::set<std::string> disabledPasses;
  /// Backend (`--target`, see codegen/Backend.h): "cpu" or "cuda".
  std::string target = "cpu";
  /// CUDA target (`--gpu`): the PTX's architecture, sm_80 to sm_90.
  std::string gpu = "sm_80";
  /// CUDA arithmetic (`--precision`): fp32 (exact ONNX semantics), or tf32,
  /// fp16 or bf16 on tensor cores (see docs/cuda.md).
  std::string precision = "fp32";
  /// `--emulate` (CUDA): C++ for the CPU that runs the GPU form's loop nests,
  /// so that the GPU lowering is checked on machines without a GPU.
  bool emulate = false;
  /// Target of the generated C++ (`--cpu`): native, x86-64-v4 (AVX-512),
  /// x86-64-v3 (AVX2 + FMA) or generic. It sizes the micro-kernel's tiles and
  /// the packed weights; the source then needs the matching -march.
  std::string cpu = "native";
  /// `--deterministic`: outputs bitwise identical across thread counts and
  /// runs. Recorded in the report (see docs/cli.md for what it pins).
  bool deterministic = false;
  /// `--max-constant-bytes`: the budget for constants made at compile time
  /// (see ConstantBudget).
  int64_t maxConstantBytes = ConstantBudget::kDefaultModelBytes;
  /// Print the weights in CompileResult::mlir (`--emit-mlir-with-weights`),
  /// so the file parses back with kiln-opt; otherwise large constants are
  /// elided.
  bool mlirWithWeights = false;
};

/// The names `--precision` accepts.
const std::vector<std::string> &knownPrecisions();

/// How much looser than float32's the default tolerances of `kiln run` are
/// under `--precision`: inputs of products rounded to 10 mantissa bits (tf32,
/// fp16) or 7 (bf16) err about 10x or 50x more than float32 kernels do.
double precisionToleranceScale(const std::string &precision);

/// The names `--cpu` accepts.
const std::vector<std::string> &knownCpuTargets();

/// The names `--disable` accepts, each with what it turns off.
const std::map<std::string, std::string> &knownPassNames();

/// Parses a comma-separated `--disable` list, rejecting unknown names.
llvm::Expected<std::set<std::string>> parseDisabledPasses(const std::string &list);

struct CompileResult {
  std::string name;
  std::string header, cHeader, source;
  /// Target cuda (not emulated): the PTX the source embeds, also written as
  /// <name>.ptx for inspection and ptxas.
  std::string ptx;
  std::vector<char> weightsFile;
  bool embedWeights = false;
  /// Pretty-printed MLIR after the pass pipeline (large constants elided).
  std::string mlir;
  nlohmann::json report;
};

/// The name `kiln compile` gives a model when --name is absent: the file stem,
/// or the directory name for files called `model.*`.
std::string defaultModelName(const std::string &modelPath);

llvm::Expected<CompileResult> compileModel(const CompileOptions &options);

/// compileModel for a model already loaded (`options.modelPath` names it in
/// messages); `start` is when the work began, for the report's timings.
llvm::Expected<CompileResult>
compileLoadedModel(onnx::ModelProto model, const CompileOptions &options,
                   std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now());

/// Writes `<dir>/<name>.h`, `.cpp`, `.weights` (and `.report.json` and
/// `.mlir` when asked), each through a temporary file and a rename so that a
/// failure leaves nothing half-written.
llvm::Error writeCompileResult(const CompileResult &result,
                               const std::string &dir, bool writeReport,
                               bool writeMlir);

} // namespace kiln

#endif // LIB_DRIVER_COMPILER_H
