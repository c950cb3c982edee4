//===- TensorCoreProduct.cpp - Products as block tiles on tensor cores ----===//
//
// The CUDA backend's form of a product under --precision tf32/fp16/bf16:
// one cooperative GPU block (kCooperativeAttr) per 64 x 64 tile of each
// batch's m x n result. The block computes the tile with kiln.mma_block into
// block scratch, then its threads store each element through the caller's
// epilogue. Gemm, MatMul and channels-last convolution (as an implicit GEMM)
// differ only in where their operand elements are (the regions built here
// from the callbacks) and in the store.
//
//===----------------------------------------------------------------------===//

#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace kiln {

void lowerTensorCoreProduct(KernelBuilder &k, const TensorCoreProduct &p) {
  OpBuilder &b = k.b;
  constexpr int64_t bm = 64, bn = 64, warpTile = 32, warpSize = 32;
  int64_t tilesM = (p.m + bm - 1) / bm, tilesN = (p.n + bn - 1) / bn;
  int64_t threads = (bm / warpTile) * (bn / warpTile) * warpSize;
  k.cooperative(p.batches * tilesM * tilesN, threads, [&](Value t) {
    Value tile = k.rem(t, tilesM * tilesN), batch = k.div(t, tilesM * tilesN);
    Value m0 = k.mul(k.div(tile, tilesN), bm), n0 = k.mul(k.rem(tile, tilesN), bn);
    Value acc = k.local(b.getF32Type(), bm * bn);
    auto mma = b.create<MmaBlockOp>(k.loc, p.a, p.b, acc, m0, n0, p.m, p.n, p.depth, bm, bn,
                                    p.precision, p.aMFastest, p.bNFastest);
    auto region = [&](Region &r, auto element) {
      OpBuilder::InsertionGuard guard(b);
      Block *body = b.createBlock(&r, {}, {b.getIndexType(), b.getIndexType()}, {k.loc, k.loc});
      auto [index, exists] = element(batch, body->getArgument(0), body->getArgument(1));
      if (!exists)
        exists = b.create<arith::ConstantOp>(k.loc, b.getBoolAttr(true));
      b.create<ElementAtOp>(k.loc, index, exists);
    };
    region(mma.getAElement(), p.aElement);
    region(mma.getBElement(), p.bElement);
    k.parallel(bm * bn, [&](Value e) {
      Value i = k.add(m0, k.div(e, bn)), j = k.add(n0, k.rem(e, bn));
      Value inside = b.create<arith::AndIOp>(k.loc, k.inRange(i, p.m), k.inRange(j, p.n));
      k.ifThen(inside, [&] { p.store(batch, i, j, k.load(acc, e)); });
    });
  });
}

} // namespace kiln
