// Folders of the kiln ops: kiln.shape always folds to a constant (shapes are
// static), kiln.reshape folds away when it changes nothing and folds into
// constants.
// RUN: kiln-opt %s --canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @shape_folds
// CHECK-SAME: (%[[X:[^:]+]]: tensor<1x128x256xf32>)
// CHECK-DAG: [[ALL:%.+]] = kiln.constant dense<[1, 128, 256]> : tensor<3xi64>
// CHECK-DAG: [[TAIL:%.+]] = kiln.constant dense<[128, 256]> : tensor<2xi64>
// CHECK-DAG: [[MID:%.+]] = kiln.constant dense<128> : tensor<1xi64>
// CHECK-DAG: [[NONE:%.+]] = kiln.constant dense<> : tensor<0xi64>
// CHECK-NOT: kiln.shape
// CHECK: return [[ALL]], [[TAIL]], [[MID]], [[NONE]]
func.func @shape_folds(%x: tensor<1x128x256xf32>) -> (tensor<3xi64>, tensor<2xi64>, tensor<1xi64>, tensor<0xi64>) {
  %0 = kiln.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<1x128x256xf32>) -> tensor<3xi64>
  %1 = kiln.shape %x {end = 3 : i64, start = 1 : i64} : (tensor<1x128x256xf32>) -> tensor<2xi64>
  %2 = kiln.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<1x128x256xf32>) -> tensor<1xi64>
  %3 = kiln.shape %x {end = 1 : i64, start = 1 : i64} : (tensor<1x128x256xf32>) -> tensor<0xi64>
  return %0, %1, %2, %3 : tensor<3xi64>, tensor<2xi64>, tensor<1xi64>, tensor<0xi64>
}

// -----

// The shape of a rank-0 tensor is empty.
// CHECK-LABEL: func.func @shape_of_scalar
// CHECK: [[S:%.+]] = kiln.constant dense<> : tensor<0xi64>
// CHECK-NOT: kiln.shape
// CHECK: return [[S]]
func.func @shape_of_scalar(%x: tensor<f32>) -> tensor<0xi64> {
  %0 = kiln.shape %x {end = 0 : i64, start = 0 : i64} : (tensor<f32>) -> tensor<0xi64>
  return %0 : tensor<0xi64>
}

// -----

// A reshape to the same type is the identity.
// CHECK-LABEL: func.func @reshape_identity
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-NOT: kiln.reshape
// CHECK: return %[[X]] : tensor<2x3xf32>
func.func @reshape_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.reshape %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// A reshape of a constant is a constant with the same row-major data.
// CHECK-LABEL: func.func @reshape_constant
// CHECK: [[C:%.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<3x2xf32>
// CHECK-NOT: kiln.reshape
// CHECK-NOT: tensor<2x3xf32>
// CHECK: return [[C]] : tensor<3x2xf32>
func.func @reshape_constant() -> tensor<3x2xf32> {
  %c = kiln.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %0 = kiln.reshape %c : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

// Shape of a value, then reshape of that constant: the whole chain folds.
// CHECK-LABEL: func.func @shape_then_reshape
// CHECK: [[C:%.+]] = kiln.constant dense<{{\[\[}}4, 8]]> : tensor<1x2xi64>
// CHECK-NOT: kiln.shape
// CHECK-NOT: kiln.reshape
// CHECK: return [[C]]
func.func @shape_then_reshape(%x: tensor<4x8xf32>) -> tensor<1x2xi64> {
  %0 = kiln.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<4x8xf32>) -> tensor<2xi64>
  %1 = kiln.reshape %0 : (tensor<2xi64>) -> tensor<1x2xi64>
  return %1 : tensor<1x2xi64>
}

// -----

// A reshape that changes the shape of a non-constant stays.
// CHECK-LABEL: func.func @reshape_kept
// CHECK-SAME: (%[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK: [[R:%.+]] = kiln.reshape %[[X]] : (tensor<2x3xf32>) -> tensor<6xf32>
// CHECK: return [[R]]
func.func @reshape_kept(%x: tensor<2x3xf32>) -> tensor<6xf32> {
  %0 = kiln.reshape %x : (tensor<2x3xf32>) -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// Ops whose results are unused are removed (all kiln ops are pure).
// CHECK-LABEL: func.func @dead_ops
// CHECK-NOT: kiln.
// CHECK: return
func.func @dead_ops(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.relu %x : tensor<2x3xf32>
  %1 = kiln.constant dense<1.0> : tensor<3xf32>
  %2 = kiln.add %0, %1 : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %x : tensor<2x3xf32>
}
