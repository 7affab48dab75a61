// Similarity matrices and the functional network: correlation and coactivity
// against direct per-pair loops, the network measures against networkx 2.8
// (values from tests/unit/analysis_graph_expected.py), thresholds, hubs,
// communities, the small-world coefficient and the structural comparison.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/error.hpp"

extern "C" void openblas_set_num_threads(int);
extern "C" int openblas_get_num_threads(void);

using namespace isletsim;
using namespace isletsim::analysis;

namespace {

using Edge = std::pair<std::uint32_t, std::uint32_t>;
struct Globals {
  double average_degree, average_clustering, transitivity, global_efficiency, largest_component, assortativity;
};

// ---- expected values: printed by tests/unit/analysis_graph_expected.py (networkx 2.8.8)
// Karate: 34 nodes, 78 edges
const std::vector<Edge> kKarateEdges = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 5}, {0, 6}, {0, 7}, {0, 8}, {0, 10},
    {0, 11}, {0, 12}, {0, 13}, {0, 17}, {0, 19}, {0, 21}, {0, 31}, {1, 2}, {1, 3}, {1, 7}, {1, 13}, {1, 17}, {1, 19},
    {1, 21}, {1, 30}, {2, 3}, {2, 7}, {2, 8}, {2, 9}, {2, 13}, {2, 27}, {2, 28}, {2, 32}, {3, 7}, {3, 12}, {3, 13},
    {4, 6}, {4, 10}, {5, 6}, {5, 10}, {5, 16}, {6, 16}, {8, 30}, {8, 32}, {8, 33}, {9, 33}, {13, 33}, {14, 32},
    {14, 33}, {15, 32}, {15, 33}, {18, 32}, {18, 33}, {19, 33}, {20, 32}, {20, 33}, {22, 32}, {22, 33}, {23, 25},
    {23, 27}, {23, 29}, {23, 32}, {23, 33}, {24, 25}, {24, 27}, {24, 31}, {25, 31}, {26, 29}, {26, 33}, {27, 33},
    {28, 31}, {28, 33}, {29, 32}, {29, 33}, {30, 32}, {30, 33}, {31, 32}, {31, 33}, {32, 33}};
// networkx.degree
const std::vector<double> kKarateDegree = {16.0, 9.0, 10.0, 6.0, 3.0, 4.0, 4.0, 4.0, 5.0, 2.0, 3.0, 1.0, 2.0, 5.0,
    2.0, 2.0, 2.0, 2.0, 2.0, 3.0, 2.0, 2.0, 2.0, 5.0, 3.0, 3.0, 2.0, 4.0, 3.0, 4.0, 4.0, 6.0, 12.0, 17.0};
// networkx.clustering
const std::vector<double> kKarateClustering = {0.15, 0.3333333333333333, 0.24444444444444444, 0.6666666666666666,
    0.6666666666666666, 0.5, 0.5, 1.0, 0.5, 0.0, 0.6666666666666666, 0.0, 1.0, 0.6, 1.0, 1.0, 1.0, 1.0, 1.0,
    0.3333333333333333, 1.0, 1.0, 1.0, 0.4, 0.3333333333333333, 0.3333333333333333, 1.0, 0.16666666666666666,
    0.3333333333333333, 0.6666666666666666, 0.5, 0.2, 0.19696969696969696, 0.11029411764705882};
// networkx.betweenness_centrality(normalized=True)
const std::vector<double> kKarateBetweenness = {0.43763528138528146, 0.053936688311688304, 0.14365680615680618,
    0.011909271284271283, 0.0006313131313131313, 0.02998737373737374, 0.029987373737373736, 0.0, 0.05592682780182781,
    0.0008477633477633478, 0.0006313131313131313, 0.0, 0.0, 0.04586339586339586, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.03247504810004811, 0.0, 0.0, 0.0, 0.017613636363636363, 0.0022095959595959595, 0.0038404882154882154, 0.0,
    0.02233345358345358, 0.0017947330447330447, 0.0029220779220779218, 0.014411976911976909, 0.13827561327561325,
    0.145247113997114, 0.30407497594997596};
// networkx.closeness_centrality (wf_improved=True)
const std::vector<double> kKarateCloseness = {0.5689655172413793, 0.4852941176470588, 0.559322033898305,
    0.4647887323943662, 0.3793103448275862, 0.38372093023255816, 0.38372093023255816, 0.44, 0.515625,
    0.4342105263157895, 0.3793103448275862, 0.36666666666666664, 0.3707865168539326, 0.515625, 0.3707865168539326,
    0.3707865168539326, 0.28448275862068967, 0.375, 0.3707865168539326, 0.5, 0.3707865168539326, 0.375,
    0.3707865168539326, 0.39285714285714285, 0.375, 0.375, 0.3626373626373626, 0.4583333333333333, 0.4520547945205479,
    0.38372093023255816, 0.4583333333333333, 0.5409836065573771, 0.515625, 0.55};
// average_degree: 2m / n
// average_clustering: networkx.average_clustering
// transitivity: networkx.transitivity
// global_efficiency: networkx.global_efficiency
// largest_component: largest networkx.connected_components / n
// assortativity: networkx.degree_assortativity_coefficient
const Globals kKarateGlobals = {4.588235294117647, 0.5706384782076823, 0.2556818181818182, 0.4920083184789052, 1.0,
    -0.47561309768461413};

