// Pedersen 2010 human beta cell: tables, the kernel against a literal scalar
// transcription of the equations, the 60-s reference solution (spikes and
// -I_Ca peaks), and the instruction sets' kernels giving the same bits.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "isletsim/analysis.hpp"
#include "model/model_abi.hpp"
#include "model/pedersen2010/model.hpp"
#include "single_cell.hpp"
#include "test_support.hpp"

using namespace isletsim;
using model_abi::kBlock;

namespace {
const std::string kRef = ISLET_REFERENCE_DIR;
constexpr std::size_t kS = 8;

// The right-hand side as the specification writes it, with std::exp, plain
// divisions and the published constants typed in again (not read from the
// model's tables): a second transcription to catch slips in the optimised
// body or in the tables. x: V, h_Na, h_CaL, h_CaT, m_Kv, m_BK, m_HERG, h_HERG.
struct SpecRhs {
  double d[kS];
  double ICa;        // total Ca2+ current (mA/cm2)
  double scale[kS];  // sum of |terms| of each derivative, for a relative tolerance near 0
};
double sig(double V, double Vx, double k) { return 1.0 / (1.0 + std::exp((V - Vx) / k)); }
double spec_ica(double V, double hCaL, double hCaT) {
  const double ECa = 65.0;
  const double ICaL = 0.14e-3 * sig(V, -25, -6) * hCaL * (V - ECa);
  const double ICaT = 0.05e-3 * sig(V, -40, -4) * hCaT * (V - ECa);
  const double ICaPQ = 0.17e-3 * sig(V, -10, -10) * (V - ECa);
  return ICaL + ICaT + ICaPQ;
}
SpecRhs spec_rhs(const double* x, double gap_fA = 0.0) {
  const double V = x[0], hNa = x[1], hCaL = x[2], hCaT = x[3], mKv = x[4], mBK = x[5], mHERG = x[6],
               hHERG = x[7];
  const double ENa = 70, EK = -75, ECa = 65, cm = 1.0, area = M_PI * 20e-4 * 20e-4;  // cm2
  const double INa = 0.4e-3 * sig(V, -18, -5) * hNa * (V - ENa);
  const double ICa = spec_ica(V, hCaL, hCaT);
  const double IKv = 1.0e-3 * mKv * (V - EK);
  const double IBK = 20e-3 * mBK * (V - EK) * (0.02 - ICa);
  const double IHERG = 0.2e-3 * mHERG * hHERG * (V - EK);
  const double IKATP = 0.015e-3 * (V - EK);
  const double Ileak = 0.015e-3 * (V - (-30));
  const double igap = gap_fA * 1e-12 / area;  // fA -> mA/cm2
  SpecRhs r{};
  r.ICa = ICa;
  r.d[0] = -1000.0 * (INa + ICa + IKv + IBK + IHERG + IKATP + Ileak + igap) / cm;
  r.scale[0] = 1000.0 * (std::abs(INa) + std::abs(ICa) + std::abs(IKv) + std::abs(IBK) + std::abs(IHERG) +
                      std::abs(IKATP) + std::abs(Ileak) + std::abs(igap)) / cm;
  const double hCaL_inf = std::clamp(1.0 + sig(V, -25, -6) * (V - ECa) / 57.0, 0.0, 1.0);
  const double tauKv = V > -26.6 ? 2.0 + 10.0 * std::exp((-20.0 - V) / 6.0) : 32.0;
  const double inf[kS] = {0,
                          sig(V, -42, 6),
                          hCaL_inf,
                          sig(V, -64, 8),
                          sig(V, 18, -10),
                          sig(V, 0, -10),
                          sig(V, -30, -10),
                          sig(V, -42, 17.5)};
  const double tau[kS] = {0, 2.0, 20.0, 7.0, tauKv, 2.0, 100.0, 50.0};
  for (std::size_t k = 1; k < kS; ++k) {
    r.d[k] = (inf[k] - x[k]) / tau[k];
    r.scale[k] = (std::abs(inf[k]) + std::abs(x[k])) / tau[k];
  }
  return r;
}

// The model's input block for n cells with the default parameters, the
// derived rows, and coupling terms gap[j] (fA).
std::vector<double> input_block(const ModelInfo& m, const std::vector<double>& gap = {}) {
  const std::size_t P = m.params.size(), D = m.kernel->n_derived, C = m.coupled.size();
  std::vector<double> params, derived(D), in((P + D + C) * kBlock, 0.0);
  for (const auto& p : m.params) params.push_back(p.default_value);
  m.kernel->derive(params.data(), derived.data());
  for (std::size_t j = 0; j < kBlock; ++j) {
    for (std::size_t k = 0; k < P; ++k) in[k * kBlock + j] = params[k];
    for (std::size_t k = 0; k < D; ++k) in[(P + k) * kBlock + j] = derived[k];
    if (j < gap.size()) in[(P + D) * kBlock + j] = gap[j];
  }
  return in;
}

// Derivatives of the cells in `st` (rows of kBlock) through the kernel.
std::vector<double> kernel_derivs(const ModelInfo& m, model_abi::Isa isa, const std::vector<double>& st,
                                  const std::vector<double>& in, std::size_t n) {
  std::vector<double> d(kS * kBlock, 0.0);
  model_abi::StageArgs<double> a;
  a.d = d.data();
  m.kernel->table(isa)[0][static_cast<int>(model_abi::Stage::derivs)](n, st.data(), in.data(), 0.0, a);
  return d;
}

// States along the reference trajectory (every `stride`-th CSV row from
// `first`): resting, spike upstrokes, plateaus, both sides of -26.6 mV.
std::vector<std::vector<double>> reference_states(std::size_t first, std::size_t stride, std::size_t count) {
  static std::vector<std::string> header;
  static const auto cols = test::read_csv_columns(kRef + "/pedersen2010_reference.csv", &header);
  EXPECT_EQ(header.size(), 12u);
  EXPECT_EQ(header.at(1), "V");
  std::vector<std::vector<double>> out;
  for (std::size_t r = first; r < cols[0].size() && out.size() < count; r += stride) {
    std::vector<double> x(kS);
    for (std::size_t k = 0; k < kS; ++k) x[k] = cols[1 + k][r];
    out.push_back(x);
  }
  return out;
}

void expect_events_match(const std::vector<double>& got, const std::vector<double>& want, double tol_ms,
                         const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what << ": event count differs";
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tol_ms) << what << " #" << i;
    worst = std::max(worst, std::abs(got[i] - want[i]));
  }
  ::testing::Test::RecordProperty(what + "_worst_ms", std::to_string(worst));
  std::printf("%s: %zu/%zu events, worst deviation %.4f ms (tolerance %.1f ms)\n", what.c_str(), got.size(),
              want.size(), worst, tol_ms);
}

