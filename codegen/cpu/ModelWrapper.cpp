//===- ModelWrapper.cpp - The C++ backend's model class and C ABI ---------===//
//
// Emits a compiled model as a header, a C++ source file and a weights file:
// one function per distinct kernel (kernels in the kernel form are printed by
// KernelPrinter and deduplicated structurally), one call per graph op with a
// comment naming its ONNX nodes, the model class with its arena and weights,
// and a C ABI whose entry point checks what it is given.
//
// The CUDA backend (codegen/cuda/CudaBackend.h) shares this wrapper: with
// target "cuda" the kernels go through the GPU form to one PTX module, and
// the model class keeps its arena, weights and buffers on the device and
// launches the kernels (the cuda() branches); the C ABI is the same.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/CppBackend.h"
#include "codegen/MemoryPlan.h"
#include "codegen/MicroKernelPlan.h"
#include "codegen/cpu/CppText.h"
#include "codegen/cpu/KernelPrinter.h"
#include "codegen/cuda/GpuForm.h"
#include "codegen/cuda/Ptx.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"
#include "kiln/runtime/Weights.h"

#include <cstdio>
#include <map>
#include <set>
#include <sstream>

using namespace mlir;

namespace kiln {
namespace {


/// ONNX TensorProto.DataType code (the runtime's DType) of an element type.
int dtypeCode(Type t) {
  if (t.isF32()) return 1;
  if (t.isF64()) return 11;
  if (t.isF16()) return 10;
  if (t.isInteger(1)) return 9;
  auto i = cast<IntegerType>(t);
  bool u = i.isUnsigned();
  switch (i.getWidth()) {
  case 8: return u ? 2 : 3;
  case 16: return u ? 4 : 5;
  case 32: return u ? 12 : 6;
  default: return u ? 13 : 7;
  }
}

//===----------------------------------------------------------------------===//
// Module emitter
//===----------------------------------------------------------------------===//

struct TensorInfo {
  std::string name;   // ONNX name
  std::string member; // C++ member name
  std::string ctype;
  int dtype;
  SmallVector<int64_t> shape;
};

class ModuleEmitter {
public:
  ModuleEmitter(func::FuncOp func, const CppEmitOptions &options, CppArtifacts &out)
      : func(func), options(options), out(out) {}

  LogicalResult emit() {
    if (options.target.vectorWidth)
      separatePackedWeights(func);
    if (failed(planMemory(func, plan, options.reuseMemory, options.target.vectorWidth)))
      return failure();
    if (failed(collectSignature()))
      return failure();
    if (failed(emitKernels()))
      return failure();
    for (BlockArgument arg : func.getArguments())
      if (auto value = func.getArgAttrOfType<DenseElementsAttr>(arg.getArgNumber(),
                                                                "kiln.specialized")) {
        int64_t offset;
        if (failed(appendDenseBytes(value, plan.weights, offset)))
          return failure();
        guards.push_back({arg.getArgNumber(), offset, byteSize(arg)});
      }
    std::vector<uint8_t> header =
        makeWeightsHeader(plan.weights.data(), plan.weights.size());
    out.weightsFile.assign(header.begin(), header.end());
    out.weightsFile.insert(out.weightsFile.end(), plan.weights.begin(), plan.weights.end());
    weightsHash = fnv1a64(plan.weights.data(), plan.weights.size());
    emitCHeader();
    emitHeader();
    emitSource();
    out.arenaBytes = plan.arenaBytes;
    out.liveBytesBound = plan.liveBytesBound;
    out.weightsBytes = plan.weights.size();
    return success();
  }

private:
  LogicalResult collectSignature() {
    std::set<std::string> used;
    auto member = [&](const std::string &name, const char *fallback, size_t i) {
      std::string m = sanitizeIdentifier(name);
      if (m.empty() || isKeyword(m))
        m = std::string(fallback) + str(i) + (m.empty() ? "" : "_" + m);
      while (used.count(m))
        m += "_";
      used.insert(m);
      return m;
    };
    auto info = [&](Value v, StringAttr name, const char *fallback, size_t i,
                    std::vector<TensorInfo> &list) -> LogicalResult {
      auto ct = cType(eltOf(v));
      if (failed(ct))
        return func.emitError("model ") << fallback << " " << i
                                        << " has unsupported element type " << eltOf(v);
      TensorInfo t;
      t.name = name ? name.str() : std::string(fallback) + str(i);
      t.member = member(t.name, fallback, i);
      t.ctype = *ct;
      t.dtype = dtypeCode(eltOf(v));
      t.shape.assign(shapeOf(v).begin(), shapeOf(v).end());
      if (t.shape.size() > 8)
        return func.emitError("tensors of rank above 8 are not supported at the entry point");
      list.push_back(t);
      return success();
    };
    for (BlockArgument arg : func.getArguments())
      if (failed(info(arg, func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "kiln.name"),
                      "input", arg.getArgNumber(), inputs)))
        return failure();
    auto ret = cast<func::ReturnOp>(func.getBody().front().getTerminator());
    for (auto [i, v] : llvm::enumerate(ret.getOperands()))
      if (failed(info(v, func.getResultAttrOfType<StringAttr>(i, "kiln.name"),
                      "output", i, outputs)))
        return failure();
    return success();
  }

  static std::string in(unsigned i) { return "in" + str(i); }
  /// Whether `text` uses the identifier `name` (not just a longer one).
  static bool mentions(const std::string &text, const std::string &name) {
    for (size_t pos = text.find(name); pos != std::string::npos;
         pos = text.find(name, pos + 1)) {
      size_t end = pos + name.size();
      bool before = pos == 0 || !(std::isalnum((unsigned char)text[pos - 1]) || text[pos - 1] == '_');
      bool after = end >= text.size() || !(std::isalnum((unsigned char)text[end]) || text[end] == '_');
      if (before && after)
        return true;
    }
    return false;
  }

  /// Host code for the CUDA backend (PTX kernels) rather than C++ kernels.
  bool cuda() const { return options.target.backend == "cuda" && !options.emulate; }

