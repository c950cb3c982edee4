// kiln-fold-batch-norm folds an inference batch norm into the convolution
// that feeds it:
//   w'[o] = w[o] * s[o],  b'[o] = (b[o] - mean[o]) * s[o] + beta[o],
//   s[o]  = scale[o] / sqrt(var[o] + eps)
// When it cannot, but the parameters are constants, the batch norm becomes
// x * s + (beta - mean * s) with [C, 1, 1] constants (a mul and an add).
// RUN: kiln-opt %s --kiln-fold-batch-norm -split-input-file | FileCheck %s
// The folded conv carries the locations of both ONNX nodes (the C++ comments
// name them).
// RUN: kiln-opt %s --kiln-fold-batch-norm -split-input-file --mlir-print-debuginfo | FileCheck %s --check-prefix=LOC

// One channel, numbers chosen to be exact: s = 3 / sqrt(3 + 1) = 1.5,
// w' = 2 * 1.5 = 3, b' = (1 - 2) * 1.5 + 0.5 = -1.
// CHECK-LABEL: func.func @one_channel
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x1x2x2xf32>
// CHECK-DAG: [[W:%.+]] = kiln.constant dense<3.000000e+00> : tensor<1x1x1x1xf32>
// CHECK-DAG: [[B:%.+]] = kiln.constant dense<-1.000000e+00> : tensor<1xf32>
// CHECK: [[Y:%.+]] = kiln.conv %[[X]], [[W]], [[B]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
// CHECK-NOT: kiln.batch_norm
// CHECK-NOT: kiln.conv
// CHECK: return [[Y]]
// LOC-LABEL: func.func @one_channel
// LOC: kiln.conv {{.*}} loc([[FUSED:#loc[0-9]+]])
// LOC: [[CONV:#loc[0-9]+]] = loc("conv1")
// LOC: [[BN:#loc[0-9]+]] = loc("bn1")
// LOC: [[FUSED]] = loc(fused{{\[}}[[CONV]], [[BN]]])
func.func @one_channel(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32>
  %b = kiln.constant dense<1.0> : tensor<1xf32>
  %scale = kiln.constant dense<3.0> : tensor<1xf32>
  %beta = kiln.constant dense<0.5> : tensor<1xf32>
  %mean = kiln.constant dense<2.0> : tensor<1xf32>
  %var = kiln.constant dense<3.0> : tensor<1xf32>
  %c = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32> loc("conv1")
  %y = kiln.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32> loc("bn1")
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Two channels, a conv without bias (b = 0) and a 1x2 kernel; the
// convolution's attributes survive the fold.
//   channel 0: s = 1 / sqrt(0 + 1) = 1,   w' = [1, 2],  b' = (0 - 1) * 1 + 0 = -1
//   channel 1: s = 2 / sqrt(15 + 1) = 0.5, w' = [2, -4], b' = (0 - 0.5) * 0.5 + 1 = 0.75
// CHECK-LABEL: func.func @two_channels_no_bias
// CHECK-DAG: [[W:%.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00]]], {{\[\[\[}}2.000000e+00, -4.000000e+00]]]]> : tensor<2x1x1x2xf32>
// CHECK-DAG: [[B:%.+]] = kiln.constant dense<[-1.000000e+00, 7.500000e-01]> : tensor<2xf32>
// CHECK: [[Y:%.+]] = kiln.conv %{{.+}}, [[W]], [[B]] {dilations = array<i64: 1, 2>, group = 1 : i64, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>, tensor<2xf32>) -> tensor<1x2x2x4xf32>
// CHECK-NOT: kiln.batch_norm
// CHECK: return [[Y]]
func.func @two_channels_no_bias(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x2x4xf32> {
  %w = kiln.constant dense<[[[[1.0, 2.0]]], [[[4.0, -8.0]]]]> : tensor<2x1x1x2xf32>
  %scale = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %beta = kiln.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %mean = kiln.constant dense<[1.0, 0.5]> : tensor<2xf32>
  %var = kiln.constant dense<[0.0, 15.0]> : tensor<2xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 2>, group = 1 : i64, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>) -> tensor<1x2x2x4xf32>
  %y = kiln.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x2x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x2x4xf32>
  return %y : tensor<1x2x2x4xf32>
}

// -----

// Grouped (depthwise) convolution folds per output channel as well:
// s = [2 / sqrt(3 + 1), 1 / sqrt(0 + 1)] = [1, 1] with beta = [0, 0] and
// mean = [1, -1] gives b' = [-1, 1]; weights unchanged.
// CHECK-LABEL: func.func @depthwise
// CHECK-DAG: [[W:%.+]] = kiln.constant dense<{{\[\[\[\[}}5.000000e-01]]], {{\[\[\[}}-2.500000e-01]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: [[B:%.+]] = kiln.constant dense<[-1.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK: kiln.conv %{{.+}}, [[W]], [[B]] {{{.*}}group = 2 : i64
// CHECK-NOT: kiln.batch_norm
func.func @depthwise(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %w = kiln.constant dense<[[[[0.5]]], [[[-0.25]]]]> : tensor<2x1x1x1xf32>
  %scale = kiln.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %beta = kiln.constant dense<0.0> : tensor<2xf32>
  %mean = kiln.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %var = kiln.constant dense<[3.0, 0.0]> : tensor<2xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x3x3xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x3x3xf32>
  %y = kiln.batch_norm %c, %scale, %beta, %mean, %var {epsilon = 1.0 : f32} : (tensor<1x2x3x3xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x3x3xf32>
  return %y : tensor<1x2x3x3xf32>
}

// -----

// The conv result has a second use: folding would change what that use sees.
// It becomes a mul and an add: s = 1 / sqrt(1 + 1e-5), t = 1 - s.
// CHECK-LABEL: func.func @conv_two_uses
// CHECK-DAG: [[S:%.+]] = kiln.constant dense<0.999994993> : tensor<1x1x1xf32>
// CHECK-DAG: [[T:%.+]] = kiln.constant dense<4.99996258E-6> : tensor<1x1x1xf32>
// CHECK: [[C:%.+]] = kiln.conv
// CHECK: [[M:%.+]] = kiln.mul [[C]], [[S]] : (tensor<1x1x2x2xf32>, tensor<1x1x1xf32>) -> tensor<1x1x2x2xf32>
// CHECK: [[Y:%.+]] = kiln.add [[M]], [[T]]
// CHECK-NOT: kiln.batch_norm
// CHECK: return [[Y]], [[C]]
func.func @conv_two_uses(%x: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32>
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %y = kiln.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y, %c : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}

// -----

// The running mean is not a constant.
// CHECK-LABEL: func.func @mean_not_constant
// CHECK: [[C:%.+]] = kiln.conv
// CHECK: kiln.batch_norm [[C]], %{{.+}}, %{{.+}}, %arg1, %{{.+}}
func.func @mean_not_constant(%x: tensor<1x1x2x2xf32>, %mean: tensor<1xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32>
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %y = kiln.batch_norm %c, %p, %p, %mean, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// The conv weight is not a constant.
// CHECK-LABEL: func.func @weight_not_constant
// CHECK: [[C:%.+]] = kiln.conv %arg0, %arg1
// CHECK: kiln.mul [[C]],
func.func @weight_not_constant(%x: tensor<1x1x2x2xf32>, %w: tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32> {
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %y = kiln.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// The conv bias is not a constant.
// CHECK-LABEL: func.func @bias_not_constant
// CHECK: [[C:%.+]] = kiln.conv %arg0, %{{.+}}, %arg1
// CHECK: kiln.mul [[C]],
func.func @bias_not_constant(%x: tensor<1x1x2x2xf32>, %b: tensor<1xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32>
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %c = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  %y = kiln.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// No convolution before the batch norm.
// CHECK-LABEL: func.func @no_conv
// CHECK: [[M:%.+]] = kiln.mul %arg0,
// CHECK: kiln.add [[M]],
// CHECK-NOT: kiln.batch_norm
func.func @no_conv(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %y = kiln.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Something else (a relu) between the conv and the batch norm.
// CHECK-LABEL: func.func @relu_between
// CHECK: kiln.conv
// CHECK: [[R:%.+]] = kiln.relu
// CHECK: kiln.mul [[R]],
func.func @relu_between(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf32>
  %p = kiln.constant dense<1.0> : tensor<1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
  %r = kiln.relu %c : tensor<1x1x2x2xf32>
  %y = kiln.batch_norm %r, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Only f32 statistics are folded.
// CHECK-LABEL: func.func @f64_not_folded
// CHECK: kiln.batch_norm
func.func @f64_not_folded(%x: tensor<1x1x2x2xf64>) -> tensor<1x1x2x2xf64> {
  %w = kiln.constant dense<2.0> : tensor<1x1x1x1xf64>
  %p = kiln.constant dense<1.0> : tensor<1xf64>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x2x2xf64>, tensor<1x1x1x1xf64>) -> tensor<1x1x2x2xf64>
  %y = kiln.batch_norm %c, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x1x2x2xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>, tensor<1xf64>) -> tensor<1x1x2x2xf64>
  return %y : tensor<1x1x2x2xf64>
}
