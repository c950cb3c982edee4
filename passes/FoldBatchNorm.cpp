//===- FoldBatchNorm.cpp - Fold batch norm into convolution ---------------===//
//
// Exporters in training mode, and hand-written graphs, leave
// Conv -> BatchNormalization pairs; folding them removes a whole pass over the
// activations at no numerical cost worth measuring (the fold is done in double).
// A batch norm with constant parameters that follows no conv becomes a
// per-channel mul and add, which fuse with their neighbours.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The values of a constant f32 tensor, or nothing.
std::optional<std::vector<double>> constantValues(Value v) {
  auto c = v.getDefiningOp<ConstantOp>();
  if (!c)
    return std::nullopt;
  auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense || !dense.getElementType().isF32())
    return std::nullopt;
  std::vector<double> out;
  out.reserve(dense.getNumElements());
  for (float f : dense.getValues<float>())
    out.push_back(f);
  return out;
}

struct FoldIntoConv : OpRewritePattern<BatchNormOp> {
  // Preferred over BatchNormToAffine: folded, the batch norm costs nothing.
  FoldIntoConv(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    auto conv = bn.getInput().getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse() || conv.getChannelsLast())
      return rewriter.notifyMatchFailure(bn, "input is not a single-use conv");
    auto w = constantValues(conv.getWeight());
    auto scale = constantValues(bn.getScale()), beta = constantValues(bn.getBias());
    auto mean = constantValues(bn.getMean()), var = constantValues(bn.getVariance());
    if (!w || !scale || !beta || !mean || !var)
      return rewriter.notifyMatchFailure(bn, "operands are not f32 constants");
    std::optional<std::vector<double>> bias;
    if (conv.getBias() && !(bias = constantValues(conv.getBias())))
      return rewriter.notifyMatchFailure(bn, "conv bias is not constant");

    size_t channels = scale->size();
    size_t perChannel = w->size() / channels;
    double eps = bn.getEpsilon().convertToDouble();
    std::vector<float> newW(w->size()), newB(channels);
    for (size_t o = 0; o < channels; ++o) {
      double s = (*scale)[o] / std::sqrt((*var)[o] + eps);
      for (size_t k = 0; k < perChannel; ++k)
        newW[o * perChannel + k] = static_cast<float>((*w)[o * perChannel + k] * s);
      double b = bias ? (*bias)[o] : 0.0;
      newB[o] = static_cast<float>((b - (*mean)[o]) * s + (*beta)[o]);
    }
    auto wType = cast<RankedTensorType>(conv.getWeight().getType());
    auto bType = RankedTensorType::get({(int64_t)channels}, wType.getElementType());
    Value wConst = rewriter.create<ConstantOp>(
        conv.getLoc(), DenseElementsAttr::get(wType, ArrayRef<float>(newW)));
    Value bConst = rewriter.create<ConstantOp>(
        bn.getLoc(), DenseElementsAttr::get(bType, ArrayRef<float>(newB)));
    auto folded = rewriter.create<ConvOp>(
        rewriter.getFusedLoc({conv.getLoc(), bn.getLoc()}), bn.getType(),
        conv.getInput(), wConst, bConst, conv.getStridesAttr(),
        conv.getPadsAttr(), conv.getDilationsAttr(), conv.getGroupAttr(),
        conv.getChannelsLastAttr(), conv.getInputZeroPointAttr());
    rewriter.replaceOp(bn, folded.getResult());
    rewriter.eraseOp(conv);
    return success();
  }
};

/// A batch norm with constant parameters that no conv absorbs is a
/// per-channel scale and shift, x * s + t. As a mul and an add it fuses with
/// its neighbours, and it runs in whatever layout its input has.
struct BatchNormToAffine : OpRewritePattern<BatchNormOp> {
  BatchNormToAffine(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/1) {}

  LogicalResult matchAndRewrite(BatchNormOp bn, PatternRewriter &rewriter) const override {
    auto scale = constantValues(bn.getScale()), beta = constantValues(bn.getBias());
    auto mean = constantValues(bn.getMean()), var = constantValues(bn.getVariance());
    auto type = cast<RankedTensorType>(bn.getType());
    if (!scale || !beta || !mean || !var || !type.getElementType().isF32() ||
        type.getRank() < 2)
      return rewriter.notifyMatchFailure(bn, "parameters are not f32 constants");
    size_t channels = scale->size();
    double eps = bn.getEpsilon().convertToDouble();
    std::vector<float> s(channels), t(channels);
    for (size_t c = 0; c < channels; ++c) {
      double k = (*scale)[c] / std::sqrt((*var)[c] + eps);
      s[c] = static_cast<float>(k);
      t[c] = static_cast<float>((*beta)[c] - (*mean)[c] * k);
    }
    // [C, 1, ...]: broadcasts along axis 1 of the [N, C, ...] input.
    SmallVector<int64_t> shape(type.getRank() - 1, 1);
    shape[0] = channels;
    auto paramType = RankedTensorType::get(shape, type.getElementType());
    Value sc = rewriter.create<ConstantOp>(bn.getLoc(),
                                           DenseElementsAttr::get(paramType, ArrayRef<float>(s)));
    Value sh = rewriter.create<ConstantOp>(bn.getLoc(),
                                           DenseElementsAttr::get(paramType, ArrayRef<float>(t)));
    Value scaled = rewriter.create<MulOp>(bn.getLoc(), type, bn.getInput(), sc);
    rewriter.replaceOpWithNewOp<AddOp>(bn, type, scaled, sh);
    return success();
  }
};

struct FoldBatchNormPass : kiln::impl::FoldBatchNormBase<FoldBatchNormPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateFoldBatchNormPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

void kiln::populateFoldBatchNormPatterns(RewritePatternSet &patterns) {
  patterns.add<FoldIntoConv, BatchNormToAffine>(patterns.getContext());
}
