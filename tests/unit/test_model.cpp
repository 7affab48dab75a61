// The cell model against the shared reference trajectories.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "isletsim/analysis.hpp"
#include "isletsim/engine.hpp"
#include "model/bertram2007/model.hpp"
#include "core/fastmath.hpp"
#include "test_support.hpp"

using namespace isletsim;

namespace {
const std::string kRef = ISLET_REFERENCE_DIR;

// Runs one cell and returns V (and c) at every step.
struct Trace {
  std::vector<double> t_ms, V, c;
};
Trace run_single(Integrator integ, double dt_ms, double duration_ms, std::uint64_t every = 1) {
  EngineProblem p = test::default_problem(1, integ, dt_ms, duration_ms);
  p.record_vars = {bertram2007::State::V, bertram2007::State::c};
  p.record_every = every;
  p.record_block = 4096;
  MemorySink sink(1);
  RunOptions opt;
  const RunResult r = run_engine(p, &sink, opt);
  EXPECT_EQ(r.status, RunResult::Status::complete) << r.message;
  Trace tr;
  for (double t : sink.time_s) tr.t_ms.push_back(t * 1e3);
  tr.V = sink.data[0];
  tr.c = sink.data[1];
  return tr;
}

void expect_events_match(const std::vector<double>& got, const std::vector<double>& want, double tol_ms,
                         const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what << ": event count differs";
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], want[i], tol_ms) << what << " #" << i;
    worst = std::max(worst, std::abs(got[i] - want[i]));
  }
  ::testing::Test::RecordProperty(std::string(what) + "_worst_ms", std::to_string(worst));
  std::printf("%s: %zu events, worst deviation %.4f ms (tolerance %.2f ms)\n", what, got.size(), worst, tol_ms);
}

std::vector<double> until(const std::vector<double>& v, double t_max) {
  std::vector<double> out;
  for (double x : v)
    if (x <= t_max) out.push_back(x);
  return out;
}
}  // namespace

// Both double exp variants (Horner for the kernel, Estrin for the map):
// within 2 ulp of libm, NaN propagated, exact at 0, clamped.
template <class Exp>
void check_double_exp(Exp exp_fn, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(-700.0, 700.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i < 100000 ? u(gen) : u(gen) / 100.0;
    const double a = exp_fn(x), b = std::exp(x);
    const double ulp = std::nextafter(b, INFINITY) - b;
    worst = std::max(worst, std::abs(a - b) / ulp);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_TRUE(std::isnan(exp_fn(double(NAN))));
  EXPECT_TRUE(std::isnan(exp_fn(double(INFINITY))));  // a blow-up stays visible
  EXPECT_EQ(exp_fn(0.0), 1.0);
  EXPECT_EQ(exp_fn(-1000.0), exp_fn(-708.0));  // clamped, positive
  EXPECT_GT(exp_fn(-1000.0), 0.0);
  EXPECT_EQ(exp_fn(1000.0), exp_fn(708.0));
}

TEST(FastExp, MatchesStdExpWithinTwoUlp) {
  check_double_exp([](double x) { return fastmath::exp(x); }, 42);
}

TEST(FastExp, EstrinVariantMatchesStdExpWithinTwoUlp) {
  check_double_exp([](double x) { return fastmath::exp_estrin(x); }, 44);
}

TEST(FastExp, FloatMatchesStdExpWithinTwoUlp) {
  std::mt19937_64 gen(43);
  std::uniform_real_distribution<float> u(-87.0f, 87.0f);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const float x = i < 100000 ? u(gen) : u(gen) / 100.0f;
    const float a = fastmath::exp(x), b = std::exp(x);
    const float ulp = std::nextafter(b, INFINITY) - b;
    worst = std::max(worst, std::abs(double(a) - double(b)) / ulp);
  }
  std::printf("float exp: worst %.2f ulp\n", worst);
  EXPECT_LE(worst, 2.0);
  EXPECT_TRUE(std::isnan(fastmath::exp(float(NAN))));
  EXPECT_TRUE(std::isnan(fastmath::exp(float(INFINITY))));
  EXPECT_EQ(fastmath::exp(0.0f), 1.0f);
  EXPECT_EQ(fastmath::exp(-1000.0f), fastmath::exp(-87.0f));  // clamped, positive, normal
  EXPECT_GE(fastmath::exp(-1000.0f), 1.17549435e-38f);
  EXPECT_EQ(fastmath::exp(1000.0f), fastmath::exp(87.0f));
  EXPECT_TRUE(std::isfinite(fastmath::exp(87.0f)));
}

