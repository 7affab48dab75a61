// The analysis outputs (write_analysis_outputs): the analysis file and the
// two CSV tables are written as one set, all three or none, and a failure
// leaves the files of an earlier analysis as they were (the mechanism,
// io::write_atomically, has tests of its own).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli_support.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/error.hpp"

using namespace isletsim;
namespace fs = std::filesystem;

namespace {

class AnalysisIo : public test::ScratchTest {
 protected:
  AnalysisIo() : ScratchTest("analysis_io") {}
  // A recording of 6 cells at 10 Hz (pulses 10 s apart) and its analysis.
  void analyse() {
    std::ofstream f(path("rec.txt"));
    for (int s = 0; s < 600; ++s) {
      for (int c = 0; c < 6; ++c) {
        const double t = s / 10.0 - 2 - 0.05 * c, phase = t - 10 * std::floor(t / 10);
        f << (c ? " " : "") << 0.1 + 0.5 * (phase < 3) + 0.001 * ((s * 7 + c * 13) % 5);
      }
      f << '\n';
    }
    f.close();
    in_ = analysis_input_from_text(path("rec.txt"), "", 10, false);
    r_ = analysis::analyze(in_, resolve_analysis_options("", "<test>", {"analysis.threshold=0.5"}));
  }
  analysis::Input in_;
  analysis::Result r_;
};

}  // namespace

// A rename that fails (the summary's name is taken by a directory) after the
// other two files were renamed into place: they are put back as they were.
TEST_F(AnalysisIo, AFailedRenameLeavesTheEarlierFilesAsTheyWere) {
  analyse();
  const std::string stem = path("x");
  fs::create_directories(dir_ / "x.summary.csv" / "in_the_way");
  EXPECT_THROW(write_analysis_outputs(r_, in_, stem, path("rec.txt")), std::runtime_error);
  EXPECT_EQ(listing(), (std::vector<std::string>{"rec.txt", "x.summary.csv"}));  // no new file, no temporary one

  std::ofstream(path("x.analysis.h5")) << "the earlier analysis file";
  std::ofstream(path("x.cells.csv")) << "the earlier cells table";
  try {
    write_analysis_outputs(r_, in_, stem, path("rec.txt"));
    ADD_FAILURE() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot write '" + path("x.summary.csv") + "'"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(test::slurp(path("x.analysis.h5")), "the earlier analysis file");
  EXPECT_EQ(test::slurp(path("x.cells.csv")), "the earlier cells table");
  EXPECT_TRUE(fs::is_directory(dir_ / "x.summary.csv" / "in_the_way"));
  EXPECT_EQ(listing(), (std::vector<std::string>{"rec.txt", "x.analysis.h5", "x.cells.csv", "x.summary.csv"}));

  // Without the obstacle, all three are replaced and nothing else is left.
  fs::remove_all(dir_ / "x.summary.csv");
  const auto out = write_analysis_outputs(r_, in_, stem, path("rec.txt"));
  EXPECT_EQ(out, (std::vector<std::string>{path("x.analysis.h5"), path("x.cells.csv"), path("x.summary.csv")}));
  EXPECT_EQ(test::slurp(path("x.cells.csv")).rfind("cell,excluded,", 0), 0u);
  EXPECT_EQ(test::slurp(path("x.summary.csv")).rfind("n_cells,", 0), 0u);
  EXPECT_EQ(listing(), (std::vector<std::string>{"rec.txt", "x.analysis.h5", "x.cells.csv", "x.summary.csv"}));
}
