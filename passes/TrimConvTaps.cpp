//===- TrimConvTaps.cpp - Drop kernel taps that only ever read padding ----===//
//
// A dilated convolution on a feature map no larger than its dilation (the
// ASPP branches of DeepLabV3 at dilation 24 or 36 on a 14x14 or 24x24 map)
// has kernel taps that read padding for every output position. The zeros
// they multiply cost as much as the useful taps; this pass removes them by
// slicing the constant weights to the live taps and shifting the padding,
// which leaves the result unchanged (a 3x3 at dilation 36 on a 24x24 map
// becomes a 1x1). Taps whose weights are not all finite are kept, since
// 0 * inf is NaN.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_TRIMCONVTAPS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The taps [first, last] of one spatial dimension that read the input for
/// at least one output position, with the pads that keep every output
/// position's reads where they were.
struct LiveTaps {
  int64_t first, last, padBefore, padAfter, dilation;
};

std::optional<LiveTaps> liveTaps(int64_t in, int64_t out, int64_t kernel, int64_t stride,
                                 int64_t dilation, int64_t padBefore) {
  // Tap t reads rows t * dilation - padBefore + o * stride for o < out: an
  // interval that grows with t, so the live taps are one range.
  auto live = [&](int64_t t) {
    int64_t lo = t * dilation - padBefore, hi = lo + (out - 1) * stride;
    return hi >= 0 && lo < in;
  };
  int64_t first = 0, last = kernel - 1;
  while (first < kernel && !live(first))
    ++first;
  while (last > first && !live(last))
    --last;
  if (first == kernel) // every tap reads padding: the result is the bias
    first = last = 0;
  // Keep taps in front while the leading pad would go negative; then the
  // trailing pad that gives `out` positions (any in [need, need + stride)).
  first = std::min(first, padBefore / dilation);
  if (first > last)
    last = first;
  int64_t newDilation = first == last ? 1 : dilation;
  int64_t before = padBefore - first * dilation;
  int64_t span = (last - first) * newDilation + 1;
  int64_t need = (out - 1) * stride + span - in - before;
  if (need + stride - 1 < 0)
    return std::nullopt;
  return LiveTaps{first, last, before, std::max<int64_t>(need, 0), newDilation};
}

struct TrimTaps : OpRewritePattern<ConvOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConvOp conv, PatternRewriter &rewriter) const override {
    auto c = conv.getWeight().getDefiningOp<ConstantOp>();
    auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : DenseElementsAttr();
    if (conv.getChannelsLast() || !dense || !dense.getElementType().isF32())
      return rewriter.notifyMatchFailure(conv, "not an NCHW conv with constant f32 weights");
    ArrayRef<int64_t> x = cast<ShapedType>(conv.getInput().getType()).getShape();
    ArrayRef<int64_t> w = dense.getType().getShape();
    ArrayRef<int64_t> y = cast<ShapedType>(conv.getType()).getShape();
    size_t n = w.size() - 2;
    SmallVector<LiveTaps> taps;
    bool trims = false;
    for (size_t i = 0; i < n; ++i) {
      auto t = liveTaps(x[2 + i], y[2 + i], w[2 + i], conv.getStrides()[i],
                        conv.getDilations()[i], conv.getPads()[i]);
      if (!t)
        return rewriter.notifyMatchFailure(conv, "no pads reproduce the result shape");
      trims |= t->first > 0 || t->last < w[2 + i] - 1;
      taps.push_back(*t);
    }
    if (!trims)
      return rewriter.notifyMatchFailure(conv, "every tap reads the input");

    // OIHW (or OIDHW) weights, sliced to the live taps.
    SmallVector<int64_t> shape = {w[0], w[1]}, strides(w.size(), 1);
    for (size_t i = 0; i < n; ++i)
      shape.push_back(taps[i].last - taps[i].first + 1);
    for (int64_t i = int64_t(w.size()) - 2; i >= 0; --i)
      strides[i] = strides[i + 1] * w[i + 1];
    std::vector<float> src(dense.getValues<float>().begin(), dense.getValues<float>().end());
    std::vector<float> kept;
    SmallVector<int64_t> index(w.size(), 0);
    for (size_t flat = 0; flat < src.size(); ++flat) {
      int64_t rest = flat;
      bool live = true;
      for (size_t d = 0; d < w.size(); ++d) {
        index[d] = rest / strides[d];
        rest %= strides[d];
        if (d >= 2 && (index[d] < taps[d - 2].first || index[d] > taps[d - 2].last))
          live = false;
      }
      if (live)
        kept.push_back(src[flat]);
      else if (!std::isfinite(src[flat]))
        return rewriter.notifyMatchFailure(conv, "a dropped tap has a non-finite weight");
    }

    SmallVector<int64_t> pads(2 * n), dilations(n);
    for (size_t i = 0; i < n; ++i) {
      pads[i] = taps[i].padBefore;
      pads[n + i] = taps[i].padAfter;
      dilations[i] = taps[i].dilation;
    }
    auto type = RankedTensorType::get(shape, dense.getElementType());
    Value weights = rewriter.create<ConstantOp>(
        c.getLoc(), DenseElementsAttr::get(type, ArrayRef<float>(kept)));
    rewriter.replaceOpWithNewOp<ConvOp>(
        conv, conv.getType(), conv.getInput(), weights, conv.getBias(), conv.getStridesAttr(),
        rewriter.getDenseI64ArrayAttr(pads), rewriter.getDenseI64ArrayAttr(dilations),
        conv.getGroupAttr(), conv.getChannelsLastAttr(), conv.getInputZeroPointAttr());
    return success();
  }
};

struct TrimConvTapsPass : kiln::impl::TrimConvTapsBase<TrimConvTapsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TrimTaps>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