  std::string pointer(Value v) {
    Storage s = plan.storage.lookup(v);
    if (cuda()) {
      switch (s.kind) {
      case Storage::Input:
        return "in_[" + str(s.index) + "]";
      case Storage::Output:
        return "out_[" + str(s.index) + "]";
      case Storage::Weight:
        return "weightsDev_ + " + str(s.index);
      case Storage::Arena:
        return "arena_ + " + str(s.index);
      }
    }
    std::string t = *cType(eltOf(v));
    switch (s.kind) {
    case Storage::Input:
      return "static_cast<const " + t + " *>(inputs[" + str(s.index) + "])";
    case Storage::Output:
      return "static_cast<" + t + " *>(outputs[" + str(s.index) + "])";
    case Storage::Weight:
      return "weights_.at<" + t + ">(" + str(s.index) + ")";
    case Storage::Arena:
      return "arena_.at<" + t + ">(" + str(s.index) + ")";
    }
    return "";
  }

  /// A kernel function of the C++ source: its name, and what its calls need.
  struct KernelFn {
    std::string name;
    bool usesPool = false, canFail = false;
  };

  KernelFn defineKernel(Operation *op, const std::string &params, const std::string &text,
                        bool canFail) {
    std::string opName = op->getName().stripDialect().str();
    KernelFn fn{"k" + str(uniqueKernels++) + "_" + opName, false, canFail};
    kernelDefs.line("// " + opName + ": first emitted for " + sourceNodes(op) + ".");
    kernelDefs.open(std::string(canFail ? "bool " : "void ") + fn.name + "(" + params + ")");
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      kernelDefs.line(line);
    kernelDefs.close();
    kernelDefs.line("");
    return fn;
  }

  /// The function for `op` lowered to `kernel`: an existing one if a
  /// structurally identical kernel was printed before (unless reuse is off).
  FailureOr<KernelFn> kernelFromForm(Operation *op, func::FuncOp kernel, int64_t &flops) {
    if (options.target.backend == "cuda") {
      // Emulation of the CUDA backend: the GPU form's loop nests, on the CPU.
      GpuFormInfo gpu;
      if (failed(toGpuForm(kernel, kGpuThreadsPerBlock, gpu)))
        return failure();
      if (gpu.serialLaunches)
        out.fallbackKernels.push_back({op->getName().stripDialect().str(), sourceNodes(op),
                                       "work outside parallel loops runs on one GPU thread"});
    }
    tidyKernel(kernel);
    if (auto f = kernel->getAttrOfType<IntegerAttr>(kFlopsAttr))
      flops = f.getInt();
    if (auto why = kernel->getAttrOfType<StringAttr>(kFallbackAttr))
      out.fallbackKernels.push_back(
          {op->getName().stripDialect().str(), sourceNodes(op), why.str()});
    unsigned h = static_cast<unsigned>(static_cast<size_t>(kernelHash(kernel)));
    if (options.reuseKernels)
      for (auto &[rep, fn] : byForm[h])
        if (sameKernel(rep, kernel))
          return fn;
    PrintedKernel printed;
    if (failed(printKernel(kernel, printed)))
      return failure();
    KernelFn fn = defineKernel(op, printed.params, printed.body, printed.canFail);
    fn.usesPool = printed.usesPool;
    usesMicroKernel |= printed.usesMicroKernel;
    usesRounding |= printed.usesRounding;
    byForm[h].push_back({kernel, fn});
    return fn;
  }

  LogicalResult emitKernels() {
    loadKernelDialects(func.getContext());
    kernelModule = OwningOpRef<ModuleOp>(ModuleOp::create(func.getLoc()));
    for (Operation *op : plan.kernels) {
      SmallVector<Value> all(op->getOperands());
      all.append(op->result_begin(), op->result_end());
      for (Value v : all)
        if (failed(cType(eltOf(v))) || eltOf(v).isIndex())
          return op->emitOpError("element type ") << eltOf(v)
                 << " is not supported by the C++ code generator";
      std::string opName = op->getName().stripDialect().str();
      auto lowered = lowerToKernel(op, options.target, *kernelModule,
                                   "kernel" + str(out.kernels) + "_" + opName);
      if (failed(lowered))
        return failure();
      if (!*lowered)
        return op->emitOpError("is not supported by the code generator in this form (its "
                               "rank, layout or operand types have no kernel)");
      int64_t flops = 0;
      if (cuda()) {
        if (failed(gpuKernelFromForm(op, *lowered, flops)))
          return failure();
        out.flops += flops;
        ++out.kernels;
        continue;
      }
      FailureOr<KernelFn> fn = kernelFromForm(op, *lowered, flops);
      if (failed(fn))
        return failure();
      out.flops += flops;

      std::string args;
      if (fn->usesPool)
        args += "pool_";
      for (Value v : op->getOperands())
        args += (args.empty() ? "" : ", ") + pointer(v);
      for (Value v : op->getResults())
        args += ", " + pointer(v);
      calls.line("// " + sourceNodes(op));
      profile.push_back({fn->name, sourceNodes(op), flops});
      std::string lap = " KILN_PROFILE_LAP(" + str(out.kernels) + ");";
      if (fn->canFail) {
        calls.open("if (!" + fn->name + "(" + args + ", error))");
        calls.line("return kiln::Status::error(" +
                   cStringLiteral("model '" + options.name + "': node '" +
                                  sourceNodes(op) + "' (" + opName + "): ") +
                   " + error);");
        calls.close();
        calls.line(lap.substr(1));
      } else {
        calls.line(fn->name + "(" + args + ");" + lap);
      }
      ++out.kernels;
    }
    out.uniqueKernels = uniqueKernels;
    if (cuda())
      return emitLaunches();
    return success();
  }

  //===--------------------------------------------------------------------===//
  // CUDA: kernels in the GPU form, compiled to one PTX module
  //===--------------------------------------------------------------------===//

  /// One graph op's kernel call: its kernel function (in gpuKernels) and the
  /// device address of each of its parameters.
  struct GpuCall {
    std::string kernel, nodes, opName;
    std::vector<std::string> params;
  };

  LogicalResult gpuKernelFromForm(Operation *op, func::FuncOp kernel, int64_t &flops) {
    GpuFormInfo gpu;
    if (failed(toGpuForm(kernel, kGpuThreadsPerBlock, gpu)))
      return failure();
    if (auto f = kernel->getAttrOfType<IntegerAttr>(kFlopsAttr))
      flops = f.getInt();
    if (gpu.serialLaunches)
      out.fallbackKernels.push_back({op->getName().stripDialect().str(), sourceNodes(op),
                                     "work outside parallel loops runs on one GPU thread"});
    GpuCall call{"", sourceNodes(op), op->getName().stripDialect().str(), {}};
    unsigned h = static_cast<unsigned>(static_cast<size_t>(kernelHash(kernel)));
    if (options.reuseKernels)
      for (auto &[rep, fn] : byForm[h])
        if (sameKernel(rep, kernel))
          call.kernel = fn.name;
    if (call.kernel.empty()) {
      call.kernel = "k" + str(uniqueKernels++) + "_" + call.opName;
      kernel.setSymName(call.kernel);
      byForm[h].push_back({kernel, KernelFn{call.kernel}});
    }
    for (Value v : op->getOperands())
      call.params.push_back(pointer(v));
    for (Value v : op->getResults())
      call.params.push_back(pointer(v));
    gpuCalls.push_back(std::move(call));
    return success();
  }

