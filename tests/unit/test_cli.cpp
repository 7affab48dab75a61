// The `islet` tool end to end: exit codes, messages, output files.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "isletsim/h5io.hpp"

using namespace isletsim;
using isletsim::test::islet;
using isletsim::test::slurp;
namespace fs = std::filesystem;

namespace {



class Cli : public test::ScratchTest {
 protected:
  Cli() : ScratchTest("cli") {}
};


}  // namespace

TEST_F(Cli, RunWritesCompleteFile) {
  const auto r = islet("run -q -j 2 --set sim.duration_s=0.5 --set network.n_cells=50 -o " + path("out.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_HAS(r.out, "complete: 50 cells");
  const H5Run f = read_run(path("out.h5"));
  EXPECT_EQ(f.attr("status"), "complete");
  EXPECT_EQ(f.n_cells, 50u);
  EXPECT_EQ(f.n_samples, 51u);  // 0, 10, ..., 500 ms
  EXPECT_EQ(f.var_names, (std::vector<std::string>{"c", "V"}));
  EXPECT_HAS(f.attr("config"), "duration_s = 0.5");
  EXPECT_EQ(f.attr("integrator"), "dopri5");  // Bertram 2007's default
  EXPECT_EQ(f.params.size(), 66u);
}

TEST_F(Cli, ParamsListsTheTable) {
  const auto r = islet("params");
  EXPECT_EQ(r.code, 0);
  EXPECT_HAS(r.out, "gKATP");
  EXPECT_HAS(r.out, "16000");
  EXPECT_HAS(r.out, "pS");
}

TEST_F(Cli, InfoReportsCores) {
  const auto r = islet("info");
  EXPECT_EQ(r.code, 0);
  EXPECT_HAS(r.out, "usable cores");
  EXPECT_HAS(r.out, "affinity");
}

TEST_F(Cli, BadConfigExitsNonZeroWithoutOutput) {
  const std::string cfg = write("bad.toml", "[sim]\nduration_s = 1\n[params]\ngKATP_max = 3\n");
  const auto r = islet("run -q " + cfg + " -o " + path("never.h5"));
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "bad.toml:4:");
  EXPECT_HAS(r.out, "did you mean 'gKATP'");
  EXPECT_FALSE(fs::exists(path("never.h5")));
  const auto m = islet("run -q " + path("missing.toml"));
  EXPECT_EQ(m.code, 2);
  EXPECT_HAS(m.out, "cannot open config file");
  const auto s = islet("run -q --set sim.dt_ms=0");
  EXPECT_EQ(s.code, 2);
  EXPECT_HAS(s.out, "sim.dt_ms");
}

TEST_F(Cli, CsvNetworkAndBadRows) {
  write("cells.csv", "id,x,y,z,gKATP\n0,0,0,0,15000\n1,10,0,0,16000\n2,20,0,0,17000\n");
  write("edges.csv", "i,j,weight\n0,1,1.0\n1,2,0.5\n");
  const std::string cfg = write("run.toml",
                                "[sim]\nduration_s = 0.2\n[network]\nkind = \"csv\"\ncells = \"cells.csv\"\n"
                                "edges = \"edges.csv\"\n[heterogeneity]\n[coupling]\nweights = \"network\"\n");
  // Relative CSV paths resolve against the config file's directory.
  const auto ok = islet("run -q " + cfg + " --set heterogeneity.gKATP=0 -o " + path("csv.h5"));
  ASSERT_EQ(ok.code, 0) << ok.out;
  const H5Run f = read_run(path("csv.h5"));
  for (const auto& [name, v] : f.params) {
    if (name == "gKATP") {
      EXPECT_EQ(v, (std::vector<double>{15000, 16000, 17000}));
    }
  }
  EXPECT_EQ(f.edge_w, (std::vector<double>{1.0, 0.5}));

  write("edges.csv", "i,j,weight\n0,1,1.0\n1,1,0.5\n");
  auto r = islet("run -q " + cfg + " -o " + path("x.h5"));
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "edges.csv:3");
  write("edges.csv", "i,j,weight\n0,1,-1.0\n");
  r = islet("run -q " + cfg + " -o " + path("x.h5"));
  EXPECT_HAS(r.out, "edges.csv:2");
  write("edges.csv", "i,j,weight\n0,7,1\n");
  r = islet("run -q " + cfg + " -o " + path("x.h5"));
  EXPECT_HAS(r.out, "edges.csv:2");
  EXPECT_HAS(r.out, "7");
  write("edges.csv", "i,j,weight\n0,1,nan\n");
  r = islet("run -q " + cfg + " -o " + path("x.h5"));
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "edges.csv:2");
  write("edges.csv", "i,j,weight\n0,1,1\n");
  write("cells.csv", "id,x,y,z,gKATP\n0,0,0,0,15000\n1,10,zero,0,16000\n2,20,0,0,17000\n");
  r = islet("run -q " + cfg + " -o " + path("x.h5"));
  EXPECT_EQ(r.code, 2);
  EXPECT_HAS(r.out, "cells.csv:3");
  EXPECT_FALSE(fs::exists(path("x.h5")));
}

