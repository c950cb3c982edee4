//===- MatchAttention.cpp - Scaled dot-product attention matching ---------===//
//
// Exporters write attention as MatMul -> scale -> mask -> Softmax -> MatMul;
// run op by op, that materialises a Tq x Tk score matrix per head and walks
// it three times. Matched into one kiln.attention, the kernel streams each
// query row over the keys with an online softmax instead.
//
// The match is anchored on a last-axis softmax whose only user multiplies it
// with V, and walks back through single-use ops only, so no intermediate
// value another op reads is ever removed:
//   scores = MatMul(Q, Kt)      Q optionally scaled by a scalar Mul/Div
//   scores = scores * c | / c   any number of scalar scalings
//   scores = scores + M         additive masks, or
//   scores = Where(C, scores, fill) | Where(C, fill, scores), fill a constant
//            scalar (-inf, or a large negative number such as -1e9)
// Additive masks may be several, and reshapes that only regroup the leading
// dimensions may sit between them (Swin adds a relative-position bias, views
// the scores per window and adds the shifted-window mask); several constant
// masks are then summed at compile time into one in the scores' shape.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>
#include <limits>

namespace kiln {
#define GEN_PASS_DEF_MATCHATTENTION
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// The value of a splat float constant, or of a scalar computed from such
/// constants (exporters write the scale as Sqrt(Constant(d)) or 1/that).
std::optional<double> scalarConstant(Value v, int depth = 0) {
  if (depth > 4)
    return std::nullopt;
  Operation *op = v.getDefiningOp();
  if (auto c = dyn_cast_or_null<ConstantOp>(op)) {
    auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
    if (!dense || !dense.isSplat() || !isa<FloatType>(dense.getElementType()))
      return std::nullopt;
    return dense.getSplatValue<APFloat>().convertToDouble();
  }
  if (!op || cast<ShapedType>(v.getType()).getNumElements() != 1)
    return std::nullopt;
  if (isa<SqrtOp, ReciprocalOp, NegOp>(op)) {
    auto x = scalarConstant(op->getOperand(0), depth + 1);
    if (!x)
      return std::nullopt;
    return isa<SqrtOp>(op) ? std::sqrt(*x) : isa<NegOp>(op) ? -*x : 1.0 / *x;
  }
  if (isa<MulOp, DivOp>(op)) {
    auto a = scalarConstant(op->getOperand(0), depth + 1);
    auto b = scalarConstant(op->getOperand(1), depth + 1);
    if (!a || !b)
      return std::nullopt;
    return isa<MulOp>(op) ? *a * *b : *a / *b;
  }
  return std::nullopt;
}

/// A scalar that broadcasts without changing the other operand's shape.
bool isScalarLike(Value v) {
  return cast<ShapedType>(v.getType()).getNumElements() == 1;
}

struct Scaled {
  Value value;
  double scale = 1.0;
};

/// Strips scalar Mul/Div by constants off `v` (single-use ops only).
Scaled stripScale(Value v) {
  Scaled s{v};
  while (Operation *op = s.value.getDefiningOp()) {
    if (!op->hasOneUse())
      break;
    if (auto mul = dyn_cast<MulOp>(op)) {
      if (auto c = scalarConstant(mul.getRhs()); c && isScalarLike(mul.getRhs())) {
        s.scale *= *c;
        s.value = mul.getLhs();
        continue;
      }
      if (auto c = scalarConstant(mul.getLhs()); c && isScalarLike(mul.getLhs())) {
        s.scale *= *c;
        s.value = mul.getRhs();
        continue;
      }
    }
    if (auto div = dyn_cast<DivOp>(op)) {
      if (auto c = scalarConstant(div.getRhs()); c && isScalarLike(div.getRhs()) && *c != 0) {
        s.scale /= *c;
        s.value = div.getLhs();
        continue;
      }
    }
    break;
  }
  return s;
}

/// Q @ Kt behind `v` (after its scalings), with a single use.
MatMulOp scoresMatMul(Value v) {
  auto mm = v.getDefiningOp<MatMulOp>();
  return mm && mm->hasOneUse() ? mm : MatMulOp();
}

/// A single-use reshape that keeps the last two dimensions (the query and
/// key axes) and regroups only the leading ones.
ReshapeOp leadingReshape(Value v) {
  auto r = v.getDefiningOp<ReshapeOp>();
  if (!r || !r->hasOneUse())
    return ReshapeOp();
  ArrayRef<int64_t> in = cast<ShapedType>(r.getInput().getType()).getShape(),
                    out = cast<ShapedType>(r.getType()).getShape();
  if (in.size() < 2 || out.size() < 2 || in.take_back(2) != out.take_back(2))
    return ReshapeOp();
  return r;
}

/// Whether the scores MatMul is behind `v` through leading reshapes,
/// single-use adds and scalings.
bool reachesScores(Value v, int depth = 0) {
  if (depth > 16)
    return false;
  Value stripped = stripScale(v).value;
  if (scoresMatMul(stripped))
    return true;
  if (auto r = leadingReshape(stripped))
    return reachesScores(r.getInput(), depth + 1);
  auto add = stripped.getDefiningOp<AddOp>();
  if (!add || !add->hasOneUse())
    return false;
  return reachesScores(add.getLhs(), depth + 1) || reachesScores(add.getRhs(), depth + 1);
}

/// An additive mask term and the shape of the sum it is added to.
struct MaskTerm {
  Value value;
  SmallVector<int64_t> at;
};

/// Sums constant float32 `terms`, each broadcast to its own shape and read in
/// row-major order (the reshapes between them keep that order), into one
/// constant of `shape`; nothing if a term is not such a constant.
std::optional<DenseElementsAttr> sumConstantMasks(ArrayRef<MaskTerm> terms,
                                                  RankedTensorType shape) {
  constexpr int64_t kMaxMaskElements = int64_t(1) << 22;
  int64_t n = shape.getNumElements();
  if (n > kMaxMaskElements)
    return std::nullopt;
  std::vector<float> sum(n, 0.0f);
  for (const MaskTerm &t : terms) {
    auto c = t.value.getDefiningOp<ConstantOp>();
    auto dense = c ? dyn_cast<DenseElementsAttr>(c.getValue()) : DenseElementsAttr();
    if (!dense || !dense.getElementType().isF32())
      return std::nullopt;
    SmallVector<float> values(dense.getValues<float>());
    ArrayRef<int64_t> src = dense.getType().getShape();
    // Offset in the term of each element of its broadcast to `t.at`.
    SmallVector<int64_t> strides(t.at.size(), 0);
    for (int64_t d = src.size() - 1, stride = 1; d >= 0; --d) {
      if (src[d] != 1)
        strides[t.at.size() - src.size() + d] = stride;
      stride *= src[d];
    }
    SmallVector<int64_t> idx(t.at.size(), 0);
    for (int64_t k = 0; k < n; ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d)
        off += idx[d] * strides[d];
      sum[k] += values[off];
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < t.at[d])
          break;
        idx[d] = 0;
      }
    }
  }
  return DenseElementsAttr::get(shape, ArrayRef<float>(sum));
}

