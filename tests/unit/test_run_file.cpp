// The one path from a setup to a file (src/run/run_file.cpp): run_to_file's
// extra sink sees exactly the samples the file holds, and open_run_file with
// file_static writes the static part run_to_file writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <string>
#include <unistd.h>

#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"

using namespace isletsim;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()) + ".h5")).string();
}

RunConfig small(const std::string& dtype) {
  RunConfig c = default_config();
  c.integrator = Integrator::rk4;  // fixed steps: the counts below
  c.dt_ms = 0.5;
  c.network = NetworkKind::lattice;
  c.nx = 3, c.ny = 3, c.nz = 2;
  c.duration_s = 0.5;
  c.record_interval_ms = 5;
  c.record_dtype = dtype == "float64" ? RecordType::float64 : RecordType::float32;
  c.record_vars = {"c", "V"};
  c.heterogeneity = {{"gKATP", {DistKind::normal, 0.1}}};  // per-cell values to write
  return c;
}

}  // namespace

TEST(RunFile, AlsoSinkGetsTheFilesSamples) {
  const RunSetup s = build_setup(small("float64"));
  const std::string path = temp_path("islet_run_file_also");
  MemorySink mem(s.problem.n_cells);
  RunOptions opt;
  opt.threads = 1;
  const RunResult r = run_to_file(s, path, opt, &mem);
  ASSERT_EQ(r.status, RunResult::Status::complete) << r.message;
  const H5Run f = read_run(path);
  EXPECT_EQ(f.attr("status"), "complete");
  EXPECT_FALSE(f.float32);
  ASSERT_EQ(f.n_samples, 101u);
  EXPECT_EQ(f.time, mem.time_s);
  EXPECT_EQ(f.glucose.size(), mem.glucose_mM.size());
  ASSERT_EQ(mem.data.size(), 2u);
  EXPECT_EQ(f.var("c"), mem.data[0]);
  EXPECT_EQ(f.var("V"), mem.data[1]);
  // Without the extra sink: the same file.
  const std::string plain = temp_path("islet_run_file_plain");
  ASSERT_EQ(run_to_file(s, plain, opt).status, RunResult::Status::complete);
  EXPECT_EQ(read_run(plain).var("c"), f.var("c"));
  std::filesystem::remove(path);
  std::filesystem::remove(plain);
}

// RunOptions::encode_on_compute: the simulation's threads compress the
// blocks (SampleSink::encode) and the writer stores them; the file holds the
// same samples as with the writer compressing, for fixed steps and dopri5,
// float32 and float64, on 1, 2 and 3 threads (3 threads, 2 variables: one
// thread has none). 2501 samples in blocks (and chunks) of 1000 (dopri5)
// or 1024: two blocks compressed by the threads, the last part-block by the
// writer.
TEST(RunFile, CompressedOnComputeThreadsSameSamples) {
  for (const char* dtype : {"float32", "float64"})
    for (const Integrator integ : {Integrator::rk4, Integrator::dopri5}) {
      RunConfig c = small(dtype);
      c.integrator = integ;
      c.duration_s = 2.5;
      c.record_interval_ms = 1;
      const RunSetup s = build_setup(c);
      ASSERT_LT(2 * s.problem.record_block, 2501u);
      MemorySink mem(s.problem.n_cells);
      RunOptions base;
      base.threads = 1;
      const std::string ref = temp_path("islet_run_file_enc_ref");
      ASSERT_EQ(run_to_file(s, ref, base, &mem).status, RunResult::Status::complete);
      const H5Run want = read_run(ref);
      ASSERT_EQ(want.n_samples, 2501u);
      for (unsigned threads : {1u, 2u, 3u}) {
        RunOptions opt;
        opt.threads = threads;
        opt.encode_on_compute = true;
        const std::string path = temp_path("islet_run_file_enc");
        const RunResult r = run_to_file(s, path, opt);
        ASSERT_EQ(r.status, RunResult::Status::complete) << r.message;
        const H5Run got = read_run(path);
        EXPECT_EQ(got.time, want.time) << dtype << " " << threads;
        EXPECT_EQ(got.var("c"), want.var("c")) << dtype << " " << threads;
        EXPECT_EQ(got.var("V"), want.var("V")) << dtype << " " << threads;
        std::filesystem::remove(path);
      }
      // And the samples are the simulation's (the memory sink's doubles).
      ASSERT_EQ(mem.data.size(), 2u);
      for (std::size_t i = 0; i < mem.data[1].size(); ++i) {
        const double x = mem.data[1][i];
        ASSERT_EQ(want.var("V")[i], std::string(dtype) == "float32" ? static_cast<double>(static_cast<float>(x)) : x);
      }
      std::filesystem::remove(ref);
    }
}

