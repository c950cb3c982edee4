// Every kiln op verifier rejects IR whose types disagree with its semantics.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Elementwise binary ops
//===----------------------------------------------------------------------===//

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.add' op operand shapes do not broadcast}}
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @sub_wrong_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<3x3xf32> {
  // expected-error @+1 {{'kiln.sub' op result shape [3x3] is not the broadcast shape [2x3]}}
  %0 = kiln.sub %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

func.func @mul_rank_grows(%a: tensor<3xf32>, %b: tensor<3xf32>) -> tensor<1x3xf32> {
  // expected-error @+1 {{'kiln.mul' op result shape [1x3] is not the broadcast shape [3]}}
  %0 = kiln.mul %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<1x3xf32>
  return %0 : tensor<1x3xf32>
}

// -----

func.func @div_result_element_type(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf64> {
  // expected-error @+1 {{'kiln.div' op unexpected result element type 'f64'}}
  %0 = kiln.div %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @max_bool_result(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xi1> {
  // expected-error @+1 {{'kiln.max' op unexpected result element type 'i1'}}
  %0 = kiln.max %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xi1>
  return %0 : tensor<4xi1>
}

// -----

func.func @equal_not_bool(%a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.equal' op unexpected result element type 'f32'}}
  %0 = kiln.equal %a, %b : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @less_not_bool(%a: tensor<4xi64>, %b: tensor<i64>) -> tensor<4xi64> {
  // expected-error @+1 {{'kiln.less' op unexpected result element type 'i64'}}
  %0 = kiln.less %a, %b : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @greater_broadcast(%a: tensor<2x4xf32>, %b: tensor<3x1xf32>) -> tensor<2x4xi1> {
  // expected-error @+1 {{'kiln.greater' op operand shapes do not broadcast}}
  %0 = kiln.greater %a, %b : (tensor<2x4xf32>, tensor<3x1xf32>) -> tensor<2x4xi1>
  return %0 : tensor<2x4xi1>
}

//===----------------------------------------------------------------------===//
// where
//===----------------------------------------------------------------------===//

// -----

func.func @where_condition_not_bool(%c: tensor<4xf32>, %x: tensor<4xf32>, %y: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.where' op condition must be a boolean tensor}}
  %0 = kiln.where %c, %x, %y : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @where_element_types(%c: tensor<4xi1>, %x: tensor<4xf32>, %y: tensor<4xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.where' op x, y and result element types differ}}
  %0 = kiln.where %c, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @where_broadcast(%c: tensor<4x4xi1>, %x: tensor<1x4x4xf32>, %y: tensor<f32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'kiln.where' op result shape [4x4] is not the broadcast shape [1x4x4]}}
  %0 = kiln.where %c, %x, %y : (tensor<4x4xi1>, tensor<1x4x4xf32>, tensor<f32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

//===----------------------------------------------------------------------===//
// conv
//===----------------------------------------------------------------------===//

// -----

func.func @conv_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op expects rank-4 (NCHW) or rank-5 (NCDHW) input, weight and result}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_attr_lengths(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op expects one stride and dilation and two pads per spatial dimension}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_group_does_not_divide(%x: tensor<1x6x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op group 4 does not divide the channels}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x6x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_group_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op group 0 does not divide the channels}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 0 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_channel_mismatch(%x: tensor<1x5x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op weight has 3 input channels per group, input has 5 channels in 1 groups}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x5x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_grouped_channel_mismatch(%x: tensor<1x8x8x8xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op weight has 2 input channels per group, input has 8 channels in 2 groups}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x8x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias_size(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op bias must have one element per output channel}}
  %0 = kiln.conv %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_stride_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op strides must be positive}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_dilation_zero(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op dilations must be positive}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 0, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_negative_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'kiln.conv' op pads must be non-negative}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, -1, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x3x2x2xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'kiln.conv' op kernel larger than padded input}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x2x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

func.func @conv_result_shape(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32> {
  // expected-error @+1 {{'kiln.conv' op result shape [1x4x8x8] differs from computed [1x4x6x6]}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return %0 : tensor<1x4x8x8xf32>
}

// -----

// Stride 2, dilation 2, asymmetric pads: H = (9 + 1 + 0 - 5) / 2 + 1 = 3, W = (9 + 0 + 2 - 5) / 2 + 1 = 4.
func.func @conv_result_shape_strided(%x: tensor<1x3x9x9xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32> {
  // expected-error @+1 {{'kiln.conv' op result shape [1x4x4x4] differs from computed [1x4x3x4]}}
  %0 = kiln.conv %x, %w {dilations = array<i64: 2, 2>, group = 1 : i64, pads = array<i64: 1, 0, 0, 2>, strides = array<i64: 2, 2>} : (tensor<1x3x9x9xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

//===----------------------------------------------------------------------===//
// gemm and matmul
//===----------------------------------------------------------------------===//

// -----

func.func @gemm_rank(%a: tensor<1x2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op expects rank-2 operands and result}}
  %0 = kiln.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false} : (tensor<1x2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @gemm_inner_dims(%a: tensor<2x3xf32>, %b: tensor<5x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op inner dimensions differ: 3 vs 5}}
  %0 = kiln.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false} : (tensor<2x3xf32>, tensor<5x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// With transB the inner dimension of B is its second one.
func.func @gemm_inner_dims_transposed(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'kiln.gemm' op inner dimensions differ: 3 vs 4}}
  %0 = kiln.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = true} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @gemm_result_shape(%a: tensor<3x2xf32>, %b: tensor<3x4xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op result shape [3x4] is not 2x4}}
  %0 = kiln.gemm %a, %b {alpha = 1.0 : f32, beta = 1.0 : f32, transA = true, transB = false} : (tensor<3x2xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @gemm_c_broadcast(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<2xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op C does not broadcast to the result}}
  %0 = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

// C may broadcast to the result, but not grow it.
func.func @gemm_c_larger(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<3x2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.gemm' op C does not broadcast to the result}}
  %0 = kiln.gemm %a, %b, %c {alpha = 1.0 : f32, beta = 1.0 : f32, transA = false, transB = false} : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<3x2x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @matmul_rank_one(%a: tensor<3xf32>, %b: tensor<3x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.matmul' op expects operands of rank 2 or more}}
  %0 = kiln.matmul %a, %b : (tensor<3xf32>, tensor<3x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_inner_dims(%a: tensor<2x4x8xf32>, %b: tensor<7x16xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'kiln.matmul' op inner dimensions differ: 8 vs 7}}
  %0 = kiln.matmul %a, %b : (tensor<2x4x8xf32>, tensor<7x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

func.func @matmul_batch(%a: tensor<2x4x8xf32>, %b: tensor<3x8x16xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'kiln.matmul' op batch dimensions do not broadcast}}
  %0 = kiln.matmul %a, %b : (tensor<2x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

// -----

func.func @matmul_result_shape(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x16xf32>) -> tensor<2x4x16xf32> {
  // expected-error @+1 {{'kiln.matmul' op result shape [2x4x16] differs from computed [2x3x4x16]}}
  %0 = kiln.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x16xf32>) -> tensor<2x4x16xf32>
  return %0 : tensor<2x4x16xf32>
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_axis_too_large(%x: tensor<1x10xf32>) -> tensor<1x10xf32> {
  // expected-error @+1 {{'kiln.softmax' op axis 2 out of range for rank 2}}
  %0 = kiln.softmax %x {axis = 2 : i64} : tensor<1x10xf32>
  return %0 : tensor<1x10xf32>
}

// -----

// Negative axes are normalised by the importer; the op only takes 0..rank-1.
func.func @softmax_axis_negative(%x: tensor<1x10xf32>) -> tensor<1x10xf32> {
  // expected-error @+1 {{'kiln.softmax' op axis -1 out of range for rank 2}}
  %0 = kiln.softmax %x {axis = -1 : i64} : tensor<1x10xf32>
  return %0 : tensor<1x10xf32>
}

// -----

func.func @layer_norm_axis(%x: tensor<1x4x8xf32>, %s: tensor<8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op axis 3 out of range for rank 3}}
  %0 = kiln.layer_norm %x, %s {axis = 3 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

func.func @layer_norm_scale(%x: tensor<1x4x8xf32>, %s: tensor<4xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias do not broadcast to the normalised shape}}
  %0 = kiln.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<4xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

// The scale must not be larger than the normalised dims (4x8 from axis 1, not 2x4x8).
func.func @layer_norm_scale_too_large(%x: tensor<1x4x8xf32>, %s: tensor<2x4x8xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias do not broadcast to the normalised shape}}
  %0 = kiln.layer_norm %x, %s {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<2x4x8xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

func.func @layer_norm_bias(%x: tensor<1x4x8xf32>, %s: tensor<8xf32>, %b: tensor<3xf32>) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op scale/bias do not broadcast to the normalised shape}}
  %0 = kiln.layer_norm %x, %s, %b {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>, tensor<3xf32>) -> tensor<1x4x8xf32>
  return %0 : tensor<1x4x8xf32>
}

