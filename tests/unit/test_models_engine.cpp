// Every registered model through the engine (not a test driver): one cell at
// the model's default RK4 step reproduces its reference spikes, and a
// coupled islet with heterogeneity and a glucose protocol runs on two
// threads with the same bits as on one.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "isletsim/analysis.hpp"
#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/error.hpp"
#include "isletsim/simulation.hpp"
#include "test_support.hpp"

using namespace isletsim;

namespace {
const std::string kRef = ISLET_REFERENCE_DIR;

struct Case {
  const char* model;
  const char* events;  // reference events file
  double glucose_mM;   // the reference's glucose (NaN: the model takes none)
};
const Case kCases[] = {{"cha2011", "cha2011_events.json", 8.0}, {"pedersen2010", "pedersen2010_events.json", NAN}};

std::vector<double> spikes(const ModelInfo& m, double G, double t_end_ms) {
  EngineProblem p = EngineProblem::defaults(m);
  p.n_cells = 1;
  p.graph.row_ptr.assign(2, 0);
  p.glucose.G0_mM = std::isnan(G) ? 0.0 : G;
  p.integrator = Integrator::rk4;
  p.dt_ms = m.dt_ms_rk4;
  p.n_steps = static_cast<std::uint64_t>(std::llround(t_end_ms / p.dt_ms));
  p.record_vars = {*find_state(m, m.spike_state)};
  p.record_every = 1;
  MemorySink sink(1);
  const RunResult r = run_engine(p, &sink, RunOptions{});
  EXPECT_EQ(r.status, RunResult::Status::complete) << r.message;
  std::vector<double> t_ms;
  for (double t : sink.time_s) t_ms.push_back(t * 1e3);
  return analysis::upcrossings(t_ms, sink.data[0], m.spike_threshold);
}
}  // namespace

TEST(ModelsThroughEngine, OneCellReproducesTheReferenceSpikes) {
  for (const Case& c : kCases) {
    const ModelInfo& m = find_model(c.model);
    const double t_end = 60000.0;
    auto want = test::json_array(kRef + "/" + c.events, "spike_times_ms");
    std::erase_if(want, [&](double t) { return t > t_end - 1.0; });
    const auto got = spikes(m, c.glucose_mM, t_end);
    ASSERT_EQ(got.size(), want.size()) << c.model;
    double worst = 0;
    for (std::size_t k = 0; k < want.size(); ++k) worst = std::max(worst, std::abs(got[k] - want[k]));
    EXPECT_LT(worst, 2.0) << c.model;
    std::printf("%s through the engine, RK4 %g ms: %zu/%zu spikes, worst %.4f ms\n", c.model, m.dt_ms_rk4, got.size(),
                want.size(), worst);
  }
}

TEST(ModelsThroughEngine, CoupledIsletWithHeterogeneityAndProtocolIsThreadInvariant) {
  for (const char* name : {"cha2011", "pedersen2010"}) {
    const ModelInfo& m = find_model(name);
    RunConfig c = parse_config(std::string("[model]\nname = \"") + name +
                                   "\"\n[sim]\nduration_s = 2\n[network]\nn_cells = 100\n"
                                   "[glucose]\nmode = \"step\"\nbasal = 3\nlevel = 8\nt_step_s = 0.5\n"
                                   "[heterogeneity]\ngKATP = {cv = 0.1}\n[record]\ninterval_ms = 1\n",
                               "islet.toml");
    const RunSetup s = build_setup(c);
    EXPECT_TRUE(s.problem.params[*find_param(m, "gKATP")].per_cell());
    EXPECT_EQ(s.problem.coupling.size(), m.coupled.size());
    std::vector<std::vector<double>> data[2];
    for (unsigned threads : {1u, 2u}) {
      RunOptions opt;
      opt.threads = threads;
      MemorySink sink(s.problem.n_cells);
      const RunResult r = run_engine(s.problem, &sink, opt);
      ASSERT_EQ(r.status, RunResult::Status::complete) << name << ": " << r.message;
      data[threads - 1] = sink.data;
    }
    EXPECT_EQ(data[0], data[1]) << name;
  }
}

TEST(ModelsThroughEngine, CellsFileColumnOfAnotherModelNamesIt) {
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / ("isletsim_models_csv_" + std::to_string(::getpid()));
  fs::create_directories(d);
  std::ofstream(d / "cells.csv") << "id,x,y,z,JGK\n0,0,0,0,0.001\n1,10,0,0,0.001\n";
  std::ofstream(d / "edges.csv") << "i,j,weight\n0,1,1\n";
  const std::string text =
      "[model]\nname = \"cha2011\"\n[network]\nkind = \"csv\"\ncells = \"cells.csv\"\nedges = \"edges.csv\"\n";
  RunConfig c = parse_config(text, (d / "run.toml").string());
  c.base_dir = d.string();
  try {
    build_setup(c);
    ADD_FAILURE() << "a JGK column was accepted for cha2011";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("cells.csv:1: unknown parameter column 'JGK' (a parameter of bertram2007, not of this run's "
                     "model)"),
              std::string::npos)
        << m;
  }
  // The same file with Bertram 2007 is fine: JGK is its parameter.
  RunConfig b = parse_config(text.substr(text.find("[network]")), (d / "run.toml").string());
  b.base_dir = d.string();
  EXPECT_NO_THROW(build_setup(b));
  // A config built in code that names what its model lacks gets the checker's message, not an index.
  c.model = "bertram2007";
  c.heterogeneity.clear();
  try {
    build_setup(c);
    ADD_FAILURE() << "record.vars Cai was accepted for bertram2007";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("record.vars.Cai: model bertram2007 has no state variable 'Cai'"),
              std::string::npos)
        << e.what();
  }
  fs::remove_all(d);
}
