// Row normalisations lowered to the kernel form: row statistics summed in
// double, in 8 lanes then across them (plus a tail), the max of a softmax
// with a plain compare; a fused row runs its prologue into a local row,
// normalises it into a second one and runs its epilogue into the output,
// one parallel task per row.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP
// One family at a time: elementwise alone leaves the rows to later.
// RUN: kiln-opt %s '--kiln-lower-to-kernels=families=elementwise' | FileCheck %s --check-prefix=ONLY
// ONLY-NOT: func.func private
// RUN: not kiln-opt %s '--kiln-lower-to-kernels=families=bogus' 2>&1 | FileCheck %s --check-prefix=BOGUS
// BOGUS: error: kiln-lower-to-kernels: unknown family 'bogus'

// MLIR-LABEL: func.func private @k0_softmax
// MLIR-SAME: kiln.flops = 160
// MLIR: arith.cmpf ogt
// MLIR: math.exp
// MLIR: %[[LANES:.*]] = memref.alloca() : memref<8xf64>
// MLIR: arith.divf %{{.*}}, %{{.*}} : f64
// CPP-LABEL: void k0_softmax(
// CPP: a1 = v2 > a1 ? v2 : a1;
// CPP: out0[v0 + i1] = kiln::vm::exp(in0[v0 + i1] - a1);
// CPP: double t0[8];
// CPP: for (int64_t i1 = 0; i1 < 16; i1 += 8) {
// CPP: t0[i2] = t0[i2] + static_cast<double>(out0[v0 + (i1 + i2)]);
// CPP: for (int64_t i1 = 16; i1 < 20; ++i1) {
// CPP: const float v5 = static_cast<float>(1.0 / a4);

// MLIR-LABEL: func.func private @k1_fused_row
// MLIR: scf.parallel
// MLIR: %[[XR:.*]] = memref.alloca() : memref<20xf32>
// MLIR: %[[YR:.*]] = memref.alloca() : memref<20xf32>
// MLIR: math.sqrt
// CPP-LABEL: void k1_fused_row(kiln::ThreadPool &pool,
// CPP: t0[i1] = r0[v0 * 20 + i1] + r1[v0 * 20 + i1];
// CPP: const float v8 = static_cast<float>(1.0 / std::sqrt(a6 / 20.0 + 9.9999997473787516e-06));
// CPP: t1[i1] = (t0[i1] - v9) * v8 * r2[i1] + r3[i1];
// CPP: w0[v10 + i1] = v11 < 0.0f ? 0.0f : v11;
func.func @main(%x: tensor<2x20xf32>, %s: tensor<20xf32>, %b: tensor<20xf32>, %r: tensor<2x20xf32>) -> (tensor<2x20xf32>, tensor<2x20xf32>) {
  %0 = kiln.softmax %x {axis = 1 : i64} : tensor<2x20xf32>
  %1 = kiln.fused_row %x, %r, %s, %b : (tensor<2x20xf32>, tensor<2x20xf32>, tensor<20xf32>, tensor<20xf32>) -> tensor<2x20xf32> {
  ^bb0(%a: tensor<2x20xf32>, %c: tensor<2x20xf32>, %sc: tensor<20xf32>, %bi: tensor<20xf32>):
    %sum = kiln.add %a, %c : (tensor<2x20xf32>, tensor<2x20xf32>) -> tensor<2x20xf32>
    %ln = kiln.layer_norm %sum, %sc, %bi {axis = 1 : i64, epsilon = 1.0e-05 : f32} : (tensor<2x20xf32>, tensor<20xf32>, tensor<20xf32>) -> tensor<2x20xf32>
    %y = kiln.relu %ln : tensor<2x20xf32>
    kiln.yield %y : tensor<2x20xf32>
  }
  return %0, %1 : tensor<2x20xf32>, tensor<2x20xf32>
}
