//===- FuseEpilogue.cpp - Fuse elementwise consumers into contractions ----===//
//
// A convolution or matrix product followed by a bias add, an activation, a
// residual add or a clip writes its whole result and reads it straight back.
// Fused, the contraction's kernel applies those ops to each tile of
// accumulators while it is still in L1, and only the final value is stored.
//
// The consumer is either a kiln.fused_elementwise (what kiln-fuse-elementwise
// made of a chain) or a single elementwise op. It must be the contraction's
// only user, and it must read the contraction's result at full shape, so
// the epilogue runs once per result element.
//
// A channels-last conv also takes in the squeeze-and-excitation scaling of
// its input (x * s with s per image and channel): the kernel scales what it
// reads, and the scaled activation is never stored.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_FUSEEPILOGUE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// A quantised conv or matmul (int32 sums of 8-bit operands).
bool isQuantized(Operation *op) {
  auto conv = dyn_cast<ConvOp>(op);
  auto mm = dyn_cast<MatMulOp>(op);
  return (conv && conv.getInputZeroPoint()) || (mm && mm.getAZeroPoint());
}

/// Contractions whose kernels can run an epilogue: float32 matmul and gemm,
/// and channels-last convolutions.
bool canHeadEpilogue(Operation *op) {
  if (auto conv = dyn_cast<ConvOp>(op); conv && !conv.getChannelsLast())
    return false;
  if (!isa<ConvOp, GemmOp, MatMulOp>(op))
    return false;
  if (isQuantized(op))
    return true; // int32 sums, scaled and requantised by the epilogue
  return llvm::all_of(op->getOperands(),
                      [](Value v) { return getElementTypeOrSelf(v.getType()).isF32(); });
}

/// The squeeze-and-excitation scaling a channels-last conv can apply as it
/// reads its input: a single-use mul of the full-size input by a
/// [N or 1, 1, 1, C] tensor. Returns the mul and sets `scale` and `x`.
MulOp inputScaling(Operation *head, Value &x, Value &scale) {
  auto conv = dyn_cast<ConvOp>(head);
  auto mul = conv ? conv.getInput().getDefiningOp<MulOp>() : MulOp();
  if (!mul || !mul->hasOneUse())
    return MulOp();
  ArrayRef<int64_t> in = cast<ShapedType>(conv.getInput().getType()).getShape();
  for (auto [a, b] : {std::pair{mul.getLhs(), mul.getRhs()}, {mul.getRhs(), mul.getLhs()}}) {
    ArrayRef<int64_t> s = cast<ShapedType>(b.getType()).getShape();
    if (a.getType() == conv.getInput().getType() && s.size() == 4 &&
        (s[0] == 1 || s[0] == in[0]) && s[1] == 1 && s[2] == 1 && s[3] == in[3]) {
      x = a;
      scale = b;
      return mul;
    }
  }
  return MulOp();
}

struct FuseEpilogue : kiln::impl::FuseEpilogueBase<FuseEpilogue> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> heads;
    for (Operation &op : func.getBody().front())
      if (canHeadEpilogue(&op))
        heads.push_back(&op);
    for (Operation *head : heads) {
      Operation *user = head->getResult(0).hasOneUse()
                            ? *head->getResult(0).getUsers().begin()
                            : nullptr;
      if (user && !isa<FusedElementwiseOp>(user) && !isFusableElementwise(user))
        user = nullptr;
      // The consumer must not broadcast the contraction's result, and only a
      // quantised contraction's epilogue changes the element type (its int32
      // sums to float, or on to 8 bits).
      auto userType = user ? cast<ShapedType>(user->getResult(0).getType()) : ShapedType();
      auto headType = cast<ShapedType>(head->getResult(0).getType());
      if (user && (userType.getShape() != headType.getShape() ||
                   (!isQuantized(head) && userType != headType)))
        user = nullptr;
      Value x, scale;
      MulOp prologue = inputScaling(head, x, scale);
      if (user || prologue)
        fuse(prologue, x, scale, head, user);
    }
  }

  /// Replaces `head` (and `user`, the epilogue, and `prologue`, the scaling
  /// of the input x by scale, where given) by one fused contraction.
  void fuse(MulOp prologue, Value x, Value scale, Operation *head, Operation *user) {
    Value result = head->getResult(0);
    // The head's operands come first, in order (the code generator reads
    // them as its first inputs; a scaled input is read as x); then the
    // scale and the epilogue's other inputs.
    SmallVector<Value> inputs(head->getOperands());
    if (prologue)
      inputs[0] = x;
    llvm::SetVector<Value> extra;
    if (prologue && !llvm::is_contained(inputs, scale))
      extra.insert(scale);
    if (user)
      for (Value v : user->getOperands())
        if (v != result && !llvm::is_contained(inputs, v))
          extra.insert(v);
    inputs.append(extra.begin(), extra.end());

    Operation *last = user ? user : head;
    SmallVector<Location> locs;
    for (Operation *op : {prologue.getOperation(), head, user})
      if (op)
        locs.push_back(op->getLoc());
    OpBuilder b(last);
    auto fused = b.create<FusedContractionOp>(b.getFusedLoc(locs),
                                              last->getResult(0).getType(), inputs);
    Block *body = b.createBlock(&fused.getBody());
    SmallVector<BlockArgument> args;
    for (Value v : inputs)
      args.push_back(body->addArgument(v.getType(), v.getLoc()));
    auto argFor = [&](Value v) -> Value {
      return args[llvm::find(inputs, v) - inputs.begin()];
    };
    b.setInsertionPointToStart(body);
    IRMapping map;
    for (auto [i, operand] : llvm::enumerate(head->getOperands()))
      map.map(operand, args[i]);
    if (prologue)
      map.map(head->getOperand(0), cloneElementwise(b, prologue, argFor));
    Value headResult = b.clone(*head, map)->getResult(0);
    Value yielded = user ? cloneElementwise(b, user, [&](Value v) {
      return v == result ? headResult : argFor(v);
    })
                         : headResult;
    b.create<YieldOp>(last->getLoc(), yielded);
    last->getResult(0).replaceAllUsesWith(fused.getOutput());
    if (user)
      user->erase();
    head->erase();
    if (prologue)
      prologue->erase();
  }
};

} // namespace
