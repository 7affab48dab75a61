// H5Writer / read_run: round trip, status handling, errors, surviving SIGKILL,
// and reading with h5py while a run writes the file.
#include <gtest/gtest.h>
#include <hdf5.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "io/h5_handle.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/rng.hpp"

namespace fs = std::filesystem;
using namespace isletsim;

namespace {

// Open HDF5 files and objects in them (groups, datasets, attributes, types).
ssize_t open_ids() { return H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }

// A fresh scratch directory per test, removed afterwards; checks that the
// test leaves no HDF5 identifier open.
class H5IoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ids_ = open_ids();
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("isletsim_h5io_" + std::to_string(getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    EXPECT_EQ(open_ids(), ids_) << "HDF5 files or objects left open";
    fs::remove_all(dir_);
  }
  std::string file(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
  ssize_t ids_ = 0;
};

H5WriterOptions options(const std::string& path, std::size_t cells, bool float32) {
  H5WriterOptions opt;
  opt.path = path;
  opt.n_cells = cells;
  opt.vars = {{"V", "mV", "membrane potential"}, {"c", "uM", "cytosolic calcium"}};
  opt.float32 = float32;
  opt.chunk_samples = 4;
  return opt;
}

// Deterministic, non-round values for sample s, cell c, variable v.
double value(std::size_t v, std::size_t s, std::size_t c) {
  return (v == 0 ? -60.0 : 0.1) + 0.1234567890123 * static_cast<double>(s) +
         std::sqrt(static_cast<double>(c + 2)) / 3.0;
}

// Appends samples [first, first + n) of the test signal.
void append_block(H5Writer& w, std::size_t cells, std::size_t first, std::size_t n) {
  std::vector<double> t(n), g(n), v0(n * cells), v1(n * cells);
  for (std::size_t s = 0; s < n; ++s) {
    t[s] = 0.5 * static_cast<double>(first + s);
    g[s] = 7.0 + 0.01 * static_cast<double>(first + s);
    for (std::size_t c = 0; c < cells; ++c) {
      v0[s * cells + c] = value(0, first + s, c);
      v1[s * cells + c] = value(1, first + s, c);
    }
  }
  w.append(n, t.data(), g.data(), {v0.data(), v1.data()});
}

// Checks that run holds samples [0, n) of the test signal, exactly or as float32.
void expect_signal(const H5Run& run, std::size_t cells, std::size_t n, bool float32) {
  ASSERT_EQ(run.n_samples, n);
  ASSERT_EQ(run.n_cells, cells);
  ASSERT_EQ(run.time.size(), n);
  ASSERT_EQ(run.glucose.size(), n);
  ASSERT_EQ(run.var_names, (std::vector<std::string>{"V", "c"}));
  for (std::size_t s = 0; s < n; ++s) {
    EXPECT_EQ(run.time[s], 0.5 * static_cast<double>(s));
    EXPECT_EQ(run.glucose[s], 7.0 + 0.01 * static_cast<double>(s));
    for (std::size_t v = 0; v < 2; ++v)
      for (std::size_t c = 0; c < cells; ++c) {
        const double want = float32 ? static_cast<double>(static_cast<float>(value(v, s, c)))
                                    : value(v, s, c);
        ASSERT_EQ(run.data[v][s * cells + c], want) << "var " << v << " sample " << s << " cell " << c;
      }
  }
}

const char* kPython = "/usr/bin/python3";

bool have_h5py() {
  const std::string cmd = std::string(kPython) + " -c 'import h5py' >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

// Runs a Python snippet with `f` = h5py.File(path, 'r'); true when it exits 0.
bool h5py_check(const std::string& path, const std::string& body) {
  const std::string cmd = std::string(kPython) + " -c \"import h5py, sys\nf = h5py.File('" + path +
                          "', 'r')\n" + body + "\"";
  return std::system(cmd.c_str()) == 0;
}

// Child process: writes blocks of 3, 5 and 2 samples, then kills itself
// (no finish, no destructor, no HDF5 shutdown): kKillSamples samples in all.
constexpr std::size_t kKillCells = 7;
constexpr std::size_t kKillSamples = 10;

void write_and_sigkill(const std::string& path) {
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    try {
      H5Writer w(options(path, kKillCells, false));
      w.set_attr("config", std::string("[run]\nt_end = 1\n"));
      append_block(w, kKillCells, 0, 3);
      append_block(w, kKillCells, 3, 5);
      append_block(w, kKillCells, 8, 2);
      raise(SIGKILL);
    } catch (...) {
    }
    _exit(3);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  ASSERT_EQ(WTERMSIG(status), SIGKILL);
}

TEST_F(H5IoTest, RoundTripFloat64) {
  const std::size_t cells = 5;
  const std::string path = file("run.h5");
  {
    H5Writer w(options(path, cells, false));
    EXPECT_EQ(w.path(), path);
    w.write_positions({0, 1, 2, 3, 4}, {0.5, 1.5, 2.5, 3.5, 4.5}, {-1, -2, -3, -4, -5.25});
    w.write_edges({0, 1, 3}, {1, 2, 4}, {1.0, 0.5, 0.125});
    w.write_cell_param("gKATP", "nS", "KATP conductance", {1.1, 1.2, 1.3, 1.4, 1.5});
    w.write_cell_param("Vgk", "1", "glucokinase rate", {0.1, 0.2, 0.3, 0.4, 0.5});
    w.set_attr("config", std::string("[network]\nkind = \"lattice\"\n"));
    w.set_attr("version", std::string("0.1.0 \xce\xbc"));  // UTF-8 survives
    w.set_attr("seed", std::int64_t{123456789012345});
    w.set_attr("dt", 0.25);
    w.set_attr("dt", 0.125);                               // overwrite, same type
    w.set_attr("label", 3.0);
    w.set_attr("label", std::string("now a string"));      // overwrite, other type
    append_block(w, cells, 0, 3);
    append_block(w, cells, 3, 1);
    append_block(w, cells, 4, 9);  // spans chunks of 4 samples
    EXPECT_EQ(w.samples_written(), 13u);
    w.finish("complete", "all done");
  }
  const H5Run run = read_run(path);
  expect_signal(run, cells, 13, false);
  EXPECT_EQ(run.var("c"), run.data[1]);
  EXPECT_EQ(run.x, (std::vector<double>{0, 1, 2, 3, 4}));
  EXPECT_EQ(run.y, (std::vector<double>{0.5, 1.5, 2.5, 3.5, 4.5}));
  EXPECT_EQ(run.z, (std::vector<double>{-1, -2, -3, -4, -5.25}));
  EXPECT_EQ(run.edge_i, (std::vector<std::uint32_t>{0, 1, 3}));
  EXPECT_EQ(run.edge_j, (std::vector<std::uint32_t>{1, 2, 4}));
  EXPECT_EQ(run.edge_w, (std::vector<double>{1.0, 0.5, 0.125}));
  ASSERT_EQ(run.params.size(), 2u);
  EXPECT_EQ(run.params[0].first, "gKATP");
  EXPECT_EQ(run.params[0].second, (std::vector<double>{1.1, 1.2, 1.3, 1.4, 1.5}));
  EXPECT_EQ(run.params[1].first, "Vgk");
  EXPECT_EQ(run.attr("config"), "[network]\nkind = \"lattice\"\n");
  EXPECT_EQ(run.attr("version"), "0.1.0 \xce\xbc");
  EXPECT_EQ(run.attr("status"), "complete");
  EXPECT_EQ(run.attr("status_message"), "all done");
  EXPECT_EQ(run.attr("label"), "now a string");
  EXPECT_EQ(run.attr("seed"), "123456789012345");
  EXPECT_EQ(run.attr("dt"), "0.125");
  EXPECT_EQ(run.attr("n_samples"), "13");
  EXPECT_EQ(run.attr("n_cells"), "5");
  EXPECT_EQ(run.attr("absent"), "");
  bool saw_dt = false;
  for (const auto& [name, v] : run.number_attrs)
    if (name == "dt") saw_dt = (v == 0.125);
  EXPECT_TRUE(saw_dt);
  for (const auto& [name, v] : run.string_attrs) EXPECT_NE(name, "dt");
  for (const auto& [name, v] : run.number_attrs) EXPECT_NE(name, "label");
}

TEST_F(H5IoTest, RoundTripFloat32RoundsToNearestFloat) {
  const std::size_t cells = 3;
  const std::string path = file("run32.h5");
  {
    auto opt = options(path, cells, true);
    opt.deflate_level = 0;
    H5Writer w(opt);
    append_block(w, cells, 0, 2);
    append_block(w, cells, 2, 6);
    append_block(w, cells, 8, 1);
    w.finish("complete", "");
  }
  const H5Run run = read_run(path);
  expect_signal(run, cells, 9, true);
  EXPECT_NE(run.data[0][0], value(0, 0, 0));  // really stored as float32
}

// Whole chunks of /data/<var> are compressed by the writer itself (libdeflate)
// and stored with H5Dwrite_chunk; a block's rows that fill part of a chunk
// go through HDF5's filters. Blocks of 1, 6, 8 and 3 samples against chunks
// of 4 mix both, and continuing at sample 10 (inside a chunk) adds more.
// Read back through HDF5 (its own deflate decoder), and one stored chunk
// decoded by hand with zlib: shuffle then deflate, both applied (mask 0).
TEST_F(H5IoTest, WholeChunksStoredAsHdf5ShuffleDeflate) {
  for (const bool float32 : {true, false}) {
    const std::string path = file(float32 ? "f32.h5" : "f64.h5");
    const std::size_t cells = 5;
    {
      H5Writer w(options(path, cells, float32));
      append_block(w, cells, 0, 1);
      append_block(w, cells, 1, 6);
      append_block(w, cells, 7, 8);
      append_block(w, cells, 15, 3);
    }
    expect_signal(read_run(path), cells, 18, float32);
    {
      H5WriterOptions opt = options(path, cells, float32);
      opt.continue_at = 10;
      H5Writer w(opt);
      append_block(w, cells, 10, 11);
      w.finish("completed", "");
    }
    expect_signal(read_run(path), cells, 21, float32);
    // Samples 8-11 of V: the one chunk a block (7-14) holds whole.
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    const hid_t d = H5Dopen2(f, "/data/V", H5P_DEFAULT);
    ASSERT_GE(d, 0);
    const hsize_t offset[2] = {8, 0};
    hsize_t stored = 0;
    ASSERT_GE(H5Dget_chunk_storage_size(d, offset, &stored), 0);
    std::vector<unsigned char> packed(stored);
    std::uint32_t mask = 99;
    ASSERT_GE(H5Dread_chunk(d, H5P_DEFAULT, offset, &mask, packed.data()), 0);
    H5Dclose(d);
    H5Fclose(f);
    EXPECT_EQ(mask, 0u) << "both filters applied";
    const std::size_t es = float32 ? 4 : 8, n = 4 * cells;
    std::vector<unsigned char> planes(n * es), raw(n * es);
    uLongf got = planes.size();
    ASSERT_EQ(uncompress(planes.data(), &got, packed.data(), packed.size()), Z_OK);
    ASSERT_EQ(got, planes.size());
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t b = 0; b < es; ++b) raw[i * es + b] = planes[b * n + i];
    for (std::size_t s = 0; s < 4; ++s)
      for (std::size_t c = 0; c < cells; ++c) {
        const double want = value(0, 8 + s, c);
        double have = 0;
        if (float32) {
          float x = 0;
          std::memcpy(&x, &raw[(s * cells + c) * es], 4);
          have = x;
          EXPECT_EQ(have, static_cast<double>(static_cast<float>(want)));
        } else {
          std::memcpy(&have, &raw[(s * cells + c) * es], 8);
          EXPECT_EQ(have, want);
        }
      }
  }
}

// encode() compresses a block's whole chunks ahead of its append(), which
// stores those bytes as they are: encoded from other values than appended
// (a misuse, to tell which bytes were stored), the whole chunk holds the
// encoded values and the part-chunk rows the appended ones. An encode for
// other samples than the append's is ignored.
TEST_F(H5IoTest, AppendStoresTheChunksEncodeMade) {
  const std::string path = file("enc.h5");
  const std::size_t cells = 3, n = 6;  // chunks of 4: rows 0-3 whole, 4-5 part
  {
    H5Writer w(options(path, cells, false));
    std::vector<double> appended(n * cells, 1.5), encoded(n * cells, -2.5), t(n, 0.0);
    w.encode(0, 0, n, encoded.data());
    w.encode(1, 7, n, encoded.data());  // other samples: not used
    w.append(n, t.data(), nullptr, {appended.data(), appended.data()});
  }
  const H5Run run = read_run(path);
  ASSERT_EQ(run.n_samples, n);
  for (std::size_t i = 0; i < n * cells; ++i) {
    EXPECT_EQ(run.data[0][i], i < 4 * cells ? -2.5 : 1.5) << i;
    EXPECT_EQ(run.data[1][i], 1.5) << i;
  }
}

TEST_F(H5IoTest, LargeRowsCapChunkAndKeepData) {
  // 300k cells x float64 = 2.4 MB per sample: a chunk holds only one sample.
  const std::size_t cells = 300000;
  const std::string path = file("wide.h5");
  {
    H5Writer w(options(path, cells, false));
    append_block(w, cells, 0, 2);
    w.finish("complete", "");
  }
  expect_signal(read_run(path), cells, 2, false);
}

TEST_F(H5IoTest, NoVariablesNoEdgesAndNullGlucose) {
  const std::string path = file("bare.h5");
  {
    H5WriterOptions opt;
    opt.path = path;
    opt.n_cells = 4;
    H5Writer w(opt);
    w.write_edges({}, {}, {});
    const double t[2] = {0.0, 1.0};
    w.append(2, t, nullptr, {});
    w.finish("interrupted", "SIGINT");
  }
  const H5Run run = read_run(path);
  EXPECT_EQ(run.n_samples, 2u);
  EXPECT_EQ(run.n_cells, 4u);
  EXPECT_TRUE(run.var_names.empty());
  EXPECT_TRUE(run.edge_i.empty());
  EXPECT_TRUE(std::isnan(run.glucose[0]) && std::isnan(run.glucose[1]));
  EXPECT_EQ(run.attr("status"), "interrupted");
  EXPECT_EQ(run.attr("status_message"), "SIGINT");
  EXPECT_THROW(run.var("V"), InputError);
}

TEST_F(H5IoTest, DestroyedWithoutFinishStaysRunning) {
  const std::size_t cells = 4;
  const std::string path = file("unfinished.h5");
  {
    H5Writer w(options(path, cells, false));
    append_block(w, cells, 0, 6);
    append_block(w, cells, 6, 1);
  }
  const H5Run run = read_run(path);
  EXPECT_EQ(run.attr("status"), "running");
  expect_signal(run, cells, 7, false);
}

// A file the writer creates is new until its first flush after the layout:
// a writer that goes away before then (here as when a write of the static
// part throws) removes it, as it holds nothing simulated yet. Once flushed
// it stays, status "running".
TEST_F(H5IoTest, NewFileRemovedUnlessFlushedOnce) {
  const std::string gone = file("gone.h5"), kept = file("kept.h5");
  const std::vector<double> x = {0, 1, 2}, zero = {0, 0, 0};
  try {
    H5Writer w(options(gone, 3, false));
    w.write_positions(x, zero, zero);
    ASSERT_TRUE(fs::exists(gone));
    throw std::runtime_error("a write of the static part failed");
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(fs::exists(gone));
  {
    H5Writer w(options(kept, 3, false));
    w.write_positions(x, zero, zero);
    w.flush();
  }
  const H5Run run = read_run(kept);
  EXPECT_EQ(run.attr("status"), "running");
  EXPECT_EQ(run.n_samples, 0u);
  EXPECT_EQ(run.x, x);
}

// A file being continued is never removed: not when its writer fails to
// reopen it, nor when the writer goes away without a flush of its own.
TEST_F(H5IoTest, ContinuedFileIsNeverRemoved) {
  const std::size_t cells = 4;
  const std::string path = file("continued.h5");
  {
    H5Writer w(options(path, cells, false));
    append_block(w, cells, 0, 6);
    w.finish("complete", "");
  }
  auto opt = options(path, cells, false);
  opt.continue_at = 10;  // more samples than the file holds: refused
  EXPECT_THROW(H5Writer{opt}, InputError);
  opt.continue_at = 6;
  { H5Writer w(opt); }
  ASSERT_TRUE(fs::exists(path));
  expect_signal(read_run(path), cells, 6, false);
}

TEST_F(H5IoTest, FinishStatusReadBack) {
  const std::string path = file("failed.h5");
  {
    H5Writer w(options(path, 2, false));
    append_block(w, 2, 0, 1);
    w.finish("failed", "non-finite state in cell 1 at t = 0.5 s");
    EXPECT_THROW(append_block(w, 2, 1, 1), std::logic_error);
    EXPECT_THROW(w.finish("complete", ""), std::logic_error);
  }
  const H5Run run = read_run(path);
  EXPECT_EQ(run.attr("status"), "failed");
  EXPECT_EQ(run.attr("status_message"), "non-finite state in cell 1 at t = 0.5 s");
  EXPECT_EQ(run.n_samples, 1u);
}

TEST_F(H5IoTest, BadOptionsAndArguments) {
  auto opt = options(file("x.h5"), 3, false);
  opt.vars.push_back({"V", "mV", "again"});
  EXPECT_THROW(H5Writer{opt}, InputError);
  opt = options(file("x.h5"), 3, false);
  opt.vars[0].name = "a/b";
  EXPECT_THROW(H5Writer{opt}, InputError);
  opt = options(file("x.h5"), 0, false);
  EXPECT_THROW(H5Writer{opt}, InputError);
  opt = options(file("x.h5"), 3, false);
  opt.deflate_level = 10;
  EXPECT_THROW(H5Writer{opt}, InputError);

  H5Writer w(options(file("y.h5"), 3, false));
  const double t = 0, v = 0;
  EXPECT_THROW(w.append(1, &t, &t, {&v}), std::invalid_argument);
  EXPECT_THROW(w.write_positions({0}, {0}, {0}), std::invalid_argument);
  EXPECT_THROW(w.write_cell_param("p", "1", "", {1.0}), std::invalid_argument);
}

TEST_F(H5IoTest, CreateInMissingDirectoryNamesPath) {
  const std::string path = file("no/such/dir/run.h5");
  try {
    H5Writer w(options(path, 3, false));
    FAIL() << "no exception";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("cannot create file '" + path + "'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("No such file or directory"), std::string::npos) << msg;
  }
}

TEST_F(H5IoTest, ReadErrorsNameThePath) {
  const std::string text = file("notes.txt");
  std::ofstream(text) << "this is not HDF5\n";
  const std::string missing = file("missing.h5");
  const std::string empty = file("empty.h5");
  {  // a valid HDF5 file without the isletsim layout
    const hid_t f = H5Fcreate(empty.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    H5Fclose(f);
  }
  for (const auto& [path, why] : std::vector<std::pair<std::string, std::string>>{
           {text, "not an HDF5 file"},
           {missing, "no such file"},
           {dir_.string(), "directory"},
           {empty, "missing dataset '/time'"}}) {
    try {
      read_run(path);
      ADD_FAILURE() << "no exception for " << path;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("cannot open '" + path + "' as an isletsim output file"), std::string::npos)
          << msg;
      EXPECT_NE(msg.find(why), std::string::npos) << msg;
    }
  }
}

TEST_F(H5IoTest, SurvivesSigkill) {
  const std::string path = file("killed.h5");
  ASSERT_NO_FATAL_FAILURE(write_and_sigkill(path));
  const H5Run run = read_run(path);
  EXPECT_EQ(run.attr("status"), "running");
  EXPECT_EQ(run.attr("config"), "[run]\nt_end = 1\n");
  expect_signal(run, kKillCells, kKillSamples, false);
}

TEST_F(H5IoTest, H5pyReadsKilledFile) {
  if (!have_h5py()) GTEST_SKIP() << kPython << " has no h5py";
  const std::string path = file("killed.h5");
  ASSERT_NO_FATAL_FAILURE(write_and_sigkill(path));
  EXPECT_TRUE(h5py_check(path,
                         "assert f['time'].shape[0] == " + std::to_string(kKillSamples) + "\n"
                         "assert f['data/c'].shape == (" + std::to_string(kKillSamples) + ", " +
                             std::to_string(kKillCells) + ")\n"
                         "assert f.attrs['status'] == 'running'\n"));
}

TEST_F(H5IoTest, H5pyReadsWhileWriting) {
  if (!have_h5py()) GTEST_SKIP() << kPython << " has no h5py";
  const std::size_t cells = 3;
  const std::string path = file("live.h5");
  H5Writer w(options(path, cells, true));
  w.set_attr("config", std::string("[run]\n"));
  append_block(w, cells, 0, 5);
  EXPECT_TRUE(h5py_check(path,
                         "assert f['time'].shape[0] == 5, f['time'].shape\n"
                         "assert f['data/V'].shape == (5, 3)\n"
                         "assert f['data/V'].dtype == 'float32'\n"
                         "assert f.attrs['status'] == 'running'\n"
                         "assert isinstance(f.attrs['config'], str)\n"));
  append_block(w, cells, 5, 2);
  EXPECT_TRUE(h5py_check(path, "assert f['time'].shape[0] == 7\n"
                               "assert abs(f['time'][6] - 3.0) < 1e-12\n"));
  w.finish("complete", "");
  EXPECT_TRUE(h5py_check(path, "assert f.attrs['status'] == 'complete'\n"
                               "assert f.attrs['n_samples'] == 7\n"
                               "assert list(f['data']) == ['V', 'c']\n"));
}

// Not a correctness test: prints the append throughput for the report.
TEST_F(H5IoTest, AppendThroughput) {
  const std::size_t cells = 1000, block = 64, blocks = 100;
  const std::string path = file("speed.h5");
  H5WriterOptions opt = options(path, cells, true);
  opt.chunk_samples = 64;
  H5Writer w(opt);
  std::vector<double> t(block), g(block, 7.0), v0(block * cells), v1(block * cells);
  for (std::size_t k = 0; k < v0.size(); ++k) {
    v0[k] = -60.0 + 20.0 * std::sin(1e-3 * static_cast<double>(k));
    v1[k] = 0.1 + 0.05 * std::cos(1e-3 * static_cast<double>(k));
  }
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t s = 0; s < block; ++s) t[s] = static_cast<double>(b * block + s);
    w.append(block, t.data(), g.data(), {v0.data(), v1.data()});
  }
  w.finish("complete", "");
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double mb = static_cast<double>(blocks * block * cells * 2 * sizeof(float)) / 1e6;
  std::printf("append 64 samples x 1000 cells x 2 vars float32: %.3f ms each, %.0f MB/s stored data, "
              "file %.1f MB\n",
              1e3 * secs / blocks, mb / secs, static_cast<double>(fs::file_size(path)) / 1e6);
}

}  // namespace

// shuffle_deflate's zlib stream, decoded by zlib itself: the shuffled planes.
namespace {

std::vector<unsigned char> shuffled(const std::vector<unsigned char>& raw, std::size_t elem) {
  const std::size_t count = raw.size() / elem;
  std::vector<unsigned char> planes(raw.size());
  for (std::size_t i = 0; i < count; ++i)
    for (std::size_t b = 0; b < elem; ++b) planes[b * count + i] = raw[i * elem + b];
  return planes;
}

std::vector<unsigned char> inflated(const std::vector<unsigned char>& packed, std::size_t size) {
  std::vector<unsigned char> out(size + 16);
  uLongf got = out.size();
  EXPECT_EQ(uncompress(out.data(), &got, packed.data(), packed.size()), Z_OK);
  out.resize(got);
  return out;
}

// Pseudo-random bytes (the project's counter-based generator): the low
// mantissa bytes of measured data.
std::uint64_t mix(std::uint64_t i) {
  return CounterRng(7, i, static_cast<std::uint32_t>(RngStream::user)).next_u64();
}

}  // namespace

// Rows of float32 values whose two low bytes are noise: those planes are
// stored as they are (stored deflate blocks, more than one: 2 x 50,000
// bytes > 65,535), the rest deflated, and zlib decodes the one stream.
TEST(ShuffleDeflate, NoisyLowBytesStoredAndTheStreamDecodes) {
  const std::size_t rows = 50, cells = 1000, n = rows * cells;
  std::vector<unsigned char> raw(n * 4);
  for (std::size_t i = 0; i < n; ++i) {
    const float x = 1.0f + static_cast<float>(i % cells) * 1e-4f;  // the same top bytes row after row
    std::uint32_t u = 0;
    std::memcpy(&u, &x, 4);
    u = (u & 0xffff0000u) | static_cast<std::uint32_t>(mix(i) & 0xffffu);
    std::memcpy(&raw[i * 4], &u, 4);
  }
  std::vector<unsigned char> scratch, packed;
  h5::shuffle_deflate(raw.data(), raw.size(), 4, cells, 1, scratch, packed);
  EXPECT_EQ(inflated(packed, raw.size()), shuffled(raw, 4));
  // After the 2-byte zlib header: a stored block (BFINAL 0, BTYPE 00) of
  // 65,535 bytes, the first 65,535 bytes of plane 0 as they are.
  ASSERT_GT(packed.size(), 7u + 65535u);
  EXPECT_EQ(packed[2], 0x00);
  EXPECT_EQ(packed[3] | packed[4] << 8, 65535);
  EXPECT_EQ(packed[5] | packed[6] << 8, 0);
  const std::vector<unsigned char> planes = shuffled(raw, 4);
  EXPECT_TRUE(std::equal(packed.begin() + 7, packed.begin() + 7 + 65535, planes.begin()));
  // Then a stored block of the rest of plane 1: the stored part ends where
  // the noise does.
  ASSERT_GT(packed.size(), 12u + 2 * n);
  EXPECT_EQ(packed[7 + 65535], 0x00);
  EXPECT_EQ(packed[8 + 65535] | packed[9 + 65535] << 8, static_cast<int>(2 * n - 65535));
  // The two noisy planes whole, the two others (repeated rows) nearly gone.
  EXPECT_GT(packed.size(), 2 * n);
  EXPECT_LT(packed.size(), 2 * n + n / 10);
}

// Low bytes that repeat from one row to the next (each cell's value the same
// at every sample) are deflated: the sample pairs each piece with the same
// columns of the next row. Pieces of single rows would look like noise.
TEST(ShuffleDeflate, LowBytesRepeatedRowToRowAreDeflated) {
  // Rows of 10,000 values: within deflate's 32 KiB window, longer than the
  // sample's pieces.
  const std::size_t rows = 5, cells = 10000, n = rows * cells;
  std::vector<unsigned char> raw(n * 4);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t u = 0x3f800000u | static_cast<std::uint32_t>(mix(i % cells) & 0x7fffffu);
    std::memcpy(&raw[i * 4], &u, 4);
  }
  std::vector<unsigned char> scratch, packed;
  h5::shuffle_deflate(raw.data(), raw.size(), 4, cells, 1, scratch, packed);
  EXPECT_EQ(inflated(packed, raw.size()), shuffled(raw, 4));
  EXPECT_LT(packed.size(), raw.size() / 5);
}

