// Analysis pipeline, signal part: band-pass, smoothing, detrending,
// resampling, preprocessing checks and exclusion, the three binarisation
// rules, per-cell activity, first response and the stimulus time. Every
// expectation is analytic, hand-computed or from scipy (values written here).
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

using namespace isletsim;
using namespace isletsim::analysis;

namespace {

constexpr double kPi = std::numbers::pi;

// Expects fn() to throw InputError whose message contains every one of `parts`.
template <class F>
void expect_input_error(F fn, const std::vector<std::string>& parts) {
  try {
    fn();
    ADD_FAILURE() << "no InputError thrown";
  } catch (const InputError& e) {
    for (const auto& p : parts) EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
  }
}

// Amplitude and phase (of a sin(2 pi f t + phase)) of y at frequency f over
// samples [s0, s1) holding whole periods (projection onto sin and cos).
std::pair<double, double> tone(const Series& y, std::size_t c, double rate, double f, std::size_t s0, std::size_t s1) {
  double a = 0, b = 0;
  for (std::size_t s = s0; s < s1; ++s) {
    const double t = static_cast<double>(s) / rate;
    a += y.at(s, c) * std::sin(2 * kPi * f * t);
    b += y.at(s, c) * std::cos(2 * kPi * f * t);
  }
  const double m = static_cast<double>(s1 - s0);
  a *= 2 / m, b *= 2 / m;
  return {std::hypot(a, b), std::atan2(b, a)};
}

// Raised-cosine pulse of height 1 over [t0, t0 + w].
double pulse(double t, double t0, double w) {
  return t >= t0 && t <= t0 + w ? 0.5 * (1 - std::cos(2 * kPi * (t - t0) / w)) : 0.0;
}

// Runs of 1 in column c: (first, last) sample pairs.
std::vector<std::pair<std::size_t, std::size_t>> runs(const std::vector<std::uint8_t>& b, std::size_t n,
                                                      std::size_t cells, std::size_t c) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t s = 0; s < n; ++s) {
    if (!b[s * cells + c]) continue;
    const std::size_t f = s;
    while (s + 1 < n && b[(s + 1) * cells + c]) ++s;
    out.emplace_back(f, s);
  }
  return out;
}

std::vector<double> uniform_time(std::size_t n, double rate, double t0 = 0) {
  std::vector<double> t(n);
  for (std::size_t s = 0; s < n; ++s) t[s] = t0 + static_cast<double>(s) / rate;
  return t;
}

}  // namespace

// ---------------------------------------------------------------- band-pass

TEST(AnalysisSignalBandpass, KeepsTheBandSuppressesTheRestWithZeroPhase) {
  // 0.01 + 0.1 + 2 Hz at 10 Hz for 2000 s, band 0.03 .. 0.5 Hz (order 2);
  // column c is scaled by c + 1 (columns are filtered independently).
  const double rate = 10;
  const std::size_t n = 20000, cells = 3;
  const double f[3] = {0.01, 0.1, 2.0}, ph[3] = {0.4, 0.3, 0.7};
  Series x(n, cells);
  for (std::size_t s = 0; s < n; ++s)
    for (std::size_t c = 0; c < cells; ++c) {
      const double t = static_cast<double>(s) / rate;
      double v = 0;
      for (int k = 0; k < 3; ++k) v += std::sin(2 * kPi * f[k] * t + ph[k]);
      x.at(s, c) = (c + 1.0) * v;
    }
  const Series y = bandpass(x.view(), rate, 0.03, 0.5, 2);
  ASSERT_EQ(y.samples, n);
  ASSERT_EQ(y.cells, cells);
  // Measured over 500 .. 1500 s (whole periods of all three), away from the edges.
  for (std::size_t c = 0; c < cells; ++c) {
    const double scale = c + 1.0;
    const auto [a_in, p_in] = tone(y, c, rate, 0.1, 5000, 15000);
    // The analytic gain: |H|^2 = 1 / (1 + (f/fh)^4) / (1 + (fl/f)^4).
    const double gain = 1 / (1 + std::pow(0.1 / 0.5, 4)) / (1 + std::pow(0.03 / 0.1, 4));
    EXPECT_NEAR(a_in / scale, 1.0, 0.02);
    EXPECT_NEAR(a_in / scale, gain, 1e-3);
    EXPECT_NEAR(p_in, ph[1], 1e-3) << "the filter must not shift the phase";
    EXPECT_LT(tone(y, c, rate, 0.01, 5000, 15000).first / scale, 0.05);
    EXPECT_LT(tone(y, c, rate, 2.0, 5000, 15000).first / scale, 0.05);
  }
  // Zero phase, directly: over one period of the in-band sine mid-record,
  // the output peaks at the input component's peak sample.
  std::size_t best = 10000, best_in = 10000;
  auto in_band = [&](std::size_t s) { return std::sin(2 * kPi * 0.1 * static_cast<double>(s) / rate + ph[1]); };
  for (std::size_t s = 10000; s < 10100; ++s) {
    if (y.at(s, 0) > y.at(best, 0)) best = s;
    if (in_band(s) > in_band(best_in)) best_in = s;
  }
  EXPECT_NEAR(static_cast<double>(best), static_cast<double>(best_in), 1.0);
}

