// The default thread count (env::default_threads, env::resolve_threads):
// small islets get one thread, large ones one per kCellsPerThread cells, never
// more than the usable cores; an explicit request is always obeyed.
#include <gtest/gtest.h>

#include <limits>
#include <string>

#include "isletsim/env.hpp"
#include "isletsim/error.hpp"

namespace env = isletsim::env;

namespace {

constexpr std::size_t K = env::kCellsPerThread;

TEST(DefaultThreads, SmallIsletsGetOneThread) {
  EXPECT_EQ(env::default_threads(50, 8), 1u);
  EXPECT_EQ(env::default_threads(125, 2), 1u);
  EXPECT_EQ(env::default_threads(1000, 64), 1u);
  EXPECT_EQ(env::default_threads(0, 8), 1u);  // never 0
  EXPECT_EQ(env::default_threads(1, 1), 1u);
}

TEST(DefaultThreads, LargeIsletsUseTheCores) {
  EXPECT_EQ(env::default_threads(100000, 2), 2u);
  EXPECT_EQ(env::default_threads(100000, 8), 8u);
  EXPECT_EQ(env::default_threads(100000, 1), 1u);
}

TEST(DefaultThreads, OneThreadPerKCellsRoundedDown) {
  EXPECT_EQ(env::default_threads(2 * K - 1, 8), 1u);
  EXPECT_EQ(env::default_threads(2 * K, 8), 2u);
  EXPECT_EQ(env::default_threads(3 * K + K / 2, 8), 3u);
}

TEST(DefaultThreads, NeverMoreThanTheCores) {
  for (unsigned cores : {1u, 2u, 3u, 7u, 64u, 1024u})
    for (std::size_t cells : {std::size_t{1}, K, 10 * K, 1000 * K, std::numeric_limits<std::size_t>::max()}) {
      const unsigned t = env::default_threads(cells, cores);
      EXPECT_GE(t, 1u) << cells << " cells, " << cores << " cores";
      EXPECT_LE(t, cores) << cells << " cells, " << cores << " cores";
    }
  EXPECT_EQ(env::default_threads(std::numeric_limits<std::size_t>::max(), 16, 1000), 16u);  // no overflow
  EXPECT_EQ(env::default_threads(100000, 0), 1u);  // 0 cores counts as 1
}

TEST(DefaultThreads, MoreStatesPerCellNeedFewerCells) {
  // Work per cell grows with the model's states: 22 states count double.
  EXPECT_EQ(env::default_threads(K, 8, 2 * env::kReferenceStates), 2u);
  EXPECT_EQ(env::default_threads(K, 8, env::kReferenceStates), 1u);
  EXPECT_EQ(env::default_threads(K, 8, 0), 1u);  // 0 = the reference model
  EXPECT_EQ(env::default_threads(2 * K, 8, env::kReferenceStates / 2), 1u);
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

TEST_F(CliThreads, LargeIsletTakesTheDefaultOfItsSize) {
  const std::size_t cells = 2 * env::kCellsPerThread;
  const unsigned expect = env::default_threads(cells, env::detect_cores().cores);
  const auto r = isletsim::test::islet("run -q --set sim.duration_s=0.002 --set record.interval_ms=1 "
                                       "--set network.n_cells=" + std::to_string(cells) + " -o " + path("a.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(std::to_string(expect) + " thread(s)"), std::string::npos) << expect << "\n" << r.out;
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
  EXPECT_NE(r.out.find("islet run without -j: 1 thread per " + std::to_string(env::kCellsPerThread) + " cells"),
            std::string::npos)
      << r.out;
}
}  // namespace