// Constant data, float64: every plane deflated to almost nothing; and noise
// in float64 (the six low bytes of each value, and the top two's planes
// still compressible): the stream decodes either way.
TEST(ShuffleDeflate, ConstantAndNoisyFloat64) {
  const std::size_t n = 20000;
  std::vector<unsigned char> raw(n * 8);
  for (std::size_t i = 0; i < n; ++i) {
    const double x = 0.125;
    std::memcpy(&raw[i * 8], &x, 8);
  }
  std::vector<unsigned char> scratch, packed;
  h5::shuffle_deflate(raw.data(), raw.size(), 8, 100, 1, scratch, packed);
  EXPECT_EQ(inflated(packed, raw.size()), shuffled(raw, 8));
  EXPECT_LT(packed.size(), raw.size() / 100);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint64_t u = 0x3ff0000000000000ULL | (mix(i) & 0xffffffffffffULL);
    std::memcpy(&raw[i * 8], &u, 8);
  }
  h5::shuffle_deflate(raw.data(), raw.size(), 8, 100, 1, scratch, packed);
  EXPECT_EQ(inflated(packed, raw.size()), shuffled(raw, 8));
  EXPECT_EQ(packed[2], 0x00) << "a stored block first";
  EXPECT_LT(packed.size(), 6 * n + n / 10);
}