// Peaks of x by prominence, as the reference finds them (scipy find_peaks on
// the 0.1 ms grid), each time refined by the parabola through 3 samples.
std::vector<double> refined_peaks(const std::vector<double>& t, const std::vector<double>& x, double prominence) {
  std::vector<double> out;
  const auto grid = analysis::prominent_peaks(t, x, prominence);
  std::size_t i = 0;
  for (double tp : grid) {
    while (t[i] < tp) ++i;
    const double a = x[i - 1], b = x[i], c = x[i + 1], den = a - 2 * b + c;
    out.push_back(den != 0.0 ? t[i] + 0.5 * (a - c) / den * (t[i] - t[i - 1]) : t[i]);
  }
  return out;
}

// The reference check on a trace sampled every 0.1 ms: spikes (V up-crossings
// of -25 mV) and -I_Ca peaks (prominence 3e-3 mA/cm2) over 60 s, within 2 ms.
void check_against_reference(const std::vector<double>& t, const std::vector<std::vector<double>>& x,
                             const std::string& what) {
  const std::string ev = kRef + "/pedersen2010_events.json";
  const auto want_spikes = test::json_array(ev, "spike_times_ms");
  const auto want_ca = test::json_array(ev, "ca_peaks_spike_level");
  ASSERT_EQ(want_spikes.size(), 611u);
  ASSERT_EQ(want_ca.size(), 609u);
  expect_events_match(analysis::upcrossings(t, x[0], -25.0), want_spikes, 2.0, what + "_spikes");
  std::vector<double> minus_ica(t.size());
  for (std::size_t i = 0; i < t.size(); ++i) minus_ica[i] = -spec_ica(x[0][i], x[2][i], x[3][i]);
  expect_events_match(refined_peaks(t, minus_ica, 3e-3), want_ca, 2.0, what + "_ica_peaks");
}

std::string label(double dt_ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", dt_ms);
  return buf;
}

