//===- KernelForm.h - The kernel-level form between graph and backend -*- C++ -*-===//
//
// Every kernel is a `func.func` in a kernel module:
//
//   func.func @k3_relu(%in0: memref<802816xf32>, %out0: memref<802816xf32>)
//       attributes {kiln.kernel = "relu", kiln.num_inputs = 1 : i64}
//
// Parameters are the graph op's operands then its results, as flat
// (one-dimensional) memrefs of their element types: index maps are explicit
// `arith` index arithmetic, so every backend sees the same addressing. The
// body uses upstream `scf`, `arith`, `math` and `memref`:
//
//   scf.for       a sequential loop (iter_args carry reductions)
//   scf.parallel  a loop whose iterations the backend may run concurrently
//                 (the CPU backend splits it across its thread pool)
//   memref.alloca a small local array (a tile of intermediates)
//
// Unsigned tensors are loaded and stored through
// `builtin.unrealized_conversion_cast` to signless integers; half floats are
// extended to f32 on load and truncated on store (the maths runs in f32).
// The function's location is the graph op's, so backends can name the ONNX
// nodes a kernel came from.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_KERNEL_KERNELFORM_H
#define CODEGEN_KERNEL_KERNELFORM_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

namespace kiln {

/// Attribute names on kernel functions.
inline constexpr llvm::StringLiteral kKernelAttr = "kiln.kernel";
inline constexpr llvm::StringLiteral kNumInputsAttr = "kiln.num_inputs";
/// On the block loop of each launch of the CUDA backend's GPU form
/// (cuda/GpuForm.h): its threads per block.
inline constexpr llvm::StringLiteral kThreadsAttr = "kiln.gpu_threads";
/// On a parallel loop of the kernel form whose iterations are blocks of
/// this many GPU threads working together (kiln.mma_block, then thread
/// loops over the block's tile): its threads per block. Nested parallel
/// loops in its body are split across those threads, with a barrier between
/// each step (Ptx.cpp); emulation runs the steps in order.
inline constexpr llvm::StringLiteral kCooperativeAttr = "kiln.gpu_cooperative";
/// What the kernel computes and how it is tiled, in words (printed as the
/// first comment of the kernel).
inline constexpr llvm::StringLiteral kSummaryAttr = "kiln.summary";

/// Loads the dialects the kernel form uses into `ctx`.
void loadKernelDialects(mlir::MLIRContext *ctx);

/// Whether `f` is a kernel function, and how many of its parameters are
/// inputs (the rest are outputs).
bool isKernel(mlir::func::FuncOp f);
int64_t numKernelInputs(mlir::func::FuncOp f);

/// The type the kernel form computes in for tensor element type `t`: f16
/// widens to f32, unsigned and signed integers become signless.
mlir::Type computeType(mlir::Type t);

/// Builds one kernel function. The builder's insertion point is in the
/// body; helpers create index constants, loops, and typed loads and stores.
class KernelBuilder {
public:
  /// Starts `@name` in `kernels` with parameters for `op`'s operands and
  /// results.
  KernelBuilder(mlir::Operation *op, mlir::ModuleOp kernels, llvm::StringRef name);

  mlir::func::FuncOp kernel() { return func; }
  mlir::OpBuilder b;
  mlir::Location loc;

  mlir::Value in(unsigned i) { return func.getArgument(i); }
  mlir::Value out(unsigned i = 0) { return func.getArgument(numInputs + i); }

  mlir::Value index(int64_t v);
  mlir::Value add(mlir::Value a, mlir::Value b);
  mlir::Value mul(mlir::Value a, int64_t c);
  mlir::Value sub(mlir::Value a, mlir::Value b);
  /// a / c and a % c for a >= 0.
  mlir::Value div(mlir::Value a, int64_t c);
  mlir::Value rem(mlir::Value a, int64_t c);
  mlir::Value min(mlir::Value a, int64_t c);
  /// 0 <= v < n.
  mlir::Value inRange(mlir::Value v, int64_t n);
  mlir::Value select(mlir::Value cond, mlir::Value a, mlir::Value b);
  /// A local array of `n` elements of `elt`, aligned to `alignment` bytes
  /// when given.
  mlir::Value local(mlir::Type elt, int64_t n, int64_t alignment = 0);
  /// sum_i vars[i] * strides[i] + base (terms with stride 0 omitted).
  mlir::Value linear(llvm::ArrayRef<mlir::Value> vars, llvm::ArrayRef<int64_t> strides,
                     int64_t base = 0);

  /// The row-major coordinates of flat index `flat` over `dims` (unit dims
  /// are 0).
  llvm::SmallVector<mlir::Value> unravel(mlir::Value flat, llvm::ArrayRef<int64_t> dims);

