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

/// Query and key tiles of a cooperative attention block whose scratch (in
/// floats: Q, K and V tiles, scores, output, three per-query statistics)
/// fits `budget` floats; 0 when even tiles of 8 do not.
int64_t attentionTile(const AttentionLayout &a, int64_t budget) {
  for (int64_t t = 64; t >= 8; t /= 2) {
    int64_t floats = t * a.d + t * a.d + t * a.dv + t * t + t * a.dv + 3 * t;
    if (floats <= budget)
      return t;
  }
  return 0;
}

/// The GPU form (flash attention): one cooperative block per tile of `tile`
/// queries of a batch. The block stages the scaled queries, then per tile of
/// keys stages K and V in block scratch, computes the scores, updates each
/// query's running max and sum (online softmax: the scores become weights)
/// and rescales and accumulates its output; no score matrix leaves the
/// block. Each pass is one step of the block's threads.
void lowerAttentionBlocks(AttentionOp o, const AttentionLayout &a, int64_t tile,
                          KernelBuilder &k) {
  OpBuilder &b = k.b;
  Location loc = k.loc;
  size_t rank = a.rank;
  int64_t tq = a.tq, d = a.d, tk = a.tk, dv = a.dv, bt = tile;
  const SmallVector<int64_t> &qs = a.qs, &ks = a.ks, &vs = a.vs, &ys = a.ys, &ms = a.ms;
  Type f32 = b.getF32Type();
  float inf = std::numeric_limits<float>::infinity();
  auto cst = [&](float v) { return k.constant(f32, v); };
  auto add = [&](Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y).getResult(); };
  auto mul = [&](Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y).getResult(); };
  auto larger = [&](Value x, Value y) {
    Value gt = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, y);
    return k.select(gt, x, y);
  };
  auto ld = [&](Value m, Value i) { return b.create<memref::LoadOp>(loc, m, i).getResult(); };
  auto st = [&](Value v, Value m, Value i) { b.create<memref::StoreOp>(loc, v, m, i); };
  auto below = [&](Value v, int64_t n) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, v, k.index(n)).getResult();
  };
  int64_t tiles = (tq + bt - 1) / bt;
  k.describe("Flash attention: blocks of " + Twine(bt) + " queries x key tiles of " + Twine(bt) +
             " through shared memory, online softmax; " + Twine(tq) + " queries, " + Twine(tk) +
             " keys, depth " + Twine(d) + ", value depth " + Twine(dv) + ".");
  k.cooperative(a.batches * tiles, 128, [&](Value p) {
    Value bi = k.div(p, tiles), q0 = k.mul(k.rem(p, tiles), bt);
    SmallVector<Value> coords = k.unravel(bi, a.lead);
    Value qo = a.offset(k, coords, qs), ko = a.offset(k, coords, ks);
    Value vo = a.offset(k, coords, vs), yo = a.offset(k, coords, ys);
    Value mo = ms.empty() ? Value() : a.offset(k, coords, ms);
    Value qt = k.local(f32, bt * d), kt = k.local(f32, bt * d), vt = k.local(f32, bt * dv);
    Value s = k.local(f32, bt * bt), acc = k.local(f32, bt * dv);
    Value mx = k.local(f32, bt), den = k.local(f32, bt), rescale = k.local(f32, bt);
    // Scaled queries (zero past the last query), a zero output, no max yet.
    k.parallel(bt * d, [&](Value e) {
      Value i = k.add(q0, k.div(e, d)), t = k.rem(e, d);
      Value at = k.select(below(i, tq), k.add(qo, k.linear({i, t}, {qs[rank - 2], qs[rank - 1]})),
                          k.index(0));
      Value v = mul(k.load(k.in(0), at), cst(o.getScale().convertToDouble()));
      st(k.select(below(i, tq), v, cst(0)), qt, e);
    });
    k.parallel(bt * dv, [&](Value e) { st(cst(0), acc, e); });
    k.parallel(bt, [&](Value i) {
      st(cst(-inf), mx, i);
      st(cst(0), den, i);
    });
    k.loop(k.index(0), k.index(tk), bt, [&](Value j0) {
      // K and V of keys j0 .. j0 + bt (zero past the last key).
      auto stage = [&](Value buffer, unsigned operand, const SmallVector<int64_t> &str,
                       Value base, int64_t depth, bool keyMajor) {
        k.parallel(bt * depth, [&](Value e) {
          Value j = k.add(j0, k.div(e, depth)), t = k.rem(e, depth);
          // Kt is stored [.., d, tk], V [.., tk, dv].
          Value at = keyMajor ? k.linear({j, t}, {str[rank - 2], str[rank - 1]})
                              : k.linear({t, j}, {str[rank - 2], str[rank - 1]});
          Value in = below(j, tk);
          Value v = k.load(k.in(operand), k.select(in, k.add(base, at), k.index(0)));
          st(k.select(in, v, cst(0)), buffer, e);
        });
      };
      stage(kt, 1, ks, ko, d, false);
      stage(vt, 2, vs, vo, dv, true);
      // Scores, masked; -inf past the last key.
      k.parallel(bt * bt, [&](Value e) {
        Value i = k.div(e, bt), jj = k.rem(e, bt), j = k.add(j0, jj);
        Value dot = k.reduce(d, cst(0), [&](Value t, Value sum) {
          return add(sum, mul(ld(qt, k.linear({i, t}, {d, 1})), ld(kt, k.linear({jj, t}, {d, 1}))));
        });
        if (mo) {
          Value qi = k.add(q0, i);
          Value inside = b.create<arith::AndIOp>(loc, below(qi, tq), below(j, tk));
          Value at = k.add(mo, k.linear({qi, j}, {ms[rank - 2], ms[rank - 1]}));
          Value m = k.load(k.in(3), k.select(inside, at, k.index(0)));
          dot = applyMask(k, o, dot, m);
        }
        st(k.select(below(j, tk), dot, cst(-inf)), s, e);
      });
      // Per query: the new max and sum; scores become weights. A tile whose
      // scores are all masked changes nothing.
      k.parallel(bt, [&](Value i) {
        Value row = k.mul(i, bt);
        Value bm = k.reduce(bt, cst(-inf), [&](Value j, Value m) {
          return larger(ld(s, k.add(row, j)), m);
        });
        Value old = ld(mx, i);
        Value masked = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, bm, cst(-inf));
        Value nm = k.select(masked, old, larger(bm, old));
        Value r = k.select(masked, cst(1), b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, old, nm)));
        Value sum = k.reduce(bt, mul(ld(den, i), r), [&](Value j, Value acc2) {
          Value w = b.create<math::ExpOp>(loc, b.create<arith::SubFOp>(loc, ld(s, k.add(row, j)), nm));
          w = k.select(masked, cst(0), w);
          st(w, s, k.add(row, j));
          return add(acc2, w);
        });
        st(nm, mx, i);
        st(sum, den, i);
        st(r, rescale, i);
      });
      // Output: rescaled, plus the weights times V.
      k.parallel(bt * dv, [&](Value e) {
        Value i = k.div(e, dv), c = k.rem(e, dv);
        Value sum = k.reduce(bt, mul(ld(acc, e), ld(rescale, i)), [&](Value j, Value acc2) {
          return add(acc2, mul(ld(s, k.linear({i, j}, {bt, 1})), ld(vt, k.linear({j, c}, {dv, 1}))));
        });
        st(sum, acc, e);
      });
    });
    k.parallel(bt * dv, [&](Value e) {
      Value i = k.div(e, dv), c = k.rem(e, dv), qi = k.add(q0, i);
      k.ifThen(below(qi, tq), [&] {
        Value total = ld(den, i);
        Value any = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, total, cst(0));
        Value v = k.select(any, b.create<arith::DivFOp>(loc, ld(acc, e), total),
                           cst(std::numeric_limits<float>::quiet_NaN()));
        k.store(v, k.out(), k.add(yo, k.linear({qi, c}, {ys[rank - 2], ys[rank - 1]})));
      });
    });
  });
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
                         b.getI64IntegerAttr(stride), UnitAttr(), IntegerAttr());
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
  // 40 KiB of block scratch on the GPU.
  int64_t tile = target.parallelLoopNests ? attentionTile(a, 10 << 10) : 0;
  if (target.vectorWidth)
    lowerAttentionTiled(o, a, target.vectorWidth, k);
  else if (tile)
    lowerAttentionBlocks(o, a, tile, k);
  else
    lowerAttentionLoops(o, a, k);
  k.kernel()->setAttr(kFlopsAttr,
                      k.b.getI64IntegerAttr(a.batches * a.tq * a.tk * (2 * a.d + 2 * a.dv + 4)));
  return k.finish();
}

} // namespace kiln
