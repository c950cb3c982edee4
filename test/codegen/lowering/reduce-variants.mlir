// The reduce_* variants differ only in the accumulator's start value, what
// each element contributes and what finishes it; nll_loss carries the
// weighted sum and the weight total and checks every target.
// RUN: kiln-opt %s --kiln-lower-to-kernels | FileCheck %s --check-prefix=MLIR
// RUN: kiln-opt %s --kiln-lower-to-kernels --kiln-print-kernels-cpp -o /dev/null | FileCheck %s --check-prefix=CPP

// MLIR-LABEL: func.func private @k0_reduce_prod
// MLIR: arith.constant 1.000000e+00 : f64
// MLIR: arith.mulf %{{.*}}, %{{.*}} : f64
// CPP-LABEL: void k0_reduce_prod(
// CPP: t0[i0] = 1.0;
// CPP: t0[i0] = t0[i0] * static_cast<double>(in0[i0 * 3 + i1]);
// CPP: out0[i0] = static_cast<float>(t0[i0]);

// MLIR-LABEL: func.func private @k1_reduce_l1
// MLIR: math.absf %{{.*}} : f64
// CPP-LABEL: void k1_reduce_l1(
// CPP: t0[i0] = 0.0;
// CPP: t0[i0] = t0[i0] + std::fabs(static_cast<double>(in0[i0 * 3 + i1]));
// CPP: out0[i0] = static_cast<float>(t0[i0]);

// MLIR-LABEL: func.func private @k2_reduce_l2
// MLIR: math.sqrt %{{.*}} : f64
// CPP-LABEL: void k2_reduce_l2(
// CPP: const double v0 = static_cast<double>(in0[i0 * 3 + i1]);
// CPP-NEXT: t0[i0] = t0[i0] + v0 * v0;
// CPP: out0[i0] = static_cast<float>(std::sqrt(t0[i0]));

// CPP-LABEL: void k3_reduce_sum_square(
// CPP: t0[i0] = t0[i0] + v0 * v0;
// CPP: out0[i0] = static_cast<float>(t0[i0]);

// MLIR-LABEL: func.func private @k4_reduce_log_sum
// MLIR: math.log %{{.*}} : f64
// CPP-LABEL: void k4_reduce_log_sum(
// CPP: t0[i0] = t0[i0] + static_cast<double>(in0[i0 * 3 + i1]);
// CPP: out0[i0] = static_cast<float>(std::log(t0[i0]));

// CPP-LABEL: void k5_reduce_log_sum_exp(
// CPP: t0[i0] = t0[i0] + std::exp(static_cast<double>(in0[i0 * 3 + i1]));
// CPP: out0[i0] = static_cast<float>(std::log(t0[i0]));

// MLIR-LABEL: func.func private @k6_nll_loss
// MLIR: kiln.check %{{.*}}, "target {0} is out of range [0, 3)"
// MLIR: scf.yield %{{.*}}, %{{.*}} : f64, f64
// MLIR: arith.divf
// CPP-LABEL: bool k6_nll_loss(
// CPP: error = std::string("target ") + std::to_string(v2) + " is out of range [0, 3)";
// CPP: out0[0] = static_cast<float>(a0 / a1);
// CPP: return true;

// An integer reduction accumulates in its own type.
// CPP-LABEL: void k7_reduce_prod(
// CPP: int32_t *t0 = new int32_t[2];
// CPP: t0[i0] = t0[i0] * in0[i0 * 3 + i1];

func.func @main(%x: tensor<2x3xf32>, %t: tensor<2xi64>, %n: tensor<2x3xi32>) -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>, tensor<2xi32>) {
  %0 = kiln.reduce_prod %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %1 = kiln.reduce_l1 %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %2 = kiln.reduce_l2 %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %3 = kiln.reduce_sum_square %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %4 = kiln.reduce_log_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %5 = kiln.reduce_log_sum_exp %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xf32>) -> tensor<2xf32>
  %6 = kiln.nll_loss %x, %t {reduction = "mean"} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
  %7 = kiln.reduce_prod %n {axes = array<i64: 1>, keepdims = false} : (tensor<2x3xi32>) -> tensor<2xi32>
  return %0, %1, %2, %3, %4, %5, %6, %7 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<f32>, tensor<2xi32>
}
