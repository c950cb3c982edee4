// Every kiln op parses, verifies and prints back to a form that parses again
// to the same IR.
// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// Printing generically and re-parsing keeps the ops intact as well.
// RUN: kiln-opt %s --mlir-print-op-generic | kiln-opt | FileCheck %s

// CHECK-LABEL: func.func @constants
func.func @constants() -> (tensor<2x2xf32>, tensor<3xi64>, tensor<i1>, tensor<2xf64>, tensor<3xui8>) {
  // CHECK: kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]> : tensor<2x2xf32>
  %0 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  // CHECK: kiln.constant dense<[1, -2, 3]> : tensor<3xi64>
  %1 = kiln.constant dense<[1, -2, 3]> : tensor<3xi64>
  // CHECK: kiln.constant dense<true> : tensor<i1>
  %2 = kiln.constant dense<true> : tensor<i1>
  // CHECK: kiln.constant dense<[5.000000e-01, -1.500000e+00]> : tensor<2xf64>
  %3 = kiln.constant dense<[0.5, -1.5]> : tensor<2xf64>
  // CHECK: kiln.constant dense<[0, 7, 255]> : tensor<3xui8>
  %4 = kiln.constant dense<[0, 7, 255]> : tensor<3xui8>
  return %0, %1, %2, %3, %4 : tensor<2x2xf32>, tensor<3xi64>, tensor<i1>, tensor<2xf64>, tensor<3xui8>
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:[^:]+]]: tensor<4x8xf32>)
func.func @unary(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // CHECK: [[V0:%.+]] = kiln.relu %[[X]] : tensor<4x8xf32>
  // CHECK: [[V1:%.+]] = kiln.erf [[V0]] : tensor<4x8xf32>
  // CHECK: [[V2:%.+]] = kiln.sqrt [[V1]] : tensor<4x8xf32>
  // CHECK: [[V3:%.+]] = kiln.exp [[V2]] : tensor<4x8xf32>
  // CHECK: [[V4:%.+]] = kiln.log [[V3]] : tensor<4x8xf32>
  // CHECK: [[V5:%.+]] = kiln.tanh [[V4]] : tensor<4x8xf32>
  // CHECK: [[V6:%.+]] = kiln.sigmoid [[V5]] : tensor<4x8xf32>
  // CHECK: [[V7:%.+]] = kiln.neg [[V6]] : tensor<4x8xf32>
  // CHECK: [[V8:%.+]] = kiln.abs [[V7]] : tensor<4x8xf32>
  // CHECK: [[V9:%.+]] = kiln.reciprocal [[V8]] : tensor<4x8xf32>
  // CHECK: [[V10:%.+]] = kiln.clip [[V9]] {max = 6.000000e+00 : f64, min = 0.000000e+00 : f64} : tensor<4x8xf32>
  // Unbounded sides are infinities.
  // CHECK: [[V11:%.+]] = kiln.clip [[V10]] {max = 0x7FF0000000000000 : f64, min = 0xFFF0000000000000 : f64} : tensor<4x8xf32>
  // CHECK: return [[V11]]
  %0 = kiln.relu %x : tensor<4x8xf32>
  %1 = kiln.erf %0 : tensor<4x8xf32>
  %2 = kiln.sqrt %1 : tensor<4x8xf32>
  %3 = kiln.exp %2 : tensor<4x8xf32>
  %4 = kiln.log %3 : tensor<4x8xf32>
  %5 = kiln.tanh %4 : tensor<4x8xf32>
  %6 = kiln.sigmoid %5 : tensor<4x8xf32>
  %7 = kiln.neg %6 : tensor<4x8xf32>
  %8 = kiln.abs %7 : tensor<4x8xf32>
  %9 = kiln.reciprocal %8 : tensor<4x8xf32>
  %10 = kiln.clip %9 {max = 6.0 : f64, min = 0.0 : f64} : tensor<4x8xf32>
  %11 = kiln.clip %10 {max = 0x7FF0000000000000 : f64, min = 0xFFF0000000000000 : f64} : tensor<4x8xf32>
  return %11 : tensor<4x8xf32>
}

