// Binarisation (docs/analysis.md): which samples of each cell are active,
// by one of three rules, then short episodes dropped.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "analysis/signal_detail.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {

using detail::num;

namespace detail {

std::vector<PeakSpan> prominent_spans(const double* x, std::size_t n, double min_prominence, SpanScratch& scratch) {
  std::vector<PeakSpan> out;
  if (n < 3) return out;
  // Local maxima as scipy's _local_maxima_1d finds them: a rise, a flat top
  // of one or more equal samples, a fall; the peak is the top's middle
  // sample (rounded down). The end samples are never peaks.
  std::vector<std::size_t>& peaks = scratch.peaks;
  peaks.clear();
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (!(x[i - 1] < x[i])) continue;
    std::size_t ahead = i + 1;
    while (ahead < n - 1 && x[ahead] == x[i]) ++ahead;
    if (x[ahead] < x[i]) {
      peaks.push_back((i + ahead - 1) / 2);
      i = ahead;  // (the loop's ++i then steps past the fall, as scipy does)
    }
  }
  if (peaks.empty()) return out;

  // Prominence (scipy's definition, no window): from the peak walk outwards
  // while the samples are <= the peak; the lowest sample on each side is its
  // base (the one nearest the peak among equal minima); prominence = peak -
  // the higher base. Walking per peak costs O(n) each in the worst case
  // (noise on a trend), so both sides are found for every sample at once by
  // a monotonic stack: the stack keeps the samples strictly higher than
  // everything after them, each with the minimum (value, position) of the
  // samples it covers; the samples a new sample pops are exactly those its
  // walk would pass.
  scratch.lmin.resize(n), scratch.rmin.resize(n), scratch.lpos.resize(n), scratch.rpos.resize(n);
  double *lmin = scratch.lmin.data(), *rmin = scratch.rmin.data();
  std::size_t *lpos = scratch.lpos.data(), *rpos = scratch.rpos.data();
  std::vector<std::size_t>& stack = scratch.stack;
  stack.clear();
  for (std::size_t i = 0; i < n; ++i) {
    double m = x[i];
    std::size_t mp = i;
    while (!stack.empty() && x[stack.back()] <= x[i]) {
      const std::size_t t = stack.back();
      if (lmin[t] < m) m = lmin[t], mp = lpos[t];  // strict: equal minima keep the nearer
      stack.pop_back();
    }
    lmin[i] = m, lpos[i] = mp;
    stack.push_back(i);
  }
  stack.clear();
  for (std::size_t i = n; i-- > 0;) {
    double m = x[i];
    std::size_t mp = i;
    while (!stack.empty() && x[stack.back()] <= x[i]) {
      const std::size_t t = stack.back();
      if (rmin[t] < m) m = rmin[t], mp = rpos[t];
      stack.pop_back();
    }
    rmin[i] = m, rpos[i] = mp;
    stack.push_back(i);
  }

  for (std::size_t p : peaks) {
    const double prom = x[p] - std::max(lmin[p], rmin[p]);
    if (!(prom >= min_prominence)) continue;
    // Width at half prominence (scipy's peak_widths, rel_height 0.5): walk
    // from the peak to the first sample at or below the level (not past the
    // bases) and interpolate the crossing linearly.
    const double level = x[p] - 0.5 * prom;
    std::size_t i = p;
    while (lpos[p] < i && level < x[i]) --i;
    double left = static_cast<double>(i);
    if (x[i] < level) left += (level - x[i]) / (x[i + 1] - x[i]);
    i = p;
    while (i < rpos[p] && level < x[i]) ++i;
    double right = static_cast<double>(i);
    if (x[i] < level) right -= (level - x[i]) / (x[i - 1] - x[i]);
    out.push_back({p, static_cast<std::size_t>(std::ceil(left)), static_cast<std::size_t>(std::floor(right)), prom,
                   level});
  }
  return out;
}

}  // namespace detail

namespace {

// Slope rule on one series: onsets where the derivative crosses above
// slope_k * SD(derivative); each onset's episode starts at the first sample
// at or after it where x >= L = min + min_amplitude (max - min) (provided
// that comes before the next onset) and lasts while x >= L.
void slope_column(const double* x, std::size_t n, double rate, const Options& o, std::uint8_t* act,
                  std::vector<double>& d) {
  if (n < 2) return;
  double lo = x[0], hi = x[0];
  for (std::size_t s = 1; s < n; ++s) lo = std::min(lo, x[s]), hi = std::max(hi, x[s]);
  if (!(hi > lo)) return;
  // Central differences; one-sided at the two ends.
  d.resize(n);
  d[0] = (x[1] - x[0]) * rate;
  d[n - 1] = (x[n - 1] - x[n - 2]) * rate;
  for (std::size_t s = 1; s + 1 < n; ++s) d[s] = (x[s + 1] - x[s - 1]) * (0.5 * rate);
  double mean = 0;
  for (double v : d) mean += v;
  mean /= static_cast<double>(n);
  double var = 0;
  for (double v : d) var += (v - mean) * (v - mean);
  const double thr = o.slope_k * std::sqrt(var / static_cast<double>(n));  // population SD
  // Onsets: the derivative goes from <= thr to > thr (sample 0 has no
  // predecessor, so a rise already under way at the start is no onset).
  std::vector<std::size_t> onsets;
  for (std::size_t s = 1; s < n; ++s)
    if (d[s - 1] <= thr && d[s] > thr) onsets.push_back(s);
  const double level = lo + o.min_amplitude * (hi - lo);
  std::size_t free_from = 0;  // onsets inside an episode already marked start nothing
  for (std::size_t k = 0; k < onsets.size(); ++k) {
    if (onsets[k] < free_from) continue;
    const std::size_t bound = k + 1 < onsets.size() ? onsets[k + 1] : n;
    std::size_t r = onsets[k];
    while (r < bound && x[r] < level) ++r;
    if (r == bound) continue;  // never reached the level before the next onset
    std::size_t e = r;
    while (e < n && x[e] >= level) act[e++] = 1;
    free_from = e;
  }
}

}  // namespace

