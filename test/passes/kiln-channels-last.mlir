// kiln-channels-last runs 2-D float32 convolutions and pooling in NHWC,
// re-lays out constant weights (OIHW -> HWIO) and constant broadcast operands
// at compile time, and sinks the NHWC -> NCHW conversions through
// layout-agnostic ops until they cancel. What remains is marked
// kiln.layout_conversion.
// RUN: kiln-opt %s --kiln-channels-last -split-input-file | FileCheck %s

// A conv -> relu -> pool chain: one conversion in, one out, and the relu
// runs in NHWC between them.
// CHECK-LABEL: func.func @conv_relu_pool
// CHECK: %[[W:.+]] = kiln.constant dense<5.000000e-01> : tensor<3x3x3x4xf32>
// CHECK: %[[IN:.+]] = kiln.transpose %arg0 {kiln.layout_conversion, perm = array<i64: 0, 2, 3, 1>} : (tensor<1x3x8x8xf32>) -> tensor<1x8x8x3xf32>
// CHECK: %[[C:.+]] = kiln.conv %[[IN]], %[[W]] {channels_last, {{.*}}} : (tensor<1x8x8x3xf32>, tensor<3x3x3x4xf32>) -> tensor<1x8x8x4xf32>
// CHECK: %[[R:.+]] = kiln.relu %[[C]] : tensor<1x8x8x4xf32>
// CHECK: %[[P:.+]] = kiln.max_pool %[[R]] {channels_last, {{.*}}} : (tensor<1x8x8x4xf32>) -> tensor<1x4x4x4xf32>
// CHECK: %[[OUT:.+]] = kiln.transpose %[[P]] {kiln.layout_conversion, perm = array<i64: 0, 3, 1, 2>}
// CHECK: return %[[OUT]]
func.func @conv_relu_pool(%x: tensor<1x3x8x8xf32>) -> tensor<1x4x4x4xf32> {
  %w4 = kiln.constant dense<0.5> : tensor<4x3x3x3xf32>
  %c = kiln.conv %x, %w4 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  %r = kiln.relu %c : tensor<1x4x8x8xf32>
  %p = kiln.max_pool %r {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>) -> tensor<1x4x4x4xf32>
  return %p : tensor<1x4x4x4xf32>
}

// -----

// Weights are permuted at compile time: w[o][0][0][kw] -> w'[0][kw][0][o].
// A single-channel input converts by a reshape (no data moves).
// CHECK-LABEL: func.func @weights
// CHECK: kiln.constant dense<{{\[\[\[\[}}1.000000e+00, 3.000000e+00]], {{\[\[}}2.000000e+00, 4.000000e+00]]]]> : tensor<1x2x1x2xf32>
// CHECK: kiln.reshape %arg0 : (tensor<1x1x4x4xf32>) -> tensor<1x4x4x1xf32>
// CHECK-NOT: perm = array<i64: 0, 2, 3, 1>
func.func @weights(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x3xf32> {
  %w = kiln.constant dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> : tensor<2x1x1x2xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x2xf32>) -> tensor<1x2x4x3xf32>
  return %c : tensor<1x2x4x3xf32>
}
// -----

