// Printing and re-parsing kiln IR is lossless.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @conv_block
func.func @conv_block(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x8x8xf32> {
  // CHECK: [[W:%.+]] = kiln.constant dense<{{.*}}> : tensor<4x3x3x3xf32>
  %w = kiln.constant dense<0.5> : tensor<4x3x3x3xf32>
  %b = kiln.constant dense<0.1> : tensor<4xf32>
  // CHECK: [[C:%.+]] = kiln.conv %arg0, [[W]], %{{.+}} {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>}
  %c = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  // CHECK: kiln.relu [[C]] : tensor<1x4x8x8xf32>
  %r = kiln.relu %c : tensor<1x4x8x8xf32>
  return %r : tensor<1x4x8x8xf32>
}

// CHECK-LABEL: func.func @attention_pieces
func.func @attention_pieces(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>) -> tensor<1x2x16x16xf32> {
  // CHECK: kiln.transpose %{{.+}} {perm = array<i64: 0, 1, 3, 2>}
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x16x8xf32>) -> tensor<1x2x8x16xf32>
  // CHECK: kiln.matmul
  %s = kiln.matmul %q, %kt : (tensor<1x2x16x8xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x16x16xf32>
  // CHECK: kiln.softmax %{{.+}} {axis = 3 : i64}
  %p = kiln.softmax %s {axis = 3 : i64} : tensor<1x2x16x16xf32>
  return %p : tensor<1x2x16x16xf32>
}
