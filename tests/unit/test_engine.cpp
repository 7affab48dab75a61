// Coupling, heterogeneity, thread invariance, failure handling.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "isletsim/analysis.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"
#include "model/bertram2007/model.hpp"
#include "model/model_abi.hpp"
#include "test_support.hpp"

using namespace isletsim;

namespace {

RunConfig small_config(const std::string& net, double duration_s) {
  RunConfig c = default_config();
  c.integrator = Integrator::rk4;  // fixed steps (dopri5: test_adaptive.cpp)
  c.dt_ms = 0.5;
  c.duration_s = duration_s;
  if (net == "lattice") {
    c.network = NetworkKind::lattice;
    c.nx = 5, c.ny = 5, c.nz = 4;
  } else {
    c.n_cells = 200;
  }
  c.glucose_mode = GlucoseMode::fixed_jgk;
  return c;
}

// The 200-cell sphere islet with every coupling on, the integrator's
// default step, `vars` sampled every 1 ms.
RunConfig all_coupled_config(const char* integ, double duration_s, std::vector<std::string> vars) {
  RunConfig c = small_config("sphere", duration_s);
  c.integrator = integrator_from_string(integ);
  c.dt_ms = std::string(integ) == "rk4" ? 0.5 : 0.1;
  c.coupling = {{"gc", 0.005}, {"gG6P", 0.0005}, {"gADP", 0.0005}};
  c.record_vars = std::move(vars);
  c.record_interval_ms = 1.0;
  return c;
}

struct Out {
  RunResult r;
  MemorySink sink;
};

Out run(const RunSetup& s, unsigned threads) {
  Out o{{}, MemorySink(s.problem.n_cells)};
  RunOptions opt;
  opt.threads = threads;
  o.r = run_engine(s.problem, &o.sink, opt);
  EXPECT_EQ(o.r.status, RunResult::Status::complete) << o.r.message;
  return o;
}

bool same_bits(const std::vector<double>& a, const std::vector<double>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0;
}

}  // namespace

// Acceptance 3a: with every coupling coefficient 0 each cell is exactly a
// single-cell run with its own parameters.
TEST(Coupling, UncoupledCellsEqualSingleCellRuns) {
  RunConfig c = small_config("lattice", 3.0);
  c.nx = 3, c.ny = 3, c.nz = 2;
  c.coupling = {{"gV", 0}, {"gc", 0}, {"gG6P", 0}, {"gADP", 0}};
  c.record_interval_ms = 1.0;
  const RunSetup s = build_setup(c);
  const Out all = run(s, 2);
  // The same run with the threads putting the samples in cell order (and
  // compressing, for a file), not the writer (see engine::Recorder).
  Out enc{{}, MemorySink(s.problem.n_cells)};
  RunOptions eopt;
  eopt.threads = 2;
  eopt.encode_on_compute = true;
  enc.r = run_engine(s.problem, &enc.sink, eopt);
  ASSERT_EQ(enc.r.status, RunResult::Status::complete) << enc.r.message;
  const std::size_t n = s.problem.n_cells;
  for (std::size_t cell = 0; cell < n; ++cell) {
    EngineProblem one = s.problem;
    one.n_cells = 1;
    one.graph.row_ptr.assign(2, 0);
    one.graph.col.clear();
    one.graph.w.clear();
    for (auto& col : one.params)
      if (col.per_cell()) col = Column{col.values[cell], {}};
    MemorySink sink(1);
    RunOptions opt;
    const RunResult r = run_engine(one, &sink, opt);
    for (int k = 0; k < bertram2007::kNumStates; ++k)
      ASSERT_EQ(std::memcmp(&r.final_state[k][0], &all.r.final_state[k][cell], sizeof(double)), 0)
          << "cell " << cell << " state " << model_states()[k].name;
    for (std::size_t smp = 0; smp < sink.time_s.size(); ++smp) {
      ASSERT_EQ(sink.data[0][smp], all.sink.data[0][smp * n + cell]) << "cell " << cell << " sample " << smp;
      ASSERT_EQ(sink.data[0][smp], enc.sink.data[0][smp * n + cell]) << "cell " << cell << " sample " << smp;
    }
  }
}

