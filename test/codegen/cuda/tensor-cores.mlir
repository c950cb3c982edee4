// --precision tf32/fp16/bf16 on the CUDA backend: MatMul, Gemm and
// channels-last convolution (an implicit GEMM) lower to cooperative blocks
// of 64 x 64 result tiles: kiln.mma_block into block scratch, then a thread
// loop storing each element. The GPU form keeps the block whole (emulation
// runs its steps in order); PTX generation maps it onto 128 threads: cp.async
// staging with zero fill, conversion of each fragment, mma.sync, barriers,
// shared memory aligned for vector loads.
// RUN: kiln-opt %s --kiln-lower-to-kernels="gpu=sm_80 precision=fp16" | FileCheck %s --check-prefix=FORM
// RUN: kiln-opt %s --kiln-lower-to-kernels="gpu=sm_80 precision=fp16" --kiln-gpu-form | FileCheck %s --check-prefix=GPU
// RUN: kiln-opt %s --kiln-lower-to-kernels="gpu=sm_80 precision=fp16" --kiln-gpu-form --kiln-print-ptx -o /dev/null | FileCheck %s --check-prefix=FP16
// RUN: kiln-opt %s --kiln-lower-to-kernels="gpu=sm_90 precision=bf16" --kiln-gpu-form --kiln-print-ptx=gpu=sm_90 -o /dev/null | FileCheck %s --check-prefix=BF16
// RUN: kiln-opt %s --kiln-lower-to-kernels="gpu=sm_80 precision=tf32" --kiln-gpu-form --kiln-print-ptx -o /dev/null | FileCheck %s --check-prefix=TF32

// 100 x 70 result: 2 x 2 tiles.
// FORM-LABEL: func.func private @k0_matmul
// FORM: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c4)
// FORM: %[[ACC:.*]] = memref.alloca() : memref<4096xf32>
// FORM: kiln.mma_block %arg0, %arg1, %[[ACC]] at(
// FORM: kiln.element_at
// FORM: kiln.element_at
// FORM: } {b_n_fastest, block_m = 64 : i64, block_n = 64 : i64, k = 48 : i64, m = 100 : i64, n = 70 : i64, precision = "fp16"}
// FORM: scf.parallel (%[[E:.*]]) = (%{{.*}}) to (%c4096)
// FORM: scf.if
// FORM: memref.load %[[ACC]][%[[E]]]
// FORM: memref.store {{.*}} %arg2
// FORM: } {kiln.gpu_cooperative = 128 : i64}
// The convolution's A elements in the padding do not exist.
// FORM-LABEL: func.func private @k1_conv
// FORM: kiln.mma_block %arg0, %arg1
// FORM: kiln.element_at %{{.*}}, %{{[0-9]+$}}
// FORM: k = 72 : i64, m = 36 : i64, n = 16 : i64

// GPU-LABEL: func.func private @k0_matmul
// GPU: kiln.mma_block
// GPU: scf.parallel
// GPU: } {kiln.gpu_cooperative = 128 : i64, kiln.gpu_threads = 128 : i64}

// FP16-DAG: // launch k0_matmul: k0_matmul_kernel <<<4, 128>>> (%arg0, %arg1, %arg2)
// FP16-DAG: // launch k1_conv: k1_conv_kernel <<<1, 128>>> (%arg0, %arg1, %arg2, %arg3)
// FP16: .shared .align 16 .b8 __wg_k0_matmul_kernel_0[16384];
// FP16: cp.async.ca.shared.global [{{.*}}], [g], 4, %r{{[0-9]+}};
// FP16: cp.async.commit_group;
// FP16: cp.async.wait_group 1;
// FP16: bar.sync 0;
// FP16: cvt.rn.f16x2.f32
// FP16: mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32
// FP16: cp.async.wait_group 0;
// FP16: bar.sync 0;
// FP16-NOT: .extern .func
// BF16: .target sm_90
// BF16: cvt.rn.bf16x2.f32
// BF16: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// TF32: cvt.rna.tf32.f32
// TF32: mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32
func.func @main(%x: tensor<100x48xf32>, %y: tensor<48x70xf32>, %i: tensor<1x6x6x8xf32>, %w: tensor<3x3x8x16xf32>, %bias: tensor<16xf32>) -> (tensor<100x70xf32>, tensor<1x6x6x16xf32>) {
  %0 = kiln.matmul %x, %y : (tensor<100x48xf32>, tensor<48x70xf32>) -> tensor<100x70xf32>
  %1 = kiln.conv %i, %w, %bias {channels_last, dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x6x6x8xf32>, tensor<3x3x8x16xf32>, tensor<16xf32>) -> tensor<1x6x6x16xf32>
  return %0, %1 : tensor<100x70xf32>, tensor<1x6x6x16xf32>
}
