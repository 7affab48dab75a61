// Trust: a run goes on from its saved state to the same bits, a file re-runs
// to the same bits, and no second writer, full disk or bad output path
// corrupts a file or an input.
#include <gtest/gtest.h>

#include "cli_support.hpp"
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/simulation.hpp"

using namespace isletsim;
using isletsim::test::islet;
using isletsim::test::slurp;
namespace fs = std::filesystem;

namespace {




// A small coupled islet with a glucose step and frequent checkpoints, RK4
// (dopri5's checkpoints fall on whole seconds: test_adaptive.cpp).
const char* kConfig = R"([sim]
duration_s = 4
integrator = "rk4"
[network]
kind = "lattice"
nx = 4
ny = 4
nz = 2
[glucose]
mode = "step"
t_step_s = 1
[record]
vars = ["V", "c", "n"]
interval_ms = 20
dtype = "float64"
checkpoint_s = 0.5
)";

class Trust : public test::ScratchTest {
 protected:
  Trust() : ScratchTest("trust") {}
  void SetUp() override {
    ScratchTest::SetUp();
    cfg_ = path("run.toml");
    std::ofstream(cfg_) << kConfig;
  }

  // The uninterrupted run, 0..duration_s, on `threads` threads.
  std::string reference(double duration_s, int threads, const std::string& name = "ref.h5",
                        const std::string& more = "") {
    const auto r = islet("run " + cfg_ + " -q -j " + std::to_string(threads) + " --set sim.duration_s=" +
                         std::to_string(duration_s) + more + " -o " + path(name));
    EXPECT_EQ(r.code, 0) << r.out;
    return path(name);
  }

  std::string cfg_;
};

// Same samples, bit for bit: time, glucose and every recorded variable.
void expect_same_run(const std::string& a, const std::string& b) {
  const H5Run x = read_run(a), y = read_run(b);
  ASSERT_EQ(x.n_samples, y.n_samples) << a << " vs " << b;
  ASSERT_EQ(x.var_names, y.var_names);
  EXPECT_TRUE(x.time == y.time);
  EXPECT_TRUE(std::memcmp(x.glucose.data(), y.glucose.data(), x.glucose.size() * sizeof(double)) == 0);
  for (std::size_t v = 0; v < x.data.size(); ++v) {
    ASSERT_EQ(x.data[v].size(), y.data[v].size());
    EXPECT_TRUE(std::memcmp(x.data[v].data(), y.data[v].data(), x.data[v].size() * sizeof(double)) == 0)
        << "variable " << x.var_names[v] << " differs between " << a << " and " << b;
  }
}

}  // namespace

TEST_F(Trust, ContinuedRunEqualsUninterruptedOnOneAndTwoThreads) {
  const std::string ref = reference(4, 1);
  for (const char* j : {"1", "2"}) {
    const std::string half = path(std::string("half") + j + ".h5");
    auto r = islet("run " + cfg_ + " -q -j " + std::string(j) + " --set sim.duration_s=2 -o " + half);
    ASSERT_EQ(r.code, 0) << r.out;
    // Into a new file first (the half run stays as it is), then in place.
    const std::string copy = path(std::string("cont") + j + ".h5");
    r = islet("run --continue " + half + " -q -j " + std::string(j == std::string("1") ? "2" : "1") +
              " --set sim.duration_s=4 -o " + copy);
    ASSERT_EQ(r.code, 0) << r.out;
    EXPECT_EQ(read_run(half).n_samples, 101u);  // 0..2 s every 20 ms: untouched
    expect_same_run(ref, copy);
    r = islet("run --continue " + half + " -q -j " + j + " --set sim.duration_s=4");
    ASSERT_EQ(r.code, 0) << r.out;
    expect_same_run(ref, half);
    EXPECT_EQ(read_run(half).attr("status"), "complete");
  }
}

TEST_F(Trust, ContinueRefusesOtherChangesAndAnEndBeforeTheState) {
  const std::string run = reference(2, 1, "run.h5");
  auto r = islet("run --continue " + run + " --set coupling.gV=10 --set sim.duration_s=3");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("coupling.gV"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("initial"), std::string::npos) << r.out;  // says how to start from its state instead
  r = islet("run --continue " + run + " --set sim.duration_s=1");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("ends before the saved state"), std::string::npos) << r.out;
  EXPECT_EQ(read_run(run).n_samples, 101u);
}

