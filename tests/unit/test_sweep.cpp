// Parameter sweeps: sweep files, executors (same results serial and
// threaded), results table, resume (also after SIGKILL, and after the config
// changed), sharding, the summary metrics and window, warnings.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/fastmath.hpp"
#include "io/csv.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/rng.hpp"
#include "isletsim/simulation.hpp"
#include "isletsim/sweep.hpp"

using namespace isletsim;
using namespace isletsim::sweep;
namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("isletsim_sweep_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p) << text;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// 4 tasks: 27-cell lattice, 0.2 s, float64.
const char* kSmallSweep = R"(out_dir = "out"
[base.sim]
duration_s = 0.2
[base.network]
kind = "lattice"
nx = 3
ny = 3
nz = 3
[base.record]
vars = ["c", "V"]
dtype = "float64"
[grid]
"coupling.gV" = [0, 120]
"sim.seed" = [1, 2]
)";

std::size_t count_lines(const std::string& s) { return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n')); }

void expect_same_data(const std::string& a, const std::string& b) {
  const H5Run ra = read_run(a), rb = read_run(b);
  ASSERT_EQ(ra.var_names, rb.var_names) << a;
  ASSERT_EQ(ra.n_samples, rb.n_samples) << a;
  for (std::size_t v = 0; v < ra.data.size(); ++v) {
    ASSERT_EQ(ra.data[v].size(), rb.data[v].size());
    EXPECT_EQ(0, std::memcmp(ra.data[v].data(), rb.data[v].data(), ra.data[v].size() * sizeof(double)))
        << a << " vs " << b << ": /data/" << ra.var_names[v] << " differs";
  }
}

SweepOutcome run(SweepSpec spec, const std::string& out, ExecutorKind kind, bool resume = false, Shard shard = {},
                 bool overwrite = false) {
  spec.out_dir = out;
  SweepOptions o;
  o.exec.kind = kind;
  o.exec.cores = 2;
  o.resume = resume;
  o.overwrite = overwrite;
  o.shard = shard;
  o.quiet = true;
  return run_sweep(spec, o);
}

}  // namespace

TEST(Sweep, GridIsCartesianProductFirstAxisSlowest) {
  const fs::path d = fresh_dir("grid");
  write_file(d / "s.toml", kSmallSweep);
  const SweepSpec s = load_sweep((d / "s.toml").string());
  ASSERT_EQ(s.size(), 4u);
  EXPECT_EQ(s.keys, (std::vector<std::string>{"coupling.gV", "sim.seed"}));
  EXPECT_EQ(describe_point(s, 1), "coupling.gV=0, sim.seed=2");
  EXPECT_EQ(describe_point(s, 2), "coupling.gV=120, sim.seed=1");
  EXPECT_EQ(s.out_dir, (d / "out").string());
  EXPECT_EQ(task_overrides(s, 3), (Overrides{"coupling.gV=120", "sim.seed=2"}));
}

TEST(Sweep, ZipSampleAndHeterogeneityKeys) {
  const std::string text = R"([base.sim]
duration_s = 1
[zip]
"glucose.level" = [8, 11, 14]
"heterogeneity.JGK.cv" = [0.1, 0.2, 0.3]
[sample]
method = "lhs"
n = 4
seed = 7
"coupling.gV" = [0, 200]
)";
  const SweepSpec s = parse_sweep(text, "z.toml", ".");
  ASSERT_EQ(s.size(), 12u);
  EXPECT_EQ(task_overrides(s, 0)[0], "glucose.level=8");
  // heterogeneity.JGK.cv keeps the base's distribution.
  EXPECT_EQ(task_overrides(s, 4).back(), "heterogeneity.JGK={dist = \"normal\", cv = 0.2}");
  const RunConfig c = parse_config(s.base_text, s.base_origin, task_overrides(s, 4));
  bool found = false;
  for (const auto& [n, dd] : c.heterogeneity)
    if (n == "JGK") {
      found = true;
      EXPECT_DOUBLE_EQ(dd.cv, 0.2);
    }
  EXPECT_TRUE(found);
  // Latin hypercube: one sample per quarter of the range; deterministic.
  std::vector<int> strata;
  for (std::size_t i = 0; i < 4; ++i) strata.push_back(static_cast<int>(std::stod(s.points[i][2].display) / 50.0));
  std::sort(strata.begin(), strata.end());
  EXPECT_EQ(strata, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(parse_sweep(text, "z.toml", ".").points[3][2].toml, s.points[3][2].toml);
}