// TwoGroups: 30 nodes, 183 edges
const std::vector<Edge> kTwoGroupsEdges = {{0, 1}, {0, 2}, {0, 3}, {0, 4}, {0, 6}, {0, 7}, {0, 8}, {0, 9}, {0, 11},
    {0, 12}, {0, 13}, {0, 14}, {0, 15}, {1, 2}, {1, 3}, {1, 4}, {1, 5}, {1, 7}, {1, 8}, {1, 9}, {1, 10}, {1, 12},
    {1, 13}, {1, 14}, {2, 3}, {2, 4}, {2, 5}, {2, 6}, {2, 8}, {2, 9}, {2, 10}, {2, 11}, {2, 13}, {2, 14}, {3, 4},
    {3, 5}, {3, 6}, {3, 7}, {3, 9}, {3, 10}, {3, 11}, {3, 12}, {3, 14}, {4, 5}, {4, 6}, {4, 7}, {4, 8}, {4, 10},
    {4, 11}, {4, 12}, {4, 13}, {5, 6}, {5, 7}, {5, 8}, {5, 9}, {5, 11}, {5, 12}, {5, 13}, {5, 14}, {5, 20}, {6, 7},
    {6, 8}, {6, 9}, {6, 10}, {6, 12}, {6, 13}, {6, 14}, {7, 8}, {7, 9}, {7, 10}, {7, 11}, {7, 13}, {7, 14}, {8, 9},
    {8, 10}, {8, 11}, {8, 12}, {8, 14}, {9, 10}, {9, 11}, {9, 12}, {9, 13}, {10, 11}, {10, 12}, {10, 13}, {10, 14},
    {10, 25}, {11, 12}, {11, 13}, {11, 14}, {12, 13}, {12, 14}, {13, 14}, {15, 16}, {15, 17}, {15, 18}, {15, 19},
    {15, 21}, {15, 22}, {15, 23}, {15, 24}, {15, 26}, {15, 27}, {15, 28}, {15, 29}, {16, 17}, {16, 18}, {16, 19},
    {16, 20}, {16, 22}, {16, 23}, {16, 24}, {16, 25}, {16, 27}, {16, 28}, {16, 29}, {17, 18}, {17, 19}, {17, 20},
    {17, 21}, {17, 23}, {17, 24}, {17, 25}, {17, 26}, {17, 28}, {17, 29}, {18, 19}, {18, 20}, {18, 21}, {18, 22},
    {18, 24}, {18, 25}, {18, 26}, {18, 27}, {18, 29}, {19, 20}, {19, 21}, {19, 22}, {19, 23}, {19, 25}, {19, 26},
    {19, 27}, {19, 28}, {20, 21}, {20, 22}, {20, 23}, {20, 24}, {20, 26}, {20, 27}, {20, 28}, {20, 29}, {21, 22},
    {21, 23}, {21, 24}, {21, 25}, {21, 27}, {21, 28}, {21, 29}, {22, 23}, {22, 24}, {22, 25}, {22, 26}, {22, 28},
    {22, 29}, {23, 24}, {23, 25}, {23, 26}, {23, 27}, {23, 29}, {24, 25}, {24, 26}, {24, 27}, {24, 28}, {25, 26},
    {25, 27}, {25, 28}, {25, 29}, {26, 27}, {26, 28}, {26, 29}, {27, 28}, {27, 29}, {28, 29}};
// networkx.degree
const std::vector<double> kTwoGroupsDegree = {13.0, 12.0, 12.0, 12.0, 12.0, 13.0, 12.0, 12.0, 12.0, 12.0, 13.0, 12.0,
    12.0, 12.0, 12.0, 13.0, 12.0, 12.0, 12.0, 12.0, 13.0, 12.0, 12.0, 12.0, 12.0, 13.0, 12.0, 12.0, 12.0, 12.0};
// networkx.clustering
const std::vector<double> kTwoGroupsClustering = {0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182, 0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182, 0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182, 0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182, 0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182, 0.6923076923076923, 0.8181818181818182, 0.8181818181818182,
    0.8181818181818182, 0.8181818181818182};
// networkx.betweenness_centrality(normalized=True)
const std::vector<double> kTwoGroupsBetweenness = {0.1527093596059113, 0.0030788177339901484, 0.0030788177339901484,
    0.0030788177339901484, 0.0030788177339901484, 0.1527093596059113, 0.0030788177339901484, 0.0030788177339901484,
    0.0030788177339901484, 0.0030788177339901484, 0.1527093596059113, 0.0030788177339901484, 0.0030788177339901484,
    0.0030788177339901484, 0.0030788177339901484, 0.1527093596059114, 0.003078817733990147, 0.003078817733990147,
    0.003078817733990147, 0.003078817733990147, 0.1527093596059114, 0.003078817733990147, 0.003078817733990147,
    0.003078817733990147, 0.003078817733990147, 0.1527093596059114, 0.003078817733990147, 0.003078817733990147,
    0.003078817733990147, 0.003078817733990147};
