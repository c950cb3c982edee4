//===- Contraction.cpp - Contractions on plain loops -> kernel loops ------===//
//
// The dispatch of every contraction to its lowering, and the contractions
// on plain loops: NCHW 2-D convolution (direct, per output plane), 3-D
// convolution (the generic window loop of Pooling.cpp), the transposed
// convolution (a scatter of each input pixel through the kernel into output
// planes that one task owns whole, so the scatter never races), and gemms
// and matmuls off the micro-kernel. Kernels that run on plain loops say why
// in `kiln.fallback`, which the compile report lists. The micro-kernel
// products are in TiledProduct.cpp, channels-last convolutions off it in
// ConvNhwc.cpp, attention and the recurrence in their own files.
//
//===----------------------------------------------------------------------===//

#include "codegen/MicroKernelPlan.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace kiln {
namespace {

void lowerConvTranspose(ConvTransposeOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight()),
                    y = shapeOf(o.getOutput());
  int64_t group = o.getGroup(), icg = x[1] / group, ocg = w[1];
  int64_t sh = o.getStrides()[0], sw = o.getStrides()[1];
  int64_t dh = o.getDilations()[0], dw = o.getDilations()[1];
  int64_t pt = o.getPads()[0], pl = o.getPads()[1];
  int64_t planeSize = y[2] * y[3];
  auto inRange = [&](Value v, int64_t n) {
    return b.create<arith::AndIOp>(
        k.loc, b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::sge, v, k.index(0)),
        b.create<arith::CmpIOp>(k.loc, arith::CmpIPredicate::slt, v, k.index(n)));
  };
  k.parallel(y[0] * y[1], [&](Value plane) {
    Value n = b.create<arith::DivSIOp>(k.loc, plane, k.index(y[1]));
    Value oc = b.create<arith::RemSIOp>(k.loc, plane, k.index(y[1]));
    Value g = b.create<arith::DivSIOp>(k.loc, oc, k.index(ocg));
    Value ocl = b.create<arith::RemSIOp>(k.loc, oc, k.index(ocg));
    Value dst = k.mul(plane, planeSize);
    Value init = o.getBias() ? k.load(k.in(2), oc) : k.constant(b.getF32Type(), 0);
    k.loop(planeSize, [&](Value p) { k.store(init, k.out(), k.add(dst, p)); });
    k.loop(icg, [&](Value ic) {
      Value ci = k.add(k.mul(g, icg), ic);
      Value src = k.mul(k.add(k.mul(n, x[1]), ci), x[2] * x[3]);
      Value wk = k.mul(k.add(k.mul(ci, ocg), ocl), w[2] * w[3]);
      k.loop(x[2], [&](Value ih) {
        k.loop(w[2], [&](Value kh) {
          Value oh = k.linear({ih, kh}, {sh, dh}, -pt);
          k.ifThen(inRange(oh, y[2]), [&] {
            k.loop(x[3], [&](Value iw) {
              Value v = k.load(k.in(0), k.add(src, k.linear({ih, iw}, {x[3], 1})));
              k.loop(w[3], [&](Value kw) {
                Value ow = k.linear({iw, kw}, {sw, dw}, -pl);
                k.ifThen(inRange(ow, y[3]), [&] {
                  Value at = k.add(dst, k.linear({oh, ow}, {y[3], 1}));
                  Value wv = k.load(k.in(1), k.add(wk, k.linear({kh, kw}, {w[3], 1})));
                  Value sum = b.create<arith::AddFOp>(
                      k.loc, k.load(k.out(), at), b.create<arith::MulFOp>(k.loc, v, wv));
                  k.store(sum, k.out(), at);
                });
              });
            });
          });
        });
      });
    });
  });
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * product(x) * ocg * w[2] * w[3]));
  k.kernel()->setAttr(kFallbackAttr, b.getStringAttr("transposed convolution"));
}

/// The row of a plain-loop GEMM or matmul: out[base + j], j < n, with the
/// fused epilogue (if any) run over it in tiles. `lead` are the result
/// coordinates of the row.
struct RowEpilogue {
  KernelBuilder &k;
  FusedContractionOp fused;
  int64_t tileLimit;
  int64_t ops = 0;

