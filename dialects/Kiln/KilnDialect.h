//===- KilnDialect.h - The kiln dialect -------------------------*- C++ -*-===//
//
// Declares the `kiln` dialect class (generated from KilnOps.td).
//
//===----------------------------------------------------------------------===//

#ifndef DIALECTS_KILN_KILNDIALECT_H
#define DIALECTS_KILN_KILNDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dialects/Kiln/KilnOpsDialect.h.inc"

#endif // DIALECTS_KILN_KILNDIALECT_H
