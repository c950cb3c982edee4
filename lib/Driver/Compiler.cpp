//===- Compiler.cpp - Model file -> generated C++ and report --------------===//

#include "lib/Driver/Compiler.h"
#include "lib/Driver/Progress.h"

#include "codegen/Backend.h"
#include "codegen/cpu/CppBackend.h"
#include "codegen/cuda/GpuForm.h"
#include "codegen/MicroKernelPlan.h"
#include "dialects/Kiln/KilnDialect.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/TensorData.h"
#include "lib/Import/OnnxImporter.h"
#include "passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace mlir;
using llvm::Error;
using llvm::Expected;

namespace kiln {

std::string defaultModelName(const std::string &modelPath) {
  std::string stem = llvm::sys::path::stem(modelPath).str();
  if (stem == "model") {
    llvm::SmallString<256> abs(modelPath);
    llvm::sys::fs::make_absolute(abs);
    std::string dir = llvm::sys::path::filename(llvm::sys::path::parent_path(abs)).str();
    if (!dir.empty())
      stem = dir;
  }
  std::string name = sanitizeIdentifier(stem);
  return name.empty() ? "model" : name;
}

/// Adds each specialised input's value as an initializer of the same name, so
/// ONNX shape inference and the importer see it as a constant.
static Error addSpecializedInputs(onnx::ModelProto &model,
                                  const std::map<std::string, std::string> &files,
                                  const std::string &path) {
  auto *graph = model.mutable_graph();
  for (const auto &[name, file] : files) {
    const onnx::ValueInfoProto *input = nullptr;
    for (const auto &v : graph->input())
      if (v.name() == name)
        input = &v;
    if (!input)
      return makeError("model '" + path + "': cannot specialise '" + name +
                       "': the graph has no such input");
    auto bytes = readFileBytes(file, kMaxModelFileBytes);
    if (!bytes)
      return bytes.takeError();
    onnx::TensorProto value;
    if (!value.ParseFromString(*bytes))
      return makeError("'" + file + "' is not an ONNX TensorProto file");
    if (value.data_type() != input->type().tensor_type().elem_type())
      return makeError("model '" + path + "': cannot specialise '" + name +
                       "': '" + file + "' holds another element type");
    value.set_name(name);
    for (auto &init : *graph->mutable_initializer())
      if (init.name() == name) {
        init = value;
        value.Clear();
      }
    if (!value.name().empty())
      *graph->add_initializer() = value;
  }
  return Error::success();
}

/// The model's inputs and outputs and the compiled tensors holding each:
/// {"inputs": [{"name", "kind", "structure", "tensors": [...]}], "outputs": ...}.
/// Fills the tensor dims of `shape` from the compiled tensors, in order.
static void fillDims(ValueShape &shape, const std::vector<std::string> &tensors, size_t &next,
                     const std::map<std::string, std::vector<int64_t>> &dims) {
  if (shape.kind == ValueShape::Kind::Tensor) {
    if (next < tensors.size()) {
      auto it = dims.find(tensors[next++]);
      if (it != dims.end())
        shape.dims = it->second;
    }
    return;
  }
  for (ValueShape &e : shape.elements)
    fillDims(e, tensors, next, dims);
}

static nlohmann::json signatureJson(Signature sig, func::FuncOp func) {
  std::map<std::string, std::vector<int64_t>> dims;
  auto shapeOf = [](Type t) {
    auto s = cast<ShapedType>(t).getShape();
    return std::vector<int64_t>(s.begin(), s.end());
  };
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    if (auto n = func.getArgAttrOfType<StringAttr>(i, "kiln.name"))
      dims[n.str()] = shapeOf(func.getArgument(i).getType());
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    if (auto n = func.getResultAttrOfType<StringAttr>(i, "kiln.name"))
      dims[n.str()] = shapeOf(func.getResultTypes()[i]);
  for (auto *list : {&sig.inputs, &sig.outputs})
    for (SignatureEntry &e : *list) {
      size_t next = 0;
      fillDims(e.shape, e.tensors, next, dims);
    }
  auto entries = [](const std::vector<SignatureEntry> &list) {
    nlohmann::json out = nlohmann::json::array();
    for (const SignatureEntry &e : list) {
      using K = ValueShape::Kind;
      K k = e.shape.kind;
      out.push_back({{"name", e.name},
                     {"kind", k == K::Tensor ? "tensor" : k == K::Sequence ? "sequence" : "optional"},
                     {"structure", formatValueShape(e.shape)},
                     {"tensors", e.tensors}});
    }
    return out;
  };
  return {{"inputs", entries(sig.inputs)}, {"outputs", entries(sig.outputs)}};
}

const std::vector<std::string> &knownPrecisions() {
  static const std::vector<std::string> names = {"fp32", "tf32", "fp16", "bf16"};
  return names;
}

double precisionToleranceScale(const std::string &precision) {
  if (precision == "tf32" || precision == "fp16")
    return 10;
  if (precision == "bf16")
    return 50;
  return 1;
}

const std::vector<std::string> &knownCpuTargets() {
  static const std::vector<std::string> targets = {"native", "x86-64-v4", "x86-64-v3",
                                                   "generic"};
  return targets;
}

const std::map<std::string, std::string> &knownPassNames() {
  static const std::map<std::string, std::string> names = {
      {"layout", "running convolutions and pooling channels-last (kiln-channels-last)"},
      {"sdpa", "attention matching (kiln-match-attention)"},
      {"fusion", "fusing elementwise chains into one kernel and into the contraction they "
                 "follow or into a row softmax/layer norm, and transposes into attention indexing "
                 "(kiln-fuse-elementwise, kiln-fuse-epilogue, kiln-fuse-rows, "
                 "kiln-fold-transposes)"},
      {"reuse", "emitting structurally identical kernels once"},
      {"memplan", "sharing arena space between buffers with disjoint lifetimes"},
  };
  return names;
}

Expected<std::set<std::string>> parseDisabledPasses(const std::string &list) {
  std::set<std::string> out;
  llvm::SmallVector<llvm::StringRef> names;
  llvm::StringRef(list).split(names, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef n : names) {
    std::string name = n.trim().str();
    if (!knownPassNames().count(name)) {
      std::string known;
      for (const auto &[k, what] : knownPassNames())
        known += (known.empty() ? "" : ", ") + k;
      return makeError("--disable: unknown pass '" + name + "' (known: " + known + ")");
    }
    out.insert(name);
  }
  return out;
}

/// The options' target, GPU, precision and CPU, checked against what Kiln knows.
static Expected<const Backend *> checkTargetOptions(const CompileOptions &options) {
  const Backend *backend = lookupBackend(options.target);
  if (!backend) {
    std::string known;
    for (const std::string &n : backendNames())
      known += (known.empty() ? "" : ", ") + n;
    return makeError("unknown --target '" + options.target + "' (expected " + known + ")");
  }
  if (options.target == "cuda") {
    if (!llvm::is_contained(knownGpuTargets(), options.gpu))
      return makeError("unknown --gpu '" + options.gpu + "' (expected sm_80, sm_86, sm_89 or sm_90)");
    if (!llvm::is_contained(knownPrecisions(), options.precision))
      return makeError("unknown --precision '" + options.precision +
                       "' (expected fp32, tf32, fp16 or bf16)");
  } else if (options.emulate) {
    return makeError("--emulate needs --target cuda");
  } else if (options.precision != "fp32") {
    return makeError("--precision " + options.precision + " needs --target cuda");
  }
  if (!vectorWidthForCpu(options.cpu))
    return makeError("unknown --cpu target '" + options.cpu +
                     "' (expected native, x86-64-v4, x86-64-v3 or generic)");
  return backend;
}

Expected<CompileResult> compileModel(const CompileOptions &options) {
  auto start = std::chrono::steady_clock::now();
  if (auto backend = checkTargetOptions(options); !backend)
    return backend.takeError();
  auto model = [&] {
    ProgressStep step("loading " + options.modelPath);
    return loadModel(options.modelPath);
  }();
  if (!model)
    return model.takeError();
  return compileLoadedModel(std::move(*model), options, start);
}

Expected<CompileResult> compileLoadedModel(onnx::ModelProto loaded, const CompileOptions &options,
                                           std::chrono::steady_clock::time_point start) {
  const std::string &path = options.modelPath;
  auto checked = checkTargetOptions(options);
  if (!checked)
    return checked.takeError();
  const Backend *backend = *checked;
  auto model = &loaded;
  if (Error e = addSpecializedInputs(*model, options.specialize, path))
    return std::move(e);

  MLIRContext context;
  context.loadDialect<KilnDialect, func::FuncDialect>();
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    os << d.getLocation() << ": " << d << "\n";
    for (Diagnostic &note : d.getNotes()) {
      // MLIR attaches the whole op (for a function, the whole model) here.
      std::string text = note.str();
      if (llvm::StringRef(text).starts_with("see current operation"))
        continue;
      os << "  note: " << text << "\n";
    }
    return success();
  });

  ImportOptions importOptions;
  importOptions.modelPath = path;
  for (const auto &entry : options.specialize)
    importOptions.specializedInputs.insert(entry.first);
  importOptions.inputShapes = options.inputShapes;
  importOptions.constantBudget.modelBytes = options.maxConstantBytes;
  auto imported = [&] {
    ProgressStep step("importing (checks, folding, shape inference)");
    return importOnnxModel(std::move(*model), context, importOptions);
  }();
  if (!imported)
    return imported.takeError();
  ModuleOp module = imported->module.get();

  PassManager pm(&context);
  PipelineOptions pipeline;
  pipeline.foldBatchNorm = options.foldBatchNorm;
  pipeline.channelsLast = !options.disabledPasses.count("layout");
  pipeline.matchAttention = !options.disabledPasses.count("sdpa");
  pipeline.fuseElementwise = !options.disabledPasses.count("fusion");
  pipeline.fuseEpilogue = pipeline.fuseElementwise;
  pipeline.foldTransposes = pipeline.fuseElementwise;
  pipeline.fuseRows = pipeline.fuseElementwise;
  buildDefaultPipeline(pm, pipeline);
  if (failed([&] {
        ProgressStep step("optimising (graph passes)");
        return pm.run(module);
      }()))
    return makeError("model '" + path + "': optimisation failed:\n" + diagnostics);

  CompileResult result;
  result.name = options.name.empty() ? defaultModelName(path) : options.name;
  if (sanitizeIdentifier(result.name) != result.name)
    return makeError("model name '" + result.name +
                     "' is not a valid C identifier (try '" +
                     sanitizeIdentifier(result.name) + "')");
  auto func = module.lookupSymbol<func::FuncOp>("main");
  CppEmitOptions emitOptions;
  emitOptions.name = result.name;
  emitOptions.modelPath = path;
  emitOptions.embedWeights = options.embedWeights;
  emitOptions.reuseKernels = !options.disabledPasses.count("reuse");
  emitOptions.reuseMemory = !options.disabledPasses.count("memplan");
  emitOptions.target =
      options.target == "cuda" ? cudaTarget(options.gpu, options.precision) : cpuTarget(options.cpu);
  emitOptions.target.backend = backend->name;
  emitOptions.emulate = options.emulate;
  result.embedWeights = options.embedWeights;
  CppArtifacts artifacts;
  if (failed([&] {
        ProgressStep step("generating " + std::string(backend->name) + " code");
        return backend->emit(func, emitOptions, artifacts);
      }()))
    return makeError("model '" + path + "': code generation failed:\n" +
                     diagnostics);
  result.header = std::move(artifacts.header);
  result.cHeader = std::move(artifacts.cHeader);
  result.source = std::move(artifacts.source);
  result.ptx = artifacts.ptx;
  result.weightsFile = std::move(artifacts.weightsFile);
  {
    llvm::raw_string_ostream os(result.mlir);
    OpPrintingFlags flags;
    if (!options.mlirWithWeights)
      flags.elideLargeElementsAttrs(16);
    module.print(os, flags);
  }

  std::map<std::string, int64_t> kilnOps;
  func.walk([&](Operation *op) {
    if (op->getDialect() && op->getDialect()->getNamespace() == "kiln")
      ++kilnOps[op->getName().getStringRef().str()];
  });
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  nlohmann::json &r = result.report;
  r["model"] = path;
  r["name"] = result.name;
  r["ops_imported"] = imported->opsImported;
  r["ops_by_type"] = imported->opsByType;
  r["kiln_ops"] = kilnOps;
  r["kernels"] = artifacts.kernels;
  r["unique_kernels"] = artifacts.uniqueKernels;
  r["fallback_kernels"] = nlohmann::json::array();
  for (const auto &f : artifacts.fallbackKernels)
    r["fallback_kernels"].push_back({{"op", f.op}, {"nodes", f.nodes}, {"reason", f.reason}});
  r["layout_conversions"] = countLayoutConversions(func);
  r["sdpa_matched"] = kilnOps.count("kiln.attention") ? kilnOps["kiln.attention"] : 0;
  r["disabled_passes"] = options.disabledPasses;
  r["target"] = options.target;
  r["cpu"] = options.cpu;
  r["vector_width"] = emitOptions.target.vectorWidth;
  if (options.target == "cuda") {
    r["gpu"] = options.gpu;
    r["precision"] = options.precision;
    r["emulate"] = options.emulate;
    r["launches"] = nlohmann::json::array();
    for (const auto &l : artifacts.launches) {
      nlohmann::json launch = {{"kernel", l.kernel},
                               {"entry", l.entry},
                               {"nodes", l.nodes},
                               {"blocks", l.blocks},
                               {"threads_per_block", l.threads}};
      if (l.registers >= 0) {
        launch["registers"] = l.registers;
        launch["shared_bytes"] = l.sharedBytes;
      }
      r["launches"].push_back(launch);
    }
    r["ptxas"] = artifacts.ptxas.empty() ? nlohmann::json() : nlohmann::json(artifacts.ptxas);
  }
  r["deterministic"] = options.deterministic;
  r["arena_bytes"] = artifacts.arenaBytes;
  r["arena_live_bound_bytes"] = artifacts.liveBytesBound;
  r["weights_bytes"] = artifacts.weightsBytes;
  r["flops"] = artifacts.flops;
  r["generated_source_bytes"] =
      result.header.size() + result.cHeader.size() + result.source.size();
  r["compile_seconds"] = seconds;
  r["signature"] = signatureJson(imported->signature, func);
  return std::move(result);
}

