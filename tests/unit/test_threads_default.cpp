// The default thread count (env::default_threads, env::resolve_threads,
// env::IdleSample): small islets get one thread, large ones the idle usable
// cores (fewer where the samples' compression costs more), never more than the usable
// cores; an explicit request is always obeyed.
#include <gtest/gtest.h>

#include <sched.h>
#include <unistd.h>

#include <time.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <limits>
#include <string>

#include "isletsim/config.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/simulation.hpp"

namespace env = isletsim::env;

namespace {

// Islet sizes where one step's synchronisation is worth its work: with no
// writer, on idle cores, 2 threads win from 2 * kSyncCells reference cells.
const std::size_t kCross = static_cast<std::size_t>(2 * env::kSyncCells);

env::ThreadContext idle(double cores, double writer = 0, unsigned parts = 1) {
  env::ThreadContext c;
  c.idle_cores = cores;
  c.writer_share = writer;
  c.writer_parts = parts;
  return c;
}

TEST(DefaultThreads, SmallIsletsGetOneThread) {
  EXPECT_EQ(env::default_threads(50, 8), 1u);
  EXPECT_EQ(env::default_threads(125, 2), 1u);
  EXPECT_EQ(env::default_threads(kCross - 1, 2), 1u);
  // The synchronisation grows with log2 of the threads, so many cores make
  // small islets no cheaper.
  EXPECT_EQ(env::default_threads(static_cast<std::size_t>(env::kSyncCells), 64), 1u);
  EXPECT_EQ(env::default_threads(0, 8), 1u);  // never 0
  EXPECT_EQ(env::default_threads(1, 1), 1u);
}

TEST(DefaultThreads, TwoThreadsFromTheCrossOver) {
  // W(2) = 1/2 + kSyncCells / cells < W(1) = 1 exactly when cells > 2 kSyncCells.
  EXPECT_EQ(env::default_threads(kCross, 2), 1u);  // a tie: fewer threads
  EXPECT_EQ(env::default_threads(kCross + 1, 2), 2u);
  EXPECT_EQ(env::default_threads(1000, 2), 2u);
}

TEST(DefaultThreads, LargeIsletsUseTheIdleCores) {
  EXPECT_EQ(env::default_threads(100000, 2), 2u);
  EXPECT_EQ(env::default_threads(100000, 8), 8u);
  EXPECT_EQ(env::default_threads(100000, 64), 64u);
  EXPECT_EQ(env::default_threads(100000, 1), 1u);
  // 1000 cells on 64 cores: W(N) = 1/N + 0.1 log2(N) is least at N = 7
  // (0.4236; 6: 0.4252, 8: 0.4250).
  EXPECT_EQ(env::default_threads(1000, 64), 7u);
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(8.0)), 8u);
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(3.0)), 3u);
  // A core counts when at least 3/4 of it is idle.
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(2.8)), 3u);
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(2.7)), 2u);
  // One busy process on a 2-core machine: one thread.
  EXPECT_EQ(env::default_threads(100000, 2, 0, idle(1.0)), 1u);
  EXPECT_EQ(env::default_threads(100000, 2, 0, idle(0.0)), 1u);
  // More idle capacity than usable cores (other CPUs of the machine): the cores.
  EXPECT_EQ(env::default_threads(100000, 4, 0, idle(15.0)), 4u);
}

TEST(DefaultThreads, TheWriterKeepsACoreWhereThatPays) {
  // 8 idle cores, writer 0.1: W(8) = 1/8 + s + 0.1 > W(7) = 1/7 + s.
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(8.0, 0.1)), 7u);
  // A writer that is cheap next to 8 threads' gain: all cores.
  EXPECT_EQ(env::default_threads(100000, 8, 0, idle(8.0, 0.01)), 8u);
  // 2 cores, the default 1000-cell run (writer ~0.45): the second thread
  // would gain 1/2 - 0.1 and lose the writer's 0.45 to the stalls.
  EXPECT_EQ(env::default_threads(1000, 2, 0, idle(2.0, 0.45)), 1u);
  EXPECT_EQ(env::default_threads(1000, 2, 0, idle(2.0, 0.05)), 2u);
  // Large enough, two threads pay even with the writer sharing a core.
  EXPECT_EQ(env::default_threads(100000, 2, 0, idle(2.0, 0.3)), 2u);
  // Two recorded variables: on 2 threads each compresses one, so the
  // writer's 0.45 costs each 0.225: W(2) = 0.825 < 1.
  EXPECT_EQ(env::default_threads(1000, 2, 0, idle(2.0, 0.45, 2)), 2u);
  // 4 usable cores, one busy: 3 threads would have the writer on a core they
  // need (stalls: 0.2 x 1.3 more), 2 leave it one: W(3) = 0.75 > W(2) = 0.6.
  EXPECT_EQ(env::default_threads(1000, 4, 0, idle(3.0, 0.2)), 2u);
  EXPECT_EQ(env::default_threads(1000, 4, 0, idle(3.0, 0.0)), 3u);
}

