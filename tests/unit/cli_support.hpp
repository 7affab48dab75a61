#pragma once
// Helpers of the tests that run the built `islet` (ISLET_CLI) and work in a
// scratch folder of their own.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace isletsim::test {

struct CliResult {
  int code;
  std::string out;  // stdout and stderr together
};

// Runs `islet args` through the shell; `cwd`: the folder to run it in ("" =
// this one); `prefix`: shell text before the command (e.g. "ulimit -f 100 && ").
inline CliResult islet(const std::string& args, const std::string& cwd = "", const std::string& prefix = "") {
  const std::string cmd =
      (cwd.empty() ? "" : "cd '" + cwd + "' && ") + prefix + std::string(ISLET_CLI) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int st = pclose(p);
  return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fixture with a fresh scratch folder per test (per process and test name:
// test runs of several build trees may overlap).
class ScratchTest : public ::testing::Test {
 protected:
  explicit ScratchTest(const char* tag) : tag_(tag) {}
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("islet_" + tag_ + "_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
    return (dir_ / name).string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // The names in the scratch folder, sorted.
  std::vector<std::string> listing() const {
    std::vector<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(dir_)) names.push_back(f.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string tag_;
  std::filesystem::path dir_;
};

}  // namespace isletsim::test

#define EXPECT_HAS(s, part) EXPECT_NE(std::string(s).find(part), std::string::npos) << "output: " << (s)
