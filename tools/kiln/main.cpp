//===- main.cpp - The kiln command-line tool ------------------------------===//
//
//   kiln compile MODEL -o DIR [--name N] [--report] [--emit-mlir] [--embed-weights]
//                [--specialize NAME=FILE.pb ...] [--input-shape NAME=SHAPE ...]
//                [--disable layout,sdpa,fusion,reuse,memplan]
//   kiln run MODEL --data DIR [--data DIR ...] [--save OUT] [--rtol R]
//            [--atol A] [--bench N] [--threads T] [--json]
//            [--specialize-inputs shapes|NAME,...] [--require-expected] [--disable LIST]
//   kiln convert MODEL -o OUT.json|OUT.onnx
//   kiln import MODEL [--elide-constants] [--input-shape NAME=SHAPE ...]
//   kiln ops [--markdown]
//
// Errors go to stderr as "kiln: error: ..." with a non-zero exit code.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "KilnVersion.h"

#include "codegen/Backend.h"
#include "codegen/cuda/GpuForm.h"
#include "lib/Driver/Compiler.h"
#include "lib/Driver/Progress.h"
#include "lib/Import/JsonModel.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/OnnxImporter.h"

#include "dialects/Kiln/KilnDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include <CLI/CLI.hpp>

#include <cmath>
#include <cstdlib>
#include <iostream>
#include <limits>

using namespace kiln;

static int reportError(llvm::Error error) {
  std::cerr << "kiln: error: " << llvm::toString(std::move(error)) << "\n";
  return 2;
}

/// Parses repeated NAME=SHAPE options (see --input-shape).
static llvm::Expected<std::map<std::string, ValueShape>>
parseInputShapes(const std::vector<std::string> &entries) {
  std::map<std::string, ValueShape> shapes;
  for (const std::string &entry : entries) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return makeError("--input-shape expects NAME=SHAPE, got '" + entry + "'");
    auto shape = parseValueShape(entry.substr(eq + 1));
    if (!shape)
      return makeError("--input-shape " + entry + ": " + llvm::toString(shape.takeError()));
    shapes[entry.substr(0, eq)] = *shape;
  }
  return shapes;
}

