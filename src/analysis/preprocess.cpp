// Preprocessing of recorded or simulated traces (docs/analysis.md): the
// analysis window, block-mean resampling, detrending, a zero-phase
// Butterworth band-pass (FFTW), moving-average smoothing and the exclusion of
// flat cells. Matrices are sample-major, so the passes that treat every cell
// alike run row by row (contiguous, vectorisable over cells); the filter
// gathers a few columns at a time into contiguous buffers for the FFT.
#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>

#include "analysis/signal_detail.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {

using detail::num;

namespace {

// FFTW's planner keeps global state: plan creation and destruction are not
// thread-safe (fftw_execute on distinct arrays is).
std::mutex fftw_planner_mutex;

// The smallest length >= n whose prime factors are 2, 3, 5 and 7, and even
// (FFTW is fastest on such sizes; r2c halves an even length exactly).
std::size_t fft_size(std::size_t n) {
  for (std::size_t m = std::max<std::size_t>(n, 2);; ++m) {
    if (m % 2) continue;
    std::size_t r = m;
    for (std::size_t p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    if (r == 1) return m;
  }
}

// Index of sample i (any integer) of the series x[0..n-1] extended by mirror
// reflection about its end samples (which are not repeated): x[-1] = x[1],
// x[n] = x[n-2], and so on periodically for pads longer than the series.
std::size_t mirror(std::ptrdiff_t i, std::size_t n) {
  if (n == 1) return 0;
  const std::ptrdiff_t period = 2 * static_cast<std::ptrdiff_t>(n - 1);
  std::ptrdiff_t j = i % period;
  if (j < 0) j += period;
  if (j >= static_cast<std::ptrdiff_t>(n)) j = period - j;
  return static_cast<std::size_t>(j);
}

struct FftwFree {
  void operator()(void* p) const { fftw_free(p); }
};

}  // namespace

Series bandpass(const Traces& x, double rate_hz, double low_hz, double high_hz, int order) {
  if (!(rate_hz > 0) || !std::isfinite(rate_hz))
    throw InputError("band-pass: the sampling rate must be positive and finite (got " + num(rate_hz) + " Hz)");
  if (order < 1) throw InputError("band-pass: the filter order must be at least 1 (got " + std::to_string(order) + ")");
  if (!(low_hz >= 0) || !(high_hz >= 0) || !std::isfinite(low_hz) || !std::isfinite(high_hz))
    throw InputError("band-pass: the band edges must be finite and >= 0 Hz (got " + num(low_hz) + " .. " +
                     num(high_hz) + " Hz)");
  const double nyquist = 0.5 * rate_hz;
  if (high_hz > nyquist)
    throw InputError("the band's upper edge " + num(high_hz) + " Hz is above the Nyquist frequency " + num(nyquist) +
                     " Hz of the sampling rate " + num(rate_hz) + " Hz (lower the edge or analyse at a higher rate)");
  if (high_hz > 0 && low_hz >= high_hz)
    throw InputError("the band's lower edge " + num(low_hz) + " Hz must be below its upper edge " + num(high_hz) +
                     " Hz");
  const std::size_t n = x.samples, cells = x.cells;
  const double duration = static_cast<double>(n) / rate_hz;
  if (low_hz > 0 && low_hz < 1.0 / duration)
    throw InputError("the band's lower edge " + num(low_hz) + " Hz is below 1 / (window duration) = " +
                     num(1.0 / duration) + " Hz: a " + num(duration) +
                     " s window cannot carry one period of it (use a longer window or a higher edge)");
  // high_hz = 0 or at Nyquist: no low-pass part.
  const bool lowpass = high_hz > 0 && high_hz < nyquist;
  const bool highpass = low_hz > 0;
  Series out(n, cells);
  if (n == 0 || cells == 0) return out;
  if (!lowpass && !highpass) {
    std::memcpy(out.v.data(), x.data, n * cells * sizeof(double));
    return out;
  }

  // Mirror padding: the circular convolution of the FFT then wraps onto
  // reflected data instead of the other end of the trace. Three periods of
  // the lowest edge cover the filter's transient (its impulse response decays
  // within about one period at order 1 and faster at higher orders).
  const double f_edge = highpass ? low_hz : high_hz;
  const std::size_t pad = std::min<std::size_t>(n - 1, static_cast<std::size_t>(std::ceil(3.0 * rate_hz / f_edge)));
  const std::size_t L = fft_size(n + 2 * pad);  // the right pad takes the extra samples
  const std::size_t K = L / 2 + 1;

  // The squared Butterworth magnitude (the response of one forward and one
  // backward pass), times the 1/L the unnormalised inverse FFT needs:
  //   |H(f)|^2 = 1 / (1 + (f/fh)^(2N)) * 1 / (1 + (fl/f)^(2N)).
  std::vector<double> gain(K);
  const double two_n = 2.0 * order;
  for (std::size_t k = 0; k < K; ++k) {
    const double f = static_cast<double>(k) * rate_hz / static_cast<double>(L);
    double g = 1.0;
    if (lowpass) g /= 1.0 + std::pow(f / high_hz, two_n);
    if (highpass) g = f > 0 ? g / (1.0 + std::pow(low_hz / f, two_n)) : 0.0;
    gain[k] = g / static_cast<double>(L);
  }

  // Columns are filtered B at a time: gathering B adjacent columns reads
  // whole cache lines of the sample-major matrix, and B contiguous columns of
  // length L keep the buffers small (one FFT over all columns at once would
  // need (n + 2 pad) x cells complex numbers: gigabytes for the slow band).
  constexpr std::size_t B = 8;
  const int len = static_cast<int>(L);
  fftw_plan fwd, inv;
  {
    std::unique_ptr<double, FftwFree> r(fftw_alloc_real(B * L));
    std::unique_ptr<fftw_complex, FftwFree> z(fftw_alloc_complex(B * K));
    std::lock_guard<std::mutex> lock(fftw_planner_mutex);
    fwd = fftw_plan_many_dft_r2c(1, &len, B, r.get(), nullptr, 1, static_cast<int>(L), z.get(), nullptr, 1,
                                 static_cast<int>(K), FFTW_ESTIMATE);
    inv = fftw_plan_many_dft_c2r(1, &len, B, z.get(), nullptr, 1, static_cast<int>(K), r.get(), nullptr, 1,
                                 static_cast<int>(L), FFTW_ESTIMATE);
  }
  if (!fwd || !inv) throw std::runtime_error("FFTW could not plan a transform of length " + std::to_string(L));

  const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>((cells + B - 1) / B);
  // Every column goes through the same plan and arithmetic whatever thread
  // takes it: the result does not depend on the thread count.
#pragma omp parallel
  {
    // fftw_alloc aligns as the planning buffers were: the plans may execute on these.
    std::unique_ptr<double, FftwFree> r(fftw_alloc_real(B * L));
    std::unique_ptr<fftw_complex, FftwFree> z(fftw_alloc_complex(B * K));
    double* rb = r.get();
    fftw_complex* zb = z.get();
#pragma omp for schedule(dynamic)
    for (std::ptrdiff_t blk = 0; blk < blocks; ++blk) {
      const std::size_t c0 = static_cast<std::size_t>(blk) * B;
      const std::size_t nb = std::min(B, cells - c0);
      if (nb < B) std::fill(rb, rb + B * L, 0.0);
      for (std::size_t s = 0; s < n; ++s) {
        const double* row = x.data + s * cells + c0;
        for (std::size_t b = 0; b < nb; ++b) rb[b * L + pad + s] = row[b];
      }
      for (std::size_t b = 0; b < nb; ++b) {
        double* col = rb + b * L;
        const double* data = col + pad;
        for (std::size_t j = 0; j < pad; ++j) col[j] = data[mirror(static_cast<std::ptrdiff_t>(j) -
                                                                     static_cast<std::ptrdiff_t>(pad), n)];
        for (std::size_t j = pad + n; j < L; ++j) col[j] = data[mirror(static_cast<std::ptrdiff_t>(j - pad), n)];
      }
      fftw_execute_dft_r2c(fwd, rb, zb);
      for (std::size_t b = 0; b < nb; ++b)
        for (std::size_t k = 0; k < K; ++k) {
          zb[b * K + k][0] *= gain[k];
          zb[b * K + k][1] *= gain[k];
        }
      fftw_execute_dft_c2r(inv, zb, rb);
      for (std::size_t s = 0; s < n; ++s) {
        double* row = out.v.data() + s * cells + c0;
        for (std::size_t b = 0; b < nb; ++b) row[b] = rb[b * L + pad + s];
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex);
    fftw_destroy_plan(fwd);
    fftw_destroy_plan(inv);
  }
  return out;
}

namespace {

// Centred moving average of width 2h + 1 over the n x cells matrix `data`,
// in place (preprocess smooths its own buffer: a second matrix of a long
// recording would cost as much as the pass itself to fault in). A running
// sum per cell over [s - h, s + h] clipped to the data (the ends average the
// samples present); the samples leaving it come from a ring holding the
// last h + 1 original rows. The sum is formed afresh every `fresh` samples
// so that add/subtract rounding cannot build up over long recordings; the
// restart points are fixed, so the result is too.
void smooth_in_place(double* data, std::size_t n, std::size_t cells, std::size_t h) {
  if (h == 0 || n == 0 || cells == 0) return;
  constexpr std::size_t fresh = 1024;
  std::vector<double> sum(cells), ring((h + 1) * cells);
  auto original = [&](std::size_t k, std::size_t s) {  // row k's original values, at step s
    return k < s ? ring.data() + (k % (h + 1)) * cells : data + k * cells;
  };
  for (std::size_t s = 0; s < n; ++s) {
    const std::size_t lo = s >= h ? s - h : 0, hi = std::min(n - 1, s + h);
    if (s % fresh == 0) {
      std::fill(sum.begin(), sum.end(), 0.0);
      for (std::size_t k = lo; k <= hi; ++k) {
        const double* row = original(k, s);
        for (std::size_t c = 0; c < cells; ++c) sum[c] += row[c];
      }
    } else {
      if (s + h < n) {  // the sample entering at the right
        const double* row = data + (s + h) * cells;
        for (std::size_t c = 0; c < cells; ++c) sum[c] += row[c];
      }
      if (s > h) {  // the sample leaving at the left
        const double* row = original(s - h - 1, s);
        for (std::size_t c = 0; c < cells; ++c) sum[c] -= row[c];
      }
    }
    double* row = data + s * cells;
    std::copy(row, row + cells, ring.data() + (s % (h + 1)) * cells);  // (the slot of row s - h - 1, used above)
    const double count = static_cast<double>(hi - lo + 1);
    for (std::size_t c = 0; c < cells; ++c) row[c] = sum[c] / count;
  }
}

// Least squares with the sample index centred, u = s - (n-1)/2: the mean
// and the slope decouple, mean = sum x / n, slope = sum u x / sum u^2, and
// sum u^2 = n (n^2 - 1) / 12. In place.
void detrend_in_place(double* data, std::size_t n, std::size_t cells, Detrend how) {
  if (how == Detrend::none || n == 0 || cells == 0) return;
  const double centre = 0.5 * static_cast<double>(n - 1);
  std::vector<double> sx(cells, 0.0), sux(cells, 0.0);
  for (std::size_t s = 0; s < n; ++s) {
    const double* row = data + s * cells;
    const double u = static_cast<double>(s) - centre;
    for (std::size_t c = 0; c < cells; ++c) sx[c] += row[c];
    if (how == Detrend::linear)
      for (std::size_t c = 0; c < cells; ++c) sux[c] += u * row[c];
  }
  const double dn = static_cast<double>(n);
  const double suu = dn * (dn * dn - 1.0) / 12.0;
  for (std::size_t c = 0; c < cells; ++c) {
    sx[c] /= dn;
    sux[c] = how == Detrend::linear && n > 1 ? sux[c] / suu : 0.0;
  }
  for (std::size_t s = 0; s < n; ++s) {
    double* row = data + s * cells;
    const double u = static_cast<double>(s) - centre;
    for (std::size_t c = 0; c < cells; ++c) row[c] -= sx[c] + sux[c] * u;
  }
}

Series copy_of(const Traces& x) {
  Series out;
  out.samples = x.samples, out.cells = x.cells;
  out.v.assign(x.data, x.data + x.samples * x.cells);
  return out;
}

}  // namespace

Series moving_average(const Traces& x, std::size_t width) {
  if (width == 0 || width % 2 == 0)
    throw InputError("moving average: the width must be an odd number of samples (got " + std::to_string(width) +
                     ")");
  Series out = copy_of(x);
  smooth_in_place(out.v.data(), out.samples, out.cells, width / 2);
  return out;
}

Series detrend(const Traces& x, Detrend how) {
  Series out = copy_of(x);
  detrend_in_place(out.v.data(), out.samples, out.cells, how);
  return out;
}

Series decimate(const Traces& x, std::size_t factor) {
  if (factor == 0) throw InputError("decimate: the factor must be at least 1");
  const std::size_t n = x.samples / factor, cells = x.cells;
  Series out(n, cells);
  for (std::size_t b = 0; b < n; ++b) {
    double* o = out.v.data() + b * cells;
    for (std::size_t k = 0; k < factor; ++k) {
      const double* row = x.data + (b * factor + k) * cells;
      for (std::size_t c = 0; c < cells; ++c) o[c] += row[c];
    }
    for (std::size_t c = 0; c < cells; ++c) o[c] /= static_cast<double>(factor);
  }
  return out;
}

Preprocessed preprocess(const std::vector<double>& time, const Traces& x, const Options& o) {
  const std::size_t N = x.samples, cells = x.cells;
  if (time.size() != N)
    throw InputError("the time axis has " + std::to_string(time.size()) + " samples but the data has " +
                     std::to_string(N) + " (one time per sample expected)");
  if (N < 4) throw InputError("the data has " + std::to_string(N) + " samples; the analysis needs at least 4");
  const double t0 = time.front(), tN = time.back();
  const double dt = (tN - t0) / static_cast<double>(N - 1);
  if (!(dt > 0) || !std::isfinite(dt))
    throw InputError("the time axis must increase (it runs from " + num(t0) + " s to " + num(tN) + " s)");
  for (std::size_t s = 1; s < N; ++s) {
    const double step = time[s] - time[s - 1];
    if (!(std::abs(step - dt) <= 1e-6 * dt))
      throw InputError("the time axis is not uniform: the step before sample " + std::to_string(s) + " (t = " +
                       num(time[s]) + " s) is " + num(step) + " s, the mean step is " + num(dt) +
                       " s (uniform within 1e-6 relative expected; resample the data first)");
  }
  const double rate = 1.0 / dt;

  // The window: the samples with from <= t <= to (a millionth of a step of slack).
  const double from = std::isnan(o.from_s) ? t0 : o.from_s, to = std::isnan(o.to_s) ? tN : o.to_s;
  const double slack = 1e-6 * dt;
  if (!(from >= t0 - slack) || !(to <= tN + slack) || !(from < to))
    throw InputError("the analysis window [" + num(from) + ", " + num(to) +
                     "] s is not inside the data's time range [" +
                     num(t0) + ", " + num(tN) + "] s or is empty (from must be below to)");
  std::size_t s0 = 0, s1 = N - 1;
  while (s0 < N && time[s0] < from - slack) ++s0;
  while (s1 > 0 && time[s1] > to + slack) --s1;
  if (s0 > s1 || s1 - s0 + 1 < 4)
    throw InputError("the analysis window [" + num(from) + ", " + num(to) + "] s holds fewer than 4 samples");
  const std::size_t n = s1 - s0 + 1;

  if (!(o.sampling_hz >= 0) || !std::isfinite(o.sampling_hz))
    throw InputError("the analysis rate (sampling_hz) must be 0 (the data's rate) or positive (got " +
                     num(o.sampling_hz) + ")");
  if (o.sampling_hz > rate * (1 + 1e-9))
    throw InputError("the analysis rate " + num(o.sampling_hz) + " Hz is above the data's sampling rate " +
                     num(rate) + " Hz (it can only be lowered)");
  if (!(o.smooth_s >= 0)) throw InputError("the smoothing width smooth_s must be >= 0 s (got " + num(o.smooth_s) + ")");
  if (!(o.min_sd_rel >= 0)) throw InputError("min_sd_rel must be >= 0 (got " + num(o.min_sd_rel) + ")");

  Preprocessed p;
  p.excluded.assign(cells, 0);
  // One pass over the window: copy it, reject NaN/inf, and sum each cell's
  // deviations from its first windowed sample (shifted sums: the variance
  // keeps its precision for traces with a large offset, and a flat trace
  // gives exactly 0).
  Series win(n, cells);
  std::vector<double> shift(x.data + s0 * cells, x.data + s0 * cells + cells);
  std::vector<double> sum(cells, 0.0), sum2(cells, 0.0);
  for (std::size_t s = 0; s < n; ++s) {
    const double* row = x.data + (s0 + s) * cells;
    double* w = win.v.data() + s * cells;
    bool finite = true;
    for (std::size_t c = 0; c < cells; ++c) {
      const double v = row[c];
      w[c] = v;
      finite &= std::isfinite(v);
      const double d = v - shift[c];
      sum[c] += d;
      sum2[c] += d * d;
    }
    if (!finite)
      for (std::size_t c = 0; c < cells; ++c)
        if (!std::isfinite(row[c]))
          throw InputError("cell " + std::to_string(c) + " has " + (std::isnan(row[c]) ? "NaN" : "an infinite value") +
                           " at t = " + num(time[s0 + s]) + " s (sample " + std::to_string(s0 + s) +
                           "); the analysis needs finite data in its window");
  }
  std::vector<double> sd(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    const double m = sum[c] / static_cast<double>(n);
    sd[c] = std::sqrt(std::max(0.0, sum2[c] / static_cast<double>(n) - m * m));
  }
  if (cells > 0) {
    // Median: the middle element, or the mean of the two middle ones.
    std::vector<double> sorted = sd;
    std::sort(sorted.begin(), sorted.end());
    const double median =
        cells % 2 ? sorted[cells / 2] : 0.5 * (sorted[cells / 2 - 1] + sorted[cells / 2]);
    for (std::size_t c = 0; c < cells; ++c) p.excluded[c] = sd[c] == 0 || sd[c] <= o.min_sd_rel * median;
  }

  // Resampling by block means; a block's time is its mean sample time, the
  // first sample's time + (factor - 1) / 2 steps.
  std::size_t factor = 1;
  if (o.sampling_hz > 0)
    factor = std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(rate / o.sampling_hz)));
  if (factor > 1) {
    if (n / factor < 4)
      throw InputError("resampling to " + num(o.sampling_hz) + " Hz leaves " + std::to_string(n / factor) +
                       " samples of the window; the analysis needs at least 4");
    win = decimate(win.view(), factor);
    p.rate_hz = rate / static_cast<double>(factor);
    p.time.resize(win.samples);
    for (std::size_t b = 0; b < win.samples; ++b)
      p.time[b] = time[s0 + b * factor] + 0.5 * static_cast<double>(factor - 1) * dt;
  } else {
    p.rate_hz = rate;
    p.time.assign(time.begin() + static_cast<std::ptrdiff_t>(s0), time.begin() + static_cast<std::ptrdiff_t>(s1 + 1));
  }

  detrend_in_place(win.v.data(), win.samples, win.cells, o.detrend);
  if (o.band == Band::fast) win = bandpass(win.view(), p.rate_hz, o.fast_low_hz, o.fast_high_hz, o.filter_order);
  if (o.band == Band::slow) win = bandpass(win.view(), p.rate_hz, o.slow_low_hz, o.slow_high_hz, o.filter_order);
  if (o.smooth_s > 0) {
    // The odd width nearest smooth_s * rate (halves round up), at least 1.
    const double w = o.smooth_s * p.rate_hz;
    const std::size_t width = 2 * static_cast<std::size_t>(std::max(0.0, std::round(0.5 * (w - 1.0)))) + 1;
    smooth_in_place(win.v.data(), win.samples, win.cells, width / 2);
  }
  p.signal = std::move(win);
  return p;
}

}  // namespace isletsim::analysis