// Acceptance 3b: identical cells stay identical under coupling, and equal the
// uncoupled single cell (all gap-junction differences are exactly zero).
TEST(Coupling, IdenticalCellsStayIdentical) {
  RunConfig c = small_config("lattice", 3.0);
  c.heterogeneity.clear();
  c.coupling = {{"gc", 0.01}, {"gG6P", 0.001}, {"gADP", 0.001}};
  const RunSetup s = build_setup(c);
  ASSERT_GT(s.network.n_edges(), 0u);
  const Out o = run(s, 3);
  EngineProblem one = test::default_problem(1, s.problem.integrator, s.problem.dt_ms, 3000.0);
  MemorySink sink(1);
  const RunResult single = run_engine(one, &sink, RunOptions{});
  for (int k = 0; k < bertram2007::kNumStates; ++k)
    for (std::size_t i = 0; i < s.problem.n_cells; ++i)
      ASSERT_EQ(o.r.final_state[k][i], single.final_state[k][0]) << "cell " << i << " " << model_states()[k].name;
}

// Acceptance 3c: with heterogeneity, electrical coupling raises synchrony.
// Index: mean pairwise Pearson correlation of c over 20-90 s.
TEST(Coupling, CouplingRaisesSynchrony) {
  auto sync = [](double gV) {
    RunConfig c = small_config("lattice", 90.0);
    c.coupling = {{"gV", gV}};
    c.record_vars = {"c"};
    c.record_interval_ms = 50;
    const RunSetup s = build_setup(c);
    const Out o = run(s, 2);
    const analysis::Traces tr{o.sink.data[0].data(), o.sink.time_s.size(), s.problem.n_cells};
    return analysis::mean_pairwise_correlation(tr, 400);
  };
  const double uncoupled = sync(0.0), coupled = sync(120.0);
  std::printf("synchrony (mean pairwise corr. of c, 100 cells, 20-90 s): uncoupled %.3f, gV = 120 pS %.3f\n",
              uncoupled, coupled);
  EXPECT_GT(coupled, uncoupled + 0.2);
  EXPECT_GT(coupled, 0.5);
}

// Acceptance 4: bitwise identical results for 1, 2 and 3 threads (sphere
// islet, heterogeneity, metabolic and electrical coupling, both integrators).
TEST(Determinism, IdenticalBitsForAnyThreadCount) {
  for (const char* integ : {"rk4", "euler"}) {
    const RunSetup s = build_setup(all_coupled_config(integ, 1.0, {"V", "c", "ADPm"}));
    const Out ref = run(s, 1);
    for (unsigned t : {2u, 3u}) {
      const Out o = run(s, t);
      EXPECT_EQ(o.r.profile.threads, t);
      for (int k = 0; k < bertram2007::kNumStates; ++k)
        EXPECT_TRUE(same_bits(o.r.final_state[k], ref.r.final_state[k])) << integ << " threads " << t << " state " << k;
      for (std::size_t v = 0; v < 3; ++v) EXPECT_TRUE(same_bits(o.sink.data[v], ref.sink.data[v])) << integ << " var " << v;
    }
  }
}