// -----

func.func @layer_norm_result(%x: tensor<1x4x8xf32>, %s: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'kiln.layer_norm' op result shape differs from input shape}}
  %0 = kiln.layer_norm %x, %s {axis = 2 : i64, epsilon = 1.0e-05 : f32} : (tensor<1x4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @batch_norm_rank(%x: tensor<4xf32>, %p: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op expects an input of rank 2 or more}}
  %0 = kiln.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @batch_norm_params(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf32>, %v: tensor<3xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op parameters must have one element per channel}}
  %0 = kiln.batch_norm %x, %p, %p, %p, %v {epsilon = 1.0e-05 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

// The parameters are 1-D: [C], not [1, C].
func.func @batch_norm_params_rank(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf32>, %s: tensor<1x4xf32>) -> tensor<1x4x2x2xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op parameters must have one element per channel}}
  %0 = kiln.batch_norm %x, %s, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x4x2x2xf32>, tensor<1x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x2x2xf32>
  return %0 : tensor<1x4x2x2xf32>
}

// -----

func.func @batch_norm_result(%x: tensor<1x4x2x2xf32>, %p: tensor<4xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'kiln.batch_norm' op result shape differs from input shape}}
  %0 = kiln.batch_norm %x, %p, %p, %p, %p {epsilon = 1.0e-05 : f32} : (tensor<1x4x2x2xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_axes_unsorted(%x: tensor<2x3x4xf32>) -> tensor<2x1x1xf32> {
  // expected-error @+1 {{'kiln.reduce_mean' op axes must be sorted, unique and within the rank}}
  %0 = kiln.reduce_mean %x {axes = array<i64: 2, 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  return %0 : tensor<2x1x1xf32>
}

// -----

func.func @reduce_axes_duplicate(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xf32> {
  // expected-error @+1 {{'kiln.reduce_sum' op axes must be sorted, unique and within the rank}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 1, 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

// -----

func.func @reduce_axes_out_of_range(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'kiln.reduce_max' op axes must be sorted, unique and within the rank}}
  %0 = kiln.reduce_max %x {axes = array<i64: 3>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

func.func @reduce_axes_negative(%x: tensor<2x3x4xf32>) -> tensor<2x3x1xf32> {
  // expected-error @+1 {{'kiln.reduce_max' op axes must be sorted, unique and within the rank}}
  %0 = kiln.reduce_max %x {axes = array<i64: -1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  return %0 : tensor<2x3x1xf32>
}

// -----

func.func @reduce_keepdims_result(%x: tensor<2x3x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'kiln.reduce_mean' op result shape [2x4] differs from computed [2x1x4]}}
  %0 = kiln.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @reduce_no_keepdims_result(%x: tensor<2x3x4xf32>) -> tensor<2x1x4xf32> {
  // expected-error @+1 {{'kiln.reduce_sum' op result shape [2x1x4] differs from computed [2x4]}}
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  return %0 : tensor<2x1x4xf32>
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// -----

func.func @max_pool_rank(%x: tensor<8x32x32xf32>) -> tensor<8x16x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op expects rank-4 (NCHW) or rank-5 (NCDHW) input and result}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<8x32x32xf32>) -> tensor<8x16x16xf32>
  return %0 : tensor<8x16x16xf32>
}

// -----

func.func @max_pool_attr_lengths(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op expects kernel dims, strides and dilations per spatial dimension and two pads each}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  return %0 : tensor<1x8x16x16xf32>
}

// -----

func.func @max_pool_channels(%x: tensor<1x8x32x32xf32>) -> tensor<1x4x16x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op pooling must keep batch and channels}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x4x16x16xf32>
  return %0 : tensor<1x4x16x16xf32>
}