  /// Compiles the distinct kernels to PTX and writes each call's launches.
  LogicalResult emitLaunches() {
    OwningOpRef<ModuleOp> unique(ModuleOp::create(func.getLoc()));
    OpBuilder b = OpBuilder::atBlockEnd(unique->getBody());
    for (Operation &op : kernelModule->getBody()->getOperations()) {
      auto f = dyn_cast<func::FuncOp>(op);
      if (!f || llvm::any_of(gpuCalls, [&](const GpuCall &c) { return c.kernel == f.getSymName(); }))
        b.clone(op);
    }
    auto ptx = compileToPtx(*unique, options.target.gpu);
    if (failed(ptx))
      return failure();
    out.ptx = ptx->ptx;
    // Where the CUDA toolkit is installed, ptxas checks the PTX and says
    // what each kernel uses (Kiln itself never needs it).
    std::map<std::string, KernelResources> resources;
    out.ptxas = findPtxas();
    if (!out.ptxas.empty()) {
      std::string error;
      auto assembled = ptxasResources(out.ptxas, out.ptx, options.target.gpu, error);
      if (failed(assembled))
        return func.emitError(error);
      resources = *assembled;
    }
    std::map<std::string, size_t> entryIndex;
    for (auto &[fn, launches] : ptx->launches)
      for (const GpuLaunch &l : launches)
        if (!entryIndex.count(l.entry)) {
          entryIndex[l.entry] = entries.size();
          entries.push_back(l.entry);
        }
    for (const GpuCall &c : gpuCalls) {
      calls.line("// " + c.nodes);
      profile.push_back({c.kernel, c.nodes, 0});
      for (const GpuLaunch &l : ptx->launches[c.kernel]) {
        std::string args;
        for (unsigned p : l.params)
          args += (args.empty() ? "" : ", ") + c.params[p];
        calls.line("if (kiln::Status st = dev_->launch(" + str(entryIndex[l.entry]) + ", " +
                   str(l.blocks) + ", " + str(l.threads) + ", {" + args + "}); !st.ok())");
        calls.line("  return st.prepend(" +
                   cStringLiteral("model '" + options.name + "': node '" + c.nodes + "' (" +
                                  c.opName + "): ") +
                   ");");
        CppArtifacts::Launch launch{c.kernel, l.entry, c.nodes, l.blocks, l.threads};
        if (auto it = resources.find(l.entry); it != resources.end()) {
          launch.registers = it->second.registers;
          launch.sharedBytes = it->second.sharedBytes;
        }
        out.launches.push_back(launch);
      }
    }
    return success();
  }

  /// With -DKILN_PROFILE the generated code times every kernel call (for
  /// `kiln run --profile`); otherwise the macros expand to nothing. The
  /// totals are per process, so profile builds are for one model at a time.
  void emitProfileTable(Code &s) {
    s.line("#ifdef KILN_PROFILE");
    s.line("double kProfileSeconds[" + str(std::max<size_t>(profile.size(), 1)) + "];");
    s.line("struct ProfileCall { const char *kernel, *nodes; long long flops; };");
    s.open("const ProfileCall kProfileCalls[] =");
    for (const ProfileEntry &e : profile)
      s.line("{" + cStringLiteral(e.kernel) + ", " + cStringLiteral(e.nodes) + ", " +
             str(e.flops) + "},");
    if (profile.empty())
      s.line("{\"\", \"\", 0},");
    s.close(";");
    s.line("// LAP(i) charges the time since the previous lap to call i.");
    s.line("#define KILN_PROFILE_DECLARE() auto profileLap = std::chrono::steady_clock::now()");
    s.line("#define KILN_PROFILE_LAP(i) do { auto now = std::chrono::steady_clock::now(); kProfileSeconds[i] += std::chrono::duration<double>(now - profileLap).count(); profileLap = now; } while (0)");
    s.line("#else");
    s.line("#define KILN_PROFILE_DECLARE() (void)0");
    s.line("#define KILN_PROFILE_LAP(i) (void)0");
    s.line("#endif");
    s.line("");
  }

  std::string shapeList(ArrayRef<int64_t> shape) {
    std::string s;
    for (int64_t d : shape)
      s += (s.empty() ? "" : ", ") + str(d);
    return s;
  }

  /// <name>_c.h: the model's C ABI with its inputs and outputs described,
  /// valid C11 and C++.
  void emitCHeader() {
    const std::string &n = options.name;
    std::string guard = "KILN_GENERATED_" + llvm::StringRef(n).upper() + "_C_H";
    auto dtypeConstant = [](int code) -> std::string {
      static const std::map<int, const char *> names = {
          {1, "FLOAT32"}, {2, "UINT8"},  {3, "INT8"},     {4, "UINT16"},   {5, "INT16"},
          {6, "INT32"},   {7, "INT64"},  {9, "BOOL"},     {10, "FLOAT16"}, {11, "FLOAT64"},
          {12, "UINT32"}, {13, "UINT64"}};
      auto it = names.find(code);
      return it == names.end() ? str(code) : std::string("KILN_DTYPE_") + it->second;
    };
    Code h;
    // Line comments, which C11 has too: commentText makes any text safe in one.
    h.line("// Generated by Kiln from " + commentText(options.modelPath) + ". Do not edit.");
    h.line("//");
    h.line("// The C interface of model '" + n + "' (kiln/runtime/Abi.h says how the");
    h.line("// functions report errors). Tensors are dense and row-major:");
    auto describe = [&](const char *what, const std::vector<TensorInfo> &list) {
      for (auto [i, t] : llvm::enumerate(list))
        h.line("//   " + std::string(what) + " " + str(i) + " '" + commentText(t.name) +
               "': " + dtypeConstant(t.dtype) + " [" + shapeList(t.shape) + "]");
    };
    describe("input", inputs);
    describe("output", outputs);
    h.line("#ifndef " + guard);
    h.line("#define " + guard);
    h.line("");
    h.line("#include \"kiln/runtime/Abi.h\"");
    h.line("");
    h.line("#ifdef __cplusplus");
    h.line("extern \"C\" {");
    h.line("#endif");
    h.line("");
    h.line("void *" + n + "_create(const char *weights_path, int threads, char *error, size_t error_size);");
    h.line("void *" + n + "_create_from_memory(const void *data, size_t bytes, int threads, char *error,");
    h.line("    size_t error_size);");
    if (options.embedWeights)
      h.line("void *" + n + "_create_embedded(int threads, char *error, size_t error_size);");
    h.line("int " + n + "_run(void *model, const kiln_tensor *inputs, size_t num_inputs,");
    h.line("    kiln_tensor *outputs, size_t num_outputs, char *error, size_t error_size);");
    h.line("void " + n + "_destroy(void *model);");
    h.line("size_t " + n + "_num_inputs(void);");
    h.line("size_t " + n + "_num_outputs(void);");
    h.line("int " + n + "_input_info(size_t index, kiln_tensor_info *info);");
    h.line("int " + n + "_output_info(size_t index, kiln_tensor_info *info);");
    h.line("");
    h.line("#ifdef __cplusplus");
    h.line("}");
    h.line("#endif");
    h.line("");
    h.line("#endif // " + guard);
    out.cHeader = h.text;
  }

