//===- Passes.h - Kiln graph passes -----------------------------*- C++ -*-===//

#ifndef PASSES_PASSES_H
#define PASSES_PASSES_H

#include "dialects/Kiln/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

namespace kiln {

#define GEN_PASS_DECL
#include "passes/Passes.h.inc"

/// Patterns of kiln-fold-batch-norm, for pipelines that combine patterns.
void populateFoldBatchNormPatterns(mlir::RewritePatternSet &patterns);

/// Number of NCHW <-> NHWC conversions under `root` that channels-last
/// layout propagation inserted and could not cancel.
int64_t countLayoutConversions(mlir::Operation *root);

/// Float32 elementwise ops a fused kernel can evaluate per element.
bool isFusableElementwise(mlir::Operation *op);

/// Clones the computation of `op` (a kiln.fused_elementwise, whose body is
/// inlined, or a single elementwise op) at the builder's insertion point,
/// with each operand replaced by `operandFor(operand)`; returns the result.
mlir::Value cloneElementwise(mlir::OpBuilder &b, mlir::Operation *op,
                             llvm::function_ref<mlir::Value(mlir::Value)> operandFor);

/// Which optional passes the default pipeline runs.
struct PipelineOptions {
  bool foldBatchNorm = true;
  /// kiln-channels-last (`--disable=layout`).
  bool channelsLast = true;
  /// kiln-match-attention (`--disable=sdpa` turns it off).
  bool matchAttention = true;
  /// kiln-fuse-elementwise (`--disable=fusion`).
  bool fuseElementwise = true;
  /// kiln-fuse-epilogue (also `--disable=fusion`).
  bool fuseEpilogue = true;
  /// kiln-fuse-rows (also `--disable=fusion`).
  bool fuseRows = true;
  /// kiln-fold-transposes (also `--disable=fusion`).
  bool foldTransposes = true;
};

/// The passes `kiln compile` runs between import and code generation.
void buildDefaultPipeline(mlir::OpPassManager &pm,
                          const PipelineOptions &options = {});

#define GEN_PASS_REGISTRATION
#include "passes/Passes.h.inc"

} // namespace kiln

#endif // PASSES_PASSES_H