TEST(Sweep, BadFilesNameLineAndKey) {
  const auto err = [](const std::string& text) {
    try {
      parse_sweep(text, "bad.toml", ".");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(err("[base]\n[grid]\n\"coupling.gX\" = [1, 2]\n").substr(0, 22), "bad.toml:3:18: couplin");
  EXPECT_NE(err("[base]\n[grid]\n\"coupling.gX\" = [1, 2]\n").find("did you mean 'gV'"), std::string::npos);
  EXPECT_NE(err("[base]\n[grd]\nx = 1\n").find("bad.toml:2:1: grd: unknown key (did you mean 'grid'?)"), std::string::npos);
  EXPECT_NE(err("[base]\n[grid]\n\"params.gKATp\" = [1]\n").find("did you mean 'gKATP'"), std::string::npos);
  EXPECT_NE(err("[base]\n[grid]\n\"copling.gV\" = [1]\n").find("did you mean 'coupling'"), std::string::npos);
  EXPECT_NE(err("[base]\n[zip]\n\"coupling.gV\" = [1, 2]\n\"sim.seed\" = [1]\n").find("bad.toml:4:"), std::string::npos);
  EXPECT_NE(err("[base]\n[grid]\n\"sim.seed\" = [1.5]\n").find("bad.toml:3:"), std::string::npos);
  EXPECT_NE(err("[grid]\n\"sim.seed\" = [1]\n").find("base: missing"), std::string::npos);
  EXPECT_THROW(parse_shard("0/3"), InputError);
  EXPECT_THROW(parse_shard("4/3"), InputError);
  EXPECT_THROW(parse_shard("2"), InputError);
  EXPECT_EQ(parse_shard("3/10").k, 3u);
}

TEST(Sweep, SerialAndThreadsGiveIdenticalResultsAndTable) {
  const fs::path d = fresh_dir("exec");
  write_file(d / "s.toml", kSmallSweep);
  const SweepSpec s = load_sweep((d / "s.toml").string());
  const SweepOutcome a = run(s, (d / "serial").string(), ExecutorKind::serial);
  const SweepOutcome b = run(s, (d / "threads").string(), ExecutorKind::threads);
  EXPECT_EQ(a.ok, 4u);
  EXPECT_EQ(b.ok, 4u);
  for (std::size_t i = 0; i < 4; ++i) {
    SweepSpec sa = s, sb = s;
    sa.out_dir = (d / "serial").string();
    sb.out_dir = (d / "threads").string();
    expect_same_data(task_file(sa, i), task_file(sb, i));
    EXPECT_FALSE(fs::exists(task_temp_file(sa, i)));
  }
  const std::string table = read_file(d / "threads" / "summary.csv");
  EXPECT_EQ(count_lines(table), 5u);
  EXPECT_EQ(table.substr(0, table.find('\n')),
            "task,coupling.gV,sim.seed,status,wall_s,duty_cycle,frequency_hz,synchrony,window_from_s,window_to_s,file,"
            "message");
  EXPECT_NE(table.find("\n3,120,2,ok,"), std::string::npos);
}

TEST(Sweep, ResumeRerunsOnlyMissingTasksAndShardsSplitTheWork) {
  const fs::path d = fresh_dir("resume");
  write_file(d / "s.toml", kSmallSweep);
  SweepSpec s = load_sweep((d / "s.toml").string());
  run(s, (d / "ref").string(), ExecutorKind::serial);
  // Shards 1/2 and 2/2 together: every task once.
  const SweepOutcome s1 = run(s, (d / "out").string(), ExecutorKind::threads, false, {1, 2});
  const SweepOutcome s2 = run(s, (d / "out").string(), ExecutorKind::threads, false, {2, 2});
  EXPECT_EQ(s1.selected + s2.selected, 4u);
  EXPECT_TRUE(fs::exists(d / "out" / "summary.shard-1-of-2.csv"));
  EXPECT_EQ(count_lines(read_file(d / "out" / "summary.shard-2-of-2.csv")), 3u);
  // Full sweep (replacing the shards' results), then lose one result and its row.
  const fs::path out = d / "out";
  run(s, out.string(), ExecutorKind::threads, false, {}, true);
  fs::remove(out / "task_2.h5");
  std::string table = read_file(out / "summary.csv");
  const auto row = table.find("\n2,");
  table.erase(row + 1, table.find('\n', row + 1) - row);
  write_file(out / "summary.csv", table);
  const SweepOutcome r = run(s, out.string(), ExecutorKind::threads, true);
  EXPECT_EQ(r.skipped, 3u);
  EXPECT_EQ(r.ok, 1u);
  EXPECT_EQ(count_lines(read_file(out / "summary.csv")), 5u);
  SweepSpec ref = s;
  ref.out_dir = (d / "ref").string();
  s.out_dir = out.string();
  for (std::size_t i = 0; i < 4; ++i) expect_same_data(task_file(ref, i), task_file(s, i));
}

// --resume reads the table back: a row that is not one it writes is named by
// file and line, with what was expected, and nothing runs; the table is kept.
TEST(Sweep, ResumeNamesTheLineOfAGarbageRow) {
  const fs::path d = fresh_dir("garbage_row");
  write_file(d / "s.toml", kSmallSweep);
  SweepSpec s = load_sweep((d / "s.toml").string());
  const fs::path out = d / "out";
  run(s, out.string(), ExecutorKind::serial);
  const std::string good = read_file(out / "summary.csv");
  const std::string header = good.substr(0, good.find('\n'));
  const auto row = [&](std::size_t i) {  // the i-th data row, without its line break
    std::size_t at = 0;
    for (std::size_t k = 0; k <= i; ++k) at = good.find('\n', at) + 1;
    return good.substr(at, good.find('\n', at) - at);
  };
  struct Case {
    std::string text, message;
  };
  for (const Case& c :
       {Case{header + "\n" + row(0) + "\n\ngarbage row here\n" + row(2) + "\n",
             ":4: unreadable row 'garbage row here': its first field 'garbage row here' is not a task number"},
        Case{header + "\n" + "1abc" + row(1).substr(1) + "\n", ":2: unreadable row '1abc,"},
        Case{header + "\n" + row(0) + "\n" + row(1) + "\n1,0,ok\n", ":4: unreadable row '1,0,ok': 3 field(s)"},
        Case{header + "\n" + row(1) + "\n" + row(1) + "\n", ":3: unreadable row '1,"}}) {
    write_file(out / "summary.csv", c.text);
    try {
      run(s, out.string(), ExecutorKind::serial, true);
      ADD_FAILURE() << "no error for:\n" << c.text;
    } catch (const InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find((out / "summary.csv").string() + c.message), std::string::npos) << msg;
      EXPECT_NE(msg.find("expected 12 fields, " + header + ", as islet sweep writes them"), std::string::npos) << msg;
      EXPECT_NE(msg.find("repair the line or delete it (its task then runs again)"), std::string::npos) << msg;
    }
    EXPECT_EQ(read_file(out / "summary.csv"), c.text);
  }
  write_file(out / "summary.csv", header + "\n" + row(1) + "\n" + row(1) + "\n");
  try {
    run(s, out.string(), ExecutorKind::serial, true);
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("task 1 has a row on line 2 already"), std::string::npos) << e.what();
  }
  // Without the bad line, its task runs again.
  write_file(out / "summary.csv", header + "\n" + row(0) + "\n" + row(2) + "\n" + row(3) + "\n");
  const SweepOutcome r = run(s, out.string(), ExecutorKind::serial, true);
  EXPECT_EQ(r.ok, 1u);
  EXPECT_EQ(r.skipped, 3u);
}

