//===- Lowering.cpp - Dispatch graph ops to their family's lowering -------===//

#include "codegen/lowering/Lowering.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "dialects/Kiln/KilnOps.h"

using namespace mlir;

namespace kiln {

LogicalResult requireF32(Operation *op) {
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return op->emitOpError("is only supported on float32 tensors");
  return success();
}

LogicalResult requireContractionTypes(Operation *op) {
  Type t = getElementTypeOrSelf(op->getResult(0).getType());
  bool ok = t.isF32() || t.isF64() || t.isSignlessInteger(32) || t.isSignlessInteger(64) ||
            t.isSignedInteger(32) || t.isSignedInteger(64);
  for (Value v : op->getOperands())
    ok &= getElementTypeOrSelf(v.getType()) == t;
  if (!ok)
    return op->emitOpError("is only supported on float32, float64, int32 and int64 "
                           "tensors of one element type");
  return success();
}

Value centeredInput(KernelBuilder &k, Value x, Type elt, int64_t zeroPoint) {
  Type i32 = k.b.getI32Type();
  Value wide = elt.isUnsignedInteger() ? k.b.create<arith::ExtUIOp>(k.loc, i32, x).getResult()
                                       : k.b.create<arith::ExtSIOp>(k.loc, i32, x).getResult();
  return k.b.create<arith::SubIOp>(k.loc, wide, k.constant(i32, double(zeroPoint)));
}

Value widenedWeight(KernelBuilder &k, Value w) {
  return k.b.create<arith::ExtSIOp>(k.loc, k.b.getI32Type(), w);
}

using FamilyLowering = FailureOr<func::FuncOp> (*)(Operation *, const TargetDescription &,
                                                   KernelBuilder &);

struct Family {
  const char *name;
  FamilyLowering lower;
};

/// `op`'s family (by its category), or a null one.
static Family familyOf(Operation *op) {
  // Batch norm indexes its parameters per channel: a row-family kernel.
  if ((isRowReduction(op) && !isa<CumSumOp, HardmaxOp>(op)) || isa<BatchNormOp>(op))
    return {"rows", lowerRows};
  if (isElementwise(op))
    return {"elementwise", lowerElementwise};
  if (isDataMovement(op))
    return {"data-movement", lowerDataMovement};
  if (isReduction(op) || isa<CumSumOp, HardmaxOp>(op))
    return {"reductions", lowerReductions};
  if (isPooling(op))
    return {"pooling", lowerPooling};
  if (isContraction(op))
    return {"contraction", lowerContraction};
  return {"", nullptr};
}

StringRef loweringFamily(Operation *op) { return familyOf(op).name; }

ArrayRef<StringRef> loweringFamilies() {
  static const StringRef names[] = {"elementwise", "data-movement", "reductions", "rows",
                                    "pooling", "contraction"};
  return names;
}

FailureOr<func::FuncOp> lowerToKernel(Operation *op, const TargetDescription &target,
                                      ModuleOp kernels, StringRef name) {
  FamilyLowering lower = familyOf(op).lower;
  if (!lower)
    return func::FuncOp();
  KernelBuilder k(op, kernels, name);
  k.parallelNests = target.parallelLoopNests;
  // Results with a zero-sized dimension hold nothing to compute: the
  // kernel is empty (lowerings size tiles and strides by extents, and a
  // zero extent would divide by zero).
  if (op->getNumResults() > 0 && llvm::all_of(op->getResultTypes(), [](Type t) {
        auto shaped = dyn_cast<ShapedType>(t);
        return shaped && shaped.hasStaticShape() && shaped.getNumElements() == 0;
      }))
    return k.finish();
  auto f = lower(op, target, k);
  // Null: no lowering takes the op (the caller says so).
  if (failed(f) || !*f)
    k.kernel().erase();
  return f;
}

} // namespace kiln
