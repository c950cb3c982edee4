//===- FuseElementwise.cpp - Fuse chains of elementwise ops ---------------===//
//
// Run one op at a time, a chain like bias-add -> GELU (div, erf, add, mul,
// mul) writes and rereads a full tensor per op. Fused, the chain is one loop
// that reads its inputs once and writes only its result, and one kernel
// launch instead of many.
//
// Groups grow backwards from a root: an elementwise operand producer of the
// root's shape joins when all its users are already in the group, so no value
// that is read elsewhere disappears and nothing is recomputed per broadcast
// element. Every member's result broadcasts to the root's shape
// (it feeds the root through broadcasting ops), which is what lets the kernel
// evaluate the body per result element.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/SetVector.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_FUSEELEMENTWISE
#include "passes/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// DequantizeLinear(QuantizeLinear(x, s, z), s, z) that a float consumer
/// reads (a quantised contraction reads the 8-bit value itself) becomes
/// (clip(round(x / s) + z, lo, hi) - z) * s in float32: the same values,
/// without 8-bit lanes in the fused chain, which vectorise poorly.
void fakeQuantizeRoundTrips(func::FuncOp func) {
  auto isF32 = [](Value v) { return getElementTypeOrSelf(v.getType()).isF32(); };
  SmallVector<PointwiseOp> roundTrips;
  func.walk([&](PointwiseOp dq) {
    auto q = dq->getOperand(0).getDefiningOp<PointwiseOp>();
    if (dq.getFn() == "dequantize_linear" && q && q.getFn() == "quantize_linear" &&
        q->getNumOperands() == 3 && dq->getNumOperands() == 3 &&
        q->getOperand(1) == dq->getOperand(1) && q->getOperand(2) == dq->getOperand(2) &&
        isF32(q->getOperand(0)) && isF32(q->getOperand(1)) && isF32(dq->getResult(0)) &&
        q->getOperand(0).getType() == dq->getResult(0).getType())
      roundTrips.push_back(dq);
  });
  for (PointwiseOp dq : roundTrips) {
    auto q = dq->getOperand(0).getDefiningOp<PointwiseOp>();
    OpBuilder b(dq);
    Location loc = dq.getLoc();
    Value x = q->getOperand(0), scale = q->getOperand(1), zero = q->getOperand(2);
    auto type = cast<RankedTensorType>(dq.getType());
    auto zeroType = cast<RankedTensorType>(zero.getType());
    Type qt = getElementTypeOrSelf(q->getResult(0).getType());
    bool isUnsigned = qt.isUnsignedInteger();
    unsigned width = qt.getIntOrFloatBitWidth();
    double lo = isUnsigned ? 0 : -std::ldexp(1.0, width - 1);
    double hi = isUnsigned ? std::ldexp(1.0, width) - 1 : std::ldexp(1.0, width - 1) - 1;
    Value zf = b.create<CastOp>(loc, zeroType.clone(b.getF32Type()), zero);
    Value v = b.create<DivOp>(loc, type, x, scale);
    v = b.create<PointwiseOp>(loc, type, b.getStringAttr("round"), ValueRange{v},
                              b.getArrayAttr({}));
    v = b.create<AddOp>(loc, type, v, zf);
    v = b.create<ClipOp>(loc, type, v, b.getF64FloatAttr(lo), b.getF64FloatAttr(hi));
    v = b.create<SubOp>(loc, type, v, zf);
    v = b.create<MulOp>(loc, type, v, scale);
    dq.getResult().replaceAllUsesWith(v);
    dq->erase();
    if (q->use_empty())
      q->erase();
  }
}