  LogicalResult apply(ArrayRef<Value> lead, Value base, int64_t n) {
    if (!fused)
      return success();
    int64_t tile = std::min(n, tileLimit);
    LogicalResult status = success();
    k.loop(k.index(0), k.index(n), tile, [&](Value j0) {
      Value count = k.index(tile);
      if (n % tile)
        count = k.b.create<arith::MinSIOp>(k.loc, count,
                                           k.b.create<arith::SubIOp>(k.loc, k.index(n), j0));
      if (failed(applyTile(lead, base, j0, count, tile)))
        status = failure();
    });
    return status;
  }

  /// The epilogue of the one element in column `col` of the row.
  LogicalResult applyAt(ArrayRef<Value> lead, Value base, Value col) {
    return fused ? applyTile(lead, base, col, k.index(1), 1) : success();
  }

private:
  /// Columns [j0, j0 + count) of the row, count <= tile.
  LogicalResult applyTile(ArrayRef<Value> lead, Value base, Value j0, Value count, int64_t tile) {
    Block &body = fused.getBody().front();
    Value result = body.getTerminator()->getOperand(0);
    Operation *head = fused.getContraction();
    if (result == head->getResult(0))
      return success();
    ArrayRef<int64_t> y = shapeOf(fused.getOutput());
    LogicalResult status = success();
    {
      auto coords = [&](Value j) {
        SmallVector<Value> vars(lead.begin(), lead.end());
        vars.push_back(k.add(j0, j));
        return vars;
      };
      ChainSources sources;
      for (BlockArgument arg : body.getArguments()) {
        if (shapeOf(arg).size() > y.size())
          continue;
        SmallVector<int64_t> strides = broadcastStrides(shapeOf(arg), y);
        sources[arg] = [&, arg, strides](Value j) {
          return k.load(k.in(arg.getArgNumber()), k.linear(coords(j), strides));
        };
      }
      Value row = k.out();
      sources[head->getResult(0)] = [&](Value j) { return k.load(row, k.add(base, k.add(j0, j))); };
      ops = 0;
      if (failed(emitChain(k, std::next(head->getIterator()), body.getTerminator()->getIterator(),
                           result, sources, count, tile,
                           [&](Value j, Value v) { k.store(v, row, k.add(base, k.add(j0, j))); },
                           ops)))
        status = failure();
    }
    return status;
  }
};

Value zeroOf(KernelBuilder &k, Type t) { return k.constant(t, 0); }
Value madd(KernelBuilder &k, Value acc, Value a, Value b) {
  if (isa<FloatType>(acc.getType()))
    return k.b.create<arith::AddFOp>(k.loc, acc, k.b.create<arith::MulFOp>(k.loc, a, b));
  return k.b.create<arith::AddIOp>(k.loc, acc, k.b.create<arith::MulIOp>(k.loc, a, b));
}