std::vector<std::uint8_t> binarize(const Series& x, double rate_hz, const Options& o,
                                   const std::vector<std::uint8_t>& excluded) {
  const std::size_t n = x.samples, cells = x.cells;
  if (!excluded.empty() && excluded.size() != cells)
    throw InputError("binarize: " + std::to_string(excluded.size()) + " exclusion flags for " +
                     std::to_string(cells) + " cells (one per cell, or none, expected)");
  if (!(rate_hz > 0) || !std::isfinite(rate_hz))
    throw InputError("binarize: the sampling rate must be positive (got " + num(rate_hz) + " Hz)");
  if (!(o.min_active_s >= 0)) throw InputError("min_active_s must be >= 0 s (got " + num(o.min_active_s) + ")");
  if (o.binarize == BinarizeMethod::slope && !(o.min_amplitude >= 0 && o.min_amplitude <= 1))
    throw InputError("min_amplitude must lie in [0, 1] (got " + num(o.min_amplitude) + ")");
  if (o.binarize == BinarizeMethod::slope && !(o.slope_k >= 0))
    throw InputError("slope_k must be >= 0 (got " + num(o.slope_k) + ")");
  if (o.binarize == BinarizeMethod::prominence && !(o.prominence >= 0))
    throw InputError("prominence must be >= 0 (got " + num(o.prominence) + ")");
  auto is_excluded = [&](std::size_t c) { return !excluded.empty() && excluded[c]; };

  std::vector<std::uint8_t> out(n * cells, 0);
  if (n == 0 || cells == 0) return out;
  if (o.binarize == BinarizeMethod::half_amplitude) {
    // Row by row (contiguous over cells): extremes, then the threshold.
    std::vector<double> lo(x.v.begin(), x.v.begin() + static_cast<std::ptrdiff_t>(cells)), hi = lo;
    for (std::size_t s = 1; s < n; ++s) {
      const double* row = x.v.data() + s * cells;
      for (std::size_t c = 0; c < cells; ++c) lo[c] = std::min(lo[c], row[c]), hi[c] = std::max(hi[c], row[c]);
    }
    std::vector<double> thr(cells);
    for (std::size_t c = 0; c < cells; ++c)
      // A flat or excluded cell gets +inf: never above it.
      thr[c] = hi[c] > lo[c] && !is_excluded(c) ? lo[c] + 0.5 * (hi[c] - lo[c]) : INFINITY;
    for (std::size_t s = 0; s < n; ++s) {
      const double* row = x.v.data() + s * cells;
      std::uint8_t* b = out.data() + s * cells;
      for (std::size_t c = 0; c < cells; ++c) b[c] = row[c] > thr[c];
    }
  } else {
    using detail::kBlock;
    const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>((cells + kBlock - 1) / kBlock);
#pragma omp parallel
    {
      std::vector<double> col(kBlock * n);
      std::vector<std::uint8_t> act(kBlock * n);
      std::vector<double> deriv;
      detail::SpanScratch scratch;
#pragma omp for schedule(dynamic)
      for (std::ptrdiff_t blk = 0; blk < blocks; ++blk) {
        const std::size_t c0 = static_cast<std::size_t>(blk) * kBlock, nb = std::min(kBlock, cells - c0);
        detail::gather_columns(x.v.data(), n, cells, c0, nb, col.data());
        std::fill(act.begin(), act.end(), 0);
        for (std::size_t b = 0; b < nb; ++b) {
          if (is_excluded(c0 + b)) continue;
          const double* xc = col.data() + b * n;
          std::uint8_t* ac = act.data() + b * n;
          if (o.binarize == BinarizeMethod::slope) {
            slope_column(xc, n, rate_hz, o, ac, deriv);
          } else {
            const auto [lo, hi] = std::minmax_element(xc, xc + n);
            if (!(*hi > *lo)) continue;
            for (const auto& sp : detail::prominent_spans(xc, n, o.prominence * (*hi - *lo), scratch))
              std::fill(ac + sp.first, ac + sp.last + 1, 1);
          }
        }
        detail::scatter_columns(act.data(), n, cells, c0, nb, out.data());
      }
    }
  }

  // Episodes (maximal runs of 1) shorter than round(min_active_s * rate) samples are dropped.
  const std::size_t min_len = static_cast<std::size_t>(std::llround(o.min_active_s * rate_hz));
  if (min_len > 1) {
    constexpr std::size_t none = static_cast<std::size_t>(-1);
    std::vector<std::size_t> start(cells, none);
    for (std::size_t s = 0; s <= n; ++s)
      for (std::size_t c = 0; c < cells; ++c) {
        const bool on = s < n && out[s * cells + c];
        if (on && start[c] == none) start[c] = s;
        if (!on && start[c] != none) {
          if (s - start[c] < min_len)
            for (std::size_t k = start[c]; k < s; ++k) out[k * cells + c] = 0;
          start[c] = none;
        }
      }
  }
  return out;
}

}  // namespace isletsim::analysis