struct FuseElementwise : kiln::impl::FuseElementwiseBase<FuseElementwise> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    fakeQuantizeRoundTrips(func);
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) {
      if (op->getParentOp() == func.getOperation())
        ops.push_back(op);
    });
    llvm::DenseSet<Operation *> taken;
    for (Operation *root : llvm::reverse(ops)) {
      if (taken.count(root) || !isFusableElementwise(root))
        continue;
      llvm::SetVector<Operation *> group;
      group.insert(root);
      for (size_t i = 0; i < group.size(); ++i)
        for (Value operand : group[i]->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (!def || taken.count(def) || group.contains(def) || !isFusableElementwise(def))
            continue;
          // A smaller producer that broadcasts into the chain would be
          // recomputed for every element of the result; it stays outside
          // (where it can be another kernel's epilogue).
          if (cast<ShapedType>(def->getResult(0).getType()).getShape() !=
              cast<ShapedType>(root->getResult(0).getType()).getShape())
            continue;
          if (llvm::all_of(def->getUsers(), [&](Operation *u) { return group.contains(u); }))
            group.insert(def);
        }
      if (group.size() < 2)
        continue;
      fuse(root, group);
      for (Operation *op : group)
        taken.insert(op);
    }
  }

  void fuse(Operation *root, llvm::SetVector<Operation *> &group) {
    SmallVector<Operation *> members(group.begin(), group.end());
    llvm::sort(members, [](Operation *a, Operation *b) { return a->isBeforeInBlock(b); });
    llvm::SetVector<Value> inputs;
    SmallVector<Location> locs;
    for (Operation *op : members) {
      locs.push_back(op->getLoc());
      for (Value v : op->getOperands())
        if (!group.contains(v.getDefiningOp()))
          inputs.insert(v);
    }
    OpBuilder b(root);
    auto fused = b.create<FusedElementwiseOp>(b.getFusedLoc(locs), root->getResult(0).getType(),
                                              inputs.getArrayRef());
    Block *body = b.createBlock(&fused.getBody());
    IRMapping map;
    for (Value v : inputs)
      map.map(v, body->addArgument(v.getType(), v.getLoc()));
    b.setInsertionPointToStart(body);
    for (Operation *op : members)
      b.clone(*op, map);
    b.create<YieldOp>(root->getLoc(), map.lookup(root->getResult(0)));
    root->getResult(0).replaceAllUsesWith(fused.getOutput());
    for (Operation *op : llvm::reverse(members))
      op->erase();
  }
};

} // namespace

static bool isF32(Value v) { return getElementTypeOrSelf(v.getType()).isF32(); }

/// The ends of a quantised chain: int32 sums of a quantised conv made
/// float, and (de)quantisation between float32 and 8 bits.
static bool isQuantizationStep(Operation *op) {
  auto is8Bit = [](Value v) { return getElementTypeOrSelf(v.getType()).isInteger(8); };
  if (auto cast = dyn_cast<CastOp>(op))
    return getElementTypeOrSelf(cast.getInput().getType()).isInteger(32) &&
           isF32(cast.getOutput());
  auto p = dyn_cast<PointwiseOp>(op);
  if (!p || p->getNumOperands() != 3 || !isF32(p->getOperand(1)))
    return false;
  if (p.getFn() == "quantize_linear")
    return isF32(p->getOperand(0)) && is8Bit(p->getOperand(2)) && is8Bit(p->getResult(0));
  if (p.getFn() == "dequantize_linear")
    return is8Bit(p->getOperand(0)) && is8Bit(p->getOperand(2)) && isF32(p->getResult(0));
  return false;
}

bool kiln::isFusableElementwise(Operation *op) {
  if (op->getNumResults() == 1 && isElementwise(op) && isQuantizationStep(op))
    return true;
  if (op->getNumResults() != 1 || !isF32(op->getResult(0)))
    return false;
  if (!isElementwise(op) || isa<FusedElementwiseOp, BatchNormOp>(op))
    return false;
  // A where's condition is boolean; every other operand is float32.
  if (auto where = dyn_cast<WhereOp>(op))
    return isF32(where.getX()) && isF32(where.getY());
  return llvm::all_of(op->getOperands(), isF32);
}

Value kiln::cloneElementwise(OpBuilder &b, Operation *op,
                             llvm::function_ref<Value(Value)> operandFor) {
  IRMapping map;
  if (auto chain = dyn_cast<FusedElementwiseOp>(op)) {
    Block &body = chain.getBody().front();
    for (auto [input, arg] : llvm::zip(chain.getInputs(), body.getArguments()))
      map.map(arg, operandFor(input));
    for (Operation &inner : body.without_terminator())
      b.clone(inner, map);
    return map.lookup(cast<YieldOp>(body.getTerminator()).getValues()[0]);
  }
  for (Value v : op->getOperands())
    map.map(v, operandFor(v));
  return b.clone(*op, map)->getResult(0);
}