/// A (batched) matmul on plain loops: one task per output row, row-major
/// accumulation (a broadcast of A's element times B's row).
LogicalResult lowerMatMul(MatMulOp o, RowEpilogue &epilogue, KernelBuilder &k) {
  ArrayRef<int64_t> a = shapeOf(o.getA()), b = shapeOf(o.getB()), y = shapeOf(o.getOutput());
  int64_t m = a[a.size() - 2], kk = a.back(), n = b.back();
  SmallVector<int64_t> batch(y.drop_back(2));
  SmallVector<int64_t> aStr = broadcastStrides(a.drop_back(2), batch);
  SmallVector<int64_t> bStr = broadcastStrides(b.drop_back(2), batch);
  int64_t batches = product(batch);
  Type t = eltOf(o.getOutput());
  LogicalResult status = success();
  SmallVector<int64_t> aOff, bOff;
  for (size_t d = 0; d < batch.size(); ++d) {
    aOff.push_back(aStr[d] * m * kk);
    bOff.push_back(bStr[d] * kk * n);
  }
  if (k.parallelNests) {
    // One iteration per output element (the GPU's threads).
    k.parallel(batches * m * n, [&](Value p) {
      Value j = k.rem(p, n), rowIdx = k.div(p, n), i = k.rem(rowIdx, m);
      SmallVector<Value> bc = k.unravel(k.div(rowIdx, m), batch);
      Value aRow = k.add(k.linear(bc, aOff), k.mul(i, kk)), bCol = k.add(k.linear(bc, bOff), j);
      Value acc = k.reduce(kk, zeroOf(k, t), [&](Value c, Value s) {
        return madd(k, s, k.load(k.in(0), k.add(aRow, c)), k.load(k.in(1), k.add(bCol, k.mul(c, n))));
      });
      k.store(acc, k.out(), p);
      if (failed(epilogue.applyAt(k.unravel(rowIdx, y.drop_back()), k.mul(rowIdx, n), j)))
        status = failure();
    });
    k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batches * m * n * kk));
    return status;
  }
  k.parallel(batches * m, [&](Value p) {
    Value i = k.b.create<arith::RemSIOp>(k.loc, p, k.index(m));
    SmallVector<Value> bc = k.unravel(k.b.create<arith::DivSIOp>(k.loc, p, k.index(m)), batch);
    Value aRow = k.add(k.linear(bc, aOff), k.mul(i, kk)), bMat = k.linear(bc, bOff);
    Value row = k.mul(p, n);
    k.loop(n, [&](Value j) { k.store(zeroOf(k, t), k.out(), k.add(row, j)); });
    k.loop(kk, [&](Value c) {
      Value av = k.load(k.in(0), k.add(aRow, c));
      Value bk = k.add(bMat, k.mul(c, n));
      k.loop(n, [&](Value j) {
        Value at = k.add(row, j);
        k.store(madd(k, k.load(k.out(), at), av, k.load(k.in(1), k.add(bk, j))), k.out(), at);
      });
    });
    SmallVector<Value> lead = k.unravel(p, y.drop_back());
    if (failed(epilogue.apply(lead, row, n)))
      status = failure();
  });
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * batches * m * n * kk));
  return status;
}

/// Gemm on plain loops: alpha * op(A) * op(B) + beta * C, one task per row.
LogicalResult lowerGemm(GemmOp o, RowEpilogue &epilogue, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> a = shapeOf(o.getA()), y = shapeOf(o.getOutput());
  bool ta = o.getTransA(), tb = o.getTransB();
  int64_t m = y[0], n = y[1], kk = ta ? a[0] : a[1];
  float alpha = o.getAlpha().convertToFloat(), beta = o.getBeta().convertToFloat();
  Type f32 = b.getF32Type();
  LogicalResult status = success();
  bool scaled = alpha != 1.0f, withC = o.getC() && beta != 0.0f;
  SmallVector<int64_t> cs = withC ? broadcastStrides(shapeOf(o.getC()), y) : SmallVector<int64_t>();
  // alpha * v + beta * C[i, j].
  auto scale = [&](Value v, Value i, Value j) {
    if (scaled)
      v = b.create<arith::MulFOp>(k.loc, b.create<arith::ConstantOp>(k.loc, b.getF32FloatAttr(alpha)), v);
    if (withC) {
      Value cv = k.load(k.in(2), k.linear({i, j}, cs));
      if (beta != 1.0f)
        cv = b.create<arith::MulFOp>(k.loc, b.create<arith::ConstantOp>(k.loc, b.getF32FloatAttr(beta)), cv);
      v = b.create<arith::AddFOp>(k.loc, v, cv);
    }
    return v;
  };
  if (k.parallelNests) {
    // One iteration per output element (the GPU's threads).
    k.parallel(m * n, [&](Value p) {
      Value i = k.div(p, n), j = k.rem(p, n);
      Value acc = k.reduce(kk, zeroOf(k, f32), [&](Value c, Value s) {
        Value av = k.load(k.in(0), ta ? k.linear({c, i}, {m, 1}) : k.linear({i, c}, {kk, 1}));
        Value bv = k.load(k.in(1), tb ? k.linear({j, c}, {kk, 1}) : k.linear({c, j}, {n, 1}));
        return madd(k, s, av, bv);
      });
      k.store(scale(acc, i, j), k.out(), p);
      if (failed(epilogue.applyAt({i}, k.mul(i, n), j)))
        status = failure();
    });
    k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * m * n * kk));
    return status;
  }
  k.parallel(m, [&](Value i) {
    Value row = k.mul(i, n);
    auto aAt = [&](Value c) { return ta ? k.linear({c, i}, {m, 1}) : k.linear({i, c}, {kk, 1}); };
    if (tb) {
      // B is [N, K]: each output is a dot product of two contiguous rows.
      k.loop(n, [&](Value j) {
        Value acc = k.reduce(kk, zeroOf(k, f32), [&](Value c, Value s) {
          return madd(k, s, k.load(k.in(0), aAt(c)), k.load(k.in(1), k.linear({j, c}, {kk, 1})));
        });
        k.store(acc, k.out(), k.add(row, j));
      });
    } else {
      k.loop(n, [&](Value j) { k.store(zeroOf(k, f32), k.out(), k.add(row, j)); });
      k.loop(kk, [&](Value c) {
        Value av = k.load(k.in(0), aAt(c));
        k.loop(n, [&](Value j) {
          Value at = k.add(row, j);
          k.store(madd(k, k.load(k.out(), at), av, k.load(k.in(1), k.linear({c, j}, {n, 1}))),
                  k.out(), at);
        });
      });
    }
    if (scaled || withC) {
      k.loop(n, [&](Value j) {
        Value at = k.add(row, j);
        k.store(scale(k.load(k.out(), at), i, j), k.out(), at);
      });
    }
    if (failed(epilogue.apply({i}, row, n)))
      status = failure();
  });
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * m * n * kk));
  return status;
}

