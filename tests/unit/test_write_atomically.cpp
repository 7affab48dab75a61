// io::write_atomically: one file or several, all or nothing. A failure while
// any of them is written, or while they are renamed into place, leaves every
// path as it was (the files there untouched, no new file) and no temporary
// file; a temporary name never replaces a file that was there.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/write_atomically.hpp"
#include "isletsim/error.hpp"

using isletsim::test::slurp;
namespace fs = std::filesystem;
namespace io = isletsim::io;

namespace {

class WriteAtomically : public isletsim::test::ScratchTest {
 protected:
  WriteAtomically() : ScratchTest("atomic") {}
};

// Writes `text` to the temporary file `tmp`.
std::function<void(const std::string&)> text(const std::string& content) {
  return [content](const std::string& tmp) {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f << content;
    if (!f.good()) throw std::runtime_error("cannot write '" + tmp + "'");
  };
}

// Writes part of a file, then fails as a full disk would.
void fails_half_way(const std::string& tmp) {
  std::ofstream(tmp, std::ios::binary | std::ios::trunc) << "half";
  throw std::runtime_error("disk full");
}

}  // namespace

TEST_F(WriteAtomically, WritesEveryFile) {
  write("a.csv", "old a");
  io::write_atomically({{path("a.csv"), text("new a")}, {path("b.csv"), text("new b")}});
  EXPECT_EQ(slurp(path("a.csv")), "new a");
  EXPECT_EQ(slurp(path("b.csv")), "new b");
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.csv", "b.csv"}));
  io::write_atomically(path("a.csv"), text("one"));
  EXPECT_EQ(slurp(path("a.csv")), "one");
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.csv", "b.csv"}));
}

TEST_F(WriteAtomically, FailureOfTheSecondFileLeavesNeither) {
  // New files: neither is made.
  EXPECT_THROW(io::write_atomically({{path("a.csv"), text("new a")}, {path("b.csv"), fails_half_way}}),
               std::runtime_error);
  EXPECT_TRUE(listing().empty());
  // Files there: both untouched.
  write("a.csv", "old a");
  write("b.csv", "old b");
  try {
    io::write_atomically({{path("a.csv"), text("new a")}, {path("b.csv"), fails_half_way}});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_STREQ(e.what(), "disk full");  // the writer's own error, passed on
  }
  EXPECT_EQ(slurp(path("a.csv")), "old a");
  EXPECT_EQ(slurp(path("b.csv")), "old b");
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.csv", "b.csv"}));
}

// The second rename fails (its path is a directory that is not empty): the
// first file, renamed into place already, is put back as it was.
TEST_F(WriteAtomically, FailedRenameRestoresTheFilesReplacedBeforeIt) {
  fs::create_directories(dir_ / "b" / "inside");
  write("a.csv", "old a");
  try {
    io::write_atomically({{path("a.csv"), text("new a")}, {path("b"), text("new b")}});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_HAS(e.what(), "cannot write '" + path("b") + "'");
  }
  EXPECT_EQ(slurp(path("a.csv")), "old a");
  EXPECT_EQ(listing(), (std::vector<std::string>{"a.csv", "b"}));
  // A first file that was not there is not left behind either.
  fs::remove(path("a.csv"));
  EXPECT_THROW(io::write_atomically({{path("a.csv"), text("new a")}, {path("b"), text("new b")}}), std::runtime_error);
  EXPECT_EQ(listing(), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(fs::is_directory(dir_ / "b" / "inside"));
}

// Files with the names a temporary file could have are never written over
// or removed, whether the write succeeds or fails.
TEST_F(WriteAtomically, TemporaryNamesNeverReplaceAFile) {
  const std::string pid = std::to_string(::getpid());
  const std::vector<std::string> others = {"out.png.tmp", "out.png.tmp" + pid, "out.png.old" + pid};
  for (const auto& o : others) write(o, "mine: " + o);
  write("out.png", "old");
  EXPECT_THROW(io::write_atomically(path("out.png"), fails_half_way), std::runtime_error);
  EXPECT_EQ(slurp(path("out.png")), "old");
  io::write_atomically({{path("out.png"), text("new")}, {path("other.png"), text("other")}});
  EXPECT_EQ(slurp(path("out.png")), "new");
  for (const auto& o : others) EXPECT_EQ(slurp(path(o)), "mine: " + o) << o;
  std::vector<std::string> want = others;
  want.insert(want.end(), {"other.png", "out.png"});
  std::sort(want.begin(), want.end());
  EXPECT_EQ(listing(), want);
}

TEST_F(WriteAtomically, RefusesTheSameFileTwiceAndAMissingFolder) {
  try {
    io::write_atomically({{path("a.csv"), text("1")}, {dir_.string() + "/./a.csv", text("2")}});
    FAIL() << "no exception";
  } catch (const isletsim::InputError& e) {
    EXPECT_HAS(e.what(), "they are the same file");
  }
  try {
    io::write_atomically({{path("a.csv"), text("1")}, {path("no/b.csv"), text("2")}});
    FAIL() << "no exception";
  } catch (const isletsim::InputError& e) {
    EXPECT_HAS(e.what(), "cannot write '" + path("no/b.csv") + "'");
    EXPECT_HAS(e.what(), "No such file or directory");
  }
  EXPECT_TRUE(listing().empty());
}