void rk4_reference_check(double dt_ms) {
  const ModelInfo& m = pedersen2010::model();
  // Sampled every 0.1 ms (the reference's grid), or every step when coarser.
  const auto every = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(0.1 / dt_ms)));
  ASSERT_TRUE(dt_ms >= 0.1 || std::abs(every * dt_ms - 0.1) < 1e-12);
  const auto tr = isletsim::testing::integrate_single(m, dt_ms, 60000.0, every, 0.0);
  check_against_reference(tr.t_ms, tr.x, "rk4_dt" + label(dt_ms));
}

model_abi::Isa best_isa() { return model_abi::best_isa(); }

// Forward Euler through the kernel's fused Stage::euler (one cell), sampled
// every 0.1 ms. The best instruction set's kernel (the same bits as the
// baseline's, see InstructionSetsGiveSameBits): Euler needs ~10^8 steps here.
void euler_reference_check(double dt_ms) {
  const ModelInfo& m = pedersen2010::model();
  const auto every = static_cast<std::size_t>(std::lround(0.1 / dt_ms));
  ASSERT_NEAR(every * dt_ms, 0.1, 1e-12);
  const auto in = input_block(m);
  const auto f = m.kernel->table(best_isa())[0][static_cast<int>(model_abi::Stage::euler)];
  std::vector<double> y(kS * kBlock, 0.0), y2(kS * kBlock, 0.0);
  for (std::size_t k = 0; k < kS; ++k) y[k * kBlock] = m.states[k].initial;
  std::vector<double> t;
  std::vector<std::vector<double>> x(kS);
  const auto n_steps = static_cast<std::size_t>(60000.0 / dt_ms + 0.5);
  for (std::size_t step = 0;; ++step) {
    if (step % every == 0) {
      t.push_back(static_cast<double>(step) * dt_ms);
      for (std::size_t k = 0; k < kS; ++k) x[k].push_back(y[k * kBlock]);
    }
    if (step == n_steps) break;
    model_abi::StageArgs<double> a;
    a.y = y.data();
    a.out = y2.data();
    a.h = dt_ms;
    f(1, y.data(), in.data(), 0.0, a);
    std::swap(y, y2);
  }
  check_against_reference(t, x, "euler_dt" + label(dt_ms));
}
}  // namespace

TEST(ModelPedersen2010, TablesAreConsistent) {
  const ModelInfo& m = pedersen2010::model();
  EXPECT_STREQ(m.name, "pedersen2010");
  ASSERT_EQ(m.states.size(), kS);
  ASSERT_EQ(m.states.size(), static_cast<std::size_t>(pedersen2010::kNumStates));
  ASSERT_EQ(m.params.size(), static_cast<std::size_t>(pedersen2010::kNumParams));
  EXPECT_EQ(m.params.size(), 44u);
  std::set<std::string> names;
  const auto valid = [](const std::string& s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(c) || c == '_'; });
  };
  for (const auto& s : m.states) {
    EXPECT_TRUE(valid(s.name)) << s.name;
    EXPECT_TRUE(names.insert(s.name).second) << "duplicate " << s.name;
    EXPECT_GT(std::string(s.unit).size(), 0u);
    EXPECT_GT(std::string(s.description).size(), 0u);
    EXPECT_TRUE(std::isfinite(s.initial));
  }
  for (const auto& p : m.params) {
    EXPECT_TRUE(valid(p.name)) << p.name;
    EXPECT_TRUE(names.insert(p.name).second) << "duplicate or collides with a state: " << p.name;
    EXPECT_GT(std::string(p.unit).size(), 0u);
    EXPECT_GT(std::string(p.description).size(), 0u);
    EXPECT_TRUE(std::isfinite(p.default_value));
  }
  EXPECT_STREQ(m.states[pedersen2010::h_HERG].name, "h_HERG");
  EXPECT_STREQ(m.params[pedersen2010::gKATP].name, "gKATP");
  EXPECT_STREQ(m.params[pedersen2010::area_cm2].name, "area_cm2");
  EXPECT_NEAR(m.params[pedersen2010::area_cm2].default_value, 1.256637e-5, 1e-11);
  // The initial gates are the steady states at -65 mV (spec, section 2).
  EXPECT_NEAR(m.states[1].initial, sig(-65, -42, 6), 1e-15);
  EXPECT_NEAR(m.states[2].initial, std::clamp(1.0 + sig(-65, -25, -6) * (-65 - 65.0) / 57.0, 0.0, 1.0), 1e-15);
  EXPECT_NEAR(m.states[3].initial, sig(-65, -64, 8), 1e-15);
  EXPECT_NEAR(m.states[4].initial, sig(-65, 18, -10), 1e-15);
  EXPECT_NEAR(m.states[5].initial, sig(-65, 0, -10), 1e-15);
  EXPECT_NEAR(m.states[6].initial, sig(-65, -30, -10), 1e-15);
  EXPECT_NEAR(m.states[7].initial, sig(-65, -42, 17.5), 1e-15);
  ASSERT_EQ(m.coupled.size(), 1u);
  EXPECT_STREQ(m.coupled[0].state, "V");
  EXPECT_STREQ(m.coupled[0].key, "gV");
  EXPECT_STREQ(m.coupled[0].unit, "pS");
  EXPECT_EQ(m.coupled[0].form, CouplingForm::current);
  EXPECT_EQ(m.coupled[0].default_value, 120.0);
  EXPECT_FALSE(names.count(m.coupled[0].key));
  EXPECT_STREQ(m.spike_state, "V");
  EXPECT_EQ(m.spike_threshold, -25.0);
  EXPECT_STREQ(m.calcium, "");
  EXPECT_EQ(m.stimulus_of_glucose, nullptr);
  EXPECT_GT(std::string(m.stimulus).size(), 0u);
  ASSERT_NE(m.kernel, nullptr);
  EXPECT_NE(m.kernel->derive, nullptr);
  EXPECT_GT(m.kernel->n_derived, 0u);
}

