// Similarity between cells: Pearson correlation and coactivity matrices (both
// one symmetric rank-k update, BLAS dsyrk, of a transformed copy of the
// traces) and similarity against the distance between the cells.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {

namespace {

void check_excluded(const std::vector<std::uint8_t>& excluded, std::size_t cells, const char* what) {
  if (!excluded.empty() && excluded.size() != cells)
    throw InputError(std::string(what) + ": the exclusion mask has " + std::to_string(excluded.size()) +
                     " entries for " + std::to_string(cells) + " cells (expected one per cell, or none)");
}

// Samples per block of the transformed copy handed to dsyrk: about 32 MB, so
// the copy stays small next to the traces (1000 cells x 60,000 samples are
// 480 MB) while each dsyrk call still has a long inner dimension. The block
// size depends only on the number of cells, so the summation order (and the
// result) does not depend on anything else.
std::size_t block_samples(std::size_t cells) {
  const std::size_t target = (std::size_t{32} << 20) / sizeof(double) / std::max<std::size_t>(cells, 1);
  return std::clamp<std::size_t>(target, 256, 8192);
}

// C (n x n, upper triangle, row-major) = alpha * sum over row blocks of B^T B,
// the rows of B produced block by block by fill(first_sample, rows, buffer, ld).
//
// The matrix handed to OpenBLAS is padded with zero columns to a multiple of
// 16 cells. Unpadded, OpenBLAS's dsyrk computes the entries in the ragged edge
// tiles with kernels that round differently, and which entries fall in such
// tiles depends on how it splits the work between its threads: 1 and 2
// threads differ in the last bit (measured on OpenBLAS 0.3.21, Cooper Lake
// kernels). With every tile full (16 is a multiple of the kernels' unrolling)
// the result is the same for any thread count (checked for 1, 2, 3, 4, 8).
template <class Fill>
std::vector<double> blocked_syrk(std::size_t samples, std::size_t n, double alpha, Fill fill) {
  const std::size_t ld = (n + 15) / 16 * 16;
  const std::size_t block = std::min(block_samples(ld), std::max<std::size_t>(samples, 1));
  std::vector<double> buf(block * ld, 0.0);  // the padding columns stay 0
  std::vector<double> c(ld * ld, 0.0);
  for (std::size_t s0 = 0; s0 < samples; s0 += block) {
    const std::size_t rows = std::min(block, samples - s0);
    fill(s0, rows, buf.data(), ld);
    // Row-major B (rows x ld): C = B^T B is "transposed" in BLAS terms.
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, static_cast<blasint>(ld), static_cast<blasint>(rows), alpha,
                buf.data(), static_cast<blasint>(ld), s0 == 0 ? 0.0 : 1.0, c.data(), static_cast<blasint>(ld));
  }
  // Drop the padding: row i moves from i * ld to i * n (never forwards).
  for (std::size_t i = 1; i < n; ++i) std::copy_n(c.begin() + i * ld, n, c.begin() + i * n);
  c.resize(n * n);
  return c;
}

void mirror_upper(std::vector<double>& c, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i + 1; j < n; ++j) c[j * n + i] = c[i * n + j];
}

}  // namespace

std::vector<double> correlation_matrix(const Traces& x, const std::vector<std::uint8_t>& excluded) {
  const std::size_t n = x.cells, m = x.samples;
  check_excluded(excluded, n, "correlation_matrix");
  if (n == 0) return {};
  // Means and population SDs, two-pass. The data is sample-major, so every
  // pass sweeps whole rows (contiguous) and accumulates all cells at once;
  // each cell's sum still runs over the samples in order, as a per-column
  // loop would.
  std::vector<double> mean(n, 0.0), sd(n, 0.0), scale(n, 0.0);
  if (m > 0) {
    for (std::size_t s = 0; s < m; ++s) {
      const double* row = x.data + s * n;
      for (std::size_t k = 0; k < n; ++k) mean[k] += row[k];
    }
    for (std::size_t k = 0; k < n; ++k) mean[k] /= static_cast<double>(m);
    for (std::size_t s = 0; s < m; ++s) {
      const double* row = x.data + s * n;
      for (std::size_t k = 0; k < n; ++k) {
        const double d = row[k] - mean[k];
        sd[k] += d * d;
      }
    }
    for (std::size_t k = 0; k < n; ++k) sd[k] = std::sqrt(sd[k] / static_cast<double>(m));
  }
  for (std::size_t k = 0; k < n; ++k) {
    const bool skip = !excluded.empty() && excluded[k];
    if (!skip && !std::isfinite(sd[k]))
      throw InputError("correlation_matrix: cell " + std::to_string(k) +
                       " has a non-finite value (expected finite traces, or the cell excluded)");
    // Flat: no variation beyond rounding of the mean. Such a column (and an
    // excluded one) becomes all zeros, so its correlations are exactly 0.
    const bool flat = !(sd[k] > 0.0) || sd[k] <= 1e-12 * std::abs(mean[k]);
    scale[k] = (skip || flat) ? 0.0 : 1.0 / sd[k];
  }
  // z = (x - mean) / sd block by block; C = Z^T Z / m.
  auto c = blocked_syrk(m, n, 1.0 / static_cast<double>(m), [&](std::size_t s0, std::size_t rows, double* z,
                                                                 std::size_t ld) {
    for (std::size_t r = 0; r < rows; ++r) {
      const double* row = x.data + (s0 + r) * n;
      double* out = z + r * ld;
      for (std::size_t k = 0; k < n; ++k) out[k] = scale[k] == 0.0 ? 0.0 : (row[k] - mean[k]) * scale[k];
    }
  });
  mirror_upper(c, n);
  // Rounding leaves the diagonal of a varying trace within an ulp or so of 1;
  // the contract (and every user) wants exactly 1, also for flat traces.
  for (std::size_t k = 0; k < n; ++k) c[k * n + k] = 1.0;
  return c;
}