static int compileCommand(const std::string &model, const std::string &outDir,
                          const std::string &name, bool report, bool emitMlir,
                          bool foldBatchNorm, bool embedWeights,
                          const std::vector<std::string> &specialize,
                          const std::vector<std::string> &inputShapes,
                          const std::string &disable, CompileOptions options) {
  auto disabled = parseDisabledPasses(disable);
  if (!disabled)
    return reportError(disabled.takeError());
  options.disabledPasses = std::move(*disabled);
  options.embedWeights = embedWeights;
  auto shapes = parseInputShapes(inputShapes);
  if (!shapes)
    return reportError(shapes.takeError());
  options.inputShapes = std::move(*shapes);
  for (const std::string &entry : specialize) {
    size_t eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      return reportError(makeError("--specialize expects NAME=FILE.pb, got '" + entry + "'"));
    options.specialize[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  options.modelPath = model;
  options.name = name;
  options.foldBatchNorm = foldBatchNorm;
  auto result = compileModel(options);
  if (!result)
    return reportError(result.takeError());
  if (llvm::Error e = writeCompileResult(*result, outDir, report,
                                         emitMlir || options.mlirWithWeights))
    return reportError(std::move(e));
  if (verbosity() != Verbosity::Quiet)
    std::cout << "kiln: compiled '" << model << "' as '" << result->name
            << "' into " << outDir << " (" << result->report["kernels"]
            << " kernel calls, " << result->report["unique_kernels"]
            << " kernel functions, arena " << result->report["arena_bytes"]
            << " bytes, weights " << result->report["weights_bytes"]
            << " bytes)\n";
  return 0;
}

/// Prints the kiln IR straight after import (before any pass), for tests and
/// for users who want to see how their model was understood.
static int importCommand(const std::string &model, bool elide,
                         const std::vector<std::string> &inputShapes, int64_t maxConstantBytes) {
  auto proto = loadModel(model);
  if (!proto)
    return reportError(proto.takeError());
  mlir::MLIRContext context;
  context.loadDialect<KilnDialect, mlir::func::FuncDialect>();
  ImportOptions options;
  options.modelPath = model;
  options.constantBudget.modelBytes = maxConstantBytes;
  auto shapes = parseInputShapes(inputShapes);
  if (!shapes)
    return reportError(shapes.takeError());
  options.inputShapes = std::move(*shapes);
  auto imported = importOnnxModel(std::move(*proto), context, options);
  if (!imported)
    return reportError(imported.takeError());
  mlir::OpPrintingFlags flags;
  if (elide)
    flags.elideLargeElementsAttrs(16);
  imported->module->print(llvm::outs(), flags);
  llvm::outs() << "\n";
  return 0;
}

static int convertCommand(const std::string &model, const std::string &out) {
  auto proto = loadModel(model);
  if (!proto)
    return reportError(proto.takeError());
  llvm::StringRef ext = llvm::sys::path::extension(out);
  if (ext == ".json") {
    if (llvm::Error e = writeJsonModel(*proto, out, modelSourceFiles(model)))
      return reportError(std::move(e));
  } else if (ext == ".onnx") {
    std::string bytes;
    if (!proto->SerializeToString(&bytes))
      return reportError(
          makeError("cannot write '" + out + "': the model is too large to serialise"));
    if (llvm::Error e = writeFileAtomically(out, bytes))
      return reportError(std::move(e));
  } else {
    return reportError(makeError("output '" + out +
                                 "' must end in .json or .onnx"));
  }
  if (verbosity() != Verbosity::Quiet)
    std::cout << "kiln: wrote " << out << "\n";
  return 0;
}

/// The candidate `word` is most likely a typo of, or "" if none is close.
static std::string closestName(const std::string &word, const std::vector<std::string> &candidates) {
  std::string best;
  unsigned limit = std::max<unsigned>(2, word.size() / 3), bestDistance = limit + 1;
  for (const std::string &c : candidates) {
    unsigned d = llvm::StringRef(word).edit_distance(c, /*AllowReplacements=*/true, limit + 1);
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  return best;
}

/// The command line's leftovers (arguments no option took) as an error,
/// suggesting the option of the subcommand (or kiln's) closest to the first.
static int reportUnexpected(const CLI::App &app, const CLI::App *sub,
                            const std::vector<std::string> &extras) {
  std::string first = extras.front();
  std::string where = sub ? "'kiln " + sub->get_name() + "'" : "kiln";
  std::string msg = "kiln: error: unexpected argument '" + first + "' for " + where;
  if (!first.empty() && first[0] == '-') {
    std::string flag = first.substr(0, first.find('='));
    std::vector<std::string> names;
    for (const CLI::App *a : {sub, &app})
      if (a)
        for (const CLI::Option *o : a->get_options()) {
          for (const std::string &l : o->get_lnames())
            names.push_back("--" + l);
          for (const std::string &s : o->get_snames())
            names.push_back("-" + s);
        }
    msg = "kiln: error: unknown option '" + flag + "' for " + where;
    if (std::string close = closestName(flag, names); !close.empty())
      msg += "; did you mean '" + close + "'?";
  }
  std::cerr << msg << " (see kiln " << (sub ? sub->get_name() + " " : "") << "--help)\n";
  return 2;
}

int main(int argc, char **argv) {
  CLI::App app{"Kiln: an ahead-of-time compiler from ONNX and JSON models to C++"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "kiln " KILN_VERSION);
  // --help shows each option's default; unknown arguments are reported by
  // reportUnexpected (with a suggestion), and -q/-v work after a subcommand.
  app.option_defaults()->always_capture_default();
  app.allow_extras();
  app.fallthrough();
  bool quiet = false, verbose = false;
  app.add_flag("-q,--quiet", quiet, "Print errors only (no progress lines on stderr)");
  app.add_flag("-v,--verbose", verbose,
               "Print every step with its time, and the commands kiln runs, on stderr");

  std::string model, outDir, name, convertOut;
  bool report = false, emitMlir = false, noFoldBn = false, embed = false;
  auto *compile = app.add_subcommand("compile", "Compile a model to C++ source, C++ and C headers, and weights");
  compile->add_option("model", model, "Model file (.onnx, .onnxtxt or .json)")->required();
  compile->add_option("-o,--output", outDir, "Output directory")->required();
  compile->add_option("--name", name, "C++ namespace and C ABI prefix (default: from the file name)");
  compile->add_flag("--report", report, "Also write <name>.report.json");
  compile->add_flag("--emit-mlir", emitMlir,
                    "Also write the optimised IR as <name>.mlir (large weights elided)");
  compile->add_flag("--no-fold-batch-norm", noFoldBn, "Keep batch normalisation as its own kernel");
  std::vector<std::string> specialize;
  compile->add_option("--specialize", specialize,
                      "NAME=FILE.pb: compile graph input NAME as the constant in FILE "
                      "(a TensorProto); the generated code rejects other values");
  std::string disable;
  compile->add_option("--disable", disable,
                      "Comma-separated optimisations to leave out: layout (channels-last "
                      "convolutions), sdpa (attention matching), fusion (elementwise, epilogue "
                      "and row fusion, transposes folded into attention), reuse (kernel "
                      "reuse), memplan (arena sharing)");
  std::vector<std::string> inputShapes;
  compile->add_option("--input-shape", inputShapes,
                      "NAME=SHAPE: fix the form of graph input NAME: a tensor 2x3x4 (or "
                      "scalar) for dynamic dimensions, seq(2x3,4x3) for a sequence, "
                      "opt(2x3) or none for an optional");
  compile->add_flag("--embed-weights", embed, "Also write <name>.weights.S embedding the weights, and Model::createEmbedded()");
  CompileOptions targetOptions;
  compile->add_flag("--emit-mlir-with-weights", targetOptions.mlirWithWeights,
                    "As --emit-mlir, with every weight, so the file parses back with kiln-opt");
  compile->add_option("--target", targetOptions.target,
                      "Backend: cpu (C++ source for the CPU) or cuda (PTX and C++ host code)")
      ->check(CLI::IsMember(backendNames()))
      ->capture_default_str();
  compile->add_option("--gpu", targetOptions.gpu,
                      "With --target cuda: the GPU architecture of the PTX (sm_80, sm_86, "
                      "sm_89, sm_90; drivers JIT it for newer GPUs)")
      ->check(CLI::IsMember(knownGpuTargets()))
      ->capture_default_str();
  compile->add_option("--precision", targetOptions.precision,
                      "With --target cuda: fp32 (exact ONNX semantics), tf32, fp16 or bf16 "
                      "(tensor cores)")
      ->check(CLI::IsMember(knownPrecisions()))
      ->capture_default_str();
  compile->add_flag("--emulate", targetOptions.emulate,
                    "With --target cuda: write C++ for the CPU that runs the GPU kernels' "
                    "loop nests instead of PTX");
  std::string &cpu = targetOptions.cpu;
  compile->add_option("--cpu", cpu,
                      "Target of the generated C++: native (this machine), x86-64-v4 "
                      "(AVX-512), x86-64-v3 (AVX2 + FMA) or generic; build the source "
                      "with the matching -march")
      ->check(CLI::IsMember(knownCpuTargets()));
  bool &deterministic = targetOptions.deterministic;
  compile->add_flag("--deterministic", deterministic,
                    "Outputs bitwise identical across thread counts and runs");
  const char *constantBudgetHelp =
      "Budget in bytes for constants made at compile time (folded values, ConstantOfShape "
      "fills); one folded value may take a sixteenth of it";
  compile->add_option("--max-constant-bytes", targetOptions.maxConstantBytes, constantBudgetHelp)
      ->check(CLI::Range(int64_t(0), std::numeric_limits<int64_t>::max()))
      ->capture_default_str();

  // A tolerance: a finite number >= 0 (NaN and infinity compare with nothing).
  CLI::Validator tolerance(
      [](std::string &text) -> std::string {
        char *end = nullptr;
        double v = std::strtod(text.c_str(), &end);
        if (text.empty() || *end || !std::isfinite(v) || v < 0)
          return "must be a finite number >= 0, not '" + text + "'";
        return "";
      },
      "TOLERANCE");
  RunOptions run;
  bool runNoFoldBn = false;
  auto *runCmd = app.add_subcommand("run", "Compile (cached), build, run and check a model on test data");
  runCmd->add_option("model", run.model, "Model file (.onnx, .onnxtxt or .json)")->required();
  runCmd->add_option("--data", run.dataDirs,
                     "Directory with input_<i>.pb (and output_<i>.pb to compare); repeatable");
  runCmd->add_option("--input", run.inputs,
                     "NAME=FILE: an input from a .npy or .pb file, instead of --data; repeatable");
  runCmd->add_flag("--random-inputs", run.randomInputs,
                   "Draw the inputs not given by --input (floats in [-1, 1], integers in [0, 3]), "
                   "e.g. to benchmark a model without data");
  runCmd->add_option("--seed", run.seed, "Seed of --random-inputs");
  runCmd->add_option("--save", run.saveDir, "Write the outputs as output_<i>.<format> into this directory");
  runCmd->add_option("--save-format", run.saveFormat, "Format of --save: pb (ONNX TensorProto) or npy")
      ->check(CLI::IsMember({"pb", "npy"}));
  runCmd->add_option("--rtol", run.rtol,
                     "Relative tolerance (default 1e-3; x10 under --precision tf32 or fp16, "
                     "x50 under bf16)")
      ->check(tolerance)
      ->default_str(""); // the default is computed, as the text says
  runCmd->add_option("--atol", run.atol,
                     "Absolute tolerance (default 1e-3 x the largest |expected| element of "
                     "each output, at least 1e-7; scaled for --precision as --rtol)")
      ->check(tolerance)
      ->default_str("");
  runCmd->add_option("--bench", run.bench, "Time this many runs after warm-up")
      ->check(CLI::Range(0, 1000000));
  runCmd->add_option("--warmup", run.warmup,
                     "Untimed runs before the --bench runs (default max(2, N/10))")
      ->check(CLI::Range(0, 1000000))
      ->default_str("");
  runCmd->add_option("--threads", run.threads, "Threads the compiled model uses")->check(CLI::Range(1, 1024));
  runCmd->add_option("--name", run.name, "Model name (default: from the file name)");
  runCmd->add_flag("--json", run.json, "Print one JSON object instead of text");
  runCmd->add_option("--specialize-inputs", run.specializeInputs,
                     "'shapes' or NAME[,NAME...]: compile these graph inputs as the values "
                     "in the first data directory (shapes: the inputs whose role decides a "
                     "shape, e.g. Reshape shapes, Slice bounds, TopK k, axes; 'auto' is an "
                     "old name for it); the compiled model rejects other values");
  runCmd->add_flag("--require-expected", run.requireExpected,
                   "Fail (exit 2) when an output has no output_<i>.pb to compare with");
  runCmd->add_flag("--no-fold-batch-norm", runNoFoldBn, "Keep batch normalisation as its own kernel");
  runCmd->add_option("--target", run.target, "Backend, as for compile")
      ->check(CLI::IsMember(backendNames()));
  runCmd->add_option("--gpu", run.gpu, "With --target cuda: as for compile")
      ->check(CLI::IsMember(knownGpuTargets()));
  runCmd->add_option("--precision", run.precision, "With --target cuda: as for compile")
      ->check(CLI::IsMember(knownPrecisions()));
  runCmd->add_flag("--emulate", run.emulate,
                   "With --target cuda: run the GPU kernels' loop nests on the CPU");
  runCmd->add_option("--cpu", run.cpu, "Target, as for compile; the build uses the matching -march")
      ->check(CLI::IsMember(knownCpuTargets()));
  runCmd->add_flag("--deterministic", run.deterministic, "As for compile");
  runCmd->add_flag("--profile", run.profile,
                   "Build with per-kernel timers (-DKILN_PROFILE) and, with --bench, print "
                   "the time, share and GFLOP/s of each kernel call");
  runCmd->add_option("--max-constant-bytes", run.maxConstantBytes, constantBudgetHelp)
      ->check(CLI::Range(int64_t(0), std::numeric_limits<int64_t>::max()))
      ->capture_default_str();
  runCmd->add_option("--disable", run.disable, "Optimisations to leave out, as for compile");

  auto *convert = app.add_subcommand("convert", "Convert between ONNX and Kiln JSON");
  std::string convertIn;
  convert->add_option("model", convertIn, "Model file (.onnx, .onnxtxt or .json)")->required();
  convert->add_option("-o,--output", convertOut, "Output file (.json with a .weights.bin beside it, or .onnx)")->required();

  auto *ops = app.add_subcommand("ops", "List the supported ONNX operators");
  bool markdown = false;
  ops->add_flag("--markdown", markdown, "Print docs/operators.md (with types and limits)");

  std::string importIn;
  bool elide = false;
  auto *import = app.add_subcommand("import", "Print the kiln IR of a model as imported (before passes)");
  import->add_option("model", importIn, "Model file (.onnx, .onnxtxt or .json)")->required();
  import->add_flag("--elide-constants", elide, "Print large constants as placeholders");
  std::vector<std::string> importShapes;
  import->add_option("--input-shape", importShapes, "NAME=SHAPE, as for compile");
  int64_t importConstantBytes = ConstantBudget::kDefaultModelBytes;
  import->add_option("--max-constant-bytes", importConstantBytes, constantBudgetHelp)
      ->check(CLI::Range(int64_t(0), std::numeric_limits<int64_t>::max()))
      ->capture_default_str();

  // A mistyped command: suggest the closest.
  std::vector<std::string> commands;
  for (const CLI::App *sub : app.get_subcommands({}))
    commands.push_back(sub->get_name());
  if (argc > 1 && argv[1][0] != '-' && !llvm::is_contained(commands, argv[1])) {
    std::string close = closestName(argv[1], commands);
    std::cerr << "kiln: error: unknown command '" << argv[1] << "'"
              << (close.empty() ? "" : "; did you mean '" + close + "'?")
              << " (commands: " << llvm::join(commands, ", ") << ")\n";
    return 2;
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError &e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  const CLI::App *chosen = app.get_subcommands().empty() ? nullptr : app.get_subcommands().front();
  if (std::vector<std::string> extras = app.remaining(/*recurse=*/true); !extras.empty())
    return reportUnexpected(app, chosen, extras);
  if (quiet && verbose) {
    std::cerr << "kiln: error: --quiet and --verbose exclude each other\n";
    return 2;
  }
  setVerbosity(quiet ? Verbosity::Quiet : verbose ? Verbosity::Verbose : Verbosity::Normal);

  try {
    if (*compile)
      return compileCommand(model, outDir, name, report, emitMlir, !noFoldBn, embed,
                            specialize, inputShapes, disable, targetOptions);
    if (*runCmd) {
      run.foldBatchNorm = !runNoFoldBn;
      return runCommand(run);
    }
    if (*convert)
      return convertCommand(convertIn, convertOut);
    if (*import)
      return importCommand(importIn, elide, importShapes, importConstantBytes);
    if (*ops) {
      if (markdown) {
        std::cout << operatorsMarkdown();
        return 0;
      }
      for (const std::string &op : supportedOnnxOps())
        std::cout << op << "\n";
      return 0;
    }
  } catch (const std::exception &e) {
    // Last line of defence: no exception from a library ends in abort().
    std::cerr << "kiln: error: " << e.what() << "\n";
    return 2;
  }
  return 2;
}
