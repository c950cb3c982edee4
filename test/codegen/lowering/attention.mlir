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
// With a vector target the backend's tiled kernel runs it: no lowering.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=TILED
// TILED-NOT: func.func private

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
