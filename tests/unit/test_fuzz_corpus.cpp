// The fuzzers' seed corpus (fuzz/corpus/<target>/) stays meaningful: every
// seed reaches the parser the way its fuzz target feeds it, the valid seeds
// are accepted and the near_valid* seeds are refused with InputError. When a
// parser changes, a seed that no longer parses fails here, not silently in
// the fuzzer (which would then start from shallow inputs).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "isletsim/analysis_io.hpp"
#include "isletsim/config.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"
#include "isletsim/sweep.hpp"

#include "../../fuzz/fuzz_support.hpp"

namespace fs = std::filesystem;
using namespace isletsim;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Each seed of `target` through `feed`; returns how many there were.
template <class Feed>
int check_corpus(const std::string& target, Feed feed) {
  const fs::path dir = fs::path(ISLET_SOURCE_DIR) / "fuzz" / "corpus" / target;
  int n = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const std::string bytes = slurp(e.path());
    ++n;
    if (name.starts_with("near_valid")) {
      EXPECT_THROW(feed(bytes), InputError) << target << "/" << name;
    } else {
      EXPECT_NO_THROW(feed(bytes)) << target << "/" << name;
    }
  }
  return n;
}

}  // namespace

TEST(FuzzCorpus, ConfigSeeds) {
  const int n = check_corpus("fuzz_config", [](const std::string& in) {
    const auto parts = fuzz::split_parts(in, 2);
    const Overrides sets = parts.size() > 1 ? fuzz::lines(parts[1], 16) : Overrides{};
    parse_config(std::string(parts[0]), "seed.toml", sets);
  });
  EXPECT_GE(n, 3);
}

TEST(FuzzCorpus, SweepSeeds) {
  fuzz::write_file("run.toml", fuzz::kSweepBaseToml);
  const int n = check_corpus("fuzz_sweep", [](const std::string& in) {
    const auto spec = sweep::parse_sweep(in, "seed.toml", fuzz::scratch().string());
    EXPECT_GT(spec.size(), 1u);
  });
  EXPECT_GE(n, 3);
}

TEST(FuzzCorpus, NetworkCsvSeeds) {
  const auto params = param_names(find_model("bertram2007"));
  const int n = check_corpus("fuzz_network_csv", [&](const std::string& in) {
    const auto parts = fuzz::split_parts(in, 2);
    ASSERT_EQ(parts.size(), 2u) << "a seed holds cells.csv, a line %%, and edges.csv";
    const Network net =
        load_network_csv(fuzz::write_file("cells.csv", parts[0]), fuzz::write_file("edges.csv", parts[1]), params);
    EXPECT_GE(net.n_edges(), 1u);
  });
  EXPECT_GE(n, 3);
}

TEST(FuzzCorpus, RecordingSeeds) {
  const int n = check_corpus("fuzz_recording", [](const std::string& in) {
    ASSERT_FALSE(in.empty());
    const auto opt = fuzz::recording_options(static_cast<std::uint8_t>(in[0]));
    const auto parts = fuzz::split_parts(std::string_view(in).substr(1), 2);
    const std::string pos = parts.size() > 1 ? fuzz::write_file("positions.txt", parts[1]) : std::string();
    const auto rec = analysis_input_from_text(fuzz::write_file("recording.txt", parts[0]), pos, opt.sampling_hz,
                                              opt.time_column);
    EXPECT_GE(rec.data.samples, 3u);
  });
  EXPECT_GE(n, 3);
}

TEST(FuzzCorpus, RunFileSeeds) {
  const int n = check_corpus("fuzz_run_file", [](const std::string& in) {
    const H5Run run = read_run(fuzz::write_file("run.h5", in));
    EXPECT_EQ(run.n_cells, 4u);  // the seeds are 2x2x1 lattices
    EXPECT_GT(run.n_samples, 1u);
  });
  EXPECT_GE(n, 2);
}

// What the fuzzers found, beyond the near_valid seeds above.
TEST(FuzzFindings, SweepTaskCountIsBounded) {
  fuzz::write_file("run.toml", fuzz::kSweepBaseToml);
  const std::string dir = fuzz::scratch().string();
  // sample.n = 3e9 allocated 3e9 points (bad_alloc, or the OOM killer).
  try {
    sweep::parse_sweep("base = \"run.toml\"\n[sample]\nn = 3000000000\n\"coupling.gV\" = [0, 10]\n", "s.toml", dir);
    ADD_FAILURE() << "sample.n = 3e9 accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("s.toml:3:5: sample.n: at most 1000000 samples"), std::string::npos)
        << e.what();
  }
  // A product of components just over the bound: 1001 seeds x 1000 samples.
  std::string seeds;
  for (int i = 0; i <= 1000; ++i) seeds += (i ? ", " : "") + std::to_string(i);
  const std::string grid = "base = \"run.toml\"\n[grid]\n\"sim.seed\" = [" + seeds + "]\n";
  try {
    sweep::parse_sweep(grid + "[sample]\nn = 1000\n\"coupling.gV\" = [0, 10]\n", "s.toml", dir);
    ADD_FAILURE() << "1001000 tasks accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("more than 1000000 tasks"), std::string::npos) << e.what();
  }
  // At the bound it is fine: 1001 x 999.
  EXPECT_EQ(sweep::parse_sweep(grid + "[sample]\nn = 999\n\"coupling.gV\" = [0, 10]\n", "s.toml", dir).size(),
            1001u * 999u);
}

TEST(FuzzFindings, SetValueThatIsNeitherTomlNorTextIsAnInputError) {
  for (const std::string bad : {"sim.integrator=a\x01" "b", "model.name=\xf8\xf8"}) {
    try {
      parse_config("", "x.toml", {bad});
      ADD_FAILURE() << "accepted --set " << bad;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("the value is neither TOML nor text"), std::string::npos) << e.what();
    }
  }
}

TEST(FuzzFindings, DamagedRunFilesAreInputErrors) {
  const fs::path dir = fs::path(ISLET_SOURCE_DIR) / "fuzz" / "corpus" / "fuzz_run_file";
  // A B-tree node signature destroyed: HDF5 fails inside read_run (was a
  // plain runtime_error: exit 1).
  // A dataset shape of 2^58 values: read_run allocated it (bad_alloc, or
  // ASan's allocation-size-too-big).
  for (const auto& [file, says] : {std::pair{"near_valid_damaged_symbol_table.h5", "look up 'time'"},
                                   std::pair{"near_valid_huge_shape.h5", "(a damaged file)"}}) {
    try {
      read_run((dir / file).string());
      ADD_FAILURE() << file << " accepted";
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("as an isletsim output file"), std::string::npos) << msg;
      EXPECT_NE(msg.find(says), std::string::npos) << msg;
    }
  }
}