// islet analyze DIR reads a sweep's table too: a task that is not a whole
// number (not even one with trailing garbage) is named by file and line.
TEST(Sweep, AnalyzeSweepNamesTheLineOfAGarbageTask) {
  const fs::path d = fresh_dir("analyze_garbage");
  for (const std::string task : {"1abc", "-1", "x", ""}) {
    write_file(d / "summary.csv",
               "task,coupling.gV,status,file,message\n0,0,failed,,boom\n" + task + ",120,failed,,boom\n");
    AnalyzeSweepOptions o;
    o.exec.kind = ExecutorKind::serial;
    o.quiet = true;
    try {
      analyze_sweep(d.string(), o);
      ADD_FAILURE() << "no error for task '" << task << "'";
    } catch (const InputError& e) {
      EXPECT_NE(
          std::string(e.what()).find((d / "summary.csv").string() + ":3: task '" + task + "' is not a task number"),
          std::string::npos)
          << e.what();
    }
  }
}

TEST(Sweep, ResumeAfterSigkillGivesUninterruptedResults) {
  const fs::path d = fresh_dir("kill");
  // 6 tasks of ~0.05 s each (serial): killed after the second completes.
  write_file(d / "s.toml", R"(out_dir = "out"
[base.sim]
duration_s = 8
[base.network]
kind = "lattice"
nx = 4
ny = 4
nz = 4
[base.record]
vars = ["c"]
dtype = "float64"
[grid]
"coupling.gV" = [60, 120, 240]
"sim.seed" = [1, 2]
)");
  const std::string file = (d / "s.toml").string();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(ISLET_CLI, ISLET_CLI, "sweep", file.c_str(), "--executor", "serial", "-q", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  bool exited = false;
  while (std::chrono::steady_clock::now() - t0 < std::chrono::seconds(20)) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      break;
    }
    if (count_lines(read_file(d / "out" / "summary.csv")) >= 3) break;  // header + 2 rows
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!exited) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFSIGNALED(status));
    std::printf("killed `islet sweep` (SIGKILL) with %zu of 6 rows in its table\n",
                count_lines(read_file(d / "out" / "summary.csv")) - 1);
  } else {
    std::printf("`islet sweep` finished before it could be killed; resume checked on a complete sweep\n");
  }
  SweepSpec s = load_sweep(file);
  const SweepOutcome r = run(s, (d / "out").string(), ExecutorKind::threads, true);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.ok + r.skipped, 6u);
  if (!exited) {
    EXPECT_GE(r.skipped, 2u);
  }
  run(s, (d / "ref").string(), ExecutorKind::threads);
  EXPECT_EQ(read_file(d / "out" / "summary.csv").size() > 0, true);
  SweepSpec ref = s;
  ref.out_dir = (d / "ref").string();
  s.out_dir = (d / "out").string();
  for (std::size_t i = 0; i < 6; ++i) {
    expect_same_data(task_file(ref, i), task_file(s, i));
    EXPECT_FALSE(fs::exists(task_temp_file(s, i))) << i;
  }
}

TEST(Sweep, FailedTaskIsReportedAndOthersContinue) {
  const fs::path d = fresh_dir("fail");
  // A huge dt blows up (non-finite state) in one task only.
  write_file(d / "s.toml", R"(out_dir = "out"
[base.sim]
duration_s = 0.2
[base.network]
kind = "lattice"
nx = 2
ny = 2
nz = 2
[grid]
"params.gKATP" = [1, 1e30]
)");
  const SweepSpec s = load_sweep((d / "s.toml").string());
  const SweepOutcome o = run(s, (d / "out").string(), ExecutorKind::threads);
  EXPECT_EQ(o.ok + o.failed, 2u);
  EXPECT_GE(o.ok, 1u);
}

// base may name a run file (.h5): the sweep runs around the config it holds,
// as `islet run old.h5` runs it again, with the same task files as a sweep of
// that config's TOML. A directory, or the sweep file itself, is refused.
TEST(Sweep, BaseCanBeARunFileButNotADirectoryOrItself) {
  const fs::path d = fresh_dir("base_h5");
  write_file(d / "run.toml", "[sim]\nduration_s = 0.2\n[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\n");
  write_file(d / "toml.toml", "base = \"run.toml\"\nout_dir = \"a\"\n[grid]\n\"coupling.gV\" = [0, 60]\n");
  ASSERT_EQ(run(load_sweep((d / "toml.toml").string()), (d / "a").string(), ExecutorKind::serial).ok, 2u);
  // a/task_0.h5 ran run.toml with gV = 0: its config is run.toml's but for gV.
  write_file(d / "h5.toml", "base = \"a/task_0.h5\"\nout_dir = \"b\"\n[grid]\n\"coupling.gV\" = [0, 60]\n");
  const SweepSpec h = load_sweep((d / "h5.toml").string());
  EXPECT_EQ(h.base_file, (d / "a" / "task_0.h5").string());
  ASSERT_EQ(run(h, (d / "b").string(), ExecutorKind::serial).ok, 2u);
  for (const char* t : {"task_0.h5", "task_1.h5"}) expect_same_data((d / "a" / t).string(), (d / "b" / t).string());
  // Its own output: refused (the run file is task 0's file of the sweep).
  write_file(d / "self.toml", "base = \"a/task_0.h5\"\nout_dir = \"a\"\n[grid]\n\"coupling.gV\" = [0, 60]\n");
  EXPECT_THROW(run(load_sweep((d / "self.toml").string()), (d / "a").string(), ExecutorKind::serial, false, {}, true),
               isletsim::InputError);
  const auto error_of = [&](const std::string& base) {
    write_file(d / "e.toml", "base = \"" + base + "\"\n[grid]\n\"coupling.gV\" = [0, 60]\n");
    try {
      load_sweep((d / "e.toml").string());
    } catch (const isletsim::InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error_of("a").find("is a directory"), std::string::npos) << error_of("a");
  EXPECT_NE(error_of("e.toml").find("is this sweep file"), std::string::npos) << error_of("e.toml");
  fs::remove_all(d);
}

// Data already simulated is never lost: a sweep into an out_dir holding an
// earlier sweep's results (its table, or a file of a task it would run) is
// refused before anything runs, and nothing there changes; --resume goes on
// with them, --overwrite replaces them. Another shard's files do not count.
TEST(Sweep, EarlierResultsAreKeptUnlessResumeOrOverwrite) {
  const fs::path d = fresh_dir("earlier");
  write_file(d / "s.toml", kSmallSweep);
  const SweepSpec s = load_sweep((d / "s.toml").string());
  const std::string out = (d / "out").string();
  ASSERT_EQ(run(s, out, ExecutorKind::serial).ok, 4u);
  const std::string table = read_file(d / "out" / "summary.csv"), task0 = read_file(d / "out" / "task_0.h5");
  try {
    run(s, out, ExecutorKind::serial);
    ADD_FAILURE() << "a second sweep into the same out_dir was not refused";
  } catch (const isletsim::InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("holds the results of an earlier sweep (summary.csv, summary.h5, task_0.h5 and 3 more)"),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("--resume"), std::string::npos) << msg;
    EXPECT_NE(msg.find("--overwrite"), std::string::npos) << msg;
  }
  EXPECT_EQ(read_file(d / "out" / "summary.csv"), table);
  EXPECT_EQ(read_file(d / "out" / "task_0.h5"), task0);
  // Only a task file left (the table lost): refused as well.
  fs::remove(d / "out" / "summary.csv");
  fs::remove(d / "out" / "summary.h5");
  EXPECT_THROW(run(s, out, ExecutorKind::serial), isletsim::InputError);
  EXPECT_EQ(run(s, out, ExecutorKind::serial, true).ok, 4u);             // --resume: no table rows, so all run again
  EXPECT_EQ(run(s, out, ExecutorKind::serial, true).skipped, 4u);        // and now they are done
  EXPECT_EQ(run(s, out, ExecutorKind::serial, false, {}, true).ok, 4u);  // --overwrite: all again
  // Shard 2/2 into a folder holding only shard 1/2's files: runs.
  const std::string shards = (d / "shards").string();
  ASSERT_EQ(run(s, shards, ExecutorKind::serial, false, {1, 2}).ok, 2u);
  EXPECT_EQ(run(s, shards, ExecutorKind::serial, false, {2, 2}).ok, 2u);
  EXPECT_THROW(run(s, shards, ExecutorKind::serial, false, {1, 2}), isletsim::InputError);
  fs::remove_all(d);
}