// networkx.closeness_centrality (wf_improved=True)
const std::vector<double> kTwoGroupsCloseness = {0.6170212765957447, 0.5, 0.5, 0.5, 0.5, 0.6170212765957447, 0.5, 0.5,
    0.5, 0.5, 0.6170212765957447, 0.5, 0.5, 0.5, 0.5, 0.6170212765957447, 0.5, 0.5, 0.5, 0.5, 0.6170212765957447, 0.5,
    0.5, 0.5, 0.5, 0.6170212765957447, 0.5, 0.5, 0.5, 0.5};
// average_degree: 2m / n
// average_clustering: networkx.average_clustering
// transitivity: networkx.transitivity
// global_efficiency: networkx.global_efficiency
// largest_component: largest networkx.connected_components / n
// assortativity: networkx.degree_assortativity_coefficient
const Globals kTwoGroupsGlobals = {12.2, 0.7930069930069926, 0.7894736842105263, 0.6528735632183902, 1.0,
    -0.17307692307685546};

// networkx.algorithms.community.modularity(G, [{0..14}, {15..29}])
const double kTwoGroupsModularity = 0.48360655737704916;

// Components: 9 nodes, 8 edges
const std::vector<Edge> kComponentsEdges = {{0, 1}, {0, 2}, {1, 2}, {2, 3}, {3, 4}, {5, 6}, {5, 7}, {6, 7}};
// networkx.degree
const std::vector<double> kComponentsDegree = {2.0, 2.0, 3.0, 2.0, 1.0, 2.0, 2.0, 2.0, 0.0};
// networkx.clustering
const std::vector<double> kComponentsClustering = {1.0, 1.0, 0.3333333333333333, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0};
// networkx.betweenness_centrality(normalized=True)
const std::vector<double> kComponentsBetweenness = {0.0, 0.0, 0.14285714285714285, 0.10714285714285714, 0.0, 0.0, 0.0,
    0.0, 0.0};
// networkx.closeness_centrality (wf_improved=True)
const std::vector<double> kComponentsCloseness = {0.2857142857142857, 0.2857142857142857, 0.4, 0.3333333333333333,
    0.2222222222222222, 0.25, 0.25, 0.25, 0.0};
// average_degree: 2m / n
// average_clustering: networkx.average_clustering
// transitivity: networkx.transitivity
// global_efficiency: networkx.global_efficiency
// largest_component: largest networkx.connected_components / n
// assortativity: networkx.degree_assortativity_coefficient
const Globals kComponentsGlobals = {1.7777777777777777, 0.5925925925925927, 0.6666666666666666, 0.28240740740740744,
    0.5555555555555556, -0.06666666666666667};


// Runs `f`, expects an InputError whose message contains every piece.
void expect_input_error(const std::function<void()>& f, const std::vector<std::string>& pieces) {
  try {
    f();
    ADD_FAILURE() << "no InputError thrown; expected one containing '" << pieces.front() << "'";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    for (const auto& p : pieces) EXPECT_NE(msg.find(p), std::string::npos) << "'" << p << "' not in: " << msg;
  }
}

Graph make_graph(std::size_t n, const std::vector<Edge>& edges) {
  Graph g;
  g.n = n;
  for (const auto& [a, b] : edges) g.i.push_back(a), g.j.push_back(b);
  return g;
}

// Traces with an offset of 1e3 (cancellation in the means), pairs of
// correlated columns, one flat column (3) and one excluded (5).
Series test_traces(std::size_t samples, std::size_t cells, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  Series x(samples, cells);
  for (std::size_t s = 0; s < samples; ++s) {
    const double slow = std::sin(0.01 * static_cast<double>(s));
    for (std::size_t c = 0; c < cells; ++c) {
      double v = noise(rng) * (0.5 + 0.05 * static_cast<double>(c % 7));
      if (c % 2 == 1) v = 0.8 * (x.at(s, c - 1) - 1e3) + 0.3 * v;  // correlated with its left neighbour
      if (c % 4 == 0) v += slow;                                    // a shared component
      x.at(s, c) = 1e3 + v;
    }
    if (cells > 3) x.at(s, 3) = 1e3 + 0.25;
  }
  return x;
}

// Two-pass Pearson correlation of columns a and b, pair by pair.
double pearson(const Series& x, std::size_t a, std::size_t b) {
  const auto m = static_cast<double>(x.samples);
  double ma = 0, mb = 0;
  for (std::size_t s = 0; s < x.samples; ++s) ma += x.at(s, a), mb += x.at(s, b);
  ma /= m, mb /= m;
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t s = 0; s < x.samples; ++s) {
    const double da = x.at(s, a) - ma, db = x.at(s, b) - mb;
    sab += da * db, saa += da * da, sbb += db * db;
  }
  return sab / std::sqrt(saa * sbb);
}

