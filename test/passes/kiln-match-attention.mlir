// kiln-match-attention replaces MatMul(Q, Kt) -> scale -> mask -> Softmax ->
// MatMul(., V) by one kiln.attention, and leaves near misses alone.
// RUN: kiln-opt %s --kiln-match-attention -split-input-file | FileCheck %s

// BERT form: scores divided by sqrt(d), no mask.
// CHECK-LABEL: func.func @scaled_by_div
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8x16xf32>, %[[KT:[^:]+]]: tensor<1x2x16x8xf32>, %[[V:[^:]+]]: tensor<1x2x8x16xf32>)
// CHECK: %[[O:.+]] = kiln.attention %[[Q]], %[[KT]], %[[V]] {mask_kind = "none", scale = 2.500000e-01 : f64}
// CHECK-NOT: kiln.softmax
// CHECK-NOT: kiln.matmul
// CHECK: return %[[O]]
func.func @scaled_by_div(%q: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x8xf32>, %v: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %c = kiln.constant dense<4.0> : tensor<f32>
  %d = kiln.div %s, %c : (tensor<1x2x8x8xf32>, tensor<f32>) -> tensor<1x2x8x8xf32>
  %p = kiln.softmax %d {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// GPT form: causal mask as Where(mask == 0, -inf, scores); scale on Q. The
// fill is the default -inf, so it is not printed.
// CHECK-LABEL: func.func @causal_where
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x4x4xf32>, %[[KT:[^:]+]]: tensor<2x4x4xf32>, %[[V:[^:]+]]: tensor<2x4x4xf32>, %[[M:[^:]+]]: tensor<4x4xi1>)
// CHECK: kiln.attention %[[Q]], %[[KT]], %[[V]], %[[M]] {mask_kind = "drop", scale = 5.000000e-01 : f64}
// CHECK-NOT: kiln.softmax
func.func @causal_where(%q: tensor<2x4x4xf32>, %kt: tensor<2x4x4xf32>, %v: tensor<2x4x4xf32>, %masked: tensor<4x4xi1>) -> tensor<2x4x4xf32> {
  %half = kiln.constant dense<0.5> : tensor<f32>
  %qs = kiln.mul %q, %half : (tensor<2x4x4xf32>, tensor<f32>) -> tensor<2x4x4xf32>
  %s = kiln.matmul %qs, %kt : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %ninf = kiln.constant dense<0xFF800000> : tensor<f32>
  %w = kiln.where %masked, %ninf, %s : (tensor<4x4xi1>, tensor<f32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  %p = kiln.softmax %w {axis = 2 : i64} : tensor<2x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<2x4x4xf32>, tensor<2x4x4xf32>) -> tensor<2x4x4xf32>
  return %o : tensor<2x4x4xf32>
}

// -----

// Additive mask (e.g. padding), the mask on the left of the Add.
// CHECK-LABEL: func.func @additive_mask
// CHECK: kiln.attention %arg0, %arg1, %arg2, %arg3 {mask_kind = "add", scale = 1.000000e+00 : f64}
func.func @additive_mask(%q: tensor<1x3x4xf32>, %kt: tensor<1x4x5xf32>, %v: tensor<1x5x2xf32>, %m: tensor<1x1x5xf32>) -> tensor<1x3x2xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x3x4xf32>, tensor<1x4x5xf32>) -> tensor<1x3x5xf32>
  %a = kiln.add %m, %s : (tensor<1x1x5xf32>, tensor<1x3x5xf32>) -> tensor<1x3x5xf32>
  %p = kiln.softmax %a {axis = 2 : i64} : tensor<1x3x5xf32>
  %o = kiln.matmul %p, %v : (tensor<1x3x5xf32>, tensor<1x5x2xf32>) -> tensor<1x3x2xf32>
  return %o : tensor<1x3x2xf32>
}

// -----

// Near miss: softmax over the queries, not the keys.
// CHECK-LABEL: func.func @softmax_other_axis
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @softmax_other_axis(%q: tensor<1x4x4xf32>, %kt: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>) -> tensor<1x4x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %p = kiln.softmax %s {axis = 1 : i64} : tensor<1x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %o : tensor<1x4x4xf32>
}

// -----

// Near miss: the mask is applied after the softmax.
// CHECK-LABEL: func.func @mask_after_softmax
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @mask_after_softmax(%q: tensor<1x4x4xf32>, %kt: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>, %m: tensor<4x4xf32>) -> tensor<1x4x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %p = kiln.softmax %s {axis = 2 : i64} : tensor<1x4x4xf32>
  %pm = kiln.mul %p, %m : (tensor<1x4x4xf32>, tensor<4x4xf32>) -> tensor<1x4x4xf32>
  %o = kiln.matmul %pm, %v : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %o : tensor<1x4x4xf32>
}

// -----

// Near miss: the scores are also an output, so they must be materialised.
// CHECK-LABEL: func.func @scores_used_twice
// CHECK-NOT: kiln.attention
func.func @scores_used_twice(%q: tensor<1x4x4xf32>, %kt: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>) -> (tensor<1x4x4xf32>, tensor<1x4x4xf32>) {
  %s = kiln.matmul %q, %kt : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %p = kiln.softmax %s {axis = 2 : i64} : tensor<1x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %o, %s : tensor<1x4x4xf32>, tensor<1x4x4xf32>
}

// -----

