// --kiln-tidy-kernels (tidyKernel: upstream LICM and CSE on each kernel,
// which the CPU backend runs before comparing and printing kernels) moves
// index arithmetic out of the loops it does not change in, so each access in
// a loop reads `base + iv` (GCC vectorises that form; t[i * 16 + j] in a
// nested loop it often does not), and merges repeats of it.
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=RAW
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' --kiln-tidy-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=TIDY
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' --kiln-tidy-kernels | FileCheck %s --check-prefix=MLIR

// RAW: const int64_t [[P:v[0-9]+]] = {{v[0-9]+}} * 35 + {{v[0-9]+}} * 7 + i2;
// RAW-NEXT: for (int64_t i3 = 0; i3 < {{v[0-9]+}}; ++i3) {
// RAW-NEXT: w0[[[P]] * 16 + i1 + i3] = t0[i3];

// The image row's offset leaves the loop over columns; the store's offset
// leaves the loop over channels.
// TIDY: const int64_t [[ROW:v[0-9]+]] = {{v[0-9]+}} + {{v[0-9]+}} * 7;
// TIDY-NEXT: for (int64_t i1 = 0; i1 < 16; i1 += 16) {
// TIDY: const int64_t [[AT:v[0-9]+]] = ([[ROW]] + i2) * 16 + i1;
// TIDY-NEXT: for (int64_t i3 = 0; i3 < {{v[0-9]+}}; ++i3) {
// TIDY-NEXT: w0[[[AT]] + i3] = t0[i3];

// MLIR-LABEL: func.func private @k0_conv
// MLIR: scf.parallel
// MLIR: %[[ROW:.*]] = arith.addi %{{.*}}, %{{.*}} : index
// MLIR-NEXT: scf.for %[[C0:.*]] =
func.func @main(%x: tensor<1x5x7x16xf32>) -> tensor<1x5x7x16xf32> {
  %w = kiln.constant dense<0.5> : tensor<3x3x1x16xf32>
  %0 = kiln.conv %x, %w {channels_last, dilations = array<i64: 1, 1>, group = 16 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x5x7x16xf32>, tensor<3x3x1x16xf32>) -> tensor<1x5x7x16xf32>
  return %0 : tensor<1x5x7x16xf32>
}
