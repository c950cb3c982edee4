//===- GraphOpPrinter.cpp - Graph ops -> C++ (families not yet lowered) ---===//
//
// The CPU printers of the kernels that do not go through the kernel form yet:
// those on the register-blocked micro-kernel (channels-last convolutions,
// tiled and depthwise; gemms and matmuls with packed weights; tiled
// attention) and their fused epilogues. Each prints one op into a kernel body
// over parameters named in0.., out0..; the elementwise maths of the
// epilogues comes from the kernel form through elementwiseCpp. They move to
// codegen/lowering/ on kiln.gemm_tile (the recurrence already has); see
// docs/architecture.md.
//
//===----------------------------------------------------------------------===//

#include "codegen/cpu/GraphOpPrinter.h"
#include "codegen/MicroKernelPlan.h"
#include "codegen/cpu/CppText.h"
#include "codegen/cpu/KernelPrinter.h"
#include "codegen/lowering/IndexMaps.h"
#include "codegen/lowering/Lowering.h"

#include "dialects/Kiln/KilnOps.h"
#include "dialects/Kiln/PointwiseFns.h"
#include "kiln/runtime/Weights.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <sstream>

using namespace mlir;

namespace kiln {
namespace {

//===----------------------------------------------------------------------===//
// Text helpers
//===----------------------------------------------------------------------===//


std::string offsetExpr(ArrayRef<std::string> vars, ArrayRef<int64_t> strides,
                       int64_t base = 0) {
  std::string e;
  for (size_t i = 0; i < vars.size(); ++i) {
    if (strides[i] == 0)
      continue;
    std::string term = strides[i] == 1 ? vars[i] : vars[i] + " * " + str(strides[i]);
    e += e.empty() ? term : " + " + term;
  }
  if (base)
    e += e.empty() ? str(base) : " + " + str(base);
  return e.empty() ? "0" : e;
}



//===----------------------------------------------------------------------===//
// Kernel bodies
//===----------------------------------------------------------------------===//


class KernelPrinter {
public:
  /// `vectorWidth`: floats per vector of the target's micro-kernel, 0 for
  /// none (contractions then use plain loops).
  KernelPrinter(Operation *op, KernelBody &k, int64_t vectorWidth)
      : op(op), k(k), c(k.code), vectorWidth(vectorWidth) {}

  LogicalResult print() {
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case<ConvOp>([&](auto o) { return printConv(o); })
        .Case<GemmOp>([&](auto o) { return printGemm(o); })
        .Case<MatMulOp>([&](auto o) { return printMatMul(o); })
        .Case<AttentionOp>([&](auto o) { return printAttention(o); })
        .Case<FusedContractionOp>([&](auto o) { return printFusedContraction(o); })
        .Default([&](Operation *o) {
          return o->emitOpError("has no C++ code generator");
        });
  }

private:
  /// Set while printing the head of a fused contraction (see storeTile).
  FusedContractionOp fusedWith;
  int64_t epilogueOps = 0;

  std::string in(unsigned i) { return "in" + str(i); }
  std::string out(unsigned i = 0) { return "out" + str(i); }

  /// Why a contraction with weights `w` is not on the micro-kernel.
  std::string contractionFallback(Value w) {
    if (auto arg = dyn_cast<BlockArgument>(w); arg && fusedWith)
      w = fusedWith->getOperand(arg.getArgNumber());
    return fallbackReason(w, op->getResult(0), vectorWidth);
  }
  std::string type(Value v) { return *cType(eltOf(v)); }
  bool isFloat(Value v) { return isa<FloatType>(eltOf(v)); }
  /// Half-precision elementwise math runs in float and rounds on store, as
  /// numpy's float16 ufuncs do.
  bool isHalf(Value v) { return eltOf(v).isF16(); }
  std::string computeType(Value v) { return isHalf(v) ? "float" : type(v); }
  std::string load(Value v, const std::string &e) {
    return isHalf(v) ? "static_cast<float>(" + e + ")" : e;
  }
  std::string store(Value v, const std::string &e) {
    return isHalf(v) ? "static_cast<_Float16>(" + e + ")" : e;
  }

  /// Emits the elementwise ops [first, end) of a fused body for `count`
  /// elements (index `j`, at most `tile`): each op is a loop filling a local
  /// array, and the op producing `result` writes `target` instead. `names`
  /// gives the element expressions (in terms of j) of the values available on
  /// entry. Adds the ops per element to `opsPerElement`.
  LogicalResult emitChain(Block::iterator first, Block::iterator end, Value result,
                          llvm::DenseMap<Value, std::string> &names, const std::string &count,
                          int64_t tile, const std::string &target, int64_t &opsPerElement) {
    int local = 0;
    for (Operation &inner : llvm::make_range(first, end)) {
      SmallVector<std::string> args;
      for (Value v : inner.getOperands())
        args.push_back(names.lookup(v));
      auto scalar = elementwiseCpp(&inner, args);
      if (failed(scalar))
        return failure();
      ++opsPerElement;
      bool last = inner.getResult(0) == result;
      if (!last)
        c.line("float t" + str(local) + "[" + str(tile) + "];");
      c.open("for (int64_t j = 0; j < " + count + "; ++j)");
      for (const std::string &statement : scalar->statements)
        c.line(statement);
      c.line((last ? target : "t" + str(local) + "[j]") + " = " + scalar->value + ";");
      c.close();
      if (!last)
        names[inner.getResult(0)] = "t" + str(local++) + "[j]";
    }
    return success();
  }

  /// Contractions (matmul, conv) also run on float64 and on int32/int64,
  /// which the integer quantised ops lower to; all operands share the type.
  LogicalResult requireContractionTypes(Operation *o) {
    Type t = eltOf(o->getResult(0));
    bool ok = t.isF32() || t.isF64() || t.isSignlessInteger(32) || t.isSignlessInteger(64) ||
              t.isSignedInteger(32) || t.isSignedInteger(64);
    for (Value v : o->getOperands())
      ok &= eltOf(v) == t;
    if (!ok)
      return o->emitOpError("is only supported on float32, float64, int32 and int64 "
                            "tensors of one element type");
    return success();
  }