// A sweep never overwrites its own inputs: a base whose initial.from, or
// whose CSV network, is a file the sweep writes in its out_dir is refused
// before any task runs, and that file is left as it was; the same inputs
// beside out_dir run.
TEST(Sweep, InputsThatAreItsOwnOutputsAreRefused) {
  const fs::path d = fresh_dir("own_inputs");
  const auto spec_with = [&](const std::string& base_extra, const std::string& out, const std::string& grid) {
    write_file(d / "base.toml", "[sim]\nduration_s = 0.2\n" + base_extra);
    write_file(d / "s.toml", "base = \"base.toml\"\nout_dir = \"" + out + "\"\n[grid]\n" + grid);
    return load_sweep((d / "s.toml").string());
  };
  const auto refused = [&](const SweepSpec& s, const std::string& file) {
    const std::string before = read_file(file);
    SweepOptions o;
    o.exec.kind = ExecutorKind::serial;
    o.quiet = true;
    try {
      run_sweep(s, o);
      ADD_FAILURE() << "not refused: " << file;
    } catch (const isletsim::InputError& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("never overwrites its own inputs"), std::string::npos) << msg;
      EXPECT_NE(msg.find(fs::path(file).filename().string()), std::string::npos) << msg;
    }
    EXPECT_EQ(read_file(file), before) << file;
  };
  // A run to start from, in out/ as task_1.h5.
  const SweepSpec lattice = spec_with("[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\n", "seed",
                                      "\"coupling.gV\" = [0, 60]\n");
  ASSERT_EQ(run_sweep(lattice, SweepOptions{}).ok, 2u);
  fs::create_directories(d / "out");
  fs::copy_file(d / "seed" / "task_1.h5", d / "out" / "task_1.h5");
  const std::string lat = "[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\n";
  refused(spec_with(lat + "[initial]\nfrom = \"out/task_1.h5\"\n", "out", "\"coupling.gV\" = [0, 60]\n"),
          (d / "out" / "task_1.h5").string());
  // A swept initial.from: only the task that names an output counts.
  refused(spec_with(lat, "out", "\"initial.from\" = [\"seed/task_0.h5\", \"out/task_1.h5\"]\n"),
          (d / "out" / "task_1.h5").string());
  // A CSV network whose cells file is the results table.
  fs::copy_file(d / "seed" / "summary.csv", d / "out" / "summary.csv");
  write_file(d / "edges.csv", "i,j,w\n");
  refused(spec_with("[network]\nkind = \"csv\"\ncells = \"out/summary.csv\"\nedges = \"edges.csv\"\n", "out",
                    "\"coupling.gV\" = [0, 60]\n"),
          (d / "out" / "summary.csv").string());
  // The same run to start from, outside out_dir, or out_dir's task_7 (not one of 2 tasks): runs.
  SweepOptions o;
  o.exec.kind = ExecutorKind::serial;
  o.quiet = true;
  o.overwrite = true;  // out/ holds the copies above
  EXPECT_EQ(
      run_sweep(spec_with(lat + "[initial]\nfrom = \"seed/task_1.h5\"\n", "out", "\"coupling.gV\" = [0, 60]\n"), o).ok,
      2u);
  fs::copy_file(d / "seed" / "task_1.h5", d / "out" / "task_7.h5");
  EXPECT_EQ(
      run_sweep(spec_with(lat + "[initial]\nfrom = \"out/task_7.h5\"\n", "out", "\"coupling.gV\" = [0, 60]\n"), o).ok,
      2u);
  fs::remove_all(d);
}

namespace {
std::string fake_env_ompi(const char* name) { return std::string(name) == "OMPI_COMM_WORLD_SIZE" ? "64" : ""; }
std::string fake_env_pmix(const char* name) { return std::string(name) == "PMIX_RANK" ? "3" : ""; }
std::string fake_env_none(const char*) { return ""; }
}  // namespace

TEST(SweepMpi, LauncherDetectionCoresPerRankAndExecutorChoice) {
  EXPECT_EQ(env::mpi_launcher_size(fake_env_ompi), 64u);
  EXPECT_EQ(env::mpi_launcher_size(fake_env_pmix), 1u);
  EXPECT_EQ(env::mpi_launcher_size(fake_env_none), 0u);
  EXPECT_EQ(rank_cores(64, 4), 16u);  // 4 ranks sharing the node's 64 cores
  EXPECT_EQ(rank_cores(1, 1), 1u);    // bound to one core each
  EXPECT_EQ(rank_cores(2, 3), 1u);    // oversubscribed: at least 1
  EXPECT_EQ(resolve_executor("auto", 0), ExecutorKind::threads);
  EXPECT_EQ(resolve_executor("auto", 4), mpi_built() ? ExecutorKind::mpi : ExecutorKind::threads);
  EXPECT_EQ(resolve_executor("serial", 4), ExecutorKind::serial);
  EXPECT_THROW(resolve_executor("mip", 0), InputError);
}