std::vector<double> coactivity_matrix(const std::vector<std::uint8_t>& binary, std::size_t samples,
                                      std::size_t cells) {
  if (binary.size() != samples * cells)
    throw InputError("coactivity_matrix: the binary traces have " + std::to_string(binary.size()) +
                     " entries, expected samples x cells = " + std::to_string(samples) + " x " +
                     std::to_string(cells));
  if (cells == 0) return {};
  // Counts of common active samples; every partial sum is an integer below
  // 2^53, so the double product is exact whatever the order.
  auto c = blocked_syrk(samples, cells, 1.0, [&](std::size_t s0, std::size_t rows, double* b, std::size_t ld) {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::uint8_t* in = binary.data() + (s0 + r) * cells;
      for (std::size_t k = 0; k < cells; ++k) b[r * ld + k] = in[k] ? 1.0 : 0.0;
    }
  });
  std::vector<double> active(cells);
  for (std::size_t i = 0; i < cells; ++i) active[i] = c[i * cells + i];
  for (std::size_t i = 0; i < cells; ++i) {
    for (std::size_t j = i + 1; j < cells; ++j) {
      const double nij = c[i * cells + j];
      c[i * cells + j] = active[i] > 0 && active[j] > 0 ? nij / std::sqrt(active[i] * active[j]) : 0.0;
    }
    c[i * cells + i] = active[i] > 0 ? 1.0 : 0.0;
  }
  mirror_upper(c, cells);
  return c;
}

DistanceProfile similarity_by_distance(const std::vector<double>& sim, std::size_t cells,
                                       const std::vector<double>& x, const std::vector<double>& y,
                                       const std::vector<double>& z, double bin_um,
                                       const std::vector<std::uint8_t>& excluded) {
  DistanceProfile p;
  if (x.empty() && y.empty() && z.empty()) return p;
  if (x.size() != cells || y.size() != cells || z.size() != cells)
    throw InputError("similarity_by_distance: positions x, y, z have " + std::to_string(x.size()) + ", " +
                     std::to_string(y.size()) + ", " + std::to_string(z.size()) + " entries for " +
                     std::to_string(cells) + " cells (expected one per cell, or none)");
  if (sim.size() != cells * cells)
    throw InputError("similarity_by_distance: the similarity matrix has " + std::to_string(sim.size()) +
                     " entries, expected cells x cells = " + std::to_string(cells * cells));
  if (!(bin_um > 0) || !std::isfinite(bin_um))
    throw InputError("similarity_by_distance: the distance bin must be a positive width in um, got " +
                     std::to_string(bin_um));
  check_excluded(excluded, cells, "similarity_by_distance");
  std::vector<std::size_t> kept;
  for (std::size_t k = 0; k < cells; ++k)
    if (excluded.empty() || !excluded[k]) kept.push_back(k);
  if (kept.size() < 2) return p;
  const auto dist = [&](std::size_t a, std::size_t b) {
    const double dx = x[a] - x[b], dy = y[a] - y[b], dz = z[a] - z[b];
    return std::sqrt(dx * dx + dy * dy + dz * dz);
  };
  double dmax = 0;
  for (std::size_t a = 0; a < kept.size(); ++a)
    for (std::size_t b = a + 1; b < kept.size(); ++b) dmax = std::max(dmax, dist(kept[a], kept[b]));
  if (!std::isfinite(dmax)) throw InputError("similarity_by_distance: the cell positions must be finite");
  // Bins [k bin, (k+1) bin) from 0 up to the one holding the largest distance.
  const auto nbins = static_cast<std::size_t>(std::floor(dmax / bin_um)) + 1;
  const auto bin_of = [&](double d) { return std::min(nbins - 1, static_cast<std::size_t>(std::floor(d / bin_um))); };
  std::vector<double> sum(nbins, 0.0), sq(nbins, 0.0);
  p.pairs.assign(nbins, 0);
  // Two passes (mean, then squared deviations), pairs in a fixed order.
  for (std::size_t a = 0; a < kept.size(); ++a)
    for (std::size_t b = a + 1; b < kept.size(); ++b) {
      const std::size_t k = bin_of(dist(kept[a], kept[b]));
      sum[k] += sim[kept[a] * cells + kept[b]];
      ++p.pairs[k];
    }
  p.bin_lo_um.resize(nbins);
  p.mean.resize(nbins);
  p.sd.resize(nbins);
  for (std::size_t k = 0; k < nbins; ++k) {
    p.bin_lo_um[k] = static_cast<double>(k) * bin_um;
    p.mean[k] = p.pairs[k] ? sum[k] / static_cast<double>(p.pairs[k]) : NAN;
  }
  for (std::size_t a = 0; a < kept.size(); ++a)
    for (std::size_t b = a + 1; b < kept.size(); ++b) {
      const std::size_t k = bin_of(dist(kept[a], kept[b]));
      const double d = sim[kept[a] * cells + kept[b]] - p.mean[k];
      sq[k] += d * d;
    }
  for (std::size_t k = 0; k < nbins; ++k)
    p.sd[k] = p.pairs[k] ? std::sqrt(sq[k] / static_cast<double>(p.pairs[k])) : NAN;
  return p;
}

}  // namespace isletsim::analysis
