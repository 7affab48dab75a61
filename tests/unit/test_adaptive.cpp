// The adaptive integrator (dopri5): accuracy against the shared reference
// and against a tight solution of a coupled islet, the same bits for any
// thread count, instruction set and recording, continuation to the same
// bits, and its configuration errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "isletsim/analysis.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"
#include "model/bertram2007/model.hpp"
#include "model/model_abi.hpp"
#include "test_support.hpp"

using namespace isletsim;

namespace {

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

struct Outcome {
  RunResult r;
  MemorySink sink;
};

Outcome run(const EngineProblem& p, unsigned threads) {
  Outcome o{{}, MemorySink(p.n_cells)};
  RunOptions opt;
  opt.threads = threads;
  o.r = run_engine(p, &o.sink, opt);
  EXPECT_EQ(o.r.status, RunResult::Status::complete) << o.r.message;
  return o;
}

// The 200-cell sphere islet, every coupling on, bursting (fixed JGK).
RunConfig islet_config(double duration_s, double tolerance) {
  RunConfig c = default_config();
  c.duration_s = duration_s;
  c.n_cells = 200;
  c.glucose_mode = GlucoseMode::fixed_jgk;
  c.coupling = {{"gc", 0.005}, {"gG6P", 0.0005}, {"gADP", 0.0005}};
  c.integrator = Integrator::dopri5;
  c.tolerance = tolerance;
  c.record_interval_ms = 1.0;
  c.dt_ms = c.record_interval_ms;
  c.record_vars = {"V", "c"};
  return c;
}

// Upward crossings of -40 mV of cell i (samples every dt_ms).
std::vector<double> spikes_of(const MemorySink& s, std::size_t n, std::size_t i) {
  std::vector<double> t, v;
  for (std::size_t k = 0; k < s.time_s.size(); ++k) {
    t.push_back(s.time_s[k] * 1e3);
    v.push_back(s.data[0][k * n + i]);
  }
  return analysis::upcrossings(t, v, -40.0);
}

}  // namespace

// One default cell, 60 s, against the accurate reference (LSODA 1e-12):
// every spike up-crossing within 2 ms and the same count, at the default
// tolerance; and tighter tolerances are more accurate.
TEST(Adaptive, SingleCellMatchesTheReference) {
  const std::string ev = std::string(ISLET_REFERENCE_DIR) + "/bertram2007_single_accurate_events.json";
  std::vector<double> want = test::json_array(ev, "spike_upcrossing_times_ms");
  std::erase_if(want, [](double x) { return x > 60000.0; });
  ASSERT_EQ(want.size(), 69u);
  double prev_worst = 1e9;
  for (double tol : {default_config().tolerance, 1e-9}) {
    EngineProblem p = test::default_problem(1, Integrator::dopri5, 0.1, 60000.0);
    p.tolerance = tol;
    p.record_vars = {bertram2007::State::V};
    p.record_every = 1;
    p.record_block = 4096;
    const Outcome o = run(p, 1);
    std::vector<double> t_ms;
    for (double t : o.sink.time_s) t_ms.push_back(t * 1e3);
    const auto got = analysis::upcrossings(t_ms, o.sink.data[0], -40.0);
    ASSERT_EQ(got.size(), want.size()) << "tolerance " << tol;
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    EXPECT_LT(worst, 2.0) << "tolerance " << tol;
    EXPECT_LT(worst, prev_worst) << "tolerance " << tol;
    std::printf("tolerance %g: worst spike %.4f ms, %llu steps (%llu rejected)\n", tol, worst,
                static_cast<unsigned long long>(o.r.accepted), static_cast<unsigned long long>(o.r.rejected));
    prev_worst = worst;
    // Far fewer steps than RK4 at 0.5 ms (120,000 in 60 s).
    EXPECT_LT(o.r.accepted + o.r.rejected, 40000u);
  }
}