/// Gemm and float MatMul on tensor cores (the CUDA backend under --precision
/// tf32/fp16/bf16), with Gemm's scale and the fused epilogue per element.
LogicalResult lowerOnTensorCores(Operation *head, RowEpilogue &epilogue, StringRef precision,
                                 KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> y = shapeOf(head->getResult(0));
  TensorCoreProduct p;
  p.precision = precision.str();
  p.a = k.in(0);
  p.b = k.in(1);
  p.m = y[y.size() - 2];
  p.n = y.back();
  SmallVector<int64_t> batch(y.drop_back(2)), aOff, bOff;
  p.batches = product(batch);
  auto gemm = dyn_cast<GemmOp>(head);
  if (gemm) {
    p.depth = shapeOf(gemm.getA())[gemm.getTransA() ? 0 : 1];
    p.aMFastest = gemm.getTransA();
    p.bNFastest = !gemm.getTransB();
    p.aElement = [&](Value, Value r, Value c) -> std::pair<Value, Value> {
      return {p.aMFastest ? k.linear({c, r}, {p.m, 1}) : k.linear({r, c}, {p.depth, 1}), {}};
    };
    p.bElement = [&](Value, Value c, Value j) -> std::pair<Value, Value> {
      return {p.bNFastest ? k.linear({c, j}, {p.n, 1}) : k.linear({j, c}, {p.depth, 1}), {}};
    };
  } else {
    auto mm = cast<MatMulOp>(head);
    ArrayRef<int64_t> a = shapeOf(mm.getA()), bs = shapeOf(mm.getB());
    p.depth = a.back();
    SmallVector<int64_t> aStr = broadcastStrides(a.drop_back(2), batch);
    SmallVector<int64_t> bStr = broadcastStrides(bs.drop_back(2), batch);
    for (size_t d = 0; d < batch.size(); ++d) {
      aOff.push_back(aStr[d] * p.m * p.depth);
      bOff.push_back(bStr[d] * p.depth * p.n);
    }
    p.aElement = [&](Value bf, Value r, Value c) -> std::pair<Value, Value> {
      return {k.add(k.linear(k.unravel(bf, batch), aOff), k.linear({r, c}, {p.depth, 1})), {}};
    };
    p.bElement = [&](Value bf, Value c, Value j) -> std::pair<Value, Value> {
      return {k.add(k.linear(k.unravel(bf, batch), bOff), k.linear({c, j}, {p.n, 1})), {}};
    };
  }
  float alpha = gemm ? gemm.getAlpha().convertToFloat() : 1.0f;
  float beta = gemm ? gemm.getBeta().convertToFloat() : 0.0f;
  bool withC = gemm && gemm.getC() && beta != 0.0f;
  SmallVector<int64_t> cs = withC ? broadcastStrides(shapeOf(gemm.getC()), y) : SmallVector<int64_t>();
  LogicalResult status = success();
  p.store = [&](Value bf, Value i, Value j, Value v) {
    if (alpha != 1.0f)
      v = b.create<arith::MulFOp>(k.loc, k.constant(b.getF32Type(), alpha), v);
    if (withC) {
      Value cv = k.load(k.in(2), k.linear({i, j}, cs));
      if (beta != 1.0f)
        cv = b.create<arith::MulFOp>(k.loc, k.constant(b.getF32Type(), beta), cv);
      v = b.create<arith::AddFOp>(k.loc, v, cv);
    }
    Value row = k.add(k.mul(bf, p.m), i);
    k.store(v, k.out(), k.add(k.mul(row, p.n), j));
    SmallVector<Value> lead = gemm ? SmallVector<Value>{i} : k.unravel(row, y.drop_back());
    if (failed(epilogue.applyAt(lead, k.mul(row, p.n), j)))
      status = failure();
  };
  lowerTensorCoreProduct(k, p);
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * p.batches * p.m * p.n * p.depth));
  return status;
}