  LogicalResult requireF32(Operation *o) {
    for (Value v : o->getOperands())
      if (!eltOf(v).isF32())
        return o->emitOpError("is only supported on float32 tensors");
    return success();
  }

  /// Channels-last 2-D convolutions (NCHW and 3-D ones are lowered to the
  /// kernel form, codegen/lowering/Contraction.cpp).
  LogicalResult printConv(ConvOp o) {
    if (o.getChannelsLast())
      return printConvNhwc(o);
    return o.emitOpError("has no tiled kernel and no lowering");
  }

  /// Channels-last convolution: NHWC input, HWIO weight, NHWC result. A task
  /// computes one output row for a block of up to 64 output channels, 8
  /// pixels at a time; each weight row (all output channels of one tap and
  /// input channel) is contiguous and reused across the 8 pixels. Depthwise
  /// convolutions run along the channels of a pixel instead.
  LogicalResult printConvNhwc(ConvOp o) {
    if (failed(requireF32(o)))
      return failure();
    if (auto dims = microKernelDims(op); dims && vectorWidth)
      return printTiled(o, *dims);
    ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight()),
                      y = shapeOf(o.getOutput());
    int64_t h = x[1], wd = x[2], ch = x[3], kh = w[0], kw = w[1], icg = w[2], oc = w[3];
    int64_t oh = y[1], ow = y[2], group = o.getGroup(), ocg = oc / group;
    int64_t sh = o.getStrides()[0], sw = o.getStrides()[1];
    int64_t dh = o.getDilations()[0], dw = o.getDilations()[1];
    int64_t pt = o.getPads()[0], pl = o.getPads()[1];
    std::string init = o.getBias() ? "in2[oc0 + j]" : "0.0f";
    // A fused squeeze-and-excitation prologue scales each input channel as it
    // is read: `scale` points at the image's channel scales.
    Value inputScale = fusedWith ? fusedWith.getInputScale() : Value();
    std::string scaleRow;
    if (inputScale) {
      unsigned arg = cast<BlockArgument>(inputScale).getArgNumber();
      scaleRow = in(arg) + (shapeOf(inputScale)[0] == 1 ? "" : " + n * " + str(ch));
    }
    k.usesPool = true;
    k.flops = 2 * product(y) * icg * kh * kw;
    auto taps = [&]() {
      c.open("for (int64_t kh = 0; kh < " + str(kh) + "; ++kh)");
      c.line("const int64_t ih = oh * " + str(sh) + " + kh * " + str(dh) + " - " + str(pt) + ";");
      c.line("if (ih < 0 || ih >= " + str(h) + ") continue;");
      c.open("for (int64_t kw = 0; kw < " + str(kw) + "; ++kw)");
    };
    if (icg == 1 && ocg == 1 && vectorWidth && !inputScale)
      if (auto tile = chooseDepthwiseTile(ch, vectorWidth))
        return printDepthwiseTiled(o, *tile);
    if (icg != 1 || ocg != 1)
      k.fallback = contractionFallback(o.getWeight());
    if (icg == 1 && ocg == 1) {
      // Channel blocks of a size that divides the channels, so every loop
      // over a block has a constant trip count and vectorises without a
      // remainder loop. Blocks are long: each tap's bounds checks and
      // pointers are paid once per block, and the accumulators stay in L1.
      int64_t block = 0;
      for (int64_t b = std::min<int64_t>(ch, 512); b >= 64 && !block; --b)
        if (ch % b == 0)
          block = b;
      bool exact = block != 0;
      if (!exact)
        block = std::min<int64_t>(ch, 256);
      c.line("// NHWC depthwise convolution: " + str(ch) + " channels, kernel " + str(kh) + "x" +
             str(kw) + ", stride " + str(sh) + "x" + str(sw) + ", blocks of " + str(block) +
             " channels.");
      c.open("pool.parallelFor(" + str(y[0] * oh) + ", [&](int64_t begin, int64_t end)");
      c.open("for (int64_t row = begin; row < end; ++row)");
      c.line("const int64_t n = row / " + str(oh) + ", oh = row % " + str(oh) + ";");
      c.line("(void)n;");
      c.open("for (int64_t oc0 = 0; oc0 < " + str(ch) + "; oc0 += " + str(block) + ")");
      c.line(exact ? "constexpr int64_t nb = " + str(block) + ";"
                   : "const int64_t nb = " + str(ch) + " - oc0 < " + str(block) + " ? " +
                         str(ch) + " - oc0 : " + str(block) + ";");
      c.open("for (int64_t ow = 0; ow < " + str(ow) + "; ++ow)");
      c.line("float acc[" + str(block) + "];");
      c.open("for (int64_t j = 0; j < nb; ++j)");
      c.line("acc[j] = " + init + ";");
      c.close();
      taps();
      c.line("const int64_t iw = ow * " + str(sw) + " + kw * " + str(dw) + " - " + str(pl) + ";");
      c.line("if (iw < 0 || iw >= " + str(wd) + ") continue;");
      c.line("const float *__restrict src = in0 + ((n * " + str(h) + " + ih) * " + str(wd) +
             " + iw) * " + str(ch) + " + oc0;");
      c.line("const float *__restrict wr = in1 + (kh * " + str(kw) + " + kw) * " + str(ch) +
             " + oc0;");
      if (inputScale)
        c.line("const float *__restrict sc = " + scaleRow + " + oc0;");
      c.open("for (int64_t j = 0; j < nb; ++j)");
      c.line(inputScale ? "acc[j] += src[j] * sc[j] * wr[j];" : "acc[j] += src[j] * wr[j];");
      c.close();
      c.close();
      c.close();
      if (failed(storeTile({"n", "oh", "ow", "(oc0 + j)"}, "acc[j]", "nb", block,
                           "out0[(row * " + str(ow) + " + ow) * " + str(ch) + " + oc0 + j]")))
        return failure();
      c.close();
      c.close();
      c.close();
      c.close(");");
      return success();
    }
    constexpr int64_t kPixels = 8;
    int64_t block = std::min<int64_t>(ocg, 64), blocks = (ocg + block - 1) / block;
    c.line("// NHWC direct convolution: " + str(ch) + " -> " + str(oc) + " channels, kernel " +
           str(kh) + "x" + str(kw) + ", stride " + str(sh) + "x" + str(sw) + ", group " +
           str(group) + ".");
    c.open("pool.parallelFor(" + str(y[0] * oh * group * blocks) +
           ", [&](int64_t begin, int64_t end)");
    c.open("for (int64_t task = begin; task < end; ++task)");
    c.line("const int64_t row = task / " + str(group * blocks) + ", g = task / " + str(blocks) +
           " % " + str(group) + ";");
    c.line("const int64_t oc0 = g * " + str(ocg) + " + task % " + str(blocks) + " * " +
           str(block) + ";");
    c.line("const int64_t nb = " + str(ocg) + " - (oc0 - g * " + str(ocg) + ") < " + str(block) +
           " ? " + str(ocg) + " - (oc0 - g * " + str(ocg) + ") : " + str(block) + ";");
    c.line("const int64_t n = row / " + str(oh) + ", oh = row % " + str(oh) + ";");
    c.line("(void)n;");
    c.open("for (int64_t ow0 = 0; ow0 < " + str(ow) + "; ow0 += " + str(kPixels) + ")");
    c.line("const int64_t pw = " + str(ow) + " - ow0 < " + str(kPixels) + " ? " + str(ow) +
           " - ow0 : " + str(kPixels) + ";");
    c.line("float acc[" + str(kPixels) + "][" + str(block) + "];");
    c.open("for (int64_t p = 0; p < pw; ++p)");
    c.open("for (int64_t j = 0; j < nb; ++j)");
    c.line("acc[p][j] = " + init + ";");
    c.close();
    c.close();
    taps();
    c.line("const float *src[" + str(kPixels) + "];");
    c.open("for (int64_t p = 0; p < pw; ++p)");
    c.line("const int64_t iw = (ow0 + p) * " + str(sw) + " + kw * " + str(dw) + " - " +
           str(pl) + ";");
    c.line("src[p] = iw >= 0 && iw < " + str(wd) + " ? in0 + ((n * " + str(h) + " + ih) * " +
           str(wd) + " + iw) * " + str(ch) + " + g * " + str(icg) + " : nullptr;");
    c.close();
    c.line("const float *__restrict wt = in1 + (kh * " + str(kw) + " + kw) * " +
           str(icg * oc) + " + oc0;");
    if (inputScale)
      c.line("const float *__restrict sc = " + scaleRow + " + g * " + str(icg) + ";");
    c.open("for (int64_t ic = 0; ic < " + str(icg) + "; ++ic)");
    c.line("const float *__restrict wr = wt + ic * " + str(oc) + ";");
    c.open("for (int64_t p = 0; p < pw; ++p)");
    c.line("if (!src[p]) continue;");
    c.line(inputScale ? "const float xv = src[p][ic] * sc[ic];" : "const float xv = src[p][ic];");
    c.line("float *__restrict a = acc[p];");
    c.open("for (int64_t j = 0; j < nb; ++j)");
    c.line("a[j] += xv * wr[j];");
    c.close();
    c.close();
    c.close();
    c.close();
    c.close();
    c.open("for (int64_t p = 0; p < pw; ++p)");
    if (failed(storeTile({"n", "oh", "(ow0 + p)", "(oc0 + j)"}, "acc[p][j]", "nb", block,
                         "out0[(row * " + str(ow) + " + ow0 + p) * " + str(oc) + " + oc0 + j]")))
      return failure();
    c.close();
    c.close();
    c.close();
    c.close(");");
    return success();
  }