// A coupled islet: every cell's spikes at the default tolerance match a
// tight solution (dopri5 at 1e-10) within 2 ms, with the same counts.
TEST(Adaptive, CoupledIsletMatchesATightSolution) {
  const RunConfig loose = islet_config(6.0, default_config().tolerance), tight = islet_config(6.0, 1e-10);
  const RunSetup a = build_setup(loose), b = build_setup(tight);
  const Outcome x = run(a.problem, 2), y = run(b.problem, 2);
  const std::size_t n = a.problem.n_cells;
  std::size_t spikes = 0;
  double worst = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto s1 = spikes_of(x.sink, n, i), s2 = spikes_of(y.sink, n, i);
    ASSERT_EQ(s1.size(), s2.size()) << "cell " << i;
    for (std::size_t k = 0; k < s1.size(); ++k) worst = std::max(worst, std::abs(s1[k] - s2[k]));
    spikes += s1.size();
  }
  EXPECT_GT(spikes, n);  // the islet spikes
  EXPECT_LT(worst, 2.0);
  std::printf("%zu spikes, worst %.4f ms; steps %llu (tight: %llu)\n", spikes, worst,
              static_cast<unsigned long long>(x.r.accepted), static_cast<unsigned long long>(y.r.accepted));
}

// The same bits for 1, 2 and 3 threads, on every instruction set, and
// whatever is recorded (the steps do not depend on it).
TEST(Adaptive, IdenticalBitsForAnyThreadsIsaAndRecording) {
  const RunSetup s = build_setup(islet_config(1.0, 1e-7));
  const Outcome ref = run(s.problem, 1);
  ASSERT_GT(ref.r.accepted, 10u);
  for (unsigned t : {2u, 3u}) {
    const Outcome o = run(s.problem, t);
    EXPECT_TRUE(same_bits(o.sink.data[0], ref.sink.data[0])) << t << " threads";
    EXPECT_TRUE(same_bits(o.sink.data[1], ref.sink.data[1])) << t << " threads";
    for (std::size_t k = 0; k < ref.r.final_state.size(); ++k)
      EXPECT_TRUE(same_bits(o.r.final_state[k], ref.r.final_state[k])) << t << " threads, state " << k;
    EXPECT_EQ(o.r.accepted, ref.r.accepted);
    EXPECT_EQ(o.r.next_step_ms, ref.r.next_step_ms);
  }
  const model_abi::Isa best = model_abi::best_isa();
  for (model_abi::Isa isa : {model_abi::Isa::baseline, model_abi::Isa::avx2}) {
    if (static_cast<int>(isa) >= static_cast<int>(best)) continue;
    model_abi::force_isa(isa);
    const Outcome o = run(s.problem, 2);
    model_abi::force_isa(best);
    EXPECT_TRUE(same_bits(o.sink.data[0], ref.sink.data[0])) << model_abi::isa_name(isa);
  }
  // Only c recorded, in other blocks: its samples are the same bits.
  EngineProblem q = s.problem;
  q.record_vars = {bertram2007::State::c};
  q.record_block = 3;
  const Outcome o = run(q, 2);
  EXPECT_TRUE(same_bits(o.sink.data[0], ref.sink.data[1]));
  // Landing elsewhere changes the steps, not the accuracy: within 1e-3 uM.
  q.land_every = 7;
  const Outcome other = run(q, 2);
  EXPECT_FALSE(same_bits(other.sink.data[0], ref.sink.data[1]));
  double d = 0;
  for (std::size_t i = 0; i < other.sink.data[0].size(); ++i)
    d = std::max(d, std::abs(other.sink.data[0][i] - ref.sink.data[1][i]));
  EXPECT_LT(d, 1e-3);
}

// Samples land on the record interval's grid: times are k x interval and
// the first is the initial state.
TEST(Adaptive, SamplesLieOnTheGrid) {
  const RunSetup s = build_setup(islet_config(0.5, 1e-7));
  const Outcome o = run(s.problem, 2);
  ASSERT_EQ(o.sink.time_s.size(), 501u);
  for (std::size_t k = 0; k < o.sink.time_s.size(); ++k)
    ASSERT_EQ(o.sink.time_s[k], static_cast<double>(k) * 1.0 * 1e-3) << k;
  for (std::size_t i = 0; i < s.problem.n_cells; ++i)
    ASSERT_EQ(o.sink.data[0][i], s.problem.initial[bertram2007::State::V].at(i));
  // The mean step is larger than RK4's 0.5 ms.
  EXPECT_GT(500.0 / static_cast<double>(o.r.accepted), 0.5);
}