TEST(Sweep, SummaryH5HasTheTableColumns) {
  const fs::path d = fresh_dir("h5table");
  write_file(d / "s.toml", kSmallSweep);
  const SweepSpec s = load_sweep((d / "s.toml").string());
  run(s, (d / "out").string(), ExecutorKind::threads);
  SweepSpec so = s;
  so.out_dir = (d / "out").string();
  EXPECT_EQ(table_h5_path(so, {}), (d / "out" / "summary.h5").string());
  EXPECT_EQ(table_h5_path(so, {2, 3}), (d / "out" / "summary.shard-2-of-3.h5").string());
  ASSERT_TRUE(fs::exists(d / "out" / "summary.h5"));
  EXPECT_FALSE(fs::exists(d / "out" / "summary.h5.tmp"));
  // Read back with h5py when it is there (the layout documented in docs/sweeps.md).
  const std::string py = "/usr/bin/python3 -c \"import h5py,sys; f=h5py.File('" + (d / "out" / "summary.h5").string() +
                         "'); c=[x.decode() if isinstance(x,bytes) else x for x in f.attrs['columns']]; "
                         "assert c[:4]==['task','coupling.gV','sim.seed','status'], c; "
                         "assert f['task'].dtype=='f8' and list(f['task'][:])==[0,1,2,3]; "
                         "assert list(f['coupling.gV'][:])==[0,0,120,120]; "
                         "assert f['status'].asstr()[:].tolist()==['ok']*4\" 2>&1";
  if (std::system("/usr/bin/python3 -c 'import h5py' 2>/dev/null") == 0) {
    EXPECT_EQ(std::system(py.c_str()), 0);
  }
}

// The tables are written whole through temporary files of new names
// (io::write_atomically): a file of the user's named like the temporary
// file of a table (summary.csv.tmp, summary.h5.tmp, analysis.csv.tmp) is
// left as it was by a sweep, its --resume and islet analyze DIR; it may
// even be the sweep's base config.
TEST(Sweep, TablesLeaveAFileNamedLikeTheirTemporaryFileAlone) {
  const fs::path d = fresh_dir("tmp_names");
  const fs::path out = d / "out";
  fs::create_directories(out);
  const std::string base = "[sim]\nduration_s = 0.2\n[network]\nkind = \"lattice\"\nnx = 3\nny = 3\nnz = 3\n";
  write_file(out / "summary.csv.tmp", base);
  write_file(out / "summary.h5.tmp", "my notes\n");
  write_file(out / "analysis.csv.tmp", "my table\n");
  write_file(d / "s.toml", "base = \"out/summary.csv.tmp\"\nout_dir = \"out\"\n[grid]\n\"coupling.gV\" = [0, 120]\n");
  const SweepSpec s = load_sweep((d / "s.toml").string());
  EXPECT_EQ(run(s, out.string(), ExecutorKind::serial).ok, 2u);
  EXPECT_EQ(run(s, out.string(), ExecutorKind::serial, true).skipped, 2u);
  AnalyzeSweepOptions o;
  o.exec.kind = ExecutorKind::serial;
  o.quiet = true;
  analyze_sweep(out.string(), o);
  EXPECT_EQ(read_file(out / "summary.csv.tmp"), base);
  EXPECT_EQ(read_file(out / "summary.h5.tmp"), "my notes\n");
  EXPECT_EQ(read_file(out / "analysis.csv.tmp"), "my table\n");
  EXPECT_EQ(count_lines(read_file(out / "summary.csv")), 3u);
  EXPECT_EQ(count_lines(read_file(out / "analysis.csv")), 3u);
  EXPECT_TRUE(fs::exists(out / "summary.h5"));
  // Nothing else left: no temporary file of the sweep's own.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(out)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"analysis.csv", "analysis.csv.tmp", "summary.csv", "summary.csv.tmp",
                                             "summary.h5", "summary.h5.tmp", "task_0.analysis.h5", "task_0.cells.csv",
                                             "task_0.h5", "task_0.summary.csv", "task_1.analysis.h5",
                                             "task_1.cells.csv", "task_1.h5", "task_1.summary.csv"}));
}

// ---------------------------------------------------------------- summary window and frequency

namespace {

// n cells x samples at 10 Hz over [0, t_end]: cell k is a train of pulses
// (raised cosine to the 4th) of period `period(k, t)` and phase phase[k].
std::vector<double> pulses(const std::vector<double>& t, std::size_t cells, const std::vector<double>& phase,
                           double (*period)(std::size_t, double)) {
  std::vector<double> c(t.size() * cells);
  for (std::size_t s = 0; s < t.size(); ++s)
    for (std::size_t k = 0; k < cells; ++k) {
      const double x = 0.5 + 0.5 * std::cos(2 * M_PI * (t[s] / period(k, t[s]) + phase[k]));
      c[s * cells + k] = 0.1 + x * x * x * x;
    }
  return c;
}

std::vector<double> times(double t_end, double dt) {
  std::vector<double> t;
  for (std::size_t s = 0; static_cast<double>(s) * dt <= t_end + 1e-9; ++s) t.push_back(static_cast<double>(s) * dt);
  return t;
}

}  // namespace

