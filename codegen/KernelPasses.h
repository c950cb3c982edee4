//===- KernelPasses.h - kiln-opt entry points into code generation -*- C++ -*-===//

#ifndef CODEGEN_KERNELPASSES_H
#define CODEGEN_KERNELPASSES_H

namespace kiln {

/// Registers --kiln-lower-to-kernels, --kiln-tidy-kernels and
/// --kiln-print-kernels-cpp.
void registerKernelPasses();

} // namespace kiln

#endif // CODEGEN_KERNELPASSES_H
