//===- MicroKernelPlan.h - Which contractions use the GEMM micro-kernel ---*- C++ -*-===//
//
// Convolutions (channels-last, not depthwise), matmuls/gemms with a
// constant 2-D B and the per-step product with the recurrent weights of a
// kiln.recurrence run on the register-blocked tile of
// runtime/include/kiln/runtime/MicroKernel.h. This file decides that, picks
// the tile shape of each layer from its GEMM dimensions and the target's
// vector width, and packs the constant weights into the tile's layout at
// compile time. The memory planner (which writes the weights file) and the
// lowering to kiln.gemm_tile (which reads them) both ask here, so they always agree.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_MICROKERNELPLAN_H
#define CODEGEN_MICROKERNELPLAN_H

#include "codegen/kernel/Target.h"
#include "dialects/Kiln/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <vector>

namespace kiln {

/// The GEMM a contraction performs, per group: `m` output rows (pixels or
/// matrix rows), `n` outputs per row, a reduction of `taps` * `k`. A conv's
/// taps are its kernel positions and k its input channels, except for convs
/// with few input channels (`rowTaps`): there a tap is a kernel row, and k
/// runs over the kernel width and the channels, which lie contiguous in an
/// NHWC input row; a short k per tap would leave the micro-kernel mostly
/// loop overhead.
struct GemmDims {
  int64_t m = 0, n = 0, k = 0, taps = 1, groups = 1;
  bool rowTaps = false;
  /// A quantised conv on the int8 tile (kiln::mk::gemmTileInt8): each step
  /// of the micro-kernel takes 4 of the k, which is a multiple of 4.
  bool int8 = false;
  /// Steps of the micro-kernel per tap.
  int64_t steps() const { return int8 ? k / 4 : k; }
};

/// Rows by vectors of the accumulator tile, and the vector width in floats.
struct TileShape {
  int64_t w = 0, mr = 0, nv = 0;
  int64_t nb() const { return nv * w; }
};

/// Floats per vector for a `--cpu` target name (native, x86-64-v4,
/// x86-64-v3, generic), or 0 for an unknown name. `native` asks the machine
/// Kiln runs on.
int64_t vectorWidthForCpu(const std::string &cpu);

/// The contraction that `op` performs (op itself, or the head of a
/// kiln.fused_contraction) when it runs on the micro-kernel.
std::optional<GemmDims> microKernelDims(mlir::Operation *op);

/// The tile for `dims` on vectors of `w` floats: the accumulators fill the
/// register file, and the choice wastes the least work on padding.
TileShape chooseTile(const GemmDims &dims, int64_t w);

/// The most rows of a gemmTile with `nv` vectors of `w` floats whose
/// accumulators fit the target's register file.
int64_t maxTileRows(int64_t w, int64_t nv);

/// Whether a task of the tiled kernel runs every output block of its row
/// tile (the packed weights of a group stay in L2, and there are enough row
/// tiles to share among threads) rather than one block.
bool allBlocksPerTask(const GemmDims &dims, const TileShape &tile);

/// Tile of the depthwise-convolution kernel (kiln::mk::depthwiseTile):
/// `pixels` output pixels by `nv` vectors of `w` channels. With
/// `groupSize` G > 1 it is a tile of the grouped-convolution kernel
/// (kiln::mk::groupedTile) for groups of G input and G output channels.
struct DepthwiseTile {
  int64_t w = 0, nv = 0, pixels = 0, groupSize = 1;
  int64_t channels() const { return nv * w; }
};

/// The depthwise tile for `channels` channels on a target with vectors of
/// `vectorWidth` floats: the widest vector whose multiple divides the
/// channels (so no tile has a channel tail), or nothing when the channels
/// are not a multiple of 4.
std::optional<DepthwiseTile> chooseDepthwiseTile(int64_t channels, int64_t vectorWidth);

/// The grouped-convolution tile for `op` (a channels-last conv, or a fused
/// contraction headed by one, with constant weights) on vectors of
/// `vectorWidth` floats, where its groups are narrower than a vector: G
/// input and G output channels per group, 1 < G < the vector width. The
/// GEMM micro-kernel would leave most lanes of each vector idle there;
/// groupedTile fills them with several groups, rotating the inputs within
/// each group instead of broadcasting them. Nothing for other ops.
std::optional<DepthwiseTile> chooseGroupedTile(mlir::Operation *op, int64_t vectorWidth);

/// The weights of `op` for `tile` (from chooseGroupedTile):
/// [kh][kw][r][C], where element c of row r is the weight from input
/// channel (c % G + r) % G of c's group to output channel c.
std::vector<float> packGroupedWeights(mlir::Operation *op, const DepthwiseTile &tile);

/// The int8 weights of a quantised conv or matmul `op` for `tile`, per group and
/// block of nb outputs: nb int32 (minus the input zero point, shifted to
/// unsigned, times the sum of each output's weights), then
/// [tap][k/4][nb][4] int8, zero-padded to whole blocks.
std::vector<int8_t> packInt8Weights(mlir::Operation *op, const TileShape &tile);

/// Bytes of one block of packInt8Weights.
int64_t int8BlockBytes(const GemmDims &dims, const TileShape &tile);

/// The constant that `op` reads as packed weights: its B (or conv weight)
/// operand when `op` runs on the micro-kernel and is that constant's only user.
ConstantOp packedWeightsOf(mlir::Operation *op);

/// Gives every micro-kernel contraction that shares its weight constant
/// with other ops (layers that share weights, tied embeddings) a constant
/// of its own, so that each reads its weights packed in its own tile
/// layout. The attribute is shared, so nothing is copied; the memory plan
/// stores identical packed or plain payloads once.
void separatePackedWeights(mlir::func::FuncOp func);

/// The weights of `op` (which has packedWeightsOf) in the tile layout
/// [group][block of nb][tap][k][nb], zero-padded to whole blocks.
std::vector<float> packWeights(mlir::Operation *op, const TileShape &tile);

} // namespace kiln

#endif // CODEGEN_MICROKERNELPLAN_H