  void emitHeader() {
    const std::string &n = options.name;
    std::string guard = "KILN_GENERATED_" + llvm::StringRef(n).upper() + "_H";
    Code h;
    h.line("// Generated by Kiln from " + commentText(options.modelPath) + ". Do not edit.");
    h.line("//");
    h.line("// Model '" + n + "': " + str(inputs.size()) + " input(s), " +
           str(outputs.size()) + " output(s); " + str(out.kernels) +
           " kernel calls, " + str(plan.arenaBytes) + " arena bytes, " +
           str(plan.weights.size()) + " weight bytes.");
    h.line("#ifndef " + guard);
    h.line("#define " + guard);
    h.line("");
    h.line("#include \"kiln/runtime/Runtime.h\"");
    if (cuda())
      h.line("#include \"kiln/runtime/Cuda.h\"");
    h.line("");
    h.line("#include <cstddef>");
    h.line("#include <cstdint>");
    h.line("#include <memory>");
    h.line("#include <mutex>");
    h.line("#include <string>");
    h.line("");
    h.open("namespace " + n);
    h.line("");
    auto structOf = [&](const char *name, const std::vector<TensorInfo> &list, bool isConst) {
      h.line("/// " + std::string(name) + " of the model, in graph order; each points to a");
      h.line("/// dense row-major tensor of the shape in the comment.");
      h.open(std::string("struct ") + name);
      for (const TensorInfo &t : list) {
        h.line("/// '" + commentText(t.name) + "': " + t.ctype + "[" + shapeList(t.shape) + "]");
        h.line((isConst ? "const " : "") + t.ctype + " *" + t.member + " = nullptr;");
      }
      h.close(";");
      h.line("");
    };
    structOf("Inputs", inputs, true);
    structOf("Outputs", outputs, false);
    h.open("class Model");
    h.line("public:");
    h.line("static constexpr size_t kNumInputs = " + str(inputs.size()) + ";");
    h.line("static constexpr size_t kNumOutputs = " + str(outputs.size()) + ";");
    h.line("static constexpr size_t kArenaBytes = " + str(plan.arenaBytes) + ";");
    h.line("static constexpr size_t kWeightsBytes = " + str(plan.weights.size()) + ";");
    h.line("");
    if (cuda()) {
      h.line("/// Runs on NVIDIA GPU 0 (the CUDA driver is loaded when a model is");
      h.line("/// created); `threads` >= 1 is accepted for the CPU backend's interface.");
    }
    h.line("/// Loads the weights file written beside this header; `threads` >= 1.");
    h.line("static kiln::Status create(const std::string &weightsPath, int threads,");
    h.line("                           std::unique_ptr<Model> &model);");
    h.line("/// Uses a weights file already in memory (for example embedded in the");
    h.line("/// binary); the memory must outlive the model.");
    h.line("static kiln::Status createFromMemory(const void *data, size_t bytes, int threads,");
    h.line("                                     std::unique_ptr<Model> &model);");
    if (options.embedWeights) {
      h.line("/// Uses the weights embedded in the binary by <name>.weights.S.");
      h.line("static kiln::Status createEmbedded(int threads, std::unique_ptr<Model> &model);");
    }
    h.line("");
    h.line("/// Runs on typed pointers; shapes are the model's (see Inputs/Outputs).");
    h.line("kiln::Status run(const Inputs &inputs, const Outputs &outputs);");
    h.line("/// Runs on views whose count, element types and shapes are checked.");
    h.line("kiln::Status run(const kiln::TensorView *inputs, size_t numInputs,");
    h.line("                 const kiln::TensorView *outputs, size_t numOutputs);");
    h.line("");
    if (cuda()) {
      h.line("/// Runs on device buffers (CUdeviceptr values) of the model's shapes:");
      h.line("/// no copies to or from the host. run() takes host pointers.");
      h.line("kiln::Status runOnDevice(const kiln::cuda::DevicePtr *inputs,");
      h.line("                         const kiln::cuda::DevicePtr *outputs);");
      h.line("/// Records the model's launches as one CUDA graph; later runs replay it.");
      h.line("kiln::Status captureGraph();");
      h.line("");
    }
    h.line("static const kiln_tensor_info &inputInfo(size_t index);");
    h.line("static const kiln_tensor_info &outputInfo(size_t index);");
    h.line("");
    h.line("private:");
    if (cuda()) {
      h.line("explicit Model(int) {}");
      h.line("kiln::Status init();");
      h.line("kiln::Status runChecked(const void *const *inputs, void *const *outputs);");
      h.line("kiln::Status launchAll();");
      h.line("kiln::Weights weights_;");
      h.line("std::unique_ptr<kiln::cuda::Device> dev_;");
      h.line("kiln::cuda::DevicePtr arena_ = 0, weightsDev_ = 0;");
      h.line("kiln::cuda::DevicePtr in_[kNumInputs + 1] = {}, out_[kNumOutputs + 1] = {};");
      h.line("/// Calls from several threads take turns: they share the device buffers.");
      h.line("std::mutex runLock_;");
    } else {
      h.line("explicit Model(int threads) : pool_(threads) {}");
      h.line("kiln::Status init();");
      h.line("kiln::Status runChecked(const void *const *inputs, void *const *outputs);");
      h.line("kiln::Weights weights_;");
      h.line("kiln::Arena arena_;");
      h.line("kiln::ThreadPool pool_;");
      h.line("/// Calls from several threads take turns: they share the arena and threads.");
      h.line("std::mutex runLock_;");
    }
    h.close(";");
    h.line("");
    h.close(" // namespace " + n);
    h.line("");
    h.line("#include \"" + n + "_c.h\"");
    h.line("");
    h.line("#endif // " + guard);
    out.header = h.text;
  }