// CHECK-LABEL: func.func @cast
func.func @cast(%x: tensor<4xi64>) -> (tensor<4xf32>, tensor<4xi1>) {
  // CHECK: kiln.cast %{{.+}} : tensor<4xi64> -> tensor<4xf32>
  %0 = kiln.cast %x : tensor<4xi64> -> tensor<4xf32>
  // CHECK: kiln.cast %{{.+}} : tensor<4xi64> -> tensor<4xi1>
  %1 = kiln.cast %x : tensor<4xi64> -> tensor<4xi1>
  return %0, %1 : tensor<4xf32>, tensor<4xi1>
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:[^:]+]]: tensor<2x3xf32>, %[[B:[^:]+]]: tensor<3xf32>)
func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>) {
  // CHECK: [[ADD:%.+]] = kiln.add %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: [[SUB:%.+]] = kiln.sub [[ADD]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = kiln.sub %0, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: [[MUL:%.+]] = kiln.mul %[[B]], [[SUB]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = kiln.mul %b, %1 : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: [[DIV:%.+]] = kiln.div [[MUL]], [[MUL]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = kiln.div %2, %2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: [[POW:%.+]] = kiln.pow [[DIV]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = kiln.pow %3, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: [[MAX:%.+]] = kiln.max [[POW]], %[[A]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %5 = kiln.max %4, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: [[MIN:%.+]] = kiln.min [[MAX]], %[[A]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %6 = kiln.min %5, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: kiln.equal [[MIN]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %7 = kiln.equal %6, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: kiln.less [[MIN]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %8 = kiln.less %6, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  // CHECK: kiln.greater [[MIN]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  %9 = kiln.greater %6, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  return %6, %7, %8, %9 : tensor<2x3xf32>, tensor<2x3xi1>, tensor<2x3xi1>, tensor<2x3xi1>
}

// CHECK-LABEL: func.func @where
func.func @where(%c: tensor<4x4xi1>, %x: tensor<1x4x4xf32>, %y: tensor<f32>) -> tensor<1x4x4xf32> {
  // CHECK: kiln.where %{{.+}}, %{{.+}}, %{{.+}} : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
  %0 = kiln.where %c, %x, %y : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// CHECK-LABEL: func.func @conv
func.func @conv(%x: tensor<1x4x9x9xf32>, %w: tensor<6x2x3x3xf32>, %b: tensor<6xf32>) -> (tensor<1x6x3x4xf32>, tensor<1x6x7x7xf32>) {
  // CHECK: kiln.conv %{{.+}}, %{{.+}}, %{{.+}} {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 1, 0, 0, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x4xf32>
  %0 = kiln.conv %x, %w, %b {dilations = array<i64: 2, 2>, group = 2 : i64, pads = array<i64: 1, 0, 0, 2>, strides = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>, tensor<6xf32>) -> tensor<1x6x3x4xf32>
  // Without a bias.
  // CHECK: kiln.conv %{{[^,]+}}, %{{[^,]+}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x7x7xf32>
  %1 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x9x9xf32>, tensor<6x2x3x3xf32>) -> tensor<1x6x7x7xf32>
  return %0, %1 : tensor<1x6x3x4xf32>, tensor<1x6x7x7xf32>
}

// CHECK-LABEL: func.func @gemm
func.func @gemm(%a: tensor<1x64xf32>, %b: tensor<10x64xf32>, %c: tensor<10xf32>, %at: tensor<64x1xf32>) -> (tensor<1x10xf32>, tensor<1x10xf32>) {
  // CHECK: kiln.gemm %{{.+}}, %{{.+}}, %{{.+}} {alpha = 1.000000e+00 : f32, beta = 1.000000e+00 : f32, transA = false, transB = true} : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  %0 = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true} : (tensor<1x64xf32>, tensor<10x64xf32>, tensor<10xf32>) -> tensor<1x10xf32>
  // Without C.
  // CHECK: kiln.gemm %{{[^,]+}}, %{{[^,]+}} {alpha = 5.000000e-01 : f32, beta = 0.000000e+00 : f32, transA = true, transB = true} : (tensor<64x1xf32>, tensor<10x64xf32>) -> tensor<1x10xf32>
  %1 = kiln.gemm %at, %b {alpha = 0.5 : f32, beta = 0.0 : f32, transA = true, transB = true} : (tensor<64x1xf32>, tensor<10x64xf32>) -> tensor<1x10xf32>
  return %0, %1 : tensor<1x10xf32>, tensor<1x10xf32>
}