// A run killed with SIGKILL at a random moment, continued from its last
// checkpoint (on another thread count), ends with the same bits as an
// uninterrupted run.
TEST_F(Trust, KilledRunContinuedFromItsCheckpointEqualsUninterrupted) {
  // 30 s of 32 cells sampled every 2 ms: blocks of 1024 samples (2 s), so a
  // checkpoint every 2 simulated s (checkpoints fall on block boundaries).
  // The kill comes at a random moment within the time the uninterrupted run
  // took here (machines and their load differ a hundredfold).
  const auto t0 = std::chrono::steady_clock::now();
  const std::string ref = reference(30, 1, "ref.h5", " --set record.interval_ms=2");
  const double wall_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::mt19937 rng(std::random_device{}());
  int continued = 0, finished = 0, before_checkpoint = 0;  // (the attempts' outcomes, for a failure's message)
  for (int attempt = 0; attempt < 10 && continued < 2; ++attempt) {
    const std::string out = path("killed" + std::to_string(attempt) + ".h5");
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const std::string cli = ISLET_CLI;
      // One thread, as the reference timed (two lock-step threads on a
      // loaded machine can be many times slower, and then every kill came
      // before the first checkpoint); continued on two.
      execl(cli.c_str(), cli.c_str(), "run", cfg_.c_str(), "-q", "-j", "1", "--set", "sim.duration_s=30", "--set",
            "record.interval_ms=2", "-o", out.c_str(), nullptr);
      _exit(127);
    }
    const double at = std::uniform_real_distribution<double>(0.15, 0.8)(rng) * wall_ms;
    std::this_thread::sleep_for(std::chrono::microseconds(static_cast<long>(at * 1000)));
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFEXITED(st)) {  // it finished before the kill: try again
      ++finished;
      continue;
    }
    std::optional<StoredState> ck;
    try {
      ck = read_checkpoint(out);
    } catch (const InputError&) {  // killed before HDF5 wrote the file's first bytes
    }
    if (!ck) {  // killed before its first checkpoint: nothing to continue
      ++before_checkpoint;
      continue;
    }
    const auto r = islet("run --continue " + out + " -q -j 2");
    ASSERT_EQ(r.code, 0) << r.out;
    expect_same_run(ref, out);
    ++continued;
  }
  EXPECT_GE(continued, 1) << "no attempt was killed after a checkpoint: " << finished << " finished first, "
                          << before_checkpoint << " killed before one (the uninterrupted run took " << wall_ms
                          << " ms)";
}

TEST_F(Trust, InitialFromStartsFromAnotherRunsEndState) {
  const std::string basal = path("basal.h5");
  auto r = islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=1 --set glucose.mode='\"constant\"' -o " + basal);
  ASSERT_EQ(r.code, 0) << r.out;
  std::ofstream(path("step.toml")) << kConfig << "[initial]\nfrom = \"basal.h5\"\n";
  r = islet("run " + path("step.toml") + " -q -j 2 -o " + path("step.h5"));
  ASSERT_EQ(r.code, 0) << r.out;
  const auto end = read_checkpoint(basal);
  ASSERT_TRUE(end);
  const auto initial = read_cell_group(path("step.h5"), "initial");
  ASSERT_EQ(initial.size(), end->names.size());
  for (std::size_t k = 0; k < initial.size(); ++k) {
    EXPECT_EQ(initial[k].first, end->names[k]);
    EXPECT_TRUE(initial[k].second == end->state[k]) << initial[k].first;
  }
  // Its first sample is the basal run's last one.
  const H5Run a = read_run(basal), b = read_run(path("step.h5"));
  const std::size_t n = a.n_cells;
  for (std::size_t v = 0; v < a.data.size(); ++v)
    for (std::size_t i = 0; i < n; ++i) EXPECT_EQ(b.data[v][i], a.data[v][(a.n_samples - 1) * n + i]);
  // A run of another size is refused, naming the file.
  std::ofstream(path("other.toml")) << "[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 1\n[initial]\nfrom = \"basal.h5\"\n";
  r = islet("run " + path("other.toml") + " -q -o " + path("other.h5"));
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("basal.h5"), std::string::npos) << r.out;
}

