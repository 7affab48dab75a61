#include <algorithm>
#include <cmath>

#include "isletsim/analysis.hpp"

// The measures the sweep summary has always reported (duty cycle, synchrony)
// and the event detectors the reference checks use.

namespace isletsim::analysis {

double mean_pairwise_correlation(const Traces& x, std::size_t from) {
  const std::size_t n = x.cells;
  if (n < 2 || x.samples <= from + 1) return 0.0;
  // The correlation matrix of the pipeline (one BLAS rank-m update), then
  // the mean of its upper triangle (flat traces give 0 there).
  const Traces window{x.data + from * n, x.samples - from, n};
  const std::vector<double> r = correlation_matrix(window);
  double sum = 0;
  for (std::size_t a = 0; a < n; ++a) {
    double row = 0;
    for (std::size_t b = a + 1; b < n; ++b) row += r[a * n + b];
    sum += row;
  }
  return sum / (0.5 * static_cast<double>(n) * static_cast<double>(n - 1));
}

std::vector<double> duty_cycle(const Traces& x, std::size_t from) {
  std::vector<double> out(x.cells, 0.0);
  if (x.samples <= from) return out;
  for (std::size_t c = 0; c < x.cells; ++c) {
    double lo = INFINITY, hi = -INFINITY;
    for (std::size_t s = from; s < x.samples; ++s) lo = std::min(lo, x.at(s, c)), hi = std::max(hi, x.at(s, c));
    const double thr = lo + 0.5 * (hi - lo);
    std::size_t active = 0;
    for (std::size_t s = from; s < x.samples; ++s) active += x.at(s, c) > thr;
    out[c] = hi > lo ? static_cast<double>(active) / static_cast<double>(x.samples - from) : 0.0;
  }
  return out;
}

std::vector<double> upcrossings(const std::vector<double>& t, const std::vector<double>& x, double level) {
  std::vector<double> out;
  for (std::size_t i = 1; i < x.size(); ++i)
    if (x[i - 1] < level && x[i] >= level)
      out.push_back(t[i - 1] + (t[i] - t[i - 1]) * (level - x[i - 1]) / (x[i] - x[i - 1]));
  return out;
}

std::vector<double> prominent_peaks(const std::vector<double>& t, const std::vector<double>& x, double prominence) {
  std::vector<double> out;
  const std::size_t n = x.size();
  for (std::size_t i = 1; i + 1 < n; ++i) {
    if (!(x[i] > x[i - 1] && x[i] >= x[i + 1])) continue;
    double left_min = x[i], right_min = x[i];
    std::size_t j = i;
    while (j > 0 && x[j - 1] <= x[i]) left_min = std::min(left_min, x[--j]);
    j = i;
    while (j + 1 < n && x[j + 1] <= x[i]) right_min = std::min(right_min, x[++j]);
    if (x[i] - std::max(left_min, right_min) >= prominence) out.push_back(t[i]);
  }
  return out;
}

}  // namespace isletsim::analysis
