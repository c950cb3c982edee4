// kiln-fuse-epilogue merges the elementwise consumer of a float32 matmul,
// gemm or channels-last conv into a kiln.fused_contraction whose head is the
// contraction; the contraction's operands become its first inputs.
// RUN: kiln-opt %s --kiln-fuse-elementwise --kiln-fuse-epilogue -split-input-file | FileCheck %s

// Bias add and relu after a matmul: one kernel.
// CHECK-LABEL: func.func @matmul_bias_relu
// CHECK: %[[F:.+]] = kiln.fused_contraction %arg0, %arg1, %arg2 : (tensor<4x16xf32>, tensor<16x8xf32>, tensor<8xf32>) -> tensor<4x8xf32> {
// CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<4x16xf32>, %[[W:.+]]: tensor<16x8xf32>, %[[B:.+]]: tensor<8xf32>):
// CHECK-NEXT: %[[M:.+]] = kiln.matmul %[[X]], %[[W]]
// CHECK-NEXT: %[[A:.+]] = kiln.add %[[M]], %[[B]]
// CHECK-NEXT: %[[R:.+]] = kiln.relu %[[A]]
// CHECK-NEXT: kiln.yield %[[R]]
// CHECK: return %[[F]]
func.func @matmul_bias_relu(%x: tensor<4x16xf32>, %w: tensor<16x8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %mm = kiln.matmul %x, %w : (tensor<4x16xf32>, tensor<16x8xf32>) -> tensor<4x8xf32>
  %h = kiln.add %mm, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %r = kiln.relu %h : tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// A single elementwise op (no fused_elementwise around it) fuses too.
// CHECK-LABEL: func.func @gemm_tanh
// CHECK: kiln.fused_contraction %arg0, %arg1, %arg2 :
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.gemm
// CHECK-NEXT: kiln.tanh
// CHECK-NEXT: kiln.yield
func.func @gemm_tanh(%a: tensor<2x16xf32>, %b: tensor<10x16xf32>, %c: tensor<10xf32>) -> tensor<2x10xf32> {
  %g = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true} : (tensor<2x16xf32>, tensor<10x16xf32>, tensor<10xf32>) -> tensor<2x10xf32>
  %t = kiln.tanh %g : tensor<2x10xf32>
  return %t : tensor<2x10xf32>
}

// -----

