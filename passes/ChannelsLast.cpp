//===- ChannelsLast.cpp - Run convolutions and pooling in NHWC ------------===//
//
// ONNX models arrive in NCHW, where a convolution's inner loop walks one
// channel plane and the channels of a pixel lie a whole plane apart. In NHWC
// the channels of a pixel are contiguous, so the inner loop of a convolution,
// a depthwise convolution or a pool runs along channels with unit stride and
// the weights of all output channels of a tap form one contiguous row.
//
// The pass first wraps every 2-D float32 conv and pool in conversions,
// NCHW -> NHWC before and NHWC -> NCHW after, with the weights re-laid out to
// HWIO at compile time. It then sinks each NHWC -> NCHW conversion through the
// ops that do not care about layout (elementwise ops with their constant or
// broadcast operands re-laid out, concat, pad) and cancels it against the next
// NCHW -> NHWC conversion. A conversion that only moves unit dimensions
// becomes a reshape. What remains is, on a CNN, one conversion of the model
// input and one per 4-D model output.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_CHANNELSLAST
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

constexpr int64_t kToNhwc[] = {0, 2, 3, 1};
constexpr int64_t kToNchw[] = {0, 3, 1, 2};
constexpr int64_t kOihwToHwio[] = {2, 3, 1, 0};

SmallVector<int64_t> permuteShape(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> out;
  for (int64_t p : perm)
    out.push_back(shape[p]);
  return out;
}

RankedTensorType permuteType(Value v, ArrayRef<int64_t> perm) {
  auto t = cast<RankedTensorType>(v.getType());
  return RankedTensorType::get(permuteShape(t.getShape(), perm), t.getElementType());
}

bool isF32(Value v) { return getElementTypeOrSelf(v.getType()).isF32(); }

/// True when permuting `shape` by `perm` keeps the non-unit dimensions in
/// order, so the data does not move and a reshape does the job.
bool isPureReshape(ArrayRef<int64_t> shape, ArrayRef<int64_t> perm) {
  int64_t last = -1;
  for (int64_t p : perm) {
    if (shape[p] == 1)
      continue;
    if (p < last)
      return false;
    last = p;
  }
  return true;
}

/// `data` permuted by `perm`, computed at compile time.
DenseElementsAttr permuteConstant(DenseElementsAttr data, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(data.getType());
  auto outType = RankedTensorType::get(permuteShape(type.getShape(), perm),
                                       type.getElementType());
  if (data.isSplat())
    return data.resizeSplat(outType);
  ArrayRef<int64_t> in = type.getShape();
  size_t rank = in.size();
  SmallVector<int64_t> inStrides(rank, 1);
  for (int64_t d = (int64_t)rank - 2; d >= 0; --d)
    inStrides[d] = inStrides[d + 1] * in[d + 1];
  // Source offset of each result element, walking the result in order.
  int64_t count = type.getNumElements();
  std::vector<int64_t> source(count);
  SmallVector<int64_t> index(rank, 0);
  ArrayRef<int64_t> out = outType.getShape();
  for (int64_t i = 0; i < count; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < rank; ++d)
      off += index[d] * inStrides[perm[d]];
    source[i] = off;
    for (int64_t d = (int64_t)rank - 1; d >= 0; --d) {
      if (++index[d] < out[d])
        break;
      index[d] = 0;
    }
  }
  unsigned bits = type.getElementTypeBitWidth();
  if (bits % 8 == 0) {
    size_t bytes = bits / 8;
    ArrayRef<char> raw = data.getRawData();
    std::vector<char> moved(raw.size());
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(&moved[i * bytes], &raw[source[i] * bytes], bytes);
    return DenseElementsAttr::getFromRawBuffer(outType, moved);
  }
  // Booleans are bit-packed; they are small (masks), so go element by element.
  auto values = llvm::to_vector(data.getValues<Attribute>());
  SmallVector<Attribute> moved;
  for (int64_t s : source)
    moved.push_back(values[s]);
  return DenseElementsAttr::get(outType, moved);
}

/// `v` permuted by `perm`: a re-laid-out constant, a reshape when no data
/// moves, or a transpose op.
Value permuteValue(PatternRewriter &rewriter, Location loc, Value v, ArrayRef<int64_t> perm) {
  auto type = cast<RankedTensorType>(v.getType());
  if (auto c = v.getDefiningOp<ConstantOp>())
    if (auto dense = dyn_cast<DenseElementsAttr>(c.getValue()))
      return rewriter.create<ConstantOp>(loc, permuteConstant(dense, perm));
  if (isPureReshape(type.getShape(), perm))
    return rewriter.create<ReshapeOp>(loc, permuteType(v, perm), v);
  return rewriter.create<TransposeOp>(loc, permuteType(v, perm),
                                      v, rewriter.getDenseI64ArrayAttr(perm));
}

