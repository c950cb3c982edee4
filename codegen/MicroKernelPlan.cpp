//===- MicroKernelPlan.cpp - Which contractions use the GEMM micro-kernel -===//

#include "codegen/MicroKernelPlan.h"

#include "dialects/Kiln/KilnOps.h"

#include "mlir/IR/TypeUtilities.h"

#include <cstring>
#include <limits>

using namespace mlir;

namespace kiln {

TargetDescription cpuTarget(const std::string &cpu) {
  TargetDescription t;
  t.backend = "cpu";
  t.cpu = cpu;
  t.vectorWidth = vectorWidthForCpu(cpu);
  return t;
}

int64_t vectorWidthForCpu(const std::string &cpu) {
  if (cpu == "x86-64-v4")
    return 16;
  if (cpu == "x86-64-v3")
    return 8;
  if (cpu == "generic")
    return 4;
  if (cpu == "native") {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
      return 16;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
      return 8;
#endif
    return 4;
  }
  return 0;
}

static ArrayRef<int64_t> shapeOf(Value v) { return cast<ShapedType>(v.getType()).getShape(); }

static bool isF32(Value v) { return getElementTypeOrSelf(v.getType()).isF32(); }

/// The contraction `op` runs: itself, or the head of a fused contraction.
/// An input-scale prologue (squeeze-and-excitation) is supported on 1x1
/// convs, whose tile rows the kernel scales into a local copy.
static Operation *headOf(Operation *op) {
  auto fused = dyn_cast<FusedContractionOp>(op);
  if (!fused)
    return op;
  if (fused.getInputScale()) {
    auto conv = dyn_cast<ConvOp>(fused.getContraction());
    ArrayRef<int64_t> w = conv ? shapeOf(conv.getWeight()) : ArrayRef<int64_t>();
    if (!conv || w[0] != 1 || w[1] != 1)
      return nullptr;
  }
  return fused.getContraction();
}

/// Convs with at most this many input channels reduce over whole kernel rows.
constexpr int64_t kRowTapsMaxChannels = 16;

/// The GEMM of a head contraction, whatever its weights are.
static std::optional<GemmDims> contractionDims(Operation *head) {
  if (auto conv = dyn_cast<ConvOp>(head); conv && conv.getInputZeroPoint()) {
    if (!conv.getChannelsLast())
      return std::nullopt;
    ArrayRef<int64_t> w = shapeOf(conv.getWeight()), y = shapeOf(conv.getOutput());
    int64_t group = conv.getGroup(), icg = w[2], ocg = w[3] / group;
    if (icg % 4) // depthwise, or too few channels per step
      return std::nullopt;
    GemmDims d{y[0] * y[1] * y[2], ocg, icg, w[0] * w[1], group};
    d.int8 = true;
    return d;
  }
  if (auto conv = dyn_cast<ConvOp>(head)) {
    if (!conv.getChannelsLast() || !isF32(conv.getInput()) || !isF32(conv.getOutput()))
      return std::nullopt;
    ArrayRef<int64_t> w = shapeOf(conv.getWeight()), y = shapeOf(conv.getOutput());
    int64_t group = conv.getGroup(), ocg = w[3] / group;
    if (w[2] == 1 && ocg == 1) // depthwise: its own kernel
      return std::nullopt;
    int64_t m = y[0] * y[1] * y[2];
    if (group == 1 && w[2] <= kRowTapsMaxChannels && conv.getDilations()[1] == 1)
      return GemmDims{m, ocg, w[1] * w[2], w[0], 1, /*rowTaps=*/true};
    return GemmDims{m, ocg, w[2], w[0] * w[1], group};
  }
  if (auto gemm = dyn_cast<GemmOp>(head)) {
    if (gemm.getTransA() || !isF32(gemm.getA()) || !isF32(gemm.getB()))
      return std::nullopt;
    ArrayRef<int64_t> y = shapeOf(gemm.getOutput()), a = shapeOf(gemm.getA());
    return GemmDims{y[0], y[1], a[1], 1, 1};
  }
  if (auto loop = dyn_cast<RecurrenceOp>(head)) { // per step: h [batch, hidden] times R^T
    ArrayRef<int64_t> r = shapeOf(loop.getWeights());
    return GemmDims{shapeOf(loop.getY())[1], r[0], r[1], 1, 1};
  }
  if (auto mm = dyn_cast<MatMulOp>(head); mm && mm.getAZeroPoint()) {
    ArrayRef<int64_t> a = shapeOf(mm.getA()), b = shapeOf(mm.getB());
    if (b.size() != 2 || b[0] % 4)
      return std::nullopt;
    int64_t m = 1;
    for (int64_t dim : a.drop_back())
      m *= dim;
    GemmDims d{m, b[1], b[0], 1, 1};
    d.int8 = true;
    return d;
  }
  if (auto mm = dyn_cast<MatMulOp>(head)) {
    ArrayRef<int64_t> a = shapeOf(mm.getA()), b = shapeOf(mm.getB());
    if (!isF32(mm.getA()) || !isF32(mm.getB()) || b.size() != 2 || a.size() < 2)
      return std::nullopt;
    int64_t m = 1;
    for (int64_t d : a.drop_back())
      m *= d;
    return GemmDims{m, b[1], a.back(), 1, 1};
  }
  return std::nullopt;
}

/// The value `op` reads as its head's weights (operand 1 of the head).
static Value weightOperand(Operation *op, Operation *head) {
  Value w = head->getOperand(1);
  if (op == head)
    return w;
  auto arg = dyn_cast<BlockArgument>(w);
  return arg ? op->getOperand(arg.getArgNumber()) : Value();
}

/// The operand of `op` that would be packed weights if it were a constant.
static OpOperand *weightUse(Operation *op) {
  Operation *head = headOf(op);
  if (!head || !contractionDims(head))
    return nullptr;
  Value w = weightOperand(op, head);
  if (!w)
    return nullptr;
  for (OpOperand &use : op->getOpOperands())
    if (use.get() == w)
      return &use;
  return nullptr;
}

ConstantOp packedWeightsOf(Operation *op) {
  OpOperand *use = weightUse(op);
  auto c = use ? use->get().getDefiningOp<ConstantOp>() : ConstantOp();
  if (!c || !c->hasOneUse() || !isa<DenseElementsAttr>(c.getValue()))
    return nullptr;
  return c;
}

void separatePackedWeights(func::FuncOp func) {
  SmallVector<ConstantOp> shared;
  func.walk([&](ConstantOp c) {
    if (!c->hasOneUse() && !c->use_empty())
      shared.push_back(c);
  });
  OpBuilder b(func.getContext());
  for (ConstantOp c : shared) {
    SmallVector<OpOperand *> packed;
    for (OpOperand &use : c->getUses())
      if (weightUse(use.getOwner()) == &use)
        packed.push_back(&use);
    b.setInsertionPointAfter(c);
    for (OpOperand *use : packed)
      use->set(b.clone(*c)->getResult(0));
    if (c->use_empty())
      c->erase();
  }
}

std::optional<GemmDims> microKernelDims(Operation *op) {
  if (!packedWeightsOf(op))
    return std::nullopt;
  return contractionDims(headOf(op));
}

/// Packed weights that stay in L2 (see TargetDescription).
const int64_t kL2WeightBytes = TargetDescription().l2WeightBytes;
const int64_t kL2AllBlocksBytes = TargetDescription().l2AllBlocksBytes;

int64_t maxTileRows(int64_t w, int64_t nv) {
  // AVX-512 has 32 vector registers and broadcasts from memory inside the
  // FMA; narrower targets have 16 and need one register for the broadcast.
  int64_t regs = w == 16 ? 32 : 16, spare = w == 16 ? 1 : 2, maxRows = w == 16 ? 14 : 12;
  return std::min((regs - nv - spare) / nv, maxRows);
}

bool allBlocksPerTask(const GemmDims &d, const TileShape &t) {
  int64_t blocks = (d.n + t.nb() - 1) / t.nb(), tiles = (d.m + t.mr - 1) / t.mr;
  return blocks > 1 && d.groups * tiles >= 16 &&
         blocks * d.taps * d.steps() * t.nb() * int64_t(sizeof(float)) <= kL2AllBlocksBytes;
}

TileShape chooseTile(const GemmDims &dims, int64_t w) {
  // An int8 step (4 k) streams as many weight bytes as a float32 one.
  GemmDims d = dims;
  d.k = dims.steps();
  TileShape best{w, 1, 1};
  double bestCost = std::numeric_limits<double>::infinity();
  // Every row tile streams its block of packed weights: a block that does
  // not stay in L2 comes from L3 again for each tile. Prefer narrower blocks
  // then, unless there is a single row tile.
  auto fitsL2 = [&](int64_t nv, int64_t mr) {
    return d.m <= mr || d.taps * d.k * nv * w * int64_t(sizeof(float)) <= kL2WeightBytes;
  };
  bool anyFits = false;
  for (int64_t nv = 1; nv <= 4; ++nv)
    anyFits |= fitsL2(nv, maxTileRows(w, nv));
  for (int64_t nv = 1; nv <= 4; ++nv) {
    // Every row count the registers hold, the most first: a shorter tile
    // can cover the rows with less padding (16 pixels of a 4x4 map in two
    // tiles of 8 rather than two of 14), and replaces a taller one where the
    // model says it is 3% cheaper, beyond the model's own precision.
    int64_t maxRows = maxTileRows(w, nv), rowsChosen = 0;
    double nvCost = std::numeric_limits<double>::infinity();
    for (int64_t mr = maxRows; mr >= 1; --mr) {
      if (anyFits && !fitsL2(nv, mr))
        continue;
      int64_t rows = (d.m + mr - 1) / mr * mr;
      int64_t cols = (d.n + nv * w - 1) / (nv * w) * (nv * w);
      // Each step of k issues mr * nv FMAs and mr + nv loads, two of each
      // per cycle; below 8 accumulators the FMA latency is not hidden.
      double perFma = double(std::max({mr * nv, mr + nv, int64_t(8)})) / double(mr * nv);
      double cost = double(rows) * double(cols) * perFma;
      if (!rowsChosen || cost < nvCost * 0.97) {
        nvCost = cost;
        rowsChosen = mr;
      }
    }
    if (rowsChosen && nvCost < bestCost * 0.999) {
      bestCost = nvCost;
      best = TileShape{w, rowsChosen, nv};
    }
  }
  return best;
}

std::optional<DepthwiseTile> chooseDepthwiseTile(int64_t channels, int64_t vectorWidth) {
  // AVX-512 has 32 registers (also for its 8-wide vectors), the others 16.
  int64_t regs = vectorWidth == 16 ? 32 : 16;
  for (int64_t w = vectorWidth; w >= 4; w /= 2) {
    if (channels % w)
      continue;
    // Two vectors per pixel halve the loads of row pointers per FMA; the
    // accumulators leave room for the tap's weight vectors and one input.
    int64_t nv = channels % (2 * w) == 0 ? 2 : 1;
    int64_t pixels = std::min<int64_t>((regs - nv - 2) / nv, 8);
    return DepthwiseTile{w, nv, pixels};
  }
  return std::nullopt;
}

std::optional<DepthwiseTile> chooseGroupedTile(Operation *op, int64_t vectorWidth) {
  Operation *head = headOf(op);
  auto conv = dyn_cast_or_null<ConvOp>(head);
  if (!vectorWidth || !conv || !conv.getChannelsLast() || conv.getInputZeroPoint() ||
      !packedWeightsOf(op))
    return std::nullopt;
  ArrayRef<int64_t> w = shapeOf(conv.getWeight());
  int64_t g = w[2], oc = w[3];
  if (conv.getGroup() < 2 || oc / conv.getGroup() != g || g < 2)
    return std::nullopt;
  // The widest vector of whole groups whose multiple the channels are.
  for (int64_t width = vectorWidth; width > g; width /= 2) {
    if (width % g || oc % width)
      continue;
    // Registers: the accumulators, the G rotations of one input vector and
    // the vector they come from.
    int64_t regs = vectorWidth == 16 ? 32 : 16;
    int64_t pixels = std::min<int64_t>(regs - g - 2, 8);
    return DepthwiseTile{width, 1, pixels, g};
  }
  return std::nullopt;
}

std::vector<float> packGroupedWeights(Operation *op, const DepthwiseTile &tile) {
  auto conv = cast<ConvOp>(headOf(op));
  ArrayRef<int64_t> shape = shapeOf(conv.getWeight()); // HWIO: [kh][kw][G][C]
  int64_t taps = shape[0] * shape[1], g = tile.groupSize, c = shape[3];
  auto weights = cast<DenseElementsAttr>(packedWeightsOf(op).getValue());
  std::vector<float> src(weights.getValues<float>().begin(), weights.getValues<float>().end());
  std::vector<float> packed(src.size());
  for (int64_t t = 0; t < taps; ++t)
    for (int64_t r = 0; r < g; ++r)
      for (int64_t j = 0; j < c; ++j)
        packed[(t * g + r) * c + j] = src[(t * g + (j % g + r) % g) * c + j];
  return packed;
}

std::vector<float> packWeights(Operation *op, const TileShape &tile) {
  Operation *head = headOf(op);
  GemmDims d = *contractionDims(head);
  auto weights = cast<DenseElementsAttr>(packedWeightsOf(op).getValue());
  std::vector<float> src(weights.getValues<float>().begin(), weights.getValues<float>().end());
  // Element (group g, tap t, k, output j of the group) of the original
  // layout is src[g * groupStride + (t * K + k) * kStride + j * jStride].
  int64_t groupStride = 0, kStride = d.n, jStride = 1; // [k][n]
  if (isa<ConvOp>(head)) { // HWIO: [kh][kw][k][group * n]
    groupStride = d.n;
    kStride = d.n * d.groups;
  } else if (auto gemm = dyn_cast<GemmOp>(head);
             (gemm && gemm.getTransB()) || isa<RecurrenceOp>(head)) { // [n][k]
    kStride = 1;
    jStride = d.k;
  }
  int64_t nb = tile.nb(), blocks = (d.n + nb - 1) / nb;
  std::vector<float> packed(d.groups * blocks * d.taps * d.k * nb, 0.0f);
  float *dst = packed.data();
  for (int64_t g = 0; g < d.groups; ++g)
    for (int64_t b = 0; b < blocks; ++b)
      for (int64_t t = 0; t < d.taps; ++t)
        for (int64_t k = 0; k < d.k; ++k, dst += nb)
          for (int64_t j = 0; j < nb && b * nb + j < d.n; ++j)
            dst[j] = src[g * groupStride + (t * d.k + k) * kStride + (b * nb + j) * jStride];
  return packed;
}

int64_t int8BlockBytes(const GemmDims &d, const TileShape &tile) {
  return tile.nb() * int64_t(sizeof(int32_t)) + d.taps * d.k * tile.nb();
}

std::vector<int8_t> packInt8Weights(Operation *op, const TileShape &tile) {
  Operation *head = headOf(op);
  auto conv = dyn_cast<ConvOp>(head);
  GemmDims d = *contractionDims(head);
  auto weights = cast<DenseElementsAttr>(packedWeightsOf(op).getValue());
  std::vector<int8_t> src;
  for (const APInt &v : weights.getValues<APInt>())
    src.push_back(int8_t(v.getSExtValue()));
  // The tile sums u(x) * w with u(x) the input byte as unsigned (int8 inputs
  // shifted by 128), so it starts from -u(zero point) * sum(w).
  int64_t zeroPoint = conv ? *conv.getInputZeroPoint() : *cast<MatMulOp>(head).getAZeroPoint();
  if (!getElementTypeOrSelf(head->getOperand(0).getType()).isUnsignedInteger())
    zeroPoint += 128;
  int64_t nb = tile.nb(), blocks = (d.n + nb - 1) / nb, channels = d.n * d.groups;
  int64_t blockBytes = int8BlockBytes(d, tile);
  std::vector<int8_t> packed(d.groups * blocks * blockBytes, 0);
  // HWIO: element (tap t, k, output j of group g) is at (t * K + k) * C + g * n
  // + j; a matmul's [K][N] B is the one-tap, one-group case.
  auto at = [&](int64_t g, int64_t t, int64_t k, int64_t j) {
    return src[(t * d.k + k) * channels + g * d.n + j];
  };
  for (int64_t g = 0; g < d.groups; ++g)
    for (int64_t b = 0; b < blocks; ++b) {
      int8_t *block = packed.data() + (g * blocks + b) * blockBytes;
      for (int64_t j = 0; j < nb && b * nb + j < d.n; ++j) {
        int64_t sum = 0;
        for (int64_t t = 0; t < d.taps; ++t)
          for (int64_t k = 0; k < d.k; ++k)
            sum += at(g, t, k, b * nb + j);
        int32_t start = int32_t(-zeroPoint * sum);
        std::memcpy(block + j * sizeof(int32_t), &start, sizeof(start));
      }
      int8_t *dst = block + nb * sizeof(int32_t);
      for (int64_t t = 0; t < d.taps; ++t)
        for (int64_t s = 0; s < d.k / 4; ++s, dst += nb * 4)
          for (int64_t j = 0; j < nb && b * nb + j < d.n; ++j)
            for (int64_t i = 0; i < 4; ++i)
              dst[j * 4 + i] = at(g, t, 4 * s + i, b * nb + j);
    }
  return packed;
}

} // namespace kiln
