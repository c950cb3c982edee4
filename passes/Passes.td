//===- Passes.td - Kiln graph passes -----------------------*- tablegen -*-===//

#ifndef KILN_PASSES_TD
#define KILN_PASSES_TD

include "mlir/Pass/PassBase.td"

def FoldBatchNorm : Pass<"kiln-fold-batch-norm", "mlir::func::FuncOp"> {
  let summary = "Fold inference-mode batch normalisation into the preceding convolution";
  let description = [{
    When a `kiln.batch_norm` consumes the only use of a `kiln.conv` and the
    convolution's weight and bias and all four normalisation parameters are
    constants, the normalisation is folded into new constant weights and bias:

      w'[o] = w[o] * scale[o] / sqrt(var[o] + eps)
      b'[o] = (b[o] - mean[o]) * scale[o] / sqrt(var[o] + eps) + bias[o]

    Before:
    ```mlir
    %c = kiln.conv %x, %w {...} : (...) -> tensor<1x8x32x32xf32>
    %y = kiln.batch_norm %c, %s, %b, %m, %v {epsilon = 1.0e-05 : f32} : (...) -> tensor<1x8x32x32xf32>
    ```
    After:
    ```mlir
    %y = kiln.conv %x, %w2, %b2 {...} : (...) -> tensor<1x8x32x32xf32>
    ```
    The folded values are computed in double precision. A batch norm that
    cannot be folded is left for the code generator.
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

def MatchAttention : Pass<"kiln-match-attention", "mlir::func::FuncOp"> {
  let summary = "Replace attention written as MatMul/scale/mask/Softmax/MatMul by kiln.attention";
  let description = [{
    Matches scaled dot-product attention the ways exporters write it: the
    scores `MatMul(Q, Kt)`, scaled by constant scalar `Mul`/`Div` on the scores
    or on Q, optionally masked by an `Add` or by a `Where` selecting a
    constant fill value (-inf, or e.g. -1e9),
    a `Softmax` over the last axis, and a `MatMul` with V. Every op of the
    chain must have a single use; softmax over another axis, a mask applied
    after the softmax, or operands that broadcast across batch dimensions are
    left alone.

    Before:
    ```mlir
    %s = kiln.matmul %q, %kt : (tensor<1x6x64x64xf32>, tensor<1x6x64x64xf32>) -> tensor<1x6x64x64xf32>
    %c = kiln.constant dense<8.0> : tensor<f32>
    %d = kiln.div %s, %c : (tensor<1x6x64x64xf32>, tensor<f32>) -> tensor<1x6x64x64xf32>
    %ninf = kiln.constant dense<0xFF800000> : tensor<f32>
    %m = kiln.where %causal, %ninf, %d : (tensor<1x1x64x64xi1>, tensor<f32>, tensor<1x6x64x64xf32>) -> tensor<1x6x64x64xf32>
    %p = kiln.softmax %m {axis = 3 : i64} : tensor<1x6x64x64xf32>
    %o = kiln.matmul %p, %v : (tensor<1x6x64x64xf32>, tensor<1x6x64x64xf32>) -> tensor<1x6x64x64xf32>
    ```
    After:
    ```mlir
    %o = kiln.attention %q, %kt, %v, %causal {mask_kind = "drop", scale = 1.250000e-01 : f64}
         : (tensor<1x6x64x64xf32>, tensor<1x6x64x64xf32>, tensor<1x6x64x64xf32>, tensor<1x1x64x64xi1>) -> tensor<1x6x64x64xf32>
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

#endif // KILN_PASSES_TD
