//===- GpuForm.cpp - The kernel form tiled for GPU blocks and threads -----===//

#include "codegen/cuda/GpuForm.h"
#include "codegen/kernel/KernelForm.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <limits>

using namespace mlir;

namespace kiln {

TargetDescription cudaTarget(const std::string &gpu, const std::string &precision) {
  TargetDescription t;
  t.backend = "cuda";
  t.cpu = "generic";
  t.gpu = gpu;
  t.precision = precision;
  // Contractions stay on plain loops (the CPU micro-kernel has no GPU form),
  // and every lowering takes its parallel form whatever the size: a GPU
  // needs thousands of threads where a CPU wants a few large tasks.
  t.vectorWidth = 0;
  t.elementwiseTile = 1;
  t.minParallelElements = 1;
  t.minParallelCopyElements = 1;
  t.parallelLoopNests = true;
  return t;
}

const std::vector<std::string> &knownGpuTargets() {
  static const std::vector<std::string> names = {"sm_80", "sm_86", "sm_89", "sm_90"};
  return names;
}

void serializeNestedParallels(Operation *root) {
  SmallVector<scf::ParallelOp> nested;
  root->walk([&](scf::ParallelOp p) {
    if (p != root)
      nested.push_back(p);
  });
  for (scf::ParallelOp p : nested) {
    OpBuilder b(p);
    // Build loops from the outermost dimension in.
    IRMapping map;
    Block *body = p.getBody();
    for (unsigned d = 0; d < p.getNumLoops(); ++d) {
      auto loop = b.create<scf::ForOp>(p.getLoc(), p.getLowerBound()[d], p.getUpperBound()[d],
                                       p.getStep()[d]);
      map.map(p.getInductionVars()[d], loop.getInductionVar());
      b.setInsertionPoint(loop.getBody()->getTerminator());
    }
    for (Operation &op : body->without_terminator())
      b.clone(op, map);
    p.erase();
  }
}

namespace {

/// log10(x) = log(x) / ln(10); MLIR has no approximation of its own.
struct ExpandLog10 : OpRewritePattern<math::Log10Op> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::Log10Op op, PatternRewriter &rewriter) const override {
    Type t = op.getType();
    if (!t.isF32())
      return failure();
    Value ln = rewriter.create<math::LogOp>(op.getLoc(), op.getOperand());
    Value k = rewriter.create<arith::ConstantOp>(op.getLoc(),
                                                 rewriter.getF32FloatAttr(0.4342944819032518));
    rewriter.replaceOpWithNewOp<arith::MulFOp>(op, ln, k);
    return success();
  }
};

/// asin(x) = atan2(x, sqrt(1 - x^2)), acos(x) = atan2(sqrt(1 - x^2), x):
/// MLIR's own polynomials for these lose 2% near |x| = 1.
template <typename Op, bool IsAcos>
struct ExpandInverseSine : OpRewritePattern<Op> {
  using OpRewritePattern<Op>::OpRewritePattern;
  LogicalResult matchAndRewrite(Op op, PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value one = rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(1));
    Value c = rewriter.create<math::SqrtOp>(
        loc, rewriter.create<arith::SubFOp>(loc, one, rewriter.create<arith::MulFOp>(loc, x, x)));
    if (IsAcos)
      rewriter.replaceOpWithNewOp<math::Atan2Op>(op, c, x);
    else
      rewriter.replaceOpWithNewOp<math::Atan2Op>(op, x, c);
    return success();
  }
};