/// NCHW direct convolution (when the channels-last layout was not applied):
/// one task per output plane accumulating each kernel tap over the output
/// columns whose input column lies inside the image.
void lowerConvNchw(ConvOp o, KernelBuilder &k) {
  OpBuilder &b = k.b;
  ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight()),
                    y = shapeOf(o.getOutput());
  int64_t group = o.getGroup(), icg = w[1], ocg = w[0] / group;
  int64_t sh = o.getStrides()[0], sw = o.getStrides()[1];
  int64_t dh = o.getDilations()[0], dw = o.getDilations()[1];
  int64_t pt = o.getPads()[0], pl = o.getPads()[1];
  Type t = eltOf(o.getOutput());
  std::optional<int64_t> zeroPoint = o.getInputZeroPoint();
  auto cmp = [&](arith::CmpIPredicate p, Value a, Value c) {
    return b.create<arith::CmpIOp>(k.loc, p, a, c);
  };
  auto sel = [&](Value c, Value a, Value e) { return b.create<arith::SelectOp>(k.loc, c, a, e); };
  k.parallel(y[0] * y[1], [&](Value plane) {
    Value n = b.create<arith::DivSIOp>(k.loc, plane, k.index(y[1]));
    Value oc = b.create<arith::RemSIOp>(k.loc, plane, k.index(y[1]));
    Value g = b.create<arith::DivSIOp>(k.loc, oc, k.index(ocg));
    Value dst = k.mul(plane, y[2] * y[3]);
    Value init = o.getBias() ? k.load(k.in(2), oc) : zeroOf(k, t);
    k.loop(y[2] * y[3], [&](Value p) { k.store(init, k.out(), k.add(dst, p)); });
    k.loop(icg, [&](Value ic) {
      Value src = k.mul(k.add(k.add(k.mul(n, x[1]), k.mul(g, icg)), ic), x[2] * x[3]);
      Value wk = k.mul(k.add(k.mul(oc, icg), ic), w[2] * w[3]);
      k.loop(w[2], [&](Value kh) {
        k.loop(w[3], [&](Value kw) {
          Value wv = k.load(k.in(1), k.add(wk, k.linear({kh, kw}, {w[3], 1})));
          if (zeroPoint)
            wv = widenedWeight(k, wv);
          // Output columns whose input column lies inside the image.
          Value shift = k.linear({kw}, {dw}, -pl);
          Value neg = cmp(arith::CmpIPredicate::slt, shift, k.index(0));
          Value lo = sel(neg, b.create<arith::DivSIOp>(
                                  k.loc, b.create<arith::SubIOp>(k.loc, k.index(sw - 1), shift),
                                  k.index(sw)),
                         k.index(0));
          Value last = b.create<arith::SubIOp>(k.loc, k.index(x[3] - 1), shift);
          Value hi = b.create<arith::MinSIOp>(
              k.loc, k.add(b.create<arith::DivSIOp>(k.loc, last, k.index(sw)), k.index(1)),
              k.index(y[3]));
          hi = sel(cmp(arith::CmpIPredicate::slt, last, k.index(0)), k.index(0), hi);
          k.loop(y[2], [&](Value oh) {
            Value ih = k.linear({oh, kh}, {sh, dh}, -pt);
            Value inside = b.create<arith::AndIOp>(
                k.loc, cmp(arith::CmpIPredicate::sge, ih, k.index(0)),
                cmp(arith::CmpIPredicate::slt, ih, k.index(x[2])));
            k.ifThen(inside, [&] {
              Value row = k.add(k.add(src, k.mul(ih, x[3])), shift);
              Value drow = k.add(dst, k.mul(oh, y[3]));
              k.loop(lo, hi, 1, [&](Value ow) {
                Value at = k.add(drow, ow);
                Value v = k.load(k.in(0), k.add(row, k.mul(ow, sw)));
                if (zeroPoint)
                  v = centeredInput(k, v, eltOf(o.getInput()), *zeroPoint);
                k.store(madd(k, k.load(k.out(), at), wv, v), k.out(), at);
              });
            });
          });
        });
      });
    });
  });
  k.kernel()->setAttr(kFlopsAttr, b.getI64IntegerAttr(2 * product(y) * icg * w[2] * w[3]));
  k.kernel()->setAttr(kFallbackAttr,
                      b.getStringAttr("NCHW convolution (the channels-last layout was not applied)"));
}

