//===- MemoryPlan.cpp - Where every tensor of a compiled model lives ------===//

#include "codegen/MemoryPlan.h"
#include "codegen/MicroKernelPlan.h"

#include "dialects/Kiln/KilnOps.h"

#include "llvm/ADT/Hashing.h"

#include <algorithm>
#include <map>

using namespace mlir;

namespace kiln {

static constexpr int64_t kAlign = 64;

static int64_t alignUp(int64_t v) { return (v + kAlign - 1) / kAlign * kAlign; }

int64_t byteSize(Value value) {
  auto type = cast<ShapedType>(value.getType());
  int64_t bits = type.getElementType().getIntOrFloatBitWidth();
  int64_t bytes = bits == 1 ? 1 : bits / 8;
  return type.getNumElements() * bytes;
}

/// The value whose buffer `v` shares (through reshapes).
static Value rootOf(Value v) {
  while (auto r = v.getDefiningOp<ReshapeOp>())
    v = r.getInput();
  return v;
}

static LogicalResult appendConstant(ConstantOp c, std::vector<char> &weights,
                                    int64_t &offset) {
  auto dense = dyn_cast<DenseElementsAttr>(c.getValue());
  if (!dense)
    return c.emitOpError("only dense constants can be compiled");
  return appendDenseBytes(dense, weights, offset);
}

LogicalResult appendDenseBytes(DenseElementsAttr dense,
                               std::vector<char> &weights, int64_t &offset) {
  weights.resize(alignUp(weights.size()), 0);
  offset = weights.size();
  Type elt = dense.getElementType();
  int64_t n = dense.getNumElements();
  if (elt.isInteger(1)) {
    for (bool b : dense.getValues<bool>())
      weights.push_back(b ? 1 : 0);
    return success();
  }
  ArrayRef<char> raw = dense.getRawData();
  int64_t eltBytes = elt.getIntOrFloatBitWidth() / 8;
  if (dense.isSplat()) {
    for (int64_t i = 0; i < n; ++i)
      weights.insert(weights.end(), raw.begin(), raw.begin() + eltBytes);
  } else {
    weights.insert(weights.end(), raw.begin(), raw.end());
  }
  return success();
}

LogicalResult planMemory(func::FuncOp func, MemoryPlan &plan, bool reuse,
                         int64_t vectorWidth) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());

  for (BlockArgument arg : body.getArguments())
    plan.storage[arg] = {Storage::Input, arg.getArgNumber()};

  // Graph outputs written directly by the kernel that produces them.
  llvm::DenseMap<Value, unsigned> outputOf;
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value root = rootOf(v);
    bool kernelResult = !isa<BlockArgument>(root) &&
                        !isa<ConstantOp>(root.getDefiningOp());
    if (kernelResult && !outputOf.count(root))
      outputOf[root] = i;
    else
      plan.outputCopies.push_back({(unsigned)i, v});
  }

  // Lifetimes of arena buffers, in kernel steps.
  struct Interval {
    Value root;
    int64_t start, end, bytes;
  };
  std::vector<Interval> intervals;
  llvm::DenseMap<Value, size_t> intervalOf;
  // Identical payloads are stored once: plain constants by attribute (MLIR
  // uniques equal ones), packed weights by content (layers that share
  // weights pack them the same way).
  llvm::DenseMap<Attribute, int64_t> plainOffsets;
  std::map<size_t, std::vector<std::pair<int64_t, size_t>>> packedOffsets;
  for (Operation &op : body.without_terminator()) {
    if (auto c = dyn_cast<ConstantOp>(op)) {
      int64_t offset;
      // Weights of a micro-kernel contraction are stored in its tile layout.
      Operation *user = c->hasOneUse() ? *c->user_begin() : nullptr;
      if (vectorWidth && user && packedWeightsOf(user) == c) {
        auto grouped = chooseGroupedTile(user, vectorWidth);
        GemmDims dims = *microKernelDims(user);
        std::vector<float> packed;
        std::vector<int8_t> packedInt8;
        if (grouped)
          packed = packGroupedWeights(user, *grouped);
        else if (dims.int8)
          packedInt8 = packInt8Weights(user, chooseTile(dims, vectorWidth));
        else
          packed = packWeights(user, chooseTile(dims, vectorWidth));
        ArrayRef<char> bytes =
            dims.int8 ? ArrayRef<char>(reinterpret_cast<const char *>(packedInt8.data()),
                                       packedInt8.size())
                      : ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                                       packed.size() * sizeof(float));
        auto &same = packedOffsets[size_t(llvm::hash_value(bytes))];
        offset = -1;
        for (auto [at, size] : same)
          if (size == bytes.size() && std::equal(bytes.begin(), bytes.end(), &plan.weights[at]))
            offset = at;
        if (offset < 0) {
          plan.weights.resize(alignUp(plan.weights.size()), 0);
          offset = plan.weights.size();
          plan.weights.insert(plan.weights.end(), bytes.begin(), bytes.end());
          same.push_back({offset, bytes.size()});
        }
        plan.storage[c.getResult()] = {Storage::Weight, offset};
        continue;
      }
      if (auto it = plainOffsets.find(c.getValue()); it != plainOffsets.end()) {
        plan.storage[c.getResult()] = {Storage::Weight, it->second};
        continue;
      }
      if (failed(appendConstant(c, plan.weights, offset)))
        return failure();
      plainOffsets[c.getValue()] = offset;
      plan.storage[c.getResult()] = {Storage::Weight, offset};
      continue;
    }
    if (isa<ReshapeOp>(op))
      continue;
    int64_t step = plan.kernels.size();
    plan.kernels.push_back(&op);
    for (Value operand : op.getOperands()) {
      auto it = intervalOf.find(rootOf(operand));
      if (it != intervalOf.end())
        intervals[it->second].end = step;
    }
    for (Value result : op.getResults()) {
      if (outputOf.count(result)) {
        plan.storage[result] = {Storage::Output, outputOf[result]};
        continue;
      }
      intervalOf[result] = intervals.size();
      intervals.push_back({result, step, step, alignUp(byteSize(result))});
    }
  }

  // Buffers copied to an output after the last kernel live until then.
  for (auto &[index, v] : plan.outputCopies) {
    auto it = intervalOf.find(rootOf(v));
    if (it != intervalOf.end())
      intervals[it->second].end = plan.kernels.size();
  }

  // Place each buffer at the lowest offset that does not overlap a placed
  // buffer whose lifetime intersects its own, trying two orders: by size
  // (big buffers first leave the gaps between them to small ones) and by
  // start time; the smaller arena wins. Both are usually at the liveness
  // bound.
  auto place = [&](const std::vector<size_t> &order, std::vector<int64_t> &offsets) {
    int64_t total = 0;
    offsets.assign(intervals.size(), 0);
    std::vector<size_t> placed;
    for (size_t i : order) {
      const Interval &cur = intervals[i];
      std::vector<std::pair<int64_t, int64_t>> busy;
      for (size_t j : placed) {
        const Interval &other = intervals[j];
        if (!reuse || (other.end >= cur.start && other.start <= cur.end))
          busy.push_back({offsets[j], offsets[j] + other.bytes});
      }
      std::sort(busy.begin(), busy.end());
      int64_t offset = 0;
      for (auto [lo, hi] : busy) {
        if (offset + cur.bytes <= lo)
          break;
        offset = std::max(offset, hi);
      }
      offsets[i] = offset;
      placed.push_back(i);
      total = std::max(total, offset + cur.bytes);
    }
    return total;
  };
  std::vector<size_t> byStart(intervals.size());
  for (size_t i = 0; i < byStart.size(); ++i)
    byStart[i] = i;
  std::vector<size_t> bySize = byStart;
  std::stable_sort(bySize.begin(), bySize.end(), [&](size_t a, size_t b) {
    return intervals[a].bytes > intervals[b].bytes;
  });
  std::vector<int64_t> sizeOffsets, startOffsets;
  int64_t sizeTotal = place(bySize, sizeOffsets), startTotal = place(byStart, startOffsets);
  const std::vector<int64_t> &offsets = sizeTotal <= startTotal ? sizeOffsets : startOffsets;
  plan.arenaBytes = std::min(sizeTotal, startTotal);
  for (size_t i = 0; i < intervals.size(); ++i)
    plan.storage[intervals[i].root] = {Storage::Arena, offsets[i]};
  for (size_t step = 0; step < plan.kernels.size(); ++step) {
    int64_t live = 0;
    for (const Interval &iv : intervals)
      if (iv.start <= (int64_t)step && iv.end >= (int64_t)step)
        live += iv.bytes;
    plan.liveBytesBound = std::max(plan.liveBytesBound, live);
  }

  // Reshapes share their root's storage.
  for (Operation &op : body.without_terminator())
    if (auto r = dyn_cast<ReshapeOp>(op)) {
      auto it = plan.storage.find(rootOf(r.getResult()));
      if (it == plan.storage.end())
        return r.emitOpError("reshape of an unplanned value");
      // Copy before inserting: the insertion may rehash and move `it`.
      Storage root = it->second;
      plan.storage[r.getResult()] = root;
    }
  return success();
}

} // namespace kiln
