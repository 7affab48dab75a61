#include <algorithm>
#include <cmath>

#include "isletsim/analysis.hpp"

namespace isletsim::analysis {

double mean_pairwise_correlation(const Traces& x, std::size_t from) {
  const std::size_t n = x.cells;
  if (n < 2 || x.samples <= from + 1) return 0.0;
  const std::size_t m = x.samples - from;
  // Standardise every trace once, then correlations are dot products / m.
  std::vector<double> z(n * m);
  std::vector<bool> flat(n, false);
  for (std::size_t c = 0; c < n; ++c) {
    double mean = 0;
    for (std::size_t s = 0; s < m; ++s) mean += x.at(from + s, c);
    mean /= static_cast<double>(m);
    double var = 0;
    for (std::size_t s = 0; s < m; ++s) var += (x.at(from + s, c) - mean) * (x.at(from + s, c) - mean);
    const double sd = std::sqrt(var / static_cast<double>(m));
    flat[c] = !(sd > 1e-12 * (std::abs(mean) + 1e-300));
    for (std::size_t s = 0; s < m; ++s) z[c * m + s] = flat[c] ? 0.0 : (x.at(from + s, c) - mean) / sd;
  }
  double sum = 0;
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) {
      double dot = 0;
      for (std::size_t s = 0; s < m; ++s) dot += z[a * m + s] * z[b * m + s];
      sum += dot / static_cast<double>(m);
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
