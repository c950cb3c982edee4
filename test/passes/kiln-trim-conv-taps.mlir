// kiln-trim-conv-taps drops the kernel taps that read padding for every
// output position, slicing the constant weights and shifting the pads so the
// result shape stays. (Numbers: test/codegen/kernel-variants-numeric.test.)
// RUN: kiln-opt %s --kiln-trim-conv-taps -split-input-file | FileCheck %s

// Dilation 6 on a 4x4 map: only the centre tap reads the input; a 1x1 remains.
// CHECK-LABEL: func.func @centre_only
// CHECK: [[W:%.+]] = kiln.constant dense<1.000000e+00> : tensor<2x2x1x1xf32>
// CHECK: kiln.conv %{{.+}}, [[W]] {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
func.func @centre_only(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = kiln.constant dense<1.0> : tensor<2x2x3x3xf32>
  %y = kiln.conv %x, %w {dilations = array<i64: 6, 6>, group = 1 : i64, pads = array<i64: 6, 6, 6, 6>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// Rows at dilation 3 on 5 rows all read the input somewhere; columns at
// dilation 5 on 5 columns only in the centre: the middle column of weights
// stays, with the row dilation and pads.
// CHECK-LABEL: func.func @columns_only
// CHECK: [[W:%.+]] = kiln.constant dense<{{\[\[\[\[}}2.000000e+00], [5.000000e+00], [8.000000e+00]]]]> : tensor<1x1x3x1xf32>
// CHECK: kiln.conv %{{.+}}, [[W]] {dilations = array<i64: 3, 1>, group = 1 : i64, pads = array<i64: 3, 0, 3, 0>, strides = array<i64: 1, 1>}
func.func @columns_only(%x: tensor<1x1x5x5xf32>) -> tensor<1x1x5x5xf32> {
  %w = kiln.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<1x1x3x3xf32>
  %y = kiln.conv %x, %w {dilations = array<i64: 3, 5>, group = 1 : i64, pads = array<i64: 3, 5, 3, 5>, strides = array<i64: 1, 1>} : (tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x5x5xf32>
  return %y : tensor<1x1x5x5xf32>
}

// -----

// A dropped tap with an infinite weight would turn 0 * inf = NaN into 0:
// the conv is left alone.
// CHECK-LABEL: func.func @infinite_weight
// CHECK: kiln.conv {{.*}}dilations = array<i64: 6, 6>{{.*}} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>)
func.func @infinite_weight(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = kiln.constant dense<[[[[0x7F800000, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]]]> : tensor<1x1x3x3xf32>
  %y = kiln.conv %x, %w {dilations = array<i64: 6, 6>, group = 1 : i64, pads = array<i64: 6, 6, 6, 6>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}

// -----

// Stride 2 over 3 rows at dilation 4: the outer taps read rows -4, -2 and
// 4, 6. The result keeps its 2x2 shape with no padding.
// CHECK-LABEL: func.func @strided
// CHECK: kiln.conv {{.*}}dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x1x3x3xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
func.func @strided(%x: tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32> {
  %w = kiln.constant dense<1.0> : tensor<1x1x3x3xf32>
  %y = kiln.conv %x, %w {dilations = array<i64: 4, 4>, group = 1 : i64, pads = array<i64: 4, 4, 4, 4>, strides = array<i64: 2, 2>} : (tensor<1x1x3x3xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// Every tap reads the input somewhere (a 3x3 with padding 1): unchanged.
// CHECK-LABEL: func.func @all_live
// CHECK: kiln.conv {{.*}}pads = array<i64: 1, 1, 1, 1>{{.*}} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>)
func.func @all_live(%x: tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32> {
  %w = kiln.constant dense<1.0> : tensor<1x1x3x3xf32>
  %y = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<1x1x3x3xf32>) -> tensor<1x1x4x4xf32>
  return %y : tensor<1x1x4x4xf32>
}