  /// Depthwise NHWC convolution on kiln::mk::depthwiseTile. A task is one
  /// output row and one block of `t.channels()` channels. Columns whose taps
  /// all lie inside the input run in register tiles of `t.pixels` pixels
  /// (a shorter tile takes the rest); the few edge columns that read
  /// padding run one pixel at a time. Every tile goes through the bias and
  /// fused epilogue to the only store.
  LogicalResult printDepthwiseTiled(ConvOp o, const DepthwiseTile &t) {
    ArrayRef<int64_t> x = shapeOf(o.getInput()), w = shapeOf(o.getWeight()),
                      y = shapeOf(o.getOutput());
    int64_t h = x[1], wd = x[2], ch = x[3], kh = w[0], kw = w[1], oh = y[1], ow = y[2];
    int64_t sh = o.getStrides()[0], sw = o.getStrides()[1];
    int64_t dh = o.getDilations()[0], dw = o.getDilations()[1];
    int64_t pt = o.getPads()[0], pl = o.getPads()[1];
    int64_t cb = t.channels(), chunks = ch / cb;
    // Interior columns [lo, hi): all taps inside the input row.
    int64_t lo = std::min((pl + sw - 1) / sw, ow);
    int64_t last = wd - 1 + pl - (kw - 1) * dw;
    int64_t hi = last < 0 ? lo : std::clamp(last / sw + 1, lo, ow);
    int64_t full = (hi - lo) / t.pixels, rest = (hi - lo) % t.pixels;
    k.usesPool = true;
    k.usesMicroKernel = true;
    k.flops = 2 * product(y) * kh * kw;
    c.line("// NHWC depthwise convolution: " + str(ch) + " channels, kernel " + str(kh) + "x" +
           str(kw) + ", stride " + str(sh) + "x" + str(sw) + "; tiles of " + str(t.pixels) +
           " pixels x " + str(cb) + " channels over columns [" + str(lo) + ", " + str(hi) +
           "), the " + str(ow - (hi - lo)) + " edge columns one pixel at a time.");
    c.open("pool.parallelFor(" + str(y[0] * oh * chunks) + ", [&](int64_t begin, int64_t end)");
    c.open("for (int64_t task = begin; task < end; ++task)");
    c.line("const int64_t row = task / " + str(chunks) + ", c0 = task % " + str(chunks) + " * " +
           str(cb) + ";");
    c.line("const int64_t n = row / " + str(oh) + ", oh = row % " + str(oh) + ";");
    c.line("(void)n;");
    c.line("// Input rows of the taps, null where a row is padding.");
    c.line("const float *rows[" + str(kh) + "];");
    c.open("for (int64_t kh = 0; kh < " + str(kh) + "; ++kh)");
    c.line("const int64_t ih = oh * " + str(sh) + " + kh * " + str(dh) + " - " + str(pt) + ";");
    c.line("rows[kh] = ih >= 0 && ih < " + str(h) + " ? in0 + (n * " + str(h) + " + ih) * " +
           str(wd * ch) + " : nullptr;");
    c.close();
    c.line("alignas(64) float acc[" + str(std::max<int64_t>(t.pixels, 1)) + "][" + str(cb) +
           "];");
    // Emitted at each use rather than as a lambda of the generated code:
    // through a lambda's by-reference captures the compiler cannot rule out
    // that the stores alias the indices, and the epilogue stays scalar.
    auto store = [&](const std::string &ow0, int64_t count) {
      c.open("for (int64_t p = 0; p < " + str(count) + "; ++p)");
      c.line("const int64_t ow = " + ow0 + " + p;");
      LogicalResult stored =
          storeTile({"n", "oh", "ow", "(c0 + j)"}, "acc[p][j]", str(cb), cb,
                    "out0[(row * " + str(ow) + " + ow) * " + str(ch) + " + c0 + j]");
      c.close();
      return stored;
    };
    std::string bias = o.getBias() ? "in2 + c0" : "nullptr";
    // A tile of `pixels` pixels from column `ow0` over the taps [kw0, kw1).
    auto tiles = [&](const std::string &ow0, int64_t pixels, int64_t kw0,
                     int64_t kw1) -> LogicalResult {
      c.line("const float *r[" + str(kh) + "];");
      c.open("for (int64_t kh = 0; kh < " + str(kh) + "; ++kh)");
      int64_t shift = kw0 * dw - pl;
      c.line("r[kh] = rows[kh] ? rows[kh] + (" + ow0 + " * " + str(sw) +
             (shift < 0 ? " - " : " + ") + str(std::abs(shift)) + ") * " + str(ch) +
             " + c0 : nullptr;");
      c.close();
      std::string range = kw0 == 0 && kw1 == kw ? "" : ", " + str(kw0) + ", " + str(kw1);
      c.line("kiln::mk::depthwiseTile<" + str(t.w) + ", " + str(pixels) + ", " + str(t.nv) +
             ", " + str(kh) + ", " + str(kw) + ", " + str(sw) + ", " + str(dw) + ", " + str(ch) +
             range + ">(r, in1 + c0, " + bias + ", &acc[0][0]);");
      return store(ow0, pixels);
    };
    if (full) {
      c.open("for (int64_t ow0 = " + str(lo) + "; ow0 < " + str(lo + full * t.pixels) +
             "; ow0 += " + str(t.pixels) + ")");
      if (failed(tiles("ow0", t.pixels, 0, kw)))
        return failure();
      c.close();
    }
    if (rest && failed(tiles(str(lo + full * t.pixels), rest, 0, kw)))
      return failure();
    // Edge columns, each over the taps that read inside the row.
    for (int64_t col = 0; col < ow; ++col) {
      if (col >= lo && col < hi)
        continue;
      int64_t kw0 = kw, kw1 = 0;
      for (int64_t tap = 0; tap < kw; ++tap) {
        int64_t iw = col * sw + tap * dw - pl;
        if (iw >= 0 && iw < wd) {
          kw0 = std::min(kw0, tap);
          kw1 = tap + 1;
        }
      }
      c.open("");
      if (failed(tiles(str(col), 1, std::min(kw0, kw1), kw1)))
        return failure();
      c.close();
    }
    c.close();
    c.close(");");
    return success();
  }

