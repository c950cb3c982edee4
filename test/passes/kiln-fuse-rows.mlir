// kiln-fuse-rows merges the elementwise producer and consumer of a
// last-axis softmax or layer norm into one kiln.fused_row.
// RUN: kiln-opt %s --kiln-fuse-elementwise --kiln-fuse-rows -split-input-file | FileCheck %s

// A residual add before a layer norm and a relu after it.
// CHECK-LABEL: func.func @add_norm_relu
// CHECK: %[[F:.+]] = kiln.fused_row %arg0, %arg1, %arg2, %arg3 : (tensor<4x64xf32>, tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32> {
// CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<4x64xf32>, %[[R:.+]]: tensor<4x64xf32>, %[[G:.+]]: tensor<64xf32>, %[[B:.+]]: tensor<64xf32>):
// CHECK-NEXT: %[[S:.+]] = kiln.add %[[X]], %[[R]]
// CHECK-NEXT: %[[N:.+]] = kiln.layer_norm %[[S]], %[[G]], %[[B]]
// CHECK-NEXT: %[[Y:.+]] = kiln.relu %[[N]]
// CHECK-NEXT: kiln.yield %[[Y]]
// CHECK: return %[[F]]
func.func @add_norm_relu(%x: tensor<4x64xf32>, %r: tensor<4x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<4x64xf32> {
  %s = kiln.add %x, %r : (tensor<4x64xf32>, tensor<4x64xf32>) -> tensor<4x64xf32>
  %n = kiln.layer_norm %s, %g, %b {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %y = kiln.relu %n : tensor<4x64xf32>
  return %y : tensor<4x64xf32>
}

// -----

// A scaled softmax (a prologue chain of two ops) with no epilogue.
// CHECK-LABEL: func.func @scaled_softmax
// CHECK: kiln.fused_row %arg0, %arg1, {{%.+}} : (tensor<2x8x16xf32>, tensor<16xf32>, tensor<f32>) -> tensor<2x8x16xf32>
// CHECK: kiln.add
// CHECK-NEXT: kiln.mul
// CHECK-NEXT: kiln.softmax {{.*}} {axis = 2 : i64}
// CHECK-NEXT: kiln.yield
func.func @scaled_softmax(%x: tensor<2x8x16xf32>, %bias: tensor<16xf32>) -> tensor<2x8x16xf32> {
  %a = kiln.add %x, %bias : (tensor<2x8x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  %c = kiln.constant dense<0.5> : tensor<f32>
  %m = kiln.mul %a, %c : (tensor<2x8x16xf32>, tensor<f32>) -> tensor<2x8x16xf32>
  %s = kiln.softmax %m {axis = 2 : i64} : tensor<2x8x16xf32>
  return %s : tensor<2x8x16xf32>
}

// -----

// Must not fire: a softmax over another axis, a prologue value that is
// also returned, and a consumer that broadcasts the normalised rows.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: kiln.fused_row
// CHECK: kiln.softmax {{.*}} {axis = 0 : i64}
// CHECK: kiln.layer_norm
// CHECK: kiln.layer_norm
// CHECK-NOT: kiln.fused_row
func.func @kept(%x: tensor<4x64xf32>, %g: tensor<64xf32>, %big: tensor<3x4x64xf32>) -> (tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<3x4x64xf32>) {
  %e = kiln.exp %x : tensor<4x64xf32>
  %s = kiln.softmax %e {axis = 0 : i64} : tensor<4x64xf32>
  %r = kiln.relu %x : tensor<4x64xf32>
  %n = kiln.layer_norm %r, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %n2 = kiln.layer_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<4x64xf32>, tensor<64xf32>) -> tensor<4x64xf32>
  %b = kiln.add %n2, %big : (tensor<4x64xf32>, tensor<3x4x64xf32>) -> tensor<3x4x64xf32>
  return %s, %r, %n, %b : tensor<4x64xf32>, tensor<4x64xf32>, tensor<4x64xf32>, tensor<3x4x64xf32>
}