// -----

func.func @max_pool_kernel_zero(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op kernel, strides and dilations must be positive}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 0, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  return %0 : tensor<1x8x16x16xf32>
}

// -----

func.func @max_pool_stride_zero(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op kernel, strides and dilations must be positive}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 0>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x16xf32>
  return %0 : tensor<1x8x16x16xf32>
}

// -----

// floor((32 - 2) / 2) + 1 = 16; ceil mode may give 17, but never 15.
func.func @max_pool_bad_size(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x15x16xf32> {
  // expected-error @+1 {{'kiln.max_pool' op result spatial size 15 does not follow from the attributes}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x15x16xf32>
  return %0 : tensor<1x8x15x16xf32>
}

// -----

func.func @max_pool_bad_size_ceil(%x: tensor<1x8x32x32xf32>) -> tensor<1x8x16x18xf32> {
  // expected-error @+1 {{'kiln.max_pool' op result spatial size 18 does not follow from the attributes}}
  %0 = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x32x32xf32>) -> tensor<1x8x16x18xf32>
  return %0 : tensor<1x8x16x18xf32>
}

// -----

func.func @global_average_pool_not_one(%x: tensor<1x8x7x7xf32>) -> tensor<1x8x7x1xf32> {
  // expected-error @+1 {{'kiln.global_average_pool' op expects [N, C, 1, ...] result for [N, C, ...] input}}
  %0 = kiln.global_average_pool %x : (tensor<1x8x7x7xf32>) -> tensor<1x8x7x1xf32>
  return %0 : tensor<1x8x7x1xf32>
}

