//===- KernelPasses.cpp - kiln-opt entry points into code generation ------===//
//
// Passes that let lit test the code generator in pieces:
//
//   --kiln-lower-to-kernels   lowers every graph op whose family has a
//                             lowering into a kernel function of the module
//                             and tags the op with `kiln.kernel = @name`
//   --kiln-tidy-kernels       hoists loop-invariant index arithmetic and
//                             merges repeats in each kernel (tidyKernel), as
//                             the CPU backend does before printing
//   --kiln-gpu-form           rewrites each kernel into the CUDA backend's
//                             GPU form (launches of blocks x threads)
//   --kiln-print-ptx          compiles the kernels (in the GPU form) to PTX
//                             and prints each kernel's launches and the PTX
//   --kiln-print-kernels-cpp  prints each kernel function as the CPU
//                             backend's C++ to stdout
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelPasses.h"
#include "codegen/MicroKernelPlan.h"
#include "codegen/cpu/KernelPrinter.h"
#include "codegen/cuda/GpuForm.h"
#include "codegen/cuda/Ptx.h"
#include "codegen/lowering/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

namespace kiln {
namespace {

struct LowerToKernelsPass : PassWrapper<LowerToKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerToKernelsPass)
  LowerToKernelsPass() = default;
  LowerToKernelsPass(const LowerToKernelsPass &other) : PassWrapper(other) {}

  StringRef getArgument() const final { return "kiln-lower-to-kernels"; }
  StringRef getDescription() const final {
    return "Lower graph ops to kernel functions (the kernel-level form)";
  }
  void getDependentDialects(DialectRegistry &registry) const final {
    registry.insert<arith::ArithDialect, math::MathDialect, memref::MemRefDialect,
                    scf::SCFDialect>();
  }
  Option<std::string> cpu{*this, "cpu", llvm::cl::desc("Target CPU (as kiln --cpu)"),
                          llvm::cl::init("generic")};
  Option<std::string> gpu{*this, "gpu",
                          llvm::cl::desc("Lower for the CUDA backend's GPU (as kiln --gpu)"),
                          llvm::cl::init("")};
  Option<std::string> precision{*this, "precision",
                                llvm::cl::desc("With gpu: products' precision (as kiln --precision)"),
                                llvm::cl::init("fp32")};
  ListOption<std::string> families{
      *this, "families",
      llvm::cl::desc("Lower only ops of these families (elementwise, data-movement, contraction, "
                     "reductions, rows, pooling); all by default")};

  void runOnOperation() override {
    ModuleOp module = getOperation();
    TargetDescription target = gpu.empty() ? cpuTarget(cpu) : cudaTarget(gpu, precision);
    for (const std::string &name : families)
      if (!llvm::is_contained(loweringFamilies(), name)) {
        module.emitError("kiln-lower-to-kernels: unknown family '") << name << "'";
        return signalPassFailure();
      }
    SmallVector<Operation *> graphOps;
    for (auto f : module.getOps<func::FuncOp>())
      if (!isKernel(f))
        f.walk([&](Operation *op) {
          if (op->getParentOp() == f.getOperation() && op->getDialect() &&
              op->getDialect()->getNamespace() == "kiln")
            graphOps.push_back(op);
        });
    int64_t n = 0;
    for (Operation *op : graphOps) {
      if (!families.empty() && !llvm::is_contained(families, loweringFamily(op).str()))
        continue;
      std::string name = "k" + std::to_string(n) + "_" + op->getName().stripDialect().str();
      auto kernel = lowerToKernel(op, target, module, name);
      if (failed(kernel))
        return signalPassFailure();
      if (!*kernel)
        continue;
      ++n;
      op->setAttr(kKernelAttr, FlatSymbolRefAttr::get(kernel->getSymNameAttr()));
    }
  }
};