TEST(FastLog, MatchesStdLogWithinTwoUlp) {
  std::mt19937_64 gen(7);
  std::uniform_real_distribution<double> e(-1000.0, 1000.0), near1(0.5, 2.0);
  double worst = 0;
  for (int i = 0; i < 200000; ++i) {
    const double x = i % 2 ? std::exp2(e(gen)) : near1(gen);
    const double a = fastmath::log(x), b = std::log(x);
    const double ulp = std::abs(std::nextafter(b, INFINITY) - b);
    worst = std::max(worst, std::abs(a - b) / ulp);
  }
  EXPECT_LE(worst, 2.0);
  EXPECT_EQ(fastmath::log(1.0), 0.0);
  EXPECT_TRUE(std::isnan(fastmath::log(0.0)));
  EXPECT_TRUE(std::isnan(fastmath::log(-1.0)));
  EXPECT_TRUE(std::isnan(fastmath::log(INFINITY)));
}

TEST(ModelTable, HasEveryParameterOnce) {
  const auto names = model_param_names();
  EXPECT_EQ(names.size(), static_cast<std::size_t>(bertram2007::kNumParams));
  EXPECT_EQ(find_param("gKATP").value(), bertram2007::Param::gKATP);
  EXPECT_FALSE(find_param("gKATPx").has_value());
  EXPECT_NEAR(glucokinase_factor(11.1), 1.0, 1e-15);
  EXPECT_LT(glucokinase_factor(2.0), 0.2);
}

// Acceptance 1: forward Euler at 0.1 ms reproduces the seed's Euler reference.
TEST(Reference, EulerSingleCellMatchesReference) {
  const Trace tr = run_single(Integrator::euler, 0.1, 20000.0);
  // State every 1 ms against the CSV: same scheme, so only rounding differs.
  std::vector<std::string> header;
  const auto ref = test::read_csv_columns(kRef + "/bertram2007_single_euler_dt0.1.csv", &header);
  ASSERT_EQ(header[1], "V");
  double worst_V = 0;
  for (std::size_t r = 0; r < ref[0].size(); ++r) {
    const std::size_t step = static_cast<std::size_t>(std::lround(ref[0][r] / 0.1));
    ASSERT_LT(step, tr.V.size());
    worst_V = std::max(worst_V, std::abs(tr.V[step] - ref[1][r]));
  }
  std::printf("Euler: worst |V - V_ref| over 20 s at 1 ms = %.3g mV\n", worst_V);
  const auto want = test::json_array(kRef + "/bertram2007_single_euler_dt0.1_events.json", "spike_upcrossing_times_ms");
  expect_events_match(analysis::upcrossings(tr.t_ms, tr.V, -40.0), want, 0.2, "euler_spikes");
}

// Acceptance 2: the default accurate integrator (RK4 at its default step)
// against the accurate reference over 60 s.
TEST(Reference, AccurateIntegratorMatchesAccurateEvents) {
  const std::string ev = kRef + "/bertram2007_single_accurate_events.json";
  const double dt = default_dt_ms(Integrator::rk4);
  const Trace tr = run_single(Integrator::rk4, dt, 60000.0);
  expect_events_match(analysis::upcrossings(tr.t_ms, tr.V, -40.0),
                      until(test::json_array(ev, "spike_upcrossing_times_ms"), 60000.0), 2.0, "rk4_spikes");
  // Calcium maxima are slow and flat (less well conditioned): same count, and
  // within 2 ms as well at the default step.
  expect_events_match(analysis::prominent_peaks(tr.t_ms, tr.c, 0.02),
                      until(test::json_array(ev, "calcium_peak_times_ms"), 60000.0), 2.0, "rk4_calcium_peaks");
}

// Forward Euler at 0.1 ms is not accurate over 60 s: this documents why it is
// not the default (and guards the accurate test against being vacuous).
TEST(Reference, EulerDriftsFromAccurateSolution) {
  const std::string ev = kRef + "/bertram2007_single_accurate_events.json";
  const Trace tr = run_single(Integrator::euler, 0.1, 60000.0);
  const auto got = analysis::upcrossings(tr.t_ms, tr.V, -40.0);
  const auto want = until(test::json_array(ev, "spike_upcrossing_times_ms"), 60000.0);
  EXPECT_NE(got.size(), want.size());
  ASSERT_FALSE(got.empty());
  // The first burst is shorter: its last spike comes far earlier than the
  // accurate solution's last spike of that burst.
  const auto burst_end = [](const std::vector<double>& t) {
    std::size_t i = 0;
    while (i + 1 < t.size() && t[i + 1] - t[i] < 2000.0) ++i;
    return t[i];
  };
  EXPECT_LT(burst_end(got), burst_end(want) - 500.0);
}