// A per-channel constant bias is re-laid out; a residual add with the model
// input shares the input's conversion; a run-time weight is transposed by an
// op that is not a layout conversion. No conversion between the convolutions.
// CHECK-LABEL: func.func @residual
// CHECK-DAG: %[[B:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00]]]]> : tensor<1x1x1x4xf32>
// CHECK-DAG: %[[IN:.+]] = kiln.transpose %arg0 {kiln.layout_conversion, perm = array<i64: 0, 2, 3, 1>}
// CHECK: %[[C1:.+]] = kiln.conv %[[IN]]
// CHECK: %[[A:.+]] = kiln.add %[[C1]], %[[B]] : (tensor<1x8x8x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x8x8x4xf32>
// CHECK: %[[S:.+]] = kiln.add %[[A]], %[[IN]] : (tensor<1x8x8x4xf32>, tensor<1x8x8x4xf32>) -> tensor<1x8x8x4xf32>
// CHECK: %[[W:.+]] = kiln.transpose %arg1 {perm = array<i64: 2, 3, 1, 0>}
// CHECK: %[[C2:.+]] = kiln.conv %[[S]], %[[W]] {channels_last
// CHECK: kiln.transpose %[[C2]] {kiln.layout_conversion, perm = array<i64: 0, 3, 1, 2>}
func.func @residual(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %w1 = kiln.constant dense<0.5> : tensor<4x4x1x1xf32>
  %b = kiln.constant dense<[[[1.0]], [[2.0]], [[3.0]], [[4.0]]]> : tensor<4x1x1xf32>
  %c1 = kiln.conv %x, %w1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %a = kiln.add %c1, %b : (tensor<1x4x8x8xf32>, tensor<4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %s = kiln.add %a, %x : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %c2 = kiln.conv %s, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  return %c2 : tensor<1x4x8x8xf32>
}
// -----

// A fire module: the two expand convolutions share one input conversion and
// their channel concat becomes a concat along the last axis.
// CHECK-LABEL: func.func @fire
// CHECK: %[[IN:.+]] = kiln.transpose %arg0 {kiln.layout_conversion
// CHECK-NOT: kiln.transpose
// CHECK: kiln.conv %[[IN]]
// CHECK-NOT: kiln.transpose
// CHECK: kiln.conv %[[IN]]
// CHECK-NOT: kiln.transpose
// CHECK: kiln.concat {{.*}} {axis = 3 : i64} : (tensor<1x8x8x3xf32>, tensor<1x8x8x5xf32>) -> tensor<1x8x8x8xf32>
// CHECK-NOT: kiln.transpose
// CHECK: kiln.conv
// CHECK: kiln.transpose {{.*}} {kiln.layout_conversion, perm = array<i64: 0, 3, 1, 2>}
// CHECK-NOT: kiln.transpose
func.func @fire(%x: tensor<1x4x8x8xf32>) -> tensor<1x2x8x8xf32> {
  %wa = kiln.constant dense<0.5> : tensor<3x4x1x1xf32>
  %wb = kiln.constant dense<0.25> : tensor<5x4x3x3xf32>
  %wc = kiln.constant dense<0.125> : tensor<2x8x1x1xf32>
  %a = kiln.conv %x, %wa {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<3x4x1x1xf32>) -> tensor<1x3x8x8xf32>
  %b = kiln.conv %x, %wb {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<5x4x3x3xf32>) -> tensor<1x5x8x8xf32>
  %ra = kiln.relu %a : tensor<1x3x8x8xf32>
  %rb = kiln.relu %b : tensor<1x5x8x8xf32>
  %cat = kiln.concat %ra, %rb {axis = 1 : i64} : (tensor<1x3x8x8xf32>, tensor<1x5x8x8xf32>) -> tensor<1x8x8x8xf32>
  %c = kiln.conv %cat, %wc {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<2x8x1x1xf32>) -> tensor<1x2x8x8xf32>
  return %c : tensor<1x2x8x8xf32>
}
// -----

// Squeeze-and-excitation: the pooled [N,1,1,C] vectors convert by reshapes,
// and the scaling multiply runs in NHWC. The only conversion is the input's.
// CHECK-LABEL: func.func @squeeze_excite
// CHECK: kiln.transpose %arg0 {kiln.layout_conversion
// CHECK-NOT: kiln.transpose
// CHECK: %[[X:.+]] = kiln.conv
// CHECK: kiln.global_average_pool %[[X]] {channels_last} : (tensor<1x8x8x4xf32>) -> tensor<1x1x1x4xf32>
// CHECK: %[[SIG:.+]] = kiln.sigmoid {{.*}} : tensor<1x1x1x4xf32>
// CHECK: kiln.mul %[[X]], %[[SIG]] : (tensor<1x8x8x4xf32>, tensor<1x1x1x4xf32>) -> tensor<1x8x8x4xf32>
// CHECK: %[[G:.+]] = kiln.global_average_pool {{.*}} {channels_last}
// CHECK: %[[F:.+]] = kiln.reshape %[[G]] : (tensor<1x1x1x4xf32>) -> tensor<1x4xf32>
// CHECK: return %[[F]]
func.func @squeeze_excite(%in: tensor<1x4x8x8xf32>) -> tensor<1x4xf32> {
  %w0 = kiln.constant dense<0.5> : tensor<4x4x1x1xf32>
  %x = kiln.conv %in, %w0 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %w1 = kiln.constant dense<0.5> : tensor<2x4x1x1xf32>
  %w2 = kiln.constant dense<0.25> : tensor<4x2x1x1xf32>
  %g = kiln.global_average_pool %x : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  %s1 = kiln.conv %g, %w1 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x1x1xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x1x1xf32>
  %r = kiln.relu %s1 : tensor<1x2x1x1xf32>
  %s2 = kiln.conv %r, %w2 {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x1x1xf32>, tensor<4x2x1x1xf32>) -> tensor<1x4x1x1xf32>
  %sig = kiln.sigmoid %s2 : tensor<1x4x1x1xf32>
  %m = kiln.mul %x, %sig : (tensor<1x4x8x8xf32>, tensor<1x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %p = kiln.global_average_pool %m : (tensor<1x4x8x8xf32>) -> tensor<1x4x1x1xf32>
  %f = kiln.reshape %p : (tensor<1x4x1x1xf32>) -> tensor<1x4xf32>
  return %f : tensor<1x4xf32>
}
// -----

// Pads move to the NHWC dimensions; average pooling runs in NHWC too.
// CHECK-LABEL: func.func @pad
// CHECK: kiln.pad {{.*}} {mode = "reflect", pads = array<i64: 0, 1, 1, 0, 0, 1, 1, 0>, {{.*}}} : (tensor<1x8x8x4xf32>) -> tensor<1x10x10x4xf32>
// CHECK-NEXT: kiln.avg_pool {{.*}} {channels_last
func.func @pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32> {
  %w = kiln.constant dense<0.5> : tensor<4x4x1x1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %p = kiln.pad %c {mode = "reflect", pads = array<i64: 0, 0, 1, 1, 0, 0, 1, 1>, value = 0.0 : f64} : (tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32>
  %a = kiln.avg_pool %p {count_include_pad = false, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x10x10xf32>) -> tensor<1x4x10x10xf32>
  return %a : tensor<1x4x10x10xf32>
}
// -----

// Must not sink: a softmax over channels and a flatten of a spatial map need
// NCHW, so the conversion stays in front of them.
// CHECK-LABEL: func.func @blocked
// CHECK: %[[C:.+]] = kiln.conv
// CHECK: %[[T:.+]] = kiln.transpose %[[C]] {kiln.layout_conversion, perm = array<i64: 0, 3, 1, 2>}
// CHECK: kiln.softmax %[[T]] {axis = 1 : i64}
// CHECK: kiln.reshape %[[T]] : (tensor<1x4x8x8xf32>) -> tensor<1x256xf32>
func.func @blocked(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x256xf32>) {
  %w = kiln.constant dense<0.5> : tensor<4x4x1x1xf32>
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %s = kiln.softmax %c {axis = 1 : i64} : tensor<1x4x8x8xf32>
  %f = kiln.reshape %c : (tensor<1x4x8x8xf32>) -> tensor<1x256xf32>
  return %s, %f : tensor<1x4x8x8xf32>, tensor<1x256xf32>
}
// -----

// Must not fire: 3-D convolution and integer convolution stay NCHW.
// CHECK-LABEL: func.func @untouched
// CHECK-NOT: channels_last
// CHECK-NOT: kiln.transpose
func.func @untouched(%x: tensor<1x2x4x4x4xf32>, %w: tensor<2x2x1x1x1xf32>, %xi: tensor<1x2x4x4xi32>, %wi: tensor<2x2x1x1xi32>) -> (tensor<1x2x4x4x4xf32>, tensor<1x2x4x4xi32>) {
  %c = kiln.conv %x, %w {dilations = array<i64: 1, 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 1, 1>} : (tensor<1x2x4x4x4xf32>, tensor<2x2x1x1x1xf32>) -> tensor<1x2x4x4x4xf32>
  %ci = kiln.conv %xi, %wi {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x2x4x4xi32>, tensor<2x2x1x1xi32>) -> tensor<1x2x4x4xi32>
  return %c, %ci : tensor<1x2x4x4x4xf32>, tensor<1x2x4x4xi32>
}