/// pow(a, b) = exp(b * log|a|), negated for a negative a and an odd integer
/// b, NaN for a negative a and any other b, and 1 for b = 0 (ONNX follows C's
/// pow; MLIR's expansion gets the signs of negative bases wrong).
struct ExpandPow : OpRewritePattern<math::PowFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::PowFOp op, PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value a = op.getLhs(), b = op.getRhs();
    auto cst = [&](double v) {
      return rewriter.create<arith::ConstantOp>(loc, rewriter.getF32FloatAttr(v)).getResult();
    };
    auto cmp = [&](arith::CmpFPredicate p, Value l, Value r) {
      return rewriter.create<arith::CmpFOp>(loc, p, l, r).getResult();
    };
    Value magnitude = rewriter.create<math::ExpOp>(
        loc, rewriter.create<arith::MulFOp>(
                 loc, b, rewriter.create<math::LogOp>(loc, rewriter.create<math::AbsFOp>(loc, a))));
    Value integer = cmp(arith::CmpFPredicate::OEQ, rewriter.create<math::FloorOp>(loc, b), b);
    Value half = rewriter.create<arith::MulFOp>(loc, b, cst(0.5));
    Value odd = rewriter.create<arith::AndIOp>(
        loc, integer, cmp(arith::CmpFPredicate::ONE, rewriter.create<math::FloorOp>(loc, half), half));
    Value negative = cmp(arith::CmpFPredicate::OLT, a, cst(0));
    Value signedValue = rewriter.create<arith::SelectOp>(
        loc, odd, rewriter.create<arith::NegFOp>(loc, magnitude), magnitude);
    Value forNegative = rewriter.create<arith::SelectOp>(
        loc, integer, signedValue, cst(std::numeric_limits<double>::quiet_NaN()));
    Value r = rewriter.create<arith::SelectOp>(loc, negative, forNegative, magnitude);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, cmp(arith::CmpFPredicate::OEQ, b, cst(0)),
                                                 cst(1), r);
    return success();
  }
};

/// Replaces the maths functions of f32 with arithmetic (MLIR's polynomial
/// approximations), so that PTX needs no libdevice and the emulation runs
/// the same arithmetic as the GPU.
LogicalResult expandMaths(func::FuncOp kernel) {
  MLIRContext *ctx = kernel.getContext();
  RewritePatternSet expand(ctx);
  populateExpandTanPattern(expand);
  populateExpandSinhPattern(expand);
  populateExpandCoshPattern(expand);
  populateExpandAsinhPattern(expand);
  populateExpandAcoshPattern(expand);
  populateExpandAtanhPattern(expand);
  populateExpandExp2FPattern(expand);
  expand.add<ExpandPow, ExpandInverseSine<math::AsinOp, false>,
             ExpandInverseSine<math::AcosOp, true>>(ctx);
  populateExpandFPowIPattern(expand);
  populateExpandRsqrtPattern(expand);
  expand.add<ExpandLog10>(ctx);
  if (failed(applyPatternsAndFoldGreedily(kernel, std::move(expand))))
    return failure();
  RewritePatternSet approximate(ctx);
  populateMathPolynomialApproximationPatterns(approximate, {});
  return applyPatternsAndFoldGreedily(kernel, std::move(approximate));
}

bool isConstant(Value v, int64_t want) {
  auto c = v.getDefiningOp<arith::ConstantIndexOp>();
  return c && c.value() == want;
}

std::optional<int64_t> constantIndex(Value v) {
  if (auto c = v.getDefiningOp<arith::ConstantIndexOp>())
    return c.value();
  return std::nullopt;
}

/// A one-dimensional parallel loop from 0 with step 1 and a constant bound
/// (what KernelBuilder::parallel builds): its trip count.
std::optional<int64_t> simpleParallel(Operation *op) {
  auto par = dyn_cast<scf::ParallelOp>(op);
  if (!par || par.getNumLoops() != 1 || par.getNumReductions() ||
      !isConstant(par.getLowerBound()[0], 0) || !isConstant(par.getStep()[0], 1))
    return std::nullopt;
  return constantIndex(par.getUpperBound()[0]);
}

bool isPureValueOp(Operation *op) { return op->getNumRegions() == 0 && isMemoryEffectFree(op); }