  /// A conv, gemm or matmul on the register-blocked micro-kernel
  /// (kiln/runtime/MicroKernel.h) with weights packed at compile time
  /// (MicroKernelPlan.h). A task is one tile of `mr` rows (output pixels or
  /// matrix rows) by `nb` outputs; tasks run block-major, so a thread's
  /// consecutive tiles reuse the same packed weights from cache. A short last
  /// tile repeats its last row and a conv's padding reads a zero row, so the
  /// micro-kernel never branches; the tile's valid part then goes through
  /// the bias, scaling and fused epilogue to the only store.
  LogicalResult printTiled(Operation *head, const GemmDims &d) {
    TileShape t = chooseTile(d, vectorWidth);
    int64_t nb = t.nb(), blocks = (d.n + nb - 1) / nb, tiles = (d.m + t.mr - 1) / t.mr;
    k.usesPool = true;
    k.usesMicroKernel = true;
    k.flops = 2 * d.m * d.n * d.k * d.taps * d.groups;
    auto conv = dyn_cast<ConvOp>(head);
    std::string tileName = str(t.mr) + " rows x " + str(nb) + " outputs";
    if (conv) {
      ArrayRef<int64_t> x = shapeOf(conv.getInput()), w = shapeOf(conv.getWeight());
      c.line("// NHWC convolution as implicit GEMM: " + str(x[3]) + " -> " + str(w[3]) +
             " channels, kernel " + str(w[0]) + "x" + str(w[1]) + ", stride " +
             str(conv.getStrides()[0]) + "x" + str(conv.getStrides()[1]) + ", group " +
             str(d.groups) + "; tiles of " + tileName + ".");
      c.line("alignas(64) static const float kZeros[" + str(d.k) + "] = {};");
    } else {
      c.line("// GEMM " + str(d.m) + " x " + str(d.n) + " x " + str(d.k) +
             " with packed constant B; tiles of " + tileName + ".");
    }
    // A task runs all output blocks of its rows (row pointers set up once)
    // or one tile, block-major, so that a thread's consecutive tiles share
    // one block of weights; see MicroKernelPlan.h.
    bool blocksInside = allBlocksPerTask(d, t);
    std::string tasks = str(d.groups * (blocksInside ? 1 : blocks) * tiles);
    c.open("pool.parallelFor(" + tasks + ", [&](int64_t begin, int64_t end)");
    c.open("for (int64_t task = begin; task < end; ++task)");
    if (blocksInside) {
      c.line("const int64_t m0 = task % " + str(tiles) + " * " + str(t.mr) + ", g = task / " +
             str(tiles) + ";");
    } else {
      c.line("const int64_t m0 = task % " + str(tiles) + " * " + str(t.mr) + ", blk = task / " +
             str(tiles) + " % " + str(blocks) + ", g = task / " + str(tiles * blocks) + ";");
      c.line("const int64_t col0 = blk * " + str(nb) + ";");
    }
    c.line("(void)g;");
    c.line("const float *rows[" + str(d.taps * t.mr) + "];");
    if (d.rowTaps)
      c.line("alignas(64) float edgeRows[" + str(d.taps * t.mr) + "][" + str(d.k) + "];");
    c.open("for (int64_t p = 0; p < " + str(t.mr) + "; ++p)");
    c.line("const int64_t r = m0 + p < " + str(d.m) + " ? m0 + p : " + str(d.m - 1) + ";");
    std::function<void(const std::string &)> pixel;
    if (conv) {
      ArrayRef<int64_t> x = shapeOf(conv.getInput()), w = shapeOf(conv.getWeight()),
                        y = shapeOf(conv.getOutput());
      int64_t sh = conv.getStrides()[0], sw = conv.getStrides()[1];
      int64_t dh = conv.getDilations()[0], dw = conv.getDilations()[1];
      int64_t pt = conv.getPads()[0], pl = conv.getPads()[1];
      pixel = [&, y](const std::string &r) {
        c.line("const int64_t n = " + r + " / " + str(y[1] * y[2]) + ", oh = " + r + " / " +
               str(y[2]) + " % " + str(y[1]) + ", ow = " + r + " % " + str(y[2]) + ";");
        c.line("(void)n; (void)oh; (void)ow;");
      };
      pixel("r");
      c.open("for (int64_t kh = 0; kh < " + str(w[0]) + "; ++kh)");
      c.line("const int64_t ih = oh * " + str(sh) + " + kh * " + str(dh) + " - " + str(pt) + ";");
      if (d.rowTaps) {
        // A tap is a kernel row: kw * channels contiguous floats of the input
        // row, copied with zeros where it reaches into the padding.
        c.line("const int64_t iw0 = ow * " + str(sw) + " - " + str(pl) + ", slot = kh * " +
               str(t.mr) + " + p;");
        c.open("if (ih < 0 || ih >= " + str(x[1]) + ")");
        c.line("rows[slot] = kZeros;");
        c.line("continue;");
        c.close();
        c.line("const float *src = in0 + (n * " + str(x[1]) + " + ih) * " + str(x[2] * x[3]) +
               ";");
        c.open("if (__builtin_expect(iw0 >= 0 && iw0 + " + str(w[1]) + " <= " + str(x[2]) +
               ", 1))");
        c.line("rows[slot] = src + iw0 * " + str(x[3]) + ";");
        c.line("continue;");
        c.close();
        c.open("for (int64_t kw = 0; kw < " + str(w[1]) + "; ++kw)");
        c.line("const int64_t iw = iw0 + kw;");
        c.open("for (int64_t ch = 0; ch < " + str(x[3]) + "; ++ch)");
        c.line("edgeRows[slot][kw * " + str(x[3]) + " + ch] = iw >= 0 && iw < " + str(x[2]) +
               " ? src[iw * " + str(x[3]) + " + ch] : 0.0f;");
        c.close();
        c.close();
        c.line("rows[slot] = edgeRows[slot];");
      } else {
        c.open("for (int64_t kw = 0; kw < " + str(w[1]) + "; ++kw)");
        c.line("const int64_t iw = ow * " + str(sw) + " + kw * " + str(dw) + " - " + str(pl) +
               ";");
        c.line("rows[(kh * " + str(w[1]) + " + kw) * " + str(t.mr) + " + p] = ih >= 0 && ih < " +
               str(x[1]) + " && iw >= 0 && iw < " + str(x[2]) + " ? in0 + ((n * " +
               str(x[1]) + " + ih) * " + str(x[2]) + " + iw) * " + str(x[3]) + " + g * " +
               str(d.k) + " : kZeros;");
        c.close();
      }
      c.close();
    } else {
      c.line("rows[p] = in0 + r * " + str(d.k) + ";");
    }
    c.close();
    if (Value scale = fusedWith ? fusedWith.getInputScale() : Value()) {
      // Squeeze-and-excitation prologue (1x1 convs only, see MicroKernelPlan):
      // the tile's input rows, scaled per image and channel, in a local copy.
      ArrayRef<int64_t> y = shapeOf(conv.getOutput());
      std::string image = shapeOf(scale)[0] == 1
                              ? ""
                              : " + r / " + str(y[1] * y[2]) + " * " + str(d.k * d.groups);
      c.line("alignas(64) float scaled[" + str(t.mr) + "][" + str(d.k) + "];");
      c.open("for (int64_t p = 0; p < " + str(t.mr) + "; ++p)");
      c.line("const int64_t r = m0 + p < " + str(d.m) + " ? m0 + p : " + str(d.m - 1) + ";");
      c.line("(void)r;");
      c.line("const float *__restrict sc = " + in(cast<BlockArgument>(scale).getArgNumber()) +
             image + " + g * " + str(d.k) + ";");
      c.open("for (int64_t k = 0; k < " + str(d.k) + "; ++k)");
      c.line("scaled[p][k] = rows[p][k] * sc[k];");
      c.close();
      c.line("rows[p] = scaled[p];");
      c.close();
    }
    if (blocksInside) {
      c.open("for (int64_t blk = 0; blk < " + str(blocks) + "; ++blk)");
      c.line("const int64_t col0 = blk * " + str(nb) + ";");
    }
    c.line("alignas(64) float acc[" + str(t.mr) + "][" + str(nb) + "];");
    c.line("kiln::mk::gemmTile<" + str(t.w) + ", " + str(t.mr) + ", " + str(t.nv) +
           ">(rows, " + str(d.taps) + ", " + str(d.k) + ", in1 + (g * " + str(blocks) +
           " + blk) * " + str(d.taps * d.k * nb) + ", &acc[0][0]);");
    c.line("const int64_t count = " + str(d.m) + " - m0 < " + str(t.mr) + " ? " + str(d.m) +
           " - m0 : " + str(t.mr) + ";");
    // A constant count lets the epilogue loop vectorise without a remainder.
    c.line(d.n % nb == 0 ? "constexpr int64_t nb = " + str(nb) + ";"
                         : "const int64_t nb = " + str(d.n) + " - col0 < " + str(nb) + " ? " +
                               str(d.n) + " - col0 : " + str(nb) + ";");
    c.open("for (int64_t p = 0; p < count; ++p)");
    c.line("const int64_t r = m0 + p;");
    SmallVector<std::string> vars;
    std::string value = "acc[p][j]", target;
    if (conv) {
      pixel("r");
      int64_t oc = d.n * d.groups;
      c.line("const int64_t oc = g * " + str(d.n) + " + col0;");
      vars = {"n", "oh", "ow", "(oc + j)"};
      if (conv.getBias())
        value = "(acc[p][j] + in2[oc + j])";
      target = "out0[r * " + str(oc) + " + oc + j]";
    } else if (auto gemm = dyn_cast<GemmOp>(head)) {
      vars = {"r", "(col0 + j)"};
      float alpha = gemm.getAlpha().convertToFloat(), beta = gemm.getBeta().convertToFloat();
      if (alpha != 1.0f)
        value = floatLiteral(alpha, "float") + " * " + value;
      if (gemm.getC() && beta != 0.0f) {
        ArrayRef<int64_t> y = shapeOf(gemm.getOutput());
        std::string cv = "in2[" + offsetExpr(vars, broadcastStrides(shapeOf(gemm.getC()), y)) + "]";
        value += " + " + (beta == 1.0f ? cv : floatLiteral(beta, "float") + " * " + cv);
      }
      if (value != "acc[p][j]")
        value = "(" + value + ")";
      target = "out0[r * " + str(d.n) + " + col0 + j]";
    } else {
      // Result coordinates of row r, for the epilogue's other inputs.
      vars = emitRowCoordinates(shapeOf(head->getResult(0)).drop_back(), "r");
      vars.push_back("(col0 + j)");
      target = "out0[r * " + str(d.n) + " + col0 + j]";
    }
    if (failed(storeTile(vars, value, "nb", nb, target)))
      return failure();
    c.close();
    if (blocksInside)
      c.close();
    c.close();
    c.close(");");
    return success();
  }

