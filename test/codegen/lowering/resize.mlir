// Resize lowered to the kernel form, with tap tables (input indices and
// weights per output coordinate, computed at compile time) as memref.global
// constants of the kernel module, shared by content.
// Images (2 taps per coordinate: linear and nearest) resize separably on a
// CPU: each output row blends two input rows into a scratch row, then each
// output element blends two elements of it; in NHWC each output pixel
// blends the channels of four input pixels. A zero weight adds nothing,
// even times an infinite input. Other resizes (cubic, crops, resized
// leading dimensions) sum weight x input in double over all taps.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_resize
// MLIR: memref.get_global @{{table_[0-9a-f]+}} : memref<16xi64>
// MLIR: arith.cmpf oeq
// CPP-LABEL: void k0_resize(
// CPP-NEXT: // Resize of 4x4 to 8x8 images: each output row blends two input rows, then each element two of that row's.
// CPP: static const float [[RW:g[0-9]+]][] = {0.25f, 0.75f, 0.75f, 0.25f,
// CPP: static const int64_t [[RI:g[0-9]+]][] = {0, 0, 0, 1, 0, 1, 1, 2, 1, 2, 2, 3, 2, 3, 3, 3};
// CPP: alignas(64) float [[ROW:t[0-9]+]][4];
// CPP: [[ROW]][i2] = ({{v[0-9]+}} == 0.0f ? 0.0f : {{v[0-9]+}} * in0[{{v[0-9]+}} + i2]) + ({{v[0-9]+}} == 0.0f ? 0.0f : {{v[0-9]+}} * in0[{{v[0-9]+}} + i2]);
// CPP: out0[{{v[0-9]+}} + i2] = ({{.*}}[[ROW]][static_cast<int64_t>({{g[0-9]+}}[{{v[0-9]+}}])]) + ({{.*}}[[ROW]][static_cast<int64_t>(
// Nearest reads one tap of weight 1 per coordinate (the other has weight 0).
// CPP-LABEL: void k1_resize(
// CPP: static const float {{g[0-9]+}}[] = {0.0f, 1.0f, 1.0f, 0.0f,
// NHWC: the channels of an output pixel are one loop over four input pixels.
// CPP-LABEL: void k2_resize(
// CPP-NEXT: // Resize of 4x4 to 8x8 NHWC images of 3 channels: each output pixel blends the channels of four input pixels.
// CPP: for (int64_t i2 = 0; i2 < 3; ++i2) {
// CPP-NEXT: out0[{{v[0-9]+}} + i2] = ({{.*}}in0[{{v[0-9]+}} + i2]) + ({{.*}}in0[{{v[0-9]+}} + i2]) + ((
// Cubic: the general path, in double.
// CPP-LABEL: void k3_resize(
// CPP: static const double {{g[0-9]+}}[] =
// CPP: static_cast<double>(in0[
func.func @main(%x: tensor<1x2x4x4xf32>, %y: tensor<1x4x4x3xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x8x8x3xf32>, tensor<1x2x8x8xf32>) {
  %0 = kiln.resize %x {coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "linear", nearest_mode = "round_prefer_floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  %1 = kiln.resize %x {coordinate_transformation_mode = "asymmetric", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "nearest", nearest_mode = "floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  %2 = kiln.resize %y {coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "linear", nearest_mode = "round_prefer_floor", roi = [], scales = [1.0, 2.0, 2.0, 1.0]} : (tensor<1x4x4x3xf32>) -> tensor<1x8x8x3xf32>
  %3 = kiln.resize %x {coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "cubic", nearest_mode = "round_prefer_floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0, %1, %2, %3 : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>, tensor<1x8x8x3xf32>, tensor<1x2x8x8xf32>
}
