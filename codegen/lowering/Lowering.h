//===- Lowering.h - Graph ops -> the kernel form ----------------*- C++ -*-===//
//
// One entry point per op family (one file each under codegen/lowering/);
// lowerToKernel picks the family by the op's category. See
// codegen/kernel/KernelForm.h for the form itself.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_LOWERING_LOWERING_H
#define CODEGEN_LOWERING_LOWERING_H

#include "codegen/kernel/KernelForm.h"
#include "codegen/kernel/Target.h"
#include "dialects/Kiln/KilnOps.h"

#include <functional>

namespace kiln {

/// Lowers graph op `op` to a kernel function `@name` appended to `kernels`.
/// Returns a null function when no family lowers the op (the backend then
/// reports it: every op that becomes a kernel has a lowering); fails with a
/// diagnostic on `op` when the op cannot be lowered (an unsupported type,
/// say).
mlir::FailureOr<mlir::func::FuncOp> lowerToKernel(mlir::Operation *op,
                                                  const TargetDescription &target,
                                                  mlir::ModuleOp kernels,
                                                  llvm::StringRef name);

/// The family whose lowering takes `op` ("elementwise", "data-movement",
/// "reductions", "rows", "pooling", "contraction"), or "" when none does.
llvm::StringRef loweringFamily(mlir::Operation *op);
/// Every family name loweringFamily returns.
llvm::ArrayRef<llvm::StringRef> loweringFamilies();

/// Checks shared by lowerings: every operand of `op` is float32; or all are
/// of one contraction type (float32, float64, int32, int64). Fail with a
/// diagnostic on `op`.
mlir::LogicalResult requireF32(mlir::Operation *op);
mlir::LogicalResult requireContractionTypes(mlir::Operation *op);

/// A quantised conv (kiln.conv with input_zero_point) reads 8-bit inputs and
/// int8 weights and sums in int32: `x` (loaded from the input of element
/// type `elt`) minus the zero point, and `w` widened.
mlir::Value centeredInput(KernelBuilder &k, mlir::Value x, mlir::Type elt, int64_t zeroPoint);
mlir::Value widenedWeight(KernelBuilder &k, mlir::Value w);

/// Attribute on kernel functions: floating-point operations per call.
inline constexpr llvm::StringLiteral kFlopsAttr = "kiln.flops";
/// Attribute on kernel functions of contractions on plain loops: why they
/// are not on a tiled kernel (the compile report's fallback_kernels).
inline constexpr llvm::StringLiteral kFallbackAttr = "kiln.fallback";

/// Per-element values available to an elementwise chain: each maps the
/// element index j of the current loop to a scalar (a load, typically).
using ChainSources = llvm::DenseMap<mlir::Value, std::function<mlir::Value(mlir::Value)>>;

/// Emits the elementwise ops [first, end) of a fused body over `count`
/// elements (at most `tile`): each op is its own loop over j filling a local
/// array of `tile` elements, so vectorisable ops stay vectorised next to
/// library calls, and the op producing `result` hands its value to `sink(j,
/// value)` instead. `sources` gives the values available on entry; the ops'
/// arrays are added to it. Adds the ops per element to `opsPerElement`.
mlir::LogicalResult emitChain(KernelBuilder &k, mlir::Block::iterator first,
                              mlir::Block::iterator end, mlir::Value result,
                              ChainSources &sources, mlir::Value count, int64_t tile,
                              llvm::function_ref<void(mlir::Value, mlir::Value)> sink,
                              int64_t &opsPerElement);

// Op families.
mlir::FailureOr<mlir::func::FuncOp> lowerElementwise(mlir::Operation *op,
                                                     const TargetDescription &target,
                                                     KernelBuilder &k);

/// Null for the data-movement ops that are not kernels.
mlir::FailureOr<mlir::func::FuncOp> lowerDataMovement(mlir::Operation *op,
                                                      const TargetDescription &target,
                                                      KernelBuilder &k);

/// resize, with its tap tables as memref.global constants of the module.
mlir::FailureOr<mlir::func::FuncOp> lowerResize(ResizeOp op, const TargetDescription &target,
                                                KernelBuilder &k);

/// gather, gather_elements, gather_nd, scatter_elements, scatter_nd (the
/// data-movement ops whose indices are data); null for other ops.
mlir::FailureOr<mlir::func::FuncOp> lowerIndexedCopy(mlir::Operation *op, KernelBuilder &k);

/// reduce_*, arg_reduce, cumsum, hardmax (null for other ops).
mlir::FailureOr<mlir::func::FuncOp> lowerReductions(mlir::Operation *op,
                                                    const TargetDescription &target,
                                                    KernelBuilder &k);

/// A window reduced per output element over N spatial dimensions (the
/// generic path of 3-D pooling and convolution): max, average or a
/// convolution with `group` groups (bias the op's third operand, if any).
enum class WindowKind { Max, Avg, Conv };
void lowerWindowNd(mlir::Operation *op, llvm::ArrayRef<int64_t> kernel,
                   llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> dilations,
                   llvm::ArrayRef<int64_t> pads, WindowKind kind, bool countPad, int64_t group,
                   KernelBuilder &k);

/// max_pool, avg_pool (2-D and 3-D), global_average_pool.
mlir::FailureOr<mlir::func::FuncOp> lowerPooling(mlir::Operation *op,
                                                 const TargetDescription &target,
                                                 KernelBuilder &k);

/// Why a contraction with weights `w` (an operand of the kernel's op) and
/// result `result` is not on the micro-kernel of a target with vectors of
/// `vectorWidth` floats (the report's fallback reason).
std::string fallbackReason(mlir::Value w, mlir::Value result, int64_t vectorWidth);

/// Stores `count` (at most `tile`) elements of a contraction's result: the
/// value of element j is `value(j)`, its result coordinates `coords(j)` (for
/// the other inputs of the fused epilogue) and its offset in the kernel's
/// output `target(j)`. With a fused epilogue in `fused`, the epilogue runs on
/// the values first (its ops per element added to `ops`).
mlir::LogicalResult storeContractionTile(
    KernelBuilder &k, FusedContractionOp fused, llvm::function_ref<mlir::Value(mlir::Value)> value,
    llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value)> coords,
    llvm::function_ref<mlir::Value(mlir::Value)> target, mlir::Value count, int64_t tile,
    int64_t &ops);