  /// Emits e0..e{n-1}, the coordinates of flat row `row` over the leading
  /// dimensions `lead` (row-major), and returns their names.
  SmallVector<std::string> emitRowCoordinates(ArrayRef<int64_t> lead, const std::string &row) {
    SmallVector<std::string> vars;
    int64_t stride = 1;
    for (int64_t i = (int64_t)lead.size() - 1; i >= 0; --i) {
      vars.insert(vars.begin(), "e" + str(i));
      c.line("const int64_t e" + str(i) + " = " + row + " / " + str(stride) + " % " +
             str(lead[i]) + "; (void)e" + str(i) + ";");
      stride *= lead[i];
    }
    return vars;
  }

  /// Writes a tile of a contraction's result: `count` elements (index j,
  /// fewer than `tile`) whose values are `acc` and whose result coordinates
  /// are `vars`. In a fused contraction the epilogue ops run on the tile
  /// first, reading their other inputs at the same coordinates.
  LogicalResult storeTile(ArrayRef<std::string> vars, const std::string &acc,
                          const std::string &count, int64_t tile, const std::string &target) {
    bool epilogue = fusedWith && fusedWith.getBody().front().getTerminator()->getOperand(0) !=
                                     fusedWith.getContraction()->getResult(0);
    if (!epilogue) {
      if (acc == target)
        return success();
      c.open("for (int64_t j = 0; j < " + count + "; ++j)");
      c.line(target + " = " + acc + ";");
      c.close();
      return success();
    }
    Block &body = fusedWith.getBody().front();
    ArrayRef<int64_t> y = shapeOf(fusedWith.getOutput());
    llvm::DenseMap<Value, std::string> names;
    for (auto [i, arg] : llvm::enumerate(body.getArguments()))
      if (shapeOf(arg).size() <= y.size())
        names[arg] = in(i) + "[" + offsetExpr(vars, broadcastStrides(shapeOf(arg), y)) + "]";
    names[fusedWith.getContraction()->getResult(0)] = acc;
    epilogueOps = 0;
    return emitChain(std::next(fusedWith.getContraction()->getIterator()),
                     body.getTerminator()->getIterator(),
                     body.getTerminator()->getOperand(0), names, count, tile, target,
                     epilogueOps);
  }

