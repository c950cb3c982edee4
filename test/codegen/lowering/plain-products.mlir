// Gemms and matmuls that the micro-kernel does not run (batched B, weights
// that are inputs, transA, non-float types) lowered to the kernel form: one
// parallel task per output row accumulating a broadcast of A's element times
// B's row, the fused epilogue run over the row in tiles (the same
// elementwise chain as fused elementwise kernels), and kiln.fallback naming
// why (the report's fallback_kernels).
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_fused_contraction
// MLIR-SAME: kiln.fallback = "MatMul whose B is a batch of matrices"
// MLIR-SAME: kiln.flops = 300
// MLIR: scf.parallel
// CPP-LABEL: void k0_fused_contraction(kiln::ThreadPool &pool,
// CPP: const int64_t v0 = p0 / 3 % 2;
// CPP: w0[v6] = w0[v6] + v4 * r1[v5 + i2];
// CPP: t0[i2] = w0[v3 + (i1 + i2)] + r2[i1 + i2];
// CPP: w0[v3 + (i1 + i2)] = v7 < 0.0f ? 0.0f : v7;
func.func @main(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>, %bias: tensor<5xf32>) -> tensor<2x3x5xf32> {
  %0 = kiln.fused_contraction %a, %b, %bias : (tensor<2x3x4xf32>, tensor<2x4x5xf32>, tensor<5xf32>) -> tensor<2x3x5xf32> {
  ^bb0(%x: tensor<2x3x4xf32>, %y: tensor<2x4x5xf32>, %c: tensor<5xf32>):
    %m = kiln.matmul %x, %y : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    %s = kiln.add %m, %c : (tensor<2x3x5xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
    %r = kiln.relu %s : tensor<2x3x5xf32>
    kiln.yield %r : tensor<2x3x5xf32>
  }
  return %0 : tensor<2x3x5xf32>
}