/// Clones into `into` (a launch's thread body) the pure top-level ops of
/// `kernel` whose values it uses, so that a launch reads nothing from the
/// host but its buffers.
void sinkDefinitions(Block *into, func::FuncOp kernel) {
  Block *top = &kernel.getBody().front();
  SetVector<Operation *> needed;
  std::function<void(Value)> need = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != top || needed.contains(def))
      return;
    for (Value operand : def->getOperands())
      need(operand);
    needed.insert(def);
  };
  into->walk([&](Operation *op) {
    for (Value v : op->getOperands())
      need(v);
  });
  OpBuilder b = OpBuilder::atBlockBegin(into);
  IRMapping map;
  for (Operation *def : needed)
    b.clone(*def, map);
  into->walk([&](Operation *op) {
    for (OpOperand &use : op->getOpOperands())
      if (Value mapped = map.lookupOrNull(use.get()))
        use.set(mapped);
  });
}

class Splitter {
public:
  Splitter(func::FuncOp kernel, int64_t threads, GpuFormInfo &info)
      : kernel(kernel), threadsPerBlock(threads), info(info) {}

  LogicalResult run() {
    Block *top = &kernel.getBody().front();
    // Segments: each parallel loop alone; runs of other work together.
    SmallVector<SmallVector<Operation *>> segments;
    bool lastParallel = false;
    for (Operation &op : top->without_terminator()) {
      if (isPureValueOp(&op))
        continue;
      bool parallel = simpleParallel(&op).has_value();
      if (segments.empty() || parallel || lastParallel)
        segments.emplace_back();
      segments.back().push_back(&op);
      lastParallel = parallel;
    }
    // A value or local array shared between launches has no GPU form.
    llvm::DenseMap<Operation *, unsigned> segmentOf;
    for (auto [i, seg] : llvm::enumerate(segments))
      for (Operation *op : seg)
        segmentOf[op] = i;
    for (auto [i, seg] : llvm::enumerate(segments))
      for (Operation *op : seg)
        for (Operation *user : op->getUsers()) {
          Operation *owner = top->findAncestorOpInBlock(*user);
          auto it = segmentOf.find(owner);
          if (owner && it != segmentOf.end() && it->second != i)
            return op->emitOpError("is shared between GPU launches of kernel '")
                   << kernel.getSymName() << "', which the GPU form cannot express";
        }
    for (auto &seg : segments) {
      if (seg.front()->hasAttr(kCooperativeAttr))
        cooperativeLaunch(cast<scf::ParallelOp>(seg.front()));
      else if (auto n = simpleParallel(seg.front()))
        tileParallel(cast<scf::ParallelOp>(seg.front()), *n);
      else
        wrapSerial(seg);
    }
    // Pure top-level ops now live in the launches that use them.
    SmallVector<Operation *> topOps;
    for (Operation &op : top->without_terminator())
      topOps.push_back(&op);
    for (Operation *op : llvm::reverse(topOps))
      if (isPureValueOp(op) && op->use_empty())
        op->erase();
    return success();
  }

private:
  /// The launch skeleton: blocks x threads parallel loops; returns the
  /// thread loop and sets `global` to block * threads + thread.
  scf::ParallelOp launch(OpBuilder &b, Location loc, int64_t blocks, int64_t threads,
                         Value &global) {
    Value c0 = b.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = b.create<arith::ConstantIndexOp>(loc, 1);
    auto grid = b.create<scf::ParallelOp>(loc, ValueRange{c0},
                                          ValueRange{b.create<arith::ConstantIndexOp>(loc, blocks)},
                                          ValueRange{c1});
    grid->setAttr(kThreadsAttr, b.getI64IntegerAttr(threads));
    b.setInsertionPointToStart(grid.getBody());
    Value t0 = b.create<arith::ConstantIndexOp>(loc, 0);
    Value t1 = b.create<arith::ConstantIndexOp>(loc, 1);
    auto block = b.create<scf::ParallelOp>(
        loc, ValueRange{t0}, ValueRange{b.create<arith::ConstantIndexOp>(loc, threads)},
        ValueRange{t1});
    b.setInsertionPointToStart(block.getBody());
    Value base = b.create<arith::MulIOp>(loc, grid.getInductionVars()[0],
                                         b.create<arith::ConstantIndexOp>(loc, threads));
    global = b.create<arith::AddIOp>(loc, base, block.getInductionVars()[0]);
    ++info.launches;
    return grid;
  }