class AdaptiveCli : public test::ScratchTest {
 protected:
  AdaptiveCli() : ScratchTest("adaptive") {}
};

// 0..4 s in one go equals 0..2 s continued to 4 s (into a new file and in
// place), bit for bit, on 1 and 2 threads.
TEST_F(AdaptiveCli, ContinuedRunIsTheSameBits) {
  const std::string common =
      " -q --set sim.integrator=dopri5 --set network.n_cells=60 --set glucose.mode=fixed_jgk "
      "--set record.interval_ms=5 --set record.dtype=float64 --set record.checkpoint_s=0.5";
  auto r = test::islet("run -j 2 -o " + path("full.h5") + common + " --set sim.duration_s=4");
  ASSERT_EQ(r.code, 0) << r.out;
  r = test::islet("run -j 1 -o " + path("half.h5") + common + " --set sim.duration_s=2");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto st = read_checkpoint(path("half.h5"));
  ASSERT_TRUE(st);
  EXPECT_GT(st->step_ms, 0.0);
  r = test::islet("run --continue " + path("half.h5") + " -j 2 -q -o " + path("cont.h5") + " --set sim.duration_s=4");
  ASSERT_EQ(r.code, 0) << r.out;
  r = test::islet("run --continue " + path("half.h5") + " -j 1 -q --set sim.duration_s=4");
  ASSERT_EQ(r.code, 0) << r.out;
  const H5Run full = read_run(path("full.h5"));
  for (const char* f : {"cont.h5", "half.h5"}) {
    const H5Run c = read_run(path(f));
    ASSERT_EQ(c.n_samples, full.n_samples) << f;
    EXPECT_TRUE(same_bits(c.time, full.time)) << f;
    for (const char* v : {"V", "c"}) EXPECT_TRUE(same_bits(c.var(v), full.var(v))) << f << " " << v;
  }
}

TEST_F(AdaptiveCli, ConfigErrorsNameTheKey) {
  auto r = test::islet("run -q -o " + path("x.h5") + " --set sim.integrator=dopri5 --set sim.dt_ms=0.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "sim.dt_ms");
  EXPECT_HAS(r.out, "sim.tolerance");
  r = test::islet("run -q -o " + path("x.h5") + " --set sim.integrator=rk4 --set sim.tolerance=1e-6");
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "sim.tolerance applies to integrator = \"dopri5\"");
  r = test::islet("run -q -o " + path("x.h5") + " --set sim.integrator=dopri5 --set sim.tolerance=0.5");
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "sim.tolerance");
  r = test::islet("run -q -o " + path("x.h5") +
                  " --set sim.integrator=dopri5 --set sim.duration_s=1.005 --set record.interval_ms=10");
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "record intervals");
  EXPECT_FALSE(std::filesystem::exists(path("x.h5")));
  r = test::islet("run -q -o " + path("x.h5") + " --set sim.integrator=dopri6");
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "dopri5");
}

// Ctrl-C: the run goes on to the next whole second, saves its state there
// and stops ("interrupted", exit 130); continued from it, it gives the same
// bits as a run that never stopped. (timeout --foreground: one SIGINT; a
// plain timeout also signals its process group, a second SIGINT, which
// kills at once by design.)
TEST_F(AdaptiveCli, InterruptedRunStopsOnAWholeSecondAndContinues) {
  const std::string common =
      " -q -j 2 --set sim.integrator=dopri5 --set network.n_cells=100 --set glucose.mode=fixed_jgk "
      "--set record.dtype=float64";
  auto r = test::islet("run -o " + path("long.h5") + common + " --set sim.duration_s=600", "", "timeout --foreground --preserve-status -s INT 1 ");
  ASSERT_EQ(r.code, 130) << r.out;
  EXPECT_EQ(read_run(path("long.h5")).attr("status"), "interrupted");
  const auto st = read_checkpoint(path("long.h5"));
  ASSERT_TRUE(st);
  ASSERT_GT(st->time_s, 0.0);
  EXPECT_EQ(st->time_s, std::round(st->time_s)) << "stopped at t = " << st->time_s;
  EXPECT_EQ(read_run(path("long.h5")).n_samples, st->samples);
  const double end = st->time_s + 2;
  r = test::islet("run --continue " + path("long.h5") + " -q -j 1 --set sim.duration_s=" + std::to_string(end));
  ASSERT_EQ(r.code, 0) << r.out;
  r = test::islet("run -o " + path("ref.h5") + common + " --set sim.duration_s=" + std::to_string(end));
  ASSERT_EQ(r.code, 0) << r.out;
  const H5Run a = read_run(path("long.h5")), b = read_run(path("ref.h5"));
  ASSERT_EQ(a.n_samples, b.n_samples);
  for (const char* v : {"V", "c"}) EXPECT_TRUE(same_bits(a.var(v), b.var(v))) << v;
}

