#pragma once
// Internals shared by the analysis files (not public API).
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace isletsim::analysis::detail {

// A number for an error message: 6 significant digits.
inline std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Columns per block when a pass needs whole time series: gathering 8 adjacent
// columns of a sample-major matrix reads whole 64-byte lines of doubles.
constexpr std::size_t kBlock = 8;

// Copies columns c0 .. c0 + nb - 1 of a samples x cells matrix into nb
// contiguous series: buf[b * samples + s].
template <class T>
void gather_columns(const T* data, std::size_t samples, std::size_t cells, std::size_t c0, std::size_t nb, T* buf) {
  for (std::size_t s = 0; s < samples; ++s) {
    const T* row = data + s * cells + c0;
    for (std::size_t b = 0; b < nb; ++b) buf[b * samples + s] = row[b];
  }
}

template <class T>
void scatter_columns(const T* buf, std::size_t samples, std::size_t cells, std::size_t c0, std::size_t nb, T* data) {
  for (std::size_t s = 0; s < samples; ++s) {
    T* row = data + s * cells + c0;
    for (std::size_t b = 0; b < nb; ++b) row[b] = buf[b * samples + s];
  }
}

// A peak's active span for the prominence method: samples first .. last
// (inclusive) lie within its width at half prominence, whose edges cross
// `level` = peak - prominence / 2.
struct PeakSpan {
  std::size_t peak, first, last;
  double prominence, level;
};

// The local maxima of x[0..n-1] (flat tops: their middle sample) whose
// prominence is >= min_prominence, with their spans at half prominence, as
// scipy.signal.find_peaks(x, prominence=...) and peak_widths(rel_height=0.5)
// define them. In order of the peaks. `scratch` is reused between calls
// (per thread): fresh arrays of a long series would be page-faulted in anew
// for every cell.
struct SpanScratch {
  std::vector<double> lmin, rmin;
  std::vector<std::size_t> lpos, rpos, stack, peaks;
};
std::vector<PeakSpan> prominent_spans(const double* x, std::size_t n, double min_prominence, SpanScratch& scratch);

}  // namespace isletsim::analysis::detail
