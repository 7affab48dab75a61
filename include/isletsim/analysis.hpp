#pragma once
// Measures computed from recorded traces (field notes, "What users compute").
#include <cstddef>
#include <vector>

namespace isletsim::analysis {

// A recorded variable: samples x cells, sample-major (as in the HDF5 file).
struct Traces {
  const double* data;
  std::size_t samples, cells;
  double at(std::size_t s, std::size_t c) const { return data[s * cells + c]; }
};

// Synchrony index: mean Pearson correlation over all cell pairs of the traces
// from sample `from` on. Cells with a flat trace count as correlation 0.
double mean_pairwise_correlation(const Traces& x, std::size_t from = 0);

// Fraction of samples (from `from` on) in which each cell is active: above
// half of its own oscillation amplitude (min + 0.5 (max - min)).
std::vector<double> duty_cycle(const Traces& x, std::size_t from = 0);

// Times at which x crosses `level` upwards, linearly interpolated between
// samples (spike times: V crossing -40 mV, as the reference events do).
std::vector<double> upcrossings(const std::vector<double>& t, const std::vector<double>& x, double level);

// Times of local maxima of x whose prominence (height above the higher of the
// two minima separating them from higher peaks, as scipy defines it) is at
// least `prominence` (calcium peaks: 0.02 uM, as the reference events do).
std::vector<double> prominent_peaks(const std::vector<double>& t, const std::vector<double>& x, double prominence);

}  // namespace isletsim::analysis