// -----

func.func @global_average_pool_rank(%x: tensor<1x8x7x7xf32>) -> tensor<1x8xf32> {
  // expected-error @+1 {{'kiln.global_average_pool' op expects [N, C, 1, ...] result for [N, C, ...] input}}
  %0 = kiln.global_average_pool %x : (tensor<1x8x7x7xf32>) -> tensor<1x8xf32>
  return %0 : tensor<1x8xf32>
}

// -----

func.func @global_average_pool_channels(%x: tensor<1x8x7x7xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'kiln.global_average_pool' op expects [N, C, 1, ...] result for [N, C, ...] input}}
  %0 = kiln.global_average_pool %x : (tensor<1x8x7x7xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

func.func @reshape_element_count(%x: tensor<2x3xf32>) -> tensor<7xf32> {
  // expected-error @+1 {{'kiln.reshape' op element counts differ: 6 vs 7}}
  %0 = kiln.reshape %x : (tensor<2x3xf32>) -> tensor<7xf32>
  return %0 : tensor<7xf32>
}

// -----

func.func @transpose_perm_length(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm must list every dimension once}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

func.func @transpose_perm_repeated(%x: tensor<2x3x4xf32>) -> tensor<3x3x4xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm must be a permutation of 0..rank-1}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<3x3x4xf32>
  return %0 : tensor<3x3x4xf32>
}

// -----

func.func @transpose_perm_out_of_range(%x: tensor<2x3x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'kiln.transpose' op perm must be a permutation of 0..rank-1}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 0, 3>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

func.func @transpose_result_dim(%x: tensor<2x3x4xf32>) -> tensor<3x4x2xf32> {
  // expected-error @+1 {{'kiln.transpose' op result dim 1 must be input dim 0}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  return %0 : tensor<3x4x2xf32>
}

// -----