  void emitSource() {
    const std::string &n = options.name;
    Code s;
    s.line("// Generated by Kiln from " + commentText(options.modelPath) + ". Do not edit.");
    s.line("");
    s.line("#include \"" + n + ".h\"");
    s.line("");
    s.line("#include <algorithm>");
    s.line("#include <chrono>");
    s.line("#include <cmath>");
    s.line("#include <cstring>");
    s.line("#include <limits>");
    s.line("#include <new>");
    s.line("#include <vector>");
    s.line("");
    s.line("#include \"kiln/runtime/VectorMath.h\"");
    if (usesMicroKernel)
      s.line("#include \"kiln/runtime/MicroKernel.h\"");
    if (usesRounding)
      s.line("#include \"kiln/runtime/Rounding.h\"");
    s.line("");
    if (usesMicroKernel) {
      // Tiles were sized and weights packed for this vector width: a build
      // for a narrower target would run, but far slower than it should.
      std::string isa = options.target.vectorWidth == 16 ? "defined(__AVX512F__)"
                        : options.target.vectorWidth == 8 ? "defined(__AVX2__) && defined(__FMA__)"
                                                   : "";
      if (!isa.empty()) {
        std::string march = options.target.cpu == "native" ? "native" : options.target.cpu;
        s.line("#if !(" + isa + ")");
        s.line("#error \"generated by kiln compile --cpu " + options.target.cpu + " (" +
               str(options.target.vectorWidth * 32) + "-bit vectors): build with -march=" + march +
               ", or regenerate with --cpu generic\"");
        s.line("#endif");
        s.line("");
      }
    }
    s.open("namespace " + n);
    s.line("");
    s.line("namespace {");
    s.line("");
    s.line("constexpr uint64_t kWeightsHash = " + std::to_string(weightsHash) + "ull;");
    s.line("");
    auto infoTable = [&](const char *name, const std::vector<TensorInfo> &list) {
      s.open(std::string("const kiln_tensor_info ") + name + "[] =");
      for (const TensorInfo &t : list)
        s.line("{" + cStringLiteral(t.name) + ", " + str(t.dtype) + ", " +
               str(t.shape.size()) + ", {" + shapeList(t.shape) + "}},");
      if (list.empty())
        s.line("{\"\", 0, 0, {}},");
      s.close(";");
    };
    infoTable("kInputInfo", inputs);
    infoTable("kOutputInfo", outputs);
    s.line("");
    emitProfileTable(s);
    if (cuda())
      emitPtx(s);
    else
      s.text += kernelDefs.text;
    s.line("} // namespace");
    s.line("");
    if (cuda()) {
      emitCudaInit(s);
    } else {
      s.open("kiln::Status Model::init()");
      s.line("return arena_.allocate(kArenaBytes);");
      s.close();
      s.line("");
    }
    // create() and createFromMemory() differ only in where the weights come
    // from. Neither lets an exception out (thread creation, allocation).
    auto emitCreate = [&](const std::string &signature, const std::string &weightsCall) {
      s.open("kiln::Status Model::" + signature);
      s.line("if (threads < 1 || threads > kiln::kMaxThreads)");
      s.line("  return kiln::Status::error(\"model '" + n +
             "': threads must be between 1 and \" + std::to_string(kiln::kMaxThreads) + \", not \" + std::to_string(threads));");
      emitGuarded(s, [&] {
        s.line("std::unique_ptr<Model> m(new (std::nothrow) Model(threads));");
        s.line("if (!m)");
        s.line("  return kiln::Status::error(\"model '" + n + "': out of memory\");");
        s.line("if (kiln::Status st = m->weights_." + weightsCall + "; !st.ok())");
        s.line("  return st.prepend(\"model '" + n + "': \");");
        s.line("if (kiln::Status st = m->init(); !st.ok())");
        s.line("  return st.prepend(\"model '" + n + "': \");");
        s.line("model = std::move(m);");
        s.line("return kiln::Status::success();");
      }, "return kiln::Status::error(std::string(\"model '" + n + "': \") + WHAT);");
      s.close();
      s.line("");
    };
    emitCreate("create(const std::string &weightsPath, int threads, std::unique_ptr<Model> &model)",
               "load(weightsPath, kWeightsBytes, kWeightsHash)");
    emitCreate("createFromMemory(const void *data, size_t bytes, int threads, std::unique_ptr<Model> &model)",
               "attach(data, bytes, kWeightsBytes, kWeightsHash)");
    if (options.embedWeights) {
      s.line("extern \"C\" const unsigned char kiln_" + n + "_weights_data[];");
      s.line("extern \"C\" const unsigned char kiln_" + n + "_weights_end[];");
      s.open("kiln::Status Model::createEmbedded(int threads, std::unique_ptr<Model> &model)");
      s.line("return createFromMemory(kiln_" + n + "_weights_data, static_cast<size_t>(kiln_" + n +
             "_weights_end - kiln_" + n + "_weights_data), threads, model);");
      s.close();
      s.line("");
    }
    s.open("const kiln_tensor_info &Model::inputInfo(size_t index)");
    s.line("return kInputInfo[index < kNumInputs ? index : 0];");
    s.close();
    s.open("const kiln_tensor_info &Model::outputInfo(size_t index)");
    s.line("return kOutputInfo[index < kNumOutputs ? index : 0];");
    s.close();
    s.line("");
    s.open("kiln::Status Model::run(const Inputs &in, const Outputs &out)");
    std::string inArr, outArr;
    for (const TensorInfo &t : inputs) {
      s.line("if (!in." + t.member + ")");
      s.line("  return kiln::Status::error(" +
             cStringLiteral("model '" + n + "': input '" + t.name + "' is null") + ");");
      inArr += (inArr.empty() ? "" : ", ") + std::string("in.") + t.member;
    }
    for (const TensorInfo &t : outputs) {
      s.line("if (!out." + t.member + ")");
      s.line("  return kiln::Status::error(" +
             cStringLiteral("model '" + n + "': output '" + t.name + "' is null") + ");");
      outArr += (outArr.empty() ? "" : ", ") + std::string("out.") + t.member;
    }
    if (inArr.empty())
      s.line("(void)in;");
    s.line("const void *inputs[] = {" + (inArr.empty() ? std::string("nullptr") : inArr) + "};");
    s.line("void *outputs[] = {" + outArr + "};");
    s.line("return runChecked(inputs, outputs);");
    s.close();
    s.line("");
    s.open("kiln::Status Model::run(const kiln::TensorView *inputs, size_t numInputs, const kiln::TensorView *outputs, size_t numOutputs)");
    s.line("if (numInputs != kNumInputs || (numInputs && !inputs))");
    s.line("  return kiln::Status::error(\"model '" + n + "': expected \" + std::to_string(kNumInputs) + \" input(s), got \" + std::to_string(numInputs));");
    s.line("if (numOutputs != kNumOutputs || !outputs)");
    s.line("  return kiln::Status::error(\"model '" + n + "': expected \" + std::to_string(kNumOutputs) + \" output(s), got \" + std::to_string(numOutputs));");
    s.line("const void *in[kNumInputs + 1] = {};");
    s.line("void *out[kNumOutputs] = {};");
    s.open("for (size_t i = 0; i < kNumInputs; ++i)");
    s.line("const kiln_tensor_info &info = kInputInfo[i];");
    s.line("if (kiln::Status st = kiln::checkTensor(inputs[i], static_cast<kiln::DType>(info.dtype), info.dims, info.rank,");
    s.line("        \"model '" + n + "': input \" + std::to_string(i) + \" '\" + info.name + \"'\"); !st.ok())");
    s.line("  return st;");
    s.line("in[i] = inputs[i].data;");
    s.close();
    s.open("for (size_t i = 0; i < kNumOutputs; ++i)");
    s.line("const kiln_tensor_info &info = kOutputInfo[i];");
    s.line("if (kiln::Status st = kiln::checkTensor(outputs[i], static_cast<kiln::DType>(info.dtype), info.dims, info.rank,");
    s.line("        \"model '" + n + "': output \" + std::to_string(i) + \" '\" + info.name + \"'\"); !st.ok())");
    s.line("  return st;");
    s.line("out[i] = outputs[i].data;");
    s.close();
    s.line("return runChecked(in, out);");
    s.close();
    s.line("");
    s.open("kiln::Status Model::runChecked(const void *const *inputs, void *const *outputs)");
    s.line("(void)inputs;");
    s.line("std::lock_guard<std::mutex> lock(runLock_);");
    for (auto [index, offset, bytes] : guards) {
      s.line("// Input '" + commentText(inputs[index].name) + "' was specialised at compile time.");
      s.line("if (std::memcmp(inputs[" + str(index) + "], weights_.at<char>(" + str(offset) +
             "), " + str(bytes) + ") != 0)");
      s.line("  return kiln::Status::error(" +
             cStringLiteral("model '" + options.name + "': input '" + inputs[index].name +
                            "' must hold the value it was specialised to at compile time") +
             ");");
    }
    if (cuda()) {
      s.open("for (size_t i = 0; i < kNumInputs; ++i)");
      s.line("if (kiln::Status st = dev_->upload(in_[i], inputs[i], kiln::tensorBytes(kInputInfo[i])); !st.ok())");
      s.line("  return st.prepend(\"model '" + options.name + "': \");");
      s.close();
      s.line("kiln::Status st = dev_->captured() ? dev_->replay() : launchAll();");
      s.line("if (!st.ok())");
      s.line("  return st.prepend(\"model '" + options.name + "': \");");
      s.open("for (size_t i = 0; i < kNumOutputs; ++i)");
      s.line("if (kiln::Status st = dev_->download(outputs[i], out_[i], kiln::tensorBytes(kOutputInfo[i])); !st.ok())");
      s.line("  return st.prepend(\"model '" + options.name + "': \");");
      s.close();
      s.line("return kiln::Status::success();");
      s.close();
      s.line("");
      s.close(" // namespace " + options.name);
      s.line("");
      emitCAbi(s);
      out.source = s.text;
      return;
    }
    s.line("KILN_PROFILE_DECLARE();");
    bool anyFail = calls.text.find("error))") != std::string::npos;
    if (anyFail)
      s.line("std::string error;");
    s.text += indentBlock(calls.text, s.depth);
    for (auto &[index, v] : plan.outputCopies) {
      s.line("// Output '" + commentText(outputs[index].name) + "' aliases another buffer: copy it.");
      s.line("std::memcpy(outputs[" + str(index) + "], " + pointer(v) + ", " +
             str(byteSize(v)) + ");");
    }
    s.line("return kiln::Status::success();");
    s.close();
    s.line("");
    s.close(" // namespace " + n);
    s.line("");
    emitCAbi(s);
    out.source = s.text;
  }

