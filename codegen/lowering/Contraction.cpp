//===- Contraction.cpp - Contractions on plain loops -> kernel loops ------===//
//
// The contractions that have no tiled kernel yet: 3-D convolution (the
// generic window loop of Pooling.cpp) and the transposed convolution, as a
// scatter of each input pixel through the kernel into
// output planes that one task owns whole (so the scatter never races).
// Kernels that run on plain loops say why in `kiln.fallback`, which the
// compile report lists. Convolutions, GEMMs, matmuls, attention and
// recurrences still go through the backend printer (see
// docs/architecture.md).
//
//===----------------------------------------------------------------------===//

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

} // namespace

FailureOr<func::FuncOp> lowerContraction(Operation *op, const TargetDescription &,
                                         KernelBuilder &k) {
  if (auto conv = dyn_cast<ConvOp>(op); conv && shapeOf(conv.getInput()).size() == 5) {
    for (Value v : op->getOperands())
      if (!getElementTypeOrSelf(v.getType()).isF32())
        return op->emitOpError("is only supported on float32 tensors");
    lowerWindowNd(op, shapeOf(conv.getWeight()).drop_front(2), conv.getStrides(),
                  conv.getDilations(), conv.getPads(), WindowKind::Conv, false, conv.getGroup(),
                  k);
    k.kernel()->setAttr(kFallbackAttr, k.b.getStringAttr("3-D convolution"));
    return k.finish();
  }
  auto convT = dyn_cast<ConvTransposeOp>(op);
  if (!convT)
    return func::FuncOp();
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return op->emitOpError("is only supported on float32 tensors");
  if (shapeOf(convT.getInput()).size() != 4)
    return func::FuncOp();
  lowerConvTranspose(convT, k);
  return k.finish();
}

} // namespace kiln