// Load balancing moves cells between threads during a run; no cell's
// result may depend on which thread computes it or where the cuts fall
// (inside a kernel block, inside a vector). Arbitrary cuts every few steps.
TEST(Determinism, IdenticalBitsWhenCellsMoveBetweenThreads) {
  for (const char* integ : {"rk4", "euler"}) {
    // Sampled every 1 ms: a control point every 2 (RK4) or 10 (Euler) steps.
    const RunSetup s = build_setup(all_coupled_config(integ, 0.3, {"V", "c"}));
    RunOptions opt;
    opt.threads = 1;
    opt.rebalance_every = 0;
    MemorySink ref_sink(s.problem.n_cells);
    const RunResult ref = run_engine(s.problem, &ref_sink, opt);
    ASSERT_EQ(ref.status, RunResult::Status::complete) << ref.message;
    for (unsigned t : {2u, 3u, 4u}) {
      opt.threads = t;
      opt.rebalance_every = 3;
      opt.rebalance_scramble = true;
      MemorySink sink(s.problem.n_cells);
      const RunResult r = run_engine(s.problem, &sink, opt);
      ASSERT_EQ(r.status, RunResult::Status::complete) << r.message;
      EXPECT_GT(r.profile.resplits, 20u) << integ << " threads " << t;
      ASSERT_EQ(r.profile.cells_per_thread.size(), t);
      for (int k = 0; k < bertram2007::kNumStates; ++k)
        EXPECT_TRUE(same_bits(r.final_state[k], ref.final_state[k])) << integ << " threads " << t << " state " << k;
      for (std::size_t v = 0; v < 2; ++v) EXPECT_TRUE(same_bits(sink.data[v], ref_sink.data[v])) << integ << " var " << v;
    }
  }
}

// The same configuration and seed give the same network and parameters; a
// different seed gives different ones.
TEST(Determinism, SeedControlsHeterogeneity) {
  RunConfig c = small_config("sphere", 0.01);
  const RunSetup a = build_setup(c), b = build_setup(c);
  c.seed = 2;
  const RunSetup d = build_setup(c);
  const int k = bertram2007::Param::gKATP;
  EXPECT_TRUE(same_bits(a.problem.params[k].values, b.problem.params[k].values));
  EXPECT_FALSE(same_bits(a.problem.params[k].values, d.problem.params[k].values));
  // ~10% CV as configured.
  const auto& v = a.problem.params[k].values;
  double m = 0, s2 = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s2 += (x - m) * (x - m);
  EXPECT_NEAR(std::sqrt(s2 / v.size()) / m, 0.1, 0.02);
  EXPECT_NEAR(m, 16000, 16000 * 0.03);
}

// --profile's phases (timed on the profile clock, converted with the rate
// measured over the run) do not overlap: per thread they add up to at most
// the run's wall time, and to most of it (the rest: set-up, checks). Both
// integrators, 1 and 2 threads, recording with the threads compressing
// (encode_on_compute: its time is recording's, counted once).
TEST(Profile, PhasesAddUpToTheWallTime) {
  for (const char* integ : {"rk4", "dopri5"})
    for (unsigned t : {1u, 2u}) {
      RunConfig c = small_config("sphere", 3.0);
      c.integrator = std::string(integ) == "rk4" ? Integrator::rk4 : Integrator::dopri5;
      c.record_interval_ms = 1;
      const RunSetup s = build_setup(c);
      const std::string path = (std::filesystem::temp_directory_path() /
                                ("islet_profile_test_" + std::to_string(::getpid()) + ".h5"))
                                   .string();
      RunOptions opt;
      opt.threads = t;
      opt.profile = true;
      opt.encode_on_compute = true;
      const RunResult r = run_to_file(s, path, opt);
      ASSERT_EQ(r.status, RunResult::Status::complete) << r.message;
      const Profile& p = r.profile;
      const double sum = p.kernel + p.coupling + p.recording + p.sync, budget = p.total_wall * p.threads;
      EXPECT_GT(p.kernel, 0) << integ << " " << t;
      EXPECT_GT(p.recording, 0) << integ << " " << t;
      EXPECT_LE(sum, 1.02 * budget) << integ << " " << t;
      EXPECT_GE(sum, 0.5 * budget) << integ << " " << t;
      std::filesystem::remove(path);
    }
}