struct FuseAttention : OpRewritePattern<SoftmaxOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SoftmaxOp softmax, PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(softmax.getType());
    int64_t rank = type.getRank();
    if (softmax.getLog() || softmax.getAxis() != rank - 1 || rank < 2 ||
        !type.getElementType().isF32())
      return rewriter.notifyMatchFailure(softmax, "not a float32 last-axis softmax");
    if (!softmax->hasOneUse())
      return rewriter.notifyMatchFailure(softmax, "probabilities have other users");
    auto pv = dyn_cast<MatMulOp>(*softmax->getUsers().begin());
    if (!pv || pv.getA() != softmax.getOutput())
      return rewriter.notifyMatchFailure(softmax, "probabilities do not multiply V");

    // Mask, if any, then scalings, then the QK^T product.
    Value x = softmax.getInput();
    Value mask;
    StringRef kind = "none";
    double fill = -std::numeric_limits<double>::infinity();
    Operation *maskOp = x.getDefiningOp();
    SmallVector<MaskTerm> terms;
    bool reshaped = false;
    if (maskOp && maskOp->hasOneUse()) {
      if (isa<AddOp, ReshapeOp>(maskOp)) {
        // Additive masks, innermost last, through leading reshapes.
        for (Value cur = x;;) {
          if (auto r = leadingReshape(cur)) {
            x = cur = r.getInput();
            reshaped = true;
            continue;
          }
          auto add = cur.getDefiningOp<AddOp>();
          if (!add || !add->hasOneUse())
            break;
          ArrayRef<int64_t> at = cast<ShapedType>(add.getType()).getShape();
          bool found = false;
          for (auto [chain, other] : {std::pair{add.getLhs(), add.getRhs()},
                                      std::pair{add.getRhs(), add.getLhs()}})
            if (cast<ShapedType>(chain.getType()).getShape() == at && reachesScores(chain)) {
              terms.push_back({other, SmallVector<int64_t>(at)});
              cur = chain;
              found = true;
              break;
            }
          if (!found)
            break;
          x = cur;
        }
        if (!terms.empty())
          kind = "add";
      } else if (auto where = dyn_cast<WhereOp>(maskOp)) {
        if (auto f = scalarConstant(where.getY()); f && isScalarLike(where.getY())) {
          x = where.getX();
          mask = where.getCondition();
          kind = "keep";
          fill = *f;
        } else if (auto f = scalarConstant(where.getX()); f && isScalarLike(where.getX())) {
          x = where.getY();
          mask = where.getCondition();
          kind = "drop";
          fill = *f;
        }
      }
    }
    Scaled scaled = stripScale(x);
    MatMulOp qk = scoresMatMul(scaled.value);
    if (!qk)
      return rewriter.notifyMatchFailure(softmax, "scores are not a single-use MatMul");
    if (cast<ShapedType>(qk.getType()).getShape() != type.getShape())
      return rewriter.notifyMatchFailure(softmax, "the mask broadcasts the scores");
    if (terms.size() == 1 && !reshaped) {
      mask = terms[0].value;
    } else if (!terms.empty()) {
      auto summed = sumConstantMasks(terms, RankedTensorType::get(type.getShape(),
                                                                  rewriter.getF32Type()));
      if (!summed)
        return rewriter.notifyMatchFailure(softmax, "several masks that are not constants");
      rewriter.setInsertionPoint(qk);
      mask = rewriter.create<ConstantOp>(softmax.getLoc(), *summed);
    }
    Scaled q = stripScale(qk.getA());
    double scale = scaled.scale * q.scale;

    // The kernel takes same-rank operands with identical leading dimensions;
    // broadcasting forms stay unmatched.
    Value qv = q.value, kt = qk.getB(), v = pv.getB();
    ArrayRef<int64_t> qs = cast<ShapedType>(qv.getType()).getShape(),
                      ks = cast<ShapedType>(kt.getType()).getShape(),
                      vs = cast<ShapedType>(v.getType()).getShape(),
                      ys = cast<ShapedType>(pv.getType()).getShape();
    if (qs.size() != (size_t)rank || ks.size() != (size_t)rank || vs.size() != (size_t)rank ||
        ys.size() != (size_t)rank || qs.drop_back(2) != ks.drop_back(2) ||
        qs.drop_back(2) != vs.drop_back(2))
      return rewriter.notifyMatchFailure(softmax, "operands differ in rank or batch");
    for (Value operand : {qv, kt, v})
      if (!getElementTypeOrSelf(operand.getType()).isF32())
        return rewriter.notifyMatchFailure(softmax, "operands are not float32");
    if (mask) {
      auto bc = broadcastShapes({cast<ShapedType>(mask.getType()).getShape(), type.getShape()});
      if (!bc || ArrayRef<int64_t>(*bc) != type.getShape())
        return rewriter.notifyMatchFailure(softmax, "mask would change the score shape");
      bool isBool = getElementTypeOrSelf(mask.getType()).isInteger(1);
      if ((kind == "add") == isBool)
        return rewriter.notifyMatchFailure(softmax, "mask has the wrong element type");
      if (kind == "add" && !getElementTypeOrSelf(mask.getType()).isF32())
        return rewriter.notifyMatchFailure(softmax, "additive mask is not float32");
    }
    // The pattern is rooted at the softmax, but V may be computed after it
    // (graphs that ONNX Runtime reordered do so): create the fused op where
    // the second MatMul was, which every operand dominates.
    rewriter.setInsertionPoint(pv);
    rewriter.replaceOpWithNewOp<AttentionOp>(
        pv, pv.getType(), qv, kt, v, mask, rewriter.getF64FloatAttr(scale),
        rewriter.getStringAttr(kind), rewriter.getF64FloatAttr(fill),
        /*q_perm=*/nullptr, /*kt_perm=*/nullptr, /*v_perm=*/nullptr, /*out_perm=*/nullptr);
    return success();
  }
};

struct MatchAttention : kiln::impl::MatchAttentionBase<MatchAttention> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