TEST(AnalysisSignalBandpass, LowPassAndHighPassOnly) {
  const double rate = 10;
  const std::size_t n = 20000;
  Series x(n, 1);
  for (std::size_t s = 0; s < n; ++s) {
    const double t = static_cast<double>(s) / rate;
    x.at(s, 0) = 3 + std::sin(2 * kPi * 0.1 * t) + std::sin(2 * kPi * 2 * t);
  }
  // Low-pass at 0.5 Hz keeps the mean and 0.1 Hz, removes 2 Hz.
  const Series lp = bandpass(x.view(), rate, 0, 0.5, 4);
  double mean = 0;
  for (std::size_t s = 5000; s < 15000; ++s) mean += lp.at(s, 0) / 10000;
  EXPECT_NEAR(mean, 3, 1e-3);
  EXPECT_NEAR(tone(lp, 0, rate, 0.1, 5000, 15000).first, 1 / (1 + std::pow(0.2, 8)), 1e-3);
  EXPECT_LT(tone(lp, 0, rate, 2.0, 5000, 15000).first, 1e-3);
  // High-pass at 1 Hz (high 0): the mean and 0.1 Hz go, 2 Hz stays.
  const Series hp = bandpass(x.view(), rate, 1.0, 0, 4);
  mean = 0;
  for (std::size_t s = 5000; s < 15000; ++s) mean += hp.at(s, 0) / 10000;
  EXPECT_NEAR(mean, 0, 1e-3);
  EXPECT_LT(tone(hp, 0, rate, 0.1, 5000, 15000).first, 1e-3);
  EXPECT_NEAR(tone(hp, 0, rate, 2.0, 5000, 15000).first, 1 / (1 + std::pow(0.5, 8)), 1e-3);
}

TEST(AnalysisSignalBandpass, RejectsBandsTheRateCannotCarry) {
  Series x(1000, 2, 1.0);  // 100 s at 10 Hz
  expect_input_error([&] { bandpass(x.view(), 10, 0.03, 6.0, 2); },
                     {"upper edge 6 Hz", "Nyquist frequency 5 Hz", "sampling rate 10 Hz"});
  expect_input_error([&] { bandpass(x.view(), 10, 0.5, 0.5, 2); }, {"lower edge 0.5 Hz", "below its upper edge"});
  expect_input_error([&] { bandpass(x.view(), 10, 0.8, 0.2, 2); }, {"lower edge 0.8 Hz"});
  expect_input_error([&] { bandpass(x.view(), 10, 0.001, 1.0, 2); }, {"lower edge 0.001 Hz", "100 s window"});
}

// ---------------------------------------------------------------- smoothing, detrending, resampling