/// A quantised matmul off the int8 micro-kernel (a target without vectors):
/// each result element sums (a - zero point) * b in int32, then goes
/// through the fused epilogue to the only store, as the tiled kernel does
/// (the result's element type is the epilogue's, not int32).
LogicalResult lowerQuantizedMatMul(MatMulOp o, FusedContractionOp fused, KernelBuilder &k) {
  ArrayRef<int64_t> a = shapeOf(o.getA()), b = shapeOf(o.getB()), y = shapeOf(o.getOutput());
  if (b.size() != 2)
    return o.emitOpError("a quantised matmul needs a 2-D b");
  int64_t m = product(a.drop_back()), kk = a.back(), n = b.back();
  Type i32 = k.b.getI32Type();
  int64_t zeroPoint = *o.getAZeroPoint(), ops = 0;
  LogicalResult status = success();
  k.parallel(m, [&](Value r) {
    auto value = [&](Value j) -> Value {
      return k.reduce(kk, k.constant(i32, 0), [&](Value c, Value s) {
        Value av = centeredInput(k, k.load(k.in(0), k.add(k.mul(r, kk), c)), eltOf(o.getA()),
                                 zeroPoint);
        Value bv = widenedWeight(k, k.load(k.in(1), k.add(k.mul(c, n), j)));
        return madd(k, s, av, bv);
      });
    };
    SmallVector<Value> lead = k.unravel(r, y.drop_back());
    auto coords = [&](Value j) {
      SmallVector<Value> c(lead);
      c.push_back(j);
      return c;
    };
    auto target = [&](Value j) { return k.add(k.mul(r, n), j); };
    if (failed(storeContractionTile(k, fused, value, coords, target, k.index(n), 1, ops)))
      status = failure();
  });
  k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(2 * m * n * kk + m * n * ops));
  return status;
}