  void tileParallel(scf::ParallelOp par, int64_t n) {
    OpBuilder b(par);
    Location loc = par.getLoc();
    int64_t threads = std::min(threadsPerBlock, std::max<int64_t>(n, 1));
    int64_t blocks = (n + threads - 1) / threads;
    Value i;
    scf::ParallelOp grid = launch(b, loc, blocks, threads, i);
    if (n % threads) {
      Value ok = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, i,
                                         b.create<arith::ConstantIndexOp>(loc, n));
      auto guard = b.create<scf::IfOp>(loc, ok);
      b.setInsertionPoint(guard.thenBlock()->getTerminator());
    }
    IRMapping map;
    map.map(par.getInductionVars()[0], i);
    for (Operation &op : par.getBody()->without_terminator())
      b.clone(op, map);
    par.erase();
    finishLaunch(grid);
  }

  void wrapSerial(ArrayRef<Operation *> work) {
    // The pure ops between the segment's first and last op that only it
    // uses move with it (they may read its results).
    SmallVector<Operation *> ops;
    for (Operation *op = work.front();; op = op->getNextNode()) {
      bool inside = llvm::all_of(op->getUsers(), [&](Operation *user) {
        Operation *owner = op->getBlock()->findAncestorOpInBlock(*user);
        return owner && !owner->isBeforeInBlock(work.front()) &&
               !work.back()->isBeforeInBlock(owner);
      });
      if (!isPureValueOp(op) || inside)
        ops.push_back(op);
      if (op == work.back())
        break;
    }
    OpBuilder b(ops.front());
    Value i;
    scf::ParallelOp grid = launch(b, ops.front()->getLoc(), 1, 1, i);
    Operation *anchor = i.getDefiningOp();
    for (Operation *op : llvm::reverse(ops))
      op->moveAfter(anchor);
    ++info.serialLaunches;
    finishLaunch(grid);
  }

  /// A cooperative loop: one block per iteration, its body kept whole (the
  /// steps of the block's threads are mapped in Ptx.cpp; emulation runs
  /// them in order). Its scratch is the block's shared memory.
  void cooperativeLaunch(scf::ParallelOp grid) {
    grid->setAttr(kThreadsAttr, grid->getAttr(kCooperativeAttr));
    ++info.launches;
    heapToStack(grid);
    sinkDefinitions(grid.getBody(), kernel);
  }

  void finishLaunch(scf::ParallelOp grid) {
    scf::ParallelOp block = *grid.getBody()->getOps<scf::ParallelOp>().begin();
    heapToStack(block);
    serializeNestedParallels(block);
    sinkDefinitions(block.getBody(), kernel);
  }

  /// A GPU thread has no heap: its scratch buffers are local arrays.
  static void heapToStack(Operation *root) {
    SmallVector<Operation *> heap;
    root->walk([&](Operation *op) {
      if (isa<memref::AllocOp, memref::DeallocOp>(op))
        heap.push_back(op);
    });
    for (Operation *op : heap) {
      if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
        OpBuilder b(alloc);
        auto local = b.create<memref::AllocaOp>(alloc.getLoc(), alloc.getType(),
                                                alloc.getDynamicSizes(), alloc.getSymbolOperands(),
                                                alloc.getAlignmentAttr());
        alloc.replaceAllUsesWith(local.getResult());
      }
      op->erase();
    }
  }

  func::FuncOp kernel;
  int64_t threadsPerBlock;
  GpuFormInfo &info;
};

} // namespace

LogicalResult toGpuForm(func::FuncOp kernel, int64_t threadsPerBlock, GpuFormInfo &info) {
  if (failed(expandMaths(kernel)))
    return kernel.emitError("maths expansion for the GPU did not converge");
  return Splitter(kernel, threadsPerBlock, info).run();
}

} // namespace kiln
