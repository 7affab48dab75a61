// Core detection against fake cgroup trees and fake environments; signals.
#include "isletsim/env.hpp"
#include "core/pages.hpp"
#include <algorithm>

#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace env = isletsim::env;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::string> g_fake_env;

std::string fake_getenv(const char* name) {
  const auto it = g_fake_env.find(name);
  return it == g_fake_env.end() ? std::string() : it->second;
}

class CoresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    g_fake_env.clear();
    std::string tmpl = (fs::temp_directory_path() / "isletsim_env_XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    probe_.cgroup_root = (dir_ / "cgroup").string();
    probe_.proc_self_cgroup = (dir_ / "proc_self_cgroup").string();
    probe_.use_affinity = false;
    probe_.getenv = &fake_getenv;
    fs::create_directories(probe_.cgroup_root);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
    g_fake_env.clear();
  }

  void write(const fs::path& rel, const std::string& text) {
    const fs::path p = dir_ / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
  }

  // The source whose name starts with `prefix` and contains `part`.
  const env::CoreSource* find(const env::CoreReport& r, const std::string& prefix, const std::string& part = "") {
    for (const auto& s : r.sources)
      if (s.name.rfind(prefix, 0) == 0 && s.name.find(part) != std::string::npos) return &s;
    return nullptr;
  }

  fs::path dir_;
  env::CoreProbe probe_;
};

TEST_F(CoresTest, NothingPresentFallsBackToHardware) {
  const auto r = env::detect_cores(probe_);
  for (const auto& s : r.sources) EXPECT_FALSE(s.limit) << s.name << ": " << s.detail;
  EXPECT_GE(r.cores, 1u);
  EXPECT_NE(r.limited_by.find("no limit"), std::string::npos);
  EXPECT_NE(find(r, "cgroup"), nullptr);  // absent sources are still reported
  EXPECT_NE(find(r, "NSLOTS"), nullptr);
}

TEST_F(CoresTest, CgroupV2FractionalQuotaRoundsDown) {
  write("proc_self_cgroup", "0::/\n");
  write("cgroup/cgroup.controllers", "cpu io memory\n");
  write("cgroup/cpu.max", "150000 100000\n");
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "cgroup v2 cpu.max");
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->limit);
  EXPECT_DOUBLE_EQ(*s->limit, 1.5);
  EXPECT_EQ(r.cores, 1u);
  EXPECT_NE(r.limited_by.find("cgroup v2"), std::string::npos);
}

TEST_F(CoresTest, CgroupV2SmallQuotaIsAtLeastOne) {
  write("proc_self_cgroup", "0::/\n");
  write("cgroup/cpu.max", "50000 100000\n");
  EXPECT_EQ(env::detect_cores(probe_).cores, 1u);
}

TEST_F(CoresTest, CgroupV2MaxIsUnlimited) {
  write("proc_self_cgroup", "0::/job\n");
  write("cgroup/job/cpu.max", "max 100000\n");
  g_fake_env["OMP_NUM_THREADS"] = "6";
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "cgroup v2 cpu.max", "job");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->limit);
  EXPECT_NE(s->detail.find("unlimited"), std::string::npos);
  EXPECT_EQ(r.cores, 6u);
}

TEST_F(CoresTest, CgroupV2StricterParentWins) {
  write("proc_self_cgroup", "0::/a/b/c\n");
  write("cgroup/a/b/c/cpu.max", "800000 100000\n");
  write("cgroup/a/b/cpu.max", "max 100000\n");
  write("cgroup/a/cpu.max", "300000 100000\n");
  const auto r = env::detect_cores(probe_);
  EXPECT_EQ(r.cores, 3u);
  const auto* deep = find(r, "cgroup v2 cpu.max", "/a/b/c");
  ASSERT_NE(deep, nullptr);
  EXPECT_DOUBLE_EQ(deep->limit.value_or(0), 8.0);
  EXPECT_NE(r.limited_by.find("/a)"), std::string::npos) << r.limited_by;
}

TEST_F(CoresTest, CgroupV2PathOutsideNamespaceUsesRoot) {
  write("proc_self_cgroup", "0::/../../elsewhere\n");
  write("cgroup/cpu.max", "200000 100000\n");
  EXPECT_EQ(env::detect_cores(probe_).cores, 2u);
}

TEST_F(CoresTest, CgroupV2HybridUnifiedMount) {
  write("proc_self_cgroup", "0::/x\n");
  write("cgroup/unified/cgroup.controllers", "cpu\n");
  write("cgroup/unified/x/cpu.max", "400000 100000\n");
  EXPECT_EQ(env::detect_cores(probe_).cores, 4u);
}

