// Parameter sweeps: sweep files, executors (same results serial and
// threaded), results table, resume (also after SIGKILL), sharding.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/sweep.hpp"
#include "core/fastmath.hpp"

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

SweepOutcome run(SweepSpec spec, const std::string& out, ExecutorKind kind, bool resume = false, Shard shard = {}) {
  spec.out_dir = out;
  SweepOptions o;
  o.exec.kind = kind;
  o.exec.cores = 2;
  o.resume = resume;
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
            "task,coupling.gV,sim.seed,status,wall_s,duty_cycle,frequency_hz,synchrony,file,message");
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
  // Full sweep, then lose one result and its row.
  const fs::path out = d / "out";
  run(s, out.string(), ExecutorKind::threads);
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
