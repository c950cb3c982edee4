//===- Run.cpp - `kiln run`: compile, build, load, run and check ----------===//
//
// The compiled model is cached under $KILN_CACHE_DIR (default
// ~/.cache/kiln) by a hash of the loaded model, the model name, the options,
// and the kiln binary with the runtime it builds against, so a rebuilt
// compiler or changed runtime header never reuses stale code. The generated
// C++ is built with the system compiler ($CXX, default c++) into a shared
// object that is loaded with dlopen through the model's C ABI.
//
//===----------------------------------------------------------------------===//

#include "tools/kiln/Commands.h"
#include "tools/kiln/RunInputs.h"

#include "lib/Driver/Compiler.h"
#include "lib/Driver/NpyFile.h"
#include "lib/Driver/Progress.h"
#include "lib/Driver/TensorFile.h"
#include "lib/Import/ModelLoader.h"
#include "lib/Import/ShapeOperands.h"
#include "lib/Import/TensorData.h"

#include "kiln/runtime/Abi.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <map>
#include <set>
#include <chrono>
#include <cstdlib>
#include <dlfcn.h>
#include <iostream>
#include <fstream>
#include <sstream>
#include <unistd.h>

using llvm::Error;
using llvm::Expected;

namespace kiln {
namespace {

/// The first .pb file in `dir` that is not input_<i>.pb (i < inputs) or
/// output_<i>.pb (i < outputs), or "": a data directory must not hold tensors
/// the model would silently ignore.
std::string unnamedDataFile(const std::string &dir, size_t inputs, size_t outputs) {
  std::error_code ec;
  std::vector<std::string> names;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    names.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(names.begin(), names.end());
  for (const std::string &n : names) {
    llvm::StringRef rest(n);
    if (!rest.consume_back(".pb"))
      continue;
    size_t limit = rest.consume_front("input_") ? inputs : rest.consume_front("output_") ? outputs : 0;
    unsigned long long index;
    bool digits = !rest.empty() && rest.find_first_not_of("0123456789") == llvm::StringRef::npos;
    if (!limit || !digits || rest.getAsInteger(10, index) || index >= limit ||
        (rest.size() > 1 && rest[0] == '0'))
      return n;
  }
  return "";
}

struct ModelAbi {
  void *(*create)(const char *, int, char *, size_t) = nullptr;
  int (*run)(void *, const kiln_tensor *, size_t, kiln_tensor *, size_t, char *,
             size_t) = nullptr;
  void (*destroy)(void *) = nullptr;
  size_t (*numInputs)() = nullptr;
  size_t (*numOutputs)() = nullptr;
  int (*inputInfo)(size_t, kiln_tensor_info *) = nullptr;
  int (*outputInfo)(size_t, kiln_tensor_info *) = nullptr;
  /// Only in builds with -DKILN_PROFILE (`--profile`).
  size_t (*profile)(char *, size_t, int) = nullptr;
};

std::string cacheRoot() {
  if (const char *dir = std::getenv("KILN_CACHE_DIR"); dir && *dir)
    return dir;
  llvm::SmallString<256> path;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
    path = xdg;
  else if (const char *home = std::getenv("HOME"); home && *home) {
    path = home;
    llvm::sys::path::append(path, ".cache");
  } else
    path = "/tmp";
  llvm::sys::path::append(path, "kiln");
  return path.str().str();
}

/// Where the runtime that `kiln run` builds against lives: beside an
/// installed kiln (<prefix>/bin/kiln with <prefix>/include and <prefix>/lib,
/// wherever the prefix was moved), or else in the build tree kiln came from.
struct RuntimeLocation {
  std::string includeDir, library;
};

const RuntimeLocation &runtimeLocation() {
  static const RuntimeLocation location = [] {
    llvm::SmallString<256> prefix(llvm::sys::fs::getMainExecutable(nullptr, nullptr));
    llvm::sys::path::remove_filename(prefix); // bin
    llvm::sys::path::remove_filename(prefix);
    llvm::SmallString<256> include(prefix), library(prefix);
    llvm::sys::path::append(include, "include");
    llvm::sys::path::append(library, "lib", "libkiln_runtime.a");
    llvm::SmallString<256> abi(include);
    llvm::sys::path::append(abi, "kiln", "runtime", "Abi.h");
    if (llvm::sys::fs::exists(abi) && llvm::sys::fs::exists(library))
      return RuntimeLocation{include.str().str(), library.str().str()};
    return RuntimeLocation{KILN_RUNTIME_INCLUDE_DIR, KILN_RUNTIME_LIBRARY};
  }();
  return location;
}

/// Identifies this kiln build: path, size and modification time of the
/// binary, the runtime library and the runtime headers.
std::string compilerIdentity() {
  // Size and time of each file that decides the built code: the kiln binary,
  // the runtime library and the runtime headers the generated code includes
  // (a changed micro-kernel header must not reuse a stale build).
  const RuntimeLocation &runtime = runtimeLocation();
  std::vector<std::string> files = {llvm::sys::fs::getMainExecutable(nullptr, nullptr),
                                    runtime.library};
  std::error_code ec;
  std::string headers = runtime.includeDir + "/kiln/runtime";
  for (llvm::sys::fs::directory_iterator it(headers, ec), end; it != end && !ec;
       it.increment(ec))
    files.push_back(it->path());
  std::sort(files.begin() + 2, files.end());
  std::string id;
  for (const std::string &file : files) {
    llvm::sys::fs::file_status st;
    id += file;
    if (!llvm::sys::fs::status(file, st))
      id += ":" + std::to_string(st.getSize()) + ":" +
            std::to_string(st.getLastModificationTime().time_since_epoch().count());
    id += ";";
  }
  return id;
}

/// Which graph inputs to specialise, and on which files, for --specialize-inputs.
/// "shapes" (and its old name "auto") picks the inputs whose role decides a
/// shape (ShapeOperands.h); data inputs stay run-time inputs whatever their size.
Expected<std::map<std::string, std::string>>
chooseSpecializations(const onnx::ModelProto &model, const RunOptions &options) {
  std::map<std::string, std::string> chosen;
  if (options.specializeInputs.empty())
    return chosen;
  std::set<std::string> inits;
  for (const auto &t : model.graph().initializer())
    inits.insert(t.name());
  std::vector<std::string> names;
  for (const auto &v : model.graph().input())
    if (!inits.count(v.name()))
      names.push_back(v.name());
  llvm::SmallVector<llvm::StringRef> wanted;
  bool byRole = options.specializeInputs == "shapes" || options.specializeInputs == "auto";
  std::set<std::string> shapeInputs;
  if (byRole)
    shapeInputs = inputsReachingShapeOperands(model.graph());
  else
    llvm::StringRef(options.specializeInputs).split(wanted, ',', -1, false);
  for (llvm::StringRef w : wanted)
    if (!llvm::is_contained(names, w.str()))
      return makeError("--specialize-inputs: the model has no input '" + w.str() + "'");
  for (size_t i = 0; i < names.size(); ++i)
    if (byRole ? shapeInputs.count(names[i]) > 0 : llvm::is_contained(wanted, names[i]))
      chosen[names[i]] = options.dataDirs.front() + "/input_" + std::to_string(i) + ".pb";
  return chosen;
}

/// The forms of graph inputs the data decides: sequences and optionals, and
/// tensors declared with dynamic dimensions, as in the first data set.
Expected<std::map<std::string, ValueShape>>
inputShapesFromData(const onnx::ModelProto &model, const std::string &dataDir) {
  std::map<std::string, ValueShape> shapes;
  std::set<std::string> inits;
  for (const auto &t : model.graph().initializer())
    inits.insert(t.name());
  size_t index = 0;
  for (const auto &v : model.graph().input()) {
    if (inits.count(v.name()))
      continue;
    std::string file = dataDir + "/input_" + std::to_string(index++) + ".pb";
    const auto &type = v.type();
    if (staticDims(type) || !llvm::sys::fs::exists(file))
      continue;
    auto value = readValueFile(file, type);
    if (!value)
      return value.takeError();
    std::function<ValueShape(const HostValue &)> shapeOf = [&](const HostValue &h) {
      ValueShape s;
      s.kind = static_cast<ValueShape::Kind>(h.kind);
      s.dims = h.tensor.dims;
      for (const HostValue &e : h.elements)
        s.elements.push_back(shapeOf(e));
      return s;
    };
    shapes[v.name()] = shapeOf(*value);
  }
  return shapes;
}

Expected<std::string> cacheKey(const onnx::ModelProto &model,
                               const std::string &modelPath,
                               const std::string &name, bool foldBatchNorm,
                               const std::map<std::string, std::string> &specialize,
                               const std::map<std::string, ValueShape> &inputShapes,
                               const std::set<std::string> &disabled,
                               const std::string &target, const std::string &cpu,
                               bool deterministic, bool profile, int64_t maxConstantBytes) {
  std::string bytes;
  if (!model.SerializeToString(&bytes))
    return makeError("model '" + modelPath + "': cannot serialise");
  llvm::SHA256 hash;
  hash.update(bytes);
  hash.update(name);
  hash.update(foldBatchNorm ? "bn1" : "bn0");
  for (const auto &[input, file] : specialize) {
    auto value = readFileBytes(file, kMaxModelFileBytes);
    if (!value)
      return value.takeError();
    hash.update(input);
    hash.update(*value);
  }
  for (const auto &[input, shape] : inputShapes) {
    hash.update(input);
    hash.update(formatValueShape(shape));
  }
  for (const std::string &pass : disabled)
    hash.update("disable:" + pass);
  hash.update("target:" + target + ":cpu:" + cpu + (deterministic ? ":deterministic" : ""));
  if (profile)
    hash.update("profile");
  hash.update("constants:" + std::to_string(maxConstantBytes));
  hash.update(compilerIdentity());
  if (const char *extra = std::getenv("KILN_CXXFLAGS"))
    hash.update(extra);
  auto digest = hash.final();
  std::string hex;
  for (size_t i = 0; i < 16; ++i) {
    uint8_t b = digest[i];
    char buf[3];
    snprintf(buf, sizeof buf, "%02x", b);
    hex += buf;
  }
  return hex;
}

/// Builds `<dir>/<name>.cpp` into `<dir>/<name>.so` ($CXX, $KILN_CXXFLAGS)
/// for the `--cpu` target.
Error buildSharedObject(const std::string &dir, const std::string &name,
                        const std::string &cpu, bool profile) {
  std::string cxx = std::getenv("CXX") && *std::getenv("CXX") ? std::getenv("CXX") : "c++";
  auto program = llvm::sys::findProgramByName(cxx);
  if (!program)
    return makeError("cannot find the C++ compiler '" + cxx + "' (set CXX)");
  std::string src = dir + "/" + name + ".cpp", so = dir + "/" + name + ".so";
  std::string log = dir + "/build.log";
  std::vector<std::string> args = {*program, "-std=c++17", "-O3",
                                   cpu == "generic" ? "-mtune=generic" : "-march=" + cpu,
                                   "-fPIC", "-shared", "-w",
                                   "-I" + dir, "-I" + runtimeLocation().includeDir,
                                   src, runtimeLocation().library, "-lpthread",
                                   "-o", so};
  if (profile)
    args.insert(args.begin() + 4, "-DKILN_PROFILE");
  // Extra flags, e.g. KILN_CXXFLAGS=-O1 for test suites that build many small
  // models; later flags win.
  if (const char *extra = std::getenv("KILN_CXXFLAGS")) {
    llvm::SmallVector<llvm::StringRef> flags;
    llvm::StringRef(extra).split(flags, ' ', -1, /*KeepEmpty=*/false);
    args.insert(args.begin() + 5, flags.begin(), flags.end());
  }
  // The exact command, for rebuilding the cached source by hand (for
  // instance after editing it, as test/e2e/mutation_smoke.py does).
  {
    std::error_code ec;
    llvm::raw_fd_ostream cmd(dir + "/build-command.sh", ec);
    if (!ec) {
      // Relative to the script's directory: the build directory is renamed
      // into the cache after this.
      cmd << "cd \"$(dirname \"$0\")\" || exit 1\n";
      for (size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if (size_t at = arg.find(dir); at != std::string::npos)
          arg.replace(at, dir.size(), ".");
        cmd << (i ? " " : "");
        llvm::sys::printArg(cmd, arg, /*Quote=*/true);
      }
      cmd << "\n";
    }
  }
  std::vector<llvm::StringRef> argRefs(args.begin(), args.end());
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(log),
                                                llvm::StringRef(log)};
  std::string errMsg;
  progressDetail("build command: " + llvm::join(args, " "));
  ProgressStep step("building the generated C++ (" + llvm::sys::path::filename(*program).str() +
                        " -O3 " + args[3] + "; cached for later runs)",
                    /*announce=*/true);
  int rc = llvm::sys::ExecuteAndWait(*program, argRefs, std::nullopt, redirects,
                                     0, 0, &errMsg);
  if (rc != 0) {
    auto text = readFileBytes(log, 1 << 20);
    return makeError("building the generated code failed (" +
                     (errMsg.empty() ? "exit " + std::to_string(rc) : errMsg) +
                     "):\n" + (text ? *text : std::string()));
  }
  return Error::success();
}

/// Compiles and builds the model unless the cache already has it; returns the
/// cache directory holding `<name>.so` and `<name>.weights`; `cacheHit` says
/// whether the cache had it.
Expected<std::string> prepare(const RunOptions &options, std::string &name,
                              onnx::ModelProto &loaded,
                              std::map<std::string, std::string> &specialized, bool &cacheHit) {
  cacheHit = false;
  name = options.name.empty() ? defaultModelName(options.model) : options.name;
  auto model = loadModel(options.model);
  if (!model)
    return model.takeError();
  loaded = *model;
  auto specialize = chooseSpecializations(*model, options);
  if (!specialize)
    return specialize.takeError();
  specialized = *specialize;
  auto inputShapes = inputShapesFromData(*model, options.dataDirs.front());
  if (!inputShapes)
    return inputShapes.takeError();
  auto disabled = parseDisabledPasses(options.disable);
  if (!disabled)
    return disabled.takeError();
  auto key = cacheKey(*model, options.model, name, options.foldBatchNorm, *specialize,
                      *inputShapes, *disabled,
                      options.target == "cuda"
                          ? "cuda:" + options.gpu + ":" + options.precision +
                                (options.emulate ? ":emulate" : "")
                          : options.target,
                      options.cpu,
                      options.deterministic,
                      options.profile, options.maxConstantBytes);
  if (!key)
    return key.takeError();
  std::string dir = cacheRoot() + "/" + *key;
  if (llvm::sys::fs::exists(dir + "/" + name + ".so")) {
    cacheHit = true;
    progressNote("using the cached build in " + dir);
    return dir;
  }
  progressDetail("not in the cache: compiling into " + dir);
  if (std::error_code ec = llvm::sys::fs::create_directories(cacheRoot()))
    return makeError("cannot create cache directory '" + cacheRoot() + "': " + ec.message());
  // Build in a private directory and rename it into place, so concurrent runs
  // of the same model never see a half-built cache entry.
  std::string tmp = dir + ".tmp." + std::to_string(getpid());
  llvm::sys::fs::remove_directories(tmp);
  CompileOptions compile;
  compile.modelPath = options.model;
  compile.name = name;
  compile.foldBatchNorm = options.foldBatchNorm;
  compile.specialize = *specialize;
  compile.inputShapes = *inputShapes;
  compile.disabledPasses = *disabled;
  compile.target = options.target;
  compile.cpu = options.cpu;
  compile.gpu = options.gpu;
  compile.precision = options.precision;
  compile.emulate = options.emulate;
  compile.deterministic = options.deterministic;
  compile.maxConstantBytes = options.maxConstantBytes;
  auto result = compileModel(compile);
  if (!result)
    return result.takeError();
  if (Error e = writeCompileResult(*result, tmp, /*writeReport=*/true, false))
    return std::move(e);
  auto buildStart = std::chrono::steady_clock::now();
  // Emulated GPU kernels are built for a generic x86-64: they check the GPU
  // lowering, and GCC 12 at -O3 with AVX-512 if-converts their bounds-checked
  // accumulation loops wrongly (a depthwise convolution of 16 channels gave
  // wrong sums).
  std::string buildCpu = options.emulate ? "generic" : options.cpu;
  if (Error e = buildSharedObject(tmp, name, buildCpu, options.profile)) {
    llvm::sys::fs::remove_directories(tmp);
    return std::move(e);
  }
  // The C++ build time of the generated code joins the cached report.
  result->report["build_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - buildStart).count();
  if (Error e = writeCompileResult(*result, tmp, /*writeReport=*/true, false)) {
    llvm::sys::fs::remove_directories(tmp);
    return std::move(e);
  }
  if (llvm::sys::fs::rename(tmp, dir)) {
    llvm::sys::fs::remove_directories(tmp);
    if (!llvm::sys::fs::exists(dir + "/" + name + ".so"))
      return makeError("cannot move the build into '" + dir + "'");
  }
  return dir;
}

Expected<ModelAbi> loadAbi(void *handle, const std::string &name) {
  ModelAbi abi;
  auto sym = [&](auto &fn, const char *suffix) -> bool {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, (name + suffix).c_str()));
    return fn != nullptr;
  };
  if (!sym(abi.create, "_create") || !sym(abi.run, "_run") ||
      !sym(abi.destroy, "_destroy") || !sym(abi.numInputs, "_num_inputs") ||
      !sym(abi.numOutputs, "_num_outputs") || !sym(abi.inputInfo, "_input_info") ||
      !sym(abi.outputInfo, "_output_info"))
    return makeError("the compiled model does not export the '" + name +
                     "_*' C ABI");
  sym(abi.profile, "_profile");
  return abi;
}

