//===- KilnDialect.td - The kiln dialect -------------------*- tablegen -*-===//
//
// The dialect Kiln lowers ONNX and JSON models into. Ops carry normalised ONNX
// semantics (opset differences, negative axes, auto_pad and default attributes are
// resolved by the importer), operate on statically shaped tensors, and are what the
// graph passes reason about and the code generators read.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_TD
#define KILN_DIALECT_TD

include "mlir/IR/OpBase.td"

def Kiln_Dialect : Dialect {
  let name = "kiln";
  let summary = "Tensor-level ops of the Kiln model compiler";
  let description = [{
    Each op is one ONNX operator (or a family of them) with its semantics
    normalised: every attribute is explicit, axes are non-negative, padding is
    explicit and every tensor has a static shape. Layout-sensitive ops (convolution,
    pooling) state their layout explicitly.
  }];
  let cppNamespace = "::kiln";
  let hasConstantMaterializer = 1;
}

class Kiln_Op<string mnemonic, list<Trait> traits = []>
    : Op<Kiln_Dialect, mnemonic, traits>;

#endif // KILN_DIALECT_TD