  /// The PTX as a raw string literal, and the entry point of each launch.
  void emitPtx(Code &s) {
    s.line("// The kernels, compiled by kiln for " + options.target.gpu + " (the driver JITs");
    s.line("// them for the GPU it runs on).");
    s.line("const char kPtx[] = R\"kiln_ptx(" + out.ptx + ")kiln_ptx\";");
    s.open("const char *const kEntries[] =");
    for (const std::string &e : entries)
      s.line(cStringLiteral(e) + ",");
    if (entries.empty())
      s.line("\"\",");
    s.close(";");
    s.line("");
  }

  void emitCudaInit(Code &s) {
    const std::string &n = options.name;
    s.open("kiln::Status Model::init()");
    s.line("if (kiln::Status st = kiln::cuda::Device::open(0, dev_); !st.ok())");
    s.line("  return st;");
    s.line("if (kiln::Status st = dev_->loadKernels(kPtx, kEntries, " + str(entries.size()) +
           "); !st.ok())");
    s.line("  return st;");
    s.line("if (kiln::Status st = dev_->allocate(kArenaBytes, arena_); !st.ok())");
    s.line("  return st;");
    s.line("// The weights go to the device once, when the model is created.");
    s.line("if (kiln::Status st = dev_->allocate(kWeightsBytes, weightsDev_); !st.ok())");
    s.line("  return st;");
    s.line("if (kiln::Status st = dev_->upload(weightsDev_, weights_.at<char>(0), kWeightsBytes); !st.ok())");
    s.line("  return st;");
    s.open("for (size_t i = 0; i < kNumInputs; ++i)");
    s.line("if (kiln::Status st = dev_->allocate(kiln::tensorBytes(kInputInfo[i]), in_[i]); !st.ok())");
    s.line("  return st;");
    s.close();
    s.open("for (size_t i = 0; i < kNumOutputs; ++i)");
    s.line("if (kiln::Status st = dev_->allocate(kiln::tensorBytes(kOutputInfo[i]), out_[i]); !st.ok())");
    s.line("  return st;");
    s.close();
    s.line("return dev_->synchronize();");
    s.close();
    s.line("");
    s.open("kiln::Status Model::launchAll()");
    s.text += indentBlock(calls.text, s.depth);
    for (auto &[index, v] : plan.outputCopies) {
      s.line("// Output '" + commentText(outputs[index].name) + "' aliases another buffer: copy it.");
      s.line("if (kiln::Status st = dev_->copy(out_[" + str(index) + "], " + pointer(v) + ", " +
             str(byteSize(v)) + "); !st.ok())");
      s.line("  return st;");
    }
    s.line("return kiln::Status::success();");
    s.close();
    s.line("");
    s.open("kiln::Status Model::captureGraph()");
    s.line("std::lock_guard<std::mutex> lock(runLock_);");
    s.line("if (kiln::Status st = dev_->beginCapture(); !st.ok())");
    s.line("  return st.prepend(\"model '" + n + "': \");");
    s.line("kiln::Status launched = launchAll();");
    s.line("kiln::Status captured = dev_->endCapture();");
    s.line("return (launched.ok() ? captured : launched).prepend(\"model '" + n + "': \");");
    s.close();
    s.line("");
    s.open("kiln::Status Model::runOnDevice(const kiln::cuda::DevicePtr *inputs, const kiln::cuda::DevicePtr *outputs)");
    s.line("if ((kNumInputs && !inputs) || !outputs)");
    s.line("  return kiln::Status::error(\"model '" + n + "': null buffer array\");");
    s.line("std::lock_guard<std::mutex> lock(runLock_);");
    s.line("// The launches read in_/out_; point them at the caller's buffers.");
    s.line("kiln::cuda::DevicePtr savedIn[kNumInputs + 1], savedOut[kNumOutputs + 1];");
    s.line("std::copy(in_, in_ + kNumInputs, savedIn);");
    s.line("std::copy(out_, out_ + kNumOutputs, savedOut);");
    s.line("std::copy(inputs, inputs + kNumInputs, in_);");
    s.line("std::copy(outputs, outputs + kNumOutputs, out_);");
    s.line("kiln::Status st = launchAll();");
    s.line("std::copy(savedIn, savedIn + kNumInputs, in_);");
    s.line("std::copy(savedOut, savedOut + kNumOutputs, out_);");
    s.line("if (st.ok())");
    s.line("  st = dev_->synchronize();");
    s.line("return st.prepend(\"model '" + n + "': \");");
    s.close();
    s.line("");
  }

