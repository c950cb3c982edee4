//===- KilnOps.td - Operations of the kiln dialect ---------*- tablegen -*-===//
//
// Tensor ops with normalised ONNX semantics. Every op works on statically shaped
// tensors; result types are computed by the importer (ONNX shape inference) and
// checked here by each op's verifier, so a malformed graph is rejected before any
// pass or code generator sees it.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_OPS_TD
#define KILN_OPS_TD

include "dialects/Kiln/KilnDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def Kiln_Tensor : StaticShapeTensorOf<[AnyType]>;

//===----------------------------------------------------------------------===//
// Op categories
//===----------------------------------------------------------------------===//
//
// Every op that becomes a kernel carries exactly one category; passes and
// lowerings ask for the category (kiln::isElementwise(op), ...) instead of
// keeping lists of ops. See KilnOps.h.

class Kiln_Category<string name> : NativeOpTrait<name> {
  let cppNamespace = "::kiln::category";
}
// Each output element depends on the input elements at the same (broadcast)
// index only.
def Kiln_Elementwise : Kiln_Category<"Elementwise">;
// Sums of products over a reduced dimension (conv, gemm, matmul, attention,
// recurrences): the ops the micro-kernel tile runs.
def Kiln_Contraction : Kiln_Category<"Contraction">;
// Each innermost row is read whole before any of its outputs is written.
def Kiln_RowReduction : Kiln_Category<"RowReduction">;
// Reduces or selects along axes (reduce_*, arg_reduce, topk, nll_loss).
def Kiln_Reduction : Kiln_Category<"Reduction">;
// A window slides over spatial dimensions.
def Kiln_Pooling : Kiln_Category<"Pooling">;
// Copies elements without arithmetic on them (index maps only).
def Kiln_DataMovement : Kiln_Category<"DataMovement">;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Kiln_ConstantOp : Kiln_Op<"constant",
    [ConstantLike, Pure, AllTypesMatch<["value", "result"]>]> {
  let summary = "A constant tensor (an ONNX initializer or Constant node)";
  let description = [{
    Holds a constant tensor. Large constants are model weights: the CPU code
    generator writes them into the weights file, never into source code.

    ```mlir
    %w = kiln.constant dense<1.0> : tensor<8x3x3x3xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Pointwise
//===----------------------------------------------------------------------===//

class Kiln_UnaryOp<string mnemonic, string what>
    : Kiln_Op<mnemonic, [Kiln_Elementwise, Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise " # what;
  let description = "Applies " # what # [{ to every element (ONNX semantics).

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Kiln_ReluOp : Kiln_UnaryOp<"relu", "max(x, 0)">;
def Kiln_ErfOp : Kiln_UnaryOp<"erf", "the Gauss error function">;
def Kiln_SqrtOp : Kiln_UnaryOp<"sqrt", "the square root">;
def Kiln_ExpOp : Kiln_UnaryOp<"exp", "the natural exponential">;
def Kiln_LogOp : Kiln_UnaryOp<"log", "the natural logarithm">;
def Kiln_TanhOp : Kiln_UnaryOp<"tanh", "the hyperbolic tangent">;
def Kiln_SigmoidOp : Kiln_UnaryOp<"sigmoid", "the logistic function 1/(1+exp(-x))">;
def Kiln_NegOp : Kiln_UnaryOp<"neg", "negation">;
def Kiln_AbsOp : Kiln_UnaryOp<"abs", "the absolute value">;
def Kiln_ReciprocalOp : Kiln_UnaryOp<"reciprocal", "1/x">;

def Kiln_ClipOp : Kiln_Op<"clip", [Kiln_Elementwise, Pure, SameOperandsAndResultType]> {
  let summary = "Elementwise clamp to [min, max]";
  let description = [{
    ONNX Clip with its optional `min`/`max` inputs folded into attributes (they must
    be constants); a missing bound is -inf or +inf.

    ```mlir
    %y = kiln.clip %x {max = 6.0 : f64, min = 0.0 : f64} : tensor<1x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, F64Attr:$min, F64Attr:$max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Kiln_CastOp : Kiln_Op<"cast", [Kiln_Elementwise, Pure, SameOperandsAndResultShape]> {
  let summary = "Elementwise conversion to the result's element type";
  let description = [{
    ONNX Cast: the target element type is the result type's.

    ```mlir
    %y = kiln.cast %x : tensor<4xi64> -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($output)";
  // Casts of constants (float16 weights cast to float32) fold, so that the
  // weights reach their contraction as constants.
  let hasFolder = 1;
}

class Kiln_BinaryOp<string mnemonic, string what, list<Trait> traits = []>
    : Kiln_Op<mnemonic, !listconcat([Kiln_Elementwise, Pure], traits)> {
  let summary = "Elementwise " # what # " with numpy broadcasting";
  let description = "Computes " # what # [{ of two tensors; shapes broadcast as
    in numpy (ONNX multidirectional broadcasting). The verifier checks that the
    result shape is the broadcast of the operand shapes.

    ```mlir
    %z = kiln.}] # mnemonic # [{ %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat =
      "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_AddOp : Kiln_BinaryOp<"add", "lhs + rhs"> {
  // Sums of constants (biases the importer combines) fold.
  let hasFolder = 1;
}
def Kiln_SubOp : Kiln_BinaryOp<"sub", "lhs - rhs">;
def Kiln_MulOp : Kiln_BinaryOp<"mul", "lhs * rhs">;
def Kiln_DivOp : Kiln_BinaryOp<"div", "lhs / rhs">;
def Kiln_PowOp : Kiln_BinaryOp<"pow", "lhs raised to rhs">;
def Kiln_MaxOp : Kiln_BinaryOp<"max", "max(lhs, rhs)">;
def Kiln_MinOp : Kiln_BinaryOp<"min", "min(lhs, rhs)">;
def Kiln_EqualOp : Kiln_BinaryOp<"equal", "lhs == rhs (boolean result)">;
def Kiln_LessOp : Kiln_BinaryOp<"less", "lhs < rhs (boolean result)">;
def Kiln_GreaterOp : Kiln_BinaryOp<"greater", "lhs > rhs (boolean result)">;

def Kiln_WhereOp : Kiln_Op<"where", [Kiln_Elementwise, Pure]> {
  let summary = "Elementwise select with numpy broadcasting";
  let description = [{
    `condition ? x : y` elementwise; all three operands broadcast together.

    ```mlir
    %z = kiln.where %c, %x, %y : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$condition, Kiln_Tensor:$x, Kiln_Tensor:$y);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$condition `,` $x `,` $y attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_PointwiseOp : Kiln_Op<"pointwise", [Kiln_Elementwise, Pure]> {
  let summary = "A table-driven elementwise function with numpy broadcasting";
  let description = [{
    The long tail of ONNX elementwise operators: `fn` names an entry of the
    table in `dialects/Kiln/PointwiseFns.cpp`, which fixes its arity, its
    parameters (`params`, e.g. the alpha of LeakyRelu) and which element types
    it accepts and returns. Operands broadcast as in numpy. Ops that passes
    reason about (relu, add, mul, ...) have their own first-class ops instead.

    ```mlir
    %y = kiln.pointwise "leaky_relu"(%x) {params = [0.1]} : (tensor<4xf32>) -> tensor<4xf32>
    %z = kiln.pointwise "and"(%a, %b) : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
    ```
  }];
  let arguments = (ins StrAttr:$fn, Variadic<Kiln_Tensor>:$inputs,
                       DefaultValuedAttr<F64ArrayAttr, "{}">:$params);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$fn `(` $inputs `)` attr-dict `:` functional-type($inputs, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Contractions
//===----------------------------------------------------------------------===//

def Kiln_ConvOp : Kiln_Op<"conv", [Kiln_Contraction, Pure]> {
  let summary = "Grouped convolution, NCHW (2-D or 3-D) or channels-last (2-D)";
  let description = [{
    ONNX Conv on NCHW input and OIHW weight (`O = out channels`, `I = in channels /
    group`) with explicit `pads` (`[top, left, bottom, right]`), `strides`,
    `dilations` and `group`; `auto_pad` is resolved by the importer. The optional
    bias has one element per output channel.

    With `channels_last` (set by `kiln-channels-last`, 2-D only) the input and
    result are NHWC and the weight is HWIO (`[kH, kW, I, O]`), so the output
    channels of one pixel are contiguous in both the weight and the result.

    A quantised convolution has 8-bit input (ui8 or i8), int8 weight and an
    int32 result, no bias, and `input_zero_point`: it sums
    `(x - input_zero_point) * w` exactly in int32, padding reading the zero
    point (a real zero). Scales, bias and requantisation follow as ops.

    ```mlir
    %y = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64,
           pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
         : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                       Optional<Kiln_Tensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group,
                       UnitAttr:$channels_last, OptionalAttr<I64Attr>:$input_zero_point);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_ConvTransposeOp : Kiln_Op<"conv_transpose", [Kiln_Contraction, Pure]> {
  let summary = "2-D grouped transposed convolution, NCHW";
  let description = [{
    ONNX ConvTranspose on NCHW input and `[C, M/group, kH, kW]` weight: each
    input element scatters `x * w` to `out[oh, ow]` with
    `oh = ih * stride - pad_top + kh * dilation` (likewise for columns).
    Only the leading pads (`[top, left]`) matter here: `output_padding`,
    `output_shape` and the trailing pads are reflected in the result shape.

    ```mlir
    %y = kiln.conv_transpose %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64,
           pads = array<i64: 0, 0>, strides = array<i64: 2, 2>}
         : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x2x7x7xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                       Optional<Kiln_Tensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, I64Attr:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_GemmOp : Kiln_Op<"gemm", [Kiln_Contraction, Pure]> {
  let summary = "alpha * op(A) * op(B) + beta * C";
  let description = [{
    ONNX Gemm: 2-D A and B, optionally transposed; C broadcasts to the result.

    ```mlir
    %y = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true}
         : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$a, Kiln_Tensor:$b, Optional<Kiln_Tensor>:$c,
                       BoolAttr:$transA, BoolAttr:$transB,
                       F32Attr:$alpha, F32Attr:$beta);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_MatMulOp : Kiln_Op<"matmul", [Kiln_Contraction, Pure]> {
  let summary = "Batched matrix product with numpy broadcasting of batch dims";
  let description = [{
    ONNX MatMul restricted to operands of rank 2 or more (the importer reshapes
    1-D operands). Leading dimensions broadcast.

    A quantised matmul has 8-bit `a` (ui8 or i8), int8 `b`, an int32 result
    and `a_zero_point`: it sums `(a - a_zero_point) * b` exactly in int32.

    ```mlir
    %y = kiln.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x16xf32>) -> tensor<2x4x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$a, Kiln_Tensor:$b, OptionalAttr<I64Attr>:$a_zero_point);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$a `,` $b attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_AttentionOp : Kiln_Op<"attention", [Kiln_Contraction, Pure]> {
  let summary = "Scaled dot-product attention: softmax(scale * Q Kt + mask) V";
  let description = [{
    `q` is `[..., Tq, D]`, `kt` the keys transposed `[..., D, Tk]`, `v`
    `[..., Tk, Dv]`, all with the same leading dimensions; the result is
    `[..., Tq, Dv]`. The softmax runs over the keys. The optional `mask`
    broadcasts to `[..., Tq, Tk]`; `mask_kind` says how it applies:
    `add` (added to the scaled scores), `keep` (boolean; where false the score
    becomes `fill`, usually -inf) or `drop` (boolean; where true), or `none`
    without a mask.
    Produced by `kiln-match-attention`; the kernel streams each query row over
    blocks of keys with an online softmax and never holds the score matrix.

    `q_perm`, `kt_perm` and `v_perm` (set by `kiln-fold-transposes`) say that
    the operand is stored untransposed: the logical `q` is
    `transpose(q, q_perm)`. With `out_perm` the result is stored as
    `transpose(logical result, out_perm)`. The kernel reads and writes through
    strides, so the head split and merge of multi-head attention move no data.

    ```mlir
    %o = kiln.attention %q, %kt, %v {mask_kind = "none", scale = 0.125 : f64}
         : (tensor<1x4x8x64xf32>, tensor<1x4x64x8xf32>, tensor<1x4x8x64xf32>) -> tensor<1x4x8x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$q, Kiln_Tensor:$kt, Kiln_Tensor:$v,
                       Optional<Kiln_Tensor>:$mask, F64Attr:$scale, StrAttr:$mask_kind,
                       DefaultValuedAttr<F64Attr, "-INFINITY">:$fill,
                       OptionalAttr<DenseI64ArrayAttr>:$q_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$kt_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$v_perm,
                       OptionalAttr<DenseI64ArrayAttr>:$out_perm);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $q `,` $kt `,` $v (`,` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Logical shapes of q, kt, v and the result, after the permutations.
    llvm::SmallVector<int64_t> qShape();
    llvm::SmallVector<int64_t> ktShape();
    llvm::SmallVector<int64_t> vShape();
    llvm::SmallVector<int64_t> resultShape();
  }];
}

//===----------------------------------------------------------------------===//
// Normalisation and reductions
//===----------------------------------------------------------------------===//

def Kiln_SoftmaxOp : Kiln_Op<"softmax", [Kiln_RowReduction, Pure, SameOperandsAndResultType]> {
  let summary = "Softmax (or log-softmax) along one axis";
  let description = [{
    ONNX Softmax (opset 13 semantics): normalises along `axis` only. With
    `log` set it is ONNX LogSoftmax, computed as `x - max - log(sum(exp(x - max)))`.

    ```mlir
    %y = kiln.softmax %x {axis = 1 : i64} : tensor<1x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$log);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm", [Kiln_RowReduction, Pure]> {
  let summary = "Layer normalisation over the trailing axes from `axis`";
  let description = [{
    ONNX LayerNormalization: normalises over dimensions `axis..rank-1`, then
    applies `scale` and optional `bias` (broadcast over those dimensions).

    ```mlir
    %y = kiln.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32}
         : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale,
                       Optional<Kiln_Tensor>:$bias, I64Attr:$axis, F32Attr:$epsilon);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_BatchNormOp : Kiln_Op<"batch_norm", [Kiln_Elementwise, Pure]> {
  let summary = "Inference-mode batch normalisation over channel axis 1";
  let description = [{
    ONNX BatchNormalization in inference mode:
    `y = scale * (x - mean) / sqrt(var + epsilon) + bias` per channel.
    `kiln-fold-batch-norm` folds it into a preceding convolution when the
    statistics are constants.

    ```mlir
    %y = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-05 : f32}
         : (tensor<1x4x8x8xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$scale, Kiln_Tensor:$bias,
                       Kiln_Tensor:$mean, Kiln_Tensor:$variance, F32Attr:$epsilon);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

class Kiln_ReduceOp<string mnemonic, string what>
    : Kiln_Op<mnemonic, [Kiln_Reduction, Pure]> {
  let summary = "Reduction: " # what # " over `axes`";
  let description = "Reduces with " # what # [{ over the listed (non-negative,
    sorted) axes, keeping them as size-1 dimensions when `keepdims` is set.

    ```mlir
    %y = kiln.}] # mnemonic # [{ %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x8xf32>) -> tensor<2x1xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes, BoolAttr:$keepdims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "the mean">;
def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "the sum">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "the maximum">;
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min", "the minimum">;
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod", "the product">;
def Kiln_ReduceL1Op : Kiln_ReduceOp<"reduce_l1", "the sum of absolute values">;
def Kiln_ReduceL2Op : Kiln_ReduceOp<"reduce_l2", "the Euclidean norm">;
def Kiln_ReduceSumSquareOp : Kiln_ReduceOp<"reduce_sum_square", "the sum of squares">;
def Kiln_ReduceLogSumOp : Kiln_ReduceOp<"reduce_log_sum", "the log of the sum">;
def Kiln_ReduceLogSumExpOp : Kiln_ReduceOp<"reduce_log_sum_exp", "log(sum(exp(x))), computed stably">;

def Kiln_ArgReduceOp : Kiln_Op<"arg_reduce", [Kiln_Reduction, Pure]> {
  let summary = "Index of the maximum or minimum along one axis";
  let description = [{
    ONNX ArgMax (`max = true`) and ArgMin: int64 indices along `axis`; ties
    give the first index, or the last with `select_last_index`.

    ```mlir
    %i = kiln.arg_reduce %x {axis = 1 : i64, keepdims = true, max = true, select_last_index = false}
         : (tensor<2x8xf32>) -> tensor<2x1xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, BoolAttr:$keepdims,
                       BoolAttr:$max, BoolAttr:$select_last_index);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

def Kiln_MaxPoolOp : Kiln_Op<"max_pool", [Kiln_Pooling, Pure]> {
  let summary = "Max pooling, NCHW (2-D or 3-D) or channels-last NHWC (2-D)";
  let description = [{
    ONNX MaxPool with explicit pads (`[top, left, bottom, right]`); padded
    positions never win. `ceil_mode` is reflected in the result shape.

    ```mlir
    %y = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>,
           pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
         : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations, UnitAttr:$channels_last);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GlobalAveragePoolOp : Kiln_Op<"global_average_pool", [Kiln_Pooling, Pure]> {
  let summary = "Mean over all spatial positions, NCHW or channels-last NHWC";
  let description = [{
    With `channels_last` the input is `[N, H, W, C]` and the result `[N, 1, 1, C]`.

    ```mlir
    %y = kiln.global_average_pool %x : (tensor<1x8x7x7xf32>) -> tensor<1x8x1x1xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, UnitAttr:$channels_last);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Kiln_ReshapeOp : Kiln_Op<"reshape", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Reinterpret a tensor with a new static shape";
  let description = [{
    ONNX Reshape, Flatten, Squeeze and Unsqueeze all become this op: the data is
    unchanged and only the (static) shape differs. The element counts must agree.

    ```mlir
    %y = kiln.reshape %x : (tensor<1x512x1x1xf32>) -> tensor<1x512xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Permute dimensions";
  let description = [{
    `output.shape[i] = input.shape[perm[i]]`.

    ```mlir
    %y = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_SliceOp : Kiln_Op<"slice", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Strided slice with one start and step per dimension";
  let description = [{
    ONNX Slice with constant starts/ends/axes/steps, normalised to one clamped
    `start` and non-zero `step` per dimension; the count per dimension is the
    result shape. `output[i] = input[start + i * step]` per dimension.

    ```mlir
    %y = kiln.slice %x {starts = array<i64: 0, 2>, steps = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$starts,
                       DenseI64ArrayAttr:$steps);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  // Slices of constants (per-direction and per-gate weights) fold.
  let hasFolder = 1;
}

def Kiln_ConcatOp : Kiln_Op<"concat", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Concatenate along one axis";
  let description = [{
    ```mlir
    %y = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  // Concatenations of constants (biases the importer assembles) fold.
  let hasFolder = 1;
}

def Kiln_SplitOp : Kiln_Op<"split", [Kiln_DataMovement, Pure]> {
  let summary = "Split along one axis into consecutive pieces";
  let description = [{
    The piece sizes are the results' sizes along `axis`.

    ```mlir
    %a, %b = kiln.split %x {axis = 1 : i64} : (tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<1x4xf32>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis);
  let results = (outs Variadic<Kiln_Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GatherOp : Kiln_Op<"gather", [Kiln_DataMovement, Pure]> {
  let summary = "Gather slices of `data` along `axis` at `indices`";
  let description = [{
    ONNX Gather: negative indices count from the end; an index outside
    `[-n, n)` is an error reported by the generated code at run time.

    ```mlir
    %y = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<1000x256xf32>, tensor<1x128xi64>) -> tensor<1x128x256xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_Tensor:$indices, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ShapeOp : Kiln_Op<"shape", [Pure]> {
  let summary = "The (static) shape of a tensor as a 1-D int64 tensor";
  let description = [{
    ONNX Shape with `start`/`end` normalised. Always folds to a constant, since
    every shape is static.

    ```mlir
    %s = kiln.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<1x128x256xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Further data movement and indexing
//===----------------------------------------------------------------------===//

def Kiln_ExpandOp : Kiln_Op<"expand", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Broadcast a tensor to a larger shape";
  let description = [{
    ONNX Expand: the result shape is the numpy broadcast of the input shape
    and the requested shape.

    ```mlir
    %y = kiln.expand %x : (tensor<3x1xf32>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_TileOp : Kiln_Op<"tile", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Repeat a tensor along each dimension";
  let description = [{
    ONNX Tile: `output.shape[d] = input.shape[d] * repeats[d]`.

    ```mlir
    %y = kiln.tile %x {repeats = array<i64: 2, 1>} : (tensor<2x3xf32>) -> tensor<4x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$repeats);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_PadOp : Kiln_Op<"pad", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Pad with a constant, by reflection or by repeating the edge";
  let description = [{
    ONNX Pad with constant pads `[begin..., end...]` (non-negative), `mode`
    one of `constant`, `reflect`, `edge`.

    ```mlir
    %y = kiln.pad %x {mode = "constant", pads = array<i64: 0, 1, 0, 1>, value = 0.0 : f64} : (tensor<2x3xf32>) -> tensor<2x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$pads,
                       StrAttr:$mode, F64Attr:$value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_TriluOp : Kiln_Op<"trilu", [Kiln_DataMovement, Pure, SameOperandsAndResultType]> {
  let summary = "Keep the upper or lower triangle of the last two dimensions";
  let description = [{
    ONNX Trilu: element (i, j) is kept when `j - i >= k` (upper) or
    `j - i <= k` (lower), and zeroed otherwise.

    ```mlir
    %y = kiln.trilu %x {k = 0 : i64, upper = true} : tensor<4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$k, BoolAttr:$upper);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Kiln_CumSumOp : Kiln_Op<"cumsum", [Kiln_RowReduction, Pure, SameOperandsAndResultType]> {
  let summary = "Cumulative sum along one axis";
  let description = [{
    ONNX CumSum, optionally `exclusive` (each element excludes itself) and
    `reverse` (summing from the end).

    ```mlir
    %y = kiln.cumsum %x {axis = 0 : i64, exclusive = false, reverse = false} : tensor<5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, BoolAttr:$exclusive,
                       BoolAttr:$reverse);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Kiln_HardmaxOp : Kiln_Op<"hardmax", [Kiln_RowReduction, Pure, SameOperandsAndResultType]> {
  let summary = "One-hot of the first maximum along one axis";
  let description = [{
    ```mlir
    %y = kiln.hardmax %x {axis = 1 : i64} : tensor<2x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` type($output)";
}

def Kiln_GatherElementsOp : Kiln_Op<"gather_elements", [Kiln_DataMovement, Pure]> {
  let summary = "Gather single elements along one axis";
  let description = [{
    ONNX GatherElements: the result has the indices' shape and
    `out[i][j] = data[indices[i][j]][j]` for axis 0 (likewise for other
    axes). Indices out of `[-n, n)` are reported at run time.

    ```mlir
    %y = kiln.gather_elements %x, %i {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<2x2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_Tensor:$indices, I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_AvgPoolOp : Kiln_Op<"avg_pool", [Kiln_Pooling, Pure]> {
  let summary = "Average pooling, NCHW (2-D or 3-D) or channels-last NHWC (2-D)";
  let description = [{
    ONNX AveragePool with explicit pads (`[top, left, bottom, right]`). With
    `count_include_pad` the divisor counts padded positions (but never
    positions past the padding that ceil mode adds).

    ```mlir
    %y = kiln.avg_pool %x {count_include_pad = false, kernel_shape = array<i64: 3, 3>,
           pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
         : (tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       BoolAttr:$count_include_pad, UnitAttr:$channels_last);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_NllLossOp : Kiln_Op<"nll_loss", [Kiln_Reduction, Pure]> {
  let summary = "Negative log-likelihood loss";
  let description = [{
    ONNX NegativeLogLikelihoodLoss on log-probabilities `[N, C, d...]` and
    integer targets `[N, d...]`, with optional class weights `[C]`,
    `reduction` one of `none`, `sum`, `mean`, and an optional `ignore_index`.
    SoftmaxCrossEntropyLoss imports as a log-softmax over axis 1 followed by
    this op. Targets outside `[0, C)` that are not ignored are reported at
    run time.

    ```mlir
    %l = kiln.nll_loss %logp, %t {reduction = "mean"} : (tensor<3x5xf32>, tensor<3xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$target,
                       Optional<Kiln_Tensor>:$weight, StrAttr:$reduction,
                       OptionalAttr<I64Attr>:$ignore_index);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $target (`,` $weight^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_TopKOp : Kiln_Op<"topk", [Kiln_Reduction, Pure]> {
  let summary = "The k largest (or smallest) elements along one axis, with indices";
  let description = [{
    ONNX TopK with a constant `k`: values and int64 indices, sorted by value
    (largest first unless `largest` is false); equal values keep index order.

    ```mlir
    %v, %i = kiln.topk %x {axis = 1 : i64, largest = true} : (tensor<3x4xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, I64Attr:$axis, BoolAttr:$largest);
  let results = (outs Kiln_Tensor:$values, Kiln_Tensor:$indices);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_GatherNDOp : Kiln_Op<"gather_nd", [Kiln_DataMovement, Pure]> {
  let summary = "Gather slices addressed by index tuples";
  let description = [{
    ONNX GatherND: the last dimension of `indices` holds index tuples into
    the dimensions of `data` after the first `batch_dims`.

    ```mlir
    %y = kiln.gather_nd %x, %i {batch_dims = 0 : i64} : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_Tensor:$indices, I64Attr:$batch_dims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$data `,` $indices attr-dict `:` functional-type(operands, results)";
}

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements", [Kiln_DataMovement, Pure]> {
  let summary = "Copy of data with elements replaced (or combined) at indices along an axis";
  let description = [{
    ONNX ScatterElements: `reduction` is `none`, `add` or `mul`.

    ```mlir
    %y = kiln.scatter_elements %d, %i, %u {axis = 1 : i64, reduction = "none"}
         : (tensor<1x5xf32>, tensor<1x2xi64>, tensor<1x2xf32>) -> tensor<1x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_Tensor:$indices, Kiln_Tensor:$updates,
                       I64Attr:$axis, StrAttr:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd", [Kiln_DataMovement, Pure]> {
  let summary = "Copy of data with slices replaced (or combined) at index tuples";
  let description = [{
    ONNX ScatterND: `reduction` is `none`, `add` or `mul`.

    ```mlir
    %y = kiln.scatter_nd %d, %i, %u {reduction = "none"}
         : (tensor<8xf32>, tensor<4x1xi64>, tensor<4xf32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$data, Kiln_Tensor:$indices, Kiln_Tensor:$updates,
                       StrAttr:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$data `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)";
}

def Kiln_ResizeOp : Kiln_Op<"resize", [Kiln_DataMovement, Pure, SameOperandsAndResultElementType]> {
  let summary = "Nearest, linear or cubic resampling";
  let description = [{
    ONNX Resize (opset 13 semantics) with its scales/sizes resolved: `scales`
    has one factor per dimension (output/input when sizes were given) and
    `roi` holds `[starts..., ends...]` for `tf_crop_and_resize` (else empty).
    Interpolation is separable: each dimension contributes 1, 2 or 4 taps
    whose indices and weights the code generator computes at compile time.

    ```mlir
    %y = kiln.resize %x {coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.5e-01 : f64,
           exclude_outside = false, extrapolation_value = 0.0 : f64, mode = "linear",
           nearest_mode = "round_prefer_floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]}
         : (tensor<1x1x2x2xf32>) -> tensor<1x1x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, StrAttr:$mode,
                       StrAttr:$coordinate_transformation_mode, StrAttr:$nearest_mode,
                       F64Attr:$cubic_coeff_a, BoolAttr:$exclude_outside,
                       F64Attr:$extrapolation_value, F64ArrayAttr:$scales,
                       F64ArrayAttr:$roi);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Fusion
//===----------------------------------------------------------------------===//

def Kiln_FusedElementwiseOp : Kiln_Op<"fused_elementwise",
    [Kiln_Elementwise, IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "A chain of elementwise ops computed in one loop nest";
  let description = [{
    Produced by `kiln-fuse-elementwise`. The body computes the result from
    block arguments that stand for `inputs`; it holds only elementwise kiln
    ops (unary, clip, broadcasting arithmetic, where, pointwise) and ends in
    `kiln.yield`. Every body value broadcasts to the result shape, so the
    kernel evaluates the whole body per result element, reading each input
    through its broadcast index, and writes only the result.

    ```mlir
    %y = kiln.fused_elementwise %x, %b : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32> {
    ^bb0(%a: tensor<1x64xf32>, %c: tensor<64xf32>):
      %s = kiln.add %a, %c : (tensor<1x64xf32>, tensor<64xf32>) -> tensor<1x64xf32>
      %r = kiln.relu %s : tensor<1x64xf32>
      kiln.yield %r : tensor<1x64xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs);
  let results = (outs Kiln_Tensor:$output);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results) $body";
  let hasVerifier = 1;
}

def Kiln_FusedContractionOp : Kiln_Op<"fused_contraction",
    [Kiln_Contraction, IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "A convolution or matrix product with its elementwise epilogue";
  let description = [{
    Produced by `kiln-fuse-epilogue`. The body's head is a float32
    `kiln.conv` (channels-last), `kiln.gemm` or `kiln.matmul` on block
    arguments; the ops after it are elementwise (as in
    `kiln.fused_elementwise`), and every one of their values broadcasts to the
    contraction's result shape. The kernel applies the epilogue to each tile of
    accumulators before storing it, so the contraction's result is never
    written to memory.

    A channels-last conv may also have a prologue: one `kiln.mul` before it
    that scales its input per image and channel by a `[N or 1, 1, 1, C]`
    value (squeeze-and-excitation). The kernel scales each input element as
    it reads it, so the scaled activation is never written either.

    ```mlir
    %y = kiln.fused_contraction %a, %b, %r : (tensor<64x96xf32>, tensor<96x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32> {
    ^bb0(%x: tensor<64x96xf32>, %w: tensor<96x128xf32>, %res: tensor<64x128xf32>):
      %m = kiln.matmul %x, %w : (tensor<64x96xf32>, tensor<96x128xf32>) -> tensor<64x128xf32>
      %s = kiln.add %m, %res : (tensor<64x128xf32>, tensor<64x128xf32>) -> tensor<64x128xf32>
      %r = kiln.relu %s : tensor<64x128xf32>
      kiln.yield %r : tensor<64x128xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs);
  let results = (outs Kiln_Tensor:$output);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The conv, gemm or matmul that heads the body.
    mlir::Operation *getContraction();
    /// The per-channel scale of the conv's input (a block argument), or null.
    mlir::Value getInputScale();
  }];
}

def Kiln_FusedRowOp : Kiln_Op<"fused_row", [Kiln_RowReduction, IsolatedFromAbove, RecursiveMemoryEffects]> {
  let summary = "A last-axis softmax or layer norm with its elementwise prologue and epilogue";
  let description = [{
    Produced by `kiln-fuse-rows`. The body computes the input of one
    float32 `kiln.softmax` or `kiln.layer_norm` over the last axis with
    elementwise ops (the prologue), applies it, and applies elementwise ops
    to its result (the epilogue); every value broadcasts to the result
    shape. The kernel handles one row at a time in local arrays: the
    prologue's result and the normalised row never go to memory.

    ```mlir
    %y = kiln.fused_row %x, %r, %g, %b : (tensor<4x64xf32>, tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32> {
    ^bb0(%a: tensor<4x64xf32>, %c: tensor<4x64xf32>, %s: tensor<64xf32>, %t: tensor<64xf32>):
      %0 = kiln.add %a, %c : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
      %1 = kiln.layer_norm %0, %s, %t {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
      %2 = kiln.relu %1 : tensor<4x64xf32>
      kiln.yield %2 : tensor<4x64xf32>
    }
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs);
  let results = (outs Kiln_Tensor:$output);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$inputs attr-dict `:` functional-type($inputs, results) $body";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The softmax or layer norm in the body.
    mlir::Operation *getHead();
  }];
}

def Kiln_RecurrenceOp : Kiln_Op<"recurrence",
    [Kiln_Contraction, IsolatedFromAbove, RecursiveMemoryEffects, AttrSizedOperandSegments]> {
  let summary = "A recurrent layer's loop over time: per step one GEMM with the recurrent weights and the cell";
  let description = [{
    One direction of an ONNX RNN, GRU (with `linear_before_reset`) or LSTM,
    run as one kernel that loops over the time steps. `inputs`
    `[steps, batch, gates * hidden]` holds every step's input projection
    (X·Wᵀ plus the biases, computed beforehand by one GEMM for all steps),
    `weights` the recurrent weights R `[gates * hidden, hidden]`, `initial`
    the initial states `[batch, hidden]` (h first, then an LSTM's c),
    `extras` per-unit vectors `[hidden]` that the cell reads (peepholes, GRU's
    recurrent candidate bias), and `sequence_lens` `[batch]` (int32), if any,
    the length of each batch entry's sequence.

    Step t runs t = 0, 1, ... (backwards with `reverse`): it computes
    `r = h·Rᵀ` and then the body, elementwise over `[batch, hidden]`: the
    body's arguments are the step's input projections of the gates
    `x_0 .. x_{gates-1}`, their recurrent parts `r_0 .. r_{gates-1}`, the
    states and the extras (`[hidden]`, broadcast over the batch); it yields
    the new states, h first. `y` holds h after every step; the states
    results hold them after the last. Past a batch entry's sequence length
    its states are held and its `y` rows are zero.

    ```mlir
    %y, %h = kiln.recurrence %xw, %r, %h0 {gates = 1 : i64, reverse = false}
        : (tensor<8x1x48xf32>, tensor<48x48xf32>, tensor<1x48xf32>) -> (tensor<8x1x48xf32>, tensor<1x48xf32>) {
    ^bb0(%x: tensor<1x48xf32>, %rh: tensor<1x48xf32>, %h: tensor<1x48xf32>):
      %s = kiln.add %x, %rh : (tensor<1x48xf32>, tensor<1x48xf32>) -> tensor<1x48xf32>
      %t = kiln.tanh %s : tensor<1x48xf32>
      kiln.yield %t : tensor<1x48xf32>
    }
    ```
  }];
  let arguments = (ins Kiln_Tensor:$inputs, Kiln_Tensor:$weights,
                       Variadic<Kiln_Tensor>:$initial, Variadic<Kiln_Tensor>:$extras,
                       Optional<Kiln_Tensor>:$sequence_lens,
                       I64Attr:$gates, BoolAttr:$reverse);
  let results = (outs Kiln_Tensor:$y, Variadic<Kiln_Tensor>:$states);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $inputs `,` $weights `,` $initial (`extras` `(` $extras^ `)`)?
    (`lengths` `(` $sequence_lens^ `)`)? attr-dict `:` functional-type(operands, results) $body
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernel-level ops (used in the kernel form, see codegen/kernel/KernelForm.h)
//===----------------------------------------------------------------------===//

def Kiln_CheckOp : Kiln_Op<"check", [MemoryEffects<[MemWrite]>]> {
  let summary = "Stops the kernel with an error unless a run-time condition holds";
  let description = [{
    A kernel-form op for what upstream MLIR has no portable form of: when
    `ok` is false the kernel stops and the model's run fails with `message`,
    in which `{0}`, `{1}`, ... stand for `values` (data-dependent indices
    out of range, for instance). The CPU backend returns the error from the
    kernel function; nothing after a failed check runs.

    ```mlir
    kiln.check %in_range, "index {0} at position {1} is out of range [-4, 4)"(%raw, %i : i64, index)
    ```
  }];
  let arguments = (ins I1:$ok, StrAttr:$message,
                       Variadic<AnyTypeOf<[AnySignlessInteger, Index, AnyFloat]>>:$values);
  let assemblyFormat = "$ok `,` $message (`(` $values^ `:` type($values) `)`)? attr-dict";
  let hasVerifier = 1;
}

def Kiln_TopIndicesOp : Kiln_Op<"top_indices", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "Orders the first k of n indices by their keys (a partial sort)";
  let description = [{
    A kernel-form op for selection, which has no loop form of the same cost:
    afterwards `order[0..k)` holds the indices j in [0, n) of the k largest
    (or, with `largest` false, smallest) keys `keys[base + j * stride]`, best
    first; equal keys keep index order. `order` needs n elements.

    ```mlir
    kiln.top_indices %x[%base], %order {k = 2 : i64, n = 4 : i64, stride = 1 : i64, largest = true} : memref<12xf32>, memref<4xindex>
    ```
  }];
  let arguments = (ins AnyMemRef:$keys, Index:$base, AnyMemRef:$order, I64Attr:$k,
                       I64Attr:$n, I64Attr:$stride, BoolAttr:$largest);
  let assemblyFormat = "$keys `[` $base `]` `,` $order attr-dict `:` type($keys) `,` type($order)";
  let hasVerifier = 1;
}

def Kiln_GemmTileOp : Kiln_Op<"gemm_tile", [MemoryEffects<[MemRead, MemWrite]>,
                                             AttrSizedOperandSegments]> {
  let summary = "One register-blocked tile of a GEMM, on the micro-kernel";
  let description = [{
    A kernel-form op for the register-blocked product that plain loops do not
    reach: with R = `tile_rows`, N = `width` * `vectors` and K = `depth`, for
    p < R and j < N it sets

        acc[p * N + j] = sum over t < taps, kk < K of
                         A(t * R + p)[kk * a_stride] * b[b_base + (t * K + kk) * N + j]

    where row A(q) starts at element `rows[q]` of `a`; or of `alt` where
    `alt_rows[q]` is true (a scratch of copied or rescaled rows); or, with
    `zero_rows`, is a row of zeros where `rows[q]` is negative (a
    convolution's padding). `b` is a block of `taps * K` rows of N floats:
    weights packed for the micro-kernel, or any such block. The CPU backend
    calls `kiln::mk::gemmTile<width, tile_rows, vectors>`.

    With 8-bit `a` (ui8 or i8), int8 `b` and int32 `acc` it is the int8
    tile `kiln::mk::gemmTileInt8`: `b[b_base]` starts a block of N int32
    (each output's starting sum) followed by `[taps][K/4][N][4]` int8
    weights, K is a multiple of 4, and padding rows hold `zero_point`.

    ```mlir
    kiln.gemm_tile %h[%rows], %w[%base], %acc depth %c64 {width = 16 : i64, tile_rows = 4 : i64, vectors = 2 : i64, taps = 1 : i64} : memref<256xf32>[memref<4xindex>], memref<8192xf32>, memref<128xf32>
    ```
  }];
  let arguments = (ins AnyMemRef:$a, AnyMemRef:$rows, Optional<AnyMemRef>:$alt,
                       Optional<AnyMemRef>:$alt_rows, AnyMemRef:$b, Index:$b_base,
                       AnyMemRef:$acc, Index:$depth, I64Attr:$width, I64Attr:$tile_rows,
                       I64Attr:$vectors, I64Attr:$taps,
                       DefaultValuedAttr<I64Attr, "1">:$a_stride, UnitAttr:$zero_rows,
                       OptionalAttr<I64Attr>:$zero_point);
  let assemblyFormat = [{
    $a `[` $rows `]` (`or` $alt^ `[` $alt_rows `]`)? `,` $b `[` $b_base `]` `,` $acc
    `depth` $depth attr-dict `:` type($a) `[` type($rows) `]`
    (`or` type($alt)^ `[` type($alt_rows) `]`)? `,` type($b) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Kiln_DepthwiseTileOp : Kiln_Op<"depthwise_tile", [MemoryEffects<[MemRead, MemWrite]>,
                                                       AttrSizedOperandSegments]> {
  let summary = "One register tile of a channels-last depthwise or grouped convolution";
  let description = [{
    With P = `pixels`, N = `width` * `vectors`, C = `channels` (the pixel
    stride of `x`), KW = `kernel_w` and G = `group_size` (1 for a depthwise
    convolution; otherwise each group has G input and G output channels and
    G divides `width`), for p < P and j < N it sets

        acc[p * N + j] = bias[bias_base + j] (0 without bias)
            + sum over kh < kernel_h with rows[kh] >= 0, kw_begin <= kw < kw_end,
                       r < G of
              x[rows[kh] + (p * stride + (kw - kw_begin) * dilation) * C + rot(j, r)]
              * w[w_base + ((kh * KW + kw) * G + r) * C + j]

    where rot(j, r) = (j / G) * G + (j % G + r) % G: input channel r places
    further in the group of output channel j (weights packed that way at
    compile time, so that the inputs of a vector rotate within its groups
    rather than being broadcast). `rows[kh]` is where tap `kw_begin` of
    pixel 0 reads in tap row kh, or negative where that input row is
    padding. The CPU backend calls `kiln::mk::depthwiseTile` or, for G > 1,
    `kiln::mk::groupedTile`.

    ```mlir
    kiln.depthwise_tile %x[%rows], %w[%c0], %acc bias %b[%c0] {width = 8 : i64, pixels = 4 : i64, vectors = 2 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, stride = 1 : i64, dilation = 1 : i64, channels = 32 : i64, kw_begin = 0 : i64, kw_end = 3 : i64} : memref<4096xf32>, memref<3xindex>, memref<288xf32>, memref<64xf32>, memref<32xf32>
    ```
  }];
  let arguments = (ins AnyMemRef:$x, AnyMemRef:$rows, AnyMemRef:$w, Index:$w_base,
                       AnyMemRef:$acc, Optional<AnyMemRef>:$bias, Optional<Index>:$bias_base,
                       I64Attr:$width, I64Attr:$pixels, I64Attr:$vectors, I64Attr:$kernel_h,
                       I64Attr:$kernel_w, I64Attr:$stride, I64Attr:$dilation,
                       I64Attr:$channels, I64Attr:$kw_begin, I64Attr:$kw_end,
                       DefaultValuedAttr<I64Attr, "1">:$group_size);
  let assemblyFormat = [{
    $x `[` $rows `]` `,` $w `[` $w_base `]` `,` $acc (`bias` $bias^ `[` $bias_base `]`)?
    attr-dict `:` type($x) `,` type($rows) `,` type($w) `,` type($acc) (`,` type($bias)^)?
  }];
  let hasVerifier = 1;
}

def Kiln_MmaBlockOp : Kiln_Op<"mma_block", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "One block tile of a product on tensor cores (the CUDA backend)";
  let description = [{
    A kernel-form op for a product whose block tile one GPU block computes
    cooperatively on tensor cores: with BM = `block_m`, BN = `block_n`, for
    i < BM and j < BN it sets

        acc[i * BN + j] = sum over kk < k of round(A(m0 + i, kk)) * round(B(kk, n0 + j))

    in float32, where A(r, c) is `a[idx]` for the (idx, exists) that region
    `a_element` yields for (r, c), or 0 where it yields false or r >= m;
    B likewise from `b_element` and n. `round` rounds to `precision`'s
    inputs (tf32: 10 mantissa bits, ties away; fp16 and bf16: to nearest
    even), as the tensor cores read them. `acc` is block scratch (shared
    memory on the GPU). `a_m_fastest` and `b_n_fastest` say which index of
    an operand walks memory contiguously, so that copies coalesce.

    The CUDA backend expands it (TensorCore.cpp) into cp.async staging,
    mma.sync and an accumulator store; the CPU printer (emulation) prints the
    sum above.

    ```mlir
    kiln.mma_block %a, %b, %acc at(%m0, %n0) a {
    ^bb0(%r: index, %c: index):
      ...
      kiln.element_at %idx, %true
    } b {
    ^bb0(%r: index, %c: index):
      ...
    } {m = 100 : i64, n = 64 : i64, k = 32 : i64, block_m = 64 : i64, block_n = 64 : i64, precision = "fp16"} : memref<3200xf32>, memref<2048xf32>, memref<4096xf32>
    ```
  }];
  let arguments = (ins AnyMemRef:$a, AnyMemRef:$b, AnyMemRef:$acc, Index:$m0, Index:$n0,
                       I64Attr:$m, I64Attr:$n, I64Attr:$k, I64Attr:$block_m, I64Attr:$block_n,
                       StrAttr:$precision, UnitAttr:$a_m_fastest, UnitAttr:$b_n_fastest);
  let regions = (region SizedRegion<1>:$a_element, SizedRegion<1>:$b_element);
  let assemblyFormat = [{
    $a `,` $b `,` $acc `at` `(` $m0 `,` $n0 `)` `a` $a_element `b` $b_element attr-dict `:`
    type($a) `,` type($b) `,` type($acc)
  }];
  let hasVerifier = 1;
}

def Kiln_ElementAtOp : Kiln_Op<"element_at", [Pure, Terminator, HasParent<"MmaBlockOp">]> {
  let summary = "Where an operand element of kiln.mma_block is, and whether it exists";
  let arguments = (ins Index:$index, I1:$exists);
  let assemblyFormat = "$index `,` $exists attr-dict";
}

def Kiln_YieldOp : Kiln_Op<"yield", [Pure, Terminator,
    ParentOneOf<["FusedElementwiseOp", "FusedContractionOp", "FusedRowOp", "RecurrenceOp"]>]> {
  let summary = "The results of a fused or recurrent body";
  let arguments = (ins Variadic<Kiln_Tensor>:$values);
  let assemblyFormat = "$values attr-dict `:` type($values)";
}

#endif // KILN_OPS_TD