void expect_correlation_matches(const Series& x, const std::vector<std::uint8_t>& excluded,
                                const std::vector<std::size_t>& flat) {
  const auto c = correlation_matrix(x.view(), excluded);
  const std::size_t n = x.cells;
  ASSERT_EQ(c.size(), n * n);
  const auto zero_row = [&](std::size_t k) {
    return std::find(flat.begin(), flat.end(), k) != flat.end() || (!excluded.empty() && excluded[k]);
  };
  double worst = 0;
  for (std::size_t a = 0; a < n; ++a) {
    EXPECT_EQ(c[a * n + a], 1.0) << "cell " << a;
    for (std::size_t b = 0; b < n; ++b) {
      if (a == b) continue;
      EXPECT_EQ(c[a * n + b], c[b * n + a]);
      if (zero_row(a) || zero_row(b)) {
        EXPECT_EQ(c[a * n + b], 0.0) << a << ", " << b;
      } else {
        const double want = pearson(x, a, b);
        worst = std::max(worst, std::abs(c[a * n + b] - want));
        EXPECT_NEAR(c[a * n + b], want, 1e-12) << a << ", " << b;
      }
    }
  }
  std::printf("  largest deviation from the per-pair Pearson: %.3g\n", worst);
}

void expect_measures(const NetworkMeasures& r, const std::vector<std::size_t>& cells, const std::vector<double>& degree,
                     const std::vector<double>& clustering, const std::vector<double>& betweenness,
                     const std::vector<double>& closeness, const Globals& g) {
  const double max_degree = *std::max_element(degree.begin(), degree.end());
  for (std::size_t v = 0; v < cells.size(); ++v) {
    const std::size_t c = cells[v];
    EXPECT_EQ(r.degree[c], degree[v]) << "cell " << c;
    EXPECT_NEAR(r.normalized_degree[c], degree[v] / max_degree, 1e-15) << "cell " << c;
    EXPECT_NEAR(r.clustering[c], clustering[v], 1e-12) << "cell " << c;
    EXPECT_NEAR(r.betweenness[c], betweenness[v], 1e-12) << "cell " << c;
    EXPECT_NEAR(r.closeness[c], closeness[v], 1e-12) << "cell " << c;
  }
  EXPECT_NEAR(r.average_degree, g.average_degree, 1e-12);
  EXPECT_NEAR(r.average_clustering, g.average_clustering, 1e-12);
  EXPECT_NEAR(r.transitivity, g.transitivity, 1e-12);
  EXPECT_NEAR(r.global_efficiency, g.global_efficiency, 1e-12);
  EXPECT_NEAR(r.largest_component, g.largest_component, 1e-12);
  EXPECT_NEAR(r.assortativity, g.assortativity, 1e-12);
}

std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t k = 0; k < n; ++k) v[k] = k;
  return v;
}

}  // namespace

// ---------------------------------------------------------------- similarity

TEST(AnalysisSimilarity, CorrelationMatchesPerPairPearson) {
  const Series x = test_traces(3000, 40, 7);
  std::vector<std::uint8_t> excluded(40, 0);
  excluded[5] = 1;
  expect_correlation_matches(x, excluded, {3});
  // Without a mask: only the flat column is zeroed.
  expect_correlation_matches(x, {}, {3});
}

TEST(AnalysisSimilarity, CorrelationOverSeveralBlocks) {
  // 5 cells: 8192 samples per block, so 20,000 samples take three dsyrk calls.
  const Series x = test_traces(20000, 5, 11);
  expect_correlation_matches(x, {}, {3});
}

TEST(AnalysisSimilarity, CorrelationOfKnownShapes) {
  // x, -x, 2x + 5 and a quarter-period shifted sine over whole periods: +-1 and 0.
  Series x(400, 4);
  for (std::size_t s = 0; s < 400; ++s) {
    const double ph = 2 * M_PI * static_cast<double>(s) / 100;
    x.at(s, 0) = std::sin(ph);
    x.at(s, 1) = -std::sin(ph);
    x.at(s, 2) = 2 * std::sin(ph) + 5;
    x.at(s, 3) = std::cos(ph);
  }
  const auto c = correlation_matrix(x.view());
  EXPECT_NEAR(c[0 * 4 + 1], -1.0, 1e-14);
  EXPECT_NEAR(c[0 * 4 + 2], 1.0, 1e-14);
  EXPECT_NEAR(c[1 * 4 + 2], -1.0, 1e-14);
  EXPECT_NEAR(c[0 * 4 + 3], 0.0, 1e-14);
}

TEST(AnalysisSimilarity, CorrelationBitIdenticalWithOneTwoAndFourBlasThreads) {
  // 300 cells: not a multiple of OpenBLAS's tiles (unpadded, 1 and 2 threads
  // differ in the last bit of a few hundred entries).
  const Series x = test_traces(6000, 300, 3);
  const int before = openblas_get_num_threads();
  openblas_set_num_threads(1);
  const auto one = correlation_matrix(x.view());
  for (int threads : {2, 4}) {
    openblas_set_num_threads(threads);
    const auto more = correlation_matrix(x.view());
    ASSERT_EQ(one.size(), more.size());
    std::size_t differ = 0;
    for (std::size_t k = 0; k < one.size(); ++k) differ += one[k] != more[k];
    EXPECT_EQ(differ, 0u) << "entries that differ between 1 and " << threads << " OpenBLAS threads";
  }
  openblas_set_num_threads(before);
}

