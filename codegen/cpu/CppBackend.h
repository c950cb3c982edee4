//===- CppBackend.h - The CPU backend: C++ source of a model ----*- C++ -*-===//
//
// Emits a compiled model as a header, a C++ source file and a weights file.
// The source has one function per distinct kernel (structurally identical
// kernels are emitted once), comments naming the ONNX nodes each call comes
// from, and an entry point that checks what it is given.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_CPU_CPPBACKEND_H
#define CODEGEN_CPU_CPPBACKEND_H

#include "codegen/kernel/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace kiln {

struct CppEmitOptions {
  /// C++ namespace and C ABI prefix of the model; a valid identifier.
  std::string name = "model";
  /// Shown in the generated comments.
  std::string modelPath;
  /// Adds Model::createEmbedded(), which reads the weights from the symbols
  /// `kiln_<name>_weights_data`/`_end` (see embeddedWeightsAssembly).
  bool embedWeights = false;
  /// Emit structurally identical kernels once (`--disable=reuse` clears it).
  bool reuseKernels = true;
  /// Share arena space between buffers whose lifetimes do not overlap
  /// (`--disable=memplan` clears it: every buffer gets its own space).
  bool reuseMemory = true;
  /// Target "cuda" only: print the GPU form's loop nests as C++ for the CPU
  /// (`--emulate`) instead of PTX and host code.
  bool emulate = false;
  /// The CPU: its `--cpu` name goes into the generated source's ISA check,
  /// its vector width sizes the micro-kernel (0 leaves contractions on plain
  /// loops).
  TargetDescription target;
};

struct CppArtifacts {
  std::string header;
  /// <name>_c.h: the C ABI, for C programs (the C++ header includes it).
  std::string cHeader;
  std::string source;
  /// Target "cuda": the kernels' PTX (written as <name>.ptx), and every
  /// kernel launch in order.
  std::string ptx;
  struct Launch {
    std::string kernel, entry, nodes;
    int64_t blocks, threads;
    /// From ptxas -v where installed; -1 otherwise.
    int64_t registers = -1, sharedBytes = -1;
  };
  /// The ptxas that assembled the PTX for the figures above, or "".
  std::string ptxas;
  std::vector<Launch> launches;
  /// Complete weights file (header and payload).
  std::vector<char> weightsFile;

  // Figures for the compile report.
  int64_t kernels = 0;
  int64_t uniqueKernels = 0;
  int64_t arenaBytes = 0;
  int64_t liveBytesBound = 0;
  int64_t weightsBytes = 0;
  int64_t flops = 0;
  /// Contractions that run on plain loops (kiln op, ONNX nodes, reason).
  struct Fallback {
    std::string op, nodes, reason;
  };
  std::vector<Fallback> fallbackKernels;
};

/// Emits `func` (the model's `@main`). Unsupported ops or types fail with a
/// diagnostic at the op's location.
mlir::LogicalResult emitCpp(mlir::func::FuncOp func,
                            const CppEmitOptions &options, CppArtifacts &out);

/// GNU assembler source that embeds the weights file at `weightsPath` under
/// the symbols Model::createEmbedded() reads.
std::string embeddedWeightsAssembly(const std::string &name,
                                    const std::string &weightsPath);

/// Turns `name` into a C identifier usable as a namespace ("resnet-18" ->
/// "resnet_18").
std::string sanitizeIdentifier(const std::string &name);

} // namespace kiln

#endif // CODEGEN_CPU_CPPBACKEND_H