TEST(DefaultThreads, EncodeOnComputeWhenEveryCoreComputes) {
  EXPECT_TRUE(env::encode_on_compute(2, 2));
  EXPECT_TRUE(env::encode_on_compute(3, 2));
  EXPECT_FALSE(env::encode_on_compute(1, 2));
  EXPECT_TRUE(env::encode_on_compute(1, 1));
  EXPECT_TRUE(env::encode_on_compute(1, 0));  // 0 cores counts as 1
}

TEST(DefaultThreads, NeverMoreThanTheCores) {
  for (unsigned cores : {1u, 2u, 3u, 7u, 64u, 1024u})
    for (std::size_t cells : {std::size_t{1}, kCross, 10 * kCross, 1000 * kCross, std::numeric_limits<std::size_t>::max()})
      for (double w : {0.0, 0.3}) {
        const unsigned t = env::default_threads(cells, cores, 0, idle(-1, w));
        EXPECT_GE(t, 1u) << cells << " cells, " << cores << " cores";
        EXPECT_LE(t, cores) << cells << " cells, " << cores << " cores";
      }
  EXPECT_EQ(env::default_threads(std::numeric_limits<std::size_t>::max(), 16, 1000), 16u);  // no overflow
  EXPECT_EQ(env::default_threads(100000, 0), 1u);  // 0 cores counts as 1
}

TEST(DefaultThreads, MoreStatesPerCellCountForMore) {
  // Work per cell grows with the model's states: 22 states count double.
  const std::size_t half = kCross / 2 + 1;
  EXPECT_EQ(env::default_threads(half, 2, 2 * env::kReferenceStates), 2u);
  EXPECT_EQ(env::default_threads(half, 2, env::kReferenceStates), 1u);
  EXPECT_EQ(env::default_threads(half, 2, 0), 1u);  // 0 = the reference model
}

TEST(DefaultThreads, WriterShareFromValuesAndEvaluations) {
  // 2 values per sample every 10 ms (200 per cell-second) against 2000
  // evaluations per cell-second of the reference model.
  const double expect = 200 * env::kWriterNsPerValue / (2000 * env::kStepNsPerEval);
  EXPECT_DOUBLE_EQ(env::writer_share(200, 2000), expect);
  EXPECT_DOUBLE_EQ(env::writer_share(200, 2000, 22), expect / 2);  // a dearer model
  EXPECT_EQ(env::writer_share(0, 2000), 0.0);
  EXPECT_EQ(env::writer_share(200, 0), 0.0);
}

