// Resize lowered to the kernel form: each resized dimension gets constant
// tap tables (input offsets and weights, computed at compile time) as
// memref.global constants of the kernel module, shared by content; the
// kernel sums weight x input over the taps, skipping zero weights. A
// dimension whose outputs read their own input index (here batch and
// channels) indexes the input directly.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR: memref.global "private" constant @[[IDX:table_[0-9a-f]+]] : memref<16xi64> = dense<[0, 0, 0, 4, 0, 4, 4, 8, 4, 8, 8, 12, 8, 12, 12, 12]>
// MLIR-LABEL: func.func private @k0_resize
// MLIR: memref.get_global @[[IDX]] : memref<16xi64>
// MLIR: scf.for {{.*}} iter_args
// MLIR: arith.cmpf oeq
// CPP-LABEL: void k0_resize(
// CPP: static const int64_t g0[] = {0, 0, 0, 4, 0, 4, 4, 8, 4, 8, 8, 12, 8, 12, 12, 12};
// CPP: static const double g1[] = {0.25, 0.75, 0.75, 0.25,
// CPP: for (int64_t i0 = 0; i0 < 2; ++i0) {
// CPP-NEXT: const int64_t v0 = i0 % 2;
// CPP: a6 = v8 == 0.0 ? a6 : a6 + v8 * static_cast<double>(in0[v5 + static_cast<int64_t>(g2[v7])]);
// CPP: out0[v0 * 64 + i1 * 8 + i2] = static_cast<float>(a2);
// Nearest reads one tap of weight 1 per dimension (the other has weight 0).
// CPP-LABEL: void k1_resize(
// CPP: static const double g1[] = {0.0, 1.0, 1.0, 0.0,
func.func @main(%x: tensor<1x2x4x4xf32>) -> (tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>) {
  %0 = kiln.resize %x {coordinate_transformation_mode = "half_pixel", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "linear", nearest_mode = "round_prefer_floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  %1 = kiln.resize %x {coordinate_transformation_mode = "asymmetric", cubic_coeff_a = -7.500000e-01 : f64, exclude_outside = false, extrapolation_value = 0.000000e+00 : f64, mode = "nearest", nearest_mode = "floor", roi = [], scales = [1.0, 1.0, 2.0, 2.0]} : (tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32>
  return %0, %1 : tensor<1x2x8x8xf32>, tensor<1x2x8x8xf32>
}