TEST(AnalysisSignalSmoothing, MovingAverageCentredWithShortEnds) {
  Series x(5, 2);
  const double a[5] = {1, 2, 3, 4, 10}, b[5] = {-1, 0, 5, 0, -1};
  for (std::size_t s = 0; s < 5; ++s) x.at(s, 0) = a[s], x.at(s, 1) = b[s];
  const Series y = moving_average(x.view(), 3);
  const double ea[5] = {1.5, 2, 3, 17.0 / 3, 7}, eb[5] = {-0.5, 4.0 / 3, 5.0 / 3, 4.0 / 3, -0.5};
  for (std::size_t s = 0; s < 5; ++s) {
    EXPECT_NEAR(y.at(s, 0), ea[s], 1e-12);
    EXPECT_NEAR(y.at(s, 1), eb[s], 1e-12);
  }
  const Series z = moving_average(x.view(), 5);  // ends: 3 and 4 of 5 samples
  const double ez[5] = {2, 2.5, 4, 19.0 / 4, 17.0 / 3};
  for (std::size_t s = 0; s < 5; ++s) EXPECT_NEAR(z.at(s, 0), ez[s], 1e-12);
  EXPECT_THROW(moving_average(x.view(), 4), InputError);
  // A long series (past the running sum's restarts) against direct means.
  Series l(5000, 1);
  for (std::size_t s = 0; s < 5000; ++s) l.at(s, 0) = 1e3 + std::sin(0.01 * s) + 1e-3 * static_cast<double>(s % 7);
  const Series m = moving_average(l.view(), 101);
  for (std::size_t s : {0ul, 49ul, 50ul, 1023ul, 1024ul, 1025ul, 3000ul, 4999ul}) {
    const std::size_t lo = s >= 50 ? s - 50 : 0, hi = std::min<std::size_t>(4999, s + 50);
    double sum = 0;
    for (std::size_t k = lo; k <= hi; ++k) sum += l.at(k, 0);
    EXPECT_NEAR(m.at(s, 0), sum / static_cast<double>(hi - lo + 1), 1e-10) << "sample " << s;
  }
}

TEST(AnalysisSignalSmoothing, DetrendMeanAndLine) {
  Series x(4, 2);
  const double a[4] = {1, 3, 2, 6};
  for (std::size_t s = 0; s < 4; ++s) x.at(s, 0) = a[s], x.at(s, 1) = 5 - 2.0 * s;
  const Series m = detrend(x.view(), Detrend::mean);
  const double em[4] = {-2, 0, -1, 3};
  for (std::size_t s = 0; s < 4; ++s) EXPECT_NEAR(m.at(s, 0), em[s], 1e-12);
  // Least-squares line of {1, 3, 2, 6}: 3 + 1.4 (s - 1.5).
  const Series l = detrend(x.view(), Detrend::linear);
  const double el[4] = {0.1, 0.7, -1.7, 0.9};
  for (std::size_t s = 0; s < 4; ++s) {
    EXPECT_NEAR(l.at(s, 0), el[s], 1e-12);
    EXPECT_NEAR(l.at(s, 1), 0.0, 1e-12);  // a line leaves nothing
  }
  const Series none = detrend(x.view(), Detrend::none);
  EXPECT_EQ(none.v, x.v);
}

TEST(AnalysisSignalSmoothing, DecimateBlockMeansDropsThePartialBlock) {
  Series x(7, 2);
  for (std::size_t s = 0; s < 7; ++s) x.at(s, 0) = s + 1.0, x.at(s, 1) = s % 2 ? 1 : -1;
  const Series d = decimate(x.view(), 3);
  ASSERT_EQ(d.samples, 2u);
  EXPECT_DOUBLE_EQ(d.at(0, 0), 2);
  EXPECT_DOUBLE_EQ(d.at(1, 0), 5);
  EXPECT_DOUBLE_EQ(d.at(0, 1), -1.0 / 3);
  EXPECT_DOUBLE_EQ(d.at(1, 1), 1.0 / 3);
  EXPECT_THROW(decimate(x.view(), 0), InputError);
}

// ---------------------------------------------------------------- preprocess

TEST(AnalysisSignalPreprocess, RejectsBrokenInputSayingWhere) {
  const std::vector<double> t = uniform_time(100, 10);  // 0 .. 9.9 s
  Series x(100, 3, 1.0);
  for (std::size_t s = 0; s < 100; ++s) x.at(s, 2) = std::sin(0.1 * s);
  Options o;
  x.at(12, 1) = NAN;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"cell 1 has NaN at t = 1.2 s"});
  x.at(12, 1) = INFINITY;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"cell 1", "infinite", "t = 1.2 s"});
  // Outside the window the bad value does not matter.
  o.from_s = 2;
  EXPECT_NO_THROW(preprocess(t, x.view(), o));
  x.at(12, 1) = 1;
  o.from_s = -1;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"[-1, 9.9] s", "time range [0, 9.9] s"});
  o.from_s = 5, o.to_s = 20;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"time range [0, 9.9] s"});
  o.from_s = 5, o.to_s = 4;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"[5, 4] s"});
  o = Options{};
  o.sampling_hz = 20;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"20 Hz", "above the data's sampling rate 10 Hz"});
  o = Options{};
  std::vector<double> bad = t;
  bad[50] += 0.03;
  expect_input_error([&] { preprocess(bad, x.view(), o); }, {"not uniform"});
  Series few(3, 1, 1.0);
  expect_input_error([&] { preprocess({0, 1, 2}, few.view(), o); }, {"at least 4"});
  o.band = Band::fast;
  o.fast_high_hz = 6;
  expect_input_error([&] { preprocess(t, x.view(), o); }, {"Nyquist"});
}

