#pragma once
// The coupling gather: the cells' neighbours as a sliced ELLPACK matrix
// (built once per run) and the gap-junction sum over it, templated on which
// coupled variables are on. The gather runs every stage: it stays a header
// template so its inner loops compile exactly as they did inside the engine.
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "engine/layout.hpp"
#include "isletsim/network.hpp"

namespace isletsim::engine {

// Per slice of kSimd cells (internal order) a fixed width, the slice's
// largest degree, lane-interleaved: entry k of lane l is at
// ptr[slice] + k * kSimd + l. Columns are state offsets (lay.off(cell)) of
// the neighbours; padding entries point at the cell itself with weight 0.
struct SlicedEll {
  Layout lay;
  std::vector<std::uint64_t> ptr;  // per slice of kSimd cells: start in col/w
  AlignedVec<std::int32_t> col;    // signed: what the hardware gathers take
  AlignedVec<double> w;
  bool unit = false;  // every real entry's weight is 1 (the sphere's and the lattice's contacts)
  std::size_t slices() const { return ptr.empty() ? 0 : ptr.size() - 1; }
};

// The sliced ELL of graph g for cells stored in internal order perm
// (internal index -> original id; n = perm.size() real cells, padded to
// npad, a multiple of kSimd). Each row keeps the CSR order, so the gather's
// sums have the same bits as a CSR loop. Throws InputError when the state
// offsets do not fit 32 bits.
SlicedEll build_ell(const Csr& g, const std::vector<std::uint32_t>& perm, std::size_t npad, Layout lay);

constexpr std::size_t kMaxCoupled = 4;  // coupled variables a model may have

// The gap-junction terms of the coupled variables, into their rows of a
// thread's scratch block.
struct CouplingGather {
  SlicedEll ell;
  std::size_t var_row[kMaxCoupled] = {}, out_row[kMaxCoupled] = {};  // coupled: state row, input row
  double coef[kMaxCoupled] = {};
  bool on[kMaxCoupled] = {};

  // Bit c: coupled variable c has a non-zero coefficient.
  unsigned mask() const {
    unsigned m = 0;
    for (std::size_t c = 0; c < kMaxCoupled; ++c) m |= on[c] ? 1u << c : 0u;
    return m;
  }