// A finite fill value (as in masked_fill(mask, -1e9)) is kept exactly; the
// scale may come as 1 / sqrt(constant).
// CHECK-LABEL: func.func @finite_fill
// CHECK: kiln.attention %arg0, %arg1, %arg2, %arg3 {fill = -1.000000e+09 : f64, mask_kind = "keep", scale = 2.500000e-01 : f64}
func.func @finite_fill(%q: tensor<1x4x4xf32>, %kt: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>, %m: tensor<4x4xi1>) -> tensor<1x4x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %sixteen = kiln.constant dense<16.0> : tensor<f32>
  %root = kiln.sqrt %sixteen : tensor<f32>
  %d = kiln.div %s, %root : (tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
  %big = kiln.constant dense<-1.0e9> : tensor<f32>
  %w = kiln.where %m, %d, %big : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
  %p = kiln.softmax %w {axis = 2 : i64} : tensor<1x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %o : tensor<1x4x4xf32>
}

// -----

// Near miss: the fill value is a run-time tensor, not a constant.
// CHECK-LABEL: func.func @fill_not_constant
// CHECK-NOT: kiln.attention
func.func @fill_not_constant(%q: tensor<1x4x4xf32>, %kt: tensor<1x4x4xf32>, %v: tensor<1x4x4xf32>, %m: tensor<4x4xi1>, %f: tensor<1x4x4xf32>) -> tensor<1x4x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %w = kiln.where %m, %f, %s : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  %p = kiln.softmax %w {axis = 2 : i64} : tensor<1x4x4xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x4xf32>, tensor<1x4x4xf32>) -> tensor<1x4x4xf32>
  return %o : tensor<1x4x4xf32>
}

// -----

// V computed after the softmax (as in graphs that ONNX Runtime reordered):
// the fused op goes where the second MatMul was, after V.
// CHECK-LABEL: func.func @v_after_softmax
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<1x2x8x16xf32>, %[[KT:[^:]+]]: tensor<1x2x16x8xf32>, %[[X:[^:]+]]: tensor<1x2x8x16xf32>)
// CHECK: %[[V:.+]] = kiln.relu %[[X]]
// CHECK-NEXT: %[[O:.+]] = kiln.attention %[[Q]], %[[KT]], %[[V]] {mask_kind = "none", scale = 1.000000e+00 : f64}
// CHECK-NEXT: return %[[O]]
func.func @v_after_softmax(%q: tensor<1x2x8x16xf32>, %kt: tensor<1x2x16x8xf32>, %x: tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32> {
  %s = kiln.matmul %q, %kt : (tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x8x8xf32>
  %p = kiln.softmax %s {axis = 3 : i64} : tensor<1x2x8x8xf32>
  %v = kiln.relu %x : tensor<1x2x8x16xf32>
  %o = kiln.matmul %p, %v : (tensor<1x2x8x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x8x16xf32>
  return %o : tensor<1x2x8x16xf32>
}

// -----

// Swin form: a relative-position bias, a view per window, the shifted-window
// mask, and the view back. Both constants sum at compile time into one mask
// in the scores' shape: element [w, h] gets bias h + mask 10 * w.
// CHECK-LABEL: func.func @swin_masks
// CHECK: %[[M:.+]] = kiln.constant dense<{{\[\[\[\[}}0.000000e+00, 0.000000e+00]], {{\[\[}}1.000000e+00, 1.000000e+00]]], {{\[\[\[}}1.000000e+01, 1.000000e+01]], {{\[\[}}1.100000e+01, 1.100000e+01]]]]> : tensor<2x2x1x2xf32>
// CHECK: kiln.attention %arg0, %arg1, %arg2, %[[M]] {mask_kind = "add", scale = 1.000000e+00 : f64}
// CHECK-NOT: kiln.softmax
// CHECK-NOT: kiln.reshape
func.func @swin_masks(%q: tensor<2x2x1x4xf32>, %kt: tensor<2x2x4x2xf32>, %v: tensor<2x2x2x4xf32>) -> tensor<2x2x1x4xf32> {
  %s = kiln.matmul %q, %kt : (tensor<2x2x1x4xf32>, tensor<2x2x4x2xf32>) -> tensor<2x2x1x2xf32>
  %bias = kiln.constant dense<[[[[0.0, 0.0]], [[1.0, 1.0]]]]> : tensor<1x2x1x2xf32>
  %b = kiln.add %s, %bias : (tensor<2x2x1x2xf32>, tensor<1x2x1x2xf32>) -> tensor<2x2x1x2xf32>
  %w = kiln.reshape %b : (tensor<2x2x1x2xf32>) -> tensor<1x2x2x1x2xf32>
  %mask = kiln.constant dense<[[[[[0.0, 0.0]]], [[[10.0, 10.0]]]]]> : tensor<1x2x1x1x2xf32>
  %m = kiln.add %w, %mask : (tensor<1x2x2x1x2xf32>, tensor<1x2x1x1x2xf32>) -> tensor<1x2x2x1x2xf32>
  %back = kiln.reshape %m : (tensor<1x2x2x1x2xf32>) -> tensor<2x2x1x2xf32>
  %p = kiln.softmax %back {axis = 3 : i64} : tensor<2x2x1x2xf32>
  %o = kiln.matmul %p, %v : (tensor<2x2x1x2xf32>, tensor<2x2x2x4xf32>) -> tensor<2x2x1x4xf32>
  return %o : tensor<2x2x1x4xf32>
}
