// Calcium waves (find_waves): grouping of onsets, origins, initiators, speed,
// per-cell ranks and leader consistency, against synthetic waves whose
// answers are known by construction or computed by hand.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

using namespace isletsim;
using namespace isletsim::analysis;

namespace {

struct Lattice {
  std::size_t side = 0;
  std::vector<double> x, y, z;
  std::vector<std::int64_t> ix, iy, iz;  // integer coordinates (independent distance checks)
};

// side^3 cells, cell id = i + side (j + side k), spacing `h` um, offset in x.
Lattice cubic(std::size_t side, double h, double x0 = 0) {
  Lattice l;
  l.side = side;
  for (std::size_t k = 0; k < side; ++k)
    for (std::size_t j = 0; j < side; ++j)
      for (std::size_t i = 0; i < side; ++i) {
        l.ix.push_back(static_cast<std::int64_t>(i));
        l.iy.push_back(static_cast<std::int64_t>(j));
        l.iz.push_back(static_cast<std::int64_t>(k));
        l.x.push_back(x0 + h * static_cast<double>(i));
        l.y.push_back(h * static_cast<double>(j));
        l.z.push_back(h * static_cast<double>(k));
      }
  return l;
}

double distance(const Lattice& l, std::size_t a, std::size_t b) {
  const double dx = l.x[a] - l.x[b], dy = l.y[a] - l.y[b], dz = l.z[a] - l.z[b];
  return std::sqrt(dx * dx + dy * dy + dz * dz);
}

// Adds a radial wave from `origin` at speed v (um/s) starting at t0.
void add_radial_wave(const Lattice& l, std::size_t origin, double t0, double v,
                     std::vector<std::vector<double>>& onsets, std::size_t first_cell = 0) {
  for (std::size_t c = 0; c < l.x.size(); ++c) onsets[first_cell + c].push_back(t0 + distance(l, c, origin) / v);
}

void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown; expected one containing '" << pieces.front() << "'";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : pieces) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

const std::vector<double> kNone;

}  // namespace

TEST(AnalysisWaves, RadialWavesOnALatticeRecoverOriginSpeedDelaysInitiators) {
  const Lattice l = cubic(8, 10.0);
  const std::size_t n = l.x.size();
  const double v = 50.0;
  // Interior origins, none a corner, none cell 0.
  const std::vector<std::size_t> origins = {3 + 8 * (4 + 8 * 2), 5 + 8 * (2 + 8 * 6), 2 + 8 * (6 + 8 * 4)};
  const std::vector<double> t0 = {10, 40, 70};
  std::vector<std::vector<double>> onsets(n);
  for (std::size_t w = 0; w < 3; ++w) add_radial_wave(l, origins[w], t0[w], v, onsets);
  Options o;  // wave_dt_s 0.5, wave_dist_um 30: face neighbours are 10 um and 0.2 s apart
  const WaveResult r = find_waves(onsets, l.x, l.y, l.z, o, {});
  ASSERT_EQ(r.waves.size(), 3u);
  const std::size_t n_init = 52;  // ceil(0.1 * 512)
  for (std::size_t w = 0; w < 3; ++w) {
    const Wave& wave = r.waves[w];
    EXPECT_EQ(wave.origin, origins[w]);
    EXPECT_DOUBLE_EQ(wave.start_s, t0[w]);
    EXPECT_DOUBLE_EQ(wave.relative_size, 1.0);
    ASSERT_EQ(wave.cells.size(), n);
    EXPECT_NEAR(wave.speed_um_s, v, 1e-9 * v);
    // Expected activation order from integer squared distances, ties by id.
    std::vector<std::int64_t> d2(n);
    for (std::size_t c = 0; c < n; ++c) {
      const std::int64_t dx = l.ix[c] - l.ix[origins[w]], dy = l.iy[c] - l.iy[origins[w]],
                         dz = l.iz[c] - l.iz[origins[w]];
      d2[c] = dx * dx + dy * dy + dz * dz;
    }
    std::vector<std::uint32_t> order(n);
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) { return d2[a] < d2[b]; });
    EXPECT_EQ(wave.cells, order);
    ASSERT_EQ(wave.delays_s.size(), n);
    double max_delay = 0;
    for (std::size_t q = 0; q < n; ++q) {
      const double want = 10.0 * std::sqrt(static_cast<double>(d2[wave.cells[q]])) / v;
      EXPECT_NEAR(wave.delays_s[q], want, 1e-9) << "wave " << w << " position " << q;
      max_delay = std::max(max_delay, want);
    }
    EXPECT_NEAR(wave.duration_s, max_delay, 1e-9);
    EXPECT_EQ(wave.initiators, std::vector<std::uint32_t>(order.begin(), order.begin() + n_init));
  }
  for (std::size_t c = 0; c < n; ++c) EXPECT_EQ(r.participated[c], 3u);
  for (std::size_t w = 0; w < 3; ++w) EXPECT_EQ(r.initiated[origins[w]], 1u);
}