TEST(AnalysisSimilarity, CorrelationRejectsBadInput) {
  Series x = test_traces(100, 6, 1);
  expect_input_error([&] { correlation_matrix(x.view(), std::vector<std::uint8_t>(5, 0)); },
                     {"exclusion mask has 5 entries for 6 cells"});
  x.at(50, 2) = NAN;
  expect_input_error([&] { correlation_matrix(x.view()); }, {"cell 2", "non-finite"});
  // An excluded cell may hold anything.
  std::vector<std::uint8_t> excluded(6, 0);
  excluded[2] = 1;
  const auto c = correlation_matrix(x.view(), excluded);
  EXPECT_EQ(c[2 * 6 + 4], 0.0);
  EXPECT_EQ(c[2 * 6 + 2], 1.0);
}

TEST(AnalysisSimilarity, CoactivityMatchesDirectCounts) {
  const std::size_t samples = 700, cells = 25;
  std::mt19937_64 rng(5);
  std::vector<std::uint8_t> b(samples * cells);
  for (std::size_t s = 0; s < samples; ++s)
    for (std::size_t c = 0; c < cells; ++c) {
      // Cell 7 never active; odd cells follow their neighbour most of the time.
      const bool on = (rng() % 100) < 20 + 3 * c;
      b[s * cells + c] = c == 7 ? 0 : (c % 2 == 1 && rng() % 4 != 0) ? b[s * cells + c - 1] : on;
    }
  b[3 * cells + 11] = 5;  // any non-zero value is active
  const auto co = coactivity_matrix(b, samples, cells);
  ASSERT_EQ(co.size(), cells * cells);
  for (std::size_t i = 0; i < cells; ++i)
    for (std::size_t j = 0; j < cells; ++j) {
      double nij = 0, ni = 0, nj = 0;
      for (std::size_t s = 0; s < samples; ++s) {
        const bool ai = b[s * cells + i] != 0, aj = b[s * cells + j] != 0;
        nij += ai && aj, ni += ai, nj += aj;
      }
      const double want = i == j ? (ni > 0 ? 1.0 : 0.0) : (ni * nj > 0 ? nij / std::sqrt(ni * nj) : 0.0);
      EXPECT_NEAR(co[i * cells + j], want, 1e-15) << i << ", " << j;
    }
  EXPECT_EQ(co[7 * cells + 7], 0.0);
  expect_input_error([&] { coactivity_matrix(b, samples + 1, cells); }, {"expected samples x cells"});
}

TEST(AnalysisSimilarity, SimilarityByDistanceBinsKeptPairs) {
  // Cells on a line (y, z constant) at x = 0, 4, 9, 30 (excluded), 11; sim(a, b) = a + b / 10.
  const std::size_t n = 5;
  const std::vector<double> x = {0, 4, 9, 30, 11}, y(n, 2.0), z(n, -1.0);
  std::vector<double> sim(n * n, 1.0);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) sim[a * n + b] = sim[b * n + a] = a + b / 10.0;
  std::vector<std::uint8_t> excluded(n, 0);
  excluded[3] = 1;
  const auto p = similarity_by_distance(sim, n, x, y, z, 2.0, excluded);
  // Distances of the kept pairs: (0,1) 4, (0,2) 9, (0,4) 11, (1,2) 5, (1,4) 7, (2,4) 2;
  // the largest, 11, is in the last bin, [10, 12).
  ASSERT_EQ(p.bin_lo_um.size(), 6u);
  const std::vector<double> lo = {0, 2, 4, 6, 8, 10};
  const std::vector<std::uint64_t> pairs = {0, 1, 2, 1, 1, 1};
  const std::vector<double> mean = {NAN, 2.4, (0.1 + 1.2) / 2, 1.4, 0.2, 0.4};
  const std::vector<double> sd = {NAN, 0, (1.2 - 0.1) / 2, 0, 0, 0};
  for (std::size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(p.bin_lo_um[k], lo[k]);
    EXPECT_EQ(p.pairs[k], pairs[k]) << "bin " << k;
    if (std::isnan(mean[k])) {
      EXPECT_TRUE(std::isnan(p.mean[k]) && std::isnan(p.sd[k])) << "bin " << k;
    } else {
      EXPECT_NEAR(p.mean[k], mean[k], 1e-15) << "bin " << k;
      EXPECT_NEAR(p.sd[k], sd[k], 1e-15) << "bin " << k;
    }
  }
  EXPECT_TRUE(similarity_by_distance(sim, n, {}, {}, {}, 2.0, excluded).mean.empty());
  expect_input_error([&] { similarity_by_distance(sim, n, x, y, z, 0.0, excluded); }, {"positive width"});
  expect_input_error([&] { similarity_by_distance(sim, n, {1, 2}, y, z, 2.0, excluded); }, {"one per cell"});
}

// ---------------------------------------------------------------- thresholds