TEST(SweepSummary, SynchronousPulsesGiveTheirFrequencyRandomPhasesGiveNan) {
  const std::vector<double> t = times(400, 0.1);
  const std::size_t cells = 50;
  // Synchronous: every cell pulses with period 20 s, the same phase (+ small jitter).
  std::vector<double> phase(cells);
  for (std::size_t k = 0; k < cells; ++k) phase[k] = 0.01 * static_cast<double>(k % 5);
  const auto p20 = [](std::size_t, double) { return 20.0; };
  std::vector<double> c = pulses(t, cells, phase, p20);
  IsletMetrics m = islet_metrics(t, c.data(), t.size(), cells);
  EXPECT_DOUBLE_EQ(m.from_s, 200.0);  // the second half by default
  EXPECT_DOUBLE_EQ(m.to_s, 400.0);
  EXPECT_NEAR(m.frequency_hz, 0.05, 1.0 / 200);  // 10 pulses in 200 s (+-1 crossing)
  EXPECT_GT(m.coherence, 0.95);
  EXPECT_GT(m.synchrony, 0.9);
  // Independent oscillators: the same pulses at random phases. The mean trace
  // still wiggles (and crosses its mid-level), but has no common rhythm.
  CounterRng rng(5, 0, static_cast<std::uint32_t>(RngStream::user), 0);
  for (auto& p : phase) p = rng.uniform();
  c = pulses(t, cells, phase, p20);
  m = islet_metrics(t, c.data(), t.size(), cells);
  EXPECT_TRUE(std::isnan(m.frequency_hz)) << m.frequency_hz;
  EXPECT_LT(m.coherence, kMinCoherence);
  EXPECT_LT(std::abs(m.synchrony), 0.2);
  EXPECT_GT(m.duty_cycle, 0.1);  // the other metrics are still there
  // Too few oscillations in the window: NaN (period 150 s: at most 2 crossings in 200 s).
  std::fill(phase.begin(), phase.end(), 0.0);
  c = pulses(t, cells, phase, [](std::size_t, double) { return 150.0; });
  EXPECT_TRUE(std::isnan(islet_metrics(t, c.data(), t.size(), cells).frequency_hz));
  // A silent islet: flat traces.
  std::fill(c.begin(), c.end(), 0.2);
  m = islet_metrics(t, c.data(), t.size(), cells);
  EXPECT_TRUE(std::isnan(m.frequency_hz));
  EXPECT_DOUBLE_EQ(m.duty_cycle, 0.0);
}

TEST(SweepSummary, WindowSelectsItsSamples) {
  // Period 10 s before t = 200 s, 25 s after: each window measures its own.
  const std::vector<double> t = times(400, 0.1);
  const std::size_t cells = 4;
  const std::vector<double> phase(cells, 0.0);
  const std::vector<double> c = pulses(t, cells, phase,
                                       [](std::size_t, double time) { return time < 200 ? 10.0 : 25.0; });
  const IsletMetrics early = islet_metrics(t, c.data(), t.size(), cells, 0, 195);
  EXPECT_DOUBLE_EQ(early.from_s, 0.0);
  EXPECT_DOUBLE_EQ(early.to_s, 195.0);
  EXPECT_NEAR(early.frequency_hz, 0.1, 1.0 / 195);
  const IsletMetrics late = islet_metrics(t, c.data(), t.size(), cells, 205, NAN);
  EXPECT_NEAR(late.from_s, 205.0, 1e-9);
  EXPECT_DOUBLE_EQ(late.to_s, 400.0);
  EXPECT_NEAR(late.frequency_hz, 0.04, 1.0 / 195);
  // Fewer than 4 samples: nothing to measure.
  EXPECT_TRUE(std::isnan(islet_metrics(t, c.data(), t.size(), cells, 10, 10.2).duty_cycle));
}

