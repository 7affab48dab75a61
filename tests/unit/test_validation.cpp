// Bad input is refused before anything runs, with the key (or file, column
// and cell), the value and what was expected: directories as configs, thread
// counts, parameter and initial-state domains, ranges, and the CLI's exit
// codes (0 ok, 1 failed, 2 bad input or command line, 130 interrupted).
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "isletsim/config.hpp"
#include "isletsim/domains.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"
#include "isletsim/simulation.hpp"

using namespace isletsim;
using isletsim::test::islet;
using isletsim::test::slurp;
namespace fs = std::filesystem;

namespace {


// The InputError message of f(), or "" (and a failure) when it throws none.
template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no InputError";
  return "";
}

class Validation : public test::ScratchTest {
 protected:
  Validation() : ScratchTest("validation") {}
};



}  // namespace

// ------------------------------------------------------------ directories

TEST_F(Validation, DirectoryAsConfigIsAnError) {
  fs::create_directories(dir_ / "somedir");
  const std::string msg = input_error([&] { load_config(path("somedir") + "/"); });
  EXPECT_HAS(msg, path("somedir"));
  EXPECT_HAS(msg, "is a directory; expected a TOML config file or an isletsim .h5 file");
}

TEST_F(Validation, CliRunOfDirectoryExits2) {
  fs::create_directories(dir_ / "somedir");
  const auto r = islet("run -q " + path("somedir") + "/ -o " + path("out.h5"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "is a directory");
  EXPECT_FALSE(fs::exists(path("out.h5")));
}

// ------------------------------------------------------------ threads

TEST(ThreadCount, LimitIs1024) {
  EXPECT_NO_THROW(env::check_thread_count(0));
  EXPECT_NO_THROW(env::check_thread_count(1));
  EXPECT_NO_THROW(env::check_thread_count(env::kMaxThreads));
  const std::string msg = input_error([] { env::check_thread_count(100000, "-j"); });
  EXPECT_HAS(msg, "-j 100000: too many threads (at most 1024");
  EXPECT_HAS(input_error([] { env::check_thread_count(1025, "threads="); }), "threads=1025: too many threads");
}

TEST_F(Validation, CliRefusesAbsurdThreadCounts) {
  for (const std::string args : {"run -q -j 100000", "run -q -j -3", "run -q -j 4294967297"}) {
    const auto r = islet(args + " --set sim.duration_s=0.01 --set network.n_cells=5 -o " + path("out.h5"));
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_FALSE(fs::exists(path("out.h5"))) << args;
  }
  EXPECT_HAS(islet("run -j 100000").out, "at most 1024");
  EXPECT_EQ(islet("sweep x.toml -j 100000").code, 2);
  EXPECT_EQ(islet("sweep x.toml --threads-per-task 5000").code, 2);
  EXPECT_EQ(islet("analyze x.h5 -j 100000").code, 2);
}

// ------------------------------------------------------------ exit codes

TEST(CliExitCodes, BadCommandLinesExit2) {
  for (const std::string args : {"", "run --bogus", "run -j abc", "frobnicate", "params --model", "analyze",
                                 "analyze --from abc x.h5", "analyze --bogus x.h5", "sweep", "run a.toml b.toml"}) {
    const auto r = islet(args);
    EXPECT_EQ(r.code, 2) << "islet " << args << ": " << r.out;
    EXPECT_FALSE(r.out.empty()) << "islet " << args;
  }
  EXPECT_EQ(islet("--help").code, 0);
  EXPECT_EQ(islet("run --help").code, 0);
  EXPECT_EQ(islet("--version").code, 0);
}

// ------------------------------------------------------------ domains

TEST(Domains, Predicates) {
  EXPECT_TRUE(in_domain(Domain::any, -1e300));
  EXPECT_FALSE(in_domain(Domain::any, std::numeric_limits<double>::infinity()));
  EXPECT_FALSE(in_domain(Domain::nonzero, 0.0));
  EXPECT_TRUE(in_domain(Domain::nonzero, -5.0));
  EXPECT_TRUE(in_domain(Domain::nonnegative, 0.0));
  EXPECT_FALSE(in_domain(Domain::nonnegative, -1e-300));
  EXPECT_FALSE(in_domain(Domain::positive, 0.0));
  EXPECT_FALSE(in_domain(Domain::fraction, 0.0));
  EXPECT_TRUE(in_domain(Domain::fraction, 1.0));
  EXPECT_FALSE(in_domain(Domain::fraction, 1.0000001));
  EXPECT_TRUE(in_domain(Domain::probability, 0.0));
  EXPECT_FALSE(in_domain(Domain::probability, -0.1));
  EXPECT_FALSE(in_domain(Domain::positive, std::nan("")));
}

// Every built-in model's defaults and initial values lie in their domains, and
// the domains are filled in: capacitances and time constants > 0, conductances
// >= 0, gating variables in [0, 1].
TEST(Domains, BuiltInTablesAreFilledAndConsistent) {
  for (const char* name : {"bertram2007", "cha2011", "pedersen2010"}) {
    const ModelInfo* m = &find_model(name);
    for (const auto& p : m->params)
      EXPECT_TRUE(in_domain(p.domain, p.default_value)) << m->name << " " << p.name;
    for (const auto& s : m->states) EXPECT_TRUE(in_domain(s.domain, s.initial)) << m->name << " " << s.name;
    int non_any = 0;
    for (const auto& p : m->params) non_any += p.domain != Domain::any;
    EXPECT_GT(non_any, static_cast<int>(m->params.size()) / 2) << m->name << ": domains not filled in";
  }
  const auto param = [](const char* model, const char* name) {
    const ModelInfo& m = find_model(model);
    return m.params[*find_param(m, name)].domain;
  };
  const auto state = [](const char* model, const char* name) {
    const ModelInfo& m = find_model(model);
    return m.states[*find_state(m, name)].domain;
  };
  EXPECT_EQ(param("bertram2007", "Cm"), Domain::positive);
  EXPECT_EQ(param("bertram2007", "tau_n"), Domain::positive);
  EXPECT_EQ(param("bertram2007", "gKATP"), Domain::nonnegative);
  EXPECT_EQ(param("bertram2007", "VK"), Domain::any);
  EXPECT_EQ(param("bertram2007", "fcyt"), Domain::fraction);
  EXPECT_EQ(state("bertram2007", "n"), Domain::probability);
  EXPECT_EQ(state("bertram2007", "c"), Domain::positive);
  EXPECT_EQ(param("cha2011", "Cm"), Domain::positive);
  EXPECT_EQ(param("cha2011", "gKATP"), Domain::nonnegative);
  EXPECT_EQ(state("cha2011", "Cai"), Domain::positive);
  EXPECT_EQ(param("pedersen2010", "cm"), Domain::positive);
  EXPECT_EQ(param("pedersen2010", "km_Na"), Domain::nonzero);
  EXPECT_EQ(state("pedersen2010", "h_Na"), Domain::probability);
}

TEST(Domains, RegisterModelRefusesDefaultsOutsideTheirDomain) {
  static const StateInfo states[] = {{"v", "1", 0.0, "v", Domain::any}};
  static const ParamInfo params[] = {{"tau", "ms", 0.0, "time constant", Domain::positive}};
  ModelInfo m = find_model("bertram2007");
  m.name = "bad_domain_model";
  m.states = states;
  m.params = params;
  m.coupled = {};
  m.spike_state = "v";
  m.calcium = "";
  m.default_heterogeneity = {};
  EXPECT_HAS(input_error([&] { register_model(m); }), "the default of parameter 'tau' is outside its domain");
}

struct BadValue {
  const char* toml;
  const char* key;
  const char* expected;
};

class ConfigDomain : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigDomain, RefusedWithFileLineKeyAndDomain) {
  const BadValue& b = GetParam();
  const std::string msg = input_error([&] { parse_config(b.toml, "run.toml"); });
  EXPECT_HAS(msg, "run.toml:");
  EXPECT_HAS(msg, b.key);
  EXPECT_HAS(msg, b.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Params, ConfigDomain,
    ::testing::Values(BadValue{"[params]\nCm = 0", "params.Cm", "0 is not allowed: expected a number > 0"},
                      BadValue{"[params]\nCm = -5300", "params.Cm", "expected a number > 0 (membrane capacitance, fF)"},
                      BadValue{"[params]\ngK = -1", "params.gK", "expected a number >= 0"},
                      BadValue{"[params]\ngKATP = -1e-9", "params.gKATP", "expected a number >= 0"},
                      BadValue{"[params]\nfcyt = 1.5", "params.fcyt", "expected a fraction in (0, 1]"},
                      BadValue{"[params]\ntau_n = 0", "params.tau_n", "expected a number > 0"},
                      BadValue{"[initial]\nc = -0.1", "initial.c", "expected a number > 0"},
                      BadValue{"[initial]\nn = 1.5", "initial.n", "expected a number in [0, 1]"},
                      BadValue{"[initial]\nG6P = -1", "initial.G6P", "expected a number >= 0"},
                      BadValue{"[model]\nname = \"cha2011\"\n[params]\nCm = 0", "params.Cm", "expected a number > 0"},
                      BadValue{"[model]\nname = \"pedersen2010\"\n[params]\nkm_Na = 0", "params.km_Na",
                               "expected a number other than 0"},
                      BadValue{"[model]\nname = \"pedersen2010\"\n[params]\ngNa = -0.1", "params.gNa",
                               "expected a number >= 0"}));

TEST(Domains, AcceptedValuesStillAccepted) {
  EXPECT_NO_THROW(parse_config("[params]\nVK = -90\np18 = -0.5\ngKATP = 0\n[initial]\nV = -70\nn = 0", "ok.toml"));
  EXPECT_NO_THROW(
      parse_config("[model]\nname = \"pedersen2010\"\n[params]\nkm_Na = 5\nEleak = -70\n", "ok.toml"));
}

TEST_F(Validation, CellsCsvColumnsAreChecked) {
  write("cells.csv", "id,x,y,z,Cm\n0,0,0,0,5300\n1,10,0,0,5300\n2,20,0,0,-1\n");
  write("edges.csv", "i,j,weight\n0,1,1\n1,2,1\n");
  const std::string cfg = write("run.toml",
                                "[sim]\nduration_s = 0.01\n[network]\nkind = \"csv\"\ncells = \"cells.csv\"\n"
                                "edges = \"edges.csv\"\n");
  const std::string msg = input_error([&] { build_setup(load_config(cfg)); });
  EXPECT_HAS(msg, path("cells.csv"));
  EXPECT_HAS(msg, "column 'Cm'");
  EXPECT_HAS(msg, "cell 2: Cm = -1 is not allowed: expected a number > 0");
}

TEST(Domains, NetworkCellParamsAndHeterogeneityAreChecked) {
  RunConfig cfg = parse_config("[sim]\nduration_s = 0.01\n", "run.toml");
  Network net = make_lattice(3, 1, 1);
  net.cell_params.push_back({"kPMCA", {0.1, -5, 0.1}});
  const std::string msg = input_error([&] { build_setup(cfg, &net); });
  EXPECT_HAS(msg, "network: per-cell parameter 'kPMCA'");
  EXPECT_HAS(msg, "cell 1: kPMCA = -5 is not allowed: expected a number >= 0");
  // A fraction near 1 times heterogeneity factors above 1.
  const RunConfig het = parse_config(
      "[sim]\nduration_s = 0.01\n[network]\nn_cells = 20\n[params]\nfcyt = 0.99\n[heterogeneity]\nfcyt = 0.3\n",
      "het.toml");
  const std::string h = input_error([&] { build_setup(het); });
  EXPECT_HAS(h, "heterogeneity.fcyt");
  EXPECT_HAS(h, "expected a fraction in (0, 1]");
}

TEST(Domains, CheckDomainMessage) {
  const ModelInfo& m = find_model("bertram2007");
  const std::vector<double> v = {5300, 0};
  EXPECT_HAS(input_error([&] { check_domain(m.params[*find_param(m, "Cm")], v, "params['Cm']"); }),
             "params['Cm']: cell 1: Cm = 0 is not allowed: expected a number > 0 (membrane capacitance, fF)");
  const std::vector<double> one = {0};
  const std::string u = input_error([&] { check_domain(m.params[*find_param(m, "Cm")], one, "params.Cm", false); });
  EXPECT_EQ(u.find("cell"), std::string::npos) << u;
}

// ------------------------------------------------------------ ranges

class ConfigRange : public ::testing::TestWithParam<BadValue> {};

// Each bad value is refused with the file name, the key and the allowed range.
TEST_P(ConfigRange, RefusedWithFileKeyAndRange) {
  const BadValue& b = GetParam();
  const std::string msg = input_error([&] { parse_config(b.toml, "bad_range.toml"); });
  EXPECT_HAS(msg, "bad_range.toml");
  EXPECT_HAS(msg, b.key);
  EXPECT_HAS(msg, b.expected);
}

INSTANTIATE_TEST_SUITE_P(
    Values, ConfigRange,
    ::testing::Values(
        BadValue{"[sim]\nintegrator = \"rk4\"\nduration_s = 1e13\ndt_ms = 0.0001", "sim.duration_s", "expected at most 2^53"},
        BadValue{"[sim]\nduration_s = 1e300", "sim.duration_s", "expected at most 2^53"},
        BadValue{"[sim]\nintegrator = \"rk4\"\ndt_ms = 1e-300", "sim.dt_ms", "expected at most 2^53"},
        BadValue{"[sim]\nintegrator = \"rk4\"\n[record]\ninterval_ms = 1e300", "record.interval_ms", "at most 2^53 steps per sample"},
        BadValue{"[sim]\nintegrator = \"rk4\"\n[record]\ninterval_ms = 0.1", "record.interval_ms", "whole multiple of sim.dt_ms"},
        BadValue{"[record]\nfile = \"\"", "record.file", "expected an output file name"},
        BadValue{"[network]\nn_cells = 1000000000", "network.n_cells", "expected 1..100000000 cells"},
        BadValue{"[network]\nn_cells = 0", "network.n_cells", "expected an integer > 0"},
        BadValue{"[network]\nn_cells = -1", "network.n_cells", "expected an integer > 0"},
        BadValue{"[network]\nkind = \"lattice\"\nnx = 1000\nny = 1000\nnz = 1000", "network.nx",
                 "at most 100000000 cells"},
        BadValue{"[network]\nkind = \"lattice\"\nnx = 4294967296", "network.nx", "expected 1..100000000"},
        BadValue{"[network]\ncontact_factor = 0.5", "network.contact_factor", "expected a number > 1"},
        BadValue{"[network]\noversample = 0.5", "network.oversample", "expected a number in [1, 1000]"},
        BadValue{"[network]\nn_cells = 10000000\noversample = 100", "network.oversample", "expected at most"},
        BadValue{"[network]\nkind = \"csv\"\ncells = \"\"\nedges = \"e.csv\"", "network.cells",
                 "expected a file name"},
        BadValue{"[sim]\nseed = -1", "sim.seed", "expected an integer 0..9223372036854775807"},
        BadValue{"[sim]\nseed = 1.5", "sim.seed", "expected an integer 0..9223372036854775807"},
        // Floats beyond int64's range (converting them is undefined; fuzz_sweep found it).
        BadValue{"[sim]\nseed = 2e111", "sim.seed", "expected an integer 0..9223372036854775807 (2^63 - 1), got a number"},
        BadValue{"[network]\nn_cells = 1e300", "network.n_cells", "expected an integer, got a number"},
        BadValue{"[glucose]\nlevel = 1e300", "glucose.level", "expected a glucose level in [0, 1000] mM"},
        BadValue{"[glucose]\nbasal = -1", "glucose.basal", "expected a number >= 0"},
        BadValue{"[glucose]\nmode = \"protocol\"\nevents = [{t_s = 1, G = 5000}]", "glucose.events[0].G",
                 "[0, 1000] mM"},
        BadValue{"[heterogeneity]\ngK = 1e200", "heterogeneity.gK", "coefficient of variation in [0, 10]"},
        BadValue{"[heterogeneity]\ngK = {cv = 50, dist = \"gamma\"}", "heterogeneity.gK.cv", "[0, 10]"},
        BadValue{"[coupling]\ncell_conductance = {cv = 11}", "coupling.cell_conductance.cv", "[0, 10]"},
        BadValue{"[coupling]\ngV = -1", "coupling.gV", "expected a number >= 0"},
        BadValue{"[sim]\nduration_s = inf", "sim.duration_s", "expected a finite number"},
        BadValue{"[sim]\nduration_s = \"600\"", "sim.duration_s", "expected a number, got a string"},
        BadValue{"[analysis]\nseed = -2", "analysis.seed", "expected an integer 0..9223372036854775807"}));

// A value from --set is located at the --set, also for the cross-key checks.
TEST(ConfigRangeSet, CrossKeyErrorsNameTheSet) {
  const std::string msg = input_error([] { parse_config("", "<built-in default>", {"sim.duration_s=1e300"}); });
  EXPECT_HAS(msg, "--set sim.duration_s=1e300: sim.duration_s");
}

// ------------------------------------------------------------ CSV files

TEST_F(Validation, CsvIdsThatWouldWrapAreRefused) {
  write("cells.csv", "id,x,y,z\n0,0,0,0\n1,10,0,0\n");
  for (const std::string edge : {"-1,0,1", "4294967297,0,1", "0,18446744073709551617,1", "0,1,1e400"}) {
    write("edges.csv", "i,j,weight\n" + edge + "\n");
    const std::string msg = input_error([&] { load_network_csv(path("cells.csv"), path("edges.csv"), {}); });
    EXPECT_HAS(msg, path("edges.csv") + ":2:");
  }
  write("cells.csv", "id,x,y,z\n-1,0,0,0\n");
  write("edges.csv", "i,j,weight\n");
  EXPECT_HAS(input_error([&] { load_network_csv(path("cells.csv"), path("edges.csv"), {}); }),
             path("cells.csv") + ":2: id '-1' is not a cell id");
  write("cells.csv", "id,x,y,z\n0,1e999,0,0\n");
  EXPECT_HAS(input_error([&] { load_network_csv(path("cells.csv"), path("edges.csv"), {}); }),
             "x '1e999' is out of range");
}

// docs/models/<model>.md shows each parameter's and state's domain as the code
// has it (the "domain" column of its tables).
TEST(Domains, ModelDocsTablesShowTheCodesDomains) {
  for (const char* name : {"bertram2007", "cha2011", "pedersen2010"}) {
    const ModelInfo& m = find_model(name);
    std::ifstream in(std::string(ISLET_SOURCE_DIR) + "/docs/models/" + name + ".md");
    ASSERT_TRUE(in) << name;
    std::string line;
    std::size_t rows = 0;
    bool tables = false;  // in "## State variables" or "## Parameters"
    while (std::getline(in, line)) {
      if (line.rfind("## ", 0) == 0)
        tables = line.rfind("## State variables", 0) == 0 || line.rfind("## Parameters", 0) == 0;
      if (!tables || line.rfind("| `", 0) != 0) continue;
      std::vector<std::string> f;
      std::stringstream ss(line.substr(1));
      std::string cell;
      while (std::getline(ss, cell, '|')) {
        cell.erase(0, cell.find_first_not_of(" `"));
        cell.erase(cell.find_last_not_of(" `") + 1);
        f.push_back(cell);
      }
      if (f.size() != 5) continue;
      if (const auto p = find_param(m, f[0])) {
        EXPECT_EQ(f[3], short_name(m.params[*p].domain)) << name << " parameter " << f[0];
        ++rows;
      } else if (const auto s = find_state(m, f[0])) {
        EXPECT_EQ(f[3], short_name(m.states[*s].domain)) << name << " state " << f[0];
        ++rows;
      }
    }
    EXPECT_EQ(rows, m.params.size() + m.states.size()) << name;
  }
}

TEST(CliParams, ShowsDomains) {
  const auto r = islet("params --markdown");
  EXPECT_EQ(r.code, 0);
  EXPECT_HAS(r.out, "| Cm | fF | 5300 | > 0 | membrane capacitance |");
  EXPECT_HAS(r.out, "| n | 1 | 0 | [0, 1] |");
}

// Out of memory: exit 1 with a message that says so (not an abort, not a bare
// "std::bad_alloc"), and no output file.
TEST_F(Validation, OutOfMemoryExits1WithAMessage) {
#if defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "AddressSanitizer maps terabytes of shadow memory: no run starts under ulimit -v";
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  GTEST_SKIP() << "AddressSanitizer maps terabytes of shadow memory: no run starts under ulimit -v";
#endif
#endif
  const std::string cmd = "bash -c 'ulimit -v 1500000; " + std::string(ISLET_CLI) +
                          " run -q --set network.n_cells=20000000 --set sim.duration_s=0.01 -o " + path("oom.h5") +
                          "' 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  ASSERT_TRUE(WIFEXITED(st)) << out;
  EXPECT_EQ(WEXITSTATUS(st), 1) << out;
  EXPECT_HAS(out, "islet: error: out of memory");
  EXPECT_FALSE(fs::exists(path("oom.h5")));
}