/// The per-call timers of a -DKILN_PROFILE build over `runs` runs, as JSON
/// (one entry per call: kernel, nodes, ms per run, GFLOP/s), slowest first;
/// `print` also prints the calls that take 95% of the time.
nlohmann::json profileReport(const ModelAbi &abi, int runs, double meanMs, bool print) {
  std::string text(abi.profile(nullptr, 0, 0) + 1, '\0');
  abi.profile(text.data(), text.size(), 0);
  struct Call {
    std::string kernel, nodes;
    double flops, ms;
  };
  std::vector<Call> calls;
  std::istringstream lines(text.c_str());
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string index, kernel, flops, seconds, nodes;
    std::getline(fields, index, '\t');
    std::getline(fields, kernel, '\t');
    std::getline(fields, flops, '\t');
    std::getline(fields, seconds, '\t');
    std::getline(fields, nodes);
    calls.push_back({kernel, nodes, std::atof(flops.c_str()),
                     std::atof(seconds.c_str()) * 1e3 / std::max(runs, 1)});
  }
  std::stable_sort(calls.begin(), calls.end(),
                   [](const Call &a, const Call &b) { return a.ms > b.ms; });
  double total = 0;
  for (const Call &c : calls)
    total += c.ms;
  nlohmann::json out = nlohmann::json::array();
  if (print) {
    char buf[96];
    snprintf(buf, sizeof buf, "profile: %.3f ms per run in %zu kernel calls (%.3f ms outside)\n",
             total, calls.size(), meanMs - total);
    std::cout << buf << "      ms      %  GFLOP/s  kernel: nodes\n";
  }
  double shown = 0;
  for (const Call &c : calls) {
    double gflops = c.ms > 0 ? c.flops / (c.ms * 1e6) : 0;
    out.push_back({{"kernel", c.kernel}, {"nodes", c.nodes}, {"ms", c.ms},
                   {"flops", c.flops}, {"gflops", gflops}});
    if (print && shown < 0.95 * total) {
      char buf[96];
      snprintf(buf, sizeof buf, "%8.3f %6.1f %8.1f  ", c.ms, 100 * c.ms / total, gflops);
      std::cout << buf << c.kernel << ": " << c.nodes.substr(0, 100) << "\n";
    }
    shown += c.ms;
  }
  return out;
}

