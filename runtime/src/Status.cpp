//===- Status.cpp - Errors as values --------------------------------------===//
//
// Status is header-only; this file keeps the library's translation-unit list
// stable for when out-of-line helpers are added.
//
//===----------------------------------------------------------------------===//

#include "kiln/runtime/Status.h"