TEST(AnalysisSignalPreprocess, WindowAndBlockMeanResampling) {
  const std::vector<double> t = uniform_time(100, 10, 100.0);  // 100 .. 109.9 s
  Series x(100, 2);
  for (std::size_t s = 0; s < 100; ++s) x.at(s, 0) = static_cast<double>(s * s), x.at(s, 1) = std::cos(0.3 * s);
  Options o;
  o.from_s = 102, o.to_s = 105;  // samples 20 .. 50
  Preprocessed p = preprocess(t, x.view(), o);
  ASSERT_EQ(p.time.size(), 31u);
  EXPECT_DOUBLE_EQ(p.time[0], t[20]);
  EXPECT_DOUBLE_EQ(p.signal.at(30, 0), 2500);
  EXPECT_NEAR(p.rate_hz, 10, 1e-9);
  o.sampling_hz = 2;  // blocks of 5: 6 blocks, the last sample dropped
  p = preprocess(t, x.view(), o);
  ASSERT_EQ(p.signal.samples, 6u);
  EXPECT_NEAR(p.rate_hz, 2, 1e-9);
  for (std::size_t b = 0; b < 6; ++b) {
    EXPECT_NEAR(p.time[b], 102 + 0.5 * b + 0.2, 1e-9);  // the block's mean sample time
    double mean = 0;
    for (std::size_t k = 0; k < 5; ++k) mean += static_cast<double>((20 + 5 * b + k) * (20 + 5 * b + k)) / 5;
    EXPECT_NEAR(p.signal.at(b, 0), mean, 1e-9);
  }
  // Smoothing: 0.3 s at 10 Hz = 3 samples, after mean removal.
  o = Options{};
  o.detrend = Detrend::mean;
  o.smooth_s = 0.3;
  p = preprocess(t, x.view(), o);
  double mean1 = 0;
  for (std::size_t s = 0; s < 100; ++s) mean1 += x.at(s, 1) / 100;
  EXPECT_NEAR(p.signal.at(40, 1), (x.at(39, 1) + x.at(40, 1) + x.at(41, 1)) / 3 - mean1, 1e-12);
}

TEST(AnalysisSignalPreprocess, ExcludesFlatCells) {
  const std::vector<double> t = uniform_time(200, 10);
  Series x(200, 5);
  for (std::size_t s = 0; s < 200; ++s) {
    x.at(s, 0) = std::sin(0.2 * s);
    x.at(s, 1) = -60.0;                          // flat with an offset: SD exactly 0
    x.at(s, 2) = 2 * std::cos(0.13 * s);
    x.at(s, 3) = 0.5 + 1e-5 * std::sin(0.2 * s); // 1e-5 of the others' SD: below 1e-3 of the median
    x.at(s, 4) = 0.8 * std::sin(0.05 * s + 1);
  }
  const Preprocessed p = preprocess(t, x.view(), Options{});
  const std::vector<std::uint8_t> expect = {0, 1, 0, 1, 0};
  EXPECT_EQ(p.excluded, expect);
  // Default options: the signal is the window itself.
  EXPECT_EQ(p.signal.v, x.v);
}

// ---------------------------------------------------------------- binarisation and activity

