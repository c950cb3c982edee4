// The elementwise family lowered to the kernel form: one kernel function per
// graph op, flat memref parameters (operands then results), loops in scf and
// per-element maths in arith/math. Broadcast operands are read through their
// own strides; a fused chain is tiled, each body op a loop over a local array.
// RUN: kiln-opt %s --kiln-lower-to-kernels -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @main
// CHECK: kiln.add %{{.*}} {kiln.kernel = @[[ADD:k0_add]]}
// CHECK: func.func private @[[ADD]](%[[X:.*]]: memref<6xf32>, %[[B:.*]]: memref<3xf32>, %[[Y:.*]]: memref<6xf32>)
// CHECK-SAME: kiln.flops = 6
// CHECK-SAME: kiln.kernel = "add", kiln.num_inputs = 2
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[J:.*]] = %{{.*}} to %{{.*}} step
// CHECK: %[[ROW:.*]] = arith.muli %[[I]], %{{.*}} : index
// CHECK: %[[AT:.*]] = arith.addi %[[ROW]], %[[J]] : index
// CHECK: %[[A:.*]] = memref.load %[[X]][%[[AT]]]
// CHECK: %[[C:.*]] = memref.load %[[B]][%[[J]]]
// CHECK: %[[S:.*]] = arith.addf %[[A]], %[[C]] : f32
// CHECK: memref.store %[[S]], %[[Y]]
func.func @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.add %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// Unsigned tensors compute on signless integers; integer division by zero
// yields 0 without dividing by zero.
// CHECK-LABEL: func.func private @k0_div
// CHECK: %[[A:.*]] = builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK: %[[B:.*]] = builtin.unrealized_conversion_cast %{{.*}} : ui8 to i8
// CHECK: %[[ZERO:.*]] = arith.cmpi eq, %[[B]], %{{.*}} : i8
// CHECK: %[[SAFE:.*]] = arith.select %[[ZERO]], %{{.*}}, %[[B]] : i8
// CHECK: %[[Q:.*]] = arith.divui %[[A]], %[[SAFE]] : i8
// CHECK: %[[R:.*]] = arith.select %[[ZERO]], %{{.*}}, %[[Q]] : i8
// CHECK: %[[U:.*]] = builtin.unrealized_conversion_cast %[[R]] : i8 to ui8
// CHECK: memref.store %[[U]]
func.func @main(%u: tensor<4xui8>) -> tensor<4xui8> {
  %0 = kiln.div %u, %u : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

// Half floats widen to f32 for the maths and round once on store.
// CHECK-LABEL: func.func private @k0_sigmoid
// CHECK: %[[H:.*]] = memref.load %{{.*}} : memref<4xf16>
// CHECK: %[[X:.*]] = arith.extf %[[H]] : f16 to f32
// CHECK: %[[N:.*]] = arith.negf %[[X]] : f32
// CHECK: %[[E:.*]] = math.exp %[[N]] : f32
// CHECK: arith.addf
// CHECK: arith.divf
// CHECK: %[[T:.*]] = arith.truncf %{{.*}} : f32 to f16
// CHECK: memref.store %[[T]]
func.func @main(%h: tensor<4xf16>) -> tensor<4xf16> {
  %0 = kiln.sigmoid %h : tensor<4xf16>
  return %0 : tensor<4xf16>
}

// -----

// A fused chain: tiles of the innermost dimension (here the whole row of 3),
// the multiply into a local array, the relu from it into the result.
// CHECK-LABEL: func.func private @k0_fused_elementwise
// CHECK-SAME: kiln.flops = 12
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step
// CHECK: scf.for %[[TILE:.*]] = %{{.*}} to %{{.*}} step %[[STEP:.*]] {
// CHECK: %[[T:.*]] = memref.alloca() : memref<3xf32>
// CHECK: scf.for %[[J:.*]] =
// CHECK: arith.mulf
// CHECK: memref.store %{{.*}}, %[[T]][%[[J]]]
// CHECK: scf.for %[[K:.*]] =
// CHECK: %[[V:.*]] = memref.load %[[T]][%[[K]]]
// CHECK: %[[NEG:.*]] = arith.cmpf olt, %[[V]]
// CHECK: arith.select %[[NEG]], %{{.*}}, %[[V]] : f32
func.func @main(%x: tensor<2x3xf32>, %b: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.fused_elementwise %x, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32> {
  ^bb0(%a: tensor<2x3xf32>, %c: tensor<3xf32>):
    %s = kiln.mul %a, %c : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %r = kiln.relu %s : tensor<2x3xf32>
    kiln.yield %r : tensor<2x3xf32>
  }
  return %0 : tensor<2x3xf32>
}

// -----

// Large fused results split their outer dimension into a parallel loop.
// CHECK-LABEL: func.func private @k0_fused_elementwise
// CHECK: scf.parallel (%[[P:.*]]) = (%{{.*}}) to (%{{.*}}) step
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step
// CHECK: memref.alloca() : memref<256xf32>
func.func @main(%x: tensor<64x1024xf32>, %b: tensor<1024xf32>) -> tensor<64x1024xf32> {
  %0 = kiln.fused_elementwise %x, %b : (tensor<64x1024xf32>, tensor<1024xf32>) -> tensor<64x1024xf32> {
  ^bb0(%a: tensor<64x1024xf32>, %c: tensor<1024xf32>):
    %s = kiln.add %a, %c : (tensor<64x1024xf32>, tensor<1024xf32>) -> tensor<64x1024xf32>
    %e = kiln.erf %s : tensor<64x1024xf32>
    %r = kiln.relu %e : tensor<64x1024xf32>
    kiln.yield %r : tensor<64x1024xf32>
  }
  return %0 : tensor<64x1024xf32>
}

// -----

// Pointwise functions with double parameters compute in double and round
// once, as the ONNX reference does.
// CHECK-LABEL: func.func private @k0_pointwise
// CHECK: %[[X:.*]] = memref.load
// CHECK: %[[XD:.*]] = arith.extf %[[X]] : f32 to f64
// CHECK: %[[M:.*]] = arith.mulf %{{.*}}, %[[XD]] : f64
// CHECK: %[[R:.*]] = arith.truncf %[[M]] : f64 to f32
// CHECK: arith.select %{{.*}}, %[[X]], %[[R]] : f32
func.func @main(%x: tensor<8xf32>) -> tensor<8xf32> {
  %0 = kiln.pointwise "leaky_relu"(%x) {params = [0.1]} : (tensor<8xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}