TEST(AnalysisWaves, SimultaneousWavesFarApartAreTwoWaves) {
  // Two 4x4x4 clusters 1000 um apart, a wave in each at the same time.
  const Lattice a = cubic(4, 10.0), b = cubic(4, 10.0, 1000.0);
  const std::size_t na = a.x.size();
  std::vector<double> x = a.x, y = a.y, z = a.z;
  x.insert(x.end(), b.x.begin(), b.x.end());
  y.insert(y.end(), b.y.begin(), b.y.end());
  z.insert(z.end(), b.z.begin(), b.z.end());
  std::vector<std::vector<double>> onsets(2 * na);
  add_radial_wave(a, 21, 5.0, 50.0, onsets);      // origin 21 in cluster a
  add_radial_wave(b, 5, 5.0, 50.0, onsets, na);   // origin 64 + 5 in cluster b
  const WaveResult r = find_waves(onsets, x, y, z, Options{}, {});
  ASSERT_EQ(r.waves.size(), 2u);
  // Same start: the lower origin first.
  EXPECT_EQ(r.waves[0].origin, 21u);
  EXPECT_EQ(r.waves[1].origin, na + 5);
  for (std::size_t w = 0; w < 2; ++w) {
    EXPECT_DOUBLE_EQ(r.waves[w].start_s, 5.0);
    EXPECT_DOUBLE_EQ(r.waves[w].relative_size, 0.5);
    ASSERT_EQ(r.waves[w].cells.size(), na);
    for (std::uint32_t c : r.waves[w].cells) EXPECT_EQ(c >= na, w == 1) << "cell " << c << " in wave " << w;
  }
}

TEST(AnalysisWaves, ScatteredOnsetsCloseInTimeFormNoWave) {
  // Cells on a 40 um grid, jittered by up to 4 um: no pair within 30 um,
  // though neighbours are well within twice that.
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> jitter(-4, 4), when(3.0, 3.3);
  std::vector<double> x, y, z;
  std::vector<std::vector<double>> onsets;
  for (int i = 0; i < 5; ++i)
    for (int j = 0; j < 5; ++j)
      for (int k = 0; k < 2; ++k) {
        x.push_back(40 * i + jitter(rng)), y.push_back(40 * j + jitter(rng)), z.push_back(40 * k + jitter(rng));
        onsets.push_back({when(rng)});
      }
  const std::size_t n = x.size();
  EXPECT_TRUE(find_waves(onsets, x, y, z, Options{}, {}).waves.empty());
  // Not a filtering artefact: with no size limit every onset is its own wave.
  Options all;
  all.wave_min_size = 0;
  const WaveResult singles = find_waves(onsets, x, y, z, all, {});
  ASSERT_EQ(singles.waves.size(), n);
  for (const Wave& w : singles.waves) {
    EXPECT_EQ(w.cells.size(), 1u);
    EXPECT_TRUE(std::isnan(w.speed_um_s));
    EXPECT_EQ(w.initiators, w.cells);
  }
  for (std::size_t k = 1; k < n; ++k) EXPECT_LE(singles.waves[k - 1].start_s, singles.waves[k].start_s);
  // Without positions, time alone links them: one wave of every cell.
  const WaveResult timed = find_waves(onsets, kNone, kNone, kNone, Options{}, {});
  ASSERT_EQ(timed.waves.size(), 1u);
  EXPECT_EQ(timed.waves[0].cells.size(), n);
  EXPECT_TRUE(std::isnan(timed.waves[0].speed_um_s));
}