/// Matmuls and gemms that the micro-kernel does not run (plain loops).
FailureOr<func::FuncOp> lowerPlainProduct(Operation *op, const TargetDescription &target,
                                          KernelBuilder &k) {
  auto fused = dyn_cast<FusedContractionOp>(op);
  Operation *head = fused ? fused.getContraction() : op;
  if (!isa<GemmOp, MatMulOp>(head) || (target.vectorWidth && microKernelDims(op)))
    return func::FuncOp();
  if (fused && fused.getInputScale())
    return func::FuncOp();
  if (auto mm = dyn_cast<MatMulOp>(head); mm && mm.getAZeroPoint()) {
    if (failed(lowerQuantizedMatMul(mm, fused, k)))
      return failure();
    k.kernel()->setAttr(kFallbackAttr,
                        k.b.getStringAttr("quantised matmul off the int8 micro-kernel"));
    return k.finish();
  }
  if (failed(isa<GemmOp>(head) ? requireF32(head) : requireContractionTypes(head)))
    return failure();
  // The head's operands are the fused op's first inputs, in order.
  auto operandOf = [&](Value v) {
    if (auto arg = dyn_cast<BlockArgument>(v); arg && fused)
      return fused->getOperand(arg.getArgNumber());
    return v;
  };
  RowEpilogue epilogue{k, fused, target.elementwiseTile};
  LogicalResult status = success();
  std::string reason;
  if (target.precision != "fp32" && eltOf(head->getResult(0)).isF32()) {
    status = lowerOnTensorCores(head, epilogue, target.precision, k);
  } else if (auto gemm = dyn_cast<GemmOp>(head)) {
    reason = gemm.getTransA() ? "Gemm with transA=1"
                              : fallbackReason(operandOf(gemm.getB()), op->getResult(0), target.vectorWidth);
    status = lowerGemm(gemm, epilogue, k);
  } else {
    auto mm = cast<MatMulOp>(head);
    reason = shapeOf(mm.getB()).size() != 2
                 ? "MatMul whose B is a batch of matrices"
                 : fallbackReason(operandOf(mm.getB()), op->getResult(0), target.vectorWidth);
    status = lowerMatMul(mm, epilogue, k);
  }
  if (failed(status))
    return failure();
  if (fused) {
    int64_t flops = k.kernel()->getAttrOfType<IntegerAttr>(kFlopsAttr).getInt();
    k.kernel()->setAttr(kFlopsAttr, k.b.getI64IntegerAttr(flops + numel(op->getResult(0)) *
                                                                      epilogue.ops));
  }
  if (!reason.empty())
    k.kernel()->setAttr(kFallbackAttr, k.b.getStringAttr(reason));
  return k.finish();
}

} // namespace

std::string fallbackReason(Value w, Value result, int64_t vectorWidth) {
  if (!vectorWidth)
    return "no vector target";
  if (!eltOf(w).isF32() || !eltOf(result).isF32())
    return "not float32";
  if (isa<BlockArgument>(w))
    return "its weights are a model input";
  if (!w.getDefiningOp<ConstantOp>())
    return "its weights are computed at run time";
  return "its form is not supported by the micro-kernel";
}

FailureOr<func::FuncOp> lowerContraction(Operation *op, const TargetDescription &target,
                                         KernelBuilder &k) {
  if (auto attention = dyn_cast<AttentionOp>(op))
    return lowerAttention(attention, target, k);
  if (auto recurrence = dyn_cast<RecurrenceOp>(op))
    return lowerRecurrence(recurrence, target, k);
  if (auto conv = dyn_cast<ConvOp>(op); conv && shapeOf(conv.getInput()).size() == 5) {
    if (failed(requireF32(op)))
      return failure();
    lowerWindowNd(op, shapeOf(conv.getWeight()).drop_front(2), conv.getStrides(),
                  conv.getDilations(), conv.getPads(), WindowKind::Conv, false, conv.getGroup(),
                  k);
    k.kernel()->setAttr(kFallbackAttr, k.b.getStringAttr("3-D convolution"));
    return k.finish();
  }
  if (auto conv = dyn_cast<ConvOp>(op);
      conv && !conv.getChannelsLast() && shapeOf(conv.getInput()).size() == 4) {
    if (!conv.getInputZeroPoint() && failed(requireContractionTypes(op)))
      return failure();
    lowerConvNchw(conv, k);
    return k.finish();
  }
  if (auto tiled = lowerTiledProduct(op, target, k); failed(tiled) || *tiled)
    return tiled;
  if (auto conv = lowerConvNhwc(op, target, k); failed(conv) || *conv)
    return conv;
  auto convT = dyn_cast<ConvTransposeOp>(op);
  if (!convT)
    return lowerPlainProduct(op, target, k);
  if (failed(requireF32(op)))
    return failure();
  if (shapeOf(convT.getInput()).size() != 4)
    return func::FuncOp();
  lowerConvTranspose(convT, k);
  return k.finish();
}

} // namespace kiln
