// kiln.recurrence lowered to one kernel that loops over time: per step the
// recurrent product h·Rᵀ on kiln.gemm_tile (constant, packed weights) or as
// plain dot products (weights given at run time), then the cell as an
// elementwise chain; past an entry's sequence length y is zero and the
// state is held. Here backwards (reverse), batch 2, 32 units.
// RUN: kiln-opt %s --kiln-lower-to-kernels="cpu=x86-64-v3" | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels="cpu=x86-64-v3" --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_recurrence
// MLIR-SAME: (%{{.*}}: memref<512xf32>, %[[R:[^:]*]]: memref<1024xf32>, %{{.*}}: memref<64xf32>, %{{.*}}: memref<2xi32>, %{{.*}}: memref<512xf32>, %[[H:[^:]*]]: memref<64xf32>)
// MLIR-SAME: kiln.flops = 33792
// MLIR: memref.copy
// MLIR: %[[REC:.*]] = memref.alloc() : memref<64xf32>
// MLIR: scf.for %[[STEP:.*]] =
// MLIR: %[[T:.*]] = arith.subi %{{.*}}, %[[STEP]] : index
// MLIR: %[[ROWS:.*]] = memref.alloca() : memref<2xindex>
// MLIR: %[[ACC:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64xf32>
// MLIR: kiln.gemm_tile %[[H]][%[[ROWS]]], %[[R]][%{{.*}}], %[[ACC]] depth %{{.*}} {taps = 1 : i64, tile_rows = 2 : i64, vectors = 4 : i64, width = 8 : i64}
// MLIR: arith.cmpi sge, %[[T]]
// MLIR: scf.if
// MLIR: arith.cmpi slt, %[[T]]
// MLIR: scf.if
// MLIR: math.tanh
// MLIR: memref.dealloc %[[REC]]

// CPP-LABEL: void k0_recurrence(
// CPP: std::memcpy(out1, in2, 64 * sizeof(float));
// CPP: for (int64_t i0 = 0; i0 < 8; ++i0) {
// CPP-NEXT: const int64_t v0 = 7 - i0;
// CPP: alignas(64) float [[ACC:t[0-9]+]][64];
// CPP: for (int64_t q = 0; q < 2; ++q) [[P:p[0-9]+]][q] = out1 + t1[q];
// CPP-NEXT: kiln::mk::gemmTile<8, 2, 4>([[P]], 1, 32, in1, [[ACC]]);
// CPP: if (v0 >= v[[LEN:[0-9]+]]) {
// CPP: out0[v{{[0-9]+}} + i2] = 0.0f;
// CPP: if (v0 < v[[LEN]]) {
// CPP: kiln::vm::tanh(
// CPP: out1[i1 * 32 + v{{[0-9]+}}] = t{{[0-9]+}}[i3];

// Weights given at run time: the product as dot products, and the report's
// reason for leaving the micro-kernel.
// MLIR-LABEL: func.func private @k1_recurrence
// MLIR-SAME: kiln.fallback = "its weights are a model input"
// MLIR-NOT: kiln.gemm_tile
// MLIR: arith.mulf
// MLIR: return
// CPP-LABEL: void k1_recurrence(
// CPP: a{{[0-9]+}} = a{{[0-9]+}} + out1[v{{[0-9]+}} + i2] * in1[v{{[0-9]+}} + i2];

func.func @main(%xw: tensor<8x2x32xf32>, %h0: tensor<2x32xf32>, %lens: tensor<2xi32>, %rin: tensor<32x32xf32>) -> (tensor<8x2x32xf32>, tensor<2x32xf32>, tensor<8x2x32xf32>, tensor<2x32xf32>) {
  %r = kiln.constant dense<0.01> : tensor<32x32xf32>
  %y, %h = kiln.recurrence %xw, %r, %h0 lengths(%lens) {gates = 1 : i64, reverse = true}
      : (tensor<8x2x32xf32>, tensor<32x32xf32>, tensor<2x32xf32>, tensor<2xi32>) -> (tensor<8x2x32xf32>, tensor<2x32xf32>) {
  ^bb0(%x: tensor<2x32xf32>, %rh: tensor<2x32xf32>, %hp: tensor<2x32xf32>):
    %s = kiln.add %x, %rh : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
    %t = kiln.tanh %s : tensor<2x32xf32>
    kiln.yield %t : tensor<2x32xf32>
  }
  %y2, %h2 = kiln.recurrence %xw, %rin, %h0 {gates = 1 : i64, reverse = false}
      : (tensor<8x2x32xf32>, tensor<32x32xf32>, tensor<2x32xf32>) -> (tensor<8x2x32xf32>, tensor<2x32xf32>) {
  ^bb0(%x: tensor<2x32xf32>, %rh: tensor<2x32xf32>, %hp: tensor<2x32xf32>):
    %s = kiln.add %x, %rh : (tensor<2x32xf32>, tensor<2x32xf32>) -> tensor<2x32xf32>
    %t = kiln.tanh %s : tensor<2x32xf32>
    kiln.yield %t : tensor<2x32xf32>
  }
  return %y, %h, %y2, %h2 : tensor<8x2x32xf32>, tensor<2x32xf32>, tensor<8x2x32xf32>, tensor<2x32xf32>
}
