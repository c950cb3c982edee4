//===- TensorCore.cpp - Cooperative launches and kiln.mma_block on the GPU -===//
//
// Fragment layouts are those of PTX's mma.sync (m16n8k16 for fp16/bf16,
// m16n8k8 for tf32): lane l holds rows g = l / 4 and g + 8, and columns (or
// depths) from t = l % 4. The copies, conversions and the mma itself are
// inline PTX: MLIR 19's nvgpu/nvvm ops have no bf16 mma and no packed
// conversions, and its lowering of nvgpu's copy drops the zero-fill size.
//
//===----------------------------------------------------------------------===//

#include "codegen/cuda/TensorCore.h"
#include "codegen/cuda/GpuForm.h"
#include "codegen/kernel/KernelForm.h"
#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace kiln {
namespace {

constexpr int64_t kWarp = 32, kWarpTile = 32;
/// Depth of one staged tile, stages in flight, and the padding of a staged
/// row (20 floats: the lanes of a fragment read hit distinct banks).
constexpr int64_t kTileK = 16, kStages = 3, kRowPad = 4;

Attribute workgroupSpace(MLIRContext *ctx) {
  return gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
}

bool inWorkgroup(MemRefType t) {
  auto space = dyn_cast_or_null<gpu::AddressSpaceAttr>(t.getMemorySpace());
  return space && space.getValue() == gpu::AddressSpace::Workgroup;
}

/// Index arithmetic for one thread's expansion.
struct Ix {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) { return b.create<arith::ConstantIndexOp>(loc, v); }
  Value add(Value x, Value y) { return b.create<arith::AddIOp>(loc, x, y); }
  Value add(Value x, int64_t v) { return v ? add(x, c(v)) : x; }
  Value mul(Value x, int64_t v) { return b.create<arith::MulIOp>(loc, x, c(v)); }
  Value div(Value x, int64_t v) { return b.create<arith::DivUIOp>(loc, x, c(v)); }
  Value rem(Value x, int64_t v) { return b.create<arith::RemUIOp>(loc, x, c(v)); }
  Value below(Value x, int64_t v) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, c(v));
  }
  Value both(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }
};

class MmaExpansion {
public:
  MmaExpansion(MmaBlockOp op, Value tid, int64_t threads)
      : op(op), b(op), ix{b, op.getLoc()}, loc(op.getLoc()), tid(tid), threads(threads) {}

  LogicalResult run() {
    int64_t bm = op.getBlockM(), bn = op.getBlockN();
    if (threads != (bm / kWarpTile) * (bn / kWarpTile) * kWarp)
      return op.emitOpError("needs one warp per 32 x 32 tile: ")
             << (bm / kWarpTile) * (bn / kWarpTile) * kWarp << " threads, not " << threads;
    if ((bm * kTileK) % threads || (bn * kTileK) % threads)
      return op.emitOpError("block tile does not split evenly across its threads");
    MLIRContext *ctx = b.getContext();
    f32 = b.getF32Type();
    i32 = b.getI32Type();
    auto staged = [&](int64_t rows) {
      return b.create<memref::AllocaOp>(
          loc, MemRefType::get({kStages, rows, kTileK + kRowPad}, f32, nullptr,
                               workgroupSpace(ctx)));
    };
    aStage = staged(bm);
    bStage = staged(bn);
    Value lane = ix.rem(tid, kWarp), warp = ix.div(tid, kWarp);
    g = ix.div(lane, 4);
    t = ix.rem(lane, 4);
    int64_t warpsN = bn / kWarpTile;
    rowBase = ix.mul(ix.div(warp, warpsN), kWarpTile);
    colBase = ix.mul(ix.rem(warp, warpsN), kWarpTile);

    int64_t tiles = (op.getK() + kTileK - 1) / kTileK;
    // Prologue: the first kStages - 1 tiles in flight, one group each.
    for (int64_t s = 0; s + 1 < kStages; ++s) {
      if (s < tiles)
        issue(ix.c(s), ix.c(s));
      b.create<NVVM::CpAsyncCommitGroupOp>(loc);
    }
    SmallVector<Value> zeros(accumulators(), b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(0)));
    auto loop = b.create<scf::ForOp>(loc, ix.c(0), ix.c(tiles), ix.c(1), zeros);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      Value kt = loop.getInductionVar();
      // Tile kt has landed once at most kStages - 2 later groups are pending;
      // the barrier also ends every warp's reads of the stage refilled next.
      b.create<NVVM::CpAsyncWaitGroupOp>(loc, kStages - 2);
      b.create<gpu::BarrierOp>(loc);
      Value next = ix.add(kt, kStages - 1);
      auto more = b.create<scf::IfOp>(loc, ix.below(next, tiles));
      {
        OpBuilder::InsertionGuard inner(b);
        b.setInsertionPoint(more.thenBlock()->getTerminator());
        issue(next, ix.rem(next, kStages));
      }
      b.create<NVVM::CpAsyncCommitGroupOp>(loc);
      SmallVector<Value> acc(loop.getRegionIterArgs().begin(), loop.getRegionIterArgs().end());
      compute(ix.rem(kt, kStages), acc);
      b.create<scf::YieldOp>(loc, acc);
    }
    b.create<NVVM::CpAsyncWaitGroupOp>(loc, 0);
    storeAccumulators(loop.getResults());
    op.erase();
    return success();
  }