  /// A conv, gemm or matmul whose kernel applies the fused epilogue to its
  /// result tiles. The contraction's operands are the first inputs, in order,
  /// so its printer reads them as in0, in1, ... as usual.
  LogicalResult printFusedContraction(FusedContractionOp o) {
    fusedWith = o;
    LogicalResult result =
        llvm::TypeSwitch<Operation *, LogicalResult>(o.getContraction())
            .Case<ConvOp>([&](auto head) { return printConvNhwc(head); })
            .Case<GemmOp>([&](auto head) { return printGemm(head); })
            .Case<MatMulOp>([&](auto head) { return printMatMul(head); })
            .Default([&](Operation *head) {
              return head->emitOpError("cannot head a fused contraction");
            });
    k.flops += numel(o.getOutput()) * epilogueOps;
    return result;
  }

  /// Gemms and matmuls on the micro-kernel (the plain-loop ones are lowered
  /// to the kernel form, codegen/lowering/Contraction.cpp).
  LogicalResult printGemm(GemmOp o) {
    if (failed(requireF32(o)))
      return failure();
    if (auto dims = microKernelDims(op); dims && vectorWidth)
      return printTiled(o, *dims);
    return o.emitOpError("has no tiled kernel and no lowering");
  }

  LogicalResult printMatMul(MatMulOp o) {
    if (failed(requireContractionTypes(o)))
      return failure();
    if (auto dims = microKernelDims(op); dims && vectorWidth)
      return printTiled(o, *dims);
    return o.emitOpError("has no tiled kernel and no lowering");
  }

