//===- Ptx.cpp - The GPU form -> PTX through MLIR's gpu/NVVM path ---------===//

#include "codegen/cuda/Ptx.h"
#include "codegen/cuda/GpuForm.h"
#include "codegen/cuda/TensorCore.h"

#include "mlir/Conversion/Passes.h"
#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"

#include <mutex>
#include <regex>
#include <sstream>

using namespace mlir;

namespace kiln {
namespace {

/// The passes the pipelines below name (registration is global). The
/// pipelines are nested in the module's pass manager: no builtin.module().
void registerPipelinePasses() {
  static std::once_flag once;
  std::call_once(once, [] {
    registerGPUPasses();
    registerConversionPasses();
    memref::registerMemRefPasses();
    registerTransformsPasses();
  });
}

LogicalResult runPipeline(ModuleOp module, const std::string &pipeline) {
  PassManager pm(module.getContext());
  std::string error;
  llvm::raw_string_ostream os(error);
  if (failed(parsePassPipeline(pipeline, pm, os)))
    return module.emitError("bad GPU pass pipeline: ") << error;
  return pm.run(module);
}

std::optional<int64_t> constantOf(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantIndexOp>())
    return c.value();
  return std::nullopt;
}

/// convert-gpu-to-nvvm calls libdevice (__nv_floorf, ...) for the maths
/// functions that GpuForm left alone because the hardware has them; the
/// NVPTX backend lowers the LLVM intrinsics of these to single instructions,
/// so Kiln defines each called function as its intrinsic instead of linking
/// libdevice. Others stay undefined (compileToPtx reports them).
void defineDeviceMaths(gpu::GPUModuleOp m) {
  static const std::pair<const char *, const char *> intrinsics[] = {
      {"floor", "llvm.intr.floor"}, {"ceil", "llvm.intr.ceil"},
      {"sqrt", "llvm.intr.sqrt"},   {"fabs", "llvm.intr.fabs"},
      {"trunc", "llvm.intr.trunc"}, {"round", "llvm.intr.round"},
      {"rint", "llvm.intr.roundeven"}, {"fma", "llvm.intr.fma"},
      {"copysign", "llvm.intr.copysign"}, {"fmod", "llvm.frem"},
      {"fmin", "llvm.intr.minnum"}, {"fmax", "llvm.intr.maxnum"}};
  for (auto fn : m.getOps<LLVM::LLVMFuncOp>()) {
    StringRef name = fn.getName();
    if (!fn.isExternal() || !name.consume_front("__nv_"))
      continue;
    auto type = fn.getFunctionType();
    if (type.getNumParams() == 0 || type.getParams()[0].isF32())
      name.consume_back("f");
    const char *intrinsic = nullptr;
    for (auto [base, intr] : intrinsics)
      if (name == base)
        intrinsic = intr;
    if (!intrinsic)
      continue;
    OpBuilder b(fn.getContext());
    Block *entry = fn.addEntryBlock(b);
    b.setInsertionPointToEnd(entry);
    OperationState state(fn.getLoc(), intrinsic);
    state.addOperands(entry->getArguments());
    state.addTypes(type.getReturnType());
    Operation *op = b.create(state);
    b.create<LLVM::ReturnOp>(fn.getLoc(), op->getResult(0));
    fn.setLinkage(LLVM::Linkage::Internal);
  }
}

} // namespace

std::string findPtxas() {
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  if (llvm::sys::fs::can_execute("/usr/local/cuda/bin/ptxas"))
    return "/usr/local/cuda/bin/ptxas";
  return "";
}