private:
  int64_t mmaK() { return op.getPrecision() == "tf32" ? 8 : 16; }
  static int64_t tilesM() { return kWarpTile / 16; }
  static int64_t tilesN() { return kWarpTile / 8; }
  static int64_t accumulators() { return tilesM() * tilesN() * 4; }

  /// (index, exists) of an operand element: the op's region inlined.
  std::pair<Value, Value> element(Region &r, Value row, Value col) {
    Block &body = r.front();
    IRMapping map;
    map.map(body.getArgument(0), row);
    map.map(body.getArgument(1), col);
    for (Operation &o : body.without_terminator())
      b.clone(o, map);
    auto at = cast<ElementAtOp>(body.getTerminator());
    return {map.lookupOrDefault(at.getIndex()), map.lookupOrDefault(at.getExists())};
  }

  /// cp.async of tile `kt` of A and B into `stage`: 4 bytes per element,
  /// zero-filled (source size 0) outside the product or where an element
  /// does not exist. Inline PTX: MLIR 19's lowering of nvgpu's copy drops
  /// the source size.
  void issue(Value kt, Value stage) {
    Value k0 = ix.mul(kt, kTileK);
    auto address = [&](Value buffer) {
      return b.create<memref::ExtractAlignedPointerAsIndexOp>(loc, buffer).getResult();
    };
    auto i64 = [&](Value v) { return b.create<arith::IndexCastOp>(loc, b.getI64Type(), v); };
    auto copy = [&](Value src, Value dst, Region &region, int64_t rows, int64_t limit,
                    Value origin, bool rowFastest, bool rowFirst) {
      Value srcBase = address(src), dstBase = address(dst);
      Value four = b.create<arith::ConstantIntOp>(loc, 4, 32);
      Value none = b.create<arith::ConstantIntOp>(loc, 0, 32);
      for (int64_t i = 0; i < rows * kTileK / threads; ++i) {
        Value e = ix.add(tid, i * threads);
        Value r = rowFastest ? ix.rem(e, rows) : ix.div(e, kTileK);
        Value d = rowFastest ? ix.div(e, rows) : ix.rem(e, kTileK);
        Value gr = ix.add(origin, r), gd = ix.add(k0, d);
        Value inside = ix.both(ix.below(gr, limit), ix.below(gd, op.getK()));
        auto [index, exists] = rowFirst ? element(region, gr, gd) : element(region, gd, gr);
        Value ok = ix.both(inside, exists);
        Value from = b.create<arith::SelectOp>(loc, ok, index, ix.c(0));
        Value bytes = b.create<arith::SelectOp>(loc, ok, four, none);
        Value slot = ix.add(ix.mul(ix.add(ix.mul(stage, rows), r), kTileK + kRowPad), d);
        Value to = ix.add(dstBase, ix.mul(slot, 4)), at = ix.add(srcBase, ix.mul(from, 4));
        b.create<LLVM::InlineAsmOp>(
            loc, TypeRange{}, ValueRange{i64(to), i64(at), bytes},
            "{ .reg .u64 g; cvta.to.global.u64 g, $1; "
            "cp.async.ca.shared.global [$0], [g], 4, $2; }",
            "l,l,r", /*has_side_effects=*/true, /*is_align_stack=*/false, LLVM::AsmDialectAttr(),
            ArrayAttr());
      }
    };
    copy(op.getA(), aStage, op.getAElement(), op.getBlockM(), op.getM(), op.getM0(),
         op.getAMFastest(), true);
    copy(op.getB(), bStage, op.getBElement(), op.getBlockN(), op.getN(), op.getN0(),
         op.getBNFastest(), false);
  }

  Value asm1(Type result, ValueRange operands, StringRef text, StringRef constraints,
             bool sideEffects = false) {
    return b
        .create<LLVM::InlineAsmOp>(loc, result, operands, text, constraints, sideEffects,
                                   /*is_align_stack=*/false, LLVM::AsmDialectAttr(), ArrayAttr())
        .getResult(0);
  }

  Value staged(Value buffer, Value stage, Value row, Value depth) {
    return b.create<memref::LoadOp>(loc, buffer, ValueRange{stage, row, depth});
  }

  /// One operand register: two elements (lo at depth d, hi at d + 1) packed
  /// as fp16x2 or bf16x2, or one tf32.
  Value reg(Value buffer, Value stage, Value row, Value depth) {
    StringRef p = op.getPrecision();
    Value lo = staged(buffer, stage, row, depth);
    if (p == "tf32")
      return asm1(i32, {lo}, "cvt.rna.tf32.f32 $0, $1;", "=r,f");
    Value hi = staged(buffer, stage, row, ix.add(depth, 1));
    // cvt.rn.{f16x2,bf16x2}.f32 d, a, b puts a in the upper half of d.
    return asm1(i32, {hi, lo},
                p == "fp16" ? "cvt.rn.f16x2.f32 $0, $1, $2;" : "cvt.rn.bf16x2.f32 $0, $1, $2;",
                "=r,f,f");
  }

  void compute(Value stage, SmallVector<Value> &acc) {
    StringRef p = op.getPrecision();
    int64_t k = mmaK();
    // tf32 registers hold one element (depths t and t + 4); 16-bit ones two
    // (depths 2t, 2t + 1 and 2t + 8, 2t + 9).
    int64_t step = p == "tf32" ? 4 : 8;
    Value depth0 = p == "tf32" ? t : ix.mul(t, 2);
    std::string shape = p == "tf32" ? "m16n8k8" : "m16n8k16";
    std::string type = p == "tf32" ? "tf32" : p == "fp16" ? "f16" : "bf16";
    std::string text = "mma.sync.aligned." + shape + ".row.col.f32." + type + "." + type +
                       ".f32 {$0,$1,$2,$3}, {$4,$5,$6,$7}, {$8,$9}, {$10,$11,$12,$13};";
    auto quad = LLVM::LLVMStructType::getLiteral(b.getContext(), {f32, f32, f32, f32});
    for (int64_t ks = 0; ks < kTileK; ks += k) {
      Value d0 = ix.add(depth0, ks), d1 = ix.add(depth0, ks + step);
      SmallVector<std::array<Value, 4>> a;
      for (int64_t mt = 0; mt < tilesM(); ++mt) {
        Value r = ix.add(ix.add(rowBase, g), mt * 16), r8 = ix.add(r, 8);
        a.push_back({reg(aStage, stage, r, d0), reg(aStage, stage, r8, d0),
                     reg(aStage, stage, r, d1), reg(aStage, stage, r8, d1)});
      }
      for (int64_t nt = 0; nt < tilesN(); ++nt) {
        Value col = ix.add(ix.add(colBase, g), nt * 8);
        Value b0 = reg(bStage, stage, col, d0), b1 = reg(bStage, stage, col, d1);
        for (int64_t mt = 0; mt < tilesM(); ++mt) {
          int64_t at = (mt * tilesN() + nt) * 4;
          SmallVector<Value> operands(a[mt].begin(), a[mt].end());
          operands.append({b0, b1});
          operands.append(acc.begin() + at, acc.begin() + at + 4);
          // Side effects keep the warp-wide instruction where all lanes run it.
          Value d = asm1(quad, operands, text, "=f,=f,=f,=f,r,r,r,r,r,r,f,f,f,f", true);
          for (int64_t q = 0; q < 4; ++q)
            acc[at + q] = b.create<LLVM::ExtractValueOp>(loc, d, q);
        }
      }
    }
  }

  void storeAccumulators(ValueRange acc) {
    int64_t bn = op.getBlockN();
    Value c0 = ix.mul(t, 2);
    for (int64_t mt = 0; mt < tilesM(); ++mt)
      for (int64_t nt = 0; nt < tilesN(); ++nt) {
        Value r = ix.add(ix.add(rowBase, g), mt * 16);
        Value c = ix.add(ix.add(colBase, c0), nt * 8);
        int64_t at = (mt * tilesN() + nt) * 4;
        for (int64_t q = 0; q < 4; ++q) {
          Value row = q < 2 ? r : ix.add(r, 8);
          Value flat = ix.add(ix.add(ix.mul(row, bn), c), q % 2);
          b.create<memref::StoreOp>(loc, acc[at + q], op.getAcc(), flat);
        }
      }
  }

  MmaBlockOp op;
  OpBuilder b;
  Ix ix;
  Location loc;
  Value tid;
  int64_t threads;
  Type f32, i32;
  Value aStage, bStage, g, t, rowBase, colBase;
};

