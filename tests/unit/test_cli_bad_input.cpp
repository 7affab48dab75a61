// Bad input and write errors of `islet network --export`, `islet analyze` and
// `islet bifurcation`: exit status 2 with a message naming the option or path
// and what was expected, 1 for a write error (with its reason), and nothing
// written or left behind (no temporary files, no replaced FIFO or directory).
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

using isletsim::test::islet;
namespace fs = std::filesystem;

namespace {

class CliBadInput : public isletsim::test::ScratchTest {
 protected:
  CliBadInput() : ScratchTest("badinput") {}
  // The names in the scratch folder, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& f : fs::directory_iterator(dir_)) names.push_back(f.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
};

const std::string kSmallNetwork = "network -q --set network.n_cells=10 --export ";

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
    const auto r = islet(kSmallNetwork + path(c.cells) + " " + path(c.edges));
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