// The run's writer share from its config (isletsim::writer_share_of):
// the default run records c and V every 10 ms with dopri5 at 1e-8, 200
// values per cell-second against 1.3 x 6 x 1000 / 4.7 ms evaluations
// (1000 cells stay within the L2 factor's start).
TEST(DefaultThreads, WriterShareOfARun) {
  using isletsim::parse_config;
  const auto share = [](const isletsim::Overrides& sets) {
    return isletsim::writer_share_of(isletsim::build_setup(parse_config("", "<built-in default>", sets)));
  };
  const double expect = 200 * env::kWriterNsPerValue / (1.3 * 6 * 1000 / 4.7 * env::kStepNsPerEval);
  const double def = share({});
  EXPECT_NEAR(def, expect, 1e-9 * expect);
  // On 2 idle cores: 2 threads for the default run, whose 2 threads each
  // compress one of c and V (W(2) = 0.6 + share / 2 < 1), 1 when it
  // records every 1 ms (W(2) = 0.6 + 10 share / 2 > 1) ...
  EXPECT_EQ(env::default_threads(1000, 2, 11, idle(2.0, def, 2)), 2u);
  const double often = share({"record.interval_ms=1"});
  EXPECT_NEAR(often, 10 * def, 1e-9 * def);
  EXPECT_EQ(env::default_threads(1000, 2, 11, idle(2.0, often, 2)), 1u);
  // ... and 2 for RK4 at 0.5 ms, whose step costs 8000 evaluations per second.
  const double rk4 = share({"sim.integrator=\"rk4\"", "sim.dt_ms=0.5"});
  EXPECT_NEAR(rk4, 200 * env::kWriterNsPerValue / (8000 * env::kStepNsPerEval), 1e-9);
  EXPECT_EQ(env::default_threads(1000, 2, 11, idle(2.0, rk4)), 2u);
  // Fewer samples, a smaller share; a looser tolerance (longer steps), a larger one.
  EXPECT_NEAR(share({"record.interval_ms=100"}), def / 10, 1e-9);
  EXPECT_GT(share({"sim.tolerance=1e-6"}), def);
  // Past the L2 cache the step costs more per evaluation, so the share falls.
  EXPECT_LT(share({"network.n_cells=8000"}), def);
}

class IdleSampleTest : public ::testing::Test {
 protected:
  std::string path = ::testing::TempDir() + "isletsim_proc_stat_" + std::to_string(::getpid());
  void write(const std::string& text) {
    std::ofstream(path) << text;
  }
  ~IdleSampleTest() override { std::remove(path.c_str()); }
};

TEST_F(IdleSampleTest, SumsTheIdleFractionsOfTheUsableCpus) {
  // cpu0: 100 ticks, 25 idle + 5 iowait; cpu1: 100 ticks, 100 idle (guest
  // time, already in user, is not counted twice).
  write("cpu  0 0 0 0 0 0 0 0 0 0\n"
        "cpu0 100 0 100 1000 10 0 0 0 0 0\ncpu1 100 0 100 1000 10 0 0 0 0 0\nintr 1 2 3\n");
  const env::IdleSample s(path);
  write("cpu  0 0 0 0 0 0 0 0 0 0\n"
        "cpu0 150 0 120 1025 15 0 0 0 40 0\ncpu1 100 0 100 1100 10 0 0 0 0 0\nintr 1 2 3\n");
  const auto got = s.idle(0);
  ASSERT_TRUE(got.has_value());
  cpu_set_t set;
  CPU_ZERO(&set);
  ASSERT_EQ(sched_getaffinity(0, sizeof set, &set), 0);
  const double expect = (CPU_ISSET(0, &set) ? 0.3 : 0.0) + (CPU_ISSET(1, &set) ? 1.0 : 0.0);
  if (expect == 0) GTEST_SKIP() << "neither CPU 0 nor 1 is usable here";
  EXPECT_NEAR(*got, expect, 1e-12);
}

TEST_F(IdleSampleTest, UnreadableOrGarbledIsUnknown) {
  EXPECT_FALSE(env::IdleSample(path + ".missing").idle(0).has_value());
  write("cpu0 1 2\n");
  EXPECT_FALSE(env::IdleSample(path).idle(0).has_value());
}

TEST_F(IdleSampleTest, TheSamplingThreadsOwnWorkCountsAsIdle) {
  // Busy on this thread for 150 ms (as when the network is built): that is
  // not another process's load, so at least that share of a core is idle.
  const auto thread_cpu = [] {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  };
  const auto wall0 = std::chrono::steady_clock::now();
  const double cpu0 = thread_cpu();
  const env::IdleSample s;
  volatile double x = 1;
  while (std::chrono::steady_clock::now() - wall0 < std::chrono::milliseconds(150)) x = x * 1.0000001 + 1e-9;
  const auto got = s.idle(0);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  const double own = (thread_cpu() - cpu0) / wall;
  ASSERT_TRUE(got.has_value());
  EXPECT_GE(*got, 0.9 * own - 0.05) << "own share of a core " << own;
}