// A channels-last conv with a residual add and relu; the residual is an
// extra input after the conv's own operands.
// CHECK-LABEL: func.func @conv_residual_relu
// CHECK: kiln.fused_contraction %arg0, %arg1, %arg2, %arg3 : (tensor<1x8x8x4xf32>, tensor<3x3x4x4xf32>, tensor<4xf32>, tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
// CHECK-NEXT: ^bb0
// CHECK-NEXT: kiln.conv {{.*}} {channels_last
// CHECK-NEXT: kiln.add
// CHECK-NEXT: kiln.relu
// CHECK-NEXT: kiln.yield
func.func @conv_residual_relu(%x: tensor<1x8x8x4xf32>, %w: tensor<3x3x4x4xf32>, %b: tensor<4xf32>, %res: tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32> {
  %c = kiln.conv %x, %w, %b {channels_last, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x8x8x4xf32>, tensor<3x3x4x4xf32>, tensor<4xf32>) -> tensor<1x8x8x4xf32>
  %s = kiln.add %c, %res : (tensor<1x8x8x4xf32>, tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
  %r = kiln.relu %s : tensor<1x8x8x4xf32>
  return %r : tensor<1x8x8x4xf32>
}

// -----

// Must not fire: an NCHW conv (its kernel has no epilogue), a matmul whose
// result is also returned, a consumer that broadcasts the matmul's result to
// a larger shape, and an integer matmul.
// CHECK-LABEL: func.func @no_epilogue
// CHECK-NOT: kiln.fused_contraction
// CHECK: kiln.conv
// CHECK: kiln.relu
// CHECK: kiln.matmul
// CHECK: kiln.relu
// CHECK: kiln.matmul
// CHECK: kiln.add
// CHECK: kiln.matmul
// CHECK: kiln.add
// CHECK-NOT: kiln.fused_contraction
func.func @no_epilogue(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %a: tensor<1x16xf32>, %b: tensor<16x8xf32>, %big: tensor<4x8xf32>, %ai: tensor<2x3xi32>, %bi: tensor<3x2xi32>) -> (tensor<1x4x8x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<4x8xf32>, tensor<2x2xi32>) {
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = kiln.relu %c : tensor<1x4x8x8xf32>
  %m = kiln.matmul %a, %b : (tensor<1x16xf32>, tensor<16x8xf32>) -> tensor<1x8xf32>
  %mr = kiln.relu %m : tensor<1x8xf32>
  %m2 = kiln.matmul %a, %b : (tensor<1x16xf32>, tensor<16x8xf32>) -> tensor<1x8xf32>
  %bc = kiln.add %m2, %big : (tensor<1x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %mi = kiln.matmul %ai, %bi : (tensor<2x3xi32>, tensor<3x2xi32>) -> tensor<2x2xi32>
  %ia = kiln.add %mi, %mi : (tensor<2x2xi32>, tensor<2x2xi32>) -> tensor<2x2xi32>
  return %r, %m, %mr, %bc, %ia : tensor<1x4x8x8xf32>, tensor<1x8xf32>, tensor<1x8xf32>, tensor<4x8xf32>, tensor<2x2xi32>
}

// -----

// Squeeze-and-excitation: the per-channel scaling of a conv's input becomes
// the conv's prologue (the scale is read per input channel), and the
// excitation conv's hard sigmoid its epilogue.
// CHECK-LABEL: func.func @squeeze_excite
// CHECK: %[[S:.+]] = kiln.fused_contraction %arg1, %arg3, %arg4 : (tensor<1x1x1x8xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) -> tensor<1x1x1x8xf32>
// CHECK: kiln.pointwise "hard_sigmoid"
// CHECK: kiln.fused_contraction %arg0, %arg2, %[[S]] : (tensor<1x8x8x8xf32>, tensor<1x1x8x4xf32>, tensor<1x1x1x8xf32>) -> tensor<1x8x8x4xf32> {
// CHECK-NEXT: ^bb0(%[[X:.+]]: tensor<1x8x8x8xf32>, %[[W:.+]]: tensor<1x1x8x4xf32>, %[[SC:.+]]: tensor<1x1x1x8xf32>):
// CHECK-NEXT: %[[M:.+]] = kiln.mul %[[SC]], %[[X]]
// CHECK-NEXT: %[[C:.+]] = kiln.conv %[[M]], %[[W]] {channels_last
// CHECK-NEXT: kiln.yield %[[C]]
func.func @squeeze_excite(%x: tensor<1x8x8x8xf32>, %pooled: tensor<1x1x1x8xf32>, %w: tensor<1x1x8x4xf32>, %we: tensor<1x1x8x8xf32>, %be: tensor<8xf32>) -> tensor<1x8x8x4xf32> {
  %e = kiln.conv %pooled, %we, %be {channels_last, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x1x8xf32>, tensor<1x1x8x8xf32>, tensor<8xf32>) -> tensor<1x1x1x8xf32>
  %s = kiln.pointwise "hard_sigmoid"(%e) {params = [0.1666666716337204, 5.000000e-01]} : (tensor<1x1x1x8xf32>) -> tensor<1x1x1x8xf32>
  %m = kiln.mul %s, %x : (tensor<1x1x1x8xf32>, tensor<1x8x8x8xf32>) -> tensor<1x8x8x8xf32>
  %c = kiln.conv %m, %w {channels_last, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<1x1x8x4xf32>) -> tensor<1x8x8x4xf32>
  return %c : tensor<1x8x8x4xf32>
}