namespace {

// A train of raised-cosine pulses (height 1, width w) starting at `starts`,
// sampled at `rate` over [0, duration); one column per entry of `scales`
// (the trace of column c is offset + scales[c] * train).
Series pulse_train(const std::vector<double>& starts, double w, double rate, double duration,
                   std::vector<double> scales = {1.0}, double offset = 0) {
  const std::size_t n = static_cast<std::size_t>(duration * rate);
  Series x(n, scales.size());
  for (std::size_t s = 0; s < n; ++s) {
    const double t = static_cast<double>(s) / rate;
    double v = 0;
    for (double t0 : starts) v += pulse(t, t0, w);
    for (std::size_t c = 0; c < scales.size(); ++c) x.at(s, c) = offset + scales[c] * v;
  }
  return x;
}

}  // namespace

TEST(AnalysisSignalBinarize, HalfAmplitudeRecoversOnsetsAndDurations) {
  // Pulses of 8 s: above half height over [t0 + 2, t0 + 6] s.
  const double rate = 10, w = 8;
  const std::vector<double> starts = {10.03, 31.57, 50.21, 72.88};
  const Series x = pulse_train(starts, w, rate, 100, {1.0, 3.0, 2.0}, -60);
  const std::vector<double> t = uniform_time(x.samples, rate);
  Options o;
  const auto bin = binarize(x, rate, o, {0, 0, 1});
  for (std::size_t c = 0; c < 2; ++c) {
    const auto r = runs(bin, x.samples, x.cells, c);
    ASSERT_EQ(r.size(), starts.size());
    for (std::size_t k = 0; k < r.size(); ++k) {
      EXPECT_NEAR(t[r[k].first], starts[k] + w / 4, 1 / rate);
      EXPECT_NEAR((r[k].second - r[k].first + 1) / rate, w / 2, 2 / rate);
    }
  }
  EXPECT_TRUE(runs(bin, x.samples, x.cells, 2).empty()) << "excluded cells are all 0";
  const Activity a = activity(t, x, bin, {}, Traces{nullptr, 0, 3}, NAN, o, {0, 0, 1});
  ASSERT_EQ(a.onsets[0].size(), starts.size());
  for (std::size_t k = 0; k < starts.size(); ++k) EXPECT_NEAR(a.onsets[0][k], starts[k] + w / 4, 1 / rate);
  // Interpolated onsets are far better than a sample here (smooth crossings).
  for (std::size_t k = 0; k < starts.size(); ++k) EXPECT_NEAR(a.onsets[1][k], starts[k] + w / 4, 0.01);
  EXPECT_NEAR(a.mean_duration_s[0], w / 2, 2 / rate);
  EXPECT_EQ(a.n_oscillations[0], 4u);
  EXPECT_NEAR(a.frequency_hz[0], 4 / 100.0, 1e-12);
  EXPECT_NEAR(a.relative_active_time[0], 4 * (w / 2) / 100, 4 * 2 / rate / 100);
  EXPECT_TRUE(std::isnan(a.relative_active_time[2]));
  EXPECT_TRUE(std::isnan(a.mean_interval_s[2]));
  EXPECT_EQ(a.n_oscillations[2], 0u);
  EXPECT_TRUE(a.onsets[2].empty());
  // Dropping episodes shorter than 5 s removes all of them; 3 s keeps them.
  o.min_active_s = 5;
  EXPECT_TRUE(runs(binarize(x, rate, o, {}), x.samples, x.cells, 0).empty());
  o.min_active_s = 3;
  EXPECT_EQ(runs(binarize(x, rate, o, {}), x.samples, x.cells, 0).size(), 4u);
}

TEST(AnalysisSignalBinarize, SlopeNeedsAFastRiseAndTheLevel) {
  // Fast pulses (8 s) and one slow bump (60 s) of the same height: the slow
  // rise never passes the slope threshold, so only the fast pulses are active.
  // Level 0.3 of the range: a raised cosine is above it for phase in
  // [acos(0.4), 2 pi - acos(0.4)].
  const double rate = 10, w = 8;
  const std::vector<double> fast = {10.03, 31.57, 50.21};
  Series x = pulse_train(fast, w, rate, 200);
  for (std::size_t s = 0; s < x.samples; ++s) x.at(s, 0) += pulse(static_cast<double>(s) / rate, 110, 60);
  const std::vector<double> t = uniform_time(x.samples, rate);
  Options o;
  o.binarize = BinarizeMethod::slope;
  o.slope_k = 1.5;
  o.min_amplitude = 0.3;
  const auto bin = binarize(x, rate, o, {});
  const double lead = w * std::acos(0.4) / (2 * kPi), dur = w - 2 * lead;
  const auto r = runs(bin, x.samples, 1, 0);
  ASSERT_EQ(r.size(), fast.size());
  for (std::size_t k = 0; k < r.size(); ++k) {
    EXPECT_NEAR(t[r[k].first], fast[k] + lead, 1 / rate);
    EXPECT_NEAR((r[k].second - r[k].first + 1) / rate, dur, 2 / rate);
  }
  const Activity a = activity(t, x, bin, {}, Traces{nullptr, 0, 1}, NAN, o, {});
  ASSERT_EQ(a.onsets[0].size(), fast.size());
  for (std::size_t k = 0; k < fast.size(); ++k) EXPECT_NEAR(a.onsets[0][k], fast[k] + lead, 0.02);
  // The half-amplitude rule, by contrast, takes the slow bump too.
  o.binarize = BinarizeMethod::half_amplitude;
  EXPECT_EQ(runs(binarize(x, rate, o, {}), x.samples, 1, 0).size(), fast.size() + 1);
}