TEST_F(IdleSampleTest, ThisMachineHasSomeIdleCapacity) {
  const auto got = env::IdleSample().idle(20);
  ASSERT_TRUE(got.has_value());  // Linux: /proc/stat is there
  EXPECT_GE(*got, 0.0);
  EXPECT_LE(*got, static_cast<double>(CPU_SETSIZE));
}

TEST(DefaultThreads, ExplicitRequestIsObeyed) {
  EXPECT_EQ(env::resolve_threads(2, 50, 8), 2u);      // more than the default
  EXPECT_EQ(env::resolve_threads(1, 100000, 8), 1u);  // fewer than the default
  EXPECT_EQ(env::resolve_threads(16, 100000, 2), 16u);  // more than the cores: allowed, they share
  EXPECT_EQ(env::resolve_threads(0, 50, 8), 1u);        // 0: the default
  EXPECT_EQ(env::resolve_threads(0, 100000, 2), 2u);
}

TEST(DefaultThreads, TooManyRequestedIsAnInputError) {
  try {
    env::resolve_threads(5000, 50, 8, 0, "threads=");
    FAIL() << "no error";
  } catch (const isletsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("threads=5000: too many threads"), std::string::npos) << e.what();
  }
}

}  // namespace

// `islet run` without -j takes the default; with -j it takes that.
#include "cli_support.hpp"

namespace {

class CliThreads : public isletsim::test::ScratchTest {
 protected:
  CliThreads() : ScratchTest("cli_threads") {}
};

TEST_F(CliThreads, SmallIsletRunsOnOneThreadByDefault) {
  const auto r = isletsim::test::islet("run -q --set sim.duration_s=0.2 --set network.n_cells=50 -o " + path("a.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("1 thread(s)"), std::string::npos) << r.out;
}

TEST_F(CliThreads, ExplicitJIsObeyed) {
  const auto r =
      isletsim::test::islet("run -q -j 2 --set sim.duration_s=0.2 --set network.n_cells=50 -o " + path("a.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("2 thread(s)"), std::string::npos) << r.out;
  const auto z = isletsim::test::islet("run -q -j 0 --set sim.duration_s=0.2 --set network.n_cells=50 -o " + path("b.h5"));
  ASSERT_EQ(z.code, 0) << z.out;  // 0: the default
  EXPECT_NE(z.out.find("1 thread(s)"), std::string::npos) << z.out;
}

TEST_F(CliThreads, LargeIsletTakesAtMostTheCores) {
  // How many it takes depends on how idle the cores are as it starts.
  const unsigned cores = env::detect_cores().cores;
  const auto r = isletsim::test::islet("run -q --set sim.duration_s=0.002 --set record.interval_ms=1 "
                                       "--set network.n_cells=20000 -o " + path("a.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto at = r.out.find(" thread(s)");
  ASSERT_NE(at, std::string::npos) << r.out;
  const auto from = r.out.find_last_of(" ,(", at - 1) + 1;
  const unsigned n = static_cast<unsigned>(std::stoul(r.out.substr(from, at - from)));
  EXPECT_GE(n, 1u) << r.out;
  EXPECT_LE(n, cores) << r.out;
}

TEST_F(CliThreads, ProfileReportsTheWriterThread) {
  const auto r = isletsim::test::islet("run -q -j 1 --profile --set sim.duration_s=0.5 --set network.n_cells=50 -o " +
                                       path("a.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("writer thread"), std::string::npos) << r.out;
}

}  // namespace

namespace {
TEST_F(CliThreads, InfoStatesTheDefaultRule) {
  const auto r = isletsim::test::islet("info");
  ASSERT_EQ(r.code, 0) << r.out;
  const unsigned cores = env::detect_cores().cores;
  // The largest islet that gets one thread on idle cores, no writer.
  std::size_t one = 1;
  while (env::default_threads(one + 1, cores) == 1 && one < 100000) ++one;
  EXPECT_NE(r.out.find("islet run without -j: 1 thread for islets up to " + std::to_string(one) +
                       " cells (11-state model"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find(" idle when it starts (now "), std::string::npos) << r.out;
}
}  // namespace