  // Gap-junction terms for cells [lo, lo+m) of the coupled variables in
  // Mask (bit c: the model's coupled variable c), into their input rows:
  // coef * sum_k w_k (x[col_k] - x[i]), with coef = factor g for a diffusion
  // and -g for a current, g sum_k w_k (x[i] - x[col_k]) (negation is exact:
  // the same bits either way).
  // The neighbours are stored as a sliced ELLPACK matrix: per slice of kSimd
  // cells a fixed width (the slice's largest degree), lane-interleaved, so
  // the sum runs over kSimd cells at once with no branches. All coupled
  // variables are summed in one pass (the neighbour offsets and weights are
  // loaded once), in vector registers (GCC vector types: an array
  // accumulator was kept on the stack, and its 256-bit stores followed by a
  // 512-bit load stalled on store forwarding). Neighbour values are scalar
  // loads: on the Zen 5 test machine AVX-512 hardware gathers were 17%
  // slower overall (measured again for issue 13, item 5: whole Euler step
  // +11% with _mm512_i32gather_pd, +5-8% with two _mm256_i32gather_pd);
  // summing two slices per loop (one trip count, the pair's larger width)
  // was 8% slower too (BENCHMARKS.md). Each row keeps the CSR order; padding entries (self,
  // weight 0) add exactly +0.0, so the sum has the same bits as the CSR loop
  // for any partition. x: a StateSet's data; the ELL columns are state
  // offsets (off(cell)).
  using V8 = double __attribute__((vector_size(kSimd * sizeof(double))));
  static V8 load8(const double* p) {
    V8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  // x[c[0]], ..., x[c[kSimd-1]] as a vector, built as a tree of pairs
  // (GCC's lane-by-lane version is a chain of 8 dependent merge-masked
  // broadcasts).
  using V2 = double __attribute__((vector_size(2 * sizeof(double))));
  using V4 = double __attribute__((vector_size(4 * sizeof(double))));
  static V8 load_lanes(const double* __restrict x, const std::int32_t* __restrict c) {
    static_assert(kSimd == 8, "load_lanes builds 8 lanes");
#if defined(__AVX512F__)
    // The same 8 value loads with fewer of the rest (issue 13, item 5;
    // BENCHMARKS.md): the 8 offsets as 4 64-bit loads split in registers
    // (x86 is little-endian: c[2i] is the low half; offsets are >= 0 and
    // below 2^31, see build_ell), and the pairs joined with vinsertf128 on
    // casts (the vector-extension version added 5 zero-extending vmovapd).
    // Per neighbour vector 17 -> 13 loads and 8 -> 5 vector shuffles and
    // moves (4 integer moves and shifts more); whole Euler step ~3-5%
    // faster on the Zen 5 test machine. Loads only: the same bits.
    std::uint64_t c01, c23, c45, c67;
    std::memcpy(&c01, c, 8);
    std::memcpy(&c23, c + 2, 8);
    std::memcpy(&c45, c + 4, 8);
    std::memcpy(&c67, c + 6, 8);
    const auto lo = [](std::uint64_t v) { return static_cast<std::uint32_t>(v); };
    const auto hi = [](std::uint64_t v) { return static_cast<std::uint32_t>(v >> 32); };
    const __m128d p0 = _mm_loadh_pd(_mm_load_sd(x + lo(c01)), x + hi(c01));
    const __m128d p1 = _mm_loadh_pd(_mm_load_sd(x + lo(c23)), x + hi(c23));
    const __m128d p2 = _mm_loadh_pd(_mm_load_sd(x + lo(c45)), x + hi(c45));
    const __m128d p3 = _mm_loadh_pd(_mm_load_sd(x + lo(c67)), x + hi(c67));
    const __m256d q0 = _mm256_insertf128_pd(_mm256_castpd128_pd256(p0), p1, 1);
    const __m256d q1 = _mm256_insertf128_pd(_mm256_castpd128_pd256(p2), p3, 1);
    // (_mm512_insertf64x4 would be one instruction too, but GCC 12's
    // version warns -Wmaybe-uninitialized; this compiles to vshuff64x2.)
    return __builtin_shufflevector(static_cast<V4>(q0), static_cast<V4>(q1), 0, 1, 2, 3, 4, 5, 6, 7);
#else
    const V2 p0 = {x[c[0]], x[c[1]]}, p1 = {x[c[2]], x[c[3]]}, p2 = {x[c[4]], x[c[5]]}, p3 = {x[c[6]], x[c[7]]};
    const V4 q0 = __builtin_shufflevector(p0, p1, 0, 1, 2, 3), q1 = __builtin_shufflevector(p2, p3, 0, 1, 2, 3);
    return __builtin_shufflevector(q0, q1, 0, 1, 2, 3, 4, 5, 6, 7);
#endif
  }
  // Unit: every real entry has weight 1, so w is not read and the sum is
  // of the differences themselves: the same bits, since 1 * d = d exactly
  // and a padding entry's difference x[i] - x[i] is +0.0 (0 * d is +0.0
  // too), or NaN either way when x[i] is not finite.
  template <unsigned Mask, bool Unit>
  void gather(const double* __restrict x, std::size_t lo, std::size_t m, Scratch& sc) const {
    const std::size_t* kVarRow = var_row;
    const std::size_t* kOutRow = out_row;
    const double* coef_v = coef;
    // f(integral_constant<v>) for each coupled variable v.
    const auto each = [](auto&& f) {
      [&]<std::size_t... v>(std::index_sequence<v...>) {
        ((Mask & (1u << v) ? f(std::integral_constant<std::size_t, v>{}) : void()), ...);
      }(std::make_index_sequence<4>{});
    };
    for (std::size_t base = lo; base < lo + m; base += kSimd) {
      const std::size_t slice = base / kSimd;
      const std::int32_t* __restrict col = ell.col.data() + ell.ptr[slice];
      const double* __restrict w = ell.w.data() + ell.ptr[slice];
      const std::size_t width = (ell.ptr[slice + 1] - ell.ptr[slice]) / kSimd;
      const std::size_t own = ell.lay.off(base);  // kSimd divides kBlock: 8 contiguous cells
      V8 xi[4], acc[4];
      each([&](auto v) {
        xi[v] = load8(x + kVarRow[v] + own);
        acc[v] = V8{};
      });
      for (std::size_t k = 0; k < width; ++k) {
        V8 wk = {};
        if constexpr (!Unit) wk = load8(w + k * kSimd);
        const std::int32_t* ck = col + k * kSimd;
        each([&](auto v) {
          const double* xv = x + kVarRow[v];
          const V8 xn = load_lanes(xv, ck);
          const V8 d = xn - xi[v];
          if constexpr (Unit)
            acc[v] = acc[v] + d;
          else
            acc[v] = acc[v] + wk * d;
        });
      }
      each([&](auto v) {
        const V8 r = coef_v[v] * acc[v];
        std::memcpy(sc.row(kOutRow[v]) + (base - lo), &r, sizeof r);
      });
    }
  }

  // gather<Mask, Unit> for Mask = 0..15; the one for the couplings that
  // are on and the weights is picked once per run (none on: nullptr, no
  // gather at all).
  using Fn = void (CouplingGather::*)(const double*, std::size_t, std::size_t, Scratch&) const;
  template <bool Unit, std::size_t... M>
  static constexpr std::array<Fn, sizeof...(M)> table(std::index_sequence<M...>) {
    return {&CouplingGather::gather<static_cast<unsigned>(M), Unit>...};
  }
  Fn pick() const {
    static constexpr auto kWeighted = table<false>(std::make_index_sequence<16>{});
    static constexpr auto kUnit = table<true>(std::make_index_sequence<16>{});
    const unsigned m = mask();
    return m ? (ell.unit ? kUnit[m] : kWeighted[m]) : nullptr;
  }
};

}  // namespace isletsim::engine