TEST(AnalysisSignalBinarize, ProminenceActiveOverTheHalfProminenceWidth) {
  // Pulses of height 1 from 0; a small bump (prominence 0.2, below 0.3 of
  // the range 1.5) that must stay inactive; on a 0.5 plateau (90 .. 130 s) a
  // pulse of 0.5 and then one of 1.0. The higher one bounds the first's
  // prominence to 0.5 (its base is the plateau): active above 0.75, from a
  // quarter to three quarters of its width. The higher one (prominence 1.5)
  // is active above 0.75 too: pulse >= 0.25, phase in [pi/3, 5 pi/3].
  const double rate = 10, w = 8;
  const std::vector<double> starts = {10.03, 31.57};
  Series x = pulse_train(starts, w, rate, 150);
  for (std::size_t s = 0; s < x.samples; ++s) {
    const double t = static_cast<double>(s) / rate;
    x.at(s, 0) += 0.2 * pulse(t, 60, w);
    if (t >= 90 && t <= 130) x.at(s, 0) += 0.5;  // plateau (steps at 90 and 130 s)
    x.at(s, 0) += 0.5 * pulse(t, 105.11, w) + pulse(t, 118.07, w);
  }
  const std::vector<double> t = uniform_time(x.samples, rate);
  Options o;
  o.binarize = BinarizeMethod::prominence;
  const auto bin = binarize(x, rate, o, {});
  const auto r = runs(bin, x.samples, 1, 0);
  const std::vector<double> on = {starts[0] + w / 4, starts[1] + w / 4, 105.11 + w / 4, 118.07 + w / 6};
  const std::vector<double> dur = {w / 2, w / 2, w / 2, 2 * w / 3};
  ASSERT_EQ(r.size(), on.size());
  for (std::size_t k = 0; k < r.size(); ++k) {
    EXPECT_NEAR(t[r[k].first], on[k], 1 / rate);
    EXPECT_NEAR((r[k].second - r[k].first + 1) / rate, dur[k], 2 / rate);
  }
  const Activity a = activity(t, x, bin, {}, Traces{nullptr, 0, 1}, NAN, o, {});
  ASSERT_EQ(a.onsets[0].size(), on.size());
  for (std::size_t k = 0; k < on.size(); ++k) EXPECT_NEAR(a.onsets[0][k], on[k], 0.01);
}

TEST(AnalysisSignalBinarize, ProminenceMatchesScipy) {
  // scipy 1.10: find_peaks(x, prominence=0.3 * (max - min)), peak_widths(rel_height=0.5),
  // active samples ceil(left_ips) .. floor(right_ips).
  const std::size_t n = 240;
  Series x(n, 1);
  for (std::size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(i);
    x.at(i, 0) = std::sin(0.37 * d) + 0.6 * std::sin(0.113 * d + 1) + 0.3 * std::cos(1.7 * d) + 0.002 * d;
  }
  Options o;
  o.binarize = BinarizeMethod::prominence;
  const auto r = runs(binarize(x, 1.0, o, {}), n, 1, 0);
  const std::vector<std::pair<std::size_t, std::size_t>> scipy = {
      {18, 23},   {36, 41},   {51, 60},   {69, 75},   {85, 93},   {103, 111}, {118, 127},
      {136, 144}, {155, 160}, {169, 178}, {188, 193}, {206, 211}, {221, 229}};
  EXPECT_EQ(r, scipy);
}