std::string previewValues(const HostTensor &t) {
  std::string s;
  size_t elt = onnxElementSize(t.dtype);
  size_t n = elt ? t.data.size() / elt : 0;
  for (size_t i = 0; i < std::min<size_t>(n, 6); ++i) {
    char buf[48];
    if (t.dtype == 1) {
      float v;
      std::memcpy(&v, t.data.data() + i * 4, 4);
      snprintf(buf, sizeof buf, "%.6g", v);
    } else if (t.dtype == 11) {
      double v;
      std::memcpy(&v, t.data.data() + i * 8, 8);
      snprintf(buf, sizeof buf, "%.6g", v);
    } else if (t.dtype == 7) {
      int64_t v;
      std::memcpy(&v, t.data.data() + i * 8, 8);
      snprintf(buf, sizeof buf, "%lld", (long long)v);
    } else {
      snprintf(buf, sizeof buf, "?");
    }
    s += (i ? ", " : "") + std::string(buf);
  }
  return s + (n > 6 ? ", ..." : "");
}


/// A model input or output as the data files hold it, and the compiled
/// tensors that carry it (from the compile report's "signature").
struct SignatureValue {
  std::string name;
  std::string structure;
  ValueShape shape;
  std::vector<std::string> tensors;
  onnx::TypeProto declared;
};