TEST_F(CoresTest, CgroupV2GarbageIgnored) {
  write("proc_self_cgroup", "0::/\n");
  write("cgroup/cpu.max", "lots 100000\n");
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "cgroup v2 cpu.max");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->limit);
  EXPECT_NE(s->detail.find("unparsable"), std::string::npos);
}

TEST_F(CoresTest, CgroupV1QuotaOverPeriod) {
  write("proc_self_cgroup", "4:memory:/m\n3:cpu,cpuacct:/slurm/job1\n0::/\n");
  write("cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_quota_us", "250000\n");
  write("cgroup/cpu,cpuacct/slurm/job1/cpu.cfs_period_us", "100000\n");
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "cgroup v1", "job1");
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->limit.value_or(0), 2.5);
  EXPECT_EQ(r.cores, 2u);
}

TEST_F(CoresTest, CgroupV1MinusOneIsUnlimited) {
  write("proc_self_cgroup", "3:cpu,cpuacct:/\n");
  write("cgroup/cpu,cpuacct/cpu.cfs_quota_us", "-1\n");
  write("cgroup/cpu,cpuacct/cpu.cfs_period_us", "100000\n");
  g_fake_env["NCPUS"] = "5";
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "cgroup v1", "(");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->limit);
  EXPECT_NE(s->detail.find("unlimited"), std::string::npos);
  EXPECT_EQ(r.cores, 5u);
}

TEST_F(CoresTest, CgroupV1SeparateCpuMountAndRootOfHierarchy) {
  // The path from /proc/self/cgroup does not exist in this mount namespace;
  // the root of the hierarchy still counts.
  write("proc_self_cgroup", "2:cpuacct:/\n1:cpu:/not/here\n");
  write("cgroup/cpu/cpu.cfs_quota_us", "100000\n");
  write("cgroup/cpu/cpu.cfs_period_us", "50000\n");
  const auto r = env::detect_cores(probe_);
  EXPECT_EQ(r.cores, 2u);
}

TEST_F(CoresTest, OmpNumThreadsFirstListItem) {
  g_fake_env["OMP_NUM_THREADS"] = "3,2";
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "OMP_NUM_THREADS");
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->limit.value_or(0), 3.0);
  EXPECT_EQ(r.cores, 3u);
  EXPECT_EQ(r.limited_by, "OMP_NUM_THREADS");
}

