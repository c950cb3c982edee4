//===- Attention.cpp - Scaled dot-product attention -> kernel loops -------===//
//
// The plain form of kiln.attention (the semantics every backend shares):
// one parallel task per query row; keys in blocks; per block the scores
// q·k (scaled), the mask, and an online softmax that rescales the running
// sum and output when the block raises the maximum. A block whose scores are
// all masked changes nothing; a fully masked row gives NaN, as the unfused
// softmax does. Float32 attention on a vector target keeps its tiled
// micro-kernel form in the backend printer for now.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

using namespace mlir;

namespace kiln {

FailureOr<func::FuncOp> lowerAttention(AttentionOp o, const TargetDescription &target,
                                       KernelBuilder &k) {
  for (Value v : {o.getQ(), o.getKt(), o.getV()})
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return o.emitOpError("is only supported on float32 tensors");
  if (target.vectorWidth)
    return func::FuncOp(); // the tiled kernel of the backend printer
  OpBuilder &b = k.b;
  Location loc = k.loc;
  SmallVector<int64_t> q = o.qShape(), kt = o.ktShape(), vsh = o.vShape();
  size_t rank = q.size();
  SmallVector<int64_t> lead(q.begin(), q.end() - 2);
  int64_t batches = product(lead), tq = q[rank - 2], d = q[rank - 1], tk = kt[rank - 1],
          dv = vsh[rank - 1];
  // Strides of each logical dimension in the stored operands.
  auto strides = [](Value stored, std::optional<ArrayRef<int64_t>> perm) {
    return permutedStrides(shapeOf(stored), perm);
  };
  SmallVector<int64_t> qs = strides(o.getQ(), o.getQPerm()), ks = strides(o.getKt(), o.getKtPerm()),
                       vs = strides(o.getV(), o.getVPerm());
  SmallVector<int64_t> ys = contiguousStrides(shapeOf(o.getOutput()));
  if (auto perm = o.getOutPerm()) {
    SmallVector<int64_t> stored = ys;
    for (auto [i, p] : llvm::enumerate(*perm))
      ys[p] = stored[i];
  }
  SmallVector<int64_t> ms;
  if (Value m = o.getMask()) {
    SmallVector<int64_t> scores(lead);
    scores.push_back(tq);
    scores.push_back(tk);
    ms = broadcastStrides(shapeOf(m), scores);
  }
  int64_t block = std::min<int64_t>(64, tk);
  StringRef kind = o.getMaskKind();
  Type f32 = b.getF32Type();
  float inf = std::numeric_limits<float>::infinity();
  auto cst = [&](float v) { return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(v)).getResult(); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y).getResult(); };
  auto arr = [&](int64_t n) {
    return b.create<memref::AllocaOp>(loc, MemRefType::get({n}, f32)).getResult();
  };
  auto ld = [&](Value a, Value i) { return b.create<memref::LoadOp>(loc, a, i).getResult(); };
  auto st = [&](Value v, Value a, Value i) { b.create<memref::StoreOp>(loc, v, a, i); };

  k.parallel(batches * tq, [&](Value p) {
    Value bi = b.create<arith::DivSIOp>(loc, p, k.index(tq));
    Value i = b.create<arith::RemSIOp>(loc, p, k.index(tq));
    // The batch coordinates, and each operand's offset for them.
    SmallVector<Value> coords = k.unravel(bi, lead);
    auto offset = [&](ArrayRef<int64_t> s) { return k.linear(coords, s.take_front(lead.size())); };
    Value qo = k.add(offset(qs), k.mul(i, qs[rank - 2])), ko = offset(ks), vo = offset(vs);
    Value yo = k.add(offset(ys), k.mul(i, ys[rank - 2]));
    Value mrow = ms.empty() ? Value() : k.add(offset(ms), k.mul(i, ms[rank - 2]));
    Value qv = arr(d), s = arr(block), acc = arr(dv);
    k.loop(d, [&](Value t) {
      st(mul(k.load(k.in(0), k.add(qo, k.mul(t, qs[rank - 1]))),
             cst(o.getScale().convertToDouble())),
         qv, t);
    });
    k.loop(dv, [&](Value e) { st(cst(0), acc, e); });
    auto blocks = b.create<scf::ForOp>(loc, k.index(0), k.index(tk), k.index(block),
                                       ValueRange{cst(-inf), cst(0)});
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(blocks.getBody());
      Value j0 = blocks.getInductionVar();
      Value mx = blocks.getRegionIterArgs()[0], den = blocks.getRegionIterArgs()[1];
      Value n = tk % block ? b.create<arith::MinSIOp>(
                                 loc, k.index(block), b.create<arith::SubIOp>(loc, k.index(tk), j0))
                                 .getResult()
                           : k.index(block);
      // Scores of the block.
      k.loop(k.index(0), n, 1, [&](Value j) {
        Value key = k.add(ko, k.mul(k.add(j0, j), ks[rank - 1]));
        Value dot = k.reduce(d, cst(0), [&](Value t, Value sum) {
          return add(sum, mul(ld(qv, t), k.load(k.in(1), k.add(key, k.mul(t, ks[rank - 2])))));
        });
        if (mrow) {
          Value m = k.load(k.in(3), k.add(mrow, k.mul(k.add(j0, j), ms[rank - 1])));
          if (kind == "add") {
            dot = add(dot, m);
          } else {
            Value fill = cst(o.getFill().convertToDouble());
            dot = kind == "keep" ? b.create<arith::SelectOp>(loc, m, dot, fill).getResult()
                                 : b.create<arith::SelectOp>(loc, m, fill, dot).getResult();
          }
        }
        st(dot, s, j);
      });
      Value bm = k.reduce(k.index(0), n, cst(-inf), [&](Value j, Value m) {
        Value v = ld(s, j);
        Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, m);
        return b.create<arith::SelectOp>(loc, gt, v, m).getResult();
      });
      // A block whose scores are all masked changes nothing.
      Value masked = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, bm, cst(-inf));
      auto update = b.create<scf::IfOp>(loc, TypeRange{f32, f32}, masked, /*withElse=*/true);
      b.setInsertionPointToStart(update.thenBlock());
      b.create<scf::YieldOp>(loc, ValueRange{mx, den});
      b.setInsertionPointToStart(update.elseBlock());
      Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, bm, mx);
      Value nm = b.create<arith::SelectOp>(loc, gt, bm, mx);
      Value rescale = b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, mx, nm));
      k.loop(dv, [&](Value e) { st(mul(ld(acc, e), rescale), acc, e); });
      Value sum = k.reduce(k.index(0), n, mul(den, rescale), [&](Value j, Value dsum) {
        Value w = b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, ld(s, j), nm));
        Value vr = k.add(vo, k.mul(k.add(j0, j), vs[rank - 2]));
        k.loop(dv, [&](Value e) {
          st(add(ld(acc, e), mul(w, k.load(k.in(2), k.add(vr, k.mul(e, vs[rank - 1]))))), acc, e);
        });
        return add(dsum, w);
      });
      b.create<scf::YieldOp>(loc, ValueRange{nm, sum});
      b.setInsertionPointAfter(update);
      b.create<scf::YieldOp>(loc, update.getResults());
    }
    Value den = blocks.getResult(1);
    Value inv = b.create<arith::DivFOp>(loc, cst(1), den);
    Value any = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, den, cst(0));
    k.loop(dv, [&](Value e) {
      Value v = b.create<arith::SelectOp>(loc, any, mul(ld(acc, e), inv),
                                          cst(std::numeric_limits<float>::quiet_NaN()));
      k.store(v, k.out(), k.add(yo, k.mul(e, ys[rank - 1])));
    });
  });
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(batches * tq * tk * (2 * d + 2 * dv + 4)));
  k.kernel()->setAttr(kFallbackAttr,
                      b.getStringAttr("attention that is not float32 or has no vector target"));
  return k.finish();
}

} // namespace kiln
