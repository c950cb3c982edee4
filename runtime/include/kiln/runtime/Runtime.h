//===- Runtime.h - Everything generated code includes -----------*- C++ -*-===//

#ifndef KILN_RUNTIME_RUNTIME_H
#define KILN_RUNTIME_RUNTIME_H

#include "kiln/runtime/Abi.h"
#include "kiln/runtime/Arena.h"
#include "kiln/runtime/Status.h"
#include "kiln/runtime/Tensor.h"
#include "kiln/runtime/ThreadPool.h"
#include "kiln/runtime/Weights.h"

#endif // KILN_RUNTIME_RUNTIME_H
