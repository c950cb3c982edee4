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

def FuseElementwise : Pass<"kiln-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse chains of float32 elementwise ops into one kernel";
  let description = [{
    Groups elementwise ops (unary, clip, broadcasting arithmetic, where,
    pointwise) that feed one another into a `kiln.fused_elementwise`, whose
    kernel evaluates the whole chain per result element. A producer joins a
    group only when all its users are in the group, so values read elsewhere
    stay materialised.

    Before:
    ```mlir
    %h = kiln.add %mm, %bias : (tensor<1x64x1536xf32>, tensor<1536xf32>) -> tensor<1x64x1536xf32>
    %d = kiln.div %h, %sqrt2 : (tensor<1x64x1536xf32>, tensor<f32>) -> tensor<1x64x1536xf32>
    %e = kiln.erf %d : tensor<1x64x1536xf32>
    ```
    After:
    ```mlir
    %e = kiln.fused_elementwise %mm, %bias, %sqrt2 : (tensor<1x64x1536xf32>, tensor<1536xf32>, tensor<f32>) -> tensor<1x64x1536xf32> {
    ^bb0(%a: tensor<1x64x1536xf32>, %b: tensor<1536xf32>, %c: tensor<f32>):
      %0 = kiln.add %a, %b : (tensor<1x64x1536xf32>, tensor<1536xf32>) -> tensor<1x64x1536xf32>
      %1 = kiln.div %0, %c : (tensor<1x64x1536xf32>, tensor<f32>) -> tensor<1x64x1536xf32>
      %2 = kiln.erf %1 : tensor<1x64x1536xf32>
      kiln.yield %2 : tensor<1x64x1536xf32>
    }
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

#endif // KILN_PASSES_TD