  /// Sizes of an attention op and the strides of each logical dimension in
  /// its stored operands (which may be stored untransposed; see q_perm and
  /// friends); the mask's broadcast dimensions have stride 0.
  struct AttentionLayout {
    size_t rank = 0;
    SmallVector<int64_t> lead, qs, ks, vs, ys, ms;
    int64_t batches = 0, tq = 0, d = 0, tk = 0, dv = 0;
  };

  AttentionLayout attentionLayout(AttentionOp o) {
    AttentionLayout a;
    SmallVector<int64_t> q = o.qShape(), kt = o.ktShape(), v = o.vShape();
    a.rank = q.size();
    a.lead.assign(q.begin(), q.end() - 2);
    a.batches = product(a.lead);
    a.tq = q[a.rank - 2];
    a.d = q[a.rank - 1];
    a.tk = kt[a.rank - 1];
    a.dv = v[a.rank - 1];
    auto strides = [](Value stored, std::optional<ArrayRef<int64_t>> perm) {
      return permutedStrides(shapeOf(stored), perm);
    };
    a.qs = strides(o.getQ(), o.getQPerm());
    a.ks = strides(o.getKt(), o.getKtPerm());
    a.vs = strides(o.getV(), o.getVPerm());
    a.ys = contiguousStrides(shapeOf(o.getOutput()));
    if (auto perm = o.getOutPerm()) {
      SmallVector<int64_t> stored = a.ys;
      for (auto [k, p] : llvm::enumerate(*perm))
        a.ys[p] = stored[k];
    }
    if (Value m = o.getMask()) {
      SmallVector<int64_t> scores(a.lead);
      scores.push_back(a.tq);
      scores.push_back(a.tk);
      a.ms = broadcastStrides(shapeOf(m), scores);
    }
    return a;
  }

  /// The statement applying the attention mask element `mask` to `score`:
  /// added, or the fill where the mask drops the key (or does not keep it).
  std::string maskStatement(AttentionOp o, const std::string &score, const std::string &mask) {
    StringRef kind = o.getMaskKind();
    if (kind == "add")
      return score + " += " + mask + ";";
    return std::string("if (") + (kind == "keep" ? "!" : "") + mask + ") " + score + " = " +
           floatLiteral(o.getFill().convertToDouble(), "float") + ";";
  }

  /// Emits the offsets of batch `b` in each operand: qo, ko, vo, yo and the
  /// mask's mrow.
  void unravelBatch(const AttentionLayout &a) {
    c.line("int64_t qo = 0, ko = 0, vo = 0, yo = 0, mrow = 0, rest = b;");
    for (int64_t di = (int64_t)a.lead.size() - 1; di >= 0; --di) {
      std::string terms = "qo += x * " + str(a.qs[di]) + "; ko += x * " + str(a.ks[di]) +
                          "; vo += x * " + str(a.vs[di]) + "; yo += x * " + str(a.ys[di]) + ";";
      if (!a.ms.empty())
        terms += " mrow += x * " + str(a.ms[di]) + ";";
      c.line("{ const int64_t x = rest % " + str(a.lead[di]) + "; rest /= " +
             str(a.lead[di]) + "; " + terms + " }");
    }
    c.line("(void)rest; (void)mrow;");
  }