FailureOr<std::map<std::string, KernelResources>>
ptxasResources(const std::string &ptxas, const std::string &ptx, StringRef chip,
               std::string &error) {
  llvm::SmallString<128> input, log;
  if (llvm::sys::fs::createTemporaryFile("kiln", "ptx", input) ||
      llvm::sys::fs::createTemporaryFile("kiln-ptxas", "log", log)) {
    error = "cannot create temporary files for ptxas";
    return failure();
  }
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(input, ec);
    os << ptx;
  }
  std::string arch = ("-arch=" + chip).str();
  llvm::StringRef args[] = {ptxas, "-v", arch, input, "-o", "/dev/null"};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, llvm::StringRef(log),
                                                llvm::StringRef(log)};
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects);
  auto text = llvm::MemoryBuffer::getFile(log);
  std::string out = text ? (*text)->getBuffer().str() : "";
  llvm::sys::fs::remove(input);
  llvm::sys::fs::remove(log);
  if (rc != 0) {
    error = ptxas + " rejected the PTX: " + out;
    return failure();
  }
  // "Compiling entry function 'k0_kernel' for 'sm_80'" then
  // "Used 13 registers, used 0 barriers, 368 bytes cmem[0]" (and "N bytes smem").
  std::map<std::string, KernelResources> result;
  std::regex entry("Compiling entry function '([^']+)'"), used("Used ([0-9]+) registers");
  std::regex smem("([0-9]+) bytes smem");
  std::string current;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, entry))
      current = m[1];
    else if (!current.empty() && std::regex_search(line, m, used)) {
      result[current].registers = std::stoll(m[1]);
      if (std::regex_search(line, m, smem))
        result[current].sharedBytes = std::stoll(m[1]);
    }
  }
  return result;
}