/// What `kiln run` reads back from the cached compile report.
struct RunSignature {
  std::vector<SignatureValue> inputs, outputs;
  int64_t sourceBytes = 0;
  /// Time the system compiler took to build the generated code.
  double buildSeconds = 0;
  /// Compile-report figures the bench reports next to the time.
  int64_t flops = 0, weightsBytes = 0, arenaBytes = 0;
};

/// A "VmRSS:"/"VmHWM:" line of /proc/self/status in bytes (0 if unknown).
int64_t procStatusBytes(const std::string &field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind(field, 0) == 0)
      return std::atoll(line.c_str() + field.size()) * 1024;
  return 0;
}

/// Starts a new peak for VmHWM (Linux: "5" to clear_refs), so the peak
/// reported covers the model and not the compile before it.
void resetPeakRss() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
}

Expected<RunSignature> readSignature(const std::string &reportPath,
                                     const onnx::ModelProto &model) {
  auto bytes = readFileBytes(reportPath, 64 << 20);
  if (!bytes)
    return bytes.takeError();
  nlohmann::json report = nlohmann::json::parse(*bytes, nullptr, false);
  if (report.is_discarded() || !report.contains("signature"))
    return makeError("'" + reportPath + "' has no signature; delete the cache entry");
  RunSignature sig;
  sig.sourceBytes = report.value("generated_source_bytes", int64_t(0));
  sig.buildSeconds = report.value("build_seconds", 0.0);
  sig.flops = report.value("flops", int64_t(0));
  sig.weightsBytes = report.value("weights_bytes", int64_t(0));
  sig.arenaBytes = report.value("arena_bytes", int64_t(0));
  std::map<std::string, const onnx::TypeProto *> declared;
  for (const auto &v : model.graph().input())
    declared[v.name()] = &v.type();
  for (const auto &v : model.graph().output())
    declared[v.name()] = &v.type();
  for (auto [key, list] : {std::pair{"inputs", &sig.inputs}, {"outputs", &sig.outputs}}) {
    for (const auto &e : report["signature"][key]) {
      SignatureValue v;
      v.name = e.value("name", "");
      v.structure = e.value("structure", "");
      v.tensors = e.value("tensors", std::vector<std::string>{});
      auto shape = parseValueShape(v.structure);
      if (!shape)
        return shape.takeError();
      v.shape = *shape;
      if (auto it = declared.find(v.name); it != declared.end())
        v.declared = *it->second;
      list->push_back(std::move(v));
    }
  }
  return sig;
}