/// Block-level work between barriers only reads block scratch (every thread
/// runs it); a barrier that follows another with no step between orders
/// nothing, nor, in the launch's body (`top`), one with no step before it or
/// after it. In a loop body those order the iterations.
void dropRedundantBarriers(Block *body, bool top) {
  auto orders = [](Operation *op) {
    return !isa<memref::AllocaOp>(op) && !isMemoryEffectFree(op);
  };
  Operation *last = nullptr; // the last op that orders anything, or barrier
  SmallVector<Operation *> redundant;
  for (Operation &op : body->without_terminator()) {
    if (isa<gpu::BarrierOp>(op)) {
      if ((!last && top) || (last && isa<gpu::BarrierOp>(last)))
        redundant.push_back(&op);
      else
        last = &op;
    } else if (orders(&op)) {
      last = &op;
    }
  }
  if (top && last && isa<gpu::BarrierOp>(last) && !llvm::is_contained(redundant, last))
    redundant.push_back(last);
  for (Operation *op : redundant)
    op->erase();
}

bool hasStep(Operation *op) {
  bool found = false;
  op->walk([&](Operation *inner) {
    if (isa<MmaBlockOp, scf::ParallelOp>(inner))
      found = true;
  });
  return found;
}

/// The steps in `body` (the launch's, `top`, or a block-level loop's), run
/// by thread `tid` of `threads`.
LogicalResult mapSteps(Block *body, bool top, Value tid, int64_t threads) {
  Location loc = body->getParentOp()->getLoc();
  OpBuilder b(body->getParentOp()->getContext());
  for (Operation &op : llvm::make_early_inc_range(body->without_terminator())) {
    if (auto alloca = dyn_cast<memref::AllocaOp>(op); alloca && top) {
      MemRefType t = alloca.getType();
      alloca.getResult().setType(MemRefType::get(t.getShape(), t.getElementType(), t.getLayout(),
                                                 workgroupSpace(b.getContext())));
      continue;
    }
    if (auto loop = dyn_cast<scf::ForOp>(op); loop && hasStep(loop)) {
      // Every thread runs the same iterations: its barriers are uniform.
      if (failed(mapSteps(loop.getBody(), false, tid, threads)))
        return failure();
      continue;
    }
    if (!isa<MmaBlockOp, scf::ParallelOp>(op)) {
      if (hasStep(&op))
        return op.emitOpError("holds a step of a cooperative launch that not every thread "
                              "reaches");
      continue;
    }
    // A barrier on each side of a step: what it writes to block scratch is
    // read after it, and what was read before it may be overwritten.
    b.setInsertionPoint(&op);
    b.create<gpu::BarrierOp>(loc);
    b.setInsertionPointAfter(&op);
    b.create<gpu::BarrierOp>(loc);
    if (auto mma = dyn_cast<MmaBlockOp>(op)) {
      if (failed(MmaExpansion(mma, tid, threads).run()))
        return failure();
      continue;
    }
    // A thread loop: iterations lb + s * tid, lb + s * (tid + T), ...
    auto par = cast<scf::ParallelOp>(op);
    if (par.getNumLoops() != 1)
      return par.emitOpError("in a cooperative launch must be one-dimensional");
    b.setInsertionPoint(par);
    Value cT = b.create<arith::ConstantIndexOp>(loc, threads);
    Value from = b.create<arith::AddIOp>(
        loc, par.getLowerBound()[0], b.create<arith::MulIOp>(loc, par.getStep()[0], tid));
    Value step = b.create<arith::MulIOp>(loc, par.getStep()[0], cT);
    auto loop = b.create<scf::ForOp>(loc, from, par.getUpperBound()[0], step);
    IRMapping map;
    map.map(par.getInductionVars()[0], loop.getInductionVar());
    b.setInsertionPoint(loop.getBody()->getTerminator());
    for (Operation &inside : par.getBody()->without_terminator())
      b.clone(inside, map);
    par.erase();
    serializeNestedParallels(loop);
  }
  dropRedundantBarriers(body, top);
  return success();
}