  static std::string indentBlock(const std::string &text, int depth) {
    std::string out, pad(2 * depth, ' ');
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
      out += pad + line + "\n";
    return out;
  }

  void emitCAbi(Code &s) {
    const std::string &n = options.name;
    s.line("// C ABI (see kiln/runtime/Abi.h).");
    s.line("namespace {");
    s.open("void copyError(const kiln::Status &st, char *error, size_t size)");
    s.line("if (!error || size == 0)");
    s.line("  return;");
    s.line("size_t len = std::min(st.message().size(), size - 1);");
    s.line("std::memcpy(error, st.message().data(), len);");
    s.line("error[len] = '\\0';");
    s.close();
    s.line("} // namespace");
    s.line("");
    s.line("extern \"C\" {");
    s.line("");
    // The C create functions: each calls a Model::create* (CALL), guarded.
    auto emitCCreate = [&](const std::string &signature, const std::string &check,
                           const std::string &call) {
      s.open("void *" + n + signature);
      s.line("std::unique_ptr<" + n + "::Model> model;");
      s.line("kiln::Status st = kiln::Status::error(\"model '" + n + "': " + check + "\");");
      emitGuarded(s, [&] { s.line(call); },
                  "st = kiln::Status::error(std::string(\"model '" + n + "': \") + WHAT);");
      s.open("if (!st.ok())");
      s.line("copyError(st, error, error_size);");
      s.line("return nullptr;");
      s.close();
      s.line("return model.release();");
      s.close();
      s.line("");
    };
    emitCCreate("_create(const char *weights_path, int threads, char *error, size_t error_size)",
                "weights path is null",
                "if (weights_path) st = " + n + "::Model::create(weights_path, threads, model);");
    emitCCreate("_create_from_memory(const void *data, size_t bytes, int threads, char *error, size_t error_size)",
                "weights data is null",
                "if (data) st = " + n + "::Model::createFromMemory(data, bytes, threads, model);");
    if (options.embedWeights)
      emitCCreate("_create_embedded(int threads, char *error, size_t error_size)", "",
                  "st = " + n + "::Model::createEmbedded(threads, model);");
    s.open("int " + n + "_run(void *model, const kiln_tensor *inputs, size_t num_inputs, kiln_tensor *outputs, size_t num_outputs, char *error, size_t error_size)");
    s.open("if (!model)");
    s.line("copyError(kiln::Status::error(\"model '" + n + "': model handle is null\"), error, error_size);");
    s.line("return 1;");
    s.close();
    s.open("if ((num_inputs && !inputs) || (num_outputs && !outputs) || num_inputs > 64 || num_outputs > 64)");
    s.line("copyError(kiln::Status::error(\"model '" + n + "': bad tensor arrays\"), error, error_size);");
    s.line("return 1;");
    s.close();
    s.line("kiln::TensorView in[64], out[64];");
    s.line("for (size_t i = 0; i < num_inputs; ++i)");
    s.line("  in[i] = kiln::TensorView(static_cast<kiln::DType>(inputs[i].dtype), inputs[i].dims, inputs[i].rank, inputs[i].data);");
    s.line("for (size_t i = 0; i < num_outputs; ++i)");
    s.line("  out[i] = kiln::TensorView(static_cast<kiln::DType>(outputs[i].dtype), outputs[i].dims, outputs[i].rank, outputs[i].data);");
    emitGuarded(s, [&] {
      s.line("kiln::Status st = static_cast<" + n + "::Model *>(model)->run(in, num_inputs, out, num_outputs);");
      s.line("copyError(st, error, error_size);");
      s.line("return st.ok() ? 0 : 1;");
    }, "copyError(kiln::Status::error(std::string(\"model '" + n + "': \") + WHAT), error, error_size); return 1;");
    s.close();
    s.line("");
    s.line("void " + n + "_destroy(void *model) { delete static_cast<" + n + "::Model *>(model); }");
    s.line("#ifdef KILN_PROFILE");
    s.line("// Per-call times since the last reset, as lines of");
    s.line("// \"call<TAB>kernel<TAB>flops<TAB>seconds<TAB>nodes\"; returns the length.");
    s.open("size_t " + n + "_profile(char *text, size_t size, int reset)");
    s.line("std::string all;");
    s.open("for (size_t i = 0; i < " + str(profile.size()) + "; ++i)");
    s.line("const auto &call = " + n + "::kProfileCalls[i];");
    s.line("all += std::to_string(i) + '\\t' + call.kernel + '\\t' + std::to_string(call.flops) + '\\t' + std::to_string(" +
           n + "::kProfileSeconds[i]) + '\\t' + call.nodes + '\\n';");
    s.line("if (reset) " + n + "::kProfileSeconds[i] = 0;");
    s.close();
    s.line("if (text && size) { size_t k = std::min(all.size(), size - 1); std::memcpy(text, all.data(), k); text[k] = 0; }");
    s.line("return all.size();");
    s.close();
    s.line("#endif");
    s.line("size_t " + n + "_num_inputs(void) { return " + n + "::Model::kNumInputs; }");
    s.line("size_t " + n + "_num_outputs(void) { return " + n + "::Model::kNumOutputs; }");
    s.open("int " + n + "_input_info(size_t index, kiln_tensor_info *info)");
    s.line("if (!info || index >= " + n + "::Model::kNumInputs)");
    s.line("  return 1;");
    s.line("*info = " + n + "::Model::inputInfo(index);");
    s.line("return 0;");
    s.close();
    s.open("int " + n + "_output_info(size_t index, kiln_tensor_info *info)");
    s.line("if (!info || index >= " + n + "::Model::kNumOutputs)");
    s.line("  return 1;");
    s.line("*info = " + n + "::Model::outputInfo(index);");
    s.line("return 0;");
    s.close();
    s.line("");
    s.line("} // extern \"C\"");
  }

