// Ops that index a dimension by `axis` reject rank-0 operands with a
// diagnostic; the verifier must not read past the (empty) shape.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @gather_scalar_data(%t: tensor<f32>, %i: tensor<2xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.gather' op axis 0 out of range for rank 0}}
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<f32>, tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_scalars(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.concat' op axis 0 out of range for rank 0}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @split_scalar(%a: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.split' op axis 0 out of range for rank 0}}
  %0 = kiln.split %a {axis = 0 : i64} : (tensor<f32>) -> tensor<f32>
  return %0 : tensor<f32>
}
