//===- KernelForm.cpp - Building and comparing kernels --------------------===//

#include "codegen/kernel/KernelForm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/CSE.h"
#include "mlir/Transforms/LoopInvariantCodeMotionUtils.h"

#include <optional>

using namespace mlir;

namespace kiln {

void loadKernelDialects(MLIRContext *ctx) {
  ctx->loadDialect<arith::ArithDialect, func::FuncDialect, math::MathDialect,
                   memref::MemRefDialect, scf::SCFDialect>();
}

bool isKernel(func::FuncOp f) { return f->hasAttr(kKernelAttr); }

int64_t numKernelInputs(func::FuncOp f) {
  auto n = f->getAttrOfType<IntegerAttr>(kNumInputsAttr);
  return n ? n.getInt() : 0;
}

Type computeType(Type t) {
  if (t.isF16())
    return Float32Type::get(t.getContext());
  if (auto i = dyn_cast<IntegerType>(t); i && !i.isSignless())
    return IntegerType::get(t.getContext(), i.getWidth());
  return t;
}

static MemRefType flatBuffer(Type tensor) {
  auto shaped = cast<ShapedType>(tensor);
  return MemRefType::get({shaped.getNumElements()}, shaped.getElementType());
}

KernelBuilder::KernelBuilder(Operation *op, ModuleOp kernels, StringRef name)
    : b(op->getContext()), loc(op->getLoc()) {
  SmallVector<Type> params;
  for (Type t : op->getOperandTypes())
    params.push_back(flatBuffer(t));
  for (Type t : op->getResultTypes())
    params.push_back(flatBuffer(t));
  numInputs = op->getNumOperands();
  b.setInsertionPointToEnd(kernels.getBody());
  func = b.create<func::FuncOp>(loc, name, b.getFunctionType(params, {}));
  func->setAttr(kKernelAttr, b.getStringAttr(op->getName().stripDialect()));
  func->setAttr(kNumInputsAttr, b.getI64IntegerAttr(numInputs));
  func.setPrivate();
  b.setInsertionPointToStart(func.addEntryBlock());
}

Value KernelBuilder::index(int64_t v) {
  return b.create<arith::ConstantIndexOp>(loc, v);
}

/// The value of an index constant.
static std::optional<int64_t> constantIndex(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantIndexOp>())
    return c.value();
  return std::nullopt;
}

// Index arithmetic folds constants as it is built, so that unit dimensions
// and zero offsets leave no trace in the kernels.
Value KernelBuilder::add(Value x, Value y) {
  auto cx = constantIndex(x), cy = constantIndex(y);
  if (cx && cy)
    return index(*cx + *cy);
  if (cx == 0)
    return y;
  if (cy == 0)
    return x;
  return b.create<arith::AddIOp>(loc, x, y);
}

Value KernelBuilder::mul(Value x, int64_t c) {
  if (auto cx = constantIndex(x))
    return index(*cx * c);
  if (c == 0)
    return index(0);
  return c == 1 ? x : b.create<arith::MulIOp>(loc, x, index(c)).getResult();
}

Value KernelBuilder::sub(Value x, Value y) {
  auto cx = constantIndex(x), cy = constantIndex(y);
  if (cx && cy)
    return index(*cx - *cy);
  if (cy == 0)
    return x;
  return b.create<arith::SubIOp>(loc, x, y);
}

Value KernelBuilder::div(Value x, int64_t c) {
  if (auto cx = constantIndex(x))
    return index(*cx / c);
  return c == 1 ? x : b.create<arith::DivSIOp>(loc, x, index(c)).getResult();
}

Value KernelBuilder::rem(Value x, int64_t c) {
  if (auto cx = constantIndex(x))
    return index(*cx % c);
  return c == 1 ? index(0) : b.create<arith::RemSIOp>(loc, x, index(c)).getResult();
}

Value KernelBuilder::min(Value x, int64_t c) {
  if (auto cx = constantIndex(x))
    return index(std::min(*cx, c));
  return b.create<arith::MinSIOp>(loc, x, index(c));
}