TEST(SweepSummary, ConfigKeysAreCheckedAndWrittenOnlyWhenSet) {
  const auto err = [](const std::string& text) {
    try {
      parse_config(text, "w.toml");
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  const std::string sim = "[sim]\nduration_s = 100\n";
  EXPECT_NE(err(sim + "[summary]\nto_s = 120\n").find("w.toml: summary.to_s: 120 s is after the end of the run"),
            std::string::npos);
  EXPECT_NE(err(sim + "[summary]\nfrom_s = 60\nto_s = 40\n").find("summary.from_s: the window [60, 40] s is empty"),
            std::string::npos);
  EXPECT_NE(err(sim + "[summary]\nto_s = 30\n").find("summary.to_s: the window [50, 30] s is empty"),
            std::string::npos);
  EXPECT_NE(err(sim + "[summary]\nfrom_s = -1\n").find("summary.from_s"), std::string::npos);
  EXPECT_NE(err(sim + "[summary]\nfrom = 1\n").find("summary.from: unknown key (did you mean 'from_s'?)"),
            std::string::npos);
  EXPECT_NE(err(sim + "[summary]\nfrom_s = 100\n").find("summary.from_s"), std::string::npos);
  const RunConfig c = parse_config(sim + "[summary]\nfrom_s = 10\nto_s = 90\n", "w.toml");
  EXPECT_EQ(c.summary_from_s, 10.0);
  EXPECT_EQ(c.summary_to_s, 90.0);
  const RunConfig back = parse_config(to_toml(c), "back");
  EXPECT_EQ(back.summary_from_s, 10.0);
  EXPECT_EQ(back.summary_to_s, 90.0);
  // Unset: no [summary] table, so existing configs' text (and files) are unchanged.
  EXPECT_EQ(to_toml(default_config()).find("[summary]"), std::string::npos);
  EXPECT_TRUE(std::isnan(default_config().summary_from_s));
}

// ---------------------------------------------------------------- resume after a config change

namespace {

SweepOutcome run_noted(SweepSpec spec, const std::string& out, bool resume) {
  spec.out_dir = out;
  SweepOptions o;
  o.exec.kind = ExecutorKind::threads;
  o.exec.cores = 2;
  o.resume = resume;
  o.quiet = true;
  return run_sweep(spec, o);
}

std::string base_with(const std::string& extra) {
  return std::string(R"(out_dir = "out"
[base.sim]
duration_s = 0.2
[base.network]
kind = "lattice"
nx = 3
ny = 3
nz = 3
[base.record]
vars = ["c", "V"]
dtype = "float64"
)") + extra;
}

// The summary.csv row of task i.
std::string row_of(const fs::path& table, std::size_t i) {
  const std::string t = "\n" + read_file(table);
  const auto at = t.find("\n" + std::to_string(i) + ",");
  return at == std::string::npos ? "" : t.substr(at + 1, t.find('\n', at + 1) - at - 1);
}

}  // namespace

TEST(SweepResume, ChangedSweptValuesAndBaseAreRerunUnchangedTasksSkipped) {
  const fs::path d = fresh_dir("changed");
  const std::string grid = "[grid]\n\"coupling.gV\" = [0, 120]\n\"sim.seed\" = [1, 2]\n";
  write_file(d / "s.toml", base_with(grid));
  const fs::path out = d / "out";
  const SweepOutcome first = run_noted(load_sweep((d / "s.toml").string()), out.string(), false);
  ASSERT_EQ(first.ok, 4u);
  SweepSpec s = load_sweep((d / "s.toml").string());
  s.out_dir = out.string();
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(stored_task_hash(task_file(s, i)), task_hash(s, i)) << i;
    EXPECT_EQ(stored_task_hash(task_file(s, i)).substr(0, 8), "fnv1a64:");
  }
  EXPECT_NE(task_hash(s, 0), task_hash(s, 1));

  // Unchanged: everything skipped.
  EXPECT_EQ(run_noted(load_sweep((d / "s.toml").string()), out.string(), true).skipped, 4u);

  // A swept value changed (120 -> 90): tasks 2 and 3 run again, 0 and 1 are skipped.
  write_file(d / "s.toml", base_with("[grid]\n\"coupling.gV\" = [0, 90]\n\"sim.seed\" = [1, 2]\n"));
  const SweepOutcome changed = run_noted(load_sweep((d / "s.toml").string()), out.string(), true);
  EXPECT_EQ(changed.skipped, 2u);
  EXPECT_EQ(changed.ok, 2u);
  ASSERT_EQ(changed.reruns.size(), 2u);
  EXPECT_EQ(changed.reruns[0], "task 2: config changed since it ran (coupling.gV 120 -> 90); re-running");
  EXPECT_EQ(changed.reruns[1], "task 3: config changed since it ran (coupling.gV 120 -> 90); re-running");
  // The new results: the same as a fresh sweep of the new file, and the table says 90.
  run_noted(load_sweep((d / "s.toml").string()), (d / "fresh").string(), false);
  SweepSpec fresh = load_sweep((d / "s.toml").string());
  fresh.out_dir = (d / "fresh").string();
  for (std::size_t i = 0; i < 4; ++i) expect_same_data(task_file(fresh, i), task_file(s, i));
  EXPECT_EQ(row_of(out / "summary.csv", 3).substr(0, 10), "3,90,2,ok,");
  const auto metrics = [](const std::string& row) {  // duty_cycle .. window_to_s
    auto f = csv::split(row);
    return std::vector<std::string>(f.begin() + 5, f.begin() + 10);
  };
  for (std::size_t i = 0; i < 4; ++i)
    EXPECT_EQ(metrics(row_of(out / "summary.csv", i)), metrics(row_of(d / "fresh" / "summary.csv", i))) << i;

  // The base changed where every task overrides it (coupling.gV is swept):
  // the resolved configs are the same, nothing runs.
  write_file(d / "s.toml",
             base_with("[base.coupling]\ngV = 50\n[grid]\n\"coupling.gV\" = [0, 90]\n\"sim.seed\" = [1, 2]\n"));
  EXPECT_EQ(run_noted(load_sweep((d / "s.toml").string()), out.string(), true).skipped, 4u);

  // The base changed for every task: all of them run again, saying what changed.
  write_file(d / "s.toml",
             base_with("[base.glucose]\nlevel = 8\n[grid]\n\"coupling.gV\" = [0, 90]\n\"sim.seed\" = [1, 2]\n"));
  const SweepOutcome based = run_noted(load_sweep((d / "s.toml").string()), out.string(), true);
  EXPECT_EQ(based.skipped, 0u);
  EXPECT_EQ(based.ok, 4u);
  ASSERT_EQ(based.reruns.size(), 4u);
  EXPECT_EQ(based.reruns[1], "task 1: config changed since it ran (glucose.level 11 -> 8); re-running");
  const H5Run r = read_run(task_file(s, 1), false);
  EXPECT_NE(r.attr("config").find("level = 8"), std::string::npos);
  s = load_sweep((d / "s.toml").string());
  s.out_dir = out.string();
  EXPECT_EQ(r.attr("task_hash"), task_hash(s, 1));
}

TEST(SweepResume, FilesWithoutHashAndOldTablesAreRerunAndTheCliSaysWhy) {
  const fs::path d = fresh_dir("nohash");
  write_file(d / "s.toml", base_with("[grid]\n\"coupling.gV\" = [0, 120]\n"));
  SweepSpec s = load_sweep((d / "s.toml").string());
  s.out_dir = (d / "out").string();
  run_noted(s, s.out_dir, false);
  // As an older isletsim left it: the old table layout, files without task_hash.
  std::string old, line;
  for (std::istringstream in(read_file(d / "out" / "summary.csv")); std::getline(in, line);) {
    auto f = csv::split(line);
    f.erase(f.begin() + 7, f.begin() + 9);  // window_from_s, window_to_s
    for (std::size_t c = 0; c < f.size(); ++c) old += (c ? "," : "") + f[c];
    old += "\n";
  }
  ASSERT_EQ(old.substr(0, old.find('\n')),
            "task,coupling.gV,status,wall_s,duty_cycle,frequency_hz,synchrony,file,message");
  write_file(d / "out" / "summary.csv", old);
  {  // task 1's file as run_to_file alone writes it (no task_hash)
    const RunConfig cfg = task_config(s, 1);
    const RunSetup setup = build_setup(cfg);
    RunOptions ro;
    ASSERT_EQ(run_to_file(setup, task_file(s, 1), ro).status, RunResult::Status::complete);
  }
  EXPECT_EQ(stored_task_hash(task_file(s, 1)), "");
  // islet sweep --resume: task 1 runs again, with one line saying why; the table gets the new layout.
  const std::string cli = std::string(ISLET_CLI) + " sweep " + (d / "s.toml").string() + " --resume 2>&1";
  FILE* p = popen(cli.c_str(), "r");
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << out;
  EXPECT_NE(out.find("islet sweep: task 1: task_1.h5 has no task hash"), std::string::npos) << out;
  EXPECT_EQ(out.find("task 0:"), std::string::npos) << out;
  EXPECT_NE(out.find("1 ok, 0 failed, 1 skipped"), std::string::npos) << out;
  EXPECT_EQ(stored_task_hash(task_file(s, 1)), task_hash(s, 1));
  const std::string now = read_file(d / "out" / "summary.csv");
  EXPECT_EQ(now.substr(0, now.find('\n')),
            "task,coupling.gV,status,wall_s,duty_cycle,frequency_hz,synchrony,window_from_s,window_to_s,file,message");
  const auto row0 = csv::split(row_of(d / "out" / "summary.csv", 0)),
             row1 = csv::split(row_of(d / "out" / "summary.csv", 1));
  ASSERT_EQ(row0.size(), 11u);  // the old row, read into the new layout: no window known
  EXPECT_EQ(row0[2], "ok");
  EXPECT_EQ(row0[7], "nan");
  ASSERT_EQ(row1.size(), 11u);
  EXPECT_EQ(row1[7], "0.1");  // the re-run task's window: the second half
  EXPECT_EQ(row1[8], "0.2");
}

TEST(SweepResume, SummaryWindowIsUsedAndStored) {
  const fs::path d = fresh_dir("window");
  write_file(d / "s.toml", R"(out_dir = "out"
[base.sim]
duration_s = 0.4
[base.network]
kind = "lattice"
nx = 2
ny = 2
nz = 2
[base.record]
vars = ["c"]
[base.summary]
from_s = 0.05
to_s = 0.25
[grid]
"coupling.gV" = [0, 120]
)");
  SweepSpec s = load_sweep((d / "s.toml").string());
  ASSERT_EQ(run(s, (d / "out").string(), ExecutorKind::serial).ok, 2u);
  s.out_dir = (d / "out").string();
  const auto f = csv::split(row_of(d / "out" / "summary.csv", 1));
  EXPECT_EQ(f[7], "0.05");
  EXPECT_EQ(f[8], "0.25");
  const H5Run r = read_run(task_file(s, 1));
  const IsletMetrics m = islet_metrics(r.time, r.data[0].data(), r.n_samples, r.n_cells, 0.05, 0.25);
  EXPECT_EQ(f[4], fmt::format("{}", m.duty_cycle));
  EXPECT_EQ(f[6], fmt::format("{}", m.synchrony));
  const IsletMetrics half = islet_metrics(r.time, r.data[0].data(), r.n_samples, r.n_cells);
  EXPECT_NE(half.synchrony, m.synchrony);  // another window, another value
  EXPECT_NE(r.attr("config").find("[summary]"), std::string::npos);
  // A window past a task's end is bad input naming the key, before anything runs.
  write_file(d / "bad.toml",
             "[base.sim]\nduration_s = 0.4\n[base.summary]\nto_s = 0.3\n[grid]\n\"sim.duration_s\" = [0.4, 0.2]\n");
  try {
    load_sweep((d / "bad.toml").string());
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("summary.to_s: 0.3 s is after the end of the run"), std::string::npos)
        << e.what();
  }
}