TEST(AnalysisWaves, MinimumSizeCountsKeptCells) {
  // 20 cells on a line, 10 um apart; only adjacent cells link (15 um).
  const std::size_t n = 20;
  std::vector<double> x(n), y(n, 0.0), z(n, 0.0);
  for (std::size_t c = 0; c < n; ++c) x[c] = 10.0 * static_cast<double>(c);
  std::vector<std::vector<double>> onsets(n);
  for (std::size_t c = 0; c <= 8; ++c) onsets[c].push_back(1.0 + 0.1 * static_cast<double>(c));  // 9 cells: 45%
  for (std::size_t c = 10; c <= 17; ++c) onsets[c].push_back(20.0 + 0.1 * static_cast<double>(c));  // 8 cells: 40%
  onsets[19].push_back(20.0);  // an excluded cell, later
  Options o;
  o.wave_dist_um = 15;
  WaveResult r = find_waves(onsets, x, y, z, o, {});
  ASSERT_EQ(r.waves.size(), 1u);  // 9 >= 0.45 * 20 kept, 8 dropped
  EXPECT_EQ(r.waves[0].origin, 0u);
  EXPECT_DOUBLE_EQ(r.waves[0].relative_size, 9.0 / 20.0);
  EXPECT_NEAR(r.waves[0].speed_um_s, 100.0, 1e-9);
  // Excluding cells 9, 18 and 19 leaves 17 kept: 8 >= 0.45 * 17 = 7.65.
  std::vector<std::uint8_t> excluded(n, 0);
  excluded[9] = excluded[18] = excluded[19] = 1;
  r = find_waves(onsets, x, y, z, o, excluded);
  ASSERT_EQ(r.waves.size(), 2u);
  EXPECT_DOUBLE_EQ(r.waves[1].relative_size, 8.0 / 17.0);
  EXPECT_EQ(r.waves[1].origin, 10u);  // cell 19's onset is ignored
  EXPECT_EQ(r.waves[1].cells.size(), 8u);
  EXPECT_EQ(r.participated[19], 0u);
  EXPECT_TRUE(std::isnan(r.mean_rank[19]));
  // A higher limit drops both.
  o.wave_min_size = 0.6;
  EXPECT_TRUE(find_waves(onsets, x, y, z, o, excluded).waves.empty());
}