  /// `body` inside try/catch where the consumer's compiler has exceptions:
  /// `onError` (WHAT stands for the message) handles any exception.
  static void emitGuarded(Code &s, llvm::function_ref<void()> body, const std::string &onError) {
    auto handler = [&](const std::string &what) {
      std::string text = onError;
      text.replace(text.find("WHAT"), 4, what);
      return text;
    };
    s.line("#if defined(__cpp_exceptions)");
    s.open("try");
    s.line("#endif");
    body();
    s.line("#if defined(__cpp_exceptions)");
    s.close();
    s.open("catch (const std::exception &e)");
    s.line(handler("e.what()"));
    s.close();
    s.open("catch (...)");
    s.line(handler("\"unknown C++ exception\""));
    s.close();
    s.line("#endif");
  }

  func::FuncOp func;
  const CppEmitOptions &options;
  CppArtifacts &out;
  MemoryPlan plan;
  std::vector<TensorInfo> inputs, outputs;
  Code kernelDefs, calls;
  struct ProfileEntry {
    std::string kernel, nodes;
    int64_t flops;
  };
  /// One entry per kernel call, in call order.
  std::vector<ProfileEntry> profile;
  uint64_t weightsHash = 0;
  /// Some kernel runs on kiln::mk::gemmTile.
  bool usesMicroKernel = false;
  bool usesRounding = false;
  int64_t uniqueKernels = 0;
  /// CUDA: each graph op's call, and the PTX entry points in launch order.
  std::vector<GpuCall> gpuCalls;
  std::vector<std::string> entries;
  /// Kernels lowered to the kernel form, by structural hash.
  OwningOpRef<ModuleOp> kernelModule;
  llvm::DenseMap<unsigned, SmallVector<std::pair<func::FuncOp, KernelFn>>> byForm;
  /// Specialised inputs: (input index, weights offset of the value, bytes).
  std::vector<std::tuple<unsigned, int64_t, int64_t>> guards;
};

} // namespace

std::string sanitizeIdentifier(const std::string &name) {
  std::string s;
  for (char ch : name)
    s += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
  if (!s.empty() && std::isdigit(static_cast<unsigned char>(s[0])))
    s = "_" + s;
  // Identifiers with double underscores or a leading underscore + capital are
  // reserved in C++.
  while (s.find("__") != std::string::npos)
    s.replace(s.find("__"), 2, "_");
  if (s.size() > 1 && s[0] == '_' && std::isupper(static_cast<unsigned char>(s[1])))
    s = "v" + s;
  if (isKeyword(s))
    s += "_";
  return s;
}

std::string embeddedWeightsAssembly(const std::string &name,
                                    const std::string &weightsPath) {
  // An assembler string: quotes and backslashes escaped, and every byte
  // outside printable ASCII in octal (a newline would end the directive).
  std::string quoted;
  for (unsigned char ch : weightsPath) {
    if (ch == '"' || ch == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(ch);
    } else if (ch < 0x20 || ch >= 0x7f) {
      char buf[8];
      snprintf(buf, sizeof buf, "\\%03o", ch);
      quoted += buf;
    } else {
      quoted += static_cast<char>(ch);
    }
  }
  // The file header is 32 bytes; starting it 32 bytes past a 64-byte boundary
  // leaves the payload 64-byte aligned, so no copy is needed at load time.
  return "// Generated by Kiln: embeds the weights of model '" + name + "'.\n"
         "  .section .rodata\n"
         "  .balign 64\n"
         "  .skip 32\n"
         "  .globl kiln_" + name + "_weights_data\n"
         "kiln_" + name + "_weights_data:\n"
         "  .incbin \"" + quoted + "\"\n"
         "  .globl kiln_" + name + "_weights_end\n"
         "kiln_" + name + "_weights_end:\n"
         "  .section .note.GNU-stack,\"\",@progbits\n";
}

LogicalResult emitCpp(func::FuncOp func, const CppEmitOptions &options,
                      CppArtifacts &out) {
  return ModuleEmitter(func, options, out).emit();
}

} // namespace kiln