// ---------------------------------------------------------------- warnings

TEST(SweepWarnings, KeysThatCannotChangeResultsAreNamedOnce) {
  const auto warnings = [](const std::string& text) {
    return sweep_warnings(parse_sweep("[base]\n" + text, "w.toml", "."));
  };
  // Keys that matter: none.
  EXPECT_TRUE(
      warnings("[base.sim]\nduration_s = 1\n[grid]\n\"coupling.gV\" = [0, 60]\n\"sim.seed\" = [1, 2]\n").empty());
  // glucose.level after a step past the end of some runs (duration swept too): 2 of 4 tasks, one line.
  auto w = warnings(
      "[base.sim]\nduration_s = 1\n[base.glucose]\nt_step_s = 100\n[grid]\n"
      "\"sim.duration_s\" = [50, 200]\n\"glucose.level\" = [8, 11]\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "glucose.level cannot change the results of 2 of 4 tasks: the glucose step (glucose.t_step_s = "
            "100 s) is not before the end of the run (sim.duration_s = 50 s)");
  // Modes that do not use a key; heterogeneity.X.dist with cv = 0; record.*.
  w = warnings(
      "[base.glucose]\nmode = \"protocol\"\nevents = [{t_s = 1, G = 8}]\n[base.heterogeneity]\n"
      "gKATP = {cv = 0}\n[grid]\n\"glucose.level\" = [8, 11]\n\"heterogeneity.gKATP.dist\" = [\"normal\", "
      "\"gamma\"]\n\"record.dtype\" = [\"float32\", \"float64\"]\n");
  ASSERT_EQ(w.size(), 3u);
  EXPECT_EQ(w[0],
            "glucose.level cannot change the results of any of the 8 task(s): glucose.mode = \"protocol\" does "
            "not use it");
  EXPECT_NE(w[1].find("heterogeneity.gKATP.dist cannot change the results of any of the 8 task(s): "
                      "heterogeneity.gKATP.cv is 0"),
            std::string::npos);
  EXPECT_EQ(w[2].rfind("record.dtype cannot change the results of any of the 8 task(s): record.* keys", 0), 0u) << w[2];
  // Lattice sizes of a sphere network (once warned of as identical configs): refused, as a run refuses them.
  try {
    warnings("[grid]\n\"network.nx\" = [3, 4]\n\"coupling.gV\" = [0, 60]\n");
    ADD_FAILURE() << "network.nx of a sphere network not refused";
  } catch (const isletsim::InputError& e) {
    EXPECT_NE(std::string(e.what()).find("network.nx: not used with network.kind = \"sphere\""), std::string::npos)
        << e.what();
  }
  // A value listed twice.
  w = warnings("[grid]\n\"coupling.gV\" = [120, 120.0, 60]\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_EQ(w[0],
            "1 task(s) repeat another task's swept values (e.g. tasks 0 and 1: coupling.gV=120): their results "
            "are bit-identical");
  w = warnings("[zip]\n\"sim.seed\" = [1, 2, 1]\n\"coupling.gV\" = [0, 0, 0]\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("1 task(s) repeat another task's swept values (e.g. tasks 0 and 2"), std::string::npos) << w[0];
  // sim.seed when nothing is random.
  w = warnings(
      "[base.network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\n[base.coupling]\nweights = \"network\"\n"
      "[base.heterogeneity]\ngKATP = 0\ngKCa = 0\ngCa = 0\ngK = 0\natot = 0\nJGK = 0\n[grid]\n"
      "\"sim.seed\" = [1, 2]\n");
  ASSERT_EQ(w.size(), 1u);
  EXPECT_NE(w[0].find("sim.seed cannot change the results of any of the 2 task(s): nothing in the run is random"),
            std::string::npos);
}