/// Marks the transposes this pass inserts, so the report counts those and
/// not the model's own transposes (attention's head splits, say).
constexpr StringLiteral kConversionMark = "kiln.layout_conversion";

/// A layout conversion of `v`.
Value transpose(PatternRewriter &rewriter, Location loc, Value v, ArrayRef<int64_t> perm) {
  auto t = rewriter.create<TransposeOp>(loc, permuteType(v, perm), v,
                                        rewriter.getDenseI64ArrayAttr(perm));
  t->setAttr(kConversionMark, rewriter.getUnitAttr());
  return t;
}

/// The NCHW -> NHWC conversion of `v` for use by `user`: an existing one
/// (moved up if it comes later) rather than a second copy.
Value toNhwc(PatternRewriter &rewriter, Value v, Operation *user) {
  for (Operation *other : v.getUsers()) {
    auto t = dyn_cast<TransposeOp>(other);
    if (t && t->hasAttr(kConversionMark) && t.getPerm() == ArrayRef<int64_t>(kToNhwc) &&
        t->getBlock() == user->getBlock()) {
      if (user->isBeforeInBlock(t))
        rewriter.moveOpBefore(t, user);
      return t;
    }
  }
  return transpose(rewriter, user->getLoc(), v, kToNhwc);
}

//===----------------------------------------------------------------------===//
// Step 1: convolutions and pools in NHWC, wrapped in conversions.
//===----------------------------------------------------------------------===//

/// 2-D float32 ops with one NCHW activation operand (operand 0) and result.
template <typename OpTy>
bool wantsChannelsLast(OpTy op) {
  bool quantized = false; // quantised convs (input_zero_point) have their own types
  if constexpr (std::is_same_v<OpTy, ConvOp>)
    quantized = op.getInputZeroPoint().has_value();
  return !op.getChannelsLast() && cast<ShapedType>(op->getOperand(0).getType()).getRank() == 4 &&
         (quantized || llvm::all_of(op->getOperands(), isF32));
}

template <typename OpTy>
struct WrapInNhwc : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op, PatternRewriter &rewriter) const override {
    if (!wantsChannelsLast(op))
      return rewriter.notifyMatchFailure(op, "not a 2-D float32 NCHW op");
    Location loc = op.getLoc();
    SmallVector<Value> operands(op->getOperands());
    operands[0] = toNhwc(rewriter, operands[0], op);
    if constexpr (std::is_same_v<OpTy, ConvOp>)
      operands[1] = permuteValue(rewriter, loc, operands[1], kOihwToHwio);
    Operation *nhwc = rewriter.clone(*op);
    nhwc->setOperands(operands);
    nhwc->getResult(0).setType(permuteType(op->getResult(0), kToNhwc));
    nhwc->setAttr("channels_last", rewriter.getUnitAttr());
    rewriter.replaceOp(op, transpose(rewriter, loc, nhwc->getResult(0), kToNchw));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Step 2: sink NHWC -> NCHW conversions, cancel pairs.
//===----------------------------------------------------------------------===//

/// The NHWC -> NCHW conversion (inserted by this pass) that produces `v`, or
/// null.
TransposeOp toNchwConversion(Value v) {
  auto t = v.getDefiningOp<TransposeOp>();
  return t && t->hasAttr(kConversionMark) && t.getPerm() == ArrayRef<int64_t>(kToNchw)
             ? t
             : TransposeOp();
}

/// transpose(transpose(x, p1), p2) is x, or one transpose.
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<TransposeOp>();
    if (!inner)
      return failure();
    SmallVector<int64_t> composed;
    bool identity = true;
    for (auto [i, p] : llvm::enumerate(op.getPerm())) {
      composed.push_back(inner.getPerm()[p]);
      identity &= composed.back() == (int64_t)i;
    }
    if (identity) {
      rewriter.replaceOp(op, inner.getInput());
      return success();
    }
    auto t = rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(), inner.getInput(),
                                                      rewriter.getDenseI64ArrayAttr(composed));
    if (op->hasAttr(kConversionMark) || inner->hasAttr(kConversionMark))
      t->setAttr(kConversionMark, rewriter.getUnitAttr());
    return success();
  }
};

/// A transpose that moves only unit dimensions is a reshape.
struct TransposeAsReshape : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp op, PatternRewriter &rewriter) const override {
    if (!isPureReshape(cast<ShapedType>(op.getInput().getType()).getShape(), op.getPerm()))
      return failure();
    rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), op.getInput());
    return success();
  }
};

