// kiln.shape "always folds to a constant, since every shape is static": its
// verifier must reject a start/end range outside the input's rank or a result
// that is not the i64 vector of end - start dimensions, which could never fold.
// RUN: kiln-opt %s -split-input-file -verify-diagnostics

func.func @shape_result_not_i64(%x: tensor<1x128x256xf32>) -> tensor<2xi32> {
  // expected-error @+1 {{'kiln.shape' op result must be tensor<2xi64>}}
  %0 = kiln.shape %x {end = 3 : i64, start = 1 : i64} : (tensor<1x128x256xf32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

func.func @shape_result_count(%x: tensor<1x128x256xf32>) -> tensor<2xi64> {
  // expected-error @+1 {{'kiln.shape' op result must be tensor<3xi64>}}
  %0 = kiln.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<1x128x256xf32>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

func.func @shape_end_past_rank(%x: tensor<1x128x256xf32>) -> tensor<4xi64> {
  // expected-error @+1 {{'kiln.shape' op start/end must satisfy 0 <= start <= end <= rank}}
  %0 = kiln.shape %x {end = 4 : i64, start = 0 : i64} : (tensor<1x128x256xf32>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @shape_start_after_end(%x: tensor<1x128x256xf32>) -> tensor<0xi64> {
  // expected-error @+1 {{'kiln.shape' op start/end must satisfy 0 <= start <= end <= rank}}
  %0 = kiln.shape %x {end = 1 : i64, start = 2 : i64} : (tensor<1x128x256xf32>) -> tensor<0xi64>
  return %0 : tensor<0xi64>
}
