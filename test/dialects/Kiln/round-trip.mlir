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

// The micro-kernel ops of the kernel form.
// CHECK-LABEL: func.func private @tiles
// CHECK: kiln.gemm_tile %arg0[%arg1] or %arg2[%arg3], %arg4[%{{.+}}], %arg5 depth %{{.+}} {a_stride = 3 : i64, taps = 1 : i64, tile_rows = 2 : i64, vectors = 1 : i64, width = 8 : i64, zero_rows} : memref<64xf32>[memref<2xindex>] or memref<32xf32>[memref<2xi1>], memref<256xf32>, memref<16xf32>
// CHECK: kiln.gemm_tile %arg0[%arg1], %arg4[%{{.+}}], %arg5 depth %{{.+}} {taps = 1 : i64, tile_rows = 2 : i64, vectors = 1 : i64, width = 8 : i64} : memref<64xf32>[memref<2xindex>], memref<256xf32>, memref<16xf32>
// CHECK: kiln.depthwise_tile %arg6[%arg7], %arg8[%{{.+}}], %arg9 bias %arg10[%{{.+}}] {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 1 : i64, kw_end = 3 : i64, pixels = 1 : i64, stride = 2 : i64, vectors = 2 : i64, width = 8 : i64} : memref<256xf32>, memref<3xindex>, memref<144xf32>, memref<16xf32>, memref<16xf32>
func.func private @tiles(%a: memref<64xf32>, %rows: memref<2xindex>, %alt: memref<32xf32>, %altRows: memref<2xi1>, %b: memref<256xf32>, %acc: memref<16xf32>, %x: memref<256xf32>, %taps: memref<3xindex>, %w: memref<144xf32>, %out: memref<16xf32>, %bias: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  kiln.gemm_tile %a[%rows] or %alt[%altRows], %b[%c0], %acc depth %c8 {a_stride = 3 : i64, taps = 1 : i64, tile_rows = 2 : i64, vectors = 1 : i64, width = 8 : i64, zero_rows} : memref<64xf32>[memref<2xindex>] or memref<32xf32>[memref<2xi1>], memref<256xf32>, memref<16xf32>
  kiln.gemm_tile %a[%rows], %b[%c0], %acc depth %c8 {taps = 1 : i64, tile_rows = 2 : i64, vectors = 1 : i64, width = 8 : i64} : memref<64xf32>[memref<2xindex>], memref<256xf32>, memref<16xf32>
  kiln.depthwise_tile %x[%taps], %w[%c0], %out bias %bias[%c0] {channels = 16 : i64, dilation = 1 : i64, kernel_h = 3 : i64, kernel_w = 3 : i64, kw_begin = 1 : i64, kw_end = 3 : i64, pixels = 1 : i64, stride = 2 : i64, vectors = 2 : i64, width = 8 : i64} : memref<256xf32>, memref<3xindex>, memref<144xf32>, memref<16xf32>, memref<16xf32>
  return
}
