//===- Pipeline.cpp - The passes `kiln compile` runs ----------------------===//

#include "passes/Passes.h"

#include "mlir/Transforms/Passes.h"

void kiln::buildDefaultPipeline(mlir::OpPassManager &pm,
                                const PipelineOptions &options) {
  auto &fpm = pm.nest<mlir::func::FuncOp>();
  if (options.foldBatchNorm)
    fpm.addPass(createFoldBatchNorm());
  // Exact, so not optional; on NCHW convolutions after batch-norm folding.
  fpm.addPass(createTrimConvTaps());
  // After batch-norm folding, which works on NCHW convolutions.
  if (options.channelsLast)
    fpm.addPass(createChannelsLast());
  if (options.matchAttention)
    fpm.addPass(createMatchAttention());
  if (options.foldTransposes)
    fpm.addPass(createFoldTransposes());
  if (options.fuseElementwise)
    fpm.addPass(createFuseElementwise());
  // After elementwise fusion, so that a whole chain becomes the epilogue.
  if (options.fuseEpilogue)
    fpm.addPass(createFuseEpilogue());
  if (options.fuseRows)
    fpm.addPass(createFuseRows());
  // Removes ops whose results became unused and folds shapes of constants.
  fpm.addPass(mlir::createCanonicalizerPass());
}