/// Convolutions (channels-last), gemms and matmuls on the micro-kernel
/// (kiln.gemm_tile); null for the others.
mlir::FailureOr<mlir::func::FuncOp> lowerTiledProduct(mlir::Operation *op,
                                                      const TargetDescription &target,
                                                      KernelBuilder &k);

/// Channels-last 2-D convolutions off the GEMM micro-kernel: depthwise on
/// kiln.depthwise_tile or loops, the others direct; null for other ops.
mlir::FailureOr<mlir::func::FuncOp> lowerConvNhwc(mlir::Operation *op,
                                                  const TargetDescription &target,
                                                  KernelBuilder &k);

/// A product for tensor cores (lowerTensorCoreProduct): for each of
/// `batches`, result(i, j) = sum over d < depth of A(i, d) * B(d, j), with
/// i < m, j < n. `aElement(batch, i, d)` and `bElement(batch, d, j)` give an
/// element's index in `a` or `b` and whether it exists (null: always; a
/// missing element is zero); `aMFastest`/`bNFastest` say which of its indices
/// walks memory contiguously. `store(batch, i, j, v)` stores result v.
struct TensorCoreProduct {
  using Element = std::function<std::pair<mlir::Value, mlir::Value>(mlir::Value, mlir::Value,
                                                                    mlir::Value)>;
  std::string precision;
  mlir::Value a, b;
  int64_t batches = 1, m = 0, n = 0, depth = 0;
  bool aMFastest = false, bNFastest = true;
  Element aElement, bElement;
  std::function<void(mlir::Value, mlir::Value, mlir::Value, mlir::Value)> store;
};

/// The CUDA backend's tensor-core form of a product (--precision tf32, fp16
/// or bf16): cooperative blocks of 64 x 64 result tiles on kiln.mma_block,
/// then a store per element.
void lowerTensorCoreProduct(KernelBuilder &k, const TensorCoreProduct &p);

/// Every contraction: dispatches to the files above.
mlir::FailureOr<mlir::func::FuncOp> lowerContraction(mlir::Operation *op,
                                                     const TargetDescription &target,
                                                     KernelBuilder &k);

/// attention: tiled on kiln.gemm_tile on a vector target, else plain loops.
mlir::FailureOr<mlir::func::FuncOp> lowerAttention(AttentionOp op,
                                                   const TargetDescription &target,
                                                   KernelBuilder &k);

/// recurrence: a loop over time with h·Rᵀ per step (on kiln.gemm_tile where
/// the target has vectors) and the cell.
mlir::FailureOr<mlir::func::FuncOp> lowerRecurrence(RecurrenceOp op,
                                                    const TargetDescription &target,
                                                    KernelBuilder &k);
/// softmax, layer_norm, batch_norm, fused_row (null for other ops).
mlir::FailureOr<mlir::func::FuncOp> lowerRows(mlir::Operation *op,
                                              const TargetDescription &target,
                                              KernelBuilder &k);

} // namespace kiln

#endif // CODEGEN_LOWERING_LOWERING_H