// The kernel at the initial state and along the reference trajectory equals
// the literal transcription within 1e-9 (relative to the size of the terms).
TEST(ModelPedersen2010, KernelMatchesLiteralEquations) {
  const ModelInfo& m = pedersen2010::model();
  auto states = reference_states(0, 97, 32);  // 48.5 ms apart: spans a burst and the silent phase
  ASSERT_EQ(states.size(), 32u);
  for (std::size_t k = 0; k < kS; ++k) states[0][k] = m.states[k].initial;
  // A spike's upstroke and peak (near 59 ms), and the -26.6 mV branch point of tau_Kv.
  states[1] = reference_states(118, 1, 1)[0];
  states[2] = reference_states(120, 1, 1)[0];
  states[3][0] = -26.6 + 1e-9;
  states[4][0] = -26.6 - 1e-9;
  std::vector<double> st(kS * kBlock);
  for (std::size_t j = 0; j < kBlock; ++j)
    for (std::size_t k = 0; k < kS; ++k) st[k * kBlock + j] = states[j][k];
  const auto d = kernel_derivs(m, model_abi::Isa::baseline, st, input_block(m), kBlock);
  double worst = 0;
  int above = 0;
  for (std::size_t j = 0; j < kBlock; ++j) {
    const SpecRhs r = spec_rhs(states[j].data());
    above += states[j][0] > -26.6;
    for (std::size_t k = 0; k < kS; ++k) {
      const double err = std::abs(d[k * kBlock + j] - r.d[k]) / r.scale[k];
      worst = std::max(worst, err);
      EXPECT_LE(err, 1e-9) << "cell " << j << " state " << m.states[k].name << ": " << d[k * kBlock + j] << " vs "
                           << r.d[k];
    }
  }
  EXPECT_GE(above, 3);  // both tau_Kv branches were evaluated
  std::printf("kernel vs literal equations: worst relative error %.3g\n", worst);
}