TEST_F(Cli, BlowUpKeepsDataAndExitsNonZero) {
  // -j 3 and a sample at every step: threads reach control points often and
  // at different times (a report read after a barrier was once overwritten
  // by a faster thread's next report, and the threads disagreed: a hang).
  const auto r = islet("run -q -j 3 --set sim.integrator=euler --set params.tau_n=0.04 --set record.interval_ms=0.1 "
                       "--set record.dtype=float64 "
                       "--set network.kind=lattice --set network.nx=3 --set network.ny=3 --set network.nz=3 "
                       "--set sim.duration_s=2 -o " + path("blow.h5"));
  EXPECT_EQ(r.code, 1);
  EXPECT_HAS(r.out, "blew up");
  EXPECT_HAS(r.out, "variable");
  const H5Run f = read_run(path("blow.h5"));
  EXPECT_EQ(f.attr("status"), "failed");
  EXPECT_GT(f.n_samples, 0u);
  for (double x : f.var("c")) ASSERT_TRUE(std::isfinite(x));
}

TEST_F(Cli, SigintLeavesValidInterruptedFile) {
  // Start a long run, interrupt it, and read what it kept (the default
  // 1000 cells, ~15 s on a fast core: a 100-cell islet with dopri5 may end
  // within the 1.5 s before the signal).
  const std::string out = path("int.h5");
  const std::string cmd = std::string(ISLET_CLI) + " run -q -j 1 --set sim.duration_s=600 -o " +
                          out + " > " + path("log.txt") + " 2>&1 & pid=$!; sleep 1.5; kill -INT $pid; wait $pid; echo $? > " +
                          path("code.txt");
  ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
  std::ifstream codef(path("code.txt"));
  int code = -1;
  codef >> code;
  EXPECT_EQ(code, 130);
  const H5Run f = read_run(out);
  EXPECT_EQ(f.attr("status"), "interrupted");
  EXPECT_GT(f.n_samples, 0u);
  EXPECT_EQ(f.time.size(), f.n_samples);
}

// A file alone reproduces its run: its stored config runs again to the same bits.
TEST_F(Cli, OutputFileReproducesItsRun) {
  const auto a = islet("run -q --set sim.duration_s=0.3 --set network.n_cells=40 --set sim.seed=7 "
                       "--set record.dtype=float64 -o " + path("a.h5"));
  ASSERT_EQ(a.code, 0) << a.out;
  const auto b = islet("run -q " + path("a.h5") + " -o " + path("b.h5"));
  ASSERT_EQ(b.code, 0) << b.out;
  const H5Run ra = read_run(path("a.h5")), rb = read_run(path("b.h5"));
  std::string cb = rb.attr("config");  // the same config but for the output path
  cb.replace(cb.find("b.h5"), 4, "a.h5");
  EXPECT_EQ(ra.attr("config"), cb);
  EXPECT_EQ(ra.data, rb.data);
  EXPECT_EQ(ra.edge_w, rb.edge_w);
  EXPECT_EQ(ra.params, rb.params);
}

// A run file damaged so that HDF5 1.10.8 crashes listing one of its groups
// (found by fuzzing the reader): every command that reads it stops with an
// error naming the file and exit status 2, never a segmentation fault, and
// writes nothing.
TEST_F(Cli, DamagedFileThatCrashesHdf5IsAnError) {
  const std::string damaged = std::string(ISLET_SOURCE_DIR) + "/tests/data/damaged_run.h5";
  const std::string copy = path("damaged.h5");
  fs::copy_file(damaged, copy);
  for (const std::string& cmd : {"analyze " + copy + " -o " + path("an"), "run -q --continue " + copy + " -o " +
                                     path("more.h5"), "run -q " + copy + " -o " + path("again.h5")}) {
    const auto r = islet(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_HAS(r.out, "islet: error: '" + copy + "'");
  }
  EXPECT_FALSE(fs::exists(path("more.h5")));
  EXPECT_FALSE(fs::exists(path("again.h5")));
  EXPECT_FALSE(fs::exists(path("an.analysis.h5")));
}
