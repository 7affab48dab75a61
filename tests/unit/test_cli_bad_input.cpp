// Bad input and write errors of `islet network --export`, `islet analyze` and
// `islet bifurcation`: exit status 2 with a message naming the option or path
// and what was expected, 1 for a write error (with its reason), and nothing
// written or left behind (no temporary files, no replaced FIFO or directory).
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using isletsim::test::islet;
namespace fs = std::filesystem;

namespace {

class CliBadInput : public isletsim::test::ScratchTest {
 protected:
  CliBadInput() : ScratchTest("badinput") {}
};

const std::string kSmallNetwork = "network -q --set network.n_cells=10 --export ";
// Before the command where a FIFO is among its outputs: a command that opened
// it for writing would wait for a reader for ever.
const std::string kFifoGuard = "timeout 60 ";

}  // namespace

// ------------------------------------------------------------ network --export

TEST_F(CliBadInput, NetworkExportNeverReplacesWhatIsNotARegularFile) {
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  fs::create_directories(dir_ / "sub");
  struct Case {
    std::string cells, edges, named, kind;
  };
  for (const Case& c : {Case{"c.csv", "fifo", "fifo", "is a FIFO"}, Case{"c.csv", "sub", "sub", "is a directory"},
                        Case{"sub", "e.csv", "sub", "is a directory"}, Case{"c.csv", "sub/", "sub/", "is a directory"},
                        Case{"c.csv", "new/", "new/", "names a directory"},
                        Case{"c.csv", "no/e.csv", "no/e.csv", "the folder '" + path("no") + "' does not exist"}}) {
    const auto r = islet(kSmallNetwork + path(c.cells) + " " + path(c.edges), "", kFifoGuard);
    EXPECT_EQ(r.code, 2) << c.cells << " " << c.edges << ": " << r.out;
    EXPECT_HAS(r.out, "'" + path(c.named) + "'");
    EXPECT_HAS(r.out, c.kind);
    // Both targets are checked before anything is written: neither file exists.
    EXPECT_EQ(listing(), (std::vector<std::string>{"fifo", "sub"})) << c.cells << " " << c.edges;
  }
  struct stat st {};
  ASSERT_EQ(::lstat(path("fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_TRUE(fs::is_empty(dir_ / "sub"));
  // An ordinary file is replaced as before.
  const auto ok = islet(kSmallNetwork + path("c.csv") + " " + path("e.csv"));
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_EQ(listing(), (std::vector<std::string>{"c.csv", "e.csv", "fifo", "sub"}));
}

TEST_F(CliBadInput, NetworkExportWriteErrorIsReportedAndCleanedUp) {
  // A file-size limit below the cells file: the write fails (not SIGXFSZ).
  const auto r = islet("network --set network.n_cells=2000 --export " + path("big_c.csv") + " " + path("big_e.csv"), "",
                       "ulimit -f 20 && ");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "'" + path("big_c.csv") + "'");
  EXPECT_HAS(r.out, "File too large");
  EXPECT_TRUE(listing().empty()) << r.out;  // no temporary file left
}

TEST_F(CliBadInput, NetworkExportWriteErrorOfTheSecondFileLeavesBothAsTheyWere) {
  // A lattice's cells file (about 120 KB) fits under the limit of 200 KB, its
  // edges file (about 270 KB) does not: the second write fails.
  write("c.csv", "old cells\n");
  write("e.csv", "old edges\n");
  const auto r = islet(
      "network -q --set network.kind=lattice --set network.nx=20 --set network.ny=20 "
      "--set network.nz=20 --export " +
          path("c.csv") + " " + path("e.csv"),
      "", "ulimit -f 400 && ");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "cannot write '" + path("e.csv") + "': File too large");
  EXPECT_EQ(isletsim::test::slurp(path("c.csv")), "old cells\n");
  EXPECT_EQ(isletsim::test::slurp(path("e.csv")), "old edges\n");
  EXPECT_EQ(listing(), (std::vector<std::string>{"c.csv", "e.csv"}));  // no temporary file left
}

// ------------------------------------------------------------ analyze

namespace {

// A 32-cell run (60 s, calcium every 100 ms) to analyse: its path.
std::string small_run(const std::string& where) {
  const auto r = islet(
      "run -q -j 1 --set sim.duration_s=60 --set network.kind=lattice --set network.nx=4 "
      "--set network.ny=4 --set network.nz=2 --set 'record.vars=[\"c\"]' --set record.interval_ms=100 "
      "--set analysis.k_avg=6 --set analysis.k_tolerance=2 -o " +
      where);
  EXPECT_EQ(r.code, 0) << r.out;
  return where;
}

// A recording of 6 cells without a time column (10 Hz): pulses 10 s apart.
std::string six_cells(const std::string& where) {
  std::ofstream f(where);
  for (int s = 0; s < 600; ++s) {
    for (int c = 0; c < 6; ++c) {
      const double t = s / 10.0 - 2 - 0.05 * c, phase = t - 10 * std::floor(t / 10);
      f << (c ? " " : "") << 0.1 + 0.5 * (phase < 3) + 0.001 * ((s * 7 + c * 13) % 5);
    }
    f << '\n';
  }
  return where;
}

}  // namespace

TEST_F(CliBadInput, AnalyzeRefusesFlagsThatAreNotFiniteOrOutOfRange) {
  const std::string run = small_run(path("r.h5"));
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : {Case{"--k-avg nan", "--k-avg nan: expected a finite number > 0"},
                        Case{"--k-avg inf", "--k-avg inf: expected a finite number > 0"},
                        Case{"--from nan", "--from nan: expected a finite number >= 0"},
                        Case{"--to nan", "--to nan: expected a finite number > 0"},
                        Case{"--stimulus nan", "--stimulus nan: expected a finite number >= 0"},
                        Case{"--resample-hz nan", "--resample-hz nan: expected a finite number >= 0"},
                        Case{"--threshold nan", "--threshold nan: expected a finite number in [-1, 1]"},
                        Case{"--threshold 2", "--threshold 2: expected a finite number in [-1, 1]"},
                        Case{"--threshold -5", "--threshold -5: expected a finite number in [-1, 1]"},
                        Case{"--threshold 0.5 --k-avg 4", "--threshold 0.5 and --k-avg 4 exclude each other"}}) {
    const auto r = islet("analyze " + run + " --no-figures -q " + c.flags + " -o " + path("x"));
    EXPECT_EQ(r.code, 2) << c.flags << ": " << r.out;
    EXPECT_HAS(r.out, c.message);
  }
  // A recording's --sampling-hz: 0 (and NaN) as well as negative rates.
  const std::string rec = six_cells(path("rec.txt"));
  const std::string with_rate = "analyze " + rec + " --no-figures -q -o " + path("x") + " --sampling-hz ";
  for (const std::string hz : {"0", "nan", "-10"}) {
    const auto r = islet(with_rate + hz);
    EXPECT_EQ(r.code, 2) << hz << ": " << r.out;
    EXPECT_HAS(r.out, "--sampling-hz " + hz + ": expected a finite rate > 0 in Hz");
  }
  EXPECT_EQ(listing(), (std::vector<std::string>{"r.h5", "rec.txt"}));
  // The limits themselves are allowed.
  const auto ok = islet("analyze " + run + " --no-figures -q --threshold -1 -o " + path("x"));
  EXPECT_EQ(ok.code, 0) << ok.out;
}

