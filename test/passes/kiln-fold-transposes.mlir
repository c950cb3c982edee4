// kiln-fold-transposes folds the head split and merge transposes around
// kiln.attention into its q_perm/kt_perm/v_perm/out_perm; the kernel reads and
// writes through strides.
// RUN: kiln-opt %s --kiln-fold-transposes -split-input-file | FileCheck %s

// Multi-head attention as exported: every transpose folds.
// CHECK-LABEL: func.func @heads
// CHECK-NOT: kiln.transpose
// CHECK: %[[O:.+]] = kiln.attention %arg0, %arg1, %arg2 {kt_perm = array<i64: 0, 2, 3, 1>, mask_kind = "none", out_perm = array<i64: 0, 2, 1, 3>, q_perm = array<i64: 0, 2, 1, 3>, scale = 1.250000e-01 : f64, v_perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>) -> tensor<1x16x2x8xf32>
// CHECK-NOT: kiln.transpose
// CHECK: return %[[O]]
func.func @heads(%q4: tensor<1x16x2x8xf32>, %k4: tensor<1x16x2x8xf32>, %v4: tensor<1x16x2x8xf32>) -> tensor<1x16x2x8xf32> {
  %q = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
  %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x8x16xf32>
  %v = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
  %o = kiln.attention %q, %kt, %v {mask_kind = "none", scale = 0.125 : f64} : (tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %m = kiln.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x16x8xf32>) -> tensor<1x16x2x8xf32>
  return %m : tensor<1x16x2x8xf32>
}

// -----

// Two transposes on one operand compose into one permutation: kt is x with
// its last two dimensions swapped.
// CHECK-LABEL: func.func @composed
// CHECK: kiln.attention %arg1, %arg0, %arg0 {kt_perm = array<i64: 0, 1, 3, 2>, mask_kind = "none", q_perm = array<i64: 0, 2, 1, 3>
func.func @composed(%x: tensor<1x2x16x8xf32>, %q4: tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32> {
  %k = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x16x8xf32>) -> tensor<1x16x2x8xf32>
  %kt = kiln.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x8x16xf32>
  %q = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
  %o = kiln.attention %q, %kt, %x {mask_kind = "none", scale = 0.125 : f64} : (tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// -----

// Must not fold: a result transpose when the attention's result has
// another user, and transposes that feed anything but an attention.
// CHECK-LABEL: func.func @kept
// CHECK: %[[O:.+]] = kiln.attention %arg0, %arg1, %arg0 {mask_kind = "none", scale = 1.250000e-01 : f64}
// CHECK: %[[T:.+]] = kiln.transpose %[[O]]
// CHECK: %[[U:.+]] = kiln.transpose %arg0
// CHECK: return %[[O]], %[[T]], %[[U]]
func.func @kept(%q: tensor<1x2x16x8xf32>, %kt: tensor<1x2x8x16xf32>) -> (tensor<1x2x16x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>) {
  %o = kiln.attention %q, %kt, %q {mask_kind = "none", scale = 0.125 : f64} : (tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x16x8xf32>
  %t = kiln.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x16x8xf32>) -> tensor<1x16x2x8xf32>
  %u = kiln.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x16x8xf32>) -> tensor<1x16x2x8xf32>
  return %o, %t, %u : tensor<1x2x16x8xf32>, tensor<1x16x2x8xf32>, tensor<1x16x2x8xf32>
}