TEST(AnalysisWaves, CountsAreTakenAsDecimalFractions) {
  // 0.55 * 100 and 0.07 * 100 are 55.00000000000001 and 7.000000000000001 in
  // binary: a wave of exactly 55 of 100 cells is kept, and 7% of 100 cells
  // are 7 initiators.
  const std::size_t n = 100;
  std::vector<double> x(n), y(n, 0.0), z(n, 0.0);
  std::vector<std::vector<double>> onsets(n);
  for (std::size_t c = 0; c < n; ++c) {
    x[c] = 10.0 * static_cast<double>(c);
    onsets[c].push_back(0.2 * static_cast<double>(c));
    if (c < 55) onsets[c].push_back(100.0 + 0.2 * static_cast<double>(c));
  }
  Options o;
  o.wave_dist_um = 15;
  o.wave_min_size = 0.55;
  o.initiator_fraction = 0.07;
  const WaveResult r = find_waves(onsets, x, y, z, o, {});
  ASSERT_EQ(r.waves.size(), 2u);
  EXPECT_EQ(r.waves[0].initiators, (std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.waves[1].cells.size(), 55u);
  EXPECT_EQ(r.waves[1].initiators.size(), 4u);  // ceil(3.85)
}

TEST(AnalysisWaves, CellJoinsAWaveOnceWithItsEarliestOnset) {
  // 10 cells on a line, 10 um apart, a wave at 50 um/s; cell 3 fires again
  // at 1.0 s, linked to cell 4 (0.8 s) inside the same wave. Along each axis,
  // both ways (neighbours on either side must be found).
  const std::size_t n = 10;
  for (int axis = 0; axis < 3; ++axis)
    for (double sign : {1.0, -1.0}) {
      SCOPED_TRACE("axis " + std::to_string(axis) + " sign " + std::to_string(sign));
      std::vector<std::vector<double>> p(3, std::vector<double>(n, 5.0));
      std::vector<std::vector<double>> onsets(n);
      for (std::size_t c = 0; c < n; ++c) {
        p[axis][c] = sign * 10.0 * static_cast<double>(c);
        onsets[c].push_back(0.2 * static_cast<double>(c));
      }
      onsets[3].insert(onsets[3].begin(), 1.0);  // unsorted input on purpose
      Options o;
      o.wave_dist_um = 15;
      o.wave_min_size = 0;  // the dropped onset must not form a wave of its own either
      const WaveResult r = find_waves(onsets, p[0], p[1], p[2], o, {});
      ASSERT_EQ(r.waves.size(), 1u);
      const Wave& w = r.waves[0];
      std::vector<std::uint32_t> order(n);
      std::iota(order.begin(), order.end(), 0u);
      EXPECT_EQ(w.cells, order);
      EXPECT_NEAR(w.delays_s[3], 0.6, 1e-12);
      EXPECT_NEAR(w.duration_s, 1.8, 1e-12);
      EXPECT_NEAR(w.speed_um_s, 50.0, 1e-9);
      EXPECT_EQ(r.participated[3], 1u);
    }
}

TEST(AnalysisWaves, PerCellRanksAndLeaderConsistencyByHand) {
  // No positions (time only). Waves 10 s apart; cell 4 never fires.
  //   wave 1 (t 0):  0 1 2 3     wave 2 (t 10): 1 0 2     wave 3 (t 20): 0 1 2 3
  std::vector<std::vector<double>> onsets = {{0.0, 10.1, 20.0}, {0.1, 10.0, 20.1}, {0.2, 10.2, 20.2}, {0.3, 20.3}, {}};
  Options o;
  o.wave_min_size = 0;
  o.initiator_fraction = 0.25;  // one initiator each: ceil(1), ceil(0.75), ceil(1)
  const WaveResult r = find_waves(onsets, kNone, kNone, kNone, o, {});
  ASSERT_EQ(r.waves.size(), 3u);
  EXPECT_EQ(r.waves[1].cells, (std::vector<std::uint32_t>{1, 0, 2}));
  EXPECT_EQ(r.initiated, (std::vector<std::uint32_t>{2, 1, 0, 0, 0}));
  EXPECT_EQ(r.participated, (std::vector<std::uint32_t>{3, 3, 3, 2, 0}));
  // Ranks: cell 0: 0, 1/2, 0; cell 1: 1/3, 0, 1/3; cell 2: 2/3, 1, 2/3; cell 3: 1, 1.
  EXPECT_NEAR(r.mean_rank[0], 1.0 / 6.0, 1e-12);
  EXPECT_NEAR(r.rank_sd[0], std::sqrt(1.0 / 18.0), 1e-12);
  EXPECT_NEAR(r.mean_rank[1], 2.0 / 9.0, 1e-12);
  EXPECT_NEAR(r.rank_sd[1], std::sqrt(2.0) / 9.0, 1e-12);
  EXPECT_NEAR(r.mean_rank[2], 7.0 / 9.0, 1e-12);
  EXPECT_NEAR(r.rank_sd[2], std::sqrt(2.0) / 9.0, 1e-12);
  EXPECT_DOUBLE_EQ(r.mean_rank[3], 1.0);
  EXPECT_DOUBLE_EQ(r.rank_sd[3], 0.0);
  EXPECT_TRUE(std::isnan(r.mean_rank[4]) && std::isnan(r.rank_sd[4]));
  // Common cells 0, 1, 2 in both pairs, one swap each: rho = 1 - 6 * 2 / (3 * 8) = 0.5.
  EXPECT_NEAR(r.leader_consistency, 0.5, 1e-12);

  // Identical orders: 1. Reversed each time: -1.
  std::vector<std::vector<double>> same(5), flip(5);
  for (std::size_t c = 0; c < 5; ++c)
    for (int w = 0; w < 3; ++w) {
      same[c].push_back(10.0 * w + 0.1 * static_cast<double>(c));
      flip[c].push_back(10.0 * w + 0.1 * static_cast<double>(w % 2 ? 4 - c : c));
    }
  EXPECT_DOUBLE_EQ(find_waves(same, kNone, kNone, kNone, o, {}).leader_consistency, 1.0);
  EXPECT_DOUBLE_EQ(find_waves(flip, kNone, kNone, kNone, o, {}).leader_consistency, -1.0);
  // Fewer than three common cells in every pair: undefined.
  const std::vector<std::vector<double>> few = {{0.0, 10.0}, {0.1, 20.0}, {10.1, 20.1}};
  EXPECT_TRUE(std::isnan(find_waves(few, kNone, kNone, kNone, o, {}).leader_consistency));
}

TEST(AnalysisWaves, InputSizesAreChecked) {
  const std::vector<std::vector<double>> onsets(3, std::vector<double>{1.0});
  const std::vector<double> p3(3, 0.0), p4(4, 0.0);
  expect_input_error([&] { find_waves(onsets, p4, p3, p3, Options{}, {}); }, {"x", "4", "3"});
  expect_input_error([&] { find_waves(onsets, p3, p3, kNone, Options{}, {}); }, {"z", "0", "3"});
  expect_input_error([&] { find_waves(onsets, p3, p3, p3, Options{}, std::vector<std::uint8_t>(2, 0)); },
                     {"excluded", "2", "3"});
  Options bad;
  bad.wave_dt_s = 0;
  expect_input_error([&] { find_waves(onsets, p3, p3, p3, bad, {}); }, {"wave_dt_s"});
  expect_input_error([&] { find_waves({{1.0}, {NAN}, {2.0}}, p3, p3, p3, Options{}, {}); }, {"cell 1"});
  // Empty positions and empty excluded are accepted.
  EXPECT_NO_THROW(find_waves(onsets, kNone, kNone, kNone, Options{}, {}));
}

TEST(AnalysisWaves, TimingThousandCellsTwentyWaves) {
  // 10x10x10 lattice, 10 um, 20 radial waves 10 s apart from random origins
  // with onset noise; reports the time (not asserted).
  const Lattice l = cubic(10, 10.0);
  const std::size_t n = l.x.size();
  std::mt19937_64 rng(3);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::normal_distribution<double> noise(0.0, 0.02);
  std::vector<std::vector<double>> onsets(n);
  for (int w = 0; w < 20; ++w) {
    const std::size_t origin = pick(rng);
    for (std::size_t c = 0; c < n; ++c) onsets[c].push_back(10.0 * w + distance(l, c, origin) / 50.0 + noise(rng));
  }
  const auto t0 = std::chrono::steady_clock::now();
  const WaveResult r = find_waves(onsets, l.x, l.y, l.z, Options{}, {});
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ timing ] find_waves, 1000 cells x 20 onsets: %.2f ms, %zu waves\n", ms, r.waves.size());
  EXPECT_EQ(r.waves.size(), 20u);
}
