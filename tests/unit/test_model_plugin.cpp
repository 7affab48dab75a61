// A model added from outside src/model/ (tests/unit/toy_fhn/: its tables,
// kernel and descriptor, plus one register_model call) runs through the whole
// system: config checking, network, heterogeneity, glucose protocol, the
// engine on several threads, the HDF5 file, the analysis.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "isletsim/analysis.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/config.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"
#include "single_cell.hpp"
#include "toy_fhn/fhn.hpp"

using namespace isletsim;

namespace {

const ModelInfo& toy() {
  static const bool once = [] {
    register_model(toy_fhn::kModel);
    return true;
  }();
  (void)once;
  return find_model("fhn_toy");
}

const char* kConfig = R"(
[model]
name = "fhn_toy"
[sim]
duration_s = 20
[network]
kind = "lattice"
nx = 4
ny = 4
nz = 2
[coupling]
g = 0.1
[params]
tau = 10
[heterogeneity]
I = {cv = 0.2}
[glucose]
mode = "step"
basal = 0
level = 11
t_step_s = 2
[record]
interval_ms = 5
dtype = "float64"
)";

}  // namespace

TEST(ModelPlugin, ToyModelRunsThroughTheWholeSystem) {
  const ModelInfo& m = toy();
  EXPECT_STREQ(m.name, "fhn_toy");
  RunConfig cfg = parse_config(kConfig, "toy.toml");
  EXPECT_EQ(cfg.model, "fhn_toy");
  EXPECT_EQ(cfg.record_vars, std::vector<std::string>{"v"});  // the model's default: its spike state
  EXPECT_EQ(cfg.coupling_value("g"), 0.1);
  // Per process: test runs of several build trees may overlap (a shared name collided).
  const std::string out =
      (std::filesystem::temp_directory_path() / ("isletsim_toy_fhn_" + std::to_string(::getpid()) + ".h5")).string();
  const RunSetup s = build_setup(cfg);
  EXPECT_EQ(s.problem.params.size(), 6u);
  EXPECT_TRUE(s.problem.params[toy_fhn::I].per_cell());  // heterogeneity on the toy's own parameter
  RunOptions opt;
  opt.threads = 2;
  const RunResult r = run_to_file(s, out, opt);
  ASSERT_EQ(r.status, RunResult::Status::complete) << r.message;
  const H5Run run = read_run(out);
  EXPECT_EQ(run.attr("model"), "fhn_toy");
  EXPECT_EQ(run.var_names, std::vector<std::string>{"v"});
  // Glucose drives it: silent at G = 0 (I = 0.2 is below the Hopf point),
  // spiking after the step to 11 mM (I = 0.2 + 0.33).
  const auto& v = run.var("v");
  std::size_t before = 0, after = 0;
  for (std::size_t c = 0; c < run.n_cells; ++c) {
    std::vector<double> t, x;
    for (std::size_t k = 0; k < run.n_samples; ++k) t.push_back(run.time[k]), x.push_back(v[k * run.n_cells + c]);
    for (double u : analysis::upcrossings(t, x, m.spike_threshold)) (u < 2.0 ? before : after)++;
  }
  EXPECT_EQ(before, 0u);
  EXPECT_GT(after, 5 * run.n_cells);
  // The same run on 1 thread: the same bits.
  opt.threads = 1;
  const std::string out1 = out + ".1.h5";
  ASSERT_EQ(run_to_file(s, out1, opt).status, RunResult::Status::complete);
  EXPECT_EQ(read_run(out1).var("v"), v);
  // And the analysis of its v.
  analysis::Options ao;
  ao.variable = "v";
  ao.from_s = 5;
  ao.k_avg = 4;
  ao.k_tolerance = 2;
  const analysis::Result a = analysis::analyze(analysis_input_from_run(out, "v"), ao);
  EXPECT_EQ(a.activity.onsets.size(), run.n_cells);
  EXPECT_GT(a.measures.average_degree, 0.0);
  std::filesystem::remove(out);
  std::filesystem::remove(out1);
}

TEST(ModelPlugin, UncoupledEngineCellEqualsSingleCellIntegration) {
  const ModelInfo& m = toy();
  EngineProblem p = EngineProblem::defaults(m);
  p.n_cells = 3;
  p.graph.row_ptr.assign(4, 0);
  p.glucose.G0_mM = 5;
  p.integrator = Integrator::rk4;
  p.dt_ms = 0.5;
  p.n_steps = 4000;
  const RunResult r = run_engine(p, nullptr, RunOptions{});
  ASSERT_EQ(r.status, RunResult::Status::complete);
  const auto tr = isletsim::testing::integrate_single(m, 0.5, 2000.0, 4000, toy_fhn::stimulus(5.0));
  for (int k = 0; k < 2; ++k)
    for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(r.final_state[k][i], tr.x[k].back(), 1e-9) << k;
}

TEST(ModelPlugin, WrongKeysNameTheModel) {
  toy();
  const auto err = [](const std::string& text) {
    try {
      parse_config(text, "bad.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  // A Bertram parameter, coupling key or state in a toy config: the message says whose it is.
  EXPECT_NE(err("[model]\nname = \"fhn_toy\"\n[params]\ngKATP = 1\n").find("is a parameter of bertram2007"),
            std::string::npos);
  EXPECT_NE(err("[model]\nname = \"fhn_toy\"\n[coupling]\ngV = 1\n").find("it is a coupling of bertram2007"),
            std::string::npos);
  EXPECT_NE(err("[model]\nname = \"fhn_toy\"\n[record]\nvars = [\"c\"]\n").find("unknown state variable 'c'"),
            std::string::npos);
  EXPECT_NE(err("[model]\nname = \"fhn_tyo\"\n").find("did you mean 'fhn_toy'"), std::string::npos);
  // Registering twice, or a model with a coupled state it lacks, is refused.
  EXPECT_THROW(register_model(toy_fhn::kModel), InputError);
}

// The toy's parameter domains are checked like a built-in model's.
TEST(ModelPlugin, ToyModelDomainsAreChecked) {
  const ModelInfo& m = toy();
  EXPECT_EQ(m.params[toy_fhn::tau].domain, Domain::positive);
  EXPECT_EQ(m.params[toy_fhn::eps].domain, Domain::nonnegative);
  try {
    parse_config("[model]\nname = \"fhn_toy\"\n[params]\ntau = 0\n", "toy.toml");
    ADD_FAILURE() << "tau = 0 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("toy.toml:4:7: params.tau: 0 is not allowed: expected a number > 0"),
              std::string::npos)
        << e.what();
  }
}
