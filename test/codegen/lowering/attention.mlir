// Attention on plain loops lowered to the kernel form (the shared semantics:
// what runs where no tiled kernel does, here with no vector target): one
// parallel task per query row; per block of 64 keys the scaled scores, the
// mask, and an online softmax that rescales the running sum and output;
// a block whose scores are all masked changes nothing (scf.if), and a fully
// masked row gives NaN.
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP
// The printed kernel against a float64 reference.
// RUN: rm -rf %t && mkdir -p %t
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=scalar' --kiln-print-kernels-cpp -o /dev/null > %t/kernel.cpp
// RUN: c++ -std=c++17 -O2 -I%runtime_include -I%t %S/Inputs/attention_reference.cpp %kiln_runtime_lib -lpthread -o %t/reference
// RUN: %t/reference | FileCheck %s --check-prefix=REF
// REF: NaN outputs of the masked row 12 of 12
// With a vector target it runs on the micro-kernel: a task is a block of
// queries (the vector lanes); per block of keys S^T = K·Q^T on kiln.gemm_tile
// over key rows (read with the stride of Kt's depth) into a piece of the
// score block, the online softmax lane by lane, then V^T·P^T on
// kiln.gemm_tile over value columns with the block's key count as depth.
// (Numbers: test/codegen/kernel-variants-numeric.test.)
// RUN: kiln-opt %s '--kiln-lower-to-kernels=cpu=x86-64-v3' | FileCheck %s --check-prefix=TILED
// TILED-LABEL: func.func private @k0_attention
// TILED-SAME: kiln.summary = "Scaled dot-product attention: 2 x 5 queries, 70 keys, depth 8, value depth 6, mask keep; blocks of 8 queries x 60 keys on the micro-kernel."
// TILED: scf.parallel
// TILED: %[[QT:.*]] = memref.alloca() {alignment = 64 : i64} : memref<64xf32>
// TILED-NEXT: %[[ST:.*]] = memref.alloca() {alignment = 64 : i64} : memref<480xf32>
// TILED: %[[PIECE:.*]] = memref.subview %[[ST]]
// TILED: kiln.gemm_tile %arg1[%{{.*}}], %[[QT]][%{{.*}}], %[[PIECE]] depth %{{.*}} {a_stride = 70 : i64, taps = 1 : i64, tile_rows = 12 : i64, vectors = 1 : i64, width = 8 : i64}
// TILED: math.exp
// TILED: kiln.gemm_tile %arg2[%{{.*}}], %[[ST]][%{{.*}}], %{{.*}} depth %{{.*}} {a_stride = 6 : i64, taps = 1 : i64, tile_rows = 12 : i64, vectors = 1 : i64, width = 8 : i64}
// TILED-NOT: kiln.fallback

// MLIR-LABEL: func.func private @k0_attention
// MLIR-SAME: kiln.fallback = "attention that is not float32 or has no vector target"
// MLIR: scf.parallel
// MLIR: scf.for {{.*}} step %{{.*}} iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) -> (f32, f32)
// MLIR: arith.select %{{.*}}, %{{.*}}, %{{.*}} : f32
// MLIR: scf.if %{{.*}} -> (f32, f32)
// MLIR: math.exp
// CPP-LABEL: void k0_attention(kiln::ThreadPool &pool, const float *__restrict in0, const float *__restrict in1, const float *__restrict in2, const bool *__restrict in3, float *__restrict out0) {
// CPP: for (int64_t i1 = 0; i1 < 70; i1 += 64) {
// CPP: kiln::vm::exp(
// CPP: std::numeric_limits<float>::quiet_NaN()
func.func @main(%q: tensor<2x5x8xf32>, %kt: tensor<2x8x70xf32>, %v: tensor<2x70x6xf32>, %m: tensor<5x70xi1>) -> tensor<2x5x6xf32> {
  %0 = kiln.attention %q, %kt, %v, %m {scale = 0.35355339059327373 : f64, mask_kind = "keep"} : (tensor<2x5x8xf32>, tensor<2x8x70xf32>, tensor<2x70x6xf32>, tensor<5x70xi1>) -> tensor<2x5x6xf32>
  return %0 : tensor<2x5x6xf32>
}