Value KernelBuilder::inRange(Value v, int64_t n) {
  return b.create<arith::AndIOp>(
      loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, v, index(0)),
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, v, index(n)));
}

Value KernelBuilder::select(Value cond, Value x, Value y) {
  return b.create<arith::SelectOp>(loc, cond, x, y);
}

Value KernelBuilder::local(Type elt, int64_t n, int64_t alignment) {
  auto type = MemRefType::get({n}, elt);
  if (alignment)
    return b.create<memref::AllocaOp>(loc, type, b.getI64IntegerAttr(alignment));
  return b.create<memref::AllocaOp>(loc, type);
}

Value KernelBuilder::linear(ArrayRef<Value> vars, ArrayRef<int64_t> strides, int64_t base) {
  Value sum;
  for (auto [v, s] : llvm::zip(vars, strides)) {
    if (s == 0 || constantIndex(v) == 0)
      continue;
    Value term = mul(v, s);
    sum = sum ? add(sum, term) : term;
  }
  if (base || !sum)
    sum = sum ? add(sum, index(base)) : index(base);
  return sum;
}

SmallVector<Value> KernelBuilder::unravel(Value flat, ArrayRef<int64_t> dims) {
  SmallVector<Value> coords(dims.size());
  int64_t stride = 1;
  for (int64_t i = (int64_t)dims.size() - 1; i >= 0; --i) {
    if (dims[i] == 1) {
      coords[i] = index(0);
      continue;
    }
    Value q = stride == 1 ? flat : b.create<arith::DivSIOp>(loc, flat, index(stride)).getResult();
    coords[i] = b.create<arith::RemSIOp>(loc, q, index(dims[i]));
    stride *= dims[i];
  }
  return coords;
}

Value KernelBuilder::load(Value buffer, Value at) {
  Type elt = cast<MemRefType>(buffer.getType()).getElementType();
  Value v = b.create<memref::LoadOp>(loc, buffer, at);
  Type ct = computeType(elt);
  if (ct == elt)
    return v;
  if (elt.isF16())
    return b.create<arith::ExtFOp>(loc, ct, v);
  return b.create<UnrealizedConversionCastOp>(loc, ct, v).getResult(0);
}

void KernelBuilder::store(Value v, Value buffer, Value at) {
  Type elt = cast<MemRefType>(buffer.getType()).getElementType();
  if (v.getType() != elt) {
    if (elt.isF16())
      v = b.create<arith::TruncFOp>(loc, elt, v);
    else
      v = b.create<UnrealizedConversionCastOp>(loc, elt, v).getResult(0);
  }
  b.create<memref::StoreOp>(loc, v, buffer, at);
}

void KernelBuilder::describe(const Twine &text) {
  func->setAttr(kSummaryAttr, b.getStringAttr(text));
}

Value KernelBuilder::view(Value buffer, Value at, int64_t n) {
  return b.create<memref::SubViewOp>(loc, buffer, ArrayRef<OpFoldResult>{at},
                                     ArrayRef<OpFoldResult>{b.getIndexAttr(n)},
                                     ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
}

void KernelBuilder::copy(Value src, Value srcAt, Value dst, Value dstAt, int64_t n) {
  // Named first: the order of the ops must not depend on the compiler's
  // order of evaluating arguments.
  Value from = view(src, srcAt, n);
  Value to = view(dst, dstAt, n);
  b.create<memref::CopyOp>(loc, from, to);
}

Value KernelBuilder::constant(Type elt, double v) {
  Type t = computeType(elt);
  if (auto f = dyn_cast<FloatType>(t))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(f, v));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(t, static_cast<int64_t>(v)));
}

void KernelBuilder::loop(Value lb, Value ub, int64_t step, function_ref<void(Value)> body) {
  auto forOp = b.create<scf::ForOp>(loc, lb, ub, index(step));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  body(forOp.getInductionVar());
}

