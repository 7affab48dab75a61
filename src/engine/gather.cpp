#include "engine/gather.hpp"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "isletsim/error.hpp"

namespace isletsim::engine {

SlicedEll build_ell(const Csr& g, const std::vector<std::uint32_t>& perm, std::size_t npad, Layout lay) {
  const std::size_t n = perm.size();
  if ((npad + kBlock) / kBlock * lay.stride > static_cast<std::size_t>(INT32_MAX))
    throw InputError(fmt::format("{} cells: more than this engine's 32-bit neighbour offsets can address", n));
  std::vector<std::uint32_t> internal(n, 0);  // original cell id -> internal index
  for (std::size_t i = 0; i < n; ++i) internal[perm[i]] = static_cast<std::uint32_t>(i);
  SlicedEll ell;
  ell.lay = lay;
  const std::size_t slices = npad / kSimd;
  ell.ptr.assign(slices + 1, 0);
  for (std::size_t sl = 0; sl < slices; ++sl) {
    std::uint64_t width = 0;
    for (std::size_t l = 0; l < kSimd; ++l) {
      const std::size_t i = sl * kSimd + l;
      if (i < n) width = std::max(width, g.row_ptr[perm[i] + 1] - g.row_ptr[perm[i]]);
    }
    ell.ptr[sl + 1] = ell.ptr[sl] + width * kSimd;
  }
  ell.unit = std::all_of(g.w.begin(), g.w.end(), [](double x) { return x == 1.0; });
  ell.col.assign(ell.ptr.back(), 0);
  ell.w.assign(ell.ptr.back(), 0.0);
  for (std::size_t sl = 0; sl < slices; ++sl) {
    const std::size_t width = (ell.ptr[sl + 1] - ell.ptr[sl]) / kSimd;
    for (std::size_t l = 0; l < kSimd; ++l) {
      const std::size_t i = sl * kSimd + l;
      const std::size_t r = i < n ? perm[i] : 0;  // the original row
      const std::uint64_t b = i < n ? g.row_ptr[r] : 0, deg = i < n ? g.row_ptr[r + 1] - b : 0;
      for (std::size_t k = 0; k < width; ++k) {
        const std::size_t e = ell.ptr[sl] + k * kSimd + l;
        ell.col[e] = static_cast<std::int32_t>(lay.off(k < deg ? internal[g.col[b + k]] : i));
        ell.w[e] = k < deg ? g.w[b + k] : 0.0;
      }
    }
  }
  return ell;
}

}  // namespace isletsim::engine