TEST_F(CoresTest, EachEnvironmentVariable) {
  for (const char* name :
       {"OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "SLURM_CPUS_PER_TASK", "NSLOTS", "PBS_NUM_PPN", "NCPUS",
        "LSB_DJOB_NUMPROC"}) {
    g_fake_env = {{name, "7"}};  // (assigning "7" to g_fake_env[name] trips GCC 12's -Wrestrict false positive)
    const auto r = env::detect_cores(probe_);
    EXPECT_EQ(r.cores, 7u) << name;
    EXPECT_EQ(r.limited_by, name);
    const auto* s = find(r, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_DOUBLE_EQ(s->limit.value_or(0), 7.0) << name;
  }
}

TEST_F(CoresTest, InvalidValuesIgnoredAndReported) {
  g_fake_env["OMP_NUM_THREADS"] = "abc";
  g_fake_env["OMP_THREAD_LIMIT"] = "0";
  g_fake_env["SLURM_CPUS_PER_TASK"] = "-4";
  g_fake_env["NSLOTS"] = "2x";
  g_fake_env["PBS_NUM_PPN"] = "1.5";
  g_fake_env["NCPUS"] = "99999999999999999999999";
  g_fake_env["LSB_DJOB_NUMPROC"] = "9";
  const auto r = env::detect_cores(probe_);
  EXPECT_EQ(r.cores, 9u);
  for (const char* name : {"OMP_NUM_THREADS", "OMP_THREAD_LIMIT", "SLURM_CPUS_PER_TASK", "NSLOTS", "PBS_NUM_PPN",
                           "NCPUS"}) {
    const auto* s = find(r, name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_FALSE(s->limit) << name;
    EXPECT_NE(s->detail.find("invalid"), std::string::npos) << name << ": " << s->detail;
    EXPECT_NE(s->detail.find(g_fake_env[name]), std::string::npos) << name << ": " << s->detail;
  }
}

TEST_F(CoresTest, MinimumWins) {
  write("proc_self_cgroup", "0::/\n");
  write("cgroup/cpu.max", "600000 100000\n");
  g_fake_env["OMP_NUM_THREADS"] = "8";
  g_fake_env["SLURM_CPUS_PER_TASK"] = "4";
  g_fake_env["NSLOTS"] = "5";
  const auto r = env::detect_cores(probe_);
  EXPECT_EQ(r.cores, 4u);
  EXPECT_EQ(r.limited_by, "SLURM_CPUS_PER_TASK");
  g_fake_env["OMP_THREAD_LIMIT"] = "4";
  EXPECT_EQ(env::detect_cores(probe_).limited_by, "OMP_THREAD_LIMIT, SLURM_CPUS_PER_TASK");
}

TEST_F(CoresTest, AffinityOfThisProcess) {
  probe_.use_affinity = true;
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const auto r = env::detect_cores(probe_);
  const auto* s = find(r, "affinity");
  ASSERT_NE(s, nullptr);
  EXPECT_DOUBLE_EQ(s->limit.value_or(0), double(CPU_COUNT(&set)));
  EXPECT_EQ(r.cores, unsigned(CPU_COUNT(&set)));
}

TEST(Cores, ChildPinnedToOneCpuSeesOne) {
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  int first = 0;
  while (!CPU_ISSET(first, &set)) ++first;
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    if (sched_setaffinity(0, sizeof one, &one) != 0) _exit(100);
    const auto r = env::detect_cores();  // the real probe
    _exit(int(std::min(r.cores, 99u)));
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
}

TEST_F(CoresTest, FormatReport) {
  write("proc_self_cgroup", "0::/\n");
  write("cgroup/cpu.max", "150000 100000\n");
  g_fake_env["OMP_NUM_THREADS"] = "3";
  const std::string text = env::format_core_report(env::detect_cores(probe_));
  EXPECT_NE(text.find("OMP_NUM_THREADS"), std::string::npos);
  EXPECT_NE(text.find("1.5"), std::string::npos);
  EXPECT_NE(text.find("NSLOTS"), std::string::npos);
  EXPECT_NE(text.find("usable cores: 1 (limited by cgroup v2 cpu.max ("), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST(Signals, FirstSignalSetsFlagAndProcessSurvives) {
  std::atomic<bool>* stop = env::install_stop_handlers();
  ASSERT_NE(stop, nullptr);
  stop->store(false);
  ASSERT_EQ(raise(SIGTERM), 0);
  EXPECT_TRUE(stop->load());
  // Leave the process as we found it for later tests.
  stop->store(false);
  signal(SIGTERM, SIG_DFL);
  signal(SIGINT, SIG_DFL);
}

TEST(Signals, SecondSignalKills) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    std::atomic<bool>* stop = env::install_stop_handlers();
    raise(SIGINT);
    if (!stop->load()) _exit(2);
    raise(SIGTERM);  // second request of the other kind: default action
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exit status " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1);
  EXPECT_EQ(WTERMSIG(status), SIGTERM);
}

TEST(Signals, StderrIsTtyMatchesIsatty) { EXPECT_EQ(env::stderr_is_tty(), isatty(2) == 1); }

}  // namespace

TEST(PageBuffer, ZeroedWritableAndMovable) {
  using isletsim::PageBuffer;
  for (std::size_t bytes : {std::size_t{1}, std::size_t{5000}, std::size_t{300000}, std::size_t{3} << 20}) {
    PageBuffer b(bytes);
    ASSERT_NE(b.data(), nullptr);
    EXPECT_GE(b.size(), bytes);
    auto* p = static_cast<unsigned char*>(b.data());
    EXPECT_EQ(std::count(p, p + b.size(), 0), static_cast<std::ptrdiff_t>(b.size())) << bytes;
    p[0] = 1;
    p[bytes - 1] = 2;
    PageBuffer moved(std::move(b));
    EXPECT_EQ(b.data(), nullptr);
    EXPECT_EQ(static_cast<unsigned char*>(moved.data())[bytes - 1], 2);
  }
  EXPECT_EQ(PageBuffer(0).data(), nullptr);
}

// The crash report (env::install_crash_report, islet's main), in a child
// process: a fault while a ReadingFile names a file ends the process with
// exit status 2 and a message naming that file (the innermost of nested
// guards); a fault outside any ReadingFile still kills the process with its
// signal. Independent of whether any HDF5 release crashes on a given file.
namespace {

// Runs f in a child whose stderr goes to `err`; returns its wait status.
template <class F>
int in_child(F f, const std::string& err) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (!freopen(err.c_str(), "w", stderr)) _exit(99);
    alarm(20);  // a child that hangs (a signal handed back and forth) dies by SIGALRM
    f();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST(CrashReport, FaultWhileReadingIsAnErrorNamingTheFile) {
  const std::string err = ::testing::TempDir() + "crash_report_err.txt";
  const int reading = in_child(
      [] {
        env::install_crash_report();
        const env::ReadingFile outer("outer.h5");
        const env::ReadingFile inner("/data/run 7.h5");
        raise(SIGSEGV);
      },
      err);
  ASSERT_TRUE(WIFEXITED(reading)) << "died by a signal: " << (WIFSIGNALED(reading) ? WTERMSIG(reading) : 0);
  EXPECT_EQ(WEXITSTATUS(reading), 2);
  const std::string text = read_text(err);
  EXPECT_NE(text.find("islet: error: '/data/run 7.h5': the HDF5 library crashed reading this file"),
            std::string::npos)
      << text;

  // The guard ended: the outer file is named again, then none.
  const int after_inner = in_child(
      [] {
        env::install_crash_report();
        const env::ReadingFile outer("outer.h5");
        { const env::ReadingFile inner("inner.h5"); }
        raise(SIGBUS);
      },
      err);
  ASSERT_TRUE(WIFEXITED(after_inner));
  EXPECT_EQ(WEXITSTATUS(after_inner), 2);
  EXPECT_NE(read_text(err).find("'outer.h5'"), std::string::npos) << read_text(err);

  const int outside = in_child(
      [] {
        env::install_crash_report();
        { const env::ReadingFile done("done.h5"); }
        raise(SIGABRT);
      },
      err);
  EXPECT_TRUE(WIFSIGNALED(outside) && WTERMSIG(outside) == SIGABRT) << "status " << outside;
  EXPECT_EQ(read_text(err).find("islet: error"), std::string::npos) << read_text(err);

  // A real fault outside: the handler before ours (the default action, or a
  // sanitizer's report) ends the process, not ours.
  const int fault = in_child(
      [] {
        env::install_crash_report();
        volatile int* volatile p = nullptr;
        *p = 1;
      },
      err);
  EXPECT_FALSE(WIFEXITED(fault) && (WEXITSTATUS(fault) == 0 || WEXITSTATUS(fault) == 2)) << "status " << fault;
  EXPECT_EQ(read_text(err).find("islet: error"), std::string::npos) << read_text(err);
}

// CrashReport::report_then_crash (the Python module): the file is named,
// then the crash goes on as it would have (the process dies by the signal,
// not with an exit status of ours), for a signal sent (abort: free() of a
// wild pointer) and for a real fault.
TEST(CrashReport, ReportThenCrashNamesTheFileAndDiesByTheSignal) {
  const std::string err = ::testing::TempDir() + "crash_report_err2.txt";
  const int aborted = in_child(
      [] {
        env::install_crash_report(env::CrashReport::report_then_crash, "isletsim");
        const env::ReadingFile f("/data/run 8.h5");
        raise(SIGABRT);
      },
      err);
  EXPECT_TRUE(WIFSIGNALED(aborted) && WTERMSIG(aborted) == SIGABRT) << "status " << aborted;
  EXPECT_NE(read_text(err).find("isletsim: error: '/data/run 8.h5': the HDF5 library crashed reading this file "
                                "(abort): it is damaged or was not written whole; this process cannot go on"),
            std::string::npos)
      << read_text(err);

  const int fault = in_child(
      [] {
        env::install_crash_report(env::CrashReport::report_then_crash, "isletsim");
        const env::ReadingFile f("faulty.h5");
        volatile int* volatile p = nullptr;
        *p = 1;
      },
      err);
  // (Under a sanitizer, its handler ends the process with a status of its own.)
  EXPECT_FALSE(WIFEXITED(fault) && (WEXITSTATUS(fault) == 0 || WEXITSTATUS(fault) == 2)) << "status " << fault;
  EXPECT_NE(read_text(err).find("isletsim: error: 'faulty.h5': the HDF5 library crashed reading this file"),
            std::string::npos)
      << read_text(err);

  // (Installed twice, as a second import might: still handed on, once.)
  const int outside = in_child(
      [] {
        env::install_crash_report(env::CrashReport::report_then_crash, "isletsim");
        env::install_crash_report(env::CrashReport::report_then_crash, "isletsim");
        { const env::ReadingFile done("done.h5"); }
        raise(SIGABRT);
      },
      err);
  EXPECT_TRUE(WIFSIGNALED(outside) && WTERMSIG(outside) == SIGABRT) << "status " << outside;
  EXPECT_EQ(read_text(err).find("error"), std::string::npos) << read_text(err);
}