TEST_F(Trust, SecondWriterOfAFileFailsAndLeavesTheFirstsFileIntact) {
  H5WriterOptions o;
  o.path = path("one.h5");
  o.n_cells = 3;
  o.vars = {{"c", "uM", "calcium"}};
  H5Writer first(o);
  EXPECT_THROW(
      {
        try {
          H5Writer second(o);
        } catch (const InputError& e) {
          EXPECT_NE(std::string(e.what()).find("being written by another run"), std::string::npos) << e.what();
          throw;
        }
      },
      InputError);
  const double t = 0.5, g = 7, c[3] = {1, 2, 3};
  first.append(1, &t, &g, {c});
  first.finish("complete", "");
  const H5Run f = read_run(path("one.h5"));
  EXPECT_EQ(f.n_samples, 1u);
  EXPECT_EQ(f.data[0], (std::vector<double>{1, 2, 3}));
  // Released with the file: a later writer may replace it.
  EXPECT_NO_THROW({ H5Writer third(o); });
}

TEST_F(Trust, SecondIsletRunOnTheSameOutputExitsTwo) {
  const std::string out = path("same.h5");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const std::string cli = ISLET_CLI;
    execl(cli.c_str(), cli.c_str(), "run", cfg_.c_str(), "-q", "-j", "1", "--set", "sim.duration_s=60", "-o",
          out.c_str(), nullptr);
    _exit(127);
  }
  // Wait until the first run has created its file (it holds the lock from then on).
  for (int i = 0; i < 200 && !fs::exists(out); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  // Refused as an existing file; and with --overwrite, by the first run's lock.
  const auto plain = islet("run " + cfg_ + " -q -j 1 -o " + out);
  const auto r = islet("run " + cfg_ + " -q -j 1 --overwrite -o " + out);
  kill(pid, SIGINT);  // the first stops at its next sample, status "interrupted"
  int st = 0;
  waitpid(pid, &st, 0);
  EXPECT_EQ(plain.code, 2) << plain.out;
  EXPECT_NE(plain.out.find("exists"), std::string::npos) << plain.out;
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("being written by another run"), std::string::npos) << r.out;
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 130);
  const H5Run f = read_run(out);  // the first run's file, whole and readable
  EXPECT_EQ(f.attr("status"), "interrupted");
  EXPECT_EQ(f.attr("config").find("duration_s = 60") != std::string::npos, true);
}