TEST(AnalysisGraph, ThresholdGraphKeepsKeptPairsAtOrAboveThreshold) {
  const std::size_t n = 4;
  // Upper triangle: (0,1) .9 (0,2) .5 (0,3) .7 (1,2) .5 (1,3) .95 (2,3) .2
  const std::vector<double> sim = {1, .9, .5, .7, .9, 1, .5, .95, .5, .5, 1, .2, .7, .95, .2, 1};
  const auto g = threshold_graph(sim, n, 0.5, {});
  EXPECT_EQ(g.n, n);
  EXPECT_EQ(g.i, (std::vector<std::uint32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(g.j, (std::vector<std::uint32_t>{1, 2, 3, 2, 3}));
  const auto h = threshold_graph(sim, n, 0.5, {0, 1, 0, 0});
  EXPECT_EQ(h.i, (std::vector<std::uint32_t>{0, 0}));
  EXPECT_EQ(h.j, (std::vector<std::uint32_t>{2, 3}));
}

TEST(AnalysisGraph, ThresholdForDegreeGivesExactEdgeCount) {
  const std::size_t n = 50;
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> sim(n * n, 1.0);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) sim[a * n + b] = sim[b * n + a] = u(rng);
  std::vector<std::uint8_t> excluded(n, 0);
  for (std::size_t c : {4, 17, 18, 30, 49}) excluded[c] = 1;
  for (const auto& [k, mask, kept, edges] :
       {std::tuple{6.0, std::vector<std::uint8_t>{}, 50, 150}, std::tuple{4.0, excluded, 45, 90},
        std::tuple{3.3, excluded, 45, 74}}) {  // round(3.3 * 45 / 2) = round(74.25)
    const double t = threshold_for_degree(sim, n, k, 0.5, mask);
    const auto g = threshold_graph(sim, n, t, mask);
    EXPECT_EQ(g.i.size(), static_cast<std::size_t>(edges)) << "k = " << k;
    // Independently: the edges-th largest similarity of the kept pairs, by a full sort.
    std::vector<double> all;
    for (std::size_t a = 0; a < n; ++a)
      for (std::size_t b = a + 1; b < n; ++b)
        if (mask.empty() || (!mask[a] && !mask[b])) all.push_back(sim[a * n + b]);
    ASSERT_EQ(all.size(), static_cast<std::size_t>(kept * (kept - 1) / 2));
    std::sort(all.rbegin(), all.rend());
    EXPECT_EQ(t, all[static_cast<std::size_t>(edges - 1)]);
  }
}

TEST(AnalysisGraph, ThresholdForDegreeRejectsUnreachableDegreesTiesAndNaN) {
  const std::size_t n = 10;
  std::vector<double> sim(n * n, 1.0);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) sim[a * n + b] = sim[b * n + a] = 0.01 * static_cast<double>(a * n + b);
  std::vector<std::uint8_t> excluded(n, 0);
  excluded[0] = 1;
  // 9 kept cells: degree 8 is the complete graph, reachable; 8.5 is not.
  EXPECT_EQ(threshold_graph(sim, n, threshold_for_degree(sim, n, 8, 0.5, excluded), excluded).i.size(), 36u);
  // Named as the config key, with the degrees the 9 kept cells allow.
  expect_input_error([&] { threshold_for_degree(sim, n, 9, 0.5, excluded); },
                     {"analysis.k_avg = 9 cannot be reached with 9 analysed cells (1 of the 10 cells excluded",
                      "expected an average degree from 0.222222 (a single edge) to 8 (every pair of cells connected)",
                      "smaller analysis.k_avg or a fixed analysis.threshold"});
  expect_input_error([&] { threshold_for_degree(sim, n, 0.05, 0.5, {}); },  // round(0.05 * 10 / 2) = 0 edges
                     {"analysis.k_avg = 0.05 is below the smallest average degree 10 analysed cells can have: "
                      "expected an average degree from 0.2 (a single edge) to 9",
                      "larger analysis.k_avg"});
  expect_input_error([&] { threshold_for_degree(sim, n, 0, 0.5, excluded); },
                     {"analysis.k_avg = 0: expected a finite number > 0"});
  std::vector<std::uint8_t> one_left(n, 1);
  one_left[3] = 0;
  expect_input_error([&] { threshold_for_degree(sim, n, 2, 0.5, one_left); },
                     {"analysis.k_avg = 2 cannot be reached with 1 analysed cell (9 of the 10 cells excluded",
                      "a functional network needs at least 2"});
  expect_input_error([&] { threshold_for_degree(sim, n, 2, -1, {}); }, {"analysis.k_tolerance = -1: expected"});
  // Ties: ten pairs share the strongest similarity, so 2 edges cannot be picked.
  std::vector<double> tied = sim;
  for (std::size_t b = 1; b < n; ++b) tied[b] = tied[b * n] = 5.0;
  tied[2 * n + 3] = tied[3 * n + 2] = 5.0;
  expect_input_error([&] { threshold_for_degree(tied, n, 0.4, 0.1, {}); },
                     {"analysis.k_avg = 0.4: a threshold of 5 (10 pairs tied", "average degree 2,",
                      "not 0.4 within analysis.k_tolerance = 0.1",
                      "fixed analysis.threshold or a larger analysis.k_tolerance"});
  // ... but a tolerance that admits them is fine.
  EXPECT_EQ(threshold_for_degree(tied, n, 0.4, 2.0, {}), 5.0);
  std::vector<double> with_nan = sim;
  with_nan[2 * n + 6] = with_nan[6 * n + 2] = NAN;
  expect_input_error([&] { threshold_for_degree(with_nan, n, 2, 0.5, {}); }, {"cells 2 and 6 is NaN"});
}

// ---------------------------------------------------------------- network measures