TEST_F(CliBadInput, AnalyzeUnreachableDegreeNamesTheOption) {
  // One message, the library's, names analysis.k_avg whatever set it (the
  // default, --k-avg, --set or a config file) and the degrees 6 cells allow.
  const std::string rec = six_cells(path("rec.txt"));
  const std::string analyze = "analyze " + rec + " --sampling-hz 10 --no-figures -q -o " + path("x");
  const std::string range =
      "expected an average degree from 0.333333 (a single edge) to 5 (every pair of cells "
      "connected)";
  auto r = islet(analyze);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "analysis.k_avg = 8 cannot be reached with 6 analysed cells: " + range +
                        "; give a smaller analysis.k_avg or a fixed analysis.threshold");
  EXPECT_EQ(r.out.find("threshold_for_degree"), std::string::npos) << r.out;
  for (const std::string given : {" --k-avg 1000", " --set analysis.k_avg=1000"}) {
    r = islet(analyze + given);
    EXPECT_EQ(r.code, 2) << given << ": " << r.out;
    EXPECT_HAS(r.out, "analysis.k_avg = 1000 cannot be reached with 6 analysed cells: " + range);
  }
  std::ofstream(path("cfg.toml")) << "[analysis]\nk_avg = 1000\n";
  r = islet(analyze + " --config " + path("cfg.toml"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "analysis.k_avg = 1000 cannot be reached with 6 analysed cells: " + range);
  r = islet(analyze + " --k-avg 0.1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "analysis.k_avg = 0.1 is below the smallest average degree 6 analysed cells can have: " + range +
                        "; give a larger analysis.k_avg");
  EXPECT_EQ(listing(), (std::vector<std::string>{"cfg.toml", "rec.txt"}));
  // The largest reachable degree is accepted.
  r = islet(analyze + " --k-avg 5");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(CliBadInput, AnalyzeRefusesEmptyOrDirectoryStemsAndOddOutputs) {
  const std::string run = small_run(path("r.h5"));
  fs::create_directories(dir_ / "an");
  const std::string analyze = "analyze " + run + " --no-figures -q -o ";
  for (const std::string& o : std::vector<std::string>{"''", path("an") + "/", path("an") + "/.", path("an") + "/.."}) {
    const auto r = islet(analyze + o);
    EXPECT_EQ(r.code, 2) << o << ": " << r.out;
    EXPECT_HAS(r.out, "expected an output stem");
  }
  EXPECT_TRUE(fs::is_empty(dir_ / "an"));  // no hidden an/.analysis.h5
  ASSERT_EQ(::mkfifo(path("f.cells.csv").c_str(), 0644), 0);
  fs::create_directories(dir_ / "d.summary.csv");
  auto r = islet("analyze " + run + " --no-figures -q -o " + path("f"), "", kFifoGuard);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "'" + path("f.cells.csv") + "' is a FIFO");
  r = islet("analyze " + run + " --no-figures -q -o " + path("d"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "'" + path("d.summary.csv") + "' is a directory");
  r = islet("analyze " + run + " --no-figures -q -o " + path("no/x"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_HAS(r.out, "the folder '" + path("no") + "' does not exist");
  EXPECT_EQ(listing(), (std::vector<std::string>{"an", "d.summary.csv", "f.cells.csv", "r.h5"}));
}

// An analysis file given where a run is expected (islet analyze, islet run)
// is named as such, and a directory given as a sweep file too.
TEST_F(CliBadInput, AnAnalysisFileIsNoRunAndADirectoryNoSweepFile) {
  const std::string run = small_run(path("r.h5"));
  ASSERT_EQ(islet("analyze " + run + " --no-figures -q -o " + path("r")).code, 0);
  for (const std::string& cmd : {"analyze " + path("r.analysis.h5") + " --no-figures -q -o " + path("again"),
                                 "run " + path("r.analysis.h5") + " -q -o " + path("again.h5")}) {
    const auto r = islet(cmd);
    EXPECT_EQ(r.code, 2) << cmd << "\n" << r.out;
    EXPECT_NE(r.out.find("it is an analysis file"), std::string::npos) << r.out;
  }
  fs::create_directories(dir_ / "sw");
  const auto r = islet("sweep " + path("sw"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is a directory; expected a sweep file"), std::string::npos) << r.out;
}

TEST_F(CliBadInput, AnalyzeWriteErrorIsReportedAndCleanedUp) {
  const std::string run = small_run(path("r.h5"));
  // A file-size limit below the analysis file: the write fails (not SIGXFSZ,
  // and not libhdf5's crash at exit after a failed flush).
  const auto r = islet("analyze " + run + " --no-figures -q -o " + path("x"), "", "ulimit -f 20 && ");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "cannot write '" + path("x.analysis.h5") + "'");
  EXPECT_HAS(r.out, "File too large");
  EXPECT_EQ(r.out.find(".tmp"), std::string::npos) << r.out;  // the file named, not its temporary name
  EXPECT_EQ(listing(), (std::vector<std::string>{"r.h5"}));  // no temporary file left
}

// A write error whose message names its file already ("cannot write
// 'STEM.cells.csv': ...", here a rename that fails: a file is mounted over
// STEM.cells.csv) is reported as it is, not wrapped in a second "cannot
// write"; the earlier table stays. Mounting needs root (as in a container):
// skipped elsewhere.
TEST_F(CliBadInput, AnalyzeWriteErrorNamesItsFileOnce) {
  const std::string run = small_run(path("r.h5"));
  std::ofstream(path("x.cells.csv")) << "the earlier table";
  std::ofstream(path("other")) << "in the way";
  if (geteuid() != 0 || mount(path("other").c_str(), path("x.cells.csv").c_str(), nullptr, MS_BIND, nullptr) != 0)
    GTEST_SKIP() << "cannot mount a file over another here";
  const auto r = islet("analyze " + run + " --no-figures -q -o " + path("x"));
  umount(path("x.cells.csv").c_str());
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "error: cannot write '" + path("x.cells.csv") + "': Device or resource busy");
  EXPECT_EQ(r.out.find("cannot write", r.out.find("cannot write") + 1), std::string::npos) << r.out;  // once
  EXPECT_EQ(isletsim::test::slurp(path("x.cells.csv")), "the earlier table");
  EXPECT_EQ(listing(), (std::vector<std::string>{"other", "r.h5", "x.cells.csv"}));  // nothing else left
}

// The three outputs of a file are written all or none: in a sweep directory
// (which has no up-front check of the outputs), a task whose summary table
// cannot be written (a directory has its name) leaves no analysis file
// behind, and the files of an earlier analysis as they were.
TEST_F(CliBadInput, AnalyzeWritesItsThreeFilesAllOrNone) {
  const std::string run = small_run(path("r.h5"));
  fs::create_directories(dir_ / "sw" / "task_1.summary.csv" / "in_the_way");
  fs::copy_file(run, dir_ / "sw" / "task_0.h5");
  fs::copy_file(run, dir_ / "sw" / "task_1.h5");
  std::ofstream(dir_ / "sw" / "summary.csv")
      << "task,coupling.gV,status,wall_s,file,message\n0,0,ok,1,task_0.h5,\n1,120,ok,1,task_1.h5,\n";
  std::ofstream(dir_ / "sw" / "task_1.cells.csv") << "an earlier table";
  const auto r = islet("analyze " + path("sw") + " --no-figures -j 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "cannot write '" + path("sw/task_1.summary.csv") + "': Is a directory");
  std::vector<std::string> names;
  for (const auto& f : fs::directory_iterator(dir_ / "sw")) names.push_back(f.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"analysis.csv", "summary.csv", "task_0.analysis.h5", "task_0.cells.csv",
                                             "task_0.h5", "task_0.summary.csv", "task_1.cells.csv", "task_1.h5",
                                             "task_1.summary.csv"}));
  EXPECT_EQ(isletsim::test::slurp(dir_ / "sw" / "task_1.cells.csv"), "an earlier table");
  EXPECT_TRUE(fs::is_directory(dir_ / "sw" / "task_1.summary.csv" / "in_the_way"));
}

// ------------------------------------------------------------ bifurcation

#ifdef ISLET_HAVE_GAUSS
TEST_F(CliBadInput, BifurcationRefusesNonFiniteMapsNoIterationsAndOddOutputs) {
  const std::string small = "bifurcation gauss --width 16 --height 10 -o " + path("g.png") + " ";
  struct Case {
    std::string flags, message;
  };
  for (const Case& c : {Case{"--alpha nan", "--alpha: expected a finite number, got nan"},
                        Case{"--alpha inf", "--alpha: expected a finite number, got inf"},
                        Case{"--alpha -inf", "--alpha: expected a finite number, got -inf"},
                        Case{"--beta-min nan", "--beta-min: expected a finite number"},
                        Case{"--beta-max 1e999", "--beta-max: expected a finite number"},
                        Case{"--x-min nan", "--x-min: expected a finite number"},
                        Case{"--x-max inf", "--x-max: expected a finite number"},
                        Case{"--iterations 0", "--iterations: expected at least 1 iteration per column, got 0"}}) {
    const auto r = islet(small + c.flags);
    EXPECT_EQ(r.code, 2) << c.flags << ": " << r.out;
    EXPECT_HAS(r.out, c.message);
  }
  EXPECT_TRUE(listing().empty());
  fs::create_directories(dir_ / "sub");
  ASSERT_EQ(::mkfifo(path("fifo").c_str(), 0644), 0);
  const std::string map = "bifurcation gauss --width 16 --height 10 -o ";
  for (const Case& c : {Case{path("sub"), "'" + path("sub") + "' is a directory"},
                        Case{path("fifo"), "'" + path("fifo") + "' is a FIFO"},
                        Case{path("no/g.png"), "the folder '" + path("no") + "' does not exist"}}) {
    const auto r = islet(map + c.flags, "", kFifoGuard);
    EXPECT_EQ(r.code, 2) << c.flags << ": " << r.out;
    EXPECT_HAS(r.out, c.message);
  }
  EXPECT_EQ(listing(), (std::vector<std::string>{"fifo", "sub"}));
  EXPECT_TRUE(fs::is_empty(dir_ / "sub"));
  const auto ok = islet(small + "--iterations 1");
  EXPECT_EQ(ok.code, 0) << ok.out;
  EXPECT_TRUE(fs::is_regular_file(path("g.png")));
}

// A write error (a file-size limit) leaves no partial PNG: exit 1 with the
// reason, and neither the picture nor its temporary file.
TEST_F(CliBadInput, BifurcationWriteErrorLeavesNoPicture) {
  const auto r = islet("bifurcation gauss --width 2000 --height 1000 -o " + path("big.png"), "", "ulimit -f 4 && ");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_HAS(r.out, "cannot write PNG '" + path("big.png") + "': File too large");
  EXPECT_TRUE(listing().empty()) << listing().size() << " file(s) left";
}
#endif
