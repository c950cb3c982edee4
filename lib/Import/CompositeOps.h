//===- CompositeOps.h - Handlers for ops expanded into kiln ops -------------===//

#ifndef KILN_LIB_IMPORT_COMPOSITEOPS_H
#define KILN_LIB_IMPORT_COMPOSITEOPS_H

#include "lib/Import/ImporterCore.h"

namespace kiln::import {
/// Einsum, LRN, MeanVarianceNormalization and ReverseSequence.
void addCompositeHandlers(llvm::StringMap<Handler> &table);
} // namespace kiln::import

#endif // KILN_LIB_IMPORT_COMPOSITEOPS_H