// The coupling row: a gap term of g fA changes dV/dt by -1000 g 1e-12/(A cm)
// and nothing else.
TEST(ModelPedersen2010, GapTermEntersAsCurrentDensity) {
  const ModelInfo& m = pedersen2010::model();
  std::vector<double> st(kS * kBlock);
  std::vector<double> gap(kBlock);
  for (std::size_t j = 0; j < kBlock; ++j) {
    for (std::size_t k = 0; k < kS; ++k) st[k * kBlock + j] = m.states[k].initial;
    gap[j] = (static_cast<double>(j) - 10.0) * 250.0;  // fA, both signs and 0
  }
  const auto d0 = kernel_derivs(m, model_abi::Isa::baseline, st, input_block(m), kBlock);
  const auto d1 = kernel_derivs(m, model_abi::Isa::baseline, st, input_block(m, gap), kBlock);
  const double area = M_PI * 20e-4 * 20e-4;
  for (std::size_t j = 0; j < kBlock; ++j) {
    const double want = -1000.0 * gap[j] * 1e-12 / area;  // cm = 1
    EXPECT_NEAR(d1[j] - d0[j], want, 1e-12 * (std::abs(d0[j]) + std::abs(want)) + 1e-15) << "cell " << j;
    std::vector<double> x(kS);
    for (std::size_t k = 0; k < kS; ++k) x[k] = st[k * kBlock + j];
    const SpecRhs r = spec_rhs(x.data(), gap[j]);
    EXPECT_NEAR(d1[j], r.d[0], 1e-9 * r.scale[0]) << "cell " << j;
    for (std::size_t k = 1; k < kS; ++k) EXPECT_EQ(d1[k * kBlock + j], d0[k * kBlock + j]);
  }
  // The spec's conversion: 1 nA of gap current is 0.0795775 mA/cm2 (79.5775 mV/ms).
  EXPECT_NEAR(d1[31] - d0[31], -79.5775 * gap[31] * 1e-6, 1e-6 * std::abs(gap[31]) * 1e-6 * 79.5775);
}

// Spikes and -I_Ca peaks against the reference solution over 60 s, with RK4
// at a fine step (a test of the equations) and at the model's default step.
TEST(ModelPedersen2010, ReferenceRk4FineStep) { rk4_reference_check(0.025); }

TEST(ModelPedersen2010, ReferenceRk4DefaultStep) {
  const ModelInfo& m = pedersen2010::model();
  rk4_reference_check(m.dt_ms_rk4);
}

TEST(ModelPedersen2010, ReferenceEulerDefaultStep) {
  const ModelInfo& m = pedersen2010::model();
  euler_reference_check(m.dt_ms_euler);
}

// Every instruction set's kernel gives the same bits, in every stage, on a
// block of 32 cells with varied states and a coupling term.
TEST(ModelPedersen2010, InstructionSetsGiveSameBits) {
  const ModelInfo& m = pedersen2010::model();
  auto states = reference_states(3, 211, 32);
  ASSERT_EQ(states.size(), 32u);
  std::mt19937_64 gen(2010);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<double> st(kS * kBlock), acc(kS * kBlock), gap(kBlock);
  for (std::size_t j = 0; j < kBlock; ++j) {
    for (std::size_t k = 0; k < kS; ++k) {
      st[k * kBlock + j] = states[j][k] * (1.0 + 0.01 * u(gen));
      acc[k * kBlock + j] = u(gen);
    }
    gap[j] = 500.0 * u(gen);
  }
  const auto in = input_block(m, gap);
  std::vector<model_abi::Isa> isas = {model_abi::Isa::baseline};
  if (model_abi::best_isa() >= model_abi::Isa::avx2) isas.push_back(model_abi::Isa::avx2);
  if (model_abi::best_isa() >= model_abi::Isa::avx512) isas.push_back(model_abi::Isa::avx512);
  std::printf("instruction sets compared: %zu\n", isas.size());
  std::vector<std::vector<double>> first;
  for (auto isa : isas) {
    std::vector<std::vector<double>> res;
    for (int s = 0; s < model_abi::kNumStages; ++s) {
      std::vector<double> d(kS * kBlock, 0.0), out(kS * kBlock, 0.0), y = st, ac = acc;
      const std::vector<double> st_copy = st;
      model_abi::StageArgs<double> a;
      a.d = d.data();
      a.y = y.data();
      a.out = out.data();
      a.acc = ac.data();
      a.h = 0.05;
      a.w = 2.0;
      // 29 cells: a vector body and a remainder.
      m.kernel->table(isa)[0][s](29, st_copy.data(), in.data(), 0.0, a);
      res.push_back(d);
      res.push_back(out);
      res.push_back(y);
      res.push_back(ac);
    }
    if (first.empty()) {
      first = res;
      continue;
    }
    for (std::size_t r = 0; r < res.size(); ++r)
      for (std::size_t i = 0; i < res[r].size(); ++i)
        ASSERT_EQ(std::bit_cast<std::uint64_t>(res[r][i]), std::bit_cast<std::uint64_t>(first[r][i]))
            << "isa " << static_cast<int>(isa) << " result " << r << " index " << i;
  }
}