FailureOr<PtxModule> compileToPtx(ModuleOp kernels, StringRef chip) {
  MLIRContext *ctx = kernels.getContext();
  registerPipelinePasses();
  DialectRegistry registry;
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  ctx->appendDialectRegistry(registry);
  ctx->loadDialect<gpu::GPUDialect, NVVM::NVVMDialect, LLVM::LLVMDialect, nvgpu::NVGPUDialect>();

  OwningOpRef<ModuleOp> module(cast<ModuleOp>(kernels->clone()));
  if (failed(mapCooperativeLaunches(*module)))
    return failure();
  LogicalResult supported = success();
  module->walk([&](Operation *op) {
    if (auto f = dyn_cast<func::FuncOp>(op)) {
      for (Type t : f.getArgumentTypes())
        if (cast<MemRefType>(t).getElementType().isUnsignedInteger())
          supported = f.emitError("unsigned tensors are not supported by the CUDA backend yet");
    } else if (auto check = dyn_cast<CheckOp>(op)) {
      // A failed check stops the kernel with a trap: the launch fails and
      // the runtime reports it (without the message and values the CPU
      // backend formats).
      OpBuilder b(check);
      Value failed = b.create<arith::XOrIOp>(
          check.getLoc(), check.getOk(),
          b.create<arith::ConstantOp>(check.getLoc(), b.getBoolAttr(true)));
      auto ifFailed = b.create<scf::IfOp>(check.getLoc(), failed);
      b.setInsertionPoint(ifFailed.thenBlock()->getTerminator());
      b.create<LLVM::Trap>(check.getLoc());
      check.erase();
      return WalkResult::skip();
    } else if (op->getDialect() && op->getDialect()->getNamespace() == "kiln") {
      supported = op->emitOpError("has no GPU form yet");
    }
    return WalkResult::advance();
  });
  if (failed(supported))
    return failure();
  // Blocks on x, threads on x (the GPU form has two parallel levels), one
  // gpu.launch per launch, then one outlined gpu.func per launch.
  if (failed(runPipeline(*module, "func.func(gpu-map-parallel-loops,convert-parallel-loops-to-gpu),"
                                  "canonicalize,gpu-launch-sink-index-computations,"
                                  "gpu-kernel-outlining")))
    return failure();

  // One gpu.module for all kernels, so that the model loads one PTX module.
  OpBuilder b(ctx);
  b.setInsertionPointToEnd(module->getBody());
  auto all = b.create<gpu::GPUModuleOp>(module->getLoc(), "kiln_kernels");
  PtxModule result;
  SmallVector<gpu::GPUModuleOp> outlined;
  for (auto m : module->getOps<gpu::GPUModuleOp>())
    if (m != all)
      outlined.push_back(m);
  // Each outlined module holds one kernel, named after its function (so
  // two launches of one function give two kernels of one name): a kernel
  // takes its module's (unique) name. Outlining also copied the constant
  // tables a kernel reads into its module: keep one copy of each.
  SymbolTable symbols(all);
  llvm::StringMap<std::string> kernelName; // "module::function" -> entry
  for (gpu::GPUModuleOp m : outlined) {
    for (Operation &op : llvm::make_early_inc_range(m.getBody()->without_terminator())) {
      if (auto kernel = dyn_cast<gpu::GPUFuncOp>(op)) {
        kernelName[(m.getSymName() + "::" + kernel.getName()).str()] = m.getSymName().str();
        kernel.setName(m.getSymName());
        moveScratchToWorkgroup(kernel);
      }
      auto name = op.getAttrOfType<StringAttr>(SymbolTable::getSymbolAttrName());
      if (name && symbols.lookup(name))
        continue;
      op.moveBefore(all.getBody()->getTerminator());
      if (name)
        symbols.insert(&op);
    }
  }
  for (auto f : module->getOps<func::FuncOp>()) {
    auto &launches = result.launches[f.getSymName().str()];
    LogicalResult status = success();
    f.walk([&](gpu::LaunchFuncOp launch) {
      GpuLaunch l;
      l.entry = kernelName[(launch.getKernelModuleName().getValue() + "::" +
                            launch.getKernelName().getValue())
                               .str()];
      auto blocks = constantOf(launch.getGridSizeX());
      auto threads = constantOf(launch.getBlockSizeX());
      if (!blocks || !threads) {
        status = launch.emitOpError("has a launch size that is not constant");
        return;
      }
      l.blocks = *blocks;
      l.threads = *threads;
      for (Value v : launch.getKernelOperands()) {
        auto arg = dyn_cast<BlockArgument>(v);
        if (!arg || arg.getOwner() != &f.getBody().front()) {
          status = launch.emitOpError("passes a kernel a value that is not a buffer");
          return;
        }
        l.params.push_back(arg.getArgNumber());
      }
      launch.setKernelAttr(SymbolRefAttr::get(
          all.getSymNameAttr(), {FlatSymbolRefAttr::get(ctx, l.entry)}));
      launches.push_back(std::move(l));
    });
    if (failed(status))
      return failure();
  }
  for (gpu::GPUModuleOp m : outlined)
    m.erase();

  if (failed(runPipeline(*module, "nvvm-attach-target{chip=" + chip.str() +
                                      " O=3},gpu.module(convert-scf-to-cf,expand-strided-metadata,"
                                      "lower-affine,strip-debuginfo,convert-nvgpu-to-nvvm,convert-gpu-to-nvvm{"
                                      "use-bare-ptr-memref-call-conv=1},convert-math-to-llvm)")))
    return failure();
  defineDeviceMaths(all);
  if (failed(runPipeline(*module, "gpu.module(canonicalize,cse,reconcile-unrealized-casts),"
                                  "gpu-module-to-binary{format=isa}")))
    return failure();
  for (auto bin : module->getOps<gpu::BinaryOp>())
    for (Attribute a : bin.getObjects())
      if (auto object = dyn_cast<gpu::ObjectAttr>(a))
        result.ptx = object.getObject().str();
  if (result.ptx.empty())
    return kernels.emitError("the NVPTX backend produced no PTX");
  // The NUL that terminates the object string is not part of the text.
  while (!result.ptx.empty() && result.ptx.back() == '\0')
    result.ptx.pop_back();
  // A call left to a libdevice function (a maths function GpuForm could not
  // expand, for example on f64) would fail only when the driver loads it.
  size_t ext = result.ptx.find(".extern .func");
  if (ext != std::string::npos) {
    size_t end = result.ptx.find('\n', ext);
    return kernels.emitError("a kernel calls a function that PTX without libdevice lacks: ")
           << result.ptx.substr(ext, end - ext);
  }
  return result;
}

} // namespace kiln