// An existing file is not replaced (data already simulated is never lost)
// unless --overwrite is given; a continued run still extends its own file.
TEST_F(Trust, AnExistingOutputIsKeptUnlessOverwriteIsGiven) {
  const std::string out = path("kept.h5");
  ASSERT_EQ(islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=1 -o " + out).code, 0);
  const std::string before = slurp(out);
  const auto r = islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=2 -o " + out);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("'" + out + "' exists"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--overwrite"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(out), before);  // untouched, byte for byte
  // Any existing file, not only run files; an empty name is refused too.
  const std::string notes = write("notes.txt", "my notes\n");
  EXPECT_EQ(islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=1 -o " + notes).code, 2);
  EXPECT_EQ(slurp(notes), "my notes\n");
  EXPECT_EQ(islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=1 -o ''").code, 2);
  // --continue into an existing other file: refused as well.
  const auto c = islet("run --continue " + out + " -q --set sim.duration_s=2 -o " + notes);
  EXPECT_EQ(c.code, 2) << c.out;
  EXPECT_EQ(slurp(notes), "my notes\n");
  // A continued run extends its own file; --overwrite replaces.
  ASSERT_EQ(islet("run --continue " + out + " -q --set sim.duration_s=2").code, 0);
  EXPECT_EQ(read_run(out).attr("status"), "complete");
  EXPECT_NEAR(read_run(out).time.back(), 2.0, 1e-9);
  const auto o = islet("run " + cfg_ + " -q -j 1 --set sim.duration_s=1 --overwrite -o " + out);
  ASSERT_EQ(o.code, 0) << o.out;
  EXPECT_NEAR(read_run(out).time.back(), 1.0, 1e-9);
}

// A write error (here a file-size limit, which fails writes as a full disk
// does) ends the run "failed" with the reason and exit 1; every row up to
// len(time) is the real data, and the run goes on from its checkpoint.
TEST_F(Trust, WriteErrorGivesFailedStatusAndOnlyRealRows) {
  const std::string ref = reference(4, 1);
  const std::string out = path("limited.h5");
  // 2.5 MB (sh counts 512-byte blocks): room for a few blocks of samples,
  // not for the whole run.
  const auto r = islet("run " + cfg_ + " -q -j 1 --set record.interval_ms=0.5 -o " + out,
                       "", "ulimit -f 5000 && ");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("no room"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("HDF5-DIAG"), std::string::npos) << r.out;  // no raw HDF5 error dump
  const H5Run f = read_run(out);
  EXPECT_EQ(f.attr("status"), "failed");
  EXPECT_NE(f.attr("status_message").find("no room"), std::string::npos);
  ASSERT_GT(f.n_samples, 0u);
  ASSERT_LT(f.n_samples, 8001u);
  // The rows there are the run's: equal to a run without the limit.
  const auto full = islet("run " + cfg_ + " -q -j 1 --set record.interval_ms=0.5 -o " + path("unlimited.h5"));
  ASSERT_EQ(full.code, 0) << full.out;
  const H5Run u = read_run(path("unlimited.h5"));
  for (std::size_t v = 0; v < f.data.size(); ++v)
    EXPECT_TRUE(std::equal(f.data[v].begin(), f.data[v].end(), u.data[v].begin())) << f.var_names[v];
  EXPECT_TRUE(std::equal(f.time.begin(), f.time.end(), u.time.begin()));
  // Continued (into a file without the limit) from its last checkpoint.
  const auto c = islet("run --continue " + out + " -q -j 2 -o " + path("continued.h5"));
  ASSERT_EQ(c.code, 0) << c.out;
  expect_same_run(path("unlimited.h5"), path("continued.h5"));
}

// A write error while the file's static part (network, parameters,
// config) is written: exit 1 with the file and the reason, and no file
// left, since nothing was simulated and a file cut there can be neither read
// nor continued. (libhdf5 used to crash at exit after the failed close:
// exit 139, and a damaged file was left.) Limits of 0, 1, 8 and 40 KB fail
// in HDF5's creation of the file (the empty file made before it is removed
// too), in its first writes, its layout and its parameters.
TEST_F(Trust, WriteErrorWhileCreatingTheFileLeavesNoFile) {
  for (const char* blocks : {"0", "2", "16", "80"}) {
    const std::string out = path(std::string("cut_") + blocks + ".h5");
    const auto r = islet("run --set network.n_cells=50 --set sim.duration_s=20 -q -o " + out, "",
                         std::string("ulimit -f ") + blocks + " && ");
    EXPECT_EQ(r.code, 1) << blocks << " blocks: " << r.out;
    EXPECT_NE(r.out.find("'" + out + "'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("File too large"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out)) << blocks << " blocks: a half-written file was left";
  }
}

// A continued run extends its own file: a write error there (here a
// file-size limit below the file's size, or just above it) fails the run
// (exit 1) before anything is written to it, and the file stays, readable,
// with every sample it held. (HDF5's flush used to meet the limit instead
// and leave the file unreadable.)
TEST_F(Trust, WriteErrorWhileContinuingKeepsTheFile) {
  const std::string own = reference(1, 1, "own.h5");
  const H5Run before = read_run(own);
  ASSERT_EQ(before.attr("status"), "complete");
  const auto blocks = fs::file_size(own) / 512;
  for (const auto limit : {blocks / 2, blocks + 2}) {
    const std::string out = path("own_" + std::to_string(limit) + ".h5");
    fs::copy_file(own, out);
    const auto r = islet("run --continue " + out + " -q -j 1 --set sim.duration_s=4", "",
                         "ulimit -f " + std::to_string(limit) + " && ");
    EXPECT_EQ(r.code, 1) << limit << " blocks: " << r.out;
    ASSERT_TRUE(fs::exists(out)) << limit << " blocks: the continued run removed its own file";
    const H5Run after = read_run(out);
    ASSERT_EQ(after.n_samples, before.n_samples) << limit << " blocks";
    EXPECT_EQ(after.time, before.time);
    EXPECT_EQ(after.data, before.data);
  }
}

// A run continued into a new file copies the samples it keeps there
// first: a write error before the run's first block is in it (here a
// file-size limit below, or just above, the size of what is copied) fails
// the run (exit 1, naming both files) and leaves no new file, which would
// hold nothing simulated and could not be continued; the run continued
// keeps every byte. (The file was left "running", without a saved state.)
TEST_F(Trust, WriteErrorWhileCopyingAContinuedRunLeavesNoNewFile) {
  const std::string from = reference(8, 1, "from.h5");
  const std::string before = slurp(from);
  const auto blocks = fs::file_size(from) / 512;
  const auto continue_into = [&](const std::string& out, std::uintmax_t limit) {
    const auto r = islet("run --continue " + from + " -q -j 1 --set sim.duration_s=10 -o " + out, "",
                         "ulimit -f " + std::to_string(limit) + " && ");
    EXPECT_EQ(r.code, 1) << limit << " blocks: " << r.out;
    EXPECT_NE(r.out.find("cannot continue '" + from + "' into '" + out + "'"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("'" + out + "' is not kept"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("the samples before are kept"), std::string::npos) << r.out;
    EXPECT_FALSE(fs::exists(out)) << limit << " blocks: a half-written file was left";
    EXPECT_EQ(slurp(from), before) << limit << " blocks";
  };
  continue_into(path("below.h5"), blocks / 2);
  continue_into(path("above.h5"), blocks + 2);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"from.h5", "run.toml"})) << "no other file left";
}

// The same on a real full disk: a 4 MiB tmpfs, where mounting is allowed
// (root in a container); skipped elsewhere.
TEST_F(Trust, FullDiskGivesFailedStatusAndOnlyRealRows) {
  const fs::path mnt = dir_ / "small_disk";
  fs::create_directories(mnt);
  if (geteuid() != 0 || mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=4m") != 0)
    GTEST_SKIP() << "cannot mount a small tmpfs here";
  const std::string out = (mnt / "full.h5").string();
  const auto r = islet("run " + cfg_ + " -q -j 1 --set record.interval_ms=0.5 -o " + out);
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("No space left"), std::string::npos) << r.out;
  {
    const H5Run f = read_run(out);
    EXPECT_EQ(f.attr("status"), "failed");
    ASSERT_GT(f.n_samples, 0u);
    const auto u = islet("run " + cfg_ + " -q -j 1 --set record.interval_ms=0.5 -o " + path("unlimited.h5"));
    ASSERT_EQ(u.code, 0) << u.out;
    const H5Run full = read_run(path("unlimited.h5"));
    for (std::size_t v = 0; v < f.data.size(); ++v)
      EXPECT_TRUE(std::equal(f.data[v].begin(), f.data[v].end(), full.data[v].begin())) << f.var_names[v];
  }
  umount(mnt.c_str());
}

TEST_F(Trust, ARunNeverOverwritesItsInputs) {
  const std::string before = slurp(cfg_);
  auto r = islet("run " + cfg_ + " -q -o " + cfg_);
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("never overwrites its own input"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(cfg_), before);
  // A run file re-run without -o: its record.file is itself.
  const std::string old = path("old.h5");
  std::ofstream(path("self.toml")) << kConfig << "file = \"" << old << "\"\n";
  r = islet("run " + path("self.toml") + " -q --set sim.duration_s=0.1");
  ASSERT_EQ(r.code, 0) << r.out;
  const std::string old_bytes = slurp(old);
  r = islet("run " + old + " -q");
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("re-runs"), std::string::npos) << r.out;
  EXPECT_EQ(slurp(old), old_bytes);
  // A directory as the output.
  r = islet("run " + cfg_ + " -q -o " + dir_.string());
  EXPECT_EQ(r.code, 2) << r.out;
  EXPECT_NE(r.out.find("is a directory"), std::string::npos) << r.out;
}

TEST_F(Trust, FileHoldsProvenanceInitialStateAndNamedAxes) {
  const std::string run = reference(0.2, 1, "p.h5");
  const H5Run f = read_run(run);
  for (const char* a : {"git_commit", "build", "isa", "host", "command_line", "start_time", "end_time"})
    EXPECT_FALSE(f.attr(a).empty()) << a;
  EXPECT_NE(f.attr("command_line").find("-o " + run), std::string::npos) << f.attr("command_line");
  const auto initial = read_cell_group(run, "initial");
  ASSERT_FALSE(initial.empty());
  EXPECT_EQ(initial[0].second.size(), f.n_cells);
  const auto g = read_cell_group(run, "cells");  // conductance factors (weights = "per_cell" by default)
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].first, "conductance_factor");
}

// A value beyond float32's range would be stored as inf in a float32 file:
// it is a blow-up there (status "failed"), not a finite "complete" run.
TEST_F(Trust, ValueBeyondFloat32RangeIsABlowUpWhenRecordingFloat32) {
  const std::string args = " -q -j 1 --set sim.duration_s=0.01 --set network.n_cells=5 --set initial.G6P=1e39 "
                           "--set record.vars='[\"G6P\"]' -o ";
  auto r = islet("run" + args + path("f32.h5") + " --set record.dtype=float32");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("blew up"), std::string::npos) << r.out;
  const H5Run f = read_run(path("f32.h5"));
  EXPECT_EQ(f.attr("status"), "failed");
  for (double x : f.data[0]) EXPECT_TRUE(std::isfinite(x));
  r = islet("run" + args + path("f64.h5") + " --set record.dtype=float64");
  EXPECT_EQ(r.code, 0) << r.out;
}