// CHECK-LABEL: func.func @matmul
func.func @matmul(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x16xf32>) -> tensor<2x3x4x16xf32> {
  // CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<2x1x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x3x4x16xf32>
  %0 = kiln.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x3x4x16xf32>
  return %0 : tensor<2x3x4x16xf32>
}

// CHECK-LABEL: func.func @normalisation
func.func @normalisation(%x: tensor<1x4x8xf32>, %s: tensor<8xf32>, %b: tensor<8xf32>, %img: tensor<1x4x2x2xf32>, %p: tensor<4xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x2x2xf32>) {
  // CHECK: kiln.softmax %{{.+}} {axis = 1 : i64} : tensor<1x4x8xf32>
  %0 = kiln.softmax %x {axis = 1 : i64} : tensor<1x4x8xf32>
  // CHECK: kiln.layer_norm %{{.+}}, %{{.+}}, %{{.+}} {axis = 2 : i64, epsilon = 9.99999974E-6 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %1 = kiln.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: kiln.layer_norm %{{[^,]+}}, %{{[^,]+}} {axis = 2 : i64, epsilon = 1.000000e-03 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  %2 = kiln.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-03 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  // CHECK: kiln.batch_norm %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 9.99999974E-6 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  %3 = kiln.batch_norm %img, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0, %1, %2, %3 : tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x2x2xf32>
}

// CHECK-LABEL: func.func @reductions
func.func @reductions(%x: tensor<2x3x4xf32>) -> (tensor<2x1x1xf32>, tensor<3xf32>, tensor<f32>) {
  // CHECK: kiln.reduce_mean %{{.+}} {axes = array<i64: 1, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  %0 = kiln.reduce_mean %x {axes = array<i64: 1, 2>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  // CHECK: kiln.reduce_sum %{{.+}} {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %1 = kiln.reduce_sum %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // CHECK: kiln.reduce_max %{{.+}} {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  %2 = kiln.reduce_max %x {axes = array<i64: 0, 1, 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  return %0, %1, %2 : tensor<2x1x1xf32>, tensor<3xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @pooling
func.func @pooling(%x: tensor<1x8x32x32xf32>) -> (tensor<1x8x16x16xf32>, tensor<1x8x11x11xf32>, tensor<1x8x1x1xf32>) {
  // CHECK: kiln.max_pool %{{.+}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  // Asymmetric pads: (32 + 1 + 0 - 3) / 3 + 1 = 11.
  // CHECK: kiln.max_pool %{{.+}} {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 0, 0>, strides = array<i64: 3, 3>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x11x11xf32>
  %1 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 0, 0>, strides = array<i64: 3, 3>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x11x11xf32>
  // CHECK: kiln.global_average_pool %{{.+}} : (tensor<1x8x32x32xf32>) -> tensor<1x8x1x1xf32>
  %2 = kiln.global_average_pool %x : (tensor<1x8x32x32xf32>) -> tensor<1x8x1x1xf32>
  return %0, %1, %2 : tensor<1x8x16x16xf32>, tensor<1x8x11x11xf32>, tensor<1x8x1x1xf32>
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<1x16x2x8xf32>) -> (tensor<1x256xf32>, tensor<1x2x16x8xf32>, tensor<1x8x1x4xf32>) {
  // CHECK: kiln.reshape %{{.+}} : (tensor<1x16x2x8xf32>) -> tensor<1x256xf32>
  %0 = kiln.reshape %x : (tensor<1x16x2x8xf32>) -> tensor<1x256xf32>
  // CHECK: kiln.transpose %{{.+}} {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
  %1 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x16x2x8xf32>) -> tensor<1x2x16x8xf32>
  // CHECK: kiln.slice %{{.+}} {starts = array<i64: 0, 15, 1, 0>, steps = array<i64: 1, -2, 1, 2>} : (tensor<1x16x2x8xf32>) -> tensor<1x8x1x4xf32>
  %2 = kiln.slice %x {starts = array<i64: 0, 15, 1, 0>, steps = array<i64: 1, -2, 1, 2>} : (tensor<1x16x2x8xf32>) -> tensor<1x8x1x4xf32>
  return %0, %1, %2 : tensor<1x256xf32>, tensor<1x2x16x8xf32>, tensor<1x8x1x4xf32>
}