TEST(AnalysisSignalActivity, FrequencyIntervalsAndTheirVariation) {
  const double rate = 10, w = 4;
  // Periodic (every 20 s) in column 0, intervals 10, 20, 30 s in column 1
  // (mean 20, population SD sqrt(200 / 3), CV 0.40825).
  const std::vector<double> per = {5.02, 25.02, 45.02, 65.02, 85.02}, var = {5.02, 15.02, 35.02, 65.02};
  const Series a0 = pulse_train(per, w, rate, 100), a1 = pulse_train(var, w, rate, 100);
  Series x(a0.samples, 2);
  for (std::size_t s = 0; s < x.samples; ++s) x.at(s, 0) = a0.at(s, 0), x.at(s, 1) = a1.at(s, 0);
  const std::vector<double> t = uniform_time(x.samples, rate);
  Options o;
  const auto bin = binarize(x, rate, o, {});
  const Activity a = activity(t, x, bin, {}, Traces{nullptr, 0, 2}, 30.0, o, {});
  EXPECT_NEAR(a.frequency_hz[0], 5 / 100.0, 1e-12);
  EXPECT_NEAR(a.mean_interval_s[0], 20, 1e-6);
  EXPECT_NEAR(a.interval_cv[0], 0, 1e-6);
  EXPECT_NEAR(a.mean_duration_s[0], w / 2, 2 / rate);
  EXPECT_NEAR(a.mean_interval_s[1], 20, 1e-6);
  EXPECT_NEAR(a.interval_cv[1], std::sqrt(200.0 / 3) / 20, 1e-6);
  // First onset at or after the stimulus (30 s): 45.02 + 1 and 35.02 + 1, relative to 30.
  EXPECT_NEAR(a.first_onset_s[0], 16.02, 0.01);
  EXPECT_NEAR(a.first_onset_s[1], 6.02, 0.01);
  // Response columns need the full recording: none given, NaN.
  EXPECT_TRUE(std::isnan(a.response_latency_s[0]));

  // A window starting inside an episode and ending inside another: the first
  // is no onset (active time only), the last has an onset but no duration.
  Options w2;
  const Series y = pulse_train({-2, 10.03, 30.03, 50.03, 97}, w, rate, 100);
  const auto by = binarize(y, rate, w2, {});
  const Activity b = activity(t, y, by, {}, Traces{nullptr, 0, 1}, NAN, w2, {});
  ASSERT_EQ(b.onsets[0].size(), 4u);  // 10.03, 30.03, 50.03 and 97 (+ 1 s each)
  EXPECT_NEAR(b.onsets[0][3], 98, 0.01);
  EXPECT_EQ(b.n_oscillations[0], 4u);
  EXPECT_NEAR(b.mean_duration_s[0], w / 2, 2 / rate);  // the three complete ones
  std::size_t active = 0;
  for (auto v : by) active += v;
  EXPECT_TRUE(by[0]) << "active at the start (the pulse from -2 s)";
  EXPECT_DOUBLE_EQ(b.relative_active_time[0], static_cast<double>(active) / static_cast<double>(y.samples));
  EXPECT_TRUE(std::isnan(b.first_onset_s[0])) << "no stimulus";
  // Fewer than three onsets: no CV; fewer than two: no interval either.
  const Series z = pulse_train({10.03, 40.03}, w, rate, 100);
  const Activity c = activity(t, z, binarize(z, rate, w2, {}), {}, Traces{nullptr, 0, 1}, NAN, w2, {});
  EXPECT_NEAR(c.mean_interval_s[0], 30, 1e-6);
  EXPECT_TRUE(std::isnan(c.interval_cv[0]));
}

