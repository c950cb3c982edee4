// kiln-fuse-elementwise groups float32 elementwise chains into one
// kiln.fused_elementwise; producers read outside the chain stay separate.
// RUN: kiln-opt %s --kiln-fuse-elementwise -split-input-file | FileCheck %s

// Bias add and exact GELU: six ops, one kernel; the matmul is not fused.
// CHECK-LABEL: func.func @bias_gelu
// CHECK: %[[MM:.+]] = kiln.matmul
// CHECK: %[[F:.+]] = kiln.fused_elementwise %[[MM]], %arg2, {{%.+}}, {{%.+}}, {{%.+}} : (tensor<4x8xf32>, tensor<8xf32>, tensor<f32>, tensor<f32>, tensor<f32>) -> tensor<4x8xf32> {
// CHECK: kiln.add
// CHECK: kiln.div
// CHECK: kiln.erf
// CHECK: kiln.add
// CHECK: kiln.mul
// CHECK: kiln.mul
// CHECK: kiln.yield
// CHECK: return %[[F]]
func.func @bias_gelu(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %mm = kiln.matmul %x, %w : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  %h = kiln.add %mm, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %d = kiln.div %h, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %e = kiln.erf %d : tensor<4x8xf32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %e1 = kiln.add %e, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %g = kiln.mul %h, %e1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %y = kiln.mul %g, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// An intermediate that is also a function result stays materialised: only
// the ops after it are fused.
// CHECK-LABEL: func.func @shared_intermediate
// CHECK: %[[A:.+]] = kiln.add %arg0, %arg1
// CHECK: %[[F:.+]] = kiln.fused_elementwise %[[A]] : (tensor<8xf32>) -> tensor<8xf32>
// CHECK: kiln.relu
// CHECK: kiln.neg
// CHECK: return %[[F]], %[[A]]
func.func @shared_intermediate(%a: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>) {
  %s = kiln.add %a, %b : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %r = kiln.relu %s : tensor<8xf32>
  %n = kiln.neg %r : tensor<8xf32>
  return %n, %s : tensor<8xf32>, tensor<8xf32>
}

// -----

// Nothing to fuse: a single elementwise op, and integer arithmetic.
// CHECK-LABEL: func.func @nothing
// CHECK-NOT: kiln.fused_elementwise
func.func @nothing(%a: tensor<8xf32>, %i: tensor<8xi64>, %j: tensor<8xi64>) -> (tensor<8xf32>, tensor<8xi64>) {
  %r = kiln.relu %a : tensor<8xf32>
  %s = kiln.add %i, %j : (tensor<8xi64>, tensor<8xi64>) -> tensor<8xi64>
  %t = kiln.mul %s, %j : (tensor<8xi64>, tensor<8xi64>) -> tensor<8xi64>
  return %r, %t : tensor<8xf32>, tensor<8xi64>
}

// -----

// A producer of a smaller shape that broadcasts into the chain stays
// outside: fused, it would be recomputed for every element of the result.
// CHECK-LABEL: func.func @broadcast_producer
// CHECK: %[[S:.+]] = kiln.sigmoid %arg1 : tensor<1x4xf32>
// CHECK: kiln.fused_elementwise %[[S]], %arg0 : (tensor<1x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.mul
// CHECK-NEXT: kiln.relu
// CHECK-NEXT: kiln.yield
func.func @broadcast_producer(%x: tensor<8x4xf32>, %g: tensor<1x4xf32>) -> tensor<8x4xf32> {
  %s = kiln.sigmoid %g : tensor<1x4xf32>
  %m = kiln.mul %s, %x : (tensor<1x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %r = kiln.relu %m : tensor<8x4xf32>
  return %r : tensor<8x4xf32>
}