  /// Attention on the micro-kernel, for a block of queries at a time (the
  /// query block is the vector dimension). Per block of keys: the scores
  /// S^T = K·Q^T come from gemmTile over key rows against the packed, scaled
  /// Q^T; the online softmax runs across the block's rows with one lane per
  /// query (max, rescale, exp and sums are vector operations); and the
  /// output A^T (value depth x queries) gains V^T·P^T from gemmTile over value
  /// columns against the block of P^T. A task is one query block of one
  /// batch; the summation order depends only on the shapes.
  LogicalResult printAttentionTiled(AttentionOp o) {
    AttentionLayout a = attentionLayout(o);
    size_t rank = a.rank;
    int64_t batches = a.batches, tq = a.tq, d = a.d, tk = a.tk, dv = a.dv;
    const SmallVector<int64_t> &qs = a.qs, &ks = a.ks, &vs = a.vs, &ys = a.ys, &ms = a.ms;
    StringRef kind = o.getMaskKind();
    // Tile: MR rows (keys, or value columns) by NV vectors of W queries.
    int64_t w = vectorWidth, nv = tq >= 2 * w ? 2 : 1, mr = maxTileRows(w, nv);
    int64_t qb = nv * w, kb = mr * std::max<int64_t>(1, 64 / mr);
    int64_t qblocks = (tq + qb - 1) / qb, dvr = (dv + mr - 1) / mr * mr;
    std::string tile = str(w) + ", " + str(mr) + ", " + str(nv) + ", true";
    std::string ninf = "-std::numeric_limits<float>::infinity()";
    k.usesPool = true;
    k.usesMicroKernel = true;
    k.flops = batches * tq * tk * (2 * d + 2 * dv + 4);
    c.line("// Scaled dot-product attention: " + str(batches) + " x " + str(tq) +
           " queries, " + str(tk) + " keys, depth " + str(d) + ", value depth " + str(dv) +
           ", mask " + kind.str() + "; blocks of " + str(qb) + " queries x " + str(kb) +
           " keys on the micro-kernel.");
    c.open("pool.parallelFor(" + str(batches * qblocks) + ", [&](int64_t begin, int64_t end)");
    c.line("alignas(64) float qp[" + str(d) + "][" + str(qb) + "];  // Q^T, scaled");
    c.line("alignas(64) float pt[" + str(kb) + "][" + str(qb) + "];  // S^T, then P^T");
    c.line("alignas(64) float acc[" + str(dvr) + "][" + str(qb) + "];  // A^T");
    c.line("alignas(64) float part[" + str(mr) + "][" + str(qb) + "];");
    c.line("alignas(64) float mx[" + str(qb) + "], den[" + str(qb) + "], rescale[" + str(qb) +
           "];");
    c.line("const float *rows[" + str(mr) + "];");
    c.open("for (int64_t task = begin; task < end; ++task)");
    c.line("const int64_t b = task / " + str(qblocks) + ", i0 = task % " + str(qblocks) + " * " +
           str(qb) + ";");
    c.line("const int64_t nq = " + str(tq) + " - i0 < " + str(qb) + " ? " + str(tq) +
           " - i0 : " + str(qb) + ";");
    unravelBatch(a);
    c.open("for (int64_t t = 0; t < " + str(d) + "; ++t)");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("qp[t][u] = u < nq ? in0[qo + (i0 + u) * " + str(qs[rank - 2]) + " + t * " +
           str(qs[rank - 1]) + "] * " + floatLiteral(o.getScale().convertToDouble(), "float") +
           " : 0.0f;");
    c.close();
    c.close();
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("mx[u] = " + ninf + ";");
    c.line("den[u] = 0.0f;");
    c.close();
    c.open("for (int64_t e = 0; e < " + str(dv) + "; ++e)");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("acc[e][u] = 0.0f;");
    c.close();
    c.close();
    c.open("for (int64_t j0 = 0; j0 < " + str(tk) + "; j0 += " + str(kb) + ")");
    c.line("const int64_t n = " + str(tk) + " - j0 < " + str(kb) + " ? " + str(tk) +
           " - j0 : " + str(kb) + ";");
    c.line("// S^T: key rows (a short tile repeats the last key) against Q^T.");
    c.open("for (int64_t jt = 0; jt < n; jt += " + str(mr) + ")");
    c.open("for (int64_t p = 0; p < " + str(mr) + "; ++p)");
    c.line("const int64_t key = j0 + (jt + p < n ? jt + p : n - 1);");
    c.line("rows[p] = in1 + ko + key * " + str(ks[rank - 1]) + ";");
    c.close();
    c.line("kiln::mk::gemmTile<" + tile + ">(rows, 1, " + str(d) + ", &qp[0][0], &pt[jt][0], " +
           str(ks[rank - 2]) + ");");
    c.close();
    if (!ms.empty()) {
      std::string at = "in3[mrow + (i0 + u) * " + str(ms[rank - 2]) + " + (j0 + j) * " +
                       str(ms[rank - 1]) + "]";
      c.open("for (int64_t j = 0; j < n; ++j)");
      c.open("for (int64_t u = 0; u < nq; ++u)");
      c.line(maskStatement(o, "pt[j][u]", at));
      c.close();
      c.close();
    }
    c.line("// Online softmax, one lane per query; rows masked so far stay at zero.");
    c.line("alignas(64) float bm[" + str(qb) + "];");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("bm[u] = mx[u];");
    c.close();
    c.open("for (int64_t j = 0; j < n; ++j)");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("bm[u] = pt[j][u] > bm[u] ? pt[j][u] : bm[u];");
    c.close();
    c.close();
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("rescale[u] = bm[u] == " + ninf + " ? 1.0f : kiln::vm::exp(mx[u] - bm[u]);");
    c.line("mx[u] = bm[u];");
    c.line("den[u] *= rescale[u];");
    c.close();
    c.open("for (int64_t j = 0; j < n; ++j)");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("pt[j][u] = mx[u] == " + ninf + " ? 0.0f : kiln::vm::exp(pt[j][u] - mx[u]);");
    c.line("den[u] += pt[j][u];");
    c.close();
    c.close();
    c.line("// A^T = A^T * rescale + V^T P^T: value columns (a short tile repeats the last).");
    c.open("for (int64_t e0 = 0; e0 < " + str(dv) + "; e0 += " + str(mr) + ")");
    c.open("for (int64_t p = 0; p < " + str(mr) + "; ++p)");
    c.line("const int64_t e = e0 + p < " + str(dv) + " ? e0 + p : " + str(dv - 1) + ";");
    c.line("rows[p] = in2 + vo + j0 * " + str(vs[rank - 2]) + " + e * " + str(vs[rank - 1]) +
           ";");
    c.close();
    c.line("kiln::mk::gemmTile<" + tile + ">(rows, 1, n, &pt[0][0], &part[0][0], " +
           str(vs[rank - 2]) + ");");
    c.line("const int64_t ne = " + str(dv) + " - e0 < " + str(mr) + " ? " + str(dv) +
           " - e0 : " + str(mr) + ";");
    c.open("for (int64_t p = 0; p < ne; ++p)");
    c.open("for (int64_t u = 0; u < " + str(qb) + "; ++u)");
    c.line("acc[e0 + p][u] = acc[e0 + p][u] * rescale[u] + part[p][u];");
    c.close();
    c.close();
    c.close();
    c.close();
    c.line("// A fully masked row divides 0 by 0: NaN, as the unfused softmax gives.");
    c.open("for (int64_t u = 0; u < nq; ++u)");
    c.line("float *y = out0 + yo + (i0 + u) * " + str(ys[rank - 2]) + ";");
    c.line("const float inv = 1.0f / den[u];");
    c.open("for (int64_t e = 0; e < " + str(dv) + "; ++e)");
    c.line("y[e * " + str(ys[rank - 1]) +
           "] = den[u] > 0.0f ? acc[e][u] * inv : std::numeric_limits<float>::quiet_NaN();");
    c.close();
    c.close();
    c.close();
    c.close(");");
    return success();
  }

  /// One task per query row: scores for a block of keys at a time (the
  /// depth loop outermost, so the inner loop runs along contiguous Kt rows),
  /// then an online-softmax update of the running maximum, denominator and
  /// weighted sum of V rows. Memory is O(block + Dv) per row, not O(Tk).
  /// Targets with a micro-kernel take printAttentionTiled instead.
  /// Float32 attention on a vector target (other attention is lowered to
  /// the kernel form, codegen/lowering/Attention.cpp).
  LogicalResult printAttention(AttentionOp o) {
    if (vectorWidth && eltOf(o.getQ()).isF32())
      return printAttentionTiled(o);
    return o.emitOpError("has no tiled kernel and no lowering");
  }

  Operation *op;
  KernelBody &k;
  Code &c;
  int64_t vectorWidth;
};

} // namespace

LogicalResult printGraphOp(Operation *op, KernelBody &k, int64_t vectorWidth) {
  return KernelPrinter(op, k, vectorWidth).print();
}

} // namespace kiln
