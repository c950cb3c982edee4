//===- FuseRows.cpp - Fuse pointwise ops into last-axis row reductions ----===//
//
// A softmax or layer normalisation reads each row two or three times. When
// its input comes from an elementwise chain (a residual add before a layer
// norm, a scale before a softmax) and its result feeds another (an
// activation, a scale), the chain would write a full tensor and the
// reduction reread it several times. Fused, the kernel computes the row's
// input into a local array, reduces and normalises it there, applies the
// epilogue and stores only the final row.
//
// Runs after kiln-fuse-epilogue, so a chain that a matmul or conv can absorb
// goes there first.
//
//===----------------------------------------------------------------------===//

#include "codegen/kernel/Target.h"
#include "passes/Passes.h"

#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_FUSEROWS
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// Rows longer than this stay unfused: the kernel keeps two rows on the
/// stack.
const int64_t kMaxRow = TargetDescription().maxFusedRow;

bool isRowHead(Operation *op) {
  if (op->getNumResults() != 1)
    return false;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
      type.getShape().back() > kMaxRow)
    return false;
  if (auto sm = dyn_cast<SoftmaxOp>(op))
    return sm.getAxis() == type.getRank() - 1;
  if (auto ln = dyn_cast<LayerNormOp>(op))
    return ln.getAxis() == type.getRank() - 1 &&
           llvm::all_of(op->getOperands(),
                        [](Value v) { return getElementTypeOrSelf(v.getType()).isF32(); });
  return false;
}

/// An elementwise chain or op that `head` can absorb: it is used only there
/// and has the head's type.
bool absorbable(Operation *op, Type type) {
  return op && (isa<FusedElementwiseOp>(op) || isFusableElementwise(op)) &&
         op->getResult(0).getType() == type;
}

struct FuseRows : kiln::impl::FuseRowsBase<FuseRows> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<Operation *> heads;
    for (Operation &op : func.getBody().front())
      if (isRowHead(&op))
        heads.push_back(&op);
    for (Operation *head : heads) {
      Type type = head->getResult(0).getType();
      Operation *pro = head->getOperand(0).getDefiningOp();
      if (!absorbable(pro, type) || !pro->hasOneUse())
        pro = nullptr;
      Operation *epi = head->getResult(0).hasOneUse()
                           ? *head->getResult(0).getUsers().begin()
                           : nullptr;
      if (!absorbable(epi, type))
        epi = nullptr;
      if (pro || epi)
        fuse(pro, head, epi);
    }
  }

  void fuse(Operation *pro, Operation *head, Operation *epi) {
    Value input = head->getOperand(0), result = head->getResult(0);
    llvm::SetVector<Value> inputs;
    if (pro)
      inputs.insert(pro->operand_begin(), pro->operand_end());
    for (Value v : head->getOperands())
      if (!pro || v != input)
        inputs.insert(v);
    if (epi)
      for (Value v : epi->getOperands())
        if (v != result)
          inputs.insert(v);
    Operation *last = epi ? epi : head;
    SmallVector<Location> locs;
    for (Operation *op : {pro, head, epi})
      if (op)
        locs.push_back(op->getLoc());
    OpBuilder b(last);
    auto fused = b.create<FusedRowOp>(b.getFusedLoc(locs), last->getResult(0).getType(),
                                      inputs.getArrayRef());
    Block *body = b.createBlock(&fused.getBody());
    llvm::DenseMap<Value, Value> args;
    for (Value v : inputs)
      args[v] = body->addArgument(v.getType(), v.getLoc());
    b.setInsertionPointToStart(body);
    Value headInput = pro ? cloneElementwise(b, pro, [&](Value v) { return args.lookup(v); })
                          : args.lookup(input);
    Value headResult = cloneElementwise(b, head, [&](Value v) {
      return v == input ? headInput : args.lookup(v);
    });
    Value yielded = epi ? cloneElementwise(b, epi, [&](Value v) {
      return v == result ? headResult : args.lookup(v);
    })
                        : headResult;
    b.create<YieldOp>(last->getLoc(), yielded);
    last->getResult(0).replaceAllUsesWith(fused.getOutput());
    for (Operation *op : {epi, head, pro})
      if (op)
        op->erase();
  }
};

} // namespace