// A run that blows up reports cell, variable and time, keeps the data so far.
TEST(Failure, BlowUpIsReportedAndDataKept) {
  // A time constant far below the step: forward Euler on n is unstable.
  RunConfig c = small_config("lattice", 2.0);
  c.integrator = Integrator::euler;
  c.dt_ms = 0.1;
  c.params = {{"tau_n", 0.04}};
  c.record_interval_ms = 0.1;
  const RunSetup s = build_setup(c);
  const std::string path =
      (std::filesystem::temp_directory_path() / ("islet_blowup_test_" + std::to_string(::getpid()) + ".h5")).string();
  const RunResult r = run_to_file(s, path, RunOptions{});
  ASSERT_EQ(r.status, RunResult::Status::failed);
  EXPECT_NE(r.message.find("cell "), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("variable "), std::string::npos) << r.message;
  EXPECT_NE(r.message.find("t = "), std::string::npos) << r.message;
  const H5Run f = read_run(path);
  EXPECT_EQ(f.attr("status"), "failed");
  EXPECT_EQ(f.n_samples, r.samples);
  EXPECT_GT(f.n_samples, 1u);
  EXPECT_LT(f.n_samples, 20001u);
  for (double x : f.var("V")) ASSERT_TRUE(std::isfinite(x));
  std::filesystem::remove(path);
}

// Stopping (Ctrl-C) ends the run at the next control point with the data kept.
TEST(Failure, StopFlagInterruptsCleanly) {
  RunConfig c = small_config("lattice", 5.0);
  const RunSetup s = build_setup(c);
  std::atomic<bool> stop{false};
  RunOptions opt;
  opt.threads = 2;
  opt.stop = &stop;
  opt.progress = [&](const Progress& p) {
    if (p.step >= 4000) stop = true;
  };
  MemorySink sink(s.problem.n_cells);
  const RunResult r = run_engine(s.problem, &sink, opt);
  EXPECT_EQ(r.status, RunResult::Status::interrupted);
  // Stops at the next control point after step 4000: the next sample (every
  // 20 steps of 0.5 ms), having kept samples at steps 0, 20, ..., 4000.
  EXPECT_EQ(r.steps_done, 4020u);
  EXPECT_EQ(sink.time_s.size(), r.samples);
  EXPECT_EQ(r.samples, 201u);
}

// The kernel's AVX-512, AVX2 and baseline builds (chosen at run time) give
// the same bits.
TEST(Determinism, IdenticalBitsOnEveryInstructionSet) {
  RunConfig c = small_config("sphere", 0.5);
  c.coupling = {{"gc", 0.005}};
  c.record_vars = {"V", "c"};
  c.record_interval_ms = 1.0;
  const RunSetup s = build_setup(c);
  const model_abi::Isa best = model_abi::best_isa();
  model_abi::force_isa(model_abi::Isa::baseline);
  const Out ref = run(s, 2);
  for (model_abi::Isa isa : {model_abi::Isa::avx2, model_abi::Isa::avx512}) {
    if (static_cast<int>(isa) > static_cast<int>(best)) continue;
    model_abi::force_isa(isa);
    const Out o = run(s, 2);
    for (int k = 0; k < bertram2007::kNumStates; ++k)
      EXPECT_TRUE(same_bits(o.r.final_state[k], ref.r.final_state[k])) << model_abi::isa_name(isa) << " state " << k;
    EXPECT_TRUE(same_bits(o.sink.data[0], ref.sink.data[0])) << model_abi::isa_name(isa);
  }
  model_abi::force_isa(best);
  std::printf("checked: baseline .. %s\n", model_abi::isa_name(best));
}

// Uncoupled threads never wait for each other between control points; every
// recorded block must still be complete when it is handed to the writer
// (small blocks, many hand-overs, 3 threads against 1).
TEST(Determinism, RecordedBlocksAreCompleteWithLooselyCoupledThreads) {
  RunConfig c = small_config("lattice", 0.5);
  c.coupling = {{"gV", 0}, {"gc", 0}, {"gG6P", 0}, {"gADP", 0}};
  c.record_vars = {"V", "c"};
  c.record_interval_ms = 0.5;
  RunSetup s = build_setup(c);
  s.problem.record_block = 3;
  const Out one = run(s, 1), three = run(s, 3);
  ASSERT_EQ(one.sink.time_s.size(), 1001u);
  EXPECT_EQ(three.sink.time_s, one.sink.time_s);
  for (std::size_t v = 0; v < 2; ++v) EXPECT_TRUE(same_bits(three.sink.data[v], one.sink.data[v])) << "var " << v;
}
