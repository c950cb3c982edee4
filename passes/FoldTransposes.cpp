//===- FoldTransposes.cpp - Fold transposes into attention indexing -------===//
//
// Multi-head attention as exporters write it splits heads with
// Reshape + Transpose before the attention and merges them with Transpose +
// Reshape after it. Reshapes already launch no kernel (they alias their
// input); the transposes copy whole activations. kiln.attention reads its
// operands and writes its result through strides, so each such transpose
// folds into a permutation attribute and the copy disappears.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_FOLDTRANSPOSES
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// `inner` applied after `outer`: view(view(x, inner), outer), where
/// view(x, p) has dimension i equal to x's dimension p[i].
SmallVector<int64_t> compose(ArrayRef<int64_t> inner, std::optional<ArrayRef<int64_t>> outer) {
  SmallVector<int64_t> out;
  for (size_t i = 0; i < inner.size(); ++i)
    out.push_back(inner[outer ? (*outer)[i] : i]);
  return out;
}

/// attention(transpose(a, p), ...) reads a through the permutation p.
struct FoldOperandTransposes : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op, PatternRewriter &rewriter) const override {
    bool changed = false;
    auto fold = [&](OpOperand &operand, std::optional<ArrayRef<int64_t>> perm,
                    auto setPerm) {
      auto t = operand.get().getDefiningOp<TransposeOp>();
      if (!t)
        return;
      SmallVector<int64_t> composed = compose(t.getPerm(), perm);
      rewriter.modifyOpInPlace(op, [&] {
        operand.set(t.getInput());
        setPerm(rewriter.getDenseI64ArrayAttr(composed));
      });
      changed = true;
    };
    fold(op.getQMutable(), op.getQPerm(), [&](DenseI64ArrayAttr a) { op.setQPermAttr(a); });
    fold(op.getKtMutable(), op.getKtPerm(), [&](DenseI64ArrayAttr a) { op.setKtPermAttr(a); });
    fold(op.getVMutable(), op.getVPerm(), [&](DenseI64ArrayAttr a) { op.setVPermAttr(a); });
    return success(changed);
  }
};

/// transpose(attention(...), p) is the attention writing through p.
struct FoldResultTranspose : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TransposeOp t, PatternRewriter &rewriter) const override {
    auto att = t.getInput().getDefiningOp<AttentionOp>();
    if (!att || !att->hasOneUse())
      return failure();
    // t's dimension k is the stored result's dimension p[k], which is the
    // logical result's dimension out_perm[p[k]].
    SmallVector<int64_t> outPerm;
    for (int64_t p : t.getPerm())
      outPerm.push_back(att.getOutPerm() ? (*att.getOutPerm())[p] : p);
    auto folded = cast<AttentionOp>(rewriter.clone(*att));
    folded.getOutput().setType(t.getType());
    folded.setOutPermAttr(rewriter.getDenseI64ArrayAttr(outPerm));
    rewriter.replaceOp(t, folded.getOutput());
    rewriter.eraseOp(att);
    return success();
  }
};

struct FoldTransposes : kiln::impl::FoldTransposesBase<FoldTransposes> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldOperandTransposes, FoldResultTranspose>(&getContext());
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