Value KernelBuilder::reduce(Value lb, Value ub, Value init,
                            function_ref<Value(Value, Value)> body) {
  auto forOp = b.create<scf::ForOp>(loc, lb, ub, index(1), ValueRange{init});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(forOp.getBody());
  Value next = body(forOp.getInductionVar(), forOp.getRegionIterArgs()[0]);
  b.create<scf::YieldOp>(loc, ValueRange{next});
  return forOp.getResult(0);
}

SmallVector<Value> KernelBuilder::reduce(
    int64_t n, ValueRange inits, function_ref<SmallVector<Value>(Value, ValueRange)> body) {
  auto forOp = b.create<scf::ForOp>(loc, index(0), index(n), index(1), inits);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(forOp.getBody());
    SmallVector<Value> next = body(forOp.getInductionVar(), forOp.getRegionIterArgs());
    b.create<scf::YieldOp>(loc, next);
  }
  return SmallVector<Value>(forOp.getResults());
}

void KernelBuilder::ifThen(Value cond, function_ref<void()> body) {
  auto ifOp = b.create<scf::IfOp>(loc, cond, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  body();
}

void KernelBuilder::loopNest(ArrayRef<int64_t> dims, function_ref<void(ArrayRef<Value>)> body) {
  SmallVector<Value> vars;
  std::function<void(size_t)> level = [&](size_t d) {
    if (d == dims.size())
      return body(vars);
    // A unit dimension is no loop: its index is 0.
    if (dims[d] == 1) {
      vars.push_back(index(0));
      level(d + 1);
      vars.pop_back();
      return;
    }
    loop(dims[d], [&](Value iv) {
      vars.push_back(iv);
      level(d + 1);
      vars.pop_back();
    });
  };
  level(0);
}

void KernelBuilder::independentNest(ArrayRef<int64_t> dims,
                                    function_ref<void(ArrayRef<Value>)> body) {
  int64_t total = 1;
  for (int64_t d : dims)
    total *= d;
  if (!parallelNests || total <= 1)
    return loopNest(dims, body);
  parallel(total, [&](Value flat) { body(unravel(flat, dims)); });
}

void KernelBuilder::parallel(int64_t n, function_ref<void(Value)> body) {
  auto par = b.create<scf::ParallelOp>(loc, ValueRange{index(0)}, ValueRange{index(n)},
                                       ValueRange{index(1)});
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(par.getBody());
  body(par.getInductionVars()[0]);
}

void KernelBuilder::cooperative(int64_t n, int64_t threads, function_ref<void(Value)> body) {
  auto par = b.create<scf::ParallelOp>(loc, ValueRange{index(0)}, ValueRange{index(n)},
                                       ValueRange{index(1)});
  par->setAttr(kCooperativeAttr, b.getI64IntegerAttr(threads));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(par.getBody());
  body(par.getInductionVars()[0]);
}

func::FuncOp KernelBuilder::finish() {
  b.create<func::ReturnOp>(loc);
  return func;
}

void tidyKernel(func::FuncOp f) {
  f.walk([](LoopLikeOpInterface loop) { moveLoopInvariantCode(loop); });
  IRRewriter rewriter(f.getContext());
  DominanceInfo dominance(f);
  eliminateCommonSubExpressions(rewriter, dominance, f);
}

llvm::hash_code kernelHash(func::FuncOp f) {
  llvm::hash_code h = llvm::hash_value(f.getFunctionType().getAsOpaquePointer());
  f.getBody().walk([&](Operation *op) {
    h = llvm::hash_combine(
        h, OperationEquivalence::computeHash(op, OperationEquivalence::ignoreHashValue,
                                             OperationEquivalence::ignoreHashValue,
                                             OperationEquivalence::IgnoreLocations));
  });
  return h;
}

bool sameKernel(func::FuncOp a, func::FuncOp b) {
  return a.getFunctionType() == b.getFunctionType() &&
         OperationEquivalence::isRegionEquivalentTo(&a.getBody(), &b.getBody(),
                                                    OperationEquivalence::IgnoreLocations);
}

} // namespace kiln
