#pragma once
// The engine's block state layout: how the states of all cells, and a
// thread's kernel inputs, lie in memory. Included by the engine's own files
// only (src/engine/*.cpp and its unit tests).
#include <algorithm>
#include <cstddef>
#include <vector>

#include "engine/aligned.hpp"
#include "model/model_abi.hpp"

namespace isletsim::engine {

constexpr std::size_t kSimd = 8;  // cells per partition unit (one AVX-512 vector of doubles)
using model_abi::kBlock;          // cells per kernel call (the block scratch stays in L1)
static_assert(kBlock % kSimd == 0, "a kernel block holds whole SIMD units");

// The state of all cells, in blocks of kBlock cells with one row of kBlock
// values per variable (the layout the kernel reads and writes in place):
// cell i, variable k is at off(i) + k * kBlock, with stride = the model's
// states x kBlock doubles per block of cells.
struct Layout {
  std::size_t stride = 0;
  std::size_t off(std::size_t i) const { return i / kBlock * stride + i % kBlock; }
  // The cell whose variable 0 is at offset o (inverse of off).
  std::size_t cell_at(std::size_t o) const { return o / stride * kBlock + o % stride; }
};

struct StateSet {
  AlignedVec<double> v;
  Layout lay;
  void resize(std::size_t npad, Layout l) {
    lay = l;
    v.assign((npad + kBlock - 1) / kBlock * lay.stride, 0.0);
  }
  double& at(std::size_t i, int k) { return v[lay.off(i) + static_cast<std::size_t>(k) * kBlock]; }
  double at(std::size_t i, int k) const { return v[lay.off(i) + static_cast<std::size_t>(k) * kBlock]; }
  bool empty() const { return v.empty(); }
};

// A thread's scratch block: the kernel's inputs other than the states
// (uniform rows filled once, per-cell rows copied per block, gap-junction
// rows zero unless that coupling is on).
struct Scratch {
  AlignedVec<double> in;
  explicit Scratch(const std::vector<double>& uniform) : in(uniform.size() * kBlock) {
    for (std::size_t r = 0; r < uniform.size(); ++r) std::fill_n(in.data() + r * kBlock, kBlock, uniform[r]);
  }
  double* row(std::size_t r) { return in.data() + r * kBlock; }
};

}  // namespace isletsim::engine