TEST(AnalysisGraph, MeasuresMatchNetworkxOnKarateClub) {
  const auto r = network_measures(make_graph(34, kKarateEdges), {}, Options{});
  expect_measures(r, iota(34), kKarateDegree, kKarateClustering, kKarateBetweenness, kKarateCloseness,
                  kKarateGlobals);
  // Hubs above 0.6 x the largest degree (17): degrees 16, 12, 17.
  for (std::size_t c = 0; c < 34; ++c) EXPECT_EQ(r.hub[c], c == 0 || c == 32 || c == 33) << "cell " << c;
  Options top;
  top.hub_rule = HubRule::top_fraction;
  top.hub_fraction = 0.1;  // ceil(3.4) = 4: degrees 17, 16, 12, 10
  const auto t = network_measures(make_graph(34, kKarateEdges), {}, top);
  for (std::size_t c = 0; c < 34; ++c) EXPECT_EQ(t.hub[c], c == 0 || c == 2 || c == 32 || c == 33) << "cell " << c;
  EXPECT_TRUE(std::isnan(r.mean_edge_length_um));
  EXPECT_GE(r.n_communities, 2u);
}

TEST(AnalysisGraph, MeasuresMatchNetworkxOnTwoGroupsAndLouvainFindsThem) {
  const Graph g = make_graph(30, kTwoGroupsEdges);
  const auto r = network_measures(g, {}, Options{});
  expect_measures(r, iota(30), kTwoGroupsDegree, kTwoGroupsClustering, kTwoGroupsBetweenness, kTwoGroupsCloseness,
                  kTwoGroupsGlobals);
  ASSERT_EQ(r.n_communities, 2u);
  for (std::size_t c = 0; c < 30; ++c) EXPECT_EQ(r.community[c], c < 15 ? 0 : 1) << "cell " << c;
  EXPECT_NEAR(r.modularity, kTwoGroupsModularity, 1e-12);
  // Top 10% of 30 is 3 cells (0.1 * 30 is 3.0000000000000004 in double): the
  // six of degree 13 tie, the lower ids win.
  Options top;
  top.hub_rule = HubRule::top_fraction;
  top.hub_fraction = 0.1;
  const auto t = network_measures(g, {}, top);
  for (std::size_t c = 0; c < 30; ++c) EXPECT_EQ(t.hub[c], c == 0 || c == 5 || c == 10) << "cell " << c;
}

TEST(AnalysisGraph, ExcludedCellsAreLeftOutOfEveryMeasure) {
  // The components graph (9 cells) plus a tenth, excluded cell with edges: the
  // kept cells must match networkx on the 9-cell graph.
  auto edges = kComponentsEdges;
  edges.push_back({9, 0});
  edges.push_back({4, 9});
  edges.push_back({1, 0});  // a duplicate, reversed
  std::vector<std::uint8_t> excluded(10, 0);
  excluded[9] = 1;
  std::vector<double> x(10), y(10, 1.0), z(10, 2.0);
  for (std::size_t c = 0; c < 10; ++c) x[c] = 3.0 * static_cast<double>(c);
  const auto r = network_measures(make_graph(10, edges), excluded, Options{}, x, y, z);
  expect_measures(r, iota(9), kComponentsDegree, kComponentsClustering, kComponentsBetweenness,
                  kComponentsCloseness, kComponentsGlobals);
  EXPECT_TRUE(std::isnan(r.degree[9]) && std::isnan(r.normalized_degree[9]) && std::isnan(r.clustering[9]) &&
              std::isnan(r.betweenness[9]) && std::isnan(r.closeness[9]));
  EXPECT_EQ(r.hub[9], 0);
  EXPECT_EQ(r.community[9], -1);
  for (std::size_t c = 0; c < 9; ++c) EXPECT_GE(r.community[c], 0);
  EXPECT_NE(r.community[8], r.community[0]);  // the isolated cell is alone
  // Edge lengths 3 |a - b|: 3, 6, 3, 3, 3, 3, 6, 3 over the eight kept edges.
  EXPECT_NEAR(r.mean_edge_length_um, 30.0 / 8, 1e-15);
}

TEST(AnalysisGraph, CommunitiesAreDeterministicPerSeed) {
  const Graph g = make_graph(34, kKarateEdges);
  Options o;
  o.seed = 42;
  const auto a = network_measures(g, {}, o);
  const auto b = network_measures(g, {}, o);
  EXPECT_EQ(a.community, b.community);
  EXPECT_EQ(a.modularity, b.modularity);
  EXPECT_EQ(a.small_world_sigma, b.small_world_sigma);
  // The reported modularity is that of the reported partition (Newman's
  // formula, sum over communities of L_c / m - (d_c / 2m)^2) ...
  const double m = static_cast<double>(kKarateEdges.size());
  std::vector<double> inside(a.n_communities, 0.0), ends(a.n_communities, 0.0);
  for (const auto& [u, v] : kKarateEdges) {
    if (a.community[u] == a.community[v]) inside[static_cast<std::size_t>(a.community[u])] += 1;
    ends[static_cast<std::size_t>(a.community[u])] += 1;
    ends[static_cast<std::size_t>(a.community[v])] += 1;
  }
  double q = 0;
  for (std::size_t k = 0; k < a.n_communities; ++k) q += inside[k] / m - (ends[k] / (2 * m)) * (ends[k] / (2 * m));
  EXPECT_NEAR(a.modularity, q, 1e-12);
  // ... and Louvain's local optima on the karate club lie between 0.39 and
  // the best partition's 0.4198.
  EXPECT_GT(a.modularity, 0.39);
  EXPECT_LE(a.modularity, 0.4198 + 1e-4);
  // Labels are numbered by first appearance in cell order.
  EXPECT_EQ(a.community[0], 0);
  EXPECT_EQ(*std::max_element(a.community.begin(), a.community.end()) + 1, static_cast<int>(a.n_communities));
}