static Error writeAtomically(const std::string &path, const char *data, size_t size) {
  return writeFileAtomically(path, llvm::StringRef(data, size));
}

Error writeCompileResult(const CompileResult &result, const std::string &dir,
                         bool writeReport, bool writeMlir) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError("cannot create output directory '" + dir + "': " + ec.message());
  auto file = [&](const std::string &suffix) {
    llvm::SmallString<256> p(dir);
    llvm::sys::path::append(p, result.name + suffix);
    return p.str().str();
  };
  std::string report = result.report.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  // Each file is replaced atomically; the header, which names the weights'
  // layout, goes after the weights.
  if (Error e = writeAtomically(file(".weights"), result.weightsFile.data(),
                                result.weightsFile.size()))
    return e;
  if (Error e = writeAtomically(file("_c.h"), result.cHeader.data(), result.cHeader.size()))
    return e;
  if (Error e = writeAtomically(file(".h"), result.header.data(), result.header.size()))
    return e;
  if (Error e = writeAtomically(file(".cpp"), result.source.data(), result.source.size()))
    return e;
  if (!result.ptx.empty())
    if (Error e = writeAtomically(file(".ptx"), result.ptx.data(), result.ptx.size()))
      return e;
  if (result.embedWeights) {
    llvm::SmallString<256> abs(file(".weights"));
    llvm::sys::fs::make_absolute(abs);
    std::string asmText = embeddedWeightsAssembly(result.name, abs.str().str());
    if (Error e = writeAtomically(file(".weights.S"), asmText.data(), asmText.size()))
      return e;
  }
  if (writeReport)
    if (Error e = writeAtomically(file(".report.json"), report.data(), report.size()))
      return e;
  if (writeMlir)
    if (Error e = writeAtomically(file(".mlir"), result.mlir.data(), result.mlir.size()))
      return e;
  return Error::success();
}

} // namespace kiln
