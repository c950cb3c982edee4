//===- Attention.cpp - Scaled dot-product attention -> kernel loops -------===//
//
// Two forms of kiln.attention, sharing the layout of the operands:
//   - plain loops (the semantics every backend shares): one parallel task
//     per query row; keys in blocks; per block the scores q·k (scaled), the
//     mask, and an online softmax that rescales the running sum and output
//     when the block raises the maximum;
//   - on the micro-kernel (float32 on a vector target): a task is a block of
//     queries, the vector dimension. Per block of keys, the scores
//     S^T = K·Q^T come from kiln.gemm_tile over key rows against the scaled
//     Q^T; the online softmax runs across the block's rows with one lane per
//     query; and the output A^T (value depth x queries) gains V^T·P^T from
//     kiln.gemm_tile over value columns against the block of P^T.
// A block whose scores are all masked changes nothing; a fully masked row
// gives NaN, as the unfused softmax does. The summation order depends only
// on the shapes.
//
//===----------------------------------------------------------------------===//

#include "codegen/MicroKernelPlan.h"
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

namespace {

/// Sizes of an attention op and the strides of each logical dimension in
/// its stored operands (which may be stored untransposed; see q_perm and
/// friends); the mask's broadcast dimensions have stride 0.
struct AttentionLayout {
  size_t rank = 0;
  SmallVector<int64_t> lead, qs, ks, vs, ys, ms;
  int64_t batches = 0, tq = 0, d = 0, tk = 0, dv = 0;

  explicit AttentionLayout(AttentionOp o) {
    SmallVector<int64_t> q = o.qShape(), kt = o.ktShape(), v = o.vShape();
    rank = q.size();
    lead.assign(q.begin(), q.end() - 2);
    batches = product(lead);
    tq = q[rank - 2], d = q[rank - 1], tk = kt[rank - 1], dv = v[rank - 1];
    qs = permutedStrides(shapeOf(o.getQ()), o.getQPerm());
    ks = permutedStrides(shapeOf(o.getKt()), o.getKtPerm());
    vs = permutedStrides(shapeOf(o.getV()), o.getVPerm());
    ys = contiguousStrides(shapeOf(o.getOutput()));
    if (auto perm = o.getOutPerm()) {
      SmallVector<int64_t> stored = ys;
      for (auto [i, p] : llvm::enumerate(*perm))
        ys[p] = stored[i];
    }
    if (Value m = o.getMask()) {
      SmallVector<int64_t> scores(lead);
      scores.push_back(tq);
      scores.push_back(tk);
      ms = broadcastStrides(shapeOf(m), scores);
    }
  }

