//===- Target.h - What lowerings and passes know about the target -*- C++ -*-===//
//
// One place for the facts about the machine the generated code runs on:
// vector width, cache budgets, tile and fusion limits. Graph passes,
// lowerings and the micro-kernel planner read them from here instead of
// keeping their own constants. Header-only, so that graph passes can use it
// without linking the code generator.
//
//===----------------------------------------------------------------------===//

#ifndef CODEGEN_KERNEL_TARGET_H
#define CODEGEN_KERNEL_TARGET_H

#include <cstdint>
#include <string>

namespace kiln {

struct TargetDescription {
  /// Backend that prints the kernel form (`--target`): "cpu" or "cuda".
  std::string backend = "cpu";
  /// `--cpu` of the CPU backend: native, x86-64-v4, x86-64-v3, generic.
  std::string cpu = "generic";
  /// `--gpu` of the CUDA backend: sm_80, sm_86, sm_89, sm_90.
  std::string gpu;
  /// `--precision` of the CUDA backend: fp32 keeps products on exact float
  /// FMA; tf32, fp16 and bf16 put Gemm and MatMul on tensor cores
  /// (kiln.mma_block), rounding their inputs to that precision.
  std::string precision = "fp32";
  /// Loop nests whose iterations are independent become one parallel loop
  /// (KernelBuilder::independentNest): the GPU runs each iteration on a
  /// thread, where the CPU keeps them sequential inside its larger tasks.
  bool parallelLoopNests = false;
  /// Floats per SIMD vector of the micro-kernel; 0 keeps contractions on
  /// plain loops.
  int64_t vectorWidth = 0;

  // Cache budgets (bytes). The L2 figures assume 1-2 MiB per core, shared
  // with the rows and tiles a task keeps live.
  /// Packed weights of one block of outputs that several row tiles reuse.
  int64_t l2WeightBytes = 640 << 10;
  /// All blocks of a group that one task runs.
  int64_t l2AllBlocksBytes = 512 << 10;

  /// Elements of the per-op local arrays of a fused elementwise kernel: its
  /// intermediates stay in L1 (a few arrays of 1 KiB).
  int64_t elementwiseTile = 256;
  /// Elementwise results at least this large split across the thread pool.
  int64_t minParallelElements = 1 << 14;
  /// Copies (concat) of at least this many elements split across the pool.
  int64_t minParallelCopyElements = 1 << 16;
  /// Longest row a fused row kernel keeps on the stack (two rows live).
  int64_t maxFusedRow = 8192;
};

/// The description of the CPU backend for `--cpu` (vectorWidthForCpu fills
/// in the vector width; 0 for an unknown name).
TargetDescription cpuTarget(const std::string &cpu);

} // namespace kiln

#endif // CODEGEN_KERNEL_TARGET_H
