// The CUDA backend's GPU form: each top-level parallel loop of a kernel
// becomes one launch of blocks x threads (256 threads, a bounds guard when
// the trip count is not a multiple), work outside parallel loops a launch of
// one thread, and maths functions polynomial arithmetic (no math ops left).
// RUN: kiln-opt %s --kiln-lower-to-kernels=gpu=sm_80 --kiln-gpu-form -split-input-file | FileCheck %s

// 300 elements: 2 blocks of 256 threads, the last block guarded.
// CHECK-LABEL: func.func private @k0_tanh
// CHECK: %[[C2:.*]] = arith.constant 2 : index
// CHECK: scf.parallel (%[[B:.*]]) = (%{{.*}}) to (%[[C2]])
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: scf.parallel (%[[T:.*]]) = (%{{.*}}) to (%[[C256]])
// CHECK: %[[BASE:.*]] = arith.muli %[[B]], %{{.*}} : index
// CHECK: %[[I:.*]] = arith.addi %[[BASE]], %[[T]] : index
// CHECK: %[[OK:.*]] = arith.cmpi ult, %[[I]], %{{.*}} : index
// CHECK: scf.if %[[OK]]
// CHECK-NOT: math.tanh
// CHECK: memref.store
// CHECK: } {kiln.gpu_threads = 256 : i64}
// CHECK-NOT: math.
// CHECK: return
func.func @main(%x: tensor<3x100xf32>) -> tensor<3x100xf32> {
  %0 = kiln.tanh %x : tensor<3x100xf32>
  return %0 : tensor<3x100xf32>
}

// -----

// One row of softmax has no parallel loop: one launch of one thread, which
// keeps the kernel's loops (and expands its exp).
// CHECK-LABEL: func.func private @k0_softmax
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK-NOT: math.exp
// CHECK: } {kiln.gpu_threads = 1 : i64}
func.func @main(%x: tensor<1x10xf32>) -> tensor<1x10xf32> {
  %0 = kiln.softmax %x {axis = 1 : i64} : tensor<1x10xf32>
  return %0 : tensor<1x10xf32>
}