/// reshape(reshape(x)) is one reshape, or x. Conversions of unit-sized
/// dimensions leave such pairs behind.
struct ComposeReshapes : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ReshapeOp op, PatternRewriter &rewriter) const override {
    auto inner = op.getInput().getDefiningOp<ReshapeOp>();
    if (!inner)
      return failure();
    if (inner.getInput().getType() == op.getType())
      rewriter.replaceOp(op, inner.getInput());
    else
      rewriter.replaceOpWithNewOp<ReshapeOp>(op, op.getType(), inner.getInput());
    return success();
  }
};

bool isLayoutAgnosticElementwise(Operation *op) {
  // Batch norm and fused bodies index per channel or hold a region.
  return isElementwise(op) && !isa<BatchNormOp, FusedElementwiseOp>(op);
}

/// E(toNchw(a), c, ...) = toNchw(E(a, toNhwc(c), ...)). Each other operand
/// must be a conversion too, a constant (re-laid out here), or a value whose
/// conversion moves no data; otherwise the conversion stays where it is.
struct SinkThroughElementwise : RewritePattern {
  SinkThroughElementwise(MLIRContext *ctx) : RewritePattern(MatchAnyOpTypeTag(), 1, ctx) {}

  LogicalResult matchAndRewrite(Operation *op, PatternRewriter &rewriter) const override {
    if (!isLayoutAgnosticElementwise(op) || op->getNumResults() != 1)
      return failure();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    if (resultType.getRank() != 4 ||
        !llvm::any_of(op->getOperands(), [](Value v) { return toNchwConversion(v); }))
      return failure();
    // Broadcasting aligns trailing dimensions: view each operand as rank 4.
    auto asRank4 = [](Value v) {
      auto type = cast<RankedTensorType>(v.getType());
      SmallVector<int64_t> shape(4 - type.getRank(), 1);
      llvm::append_range(shape, type.getShape());
      return RankedTensorType::get(shape, type.getElementType());
    };
    auto denseConstant = [](Value v) -> DenseElementsAttr {
      auto c = v.getDefiningOp<ConstantOp>();
      return c ? dyn_cast<DenseElementsAttr>(c.getValue()) : DenseElementsAttr();
    };
    // A full-size operand that is converted to NHWC anyway (a model input
    // that also feeds a convolution) can share that conversion.
    auto convertedAnyway = [&](Value v) {
      return cast<RankedTensorType>(v.getType()) == resultType &&
             llvm::any_of(v.getUsers(), [](Operation *u) {
               auto t = dyn_cast<TransposeOp>(u);
               return t && t->hasAttr(kConversionMark) &&
                      t.getPerm() == ArrayRef<int64_t>(kToNhwc);
             });
    };
    for (Value v : op->getOperands())
      if (!toNchwConversion(v) && !denseConstant(v) && !convertedAnyway(v) &&
          !isPureReshape(asRank4(v).getShape(), kToNhwc))
        return rewriter.notifyMatchFailure(op, "an operand would need a real conversion");
    SmallVector<Value> operands;
    for (Value v : op->getOperands()) {
      RankedTensorType type4 = asRank4(v);
      if (auto t = toNchwConversion(v))
        operands.push_back(t.getInput());
      else if (DenseElementsAttr dense = denseConstant(v))
        operands.push_back(rewriter.create<ConstantOp>(
            op->getLoc(), permuteConstant(dense.reshape(type4), kToNhwc)));
      else if (convertedAnyway(v))
        operands.push_back(toNhwc(rewriter, v, op));
      else
        operands.push_back(rewriter.create<ReshapeOp>(
            op->getLoc(),
            RankedTensorType::get(permuteShape(type4.getShape(), kToNhwc),
                                  type4.getElementType()),
            v));
    }
    Operation *nhwc = rewriter.clone(*op);
    nhwc->setOperands(operands);
    nhwc->getResult(0).setType(permuteType(op->getResult(0), kToNhwc));
    rewriter.replaceOp(op, transpose(rewriter, op->getLoc(), nhwc->getResult(0), kToNchw));
    return success();
  }
};