  /// The offset of batch coordinates `coords` along strides `s`.
  Value offset(KernelBuilder &k, ArrayRef<Value> coords, ArrayRef<int64_t> s) const {
    return k.linear(coords, s.take_front(lead.size()));
  }
};

/// `score` with the mask element `m` applied: added, or the fill where the
/// mask drops the key (or does not keep it).
Value applyMask(KernelBuilder &k, AttentionOp o, Value score, Value m) {
  StringRef kind = o.getMaskKind();
  if (kind == "add")
    return k.b.create<arith::AddFOp>(k.loc, score, m);
  Value fill = k.constant(k.b.getF32Type(), o.getFill().convertToDouble());
  return kind == "keep" ? k.select(m, score, fill) : k.select(m, fill, score);
}

/// The plain form: one task per query row.
void lowerAttentionLoops(AttentionOp o, const AttentionLayout &a, KernelBuilder &k) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  size_t rank = a.rank;
  int64_t tq = a.tq, d = a.d, tk = a.tk, dv = a.dv;
  const SmallVector<int64_t> &qs = a.qs, &ks = a.ks, &vs = a.vs, &ys = a.ys, &ms = a.ms;
  int64_t block = std::min<int64_t>(64, tk);
  Type f32 = b.getF32Type();
  float inf = std::numeric_limits<float>::infinity();
  auto cst = [&](float v) { return k.constant(f32, v); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y).getResult(); };
  auto ld = [&](Value m, Value i) { return b.create<memref::LoadOp>(loc, m, i).getResult(); };
  auto st = [&](Value v, Value m, Value i) { b.create<memref::StoreOp>(loc, v, m, i); };

  k.parallel(a.batches * tq, [&](Value p) {
    Value bi = k.div(p, tq), i = k.rem(p, tq);
    // The batch coordinates, and each operand's offset for them.
    SmallVector<Value> coords = k.unravel(bi, a.lead);
    Value qo = k.add(a.offset(k, coords, qs), k.mul(i, qs[rank - 2]));
    Value ko = a.offset(k, coords, ks), vo = a.offset(k, coords, vs);
    Value yo = k.add(a.offset(k, coords, ys), k.mul(i, ys[rank - 2]));
    Value mrow = ms.empty() ? Value() : k.add(a.offset(k, coords, ms), k.mul(i, ms[rank - 2]));
    Value qv = k.local(f32, d), s = k.local(f32, block), acc = k.local(f32, dv);
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
      Value n = tk % block ? k.min(k.sub(k.index(tk), j0), block) : k.index(block);
      // Scores of the block.
      k.loop(k.index(0), n, 1, [&](Value j) {
        Value key = k.add(ko, k.mul(k.add(j0, j), ks[rank - 1]));
        Value dot = k.reduce(d, cst(0), [&](Value t, Value sum) {
          return add(sum, mul(ld(qv, t), k.load(k.in(1), k.add(key, k.mul(t, ks[rank - 2])))));
        });
        if (mrow)
          dot = applyMask(k, o, dot,
                          k.load(k.in(3), k.add(mrow, k.mul(k.add(j0, j), ms[rank - 1]))));
        st(dot, s, j);
      });
      Value bm = k.reduce(k.index(0), n, cst(-inf), [&](Value j, Value m) {
        Value v = ld(s, j);
        Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, v, m);
        return k.select(gt, v, m);
      });
      // A block whose scores are all masked changes nothing.
      Value masked = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, bm, cst(-inf));
      auto update = b.create<scf::IfOp>(loc, TypeRange{f32, f32}, masked, /*withElse=*/true);
      b.setInsertionPointToStart(update.thenBlock());
      b.create<scf::YieldOp>(loc, ValueRange{mx, den});
      b.setInsertionPointToStart(update.elseBlock());
      Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, bm, mx);
      Value nm = k.select(gt, bm, mx);
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
      Value v = k.select(any, mul(ld(acc, e), inv), cst(std::numeric_limits<float>::quiet_NaN()));
      k.store(v, k.out(), k.add(yo, k.mul(e, ys[rank - 1])));
    });
  });
  k.kernel()->setAttr(kFallbackAttr,
                      b.getStringAttr("attention that is not float32 or has no vector target"));
}