// Cha 2011 and Pedersen 2010 (one cell, 8 mM, 60 s): every spike within
// 2 ms of their references, the same counts, at the default tolerance.
TEST_F(AdaptiveCli, OtherModelsMatchTheirReferences) {
  struct Case {
    const char* model;
    double threshold;
  };
  for (const Case c : {Case{"cha2011", -40.0}, Case{"pedersen2010", -25.0}}) {
    const std::string out = path(std::string(c.model) + ".h5");
    const auto r = test::islet(std::string("run -q -j 1 -o ") + out + " --set model.name=" + c.model +
                               " --set sim.integrator=dopri5 --set network.kind=lattice --set network.nx=1 "
                               "--set network.ny=1 --set network.nz=1 --set sim.duration_s=60 "
                               "--set record.interval_ms=0.1 --set record.dtype=float64 --set 'record.vars=[\"V\"]' "
                               "--set glucose.mode=constant --set glucose.level=8");
    ASSERT_EQ(r.code, 0) << r.out;
    const H5Run run = read_run(out);
    std::vector<double> t_ms;
    for (double t : run.time) t_ms.push_back(t * 1e3);
    const auto got = analysis::upcrossings(t_ms, run.var("V"), c.threshold);
    std::vector<double> want =
        test::json_array(std::string(ISLET_REFERENCE_DIR) + "/" + c.model + "_events.json", "spike_times_ms");
    std::erase_if(want, [](double x) { return x > 60000.0; });
    ASSERT_EQ(got.size(), want.size()) << c.model;
    double worst = 0;
    for (std::size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]));
    EXPECT_LT(worst, 2.0) << c.model;
    std::printf("%s: %zu spikes, worst %.4f ms\n", c.model, got.size(), worst);
  }
}

// The model decides the default integrator: dopri5 for Bertram 2007 (1e-8),
// RK4 at its own step for the others; a given one is kept.
TEST(Adaptive, ModelChoosesTheDefaultIntegrator) {
  RunConfig c = parse_config("", "test");
  EXPECT_EQ(c.integrator, Integrator::dopri5);
  EXPECT_EQ(c.tolerance, 1e-8);
  EXPECT_EQ(c.dt_ms, c.record_interval_ms);
  c = parse_config("[model]\nname = \"cha2011\"\n", "test");
  EXPECT_EQ(c.integrator, Integrator::rk4);
  EXPECT_EQ(c.dt_ms, find_model("cha2011").dt_ms_rk4);
  c = parse_config("[sim]\nintegrator = \"rk4\"\n", "test");
  EXPECT_EQ(c.integrator, Integrator::rk4);
  EXPECT_EQ(c.dt_ms, 0.5);
  c = parse_config("[sim]\nduration_s = 2\n[record]\ninterval_ms = 4\n", "test");
  EXPECT_EQ(c.dt_ms, 4.0);
  // The stored config re-reads to the same run.
  const RunConfig again = parse_config(to_toml(c), "again");
  EXPECT_EQ(again.integrator, c.integrator);
  EXPECT_EQ(again.tolerance, c.tolerance);
  EXPECT_EQ(again.dt_ms, c.dt_ms);
}