/// The NHWC form of a concat input that is a single-use resize of an NHWC
/// value (converted, or reshaped where only unit dimensions move, as a
/// pooled 1x1 image is): the resize in NHWC, with its scales and region
/// moved to NHWC dimensions. Null for anything else. (DeepLab's image
/// pooling branch and FPN-style upsampling feed a concat this way.)
Value resizedInNhwc(PatternRewriter &rewriter, Value v) {
  auto resize = v.getDefiningOp<ResizeOp>();
  if (!resize || !resize->hasOneUse() || cast<ShapedType>(v.getType()).getRank() != 4)
    return Value();
  Value input = resize.getInput();
  Value nhwc;
  if (auto t = toNchwConversion(input))
    nhwc = t.getInput();
  else if (isPureReshape(cast<ShapedType>(input.getType()).getShape(), kToNhwc))
    nhwc = rewriter.create<ReshapeOp>(resize.getLoc(), permuteType(input, kToNhwc), input);
  else
    return Value();
  auto moved = [&](ArrayAttr values) {
    if (values.empty())
      return values;
    int64_t rank = 4, halves = values.size() / rank;
    SmallVector<Attribute> out;
    for (int64_t h = 0; h < halves; ++h)
      for (int64_t d : kToNhwc)
        out.push_back(values[h * rank + d]);
    return rewriter.getArrayAttr(out);
  };
  auto r = rewriter.create<ResizeOp>(
      resize.getLoc(), permuteType(v, kToNhwc), nhwc, resize.getModeAttr(),
      resize.getCoordinateTransformationModeAttr(), resize.getNearestModeAttr(),
      resize.getCubicCoeffAAttr(), resize.getExcludeOutsideAttr(),
      resize.getExtrapolationValueAttr(), moved(resize.getScales()), moved(resize.getRoi()));
  return r.getOutput();
}

/// concat(toNchw(a), toNchw(b)) along channels = toNchw(concat(a, b)) along
/// the last axis. Inputs may also be resizes of NHWC values (resizedInNhwc).
struct SinkThroughConcat : OpRewritePattern<ConcatOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ConcatOp op, PatternRewriter &rewriter) const override {
    // Every input must come from NHWC, and one at least through a conversion
    // (the concat of resizes alone is no gain).
    bool converted = false;
    for (Value v : op.getInputs()) {
      auto resize = v.getDefiningOp<ResizeOp>();
      bool nhwcResize = resize && resize->hasOneUse() &&
                        (toNchwConversion(resize.getInput()) ||
                         isPureReshape(cast<ShapedType>(resize.getInput().getType()).getShape(),
                                       kToNhwc));
      if (!toNchwConversion(v) && !nhwcResize)
        return failure();
      converted |= bool(toNchwConversion(v));
    }
    if (!converted)
      return failure();
    SmallVector<Value> inputs;
    for (Value v : op.getInputs()) {
      auto t = toNchwConversion(v);
      inputs.push_back(t ? t.getInput() : resizedInNhwc(rewriter, v));
    }
    auto nhwc = rewriter.create<ConcatOp>(op.getLoc(), permuteType(op.getOutput(), kToNhwc),
                                          inputs, kToNchw[op.getAxis()]);
    rewriter.replaceOp(op, transpose(rewriter, op.getLoc(), nhwc.getOutput(), kToNchw));
    return success();
  }
};

/// pad(toNchw(a)) = toNchw(pad(a)) with the pads moved to a's dimensions.
struct SinkThroughPad : OpRewritePattern<PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PadOp op, PatternRewriter &rewriter) const override {
    auto t = toNchwConversion(op.getInput());
    if (!t)
      return failure();
    ArrayRef<int64_t> pads = op.getPads();
    SmallVector<int64_t> moved(8);
    for (int64_t i = 0; i < 4; ++i) {
      moved[kToNchw[i]] = pads[i];
      moved[4 + kToNchw[i]] = pads[4 + i];
    }
    auto nhwc = rewriter.create<PadOp>(op.getLoc(), permuteType(op.getOutput(), kToNhwc),
                                       t.getInput(), rewriter.getDenseI64ArrayAttr(moved),
                                       op.getModeAttr(), op.getValueAttr());
    rewriter.replaceOp(op, transpose(rewriter, op.getLoc(), nhwc.getOutput(), kToNchw));
    return success();
  }
};

struct ChannelsLast : kiln::impl::ChannelsLastBase<ChannelsLast> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    patterns.add<WrapInNhwc<ConvOp>, WrapInNhwc<MaxPoolOp>, WrapInNhwc<AvgPoolOp>,
                 WrapInNhwc<GlobalAveragePoolOp>, ComposeTransposes, TransposeAsReshape,
                 ComposeReshapes,
                 SinkThroughElementwise, SinkThroughConcat, SinkThroughPad>(ctx);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

int64_t kiln::countLayoutConversions(Operation *root) {
  int64_t count = 0;
  root->walk([&](TransposeOp t) { count += t->hasAttr(kConversionMark); });
  return count;
}