TEST(AnalysisGraph, SmallWorldSigmaAboveOneForRingWithShortcuts) {
  // A ring of 100 cells, each linked to its 3 nearest on either side, plus 8 fixed shortcuts.
  std::vector<Edge> edges;
  for (std::uint32_t c = 0; c < 100; ++c)
    for (std::uint32_t d = 1; d <= 3; ++d) edges.push_back({c, (c + d) % 100});
  for (std::uint32_t k = 0; k < 8; ++k) edges.push_back({k * 12, (k * 12 + 50 + k) % 100});
  Options o;
  o.n_random = 10;
  const auto r = network_measures(make_graph(100, edges), {}, o);
  EXPECT_TRUE(std::isfinite(r.small_world_sigma));
  EXPECT_GT(r.small_world_sigma, 1.5);
  // An empty graph: no sigma, no modularity, every cell its own community.
  const auto e = network_measures(make_graph(5, {}), {}, o);
  EXPECT_TRUE(std::isnan(e.small_world_sigma) && std::isnan(e.modularity) && std::isnan(e.assortativity));
  EXPECT_EQ(e.n_communities, 5u);
  EXPECT_EQ(e.average_degree, 0.0);
  EXPECT_EQ(e.global_efficiency, 0.0);
  EXPECT_EQ(e.normalized_degree[2], 0.0);
}

TEST(AnalysisGraph, MeasuresRejectBadGraphs) {
  expect_input_error([] { network_measures(make_graph(3, {{1, 1}}), {}, Options{}); }, {"self-loop"});
  expect_input_error([] { network_measures(make_graph(3, {{0, 3}}), {}, Options{}); }, {"beyond the graph's 3"});
  expect_input_error([] { network_measures(make_graph(3, {{0, 1}}), {}, Options{}, {1, 2}, {1, 2}, {1, 2}); },
                     {"one per cell"});
}

// ---------------------------------------------------------------- structural comparison

TEST(AnalysisGraph, CompareStructuralCountsSharedPairsOfKeptCells) {
  const std::size_t n = 5;
  std::vector<double> sim(n * n, 1.0);
  for (std::size_t a = 0; a < n; ++a)
    for (std::size_t b = a + 1; b < n; ++b) sim[a * n + b] = sim[b * n + a] = 0.1 * static_cast<double>(a + b);
  std::vector<std::uint8_t> excluded(n, 0);
  excluded[4] = 1;
  // Functional: (0,1) (0,2) (1,3) (2,4: excluded). Structural, any order: (1,0) (3,2) (3,1) (4,0: excluded).
  const Graph f = make_graph(n, {{0, 1}, {0, 2}, {1, 3}, {2, 4}});
  const auto r = compare_structural(f, {1, 3, 3, 4}, {0, 2, 1, 0}, sim, excluded);
  // F = {01, 02, 13}, S = {01, 23, 13}: shared 2, union 4.
  EXPECT_NEAR(r.overlap, 2.0 / 3, 1e-15);
  EXPECT_NEAR(r.jaccard, 2.0 / 4, 1e-15);
  EXPECT_NEAR(r.structural_mean_similarity, (0.1 + 0.5 + 0.4) / 3, 1e-15);
  // Kept pairs 01 02 03 12 13 23: 0.1 (1 + 2 + 3 + 3 + 4 + 5) / 6.
  EXPECT_NEAR(r.all_mean_similarity, 0.1 * 18 / 6, 1e-15);
  const auto none = compare_structural(make_graph(n, {}), {}, {}, sim, excluded);
  EXPECT_TRUE(std::isnan(none.overlap) && std::isnan(none.jaccard) && std::isnan(none.structural_mean_similarity));
}

// ---------------------------------------------------------------- timings (run by hand)

TEST(AnalysisGraph, DISABLED_Timings) {
  const std::size_t cells = 1000, samples = 60000;
  Series x(samples, cells);
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> u(0, 1);
  for (auto& v : x.v) v = u(rng);
  auto t0 = std::chrono::steady_clock::now();
  const auto c = correlation_matrix(x.view());
  auto t1 = std::chrono::steady_clock::now();
  std::printf("correlation_matrix %zu cells x %zu samples: %.3f s\n", cells, samples,
              std::chrono::duration<double>(t1 - t0).count());
  const double t = threshold_for_degree(c, cells, 8, 0.5, {});
  const Graph g = threshold_graph(c, cells, t, {});
  t0 = std::chrono::steady_clock::now();
  const auto r = network_measures(g, {}, Options{});
  t1 = std::chrono::steady_clock::now();
  std::printf("network_measures %zu cells, %zu edges, n_random 20: %.3f s (sigma %.3f)\n", cells, g.i.size(),
              std::chrono::duration<double>(t1 - t0).count(), r.small_world_sigma);
}
