//===- Pipeline.cpp - The passes `kiln compile` runs ----------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

void kiln::buildDefaultPipeline(mlir::OpPassManager &pm,
                                const PipelineOptions &options) {
  auto &fpm = pm.nest<mlir::func::FuncOp>();
  if (options.foldBatchNorm)
    fpm.addPass(createFoldBatchNorm());
  if (options.matchAttention)
    fpm.addPass(createMatchAttention());
  if (options.fuseElementwise)
    fpm.addPass(createFuseElementwise());
  // Removes ops whose results became unused and folds shapes of constants.
  fpm.addPass(mlir::createCanonicalizerPass());
}