void flattenValue(HostValue &value, std::vector<HostTensor> &out) {
  if (value.kind == HostValue::Kind::Tensor) {
    out.push_back(std::move(value.tensor));
    return;
  }
  for (HostValue &e : value.elements)
    flattenValue(e, out);
}

/// Rebuilds a model output from the compiled tensors, following `shape`.
Expected<HostValue> assembleValue(const ValueShape &shape, const std::vector<std::string> &tensors,
                                  size_t &next,
                                  const std::map<std::string, const HostTensor *> &byName) {
  HostValue v;
  v.kind = static_cast<HostValue::Kind>(shape.kind);
  if (shape.kind == ValueShape::Kind::Tensor) {
    if (next >= tensors.size() || !byName.count(tensors[next]))
      return makeError("the compiled model lacks an output of its signature");
    v.tensor = *byName.at(tensors[next++]);
    return v;
  }
  for (const ValueShape &e : shape.elements) {
    auto element = assembleValue(e, tensors, next, byName);
    if (!element)
      return element.takeError();
    v.elements.push_back(std::move(*element));
  }
  return v;
}

} // namespace

int runCommand(const RunOptions &given) {
  auto fail = [](const std::string &msg) {
    std::cerr << "kiln: error: " << msg << "\n";
    return 2;
  };
  RunOptions options = given;
  // --input and --random-inputs become a data directory of their own, which
  // goes when the run ends.
  std::string dataLabel;
  struct RemoveDirectory {
    std::string path;
    ~RemoveDirectory() {
      if (!path.empty())
        llvm::sys::fs::remove_directories(path);
    }
  } inputsDir;
  if (!options.inputs.empty() || options.randomInputs) {
    if (!options.dataDirs.empty())
      return fail("--data and --input/--random-inputs exclude each other");
    auto model = loadModel(options.model);
    if (!model)
      return fail(llvm::toString(model.takeError()));
    llvm::SmallString<128> dir;
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("kiln-inputs", dir))
      return fail("cannot create a directory for the inputs: " + ec.message());
    inputsDir.path = dir.str().str();
    auto label = writeInputDirectory(*model, options.model, options.inputs, options.randomInputs,
                                     options.seed, inputsDir.path);
    if (!label)
      return fail(llvm::toString(label.takeError()));
    dataLabel = "inputs: " + *label;
    options.dataDirs = {inputsDir.path};
  } else if (options.dataDirs.empty()) {
    return fail("kiln run needs inputs: --data DIR, --input NAME=FILE or --random-inputs");
  }
  if (options.saveFormat != "pb" && options.saveFormat != "npy")
    return fail("--save-format must be pb or npy (got '" + options.saveFormat + "')");
  std::string name;
  onnx::ModelProto onnxModel;
  std::map<std::string, std::string> specialized;
  bool cacheHit = false;
  auto dir = prepare(options, name, onnxModel, specialized, cacheHit);
  if (!dir)
    return fail(llvm::toString(dir.takeError()));

  std::string soPath = *dir + "/" + name + ".so";
  // The model's own memory: the peak resident size from here on (the
  // compiler's peak is reset away) less what the process held before.
  resetPeakRss();
  int64_t rssBeforeModel = procStatusBytes("VmRSS:");
  void *handle = dlopen(soPath.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return fail(std::string("cannot load '") + soPath + "': " + dlerror());
  auto abi = loadAbi(handle, name);
  if (!abi)
    return fail(llvm::toString(abi.takeError()));
  char error[1024] = {};
  std::string weights = *dir + "/" + name + ".weights";
  void *model = abi->create(weights.c_str(), options.threads, error, sizeof error);
  if (!model)
    return fail(error);
  struct Guard {
    ModelAbi &abi;
    void *model;
    ~Guard() { abi.destroy(model); }
  } guard{*abi, model};

  size_t numInputs = abi->numInputs(), numOutputs = abi->numOutputs();
  std::vector<kiln_tensor_info> inInfo(numInputs), outInfo(numOutputs);
  for (size_t i = 0; i < numInputs; ++i)
    abi->inputInfo(i, &inInfo[i]);
  for (size_t i = 0; i < numOutputs; ++i)
    abi->outputInfo(i, &outInfo[i]);
  auto signature = readSignature(*dir + "/" + name + ".report.json", onnxModel);
  if (!signature)
    return fail(llvm::toString(signature.takeError()));

  nlohmann::json report;
  report["model"] = options.model;
  report["name"] = name;
  report["threads"] = options.threads;
  report["cache_hit"] = cacheHit;
  report["generated_source_bytes"] = signature->sourceBytes;
  report["build_seconds"] = signature->buildSeconds;
  report["flops"] = signature->flops;
  report["weights_bytes"] = signature->weightsBytes;
  report["arena_bytes"] = signature->arenaBytes;
  report["specialized"] = nlohmann::json::array();
  for (const auto &entry : specialized)
    report["specialized"].push_back(entry.first);
  bool allMatch = true;
  int compared = 0;
  std::vector<std::string> notCompared;
  nlohmann::json datasets = nlohmann::json::array();
  std::vector<kiln_tensor> lastInputs;
  std::vector<HostTensor> lastInputData;

  for (size_t di = 0; di < options.dataDirs.size(); ++di) {
    const std::string &dataDir = options.dataDirs[di];
    if (std::string extra = unnamedDataFile(dataDir, signature->inputs.size(),
                                            signature->outputs.size());
        !extra.empty())
      return fail("model '" + name + "': '" + dataDir + "/" + extra +
                  "' is not a file of the model (it has " +
                  std::to_string(signature->inputs.size()) + " input(s) and " +
                  std::to_string(signature->outputs.size()) +
                  " output(s): input_<i>.pb and output_<i>.pb)");
    // The data files hold the model's values; the compiled model takes their
    // tensors (one per sequence element) by name.
    std::map<std::string, HostTensor> flatInputs;
    std::map<std::string, std::pair<std::string, std::string>> sources;
    for (size_t k = 0; k < signature->inputs.size(); ++k) {
      const SignatureValue &entry = signature->inputs[k];
      std::string path = dataDir + "/input_" + std::to_string(k) + ".pb";
      auto value = readValueFile(path, entry.declared);
      if (!value)
        return fail(llvm::toString(value.takeError()));
      std::vector<HostTensor> tensors;
      flattenValue(*value, tensors);
      if (tensors.size() != entry.tensors.size())
        return fail("model '" + name + "': input " + std::to_string(k) + " '" + entry.name +
                    "' in '" + path + "' has another structure than the model was " +
                    "compiled for (" + entry.structure + ")");
      for (size_t j = 0; j < tensors.size(); ++j) {
        flatInputs[entry.tensors[j]] = std::move(tensors[j]);
        std::string what = "input " + std::to_string(k) + " '" + entry.name + "'";
        if (entry.tensors[j] != entry.name)
          what += " (tensor '" + entry.tensors[j] + "')";
        sources[entry.tensors[j]] = {what, path};
      }
    }
    std::vector<HostTensor> inputs(numInputs), outputs(numOutputs);
    std::vector<kiln_tensor> inT(numInputs), outT(numOutputs);
    for (size_t i = 0; i < numInputs; ++i) {
      auto it = flatInputs.find(inInfo[i].name);
      if (it == flatInputs.end())
        return fail("model '" + name + "': no data for input '" + inInfo[i].name + "'");
      inputs[i] = std::move(it->second);
      std::vector<int64_t> want(inInfo[i].dims, inInfo[i].dims + inInfo[i].rank);
      if (inputs[i].dtype != inInfo[i].dtype || inputs[i].dims != want)
        return fail("model '" + name + "': " + sources[inInfo[i].name].first + " expects " +
                    onnxElementName(inInfo[i].dtype) + dimsText(want) + ", but '" +
                    sources[inInfo[i].name].second + "' holds " +
                    onnxElementName(inputs[i].dtype) + dimsText(inputs[i].dims));
      inT[i].dtype = inputs[i].dtype;
      inT[i].rank = inputs[i].dims.size();
      std::copy(inputs[i].dims.begin(), inputs[i].dims.end(), inT[i].dims);
      inT[i].data = inputs[i].data.data();
    }
    for (size_t i = 0; i < numOutputs; ++i) {
      HostTensor &t = outputs[i];
      t.name = outInfo[i].name;
      t.dtype = outInfo[i].dtype;
      t.dims.assign(outInfo[i].dims, outInfo[i].dims + outInfo[i].rank);
      int64_t count = 1;
      for (int64_t d : t.dims)
        count *= d;
      t.data.assign(count * onnxElementSize(t.dtype), 0);
      outT[i].dtype = t.dtype;
      outT[i].rank = t.dims.size();
      std::copy(t.dims.begin(), t.dims.end(), outT[i].dims);
      outT[i].data = t.data.data();
    }
    if (abi->run(model, inT.data(), numInputs, outT.data(), numOutputs, error,
                 sizeof error) != 0)
      return fail(error);
    std::map<std::string, const HostTensor *> byName;
    for (const HostTensor &t : outputs)
      byName[t.name] = &t;

    nlohmann::json ds;
    ds["data"] = dataLabel.empty() ? dataDir : dataLabel;
    nlohmann::json outs = nlohmann::json::array();
    if (!options.json)
      std::cout << "== " << (dataLabel.empty() ? dataDir : dataLabel) << "\n";
    std::vector<HostValue> values;
    for (size_t k = 0; k < signature->outputs.size(); ++k) {
      const SignatureValue &entry = signature->outputs[k];
      size_t next = 0;
      auto value = assembleValue(entry.shape, entry.tensors, next, byName);
      if (!value)
        return fail(llvm::toString(value.takeError()));
      nlohmann::json o;
      o["name"] = entry.name;
      std::string line = "output " + std::to_string(k) + " '" + entry.name + "' ";
      if (value->kind == HostValue::Kind::Tensor) {
        o["shape"] = value->tensor.dims;
        line += onnxElementName(value->tensor.dtype) + dimsText(value->tensor.dims) +
                ": " + previewValues(value->tensor);
      } else {
        o["structure"] = entry.structure;
        line += entry.structure;
      }
      std::string expectedPath = dataDir + "/output_" + std::to_string(k) + ".pb";
      if (llvm::sys::fs::exists(expectedPath)) {
        auto expected = readValueFile(expectedPath, entry.declared);
        if (!expected)
          return fail(llvm::toString(expected.takeError()));
        double scale = precisionToleranceScale(options.precision);
        Comparison c = compareValues(*value, *expected,
                                     options.rtol >= 0 ? options.rtol : 1e-3 * scale,
                                     options.atol >= 0 ? options.atol : -scale);
        ++compared;
        o["match"] = c.match;
        o["max_abs_error"] = c.maxAbsError;
        if (!c.match) {
          o["mismatch"] = c.message;
          allMatch = false;
          line += "\n  MISMATCH: " + c.message;
        } else {
          char buf[64];
          snprintf(buf, sizeof buf, "%.3g", c.maxAbsError);
          line += "\n  matches expected (max abs error " + std::string(buf) + ")";
        }
      } else {
        notCompared.push_back(expectedPath);
        if (dataLabel.empty())
          line += "\n  not compared: no " + expectedPath;
      }
      if (!options.json)
        std::cout << line << "\n";
      outs.push_back(o);
      values.push_back(std::move(*value));
    }
    ds["outputs"] = outs;
    datasets.push_back(ds);

    if (!options.saveDir.empty()) {
      std::string out = options.saveDir;
      if (options.dataDirs.size() > 1)
        out += "/" + llvm::sys::path::filename(dataDir).str();
      if (std::error_code ec = llvm::sys::fs::create_directories(out))
        return fail("cannot create '" + out + "': " + ec.message());
      for (size_t k = 0; k < values.size(); ++k) {
        std::string file = out + "/output_" + std::to_string(k) + "." + options.saveFormat;
        if (options.saveFormat == "npy") {
          if (values[k].kind != HostValue::Kind::Tensor)
            return fail("model '" + name + "': output " + std::to_string(k) + " '" +
                        signature->outputs[k].name + "' is a " + signature->outputs[k].structure +
                        ", which .npy cannot hold: use --save-format pb");
          HostTensor t = values[k].tensor;
          if (Error e = writeNpyFile(t, file))
            return fail(llvm::toString(std::move(e)));
        } else if (Error e = writeValueFile(values[k], file)) {
          return fail(llvm::toString(std::move(e)));
        }
      }
    }
    lastInputs = inT;
    lastInputData = std::move(inputs);
    for (size_t i = 0; i < numInputs; ++i)
      lastInputs[i].data = lastInputData[i].data.data();
  }
  report["datasets"] = datasets;
  report["match"] = allMatch;
  report["compared_outputs"] = compared;
  if (options.requireExpected && !notCompared.empty())
    return fail("model '" + name + "': --require-expected: " +
                std::to_string(notCompared.size()) + " output(s) have nothing to compare " +
                "with (first missing: '" + notCompared.front() + "')");

  if (options.bench > 0) {
    std::vector<HostTensor> scratch(numOutputs);
    std::vector<kiln_tensor> outT(numOutputs);
    for (size_t i = 0; i < numOutputs; ++i) {
      int64_t count = 1;
      for (int r = 0; r < outInfo[i].rank; ++r)
        count *= outInfo[i].dims[r];
      scratch[i].data.assign(count * onnxElementSize(outInfo[i].dtype), 0);
      outT[i].dtype = outInfo[i].dtype;
      outT[i].rank = outInfo[i].rank;
      std::copy(outInfo[i].dims, outInfo[i].dims + outInfo[i].rank, outT[i].dims);
      outT[i].data = scratch[i].data.data();
    }
    auto once = [&]() {
      return abi->run(model, lastInputs.data(), numInputs, outT.data(), numOutputs,
                      error, sizeof error);
    };
    int warmup = options.warmup >= 0 ? options.warmup : std::max(2, options.bench / 10);
    for (int i = 0; i < warmup; ++i)
      if (once() != 0)
        return fail(error);
    if (abi->profile)
      abi->profile(nullptr, 0, /*reset=*/1); // leave the warm-up out
    std::vector<double> ms;
    for (int i = 0; i < options.bench; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      if (once() != 0)
        return fail(error);
      ms.push_back(std::chrono::duration<double, std::milli>(
                       std::chrono::steady_clock::now() - t0)
                       .count());
    }
    std::sort(ms.begin(), ms.end());
    double median = ms.size() % 2 ? ms[ms.size() / 2]
                                  : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
    double mean = 0;
    for (double v : ms)
      mean += v / ms.size();
    report["runs"] = options.bench;
    report["warmup"] = warmup;
    report["median_ms"] = median;
    report["min_ms"] = ms.front();
    report["mean_ms"] = mean;
    if (!options.json) {
      char buf[160];
      snprintf(buf, sizeof buf,
               "time per run (%d runs, %d thread%s): median %.3f ms, min %.3f ms\n",
               options.bench, options.threads, options.threads == 1 ? "" : "s",
               median, ms.front());
      std::cout << buf;
    }
    if (abi->profile)
      report["profile"] = profileReport(*abi, options.bench, mean, !options.json);
  }
  report["peak_rss_bytes"] = procStatusBytes("VmHWM:");
  report["model_peak_rss_bytes"] = procStatusBytes("VmHWM:") - rssBeforeModel;
  if (options.json)
    std::cout << report.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    std::cout << (!allMatch        ? "outputs DIFFER\n"
                  : compared == 0 && !dataLabel.empty() ? "ran (no expected outputs to compare with)\n"
                  : compared == 0  ? "nothing was compared: the data directories have no "
                                     "output_<i>.pb\n"
                  : notCompared.empty() ? "all outputs match\n"
                                        : "all compared outputs match (" +
                                              std::to_string(notCompared.size()) +
                                              " not compared)\n");
  return allMatch ? 0 : 1;
}

} // namespace kiln
