//===- QuantizedOps.h - Handlers for the integer quantised ops -------------===//

#ifndef KILN_LIB_IMPORT_QUANTIZEDOPS_H
#define KILN_LIB_IMPORT_QUANTIZEDOPS_H

#include "lib/Import/ImporterCore.h"

namespace kiln::import {
/// MatMulInteger, ConvInteger, QLinearMatMul, QLinearConv and
/// DynamicQuantizeLinear.
void addQuantizedHandlers(llvm::StringMap<Handler> &table);
} // namespace kiln::import

#endif // KILN_LIB_IMPORT_QUANTIZEDOPS_H