/// On the micro-kernel: tiles of MR rows (keys, or value columns) by NV
/// vectors of W queries.
void lowerAttentionTiled(AttentionOp o, const AttentionLayout &a, int64_t w,
                         KernelBuilder &k) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  size_t rank = a.rank;
  int64_t tq = a.tq, d = a.d, tk = a.tk, dv = a.dv;
  const SmallVector<int64_t> &qs = a.qs, &ks = a.ks, &vs = a.vs, &ys = a.ys, &ms = a.ms;
  int64_t nv = tq >= 2 * w ? 2 : 1, mr = maxTileRows(w, nv);
  int64_t qb = nv * w, kb = mr * std::max<int64_t>(1, 64 / mr);
  int64_t qblocks = (tq + qb - 1) / qb, dvr = (dv + mr - 1) / mr * mr;
  Type f32 = b.getF32Type();
  float inf = std::numeric_limits<float>::infinity();
  auto cst = [&](float v) { return k.constant(f32, v); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y).getResult(); };
  auto sub = [&](Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y).getResult(); };
  k.describe("Scaled dot-product attention: " + Twine(a.batches) + " x " + Twine(tq) +
             " queries, " + Twine(tk) + " keys, depth " + Twine(d) + ", value depth " +
             Twine(dv) + ", mask " + o.getMaskKind() + "; blocks of " + Twine(qb) +
             " queries x " + Twine(kb) + " keys on the micro-kernel.");
  auto isNegInf = [&](Value x) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, x, cst(-inf)).getResult();
  };
  auto ld = [&](Value m, Value i) { return b.create<memref::LoadOp>(loc, m, i).getResult(); };
  auto st = [&](Value v, Value m, Value i) { b.create<memref::StoreOp>(loc, v, m, i); };
  // Element (row, u) of a [rows][qb] local array.
  auto at = [&](Value row, Value u) { return k.linear({row, u}, {qb, 1}); };
  auto gemmTile = [&](Value src, Value rows, Value block, Value acc, Value depth, int64_t stride) {
    b.create<GemmTileOp>(loc, src, rows, Value(), Value(), block, k.index(0), acc, depth,
                         b.getI64IntegerAttr(w), b.getI64IntegerAttr(mr),
                         b.getI64IntegerAttr(nv), b.getI64IntegerAttr(1),
                         b.getI64IntegerAttr(stride), UnitAttr());
  };

  k.parallel(a.batches * qblocks, [&](Value task) {
    Value qp = k.local(f32, d * qb, 64);   // Q^T, scaled
    Value pt = k.local(f32, kb * qb, 64);  // S^T, then P^T
    Value acc = k.local(f32, dvr * qb, 64); // A^T
    Value part = k.local(f32, mr * qb, 64);
    Value mx = k.local(f32, qb, 64), den = k.local(f32, qb, 64);
    Value rescale = k.local(f32, qb, 64), bm = k.local(f32, qb, 64);
    Value rows = k.local(b.getIndexType(), mr);
    Value bi = k.div(task, qblocks), i0 = k.mul(k.rem(task, qblocks), qb);
    Value nq = k.min(k.sub(k.index(tq), i0), qb);
    SmallVector<Value> coords = k.unravel(bi, a.lead);
    Value qo = a.offset(k, coords, qs), ko = a.offset(k, coords, ks);
    Value vo = a.offset(k, coords, vs), yo = a.offset(k, coords, ys);
    Value mrow = ms.empty() ? Value() : a.offset(k, coords, ms);
    Value scale = cst(o.getScale().convertToDouble());
    k.loop(d, [&](Value t) {
      k.loop(qb, [&](Value u) {
        // Queries past the end read the last one (no load leaves Q) and
        // count as zero.
        Value query = k.min(k.add(i0, u), tq - 1);
        Value q = k.load(k.in(0), k.add(qo, k.linear({query, t}, {qs[rank - 2], qs[rank - 1]})));
        Value valid = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, u, nq);
        st(k.select(valid, mul(q, scale), cst(0)), qp, at(t, u));
      });
    });
    k.loop(qb, [&](Value u) {
      st(cst(-inf), mx, u);
      st(cst(0), den, u);
    });
    k.loop(dv * qb, [&](Value e) { st(cst(0), acc, e); });
    k.loop(k.index(0), k.index(tk), kb, [&](Value j0) {
      Value n = tk % kb ? k.min(k.sub(k.index(tk), j0), kb) : k.index(kb);
      // S^T: key rows (a short tile repeats the last key) against Q^T.
      k.loop(k.index(0), n, mr, [&](Value jt) {
        k.loop(mr, [&](Value p) {
          Value last = k.sub(n, k.index(1));
          Value key = k.add(j0, b.create<arith::MinSIOp>(loc, k.add(jt, p), last));
          st(k.add(ko, k.mul(key, ks[rank - 1])), rows, p);
        });
        gemmTile(k.in(1), rows, qp, k.view(pt, k.mul(jt, qb), mr * qb), k.index(d),
                 ks[rank - 2]);
      });
      if (mrow) {
        k.loop(k.index(0), n, 1, [&](Value j) {
          k.loop(k.index(0), nq, 1, [&](Value u) {
            Value m = k.load(k.in(3), k.add(mrow, k.linear({k.add(i0, u), k.add(j0, j)},
                                                           {ms[rank - 2], ms[rank - 1]})));
            st(applyMask(k, o, ld(pt, at(j, u)), m), pt, at(j, u));
          });
        });
      }
      // Online softmax, one lane per query; rows masked so far stay at zero.
      k.loop(qb, [&](Value u) { st(ld(mx, u), bm, u); });
      k.loop(k.index(0), n, 1, [&](Value j) {
        k.loop(qb, [&](Value u) {
          Value s = ld(pt, at(j, u)), m = ld(bm, u);
          Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, s, m);
          st(k.select(gt, s, m), bm, u);
        });
      });
      k.loop(qb, [&](Value u) {
        Value m = ld(bm, u), old = ld(mx, u);
        Value r = k.select(isNegInf(m), cst(1), b.create<math::ExpOp>(loc, sub(old, m)));
        st(r, rescale, u);
        st(m, mx, u);
        st(mul(ld(den, u), r), den, u);
      });
      k.loop(k.index(0), n, 1, [&](Value j) {
        k.loop(qb, [&](Value u) {
          Value m = ld(mx, u);
          Value e = k.select(isNegInf(m), cst(0),
                             b.create<math::ExpOp>(loc, sub(ld(pt, at(j, u)), m)));
          st(e, pt, at(j, u));
          st(add(ld(den, u), e), den, u);
        });
      });
      // A^T = A^T * rescale + V^T P^T: value columns (a short tile repeats
      // the last).
      k.loop(k.index(0), k.index(dv), mr, [&](Value e0) {
        k.loop(mr, [&](Value p) {
          Value e = k.min(k.add(e0, p), dv - 1);
          st(k.add(vo, k.linear({j0, e}, {vs[rank - 2], vs[rank - 1]})), rows, p);
        });
        gemmTile(k.in(2), rows, pt, part, n, vs[rank - 2]);
        Value ne = k.min(k.sub(k.index(dv), e0), mr);
        k.loop(k.index(0), ne, 1, [&](Value p) {
          k.loop(qb, [&](Value u) {
            Value slot = at(k.add(e0, p), u);
            st(add(mul(ld(acc, slot), ld(rescale, u)), ld(part, at(p, u))), acc, slot);
          });
        });
      });
    });
    // A fully masked row divides 0 by 0: NaN, as the unfused softmax gives.
    k.loop(k.index(0), nq, 1, [&](Value u) {
      Value total = ld(den, u);
      Value inv = b.create<arith::DivFOp>(loc, cst(1), total);
      Value any = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, total, cst(0));
      Value y = k.add(yo, k.mul(k.add(i0, u), ys[rank - 2]));
      k.loop(dv, [&](Value e) {
        Value v = k.select(any, mul(ld(acc, at(e, u)), inv),
                           cst(std::numeric_limits<float>::quiet_NaN()));
        k.store(v, k.out(), k.add(y, k.mul(e, ys[rank - 1])));
      });
    });
  });
}

} // namespace

FailureOr<func::FuncOp> lowerAttention(AttentionOp o, const TargetDescription &target,
                                       KernelBuilder &k) {
  for (Value v : {o.getQ(), o.getKt(), o.getV()})
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return o.emitOpError("is only supported on float32 tensors");
  AttentionLayout a(o);
  if (target.vectorWidth)
    lowerAttentionTiled(o, a, target.vectorWidth, k);
  else
    lowerAttentionLoops(o, a, k);
  k.kernel()->setAttr(kFlopsAttr,
                      k.b.getI64IntegerAttr(a.batches * a.tq * a.tk * (2 * a.d + 2 * a.dv + 4)));
  return k.finish();
}

} // namespace kiln