func.func @slice_lengths(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'kiln.slice' op expects one start and step per dimension}}
  %0 = kiln.slice %x {starts = array<i64: 2>, steps = array<i64: 1>} : (tensor<4x8xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @slice_step_zero(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'kiln.slice' op step must be non-zero}}
  %0 = kiln.slice %x {starts = array<i64: 0, 2>, steps = array<i64: 1, 0>} : (tensor<4x8xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// Elements 6, 7, 8, 9 of a dimension of 8: the last two lie outside.
func.func @slice_past_end(%x: tensor<4x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'kiln.slice' op slice of dimension 1 leaves the input}}
  %0 = kiln.slice %x {starts = array<i64: 0, 6>, steps = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @slice_negative_start(%x: tensor<4x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'kiln.slice' op slice of dimension 0 leaves the input}}
  %0 = kiln.slice %x {starts = array<i64: -1, 0>, steps = array<i64: 1, 1>} : (tensor<4x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// Backwards from 2 with step -2: elements 2, 0, -2.
func.func @slice_negative_step_past_begin(%x: tensor<4x8xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{'kiln.slice' op slice of dimension 0 leaves the input}}
  %0 = kiln.slice %x {starts = array<i64: 2, 0>, steps = array<i64: -2, 1>} : (tensor<4x8xf32>) -> tensor<3x8xf32>
  return %0 : tensor<3x8xf32>
}

// -----

// (Rejected by the SameOperandsAndResultElementType trait before the op's own
// "expects at least one input" check.)
func.func @concat_no_inputs() -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.concat' op expected 1 or more operands, but found 0}}
  %0 = kiln.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_axis(%a: tensor<1x2xf32>, %b: tensor<1x3xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'kiln.concat' op axis 2 out of range for rank 2}}
  %0 = kiln.concat %a, %b {axis = 2 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @concat_rank(%a: tensor<1x2xf32>, %b: tensor<3xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'kiln.concat' op inputs must have the result's rank}}
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<3xf32>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @concat_off_axis(%a: tensor<1x2xf32>, %b: tensor<2x3xf32>) -> tensor<1x5xf32> {
  // expected-error @+1 {{'kiln.concat' op inputs differ from the result off the axis}}
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<2x3xf32>) -> tensor<1x5xf32>
  return %0 : tensor<1x5xf32>
}

// -----

func.func @concat_sizes(%a: tensor<1x2xf32>, %b: tensor<1x3xf32>) -> tensor<1x6xf32> {
  // expected-error @+1 {{'kiln.concat' op sizes along the axis do not add up}}
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2xf32>, tensor<1x3xf32>) -> tensor<1x6xf32>
  return %0 : tensor<1x6xf32>
}

// -----

func.func @split_axis(%x: tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<1x4xf32>) {
  // expected-error @+1 {{'kiln.split' op axis -1 out of range for rank 2}}
  %0:2 = kiln.split %x {axis = -1 : i64} : (tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<1x4xf32>)
  return %0#0, %0#1 : tensor<1x2xf32>, tensor<1x4xf32>
}

// -----

func.func @split_rank(%x: tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<4xf32>) {
  // expected-error @+1 {{'kiln.split' op results must have the input's rank}}
  %0:2 = kiln.split %x {axis = 1 : i64} : (tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<4xf32>)
  return %0#0, %0#1 : tensor<1x2xf32>, tensor<4xf32>
}

// -----

func.func @split_off_axis(%x: tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<2x4xf32>) {
  // expected-error @+1 {{'kiln.split' op results differ from the input off the axis}}
  %0:2 = kiln.split %x {axis = 1 : i64} : (tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<2x4xf32>)
  return %0#0, %0#1 : tensor<1x2xf32>, tensor<2x4xf32>
}

// -----

func.func @split_sizes(%x: tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<1x3xf32>) {
  // expected-error @+1 {{'kiln.split' op result sizes along the axis do not add up to 6}}
  %0:2 = kiln.split %x {axis = 1 : i64} : (tensor<1x6xf32>) -> (tensor<1x2xf32>, tensor<1x3xf32>)
  return %0#0, %0#1 : tensor<1x2xf32>, tensor<1x3xf32>
}

// -----

