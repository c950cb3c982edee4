// Unit tests of the code generator's planners and of kernel identity: the
// memory plan (liveness, aliasing, alignment), the micro-kernel tile planner
// (register budget, padding) and structural kernel deduplication.

#include "codegen/MemoryPlan.h"
#include "codegen/MicroKernelPlan.h"
#include "codegen/lowering/Lowering.h"
#include "dialects/Kiln/KilnDialect.h"
#include "dialects/Kiln/KilnOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <catch2/catch.hpp>

using namespace mlir;
using namespace kiln;

namespace {

struct Parsed {
  MLIRContext context;
  OwningOpRef<ModuleOp> module;
  explicit Parsed(const char *source) {
    context.loadDialect<KilnDialect, func::FuncDialect>();
    loadKernelDialects(&context);
    module = parseSourceString<ModuleOp>(source, &context);
    REQUIRE(module);
  }
  func::FuncOp main() { return module->lookupSymbol<func::FuncOp>("main"); }
};

} // namespace

TEST_CASE("the memory plan reuses arena space once a buffer is dead", "[memplan]") {
  // Four 4 KiB activations in a chain: at most two are live at a time.
  Parsed p(R"mlir(
    func.func @main(%x: tensor<1024xf32>) -> tensor<1024xf32> {
      %a = kiln.relu %x : tensor<1024xf32>
      %b = kiln.exp %a : tensor<1024xf32>
      %c = kiln.tanh %b : tensor<1024xf32>
      %d = kiln.neg %c : tensor<1024xf32>
      return %d : tensor<1024xf32>
    })mlir");
  MemoryPlan plan;
  REQUIRE(succeeded(planMemory(p.main(), plan)));
  CHECK(plan.kernels.size() == 4);
  CHECK(plan.arenaBytes == 2 * 4096);
  CHECK(plan.liveBytesBound == 2 * 4096);
  // The result goes straight to the caller's output buffer.
  CHECK(plan.storage.lookup(p.main().getBody().front().getTerminator()->getOperand(0)).kind ==
        Storage::Output);

  MemoryPlan noReuse;
  REQUIRE(succeeded(planMemory(p.main(), noReuse, /*reuse=*/false)));
  CHECK(noReuse.arenaBytes == 3 * 4096);
}

TEST_CASE("reshapes alias their input and constants are 64-byte aligned", "[memplan]") {
  Parsed p(R"mlir(
    func.func @main(%x: tensor<2x3xf32>) -> tensor<6xf32> {
      %w = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
      %v = kiln.constant dense<[4.0, 5.0, 6.0]> : tensor<3xf32>
      %a = kiln.add %x, %w : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      %b = kiln.mul %a, %v : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
      %r = kiln.reshape %b : (tensor<2x3xf32>) -> tensor<6xf32>
      return %r : tensor<6xf32>
    })mlir");
  MemoryPlan plan;
  REQUIRE(succeeded(planMemory(p.main(), plan)));
  CHECK(plan.kernels.size() == 2);
  Block &body = p.main().getBody().front();
  SmallVector<Operation *> ops;
  for (Operation &op : body.without_terminator())
    ops.push_back(&op);
  Storage w = plan.storage.lookup(ops[0]->getResult(0));
  Storage v = plan.storage.lookup(ops[1]->getResult(0));
  CHECK(w.kind == Storage::Weight);
  CHECK(v.kind == Storage::Weight);
  CHECK(w.index % 64 == 0);
  CHECK(v.index % 64 == 0);
  CHECK(w.index != v.index);
  // The reshape shares the storage of the value it reshapes.
  Storage b = plan.storage.lookup(ops[3]->getResult(0));
  Storage r = plan.storage.lookup(ops[4]->getResult(0));
  CHECK(b.kind == r.kind);
  CHECK(b.index == r.index);
}

TEST_CASE("micro-kernel tiles fit the register file", "[tiles]") {
  for (int64_t w : {4, 8, 16}) {
    int64_t regs = w == 16 ? 32 : 16;
    for (int64_t nv = 1; nv <= 4; ++nv) {
      int64_t mr = maxTileRows(w, nv);
      INFO("w " << w << " nv " << nv << " mr " << mr);
      CHECK(mr >= 1);
      // Accumulators, one register per B vector, and the broadcast.
      CHECK(mr * nv + nv + 1 <= regs);
    }
  }
}

TEST_CASE("the tile planner pads little and covers small problems", "[tiles]") {
  struct Case { int64_t m, n, k; };
  for (Case c : {Case{1, 1000, 512}, Case{3136, 64, 576}, Case{49, 2048, 512}, Case{7, 10, 3},
                 Case{128, 384, 384}}) {
    for (int64_t w : {8, 16}) {
      GemmDims d;
      d.m = c.m;
      d.n = c.n;
      d.k = c.k;
      TileShape t = chooseTile(d, w);
      INFO("m " << c.m << " n " << c.n << " w " << w << " -> mr " << t.mr << " nv " << t.nv);
      CHECK(t.w == w);
      CHECK(t.nv >= 1);
      CHECK(t.nv <= 4);
      CHECK(t.mr >= 1);
      CHECK(t.mr <= maxTileRows(w, t.nv));
      // A single row (a GEMV) pads rows only to reach the 8 accumulators
      // that hide the FMA latency, never beyond.
      if (c.m == 1)
        CHECK(t.mr * t.nv <= 8);
      // Column padding is under one block.
      int64_t cols = (c.n + t.nb() - 1) / t.nb() * t.nb();
      CHECK(cols - c.n < t.nb());
    }
  }
}

TEST_CASE("depthwise tiles divide the channels", "[tiles]") {
  for (int64_t channels : {4, 12, 24, 32, 96, 144, 960}) {
    for (int64_t w : {4, 8, 16}) {
      auto t = chooseDepthwiseTile(channels, w);
      REQUIRE(t);
      INFO("channels " << channels << " w " << w);
      CHECK(channels % t->channels() == 0);
      CHECK(t->w <= w);
    }
  }
  CHECK_FALSE(chooseDepthwiseTile(6, 16));
}

TEST_CASE("kernels are deduplicated by structure, not by name", "[kernels]") {
  Parsed p(R"mlir(
    func.func @main(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>, %z: tensor<2x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>) {
      %a = kiln.add %x, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
      %b = kiln.add %y, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
      %c = kiln.add %z, %z : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
      %d = kiln.mul %x, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
      return %a, %b, %c, %d : tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x8xf32>, tensor<4x8xf32>
    })mlir");
  OwningOpRef<ModuleOp> kernels = ModuleOp::create(UnknownLoc::get(&p.context));
  TargetDescription target = cpuTarget("generic");
  SmallVector<func::FuncOp> k;
  int n = 0;
  for (Operation &op : p.main().getBody().front().without_terminator()) {
    auto f = lowerToKernel(&op, target, *kernels, "k" + std::to_string(n++));
    REQUIRE(succeeded(f));
    REQUIRE(*f);
    k.push_back(*f);
  }
  // Same op and shapes: one kernel, whatever the operands and names.
  CHECK(sameKernel(k[0], k[1]));
  CHECK(kernelHash(k[0]) == kernelHash(k[1]));
  // Another shape or another op: different kernels.
  CHECK_FALSE(sameKernel(k[0], k[2]));
  CHECK_FALSE(sameKernel(k[0], k[3]));
}
