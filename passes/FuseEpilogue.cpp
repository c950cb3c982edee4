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

/// Contractions whose kernels can run an epilogue: float32 matmul and gemm,
/// and channels-last convolutions.
bool canHeadEpilogue(Operation *op) {
  if (auto conv = dyn_cast<ConvOp>(op); conv && !conv.getChannelsLast())
    return false;
  if (!isa<ConvOp, GemmOp, MatMulOp>(op))
    return false;
  return llvm::all_of(op->getOperands(),
                      [](Value v) { return getElementTypeOrSelf(v.getType()).isF32(); });
}

struct FuseEpilogue : kiln::impl::FuseEpilogueBase<FuseEpilogue> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> heads;
    for (Operation &op : func.getBody().front())
      if (canHeadEpilogue(&op) && op.getResult(0).hasOneUse())
        heads.push_back(&op);
    for (Operation *head : heads) {
      Operation *user = *head->getResult(0).getUsers().begin();
      bool chain = isa<FusedElementwiseOp>(user);
      if (!chain && !isFusableElementwise(user))
        continue;
      if (user->getResult(0).getType() != head->getResult(0).getType())
        continue; // The consumer broadcasts the contraction's result.
      fuse(head, user);
    }
  }

  /// Replaces `user` by a fused contraction computing head then user.
  void fuse(Operation *head, Operation *user) {
    Value result = head->getResult(0);
    // The head's operands come first, in order (the code generator reads
    // them as its first inputs); then the epilogue's other inputs.
    SmallVector<Value> inputs(head->getOperands());
    llvm::SetVector<Value> extra;
    for (Value v : user->getOperands())
      if (v != result && !llvm::is_contained(inputs, v))
        extra.insert(v);
    inputs.append(extra.begin(), extra.end());

    OpBuilder b(user);
    auto fused = b.create<FusedContractionOp>(b.getFusedLoc({head->getLoc(), user->getLoc()}),
                                              user->getResult(0).getType(), inputs);
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
    Value headResult = b.clone(*head, map)->getResult(0);

    IRMapping epilogue;
    Value yielded;
    if (auto chain = dyn_cast<FusedElementwiseOp>(user)) {
      Block &chainBody = chain.getBody().front();
      for (auto [input, arg] : llvm::zip(chain.getInputs(), chainBody.getArguments()))
        epilogue.map(arg, input == result ? headResult : argFor(input));
      for (Operation &op : chainBody.without_terminator())
        b.clone(op, epilogue);
      yielded = epilogue.lookup(cast<YieldOp>(chainBody.getTerminator()).getValue());
    } else {
      for (Value v : user->getOperands())
        epilogue.map(v, v == result ? headResult : argFor(v));
      yielded = b.clone(*user, epilogue)->getResult(0);
    }
    b.create<YieldOp>(user->getLoc(), yielded);
    user->getResult(0).replaceAllUsesWith(fused.getOutput());
    user->erase();
    head->erase();
  }
};

} // namespace