func.func @gather_axis(%t: tensor<10x4xf32>, %i: tensor<3xi64>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op axis 2 out of range for rank 2}}
  %0 = kiln.gather %t, %i {axis = 2 : i64} : (tensor<10x4xf32>, tensor<3xi64>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @gather_indices_type(%t: tensor<10x4xf32>, %i: tensor<3xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op indices must be int32 or int64}}
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @gather_indices_i8(%t: tensor<10x4xf32>, %i: tensor<3xi8>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op indices must be int32 or int64}}
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xi8>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

// Gathering along axis 1 puts the index dims in the middle: [10] + [2x3] + [].
func.func @gather_result_shape(%t: tensor<10x4xf32>, %i: tensor<2x3xi32>) -> tensor<2x3x4xf32> {
  // expected-error @+1 {{'kiln.gather' op result shape [2x3x4] differs from computed [10x2x3]}}
  %0 = kiln.gather %t, %i {axis = 1 : i64} : (tensor<10x4xf32>, tensor<2x3xi32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

// -----

// Every kiln op works on statically shaped tensors.
func.func @dynamic_shape(%x: tensor<?x4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'kiln.relu' op operand #0 must be statically shaped tensor of any type values, but got 'tensor<?x4xf32>'}}
  %0 = kiln.relu %x : tensor<?x4xf32>
  return %0 : tensor<?x4xf32>
}

// -----

// The recurrent weights are [gates * hidden, hidden].
func.func @recurrence_weights(%xw: tensor<6x2x8xf32>, %r: tensor<8x8xf32>, %h0: tensor<2x4xf32>) -> tensor<6x2x4xf32> {
  // expected-error @+1 {{'kiln.recurrence' op weights must be [gates * hidden, hidden] = [8, 4]}}
  %y, %s = kiln.recurrence %xw, %r, %h0 {gates = 2 : i64, reverse = false}
      : (tensor<6x2x8xf32>, tensor<8x8xf32>, tensor<2x4xf32>) -> (tensor<6x2x4xf32>, tensor<2x4xf32>) {
  ^bb0(%x0: tensor<2x4xf32>, %x1: tensor<2x4xf32>, %r0: tensor<2x4xf32>, %r1: tensor<2x4xf32>, %h: tensor<2x4xf32>):
    kiln.yield %x0 : tensor<2x4xf32>
  }
  return %y : tensor<6x2x4xf32>
}

// -----

// The body yields one new value per state.
func.func @recurrence_yield(%xw: tensor<6x2x4xf32>, %r: tensor<4x4xf32>, %h0: tensor<2x4xf32>) -> tensor<6x2x4xf32> {
  // expected-error @+1 {{'kiln.recurrence' op body must yield the new states}}
  %y, %s = kiln.recurrence %xw, %r, %h0 {gates = 1 : i64, reverse = false}
      : (tensor<6x2x4xf32>, tensor<4x4xf32>, tensor<2x4xf32>) -> (tensor<6x2x4xf32>, tensor<2x4xf32>) {
  ^bb0(%x0: tensor<2x4xf32>, %r0: tensor<2x4xf32>, %h: tensor<2x4xf32>):
    kiln.yield %x0, %h : tensor<2x4xf32>, tensor<2x4xf32>
  }
  return %y : tensor<6x2x4xf32>
}

// -----

// The body is elementwise: the kernel evaluates it unit by unit.
func.func @recurrence_body(%xw: tensor<6x2x4xf32>, %r: tensor<4x4xf32>, %h0: tensor<2x4xf32>) -> tensor<6x2x4xf32> {
  %y, %s = kiln.recurrence %xw, %r, %h0 {gates = 1 : i64, reverse = false}
      : (tensor<6x2x4xf32>, tensor<4x4xf32>, tensor<2x4xf32>) -> (tensor<6x2x4xf32>, tensor<2x4xf32>) {
  ^bb0(%x0: tensor<2x4xf32>, %r0: tensor<2x4xf32>, %h: tensor<2x4xf32>):
    // expected-error @+1 {{'kiln.softmax' op is not an elementwise op and cannot be fused}}
    %p = kiln.softmax %x0 {axis = 1 : i64} : tensor<2x4xf32>
    kiln.yield %p : tensor<2x4xf32>
  }
  return %y : tensor<6x2x4xf32>
}
