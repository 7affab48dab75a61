// Per-cell activity (docs/analysis.md): episodes of the binarised traces
// (onsets, durations, intervals, frequency) and the first response to the
// stimulus on the whole recording.
#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

#include "analysis/signal_detail.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

namespace isletsim::analysis {

using detail::num;

namespace {

// The odd number of samples nearest `seconds` at `rate` (halves round up), at least 1.
std::size_t odd_width(double seconds, double rate) {
  const double w = seconds * rate;
  return 2 * static_cast<std::size_t>(std::max(0.0, std::round(0.5 * (w - 1.0)))) + 1;
}

// Per cell, the first time at or after the stimulus when x reaches base +
// fraction (peak - base), relative to the stimulus: base is the mean over
// [stim - baseline_s, stim] (the samples present), peak the maximum from the
// stimulus on. The crossing is interpolated linearly from the sample before
// (and taken no earlier than the stimulus). NaN without a baseline sample, a
// sample after the stimulus, or a rise. x holds the samples of t[first ..];
// row by row, contiguous over cells.
std::vector<double> rise_times(const std::vector<double>& t, std::size_t first, const Traces& x, double stim,
                               double baseline_s, double fraction) {
  const std::size_t cells = x.cells, n = t.size();
  std::vector<double> out(cells, NAN);
  auto row = [&](std::size_t s) { return x.data + (s - first) * cells; };
  std::size_t b0 = first;
  while (b0 < n && t[b0] < stim - baseline_s) ++b0;
  std::size_t p0 = b0;
  while (p0 < n && t[p0] < stim) ++p0;
  // A sample exactly at the stimulus belongs to both the baseline and the response.
  const std::size_t b1 = p0 < n && t[p0] == stim ? p0 + 1 : p0;
  if (b1 == b0 || p0 == n) return out;
  std::vector<double> base(cells, 0.0), level(cells);
  for (std::size_t s = b0; s < b1; ++s)
    for (std::size_t c = 0; c < cells; ++c) base[c] += row(s)[c];
  std::vector<double> peak(row(p0), row(p0) + cells);
  for (std::size_t s = p0 + 1; s < n; ++s)
    for (std::size_t c = 0; c < cells; ++c) peak[c] = std::max(peak[c], row(s)[c]);
  std::size_t pending = 0;
  std::vector<std::uint8_t> done(cells, 1);
  for (std::size_t c = 0; c < cells; ++c) {
    base[c] /= static_cast<double>(b1 - b0);
    level[c] = base[c] + fraction * (peak[c] - base[c]);
    if (peak[c] > base[c]) done[c] = 0, ++pending;
  }
  for (std::size_t s = p0; s < n && pending; ++s) {
    const double* r = row(s);
    for (std::size_t c = 0; c < cells; ++c) {
      if (done[c] || !(r[c] >= level[c])) continue;
      double tc = t[s];
      if (s > first && row(s - 1)[c] < level[c]) {
        const double x0 = row(s - 1)[c];
        tc = t[s - 1] + (t[s] - t[s - 1]) * (level[c] - x0) / (r[c] - x0);
      }
      out[c] = std::max(tc, stim) - stim;
      done[c] = 1, --pending;
    }
  }
  return out;
}

}  // namespace

Activity activity(const std::vector<double>& time, const Series& x, const std::vector<std::uint8_t>& binary,
                  const std::vector<double>& full_time, const Traces& full, double stimulus_s, const Options& o,
                  const std::vector<std::uint8_t>& excluded) {
  const std::size_t n = x.samples, cells = x.cells;
  if (time.size() != n)
    throw InputError("activity: " + std::to_string(time.size()) + " times for " + std::to_string(n) + " samples");
  if (binary.size() != n * cells)
    throw InputError("activity: the binary traces hold " + std::to_string(binary.size()) + " values, expected " +
                     std::to_string(n) + " samples x " + std::to_string(cells) + " cells");
  if (!excluded.empty() && excluded.size() != cells)
    throw InputError("activity: " + std::to_string(excluded.size()) + " exclusion flags for " +
                     std::to_string(cells) + " cells");
  const bool respond = !std::isnan(stimulus_s) && full.samples > 0;
  if (respond && (full.cells != cells || full_time.size() != full.samples))
    throw InputError("activity: the full recording has " + std::to_string(full.samples) + " samples x " +
                     std::to_string(full.cells) + " cells and " + std::to_string(full_time.size()) +
                     " times; expected " + std::to_string(cells) + " cells and one time per sample");
  if (respond && !(o.baseline_s >= 0 && o.plateau_smooth_s >= 0 && o.plateau_fraction > 0 && o.plateau_fraction <= 1))
    throw InputError("activity: baseline_s and plateau_smooth_s must be >= 0 and plateau_fraction in (0, 1] (got " +
                     num(o.baseline_s) + ", " + num(o.plateau_smooth_s) + ", " + num(o.plateau_fraction) + ")");

  Activity a;
  a.relative_active_time.assign(cells, NAN);
  a.frequency_hz.assign(cells, NAN);
  a.mean_duration_s.assign(cells, NAN);
  a.mean_interval_s.assign(cells, NAN);
  a.interval_cv.assign(cells, NAN);
  a.first_onset_s.assign(cells, NAN);
  a.response_latency_s.assign(cells, NAN);
  a.time_to_plateau_s.assign(cells, NAN);
  a.n_oscillations.assign(cells, 0);
  a.onsets.assign(cells, {});
  if (n == 0 || cells == 0) return a;
  const double dt = n > 1 ? (time.back() - time.front()) / static_cast<double>(n - 1) : NAN;
  const double window_s = static_cast<double>(n) * dt;  // n samples of dt each
  auto is_excluded = [&](std::size_t c) { return !excluded.empty() && excluded[c]; };

  // The level whose crossing marks an onset (for the interpolation): the
  // threshold of the binarisation rule, per cell; for the prominence rule per
  // peak, listed by the first sample of its span.
  std::vector<double> level(cells, NAN);
  std::vector<std::vector<std::pair<std::size_t, double>>> span_levels;
  if (o.binarize == BinarizeMethod::prominence) {
    span_levels.resize(cells);
    using detail::kBlock;
    const std::ptrdiff_t blocks = static_cast<std::ptrdiff_t>((cells + kBlock - 1) / kBlock);
#pragma omp parallel
    {
      std::vector<double> col(kBlock * n);
      detail::SpanScratch scratch;
#pragma omp for schedule(dynamic)
      for (std::ptrdiff_t blk = 0; blk < blocks; ++blk) {
        const std::size_t c0 = static_cast<std::size_t>(blk) * kBlock, nb = std::min(kBlock, cells - c0);
        detail::gather_columns(x.v.data(), n, cells, c0, nb, col.data());
        for (std::size_t b = 0; b < nb; ++b) {
          const double* xc = col.data() + b * n;
          const auto [lo, hi] = std::minmax_element(xc, xc + n);
          if (!(*hi > *lo) || is_excluded(c0 + b)) continue;
          auto& sl = span_levels[c0 + b];
          for (const auto& sp : detail::prominent_spans(xc, n, o.prominence * (*hi - *lo), scratch))
            sl.emplace_back(sp.first, sp.level);
          std::stable_sort(sl.begin(), sl.end(), [](const auto& u, const auto& v) { return u.first < v.first; });
        }
      }
    }
  } else {
    std::vector<double> lo(x.v.begin(), x.v.begin() + static_cast<std::ptrdiff_t>(cells)), hi = lo;
    for (std::size_t s = 1; s < n; ++s) {
      const double* row = x.v.data() + s * cells;
      for (std::size_t c = 0; c < cells; ++c) lo[c] = std::min(lo[c], row[c]), hi[c] = std::max(hi[c], row[c]);
    }
    const double f = o.binarize == BinarizeMethod::slope ? o.min_amplitude : 0.5;
    for (std::size_t c = 0; c < cells; ++c) level[c] = lo[c] + f * (hi[c] - lo[c]);
  }

  // Episodes are maximal runs of 1, found row by row (contiguous over
  // cells) from the changes between consecutive rows. One active at the
  // window's start has no onset (it began before the window): it counts for
  // the active time only. One still active at the end has an onset but no
  // known duration.
  constexpr std::size_t none = static_cast<std::size_t>(-1);
  std::vector<std::size_t> start(cells, none), cursor(cells, 0);
  std::vector<std::uint64_t> active(cells, 0), complete(cells, 0), complete_samples(cells, 0);
  for (std::size_t s = 0; s < n; ++s) {
    const std::uint8_t* b = binary.data() + s * cells;
    for (std::size_t c = 0; c < cells; ++c) active[c] += b[c] != 0;
    if (s == 0) continue;
    const std::uint8_t* pb = b - cells;
    const double* xr = x.v.data() + s * cells;
    for (std::size_t c = 0; c < cells; ++c) {
      if ((b[c] != 0) == (pb[c] != 0)) continue;
      if (!b[c]) {  // an episode ended at s - 1
        if (start[c] != none) ++complete[c], complete_samples[c] += s - start[c];
        start[c] = none;
        continue;
      }
      // Onset: the time of the first active sample, or, when x crosses the
      // rule's level between the sample before and it, that crossing
      // (linear interpolation).
      start[c] = s;
      double lv = level[c];
      if (!span_levels.empty()) {
        const auto& sl = span_levels[c];
        std::size_t& k = cursor[c];
        while (k < sl.size() && sl[k].first < s) ++k;
        lv = k < sl.size() && sl[k].first == s ? sl[k].second : NAN;
      }
      const double x0 = (xr - cells)[c], x1 = xr[c];
      double t_on = time[s];
      if (x0 < lv && lv <= x1) t_on = time[s - 1] + (time[s] - time[s - 1]) * (lv - x0) / (x1 - x0);
      a.onsets[c].push_back(t_on);
    }
  }

  for (std::size_t c = 0; c < cells; ++c) {
    if (is_excluded(c)) {
      a.onsets[c].clear();
      continue;
    }
    const std::vector<double>& on = a.onsets[c];
    a.relative_active_time[c] = static_cast<double>(active[c]) / static_cast<double>(n);
    a.n_oscillations[c] = static_cast<std::uint32_t>(on.size());
    a.frequency_hz[c] = static_cast<double>(on.size()) / window_s;
    if (complete[c])
      a.mean_duration_s[c] = static_cast<double>(complete_samples[c]) * dt / static_cast<double>(complete[c]);
    if (on.size() >= 2) {
      const double m = (on.back() - on.front()) / static_cast<double>(on.size() - 1);
      a.mean_interval_s[c] = m;
      if (on.size() >= 3) {  // a CV needs at least two intervals; population SD (ddof 0)
        double var = 0;
        for (std::size_t k = 1; k < on.size(); ++k) var += (on[k] - on[k - 1] - m) * (on[k] - on[k - 1] - m);
        a.interval_cv[c] = std::sqrt(var / static_cast<double>(on.size() - 1)) / m;
      }
    }
    if (!std::isnan(stimulus_s)) {
      const auto it = std::lower_bound(on.begin(), on.end(), stimulus_s);
      if (it != on.end()) a.first_onset_s[c] = *it - stimulus_s;
    }
  }

  // First response on the whole recording: raw for the latency; for the
  // plateau smoothed by a centred moving average, computed only from the
  // baseline's start minus half the width on (the same values there).
  if (respond) {
    const std::size_t N = full.samples;
    a.response_latency_s = rise_times(full_time, 0, full, stimulus_s, o.baseline_s, 0.5);
    const double full_rate = N > 1 ? static_cast<double>(N - 1) / (full_time.back() - full_time.front()) : 1.0;
    const std::size_t width = odd_width(o.plateau_smooth_s, full_rate), h = width / 2;
    std::size_t b0 = 0;
    while (b0 < N && full_time[b0] < stimulus_s - o.baseline_s) ++b0;
    const std::size_t k0 = b0 > h ? b0 - h : 0;
    const Series smooth = moving_average(Traces{full.data + k0 * cells, N - k0, cells}, width);
    a.time_to_plateau_s = rise_times(full_time, k0, smooth.view(), stimulus_s, o.baseline_s, o.plateau_fraction);
    for (std::size_t c = 0; c < cells; ++c)
      if (is_excluded(c)) a.response_latency_s[c] = a.time_to_plateau_s[c] = NAN;
  }
  return a;
}

double find_stimulus(const std::vector<double>& time, const std::vector<double>& glucose, double rise_mM) {
  if (glucose.empty()) return NAN;
  if (time.size() != glucose.size())
    throw InputError("find_stimulus: " + std::to_string(glucose.size()) + " glucose values for " +
                     std::to_string(time.size()) + " times (one per sample expected)");
  if (!(rise_mM > 0)) throw InputError("the stimulus rise must be > 0 mM (got " + num(rise_mM) + ")");
  // The starting value: the first finite sample (files store NaN where no glucose applies).
  std::size_t i0 = 0;
  while (i0 < glucose.size() && !std::isfinite(glucose[i0])) ++i0;
  if (i0 == glucose.size()) return NAN;
  const double level = glucose[i0] + rise_mM;
  for (std::size_t i = i0 + 1; i < glucose.size(); ++i) {
    if (!(glucose[i] >= level)) continue;
    // Glucose already rising at the sample before (a ramp, an exponential
    // approach): the crossing is interpolated between the two samples. A
    // jump from the starting value (a step) is placed at the first sample
    // that shows it: interpolating across a step would put it up to a
    // sample interval early (59.91 s for a step at 60 s sampled at 10 Hz)
    // and lengthen every cell's latency by as much.
    const double g0 = glucose[i - 1];
    if (std::isfinite(g0) && g0 < level && g0 > glucose[i0])
      return time[i - 1] + (time[i] - time[i - 1]) * (level - g0) / (glucose[i] - g0);
    return time[i];
  }
  return NAN;
}

}  // namespace isletsim::analysis
