// Contractions without a tiled kernel lowered to the kernel form: the
// transposed convolution scatters each input pixel through the kernel into
// output planes that one parallel task owns whole, skipping positions
// outside the output, and says why it is on plain loops (kiln.fallback, the
// report's fallback_kernels).
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_conv_transpose
// MLIR-SAME: kiln.fallback = "transposed convolution"
// MLIR-SAME: kiln.flops = 144
// MLIR: scf.parallel
// MLIR: scf.if
// MLIR: arith.mulf
// MLIR: arith.addf
// CPP-LABEL: void k0_conv_transpose(kiln::ThreadPool &pool,
// CPP: w0[v4 + i1] = v5;
// CPP: if (v9 >= 0 && v9 < 6) {
// CPP: w0[v12] = w0[v12] + v10 * r1[v8 + (i3 * 2 + i5)];
func.func @main(%x: tensor<1x2x3x3xf32>, %w: tensor<2x1x2x2xf32>, %b: tensor<1xf32>) -> tensor<1x1x6x6xf32> {
  %0 = kiln.conv_transpose %x, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x2x3x3xf32>, tensor<2x1x2x2xf32>, tensor<1xf32>) -> tensor<1x1x6x6xf32>
  return %0 : tensor<1x1x6x6xf32>
}