TEST(AnalysisSignalActivity, ResponseLatencyAndTimeToPlateauOfASigmoid) {
  // x = 1 / (1 + exp(-(t - 160) / 5)) at 2 Hz over 0 .. 400 s, stimulus at
  // 100 s: the half-maximum is reached at 160 s (latency 60 s); the trace
  // smoothed over 10.5 s (21 samples) reaches 0.9 at the root of the
  // analytic moving average of the logistic, (tau / W) [softplus((t + W/2 - 160) / tau)
  // - softplus((t - W/2 - 160) / tau)] = 0.9 (baseline ~0, plateau ~1).
  const double rate = 2, tau = 5, th = 160, stim = 100, W = 10.5;
  const std::size_t N = 801;
  const std::vector<double> ft = uniform_time(N, rate);
  Series full(N, 2);
  for (std::size_t s = 0; s < N; ++s) {
    const double v = 1 / (1 + std::exp(-(ft[s] - th) / tau));
    full.at(s, 0) = v;
    full.at(s, 1) = 10 + 4 * v;  // offset and scale change nothing
  }
  auto softplus = [](double u) { return u > 30 ? u : std::log1p(std::exp(u)); };
  auto smoothed = [&](double t) {
    return tau / W * (softplus((t + W / 2 - th) / tau) - softplus((t - W / 2 - th) / tau));
  };
  double lo = th, hi = th + 50;
  for (int i = 0; i < 100; ++i) (smoothed(0.5 * (lo + hi)) < 0.9 ? lo : hi) = 0.5 * (lo + hi);
  const double plateau = 0.5 * (lo + hi) - stim;  // about 71.9 s
  Options o;
  o.plateau_smooth_s = W;
  const std::vector<std::uint8_t> bin(N * 2, 0);
  const Activity a = activity(ft, full, bin, ft, full.view(), stim, o, {0, 0});
  for (std::size_t c = 0; c < 2; ++c) {
    EXPECT_NEAR(a.response_latency_s[c], th - stim, 1 / rate);
    EXPECT_NEAR(a.time_to_plateau_s[c], plateau, 1 / rate);
    EXPECT_TRUE(std::isnan(a.first_onset_s[c]));  // no active episodes
  }
  EXPECT_NEAR(a.time_to_plateau_s[0], plateau, 0.05);  // (the discrete mean is close to the continuous)
  // A stimulus before the recording has no baseline; excluded cells get NaN.
  const Activity b = activity(ft, full, bin, ft, full.view(), -50, o, {0, 1});
  EXPECT_TRUE(std::isnan(b.response_latency_s[0]));
  const Activity e = activity(ft, full, bin, ft, full.view(), stim, o, {0, 1});
  EXPECT_TRUE(std::isnan(e.response_latency_s[1]));
  EXPECT_NEAR(e.response_latency_s[0], th - stim, 1 / rate);
}

TEST(AnalysisSignalActivity, FindStimulus) {
  const std::vector<double> t = uniform_time(200, 1);
  std::vector<double> g(200);
  for (std::size_t s = 0; s < 200; ++s) g[s] = t[s] < 100 ? 3 : 11;
  // A step at 100 s (the first sample at 11 mM): placed at that sample,
  // not interpolated from 99 s (99.125 would lengthen every latency).
  EXPECT_DOUBLE_EQ(find_stimulus(t, g, 1.0), 100);
  // The same after a ramp has begun: 3 -> 3.5 at 99 s, 11 at 100 s: the
  // 4 mM level is crossed 1/15 of the way.
  g[99] = 3.5;
  EXPECT_DOUBLE_EQ(find_stimulus(t, g, 1.0), 99 + 0.5 / 7.5);
  // A ramp from 50 s at 0.1 mM/s: +1 mM at exactly 60 s; sampled every 0.3 s.
  const std::vector<double> t3 = uniform_time(400, 1 / 0.3);
  std::vector<double> r(400);
  for (std::size_t s = 0; s < 400; ++s) r[s] = 3 + 0.1 * std::max(0.0, t3[s] - 50);
  EXPECT_NEAR(find_stimulus(t3, r, 1.0), 60, 1e-9);
  EXPECT_TRUE(std::isnan(find_stimulus(t3, r, 100.0)));
  EXPECT_TRUE(std::isnan(find_stimulus({}, {}, 1.0)));
  EXPECT_TRUE(std::isnan(find_stimulus({0, 1, 2}, {NAN, NAN, NAN}, 1.0)));
  EXPECT_DOUBLE_EQ(find_stimulus({0, 1, 2, 3}, {NAN, 3, 3, 5}, 1.0), 3);                // leading NaN skipped; a step
  EXPECT_DOUBLE_EQ(find_stimulus({0, 1, 2, 3}, {NAN, 3, 3.5, 5}, 1.0), 2 + 0.5 / 1.5);  // a ramp
}
