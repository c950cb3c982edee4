//===- kiln-opt.cpp - Run kiln passes on MLIR -----------------------------===//
//
// The driver for lit tests: parses MLIR with the kiln, func and kernel-form
// dialects, runs the requested passes (graph passes, lowering to kernels,
// printing kernels as C++) and prints the result. The verifier runs after
// every pass (Debian's LLVM has no assertions to catch malformed IR).
//
//===----------------------------------------------------------------------===//

#include "codegen/KernelPasses.h"
#include "dialects/Kiln/KilnDialect.h"
#include "passes/Passes.h"
#include "KilnVersion.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  // The graph dialect, and the upstream dialects of the kernel form.
  registry.insert<kiln::KilnDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect>();
  kiln::registerKilnPasses();
  kiln::registerKernelPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  llvm::cl::SetVersionPrinter([](llvm::raw_ostream &os) {
    os << "kiln-opt " KILN_VERSION " (MLIR " LLVM_VERSION_STRING ")\n";
  });
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Kiln optimizer driver\n", registry));
}
