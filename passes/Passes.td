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

#endif // KILN_PASSES_TD