struct TidyKernelsPass : PassWrapper<TidyKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TidyKernelsPass)
  StringRef getArgument() const final { return "kiln-tidy-kernels"; }
  StringRef getDescription() const final {
    return "Hoist loop-invariant index arithmetic and merge repeats in each kernel function";
  }
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>())
      if (isKernel(f))
        tidyKernel(f);
  }
};

struct GpuFormPass : PassWrapper<GpuFormPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(GpuFormPass)
  GpuFormPass() = default;
  GpuFormPass(const GpuFormPass &other) : PassWrapper(other) {}
  StringRef getArgument() const final { return "kiln-gpu-form"; }
  StringRef getDescription() const final {
    return "Rewrite each kernel function into the GPU form (launches of blocks x threads)";
  }
  Option<int64_t> threads{*this, "threads", llvm::cl::desc("Threads per block"),
                          llvm::cl::init(kGpuThreadsPerBlock)};
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      GpuFormInfo info;
      if (isKernel(f) && failed(toGpuForm(f, threads, info)))
        return signalPassFailure();
    }
  }
};

struct PrintPtxPass : PassWrapper<PrintPtxPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrintPtxPass)
  PrintPtxPass() = default;
  PrintPtxPass(const PrintPtxPass &other) : PassWrapper(other) {}
  StringRef getArgument() const final { return "kiln-print-ptx"; }
  StringRef getDescription() const final {
    return "Compile the kernel functions (in the GPU form) to PTX and print it with the launches";
  }
  Option<std::string> gpu{*this, "gpu", llvm::cl::desc("GPU architecture (as kiln --gpu)"),
                          llvm::cl::init("sm_80")};
  void runOnOperation() override {
    OwningOpRef<ModuleOp> kernels(ModuleOp::create(getOperation().getLoc()));
    OpBuilder b = OpBuilder::atBlockEnd(kernels->getBody());
    // The kernels and the constant tables (memref.global) they read.
    for (Operation &op : getOperation().getBody()->getOperations())
      if (auto f = dyn_cast<func::FuncOp>(op); f ? isKernel(f) : isa<memref::GlobalOp>(op))
        b.clone(op);
    auto ptx = compileToPtx(*kernels, gpu);
    if (failed(ptx))
      return signalPassFailure();
    for (auto &[fn, launches] : ptx->launches)
      for (const GpuLaunch &l : launches) {
        llvm::outs() << "// launch " << fn << ": " << l.entry << " <<<" << l.blocks << ", "
                     << l.threads << ">>> (";
        for (size_t i = 0; i < l.params.size(); ++i)
          llvm::outs() << (i ? ", " : "") << "%arg" << l.params[i];
        llvm::outs() << ")\n";
      }
    llvm::outs() << ptx->ptx;
  }
};

struct PrintKernelsCppPass : PassWrapper<PrintKernelsCppPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PrintKernelsCppPass)
  StringRef getArgument() const final { return "kiln-print-kernels-cpp"; }
  StringRef getDescription() const final {
    return "Print each kernel function as C++ (the CPU backend) to stdout";
  }
  void runOnOperation() override {
    for (auto f : getOperation().getOps<func::FuncOp>()) {
      if (!isKernel(f))
        continue;
      PrintedKernel printed;
      if (failed(printKernel(f, printed)))
        return signalPassFailure();
      llvm::outs() << (printed.canFail ? "bool " : "void ") << f.getSymName() << "("
                   << printed.params << ") {\n";
      StringRef body = printed.body;
      while (!body.empty()) {
        auto [line, rest] = body.split('\n');
        llvm::outs() << "  " << line << "\n";
        body = rest;
      }
      llvm::outs() << "}\n";
    }
  }
};

} // namespace

void registerKernelPasses() {
  PassRegistration<LowerToKernelsPass>();
  PassRegistration<TidyKernelsPass>();
  PassRegistration<GpuFormPass>();
  PassRegistration<PrintPtxPass>();
  PassRegistration<PrintKernelsCppPass>();
}

} // namespace kiln