LogicalResult mapLaunch(scf::ParallelOp grid) {
  int64_t threads = grid->getAttrOfType<IntegerAttr>(kCooperativeAttr).getInt();
  Location loc = grid.getLoc();
  Block *body = grid.getBody();
  OpBuilder b = OpBuilder::atBlockBegin(body);
  Value c0 = b.create<arith::ConstantIndexOp>(loc, 0);
  Value c1 = b.create<arith::ConstantIndexOp>(loc, 1);
  Value cT = b.create<arith::ConstantIndexOp>(loc, threads);
  auto block = b.create<scf::ParallelOp>(loc, ValueRange{c0}, ValueRange{cT}, ValueRange{c1});
  Block *inner = block.getBody();
  for (Operation &op : llvm::make_early_inc_range(*body))
    if (&op != block && &op != body->getTerminator() && !op.isBeforeInBlock(block))
      op.moveBefore(inner->getTerminator());
  if (failed(mapSteps(inner, true, block.getInductionVars()[0], threads)))
    return failure();
  grid->removeAttr(kCooperativeAttr);
  return success();
}

} // namespace

LogicalResult mapCooperativeLaunches(ModuleOp module) {
  SmallVector<scf::ParallelOp> grids;
  module.walk([&](scf::ParallelOp p) {
    if (p->hasAttr(kCooperativeAttr))
      grids.push_back(p);
  });
  for (scf::ParallelOp grid : grids)
    if (failed(mapLaunch(grid)))
      return failure();
  return success();
}

void moveScratchToWorkgroup(gpu::GPUFuncOp kernel) {
  SmallVector<memref::AllocaOp> scratch;
  kernel.walk([&](memref::AllocaOp a) {
    if (inWorkgroup(a.getType()))
      scratch.push_back(a);
  });
  for (memref::AllocaOp a : scratch) {
    BlockArgument shared = kernel.addWorkgroupAttribution(a.getType(), a.getLoc());
    // 16 bytes: fragment reads are vector loads of up to four floats.
    kernel.setWorkgroupAttributionAttr(kernel.getNumWorkgroupAttributions() - 1,
                                       LLVM::LLVMDialect::getAlignAttrName(),
                                       IntegerAttr::get(IntegerType::get(kernel.getContext(), 64), 16));
    a.replaceAllUsesWith(shared);
    a.erase();
  }
}

} // namespace kiln