// RunConfig holds the seed as a uint64_t, a run file (and the config it
// stores) as a signed 64-bit integer, as a config file gives it: a seed above
// 2^63 - 1, which only the C++ API can set (a config, --set and
// isletsim.Config.set refuse it), is refused naming sim.seed and the range
// before any file is made, instead of being stored negative.
TEST(RunFile, ASeedAFileCannotStoreIsRefused) {
  RunConfig c = small("float64");
  c.seed = std::uint64_t{1} << 63;
  const std::string path = temp_path("islet_run_file_seed");
  RunOptions opt;
  opt.threads = 1;
  try {
    run_to_file(build_setup(c), path, opt);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("sim.seed = 9223372036854775808: expected an integer "
                                         "0..9223372036854775807 (2^63 - 1)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  c.seed = (std::uint64_t{1} << 63) - 1;  // the largest: stored as it is
  ASSERT_EQ(run_to_file(build_setup(c), path, opt).status, RunResult::Status::complete);
  const H5Run f = read_run(path);
  const auto seed = std::find_if(f.integer_attrs.begin(), f.integer_attrs.end(),
                                 [](const auto& kv) { return kv.first == "seed"; });
  ASSERT_NE(seed, f.integer_attrs.end());
  EXPECT_EQ(seed->second, std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(config_of_run_file(path, {}).seed, c.seed);  // and the stored config reads back
  std::filesystem::remove(path);
}

TEST(RunFile, StaticPartIsWhatRunToFileWrites) {
  const RunSetup s = build_setup(small("float32"));
  const RunFileStatic st = file_static(s, 3);
  EXPECT_TRUE(st.float32);
  EXPECT_EQ(st.chunk_samples, record_block_for(s.problem.n_cells, 2));
  ASSERT_EQ(st.vars.size(), 2u);
  EXPECT_EQ(st.vars[0].name, "c");
  EXPECT_EQ(st.vars[1].name, "V");
  const std::string run_path = temp_path("islet_run_file_run"), static_path = temp_path("islet_run_file_static");
  RunOptions opt;
  opt.threads = 3;
  ASSERT_EQ(run_to_file(s, run_path, opt).status, RunResult::Status::complete);
  {
    const auto w = open_run_file(static_path, st);
    w->finish("complete", "");
  }
  const H5Run a = read_run(run_path), b = read_run(static_path);
  EXPECT_TRUE(a.float32);
  EXPECT_TRUE(b.float32);
  EXPECT_EQ(b.n_samples, 0u);
  EXPECT_EQ(a.var_names, b.var_names);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.z, b.z);
  EXPECT_EQ(a.edge_i, b.edge_i);
  EXPECT_EQ(a.edge_w, b.edge_w);
  ASSERT_EQ(a.params.size(), b.params.size());
  for (std::size_t k = 0; k < a.params.size(); ++k) {
    EXPECT_EQ(a.params[k].first, b.params[k].first);
    EXPECT_EQ(a.params[k].second, b.params[k].second) << a.params[k].first;
  }
  auto strings = [](const H5Run& r) {  // but the times of the run and of the static write
    auto v = r.string_attrs;
    std::erase_if(v, [](const auto& kv) { return kv.first == "start_time" || kv.first == "end_time"; });
    return v;
  };
  EXPECT_EQ(strings(a), strings(b));
  auto numbers = [](const H5Run& r) {  // but n_samples, which the writer keeps
    auto v = r.number_attrs;
    std::erase_if(v, [](const auto& kv) { return kv.first == "n_samples"; });
    return v;
  };
  EXPECT_EQ(numbers(a), numbers(b));
  EXPECT_EQ(numbers(a).size(), 5u);
  // The heterogeneity reached the file: gKATP differs between cells.
  for (const auto& [name, v] : a.params) {
    if (name != "gKATP") continue;
    EXPECT_NE(v.front(), v.back());
  }
  std::filesystem::remove(run_path);
  std::filesystem::remove(static_path);
}