  /// Element `at` of `buffer` in its compute type (see computeType).
  mlir::Value load(mlir::Value buffer, mlir::Value at);
  /// Stores `v` (in the compute type) into `buffer` at `at`.
  void store(mlir::Value v, mlir::Value buffer, mlir::Value at);

  /// The `n` contiguous elements of flat `buffer` from `at` (a subview).
  mlir::Value view(mlir::Value buffer, mlir::Value at, int64_t n);
  /// Copies `n` contiguous elements from `src` at `srcAt` to `dst` at
  /// `dstAt` (a memref.copy between subviews).
  void copy(mlir::Value src, mlir::Value srcAt, mlir::Value dst, mlir::Value dstAt, int64_t n);

  /// A scalar constant `v` of the compute type of element type `elt`.
  mlir::Value constant(mlir::Type elt, double v);

  /// for (iv = lb; iv < ub; iv += step) body(iv); the builder is back after
  /// the loop when it returns.
  void loop(mlir::Value lb, mlir::Value ub, int64_t step,
            llvm::function_ref<void(mlir::Value)> body);
  /// for (iv = 0; iv < n; ++iv) body(iv); a single iteration is no loop.
  void loop(int64_t n, llvm::function_ref<void(mlir::Value)> body) {
    if (n == 1)
      return body(index(0));
    loop(index(0), index(n), 1, body);
  }
  /// for (iv = lb; iv < ub; ++iv) acc = body(iv, acc); returns the final
  /// acc (an scf.for with one iter_arg).
  mlir::Value reduce(mlir::Value lb, mlir::Value ub, mlir::Value init,
                     llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> body);
  mlir::Value reduce(int64_t n, mlir::Value init,
                     llvm::function_ref<mlir::Value(mlir::Value, mlir::Value)> body) {
    return reduce(index(0), index(n), init, body);
  }
  /// The same with several accumulators.
  llvm::SmallVector<mlir::Value>
  reduce(int64_t n, mlir::ValueRange inits,
         llvm::function_ref<llvm::SmallVector<mlir::Value>(mlir::Value, mlir::ValueRange)> body);
  /// if (cond) body();
  void ifThen(mlir::Value cond, llvm::function_ref<void()> body);

  /// Nested loops over `dims` (outermost first); unit dims get index 0
  /// rather than a loop.
  void loopNest(llvm::ArrayRef<int64_t> dims,
                llvm::function_ref<void(llvm::ArrayRef<mlir::Value>)> body);
  /// Nested loops over `dims` whose iterations are independent (each
  /// writes only its own outputs): loopNest where the target keeps them
  /// sequential, one parallel loop over all of them (unravelled) where it
  /// runs every iteration in parallel (parallelNests).
  void independentNest(llvm::ArrayRef<int64_t> dims,
                       llvm::function_ref<void(llvm::ArrayRef<mlir::Value>)> body);
  /// Whether independentNest builds parallel loops (set from the target's
  /// parallelLoopNests by lowerToKernel).
  bool parallelNests = false;
  /// A loop over [0, n) whose iterations may run concurrently.
  void parallel(int64_t n, llvm::function_ref<void(mlir::Value)> body);
  /// A parallel loop whose iterations are cooperative GPU blocks of
  /// `threads` threads (kCooperativeAttr): the parallel loops directly in
  /// `body` are the steps its threads share, its local arrays block scratch.
  void cooperative(int64_t n, int64_t threads, llvm::function_ref<void(mlir::Value)> body);

  /// Sets the kernel's summary (kSummaryAttr).
  void describe(const llvm::Twine &text);

  /// Ends the body with `func.return`.
  mlir::func::FuncOp finish();

private:
  mlir::func::FuncOp func;
  unsigned numInputs;
};

/// Moves loop-invariant index arithmetic out of its loops and merges
/// repeats (upstream LICM and CSE), so that each access in a loop reads
/// `base + iv`. The CPU backend runs it on every kernel before comparing
/// and printing kernels (GCC vectorises t[v + j] but often not
/// t[i * 16 + j] in a nested loop, and a reader of the C++ sees each row's
/// offset named once); kiln-opt --kiln-tidy-kernels runs it alone.
void tidyKernel(mlir::func::FuncOp f);

/// Structural identity of kernels: the same parameter types and the same
/// body, op for op, attributes and constants included (locations and names
/// ignored). Backends emit one function per class.
llvm::hash_code kernelHash(mlir::func::FuncOp f);
bool sameKernel(mlir::func::FuncOp a, mlir::func::FuncOp b);

} // namespace kiln

#endif // CODEGEN_KERNEL_KERNELFORM_H