// CHECK-LABEL: func.func @concat_split
func.func @concat_split(%a: tensor<1x2xf32>, %b: tensor<1x3xf32>) -> (tensor<1x5xf32>, tensor<1x1xf32>, tensor<1x4xf32>) {
  // CHECK: [[CAT:%.+]] = kiln.concat %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  // CHECK: [[SPLIT:%.+]]:2 = kiln.split [[CAT]] {axis = 1 : i64} : (tensor<1x5xf32>) -> (tensor<1x1xf32>, tensor<1x4xf32>)
  %1:2 = kiln.split %0 {axis = 1 : i64} : (tensor<1x5xf32>) -> (tensor<1x1xf32>, tensor<1x4xf32>)
  // CHECK: return [[CAT]], [[SPLIT]]#0, [[SPLIT]]#1
  return %0, %1#0, %1#1 : tensor<1x5xf32>, tensor<1x1xf32>, tensor<1x4xf32>
}

// CHECK-LABEL: func.func @gather_shape
func.func @gather_shape(%t: tensor<1000x256xf32>, %ids: tensor<1x128xi64>, %i32: tensor<2xi32>) -> (tensor<1x128x256xf32>, tensor<1000x2xf32>, tensor<2xi64>) {
  // CHECK: kiln.gather %{{.+}}, %{{.+}} {axis = 0 : i64} : (tensor<1000x256xf32>, tensor<1x128xi64>) -> tensor<1x128x256xf32>
  %0 = kiln.gather %t, %ids {axis = 0 : i64} : (tensor<1000x256xf32>, tensor<1x128xi64>) -> tensor<1x128x256xf32>
  // CHECK: kiln.gather %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<1000x256xf32>, tensor<2xi32>) -> tensor<1000x2xf32>
  %1 = kiln.gather %t, %i32 {axis = 1 : i64} : (tensor<1000x256xf32>, tensor<2xi32>) -> tensor<1000x2xf32>
  // CHECK: kiln.shape %{{.+}} {end = 2 : i64, start = 0 : i64} : (tensor<1000x256xf32>) -> tensor<2xi64>
  %2 = kiln.shape %t {end = 2 : i64, start = 0 : i64} : (tensor<1000x256xf32>) -> tensor<2xi64>
  return %0, %1, %2 : tensor<1x128x256xf32>, tensor<1000x2xf32>, tensor<2xi64>
}

// CHECK-LABEL: func.func @recurrence
func.func @recurrence(%xw: tensor<6x2x8xf32>, %r: tensor<8x4xf32>, %h0: tensor<2x4xf32>, %c0: tensor<2x4xf32>, %p: tensor<4xf32>, %lens: tensor<2xi32>) -> (tensor<6x2x4xf32>, tensor<2x4xf32>) {
  // CHECK: kiln.recurrence %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} extras(%{{.+}}) lengths(%{{.+}}) {gates = 2 : i64, reverse = true}
  // CHECK: kiln.yield %{{.+}}, %{{.+}} : tensor<2x4xf32>, tensor<2x4xf32>
  %y, %s:2 = kiln.recurrence %xw, %r, %h0, %c0 extras(%p) lengths(%lens) {gates = 2 : i64, reverse = true}
      : (tensor<6x2x8xf32>, tensor<8x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<2xi32>) -> (tensor<6x2x4xf32>, tensor<2x4xf32>, tensor<2x4xf32>) {
  ^bb0(%x0: tensor<2x4xf32>, %x1: tensor<2x4xf32>, %r0: tensor<2x4xf32>, %r1: tensor<2x4xf32>, %h: tensor<2x4xf32>, %c: tensor<2x4xf32>, %pe: tensor<4xf32>):
    %a = kiln.add %x0, %r0 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    %b = kiln.mul %c, %pe : (tensor<2x4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
    %g = kiln.sigmoid %a : tensor<2x4xf32>
    %n = kiln.add %b, %x1 : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
    kiln.yield %g, %n : tensor<2x4xf32>, tensor<2x4xf32>
  }
  return %y, %s#0 : tensor<6x2x4xf32>, tensor<2x4xf32>
}
