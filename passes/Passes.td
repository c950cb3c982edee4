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
    The folded values are computed in double precision. A batch norm with
    constant parameters that follows no such conv becomes `x * s + t` with
    per-channel constants `[C, 1, ...]` (a `kiln.mul` and a `kiln.add`, which
    fuse and follow the layout of their input); one with run-time parameters
    is left for the code generator.
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

def TrimConvTaps : Pass<"kiln-trim-conv-taps", "mlir::func::FuncOp"> {
  let summary = "Drop the kernel taps of a convolution that read only padding";
  let description = [{
    A tap of a (typically dilated) NCHW `kiln.conv` with constant weights
    that reads padding for every output position contributes nothing. The
    weights are sliced to the taps that read the input somewhere, the
    leading pads shrink by the dropped taps' extent and the trailing pads
    are recomputed so the result shape stays; a kernel dimension left with
    one tap gets dilation 1. Taps whose weights include inf or NaN are kept
    (0 * inf is NaN). A leading tap is kept where dropping it would need a
    negative pad.

    Before (dilation 36 on a 24x24 map: only the centre tap reads the input):
    ```mlir
    %y = kiln.conv %x, %w {dilations = array<i64: 36, 36>, group = 1 : i64,
           pads = array<i64: 36, 36, 36, 36>, strides = array<i64: 1, 1>}
         : (tensor<1x8x24x24xf32>, tensor<8x8x3x3xf32>) -> tensor<1x8x24x24xf32>
    ```
    After:
    ```mlir
    %y = kiln.conv %x, %w_centre {dilations = array<i64: 1, 1>, group = 1 : i64,
           pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
         : (tensor<1x8x24x24xf32>, tensor<8x8x1x1xf32>) -> tensor<1x8x24x24xf32>
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

def ChannelsLast : Pass<"kiln-channels-last", "mlir::func::FuncOp"> {
  let summary = "Run 2-D convolutions and pooling in NHWC and cancel the layout conversions";
  let description = [{
    Rewrites every 2-D float32 `kiln.conv`, `kiln.max_pool`, `kiln.avg_pool`
    and `kiln.global_average_pool` to its `channels_last` form between an
    NCHW -> NHWC and an NHWC -> NCHW `kiln.transpose`; constant weights are
    re-laid out from OIHW to HWIO at compile time. Each NHWC -> NCHW
    conversion then sinks through layout-agnostic ops (elementwise ops, whose
    constant and broadcast operands are re-laid out; concat, whose axis
    moves; pad, whose pads move) and cancels against the next NCHW -> NHWC
    conversion. A conversion that moves only unit dimensions becomes a
    reshape. On a CNN one conversion remains for the input and one per 4-D
    output; the report counts them as `layout_conversions`.

    Before:
    ```mlir
    %c = kiln.conv %x, %w, %b {...} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
    %r = kiln.relu %c : tensor<1x4x8x8xf32>
    %p = kiln.max_pool %r {...} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
    ```
    After:
    ```mlir
    %t = kiln.transpose %x {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x8x8x3xf32>
    %c = kiln.conv %t, %w_hwio, %b {channels_last, ...} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32>
    %r = kiln.relu %c : tensor<1x8x8x4xf32>
    %p = kiln.max_pool %r {channels_last, ...} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
    %y = kiln.transpose %p {perm = array<i64: 0, 3, 1, 2>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
    ```
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
    a `Softmax` over the last axis, and a `MatMul` with V. Several additive
    masks, with reshapes between them that only regroup the leading
    dimensions (Swin's relative-position bias and per-window shift mask), are
    summed into one constant mask at compile time. Every op of the
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

def FuseEpilogue : Pass<"kiln-fuse-epilogue", "mlir::func::FuncOp"> {
  let summary = "Fuse the elementwise consumer of a conv, gemm or matmul (and a conv's input scaling) into its kernel";
  let description = [{
    When the only user of a float32 `kiln.gemm`, `kiln.matmul` or
    channels-last `kiln.conv` is a `kiln.fused_elementwise` or a single
    fusable elementwise op that reads the contraction's result at full shape
    (bias add, activation, residual add, clip), both become one
    `kiln.fused_contraction`. Its kernel applies the epilogue to each tile
    of accumulators before storing it, so the contraction's result never goes
    to memory. A channels-last conv whose input is a single-use `kiln.mul` by
    a `[N or 1, 1, 1, C]` tensor (squeeze-and-excitation scaling) takes that
    mul in as a prologue and scales its input as it reads it. Runs after
    `kiln-fuse-elementwise`.

    Before:
    ```mlir
    %c = kiln.conv %x, %w, %b {channels_last, ...} : (...) -> tensor<1x8x8x16xf32>
    %y = kiln.fused_elementwise %c, %res : (tensor<1x8x8x16xf32>, tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32> {
    ^bb0(%a: tensor<1x8x8x16xf32>, %r: tensor<1x8x8x16xf32>):
      %s = kiln.add %a, %r : (tensor<1x8x8x16xf32>, tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
      %t = kiln.relu %s : tensor<1x8x8x16xf32>
      kiln.yield %t : tensor<1x8x8x16xf32>
    }
    ```
    After:
    ```mlir
    %y = kiln.fused_contraction %x, %w, %b, %res : (...) -> tensor<1x8x8x16xf32> {
    ^bb0(%x0: tensor<1x8x8x3xf32>, %w0: tensor<3x3x3x16xf32>, %b0: tensor<16xf32>, %r: tensor<1x8x8x16xf32>):
      %c = kiln.conv %x0, %w0, %b0 {channels_last, ...} : (...) -> tensor<1x8x8x16xf32>
      %s = kiln.add %c, %r : (tensor<1x8x8x16xf32>, tensor<1x8x8x16xf32>) -> tensor<1x8x8x16xf32>
      %t = kiln.relu %s : tensor<1x8x8x16xf32>
      kiln.yield %t : tensor<1x8x8x16xf32>
    }
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

def FoldTransposes : Pass<"kiln-fold-transposes", "mlir::func::FuncOp"> {
  let summary = "Fold the transposes around kiln.attention into its indexing";
  let description = [{
    A `kiln.transpose` feeding q, kt or v of a `kiln.attention` becomes its
    `q_perm`, `kt_perm` or `v_perm`; a transpose that is the only user of an
    attention's result becomes its `out_perm`. The attention kernel reads and
    writes through strides, so the heads' split and merge copy nothing.

    Before:
    ```mlir
    %q = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x64x6x64xf32>) -> tensor<1x6x64x64xf32>
    %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x64x6x64xf32>) -> tensor<1x6x64x64xf32>
    %v = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x64x6x64xf32>) -> tensor<1x6x64x64xf32>
    %o = kiln.attention %q, %kt, %v {mask_kind = "none", scale = 1.250000e-01 : f64} : (...) -> tensor<1x6x64x64xf32>
    %m = kiln.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x6x64x64xf32>) -> tensor<1x64x6x64xf32>
    ```
    After:
    ```mlir
    %m = kiln.attention %q4, %k4, %v4 {kt_perm = array<i64: 0, 2, 3, 1>, mask_kind = "none",
           out_perm = array<i64: 0, 2, 1, 3>, q_perm = array<i64: 0, 2, 1, 3>, scale = 1.250000e-01 : f64,
           v_perm = array<i64: 0, 2, 1, 3>} : (...) -> tensor<1x64x6x64xf32>
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

def FuseRows : Pass<"kiln-fuse-rows", "mlir::func::FuncOp"> {
  let summary = "Fuse elementwise producers and consumers into last-axis softmax and layer norm";
  let description = [{
    A float32 `kiln.softmax` or `kiln.layer_norm` over the last axis (rows of
    at most 8192 elements) absorbs the elementwise chain or op that computes
    its input when that is used only there (the prologue), and the one that
    consumes its result when that is its only user (the epilogue), into a
    `kiln.fused_row`. Runs after `kiln-fuse-epilogue`.

    Before:
    ```mlir
    %s = kiln.add %x, %r : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
    %n = kiln.layer_norm %s, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (...) -> tensor<4x64xf32>
    %y = kiln.relu %n : tensor<4x64xf32>
    ```
    After:
    ```mlir
    %y = kiln.fused_row %x, %r, %g, %b : (...) -> tensor<4x64xf32> {
    ^bb0(%a: tensor<4x64xf32>, %c: tensor<4x64xf32>, %s: tensor<64xf32>, %t: tensor<64xf32>):
      %0 = kiln.add %a, %c : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
      %1 = kiln.layer_norm %0, %s, %t {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (...) -> tensor<4x64xf32>
      %2 = kiln.relu %1 : tensor<4x64xf32>
      kiln.yield %2 : tensor<4x64xf32>
    }
    ```
  }];
  let dependentDialects = ["kiln::KilnDialect"];
}

#endif // KILN_PASSES_TD
