// Config parsing: every bad input gives a message naming file, line, key.
#include <gtest/gtest.h>

#include <cmath>

#include "isletsim/config.hpp"
#include "isletsim/error.hpp"
#include "isletsim/simulation.hpp"

using namespace isletsim;

namespace {
// The InputError message of parsing `text`, or "" when it parses.
std::string error_of(const std::string& text, const Overrides& sets = {}) {
  try {
    parse_config(text, "run.toml", sets);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}
#define EXPECT_HAS(msg, part) EXPECT_NE((msg).find(part), std::string::npos) << "message: " << (msg)
}  // namespace

TEST(Config, DefaultRoundTripsThroughToml) {
  const RunConfig d = default_config();
  const std::string text = to_toml(d);
  const RunConfig back = parse_config(text, "resolved.toml");
  EXPECT_EQ(to_toml(back), text);
  EXPECT_EQ(back.n_cells, 1000u);
  EXPECT_EQ(back.heterogeneity.size(), d.heterogeneity.size());
}

TEST(Config, ValuesAndOverrides) {
  const RunConfig c = parse_config("[sim]\nduration_s = 12\n[params]\ngKATP = 15000\n[heterogeneity]\nJGK = {cv = 0.3, dist = \"gamma\"}\n",
                                   "run.toml", {"coupling.gV=60", "sim.integrator=euler", "record.vars=[\"V\"]"});
  EXPECT_EQ(c.duration_s, 12.0);
  EXPECT_EQ(c.coupling_value("gV"), 60.0);
  EXPECT_EQ(c.integrator, Integrator::euler);
  EXPECT_EQ(c.dt_ms, 0.1);  // the chosen integrator's default step
  ASSERT_EQ(c.record_vars.size(), 1u);
  ASSERT_EQ(c.params.size(), 1u);
  EXPECT_EQ(c.params[0].second, 15000.0);
  bool found = false;
  for (const auto& [n, d] : c.heterogeneity)
    if (n == "JGK") {
      found = true;
      EXPECT_EQ(d.dist, DistKind::gamma);
      EXPECT_EQ(d.cv, 0.3);
    }
  EXPECT_TRUE(found);
}

TEST(ConfigErrors, UnknownKeySuggestsClosest) {
  const std::string m = error_of("[sim]\nduration_s = 5\ndurations = 3\n");
  EXPECT_HAS(m, "run.toml:3:");
  EXPECT_HAS(m, "sim.durations");
  EXPECT_HAS(m, "did you mean 'duration_s'");
}

TEST(ConfigErrors, UnknownParameterSuggestsClosest) {
  const std::string m = error_of("[params]\ngKATp = 100\n");
  EXPECT_HAS(m, "run.toml:2:");
  EXPECT_HAS(m, "unknown model parameter");
  EXPECT_HAS(m, "did you mean 'gKATP'");
  EXPECT_HAS(error_of("[heterogeneity]\nJGk = {cv = 0.1}\n"), "did you mean 'JGK'");
  EXPECT_HAS(error_of("[record]\nvars = [\"c\", \"Vm\"]\n"), "unknown state variable 'Vm'");
  EXPECT_HAS(error_of("[simulation]\n"), "did you mean 'sim'");
  // The analysed variable is a state of the model, named in the error.
  const std::string a = error_of("[analysis]\nvariable = \"Ca\"\n");
  EXPECT_HAS(a, "run.toml:2:");
  EXPECT_HAS(a, "analysis.variable");
  EXPECT_HAS(a, "unknown state variable 'Ca'");
  EXPECT_HAS(a, "states are V, n,");
}

TEST(ConfigErrors, MalformedTomlGivesLineAndColumn) {
  const std::string m = error_of("[sim]\nduration_s = 5\ndt_ms = = 2\n");
  EXPECT_HAS(m, "run.toml:3:");
  EXPECT_HAS(m, "invalid TOML");
}

TEST(ConfigErrors, BadValues) {
  EXPECT_HAS(error_of("[sim]\ndt_ms = 0\n"), "sim.dt_ms");
  EXPECT_HAS(error_of("[sim]\ndt_ms = -0.1\n"), "expected a number > 0");
  EXPECT_HAS(error_of("[sim]\ndt_ms = nan\n"), "finite");
  EXPECT_HAS(error_of("[sim]\nduration_s = \"long\"\n"), "expected a number, got a string");
  EXPECT_HAS(error_of("[coupling]\ngV = -5\n"), "coupling.gV");
  EXPECT_HAS(error_of("[sim]\nintegrator = \"rk5\"\n"), "did you mean 'rk4'");
  EXPECT_HAS(error_of("[sim]\nintegrator = \"rk4\"\n[record]\ninterval_ms = 0.75\n"), "whole multiple of sim.dt_ms");
  EXPECT_HAS(error_of("[network]\nkind = \"csv\"\n"), "needs both network.cells and network.edges");
  EXPECT_HAS(error_of("[glucose]\nmode = \"protocol\"\nevents = [{t_s = 5}]\n"), "needs t_s (s) and G (mM)");
  EXPECT_HAS(error_of("[heterogeneity]\ngK = {cv = -1}\n"), "heterogeneity.gK.cv");
}

// A key the chosen network kind does not read, and glucose events outside a
// protocol, are refused rather than ignored; so are events that are both a
// ramp and exponential, or at the same time.
TEST(ConfigErrors, KeysTheChosenKindOrModeDoesNotReadAreRefused) {
  std::string m = error_of("[network]\nkind = \"lattice\"\nn_cells = 20\n");
  EXPECT_HAS(m, "run.toml:3:");
  EXPECT_HAS(m, "network.n_cells: not used with network.kind = \"lattice\"");
  EXPECT_HAS(m, "network.nx, network.ny, network.nz, network.spacing_um");
  EXPECT_HAS(error_of("", {"network.n_cells=20", "network.kind=lattice"}), "--set network.n_cells=20");
  EXPECT_HAS(error_of("[network]\nnx = 3\n"), "network.nx: not used with network.kind = \"sphere\"");
  EXPECT_HAS(error_of("[network]\ncells = \"c.csv\"\n"), "network.cells: not used");
  EXPECT_HAS(error_of("[network]\nkind = \"csv\"\ncells = \"c.csv\"\nedges = \"e.csv\"\nspacing_um = 5\n"),
             "network.spacing_um: not used with network.kind = \"csv\"");
  m = error_of("[glucose]\nmode = \"constant\"\nevents = [{t_s = 1, G = 11}]\n");
  EXPECT_HAS(m, "glucose.events: not used with glucose.mode = \"constant\"");
  EXPECT_HAS(m, "run.toml:3:");
  EXPECT_HAS(error_of("[glucose]\nmode = \"protocol\"\nevents = [{t_s = 1, G = 11, ramp_s = 2, tau_s = 3}]\n"),
             "not both");
  EXPECT_HAS(error_of("[glucose]\nmode = \"protocol\"\nevents = [{t_s = 1, G = 11}, {t_s = 1, G = 5}]\n"),
             "one at a time");
  // What each reads is still taken: a lattice's size, and the keys a run file
  // stores for every mode (basal, level, t_step_s, tau_s, events = []).
  EXPECT_EQ(error_of("[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\nspacing_um = 10\n"), "");
  EXPECT_EQ(error_of("[glucose]\nmode = \"constant\"\nbasal = 2\nlevel = 8\nt_step_s = 5\ntau_s = 0\nevents = []\n"),
            "");
}

TEST(ConfigErrors, ValuesOutOfRangeOrRepeated) {
  // Too large for a double: --set takes it as text; say so.
  std::string m = error_of("", {"initial.V=1e400"});
  EXPECT_HAS(m, "--set initial.V=1e400");
  EXPECT_HAS(m, "out of the range of a double");
  EXPECT_HAS(error_of("", {"initial.V=\"abc\""}), "expected a number, got a string");
  m = error_of("[record]\nvars = [\"c\", \"V\", \"c\"]\n");
  EXPECT_HAS(m, "run.toml:2:");
  EXPECT_HAS(m, "record.vars[2]: 'c' is listed twice");
  EXPECT_HAS(error_of("", {"analysis.threshold=2"}), "expected a similarity threshold in [-1, 1]");
  EXPECT_HAS(error_of("[analysis]\nthreshold = -1.5\n"), "analysis.threshold");
  EXPECT_EQ(error_of("[analysis]\nthreshold = -1\n"), "");
}

TEST(ConfigErrors, OverridesAreNamed) {
  EXPECT_HAS(error_of("", {"sim.dt_ms=-1"}), "--set sim.dt_ms=-1");
  // A key set twice: the --set that is taken (the last) is named.
  EXPECT_HAS(error_of("", {"network.n_cells=20", "network.n_cells=0"}), "--set network.n_cells=0");
  EXPECT_HAS(error_of("", {"coupling.gv=3"}), "did you mean 'gV'");
  EXPECT_HAS(error_of("", {"nonsense"}), "expected key=value");
}

TEST(Glucose, StepRampAndSmoothedProtocol) {
  RunConfig c = default_config();
  c.glucose_mode = GlucoseMode::protocol;
  c.basal_mM = 2;
  c.events = {{10, 11, 0, 0}, {20, 5, 10, 0}, {40, 11, 0, 5}};
  const GlucoseProtocol g = c.glucose();
  EXPECT_EQ(g.glucose_mM(9.99), 2.0);
  EXPECT_EQ(g.glucose_mM(10.0), 11.0);
  EXPECT_DOUBLE_EQ(g.glucose_mM(25.0), 8.0);  // halfway down the ramp 11 -> 5
  EXPECT_EQ(g.glucose_mM(35.0), 5.0);
  EXPECT_NEAR(g.glucose_mM(45.0), 11.0 - 6.0 * std::exp(-1.0), 1e-12);
  EXPECT_NEAR(g.jgk_factor(1e6), glucokinase_factor(11.0), 1e-12);
}
