// Contractions on the register-blocked micro-kernel lowered to the kernel
// form: kiln.gemm_tile fills a tile of accumulators from row offsets, then
// the tile's valid part goes through the bias, scaling and fused epilogue to
// the only store. (Numbers: test/codegen/kernel-variants-numeric.test.)
// RUN: kiln-opt %s -split-input-file '--kiln-lower-to-kernels=cpu=x86-64-v3' | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s -split-input-file '--kiln-lower-to-kernels=cpu=x86-64-v3' --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// A channels-last 3x3 convolution with 8 input channels as an implicit
// GEMM with row taps: a tap is a kernel row (3 pixels x 8 channels,
// contiguous in the input), read in place, or from a scratch copy with
// zeros where it reaches into the padding (alt rows), or -1 for a padding
// row, which reads zeros (zero_rows). The fused ReLU and residual add run on
// the tile before the store.
// MLIR-LABEL: func.func private @k0_fused_contraction
// MLIR-SAME: kiln.summary = "NHWC convolution as implicit GEMM: 8 -> 16 channels, kernel 3x3, stride 1x1, group 1; tiles of 6 rows x 16 outputs."
// MLIR: scf.parallel
// MLIR: %[[ROWS:.*]] = memref.alloca() : memref<18xindex>
// MLIR-NEXT: %[[EDGE:.*]] = memref.alloca() {alignment = 64 : i64} : memref<432xf32>
// MLIR-NEXT: %[[COPIED:.*]] = memref.alloca() : memref<18xi1>
// MLIR: memref.store %{{.*}}, %[[ROWS]][%{{.*}}] : memref<18xindex>
// MLIR-NEXT: memref.store %{{.*}}, %[[COPIED]][%{{.*}}] : memref<18xi1>
// MLIR: memref.store %{{.*}}, %[[EDGE]][%{{.*}}] : memref<432xf32>
// MLIR: kiln.gemm_tile %arg0[%[[ROWS]]] or %[[EDGE]][%[[COPIED]]], %arg1[%{{.*}}], %[[ACC:.*]] depth %{{.*}} {taps = 3 : i64, tile_rows = 6 : i64, vectors = 2 : i64, width = 8 : i64, zero_rows}
// MLIR: memref.load %[[ACC]]
// MLIR: arith.addf
// MLIR: arith.cmpf
// MLIR: memref.load %arg3
// MLIR: memref.store %{{.*}}, %arg4
// CPP-LABEL: void k0_fused_contraction(
// CPP-NEXT: // NHWC convolution as implicit GEMM: 8 -> 16 channels, kernel 3x3, stride 1x1, group 1; tiles of 6 rows x 16 outputs.
// CPP: [[ROWS:t[0-9]+]][[[SLOT:v[0-9]+]]] = {{v[0-9]+}} ? ({{v[0-9]+}} ? {{v[0-9]+}} + {{v[0-9]+}} * 8 : [[SLOT]] * 24) : -1;
// CPP: alignas(64) static const float [[ZERO:p[0-9]+z]][24] = {};
// CPP: = [[ROWS]][q] < 0 ? [[ZERO]] : ({{t[0-9]+}}[q] ? {{t[0-9]+}} : r0) + [[ROWS]][q];
// CPP-NEXT: kiln::mk::gemmTile<8, 6, 2>({{p[0-9]+}}, 3, 24, r1 + {{v[0-9]+}} * 1152, [[ACC:t[0-9]+]]);
// CPP: for (int64_t [[P:i[0-9]+]] = 0; [[P]] < std::min<int64_t>(36 - {{v[0-9]+}}, 6); ++[[P]]) {
// CPP: = [[ACC]][[[P]] * 16 + {{i[0-9]+}}] + r2[
func.func @main(%x: tensor<1x6x6x8xf32>, %r: tensor<1x6x6x16xf32>) -> tensor<1x6x6x16xf32> {
  %w = kiln.constant dense<0.5> : tensor<3x3x8x16xf32>
  %b = kiln.constant dense<0.25> : tensor<16xf32>
  %0 = kiln.fused_contraction %x, %w, %b, %r : (tensor<1x6x6x8xf32>, tensor<3x3x8x16xf32>, tensor<16xf32>, tensor<1x6x6x16xf32>) -> tensor<1x6x6x16xf32> {
  ^bb0(%a1: tensor<1x6x6x8xf32>, %a2: tensor<3x3x8x16xf32>, %a3: tensor<16xf32>, %a4: tensor<1x6x6x16xf32>):
    %1 = kiln.conv %a1, %a2, %a3 {channels_last, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x6x6x8xf32>, tensor<3x3x8x16xf32>, tensor<16xf32>) -> tensor<1x6x6x16xf32>
    %2 = kiln.relu %1 : tensor<1x6x6x16xf32>
    %3 = kiln.add %2, %a4 : (tensor<1x6x6x16xf32>, tensor<1x6x6x16xf32>) -> tensor<1x6x6x16xf32>
    kiln.yield %3 : tensor<1x6x6x16xf32>
  }
  return %0 : tensor<1x6x6x16xf32>
}


// -----

// A GEMM with constant B: rows of A in place, alpha and beta * C applied to
// the tile's valid outputs (a block of 16 of the 40 columns: the last block
// is short).
// MLIR-LABEL: func.func private @k0_gemm
// MLIR-SAME: kiln.summary = "GEMM 5 x 40 x 24 with packed constant B; tiles of 5 rows x 16 outputs."
// MLIR: kiln.gemm_tile %arg0[%{{.*}}], %arg1[%{{.*}}], %{{.*}} depth %{{.*}} {taps = 1 : i64, tile_rows = 5 : i64, vectors = 2 : i64, width = 8 : i64} : memref<120xf32>[memref<5xindex>], memref<960xf32>, memref<80xf32>
// CPP-LABEL: void k0_gemm(
// CPP: t0[i1] = std::min<int64_t>(i1, 4) * 24;
// CPP: kiln::mk::gemmTile<8, 5, 2>(
// CPP: const int64_t [[W:v[0-9]+]] = std::min<int64_t>(40 - {{v[0-9]+}}, 16);
// CPP: w0[i1 * 40 + ({{v[0-9]+}} + i2)] = 2.0f * t1[i1 * 16 + i2] + 0.5f * r2[{{v[0-9]+}} + i2];
func.func @main(%a: tensor<5x24xf32>, %c: tensor<40xf32>) -> tensor<5x40xf32> {
  %b = kiln.constant dense<0.5> : tensor<24x40xf32>
  %0 = kiln.gemm %a, %b, %c {alpha = 2.0 : f32, beta = 0.5 : f32, transA = false, transB = false} : (tensor<5x24xf32>, tensor<24x40xf32>, tensor<40xf32>) -> tensor<5x40xf32>
  return %0 : tensor<5x40xf32>
}
