// The `islet` command line tool.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <new>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/analyze.hpp"
#include "cli/network_cmd.hpp"
#include "cli/output_file.hpp"
#include "isletsim/config.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/model.hpp"
#include "isletsim/simulation.hpp"
#include "isletsim/sweep.hpp"
#include "run/paths.hpp"
#ifdef ISLET_HAVE_GAUSS
#include "isletsim/gauss.hpp"
#endif

using namespace isletsim;

namespace {

// "[ 45.0%] t = 270.0 / 600 s | 10.4 sim-s/s | ETA 0:32", rewritten in place.
class ProgressLine {
 public:
  ProgressLine(double dt_ms, bool enabled) : dt_ms_(dt_ms), enabled_(enabled), t0_(Clock::now()), last_(t0_) {}
  void update(const Progress& p) {
    if (!enabled_) return;
    const auto now = Clock::now();
    if (now - last_ < std::chrono::milliseconds(250) && p.step != p.n_steps) return;
    last_ = now;
    const double wall = std::chrono::duration<double>(now - t0_).count();
    const double sim_s = static_cast<double>(p.step) * dt_ms_ * 1e-3;
    const double total_s = static_cast<double>(p.n_steps) * dt_ms_ * 1e-3;
    const double rate = wall > 0 ? sim_s / wall : 0;
    const double eta = rate > 0 ? (total_s - sim_s) / rate : 0;
    const int eta_s = static_cast<int>(std::lround(eta));
    std::fprintf(stderr, "\r[%5.1f%%] t = %.1f / %g s | %.2f sim-s/s | ETA %d:%02d   ",
                 p.n_steps ? 100.0 * static_cast<double>(p.step) / static_cast<double>(p.n_steps) : 100.0, sim_s,
                 total_s, rate, eta_s / 60, eta_s % 60);
    std::fflush(stderr);
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r%80s\r", "");
  }

 private:
  using Clock = std::chrono::steady_clock;
  double dt_ms_;
  bool enabled_, shown_ = false;
  Clock::time_point t0_, last_;
};

// -j N: N threads (a warning when N exceeds the usable cores); no -j (or 0):
// env::default_threads_now, from the islet's size, the usable cores that
// are idle (`idle`, sampled since the command started) and the writer's
// share of the work; `rep`: the usable cores.
unsigned choose_threads(int requested, bool quiet, const RunSetup& s, const env::IdleSample& idle,
                        const env::CoreReport& rep) {
  const std::size_t states = s.problem.the_model().states.size();
  if (requested <= 0)
    return env::default_threads_now(s.problem.n_cells, rep.cores, states, writer_share_of(s),
                                    static_cast<unsigned>(s.problem.record_vars.size()), idle);
  const unsigned n = env::resolve_threads(static_cast<unsigned>(requested), s.problem.n_cells, rep.cores, states, "-j");
  if (n > rep.cores && !quiet)
    fmt::print(stderr, "islet: warning: -j {} exceeds the {} usable core(s) detected (limited by {}); "
               "lock-step threads will share cores\n", requested, rep.cores, rep.limited_by);
  return n;
}

void print_profile(const RunResult& r, const RunSetup& s) {
  const Profile& p = r.profile;
  const double T = p.threads ? p.threads : 1;
  const double sum = p.kernel + p.coupling + p.recording + p.sync;
  const double other = std::max(0.0, p.total_wall * T - sum);
  const auto row = [&](const char* name, double sec) {
    fmt::print(stderr, "  {:<16} {:9.3f} s  {:5.1f}%\n", name, sec / T, p.total_wall > 0 ? 100.0 * sec / (p.total_wall * T) : 0);
  };
  fmt::print(stderr, "profile ({} thread(s), seconds are per-thread averages of wall time):\n", p.threads);
  row("cell kernel", p.kernel);
  row("coupling", p.coupling);
  row("recording", p.recording);
  row("synchronisation", p.sync);
  row("other", other);
  // The writer thread is not one of the T threads above: its CPU time is its
  // own row, as a share of the run's wall time (it may share a core with them).
  fmt::print(stderr, "  {:<16} {:9.3f} s  {:5.1f}% of the wall time (CPU time of the writer thread: HDF5 writing, "
             "and the compression unless the threads do it, in 'recording' above)\n", "writer thread", p.writer_cpu,
             p.total_wall > 0 ? 100.0 * p.writer_cpu / p.total_wall : 0);
  if (is_adaptive(s.problem.integrator)) {
    // Its steps (and the rejected ones), each 6 model evaluations.
    const double tried = static_cast<double>(r.accepted + r.rejected);
    const double evals = static_cast<double>(s.problem.n_cells) * tried * 6.0;
    fmt::print(stderr, "  {} steps ({} rejected), mean {:.3g} ms; {:.1f} ns per cell evaluation per thread (6 a step)\n",
               r.accepted, r.rejected,
               r.accepted ? static_cast<double>(r.steps_done) * s.problem.dt_ms / static_cast<double>(r.accepted) : 0.0,
               evals > 0 ? p.total_wall * T / evals * 1e9 : 0.0);
  } else {
    const double cell_steps = static_cast<double>(s.problem.n_cells) * static_cast<double>(r.steps_done);
    fmt::print(stderr, "  {:.3g} cell-steps/s, {:.1f} ns per cell-step per thread\n", cell_steps / p.total_wall,
               p.total_wall * T / cell_steps * 1e9);
  }
  if (p.threads > 1) {
    std::string split;
    for (std::size_t c : p.cells_per_thread) split += fmt::format("{}{}", split.empty() ? "" : "/", c);
    fmt::print(stderr, "  load balancing: {} re-split(s) of the cells between threads; final split {} (padded cells)\n",
               p.resplits, split);
  }
}

// The config of a run: the built-in default, a TOML file, or the config
// stored in an earlier run's HDF5 output (which reproduces that run).
RunConfig resolve_config(const std::string& path, const std::vector<std::string>& sets) {
  if (path.empty()) return parse_config("", "<built-in default>", sets);
  if (path.size() > 3 && path.compare(path.size() - 3, 3, ".h5") == 0) return config_of_run_file(path, sets);
  return load_config(path, sets);
}

// The command line as typed, for the run file's provenance.
std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a.find_first_of(" \t'\"") != std::string::npos) a = "'" + a + "'";
    out += (i ? " " : "") + a;
  }
  return out;
}

int cmd_run(const std::string& config_path, const std::vector<std::string>& sets, std::string output, int threads,
            bool quiet, bool profile, const std::string& continue_path, const std::string& cmdline, bool overwrite) {
  // How idle the cores are while the inputs are read (this process's own
  // threads not counted as load: OpenBLAS's worker spins for a moment after
  // start-up and read as a busy core).
  const env::IdleSample idle("/proc/stat", true);
  RunSetup s;
  if (!continue_path.empty()) {
    if (!config_path.empty())
      throw InputError("islet run --continue FILE takes no config as well (got '" + config_path +
                       "'): the run goes on with the config stored in FILE");
    s = build_continuation(continue_path, sets);
    if (output.empty()) output = continue_path;  // the file is extended in place
  } else {
    s = build_setup(resolve_config(config_path, sets));
  }
  if (!output.empty()) s.config.output = output;
  s.command_line = cmdline;
  const RunConfig& cfg = s.config;
  // Data already simulated is never lost: an existing file is replaced only
  // when asked (a continued run extends its own file in place). Its own
  // inputs are refused first, with or without --overwrite.
  check_output_is_new(s, cfg.output, overwrite, !continue_path.empty() && run::same_file(continue_path, cfg.output),
                      "give --overwrite");
  RunOptions opt;
  const env::CoreReport cores = env::detect_cores();
  opt.threads = choose_threads(threads, quiet, s, idle, cores);
  // A thread on every usable core: they compress the samples themselves
  // (the writer thread would take a core from one of them).
  opt.encode_on_compute = env::encode_on_compute(opt.threads, cores.cores);
  opt.profile = profile;
  opt.stop = env::install_stop_handlers();
  ProgressLine progress(cfg.dt_ms, !quiet && env::stderr_is_tty());
  opt.progress = [&](const Progress& p) { progress.update(p); };
  const RunResult r = run_to_file(s, cfg.output, opt);
  const std::uint64_t samples_in_file = s.problem.first_sample + r.samples;
  progress.done();
  const double sim_s = static_cast<double>(r.steps_done) * cfg.dt_ms * 1e-3;
  const char* status = r.status == RunResult::Status::complete ? "complete" : r.status == RunResult::Status::interrupted ? "INTERRUPTED" : "FAILED";
  const std::string method =
      is_adaptive(cfg.integrator)
          ? fmt::format("{} tolerance {:g} ({} steps, {} rejected, mean {:.3g} ms)", to_string(cfg.integrator),
                        cfg.tolerance, r.accepted, r.rejected,
                        r.accepted ? static_cast<double>(r.steps_done) * cfg.dt_ms / static_cast<double>(r.accepted) : 0.0)
          : fmt::format("{} {:g} ms", to_string(cfg.integrator), cfg.dt_ms);
  fmt::print("islet: {}: {} cells, {} edges (mean degree {:.2f}), {}, {:.1f} s simulated in {:.2f} s "
             "({:.2f} sim-s/s, {} thread(s)); {} samples of {} -> {}\n",
             status, s.problem.n_cells, s.network.n_edges(), s.network.mean_degree(), method,
             sim_s, r.wall_s, r.wall_s > 0 ? sim_s / r.wall_s : 0.0, r.profile.threads, r.samples,
             fmt::join(cfg.record_vars, ","), cfg.output);
  std::fflush(stdout);
  if (profile) print_profile(r, s);
  if (r.status != RunResult::Status::complete) {
    fmt::print(stderr, "islet: {}; {} holds the {} samples recorded before that (status attribute '{}')\n", r.message,
               cfg.output, samples_in_file, r.status == RunResult::Status::interrupted ? "interrupted" : "failed");
    return r.status == RunResult::Status::interrupted ? 130 : 1;
  }
  return 0;
}

int cmd_params(bool markdown, const std::string& model_name) {
  const ModelInfo& m = find_model(model_name);
  if (markdown) {
    fmt::print("| name | unit | default | domain | meaning |\n|---|---|---|---|---|\n");
    for (const auto& p : m.params)
      fmt::print("| {} | {} | {:g} | {} | {} |\n", p.name, p.unit, p.default_value, short_name(p.domain), p.description);
    fmt::print("\nState variables (initial values; set with [initial]):\n\n| name | unit | initial | domain | meaning |\n"
               "|---|---|---|---|---|\n");
    for (const auto& s : m.states)
      fmt::print("| {} | {} | {:g} | {} | {} |\n", s.name, s.unit, s.initial, short_name(s.domain), s.description);
    fmt::print("\nCoupling ([coupling] keys):\n\n| key | unit | default | meaning |\n|---|---|---|---|\n");
    for (const auto& c : m.coupled) fmt::print("| {} | {} | {:g} | {} |\n", c.key, c.unit, c.default_value, c.description);
    return 0;
  }
  fmt::print("{} ({}; doi:{})\n\n", m.title, m.name, m.doi);
  fmt::print("{:<10} {:<12} {:>12}  {:<6}  {}\n", "name", "unit", "default", "domain", "meaning");
  for (const auto& p : m.params)
    fmt::print("{:<10} {:<12} {:>12g}  {:<6}  {}\n", p.name, p.unit, p.default_value, short_name(p.domain), p.description);
  fmt::print("\nstate variables:\n");
  for (const auto& s : m.states)
    fmt::print("{:<10} {:<12} {:>12g}  {:<6}  {}\n", s.name, s.unit, s.initial, short_name(s.domain), s.description);
  fmt::print("\ncoupling ([coupling] keys):\n");
  for (const auto& c : m.coupled) fmt::print("{:<10} {:<12} {:>12g}  {}\n", c.key, c.unit, c.default_value, c.description);
  return 0;
}

int cmd_models() {
  for (const ModelInfo* m : models()) {
    std::string keys;
    for (const auto& c : m->coupled) keys += (keys.empty() ? "" : ", ") + std::string(c.key);
    fmt::print("{:<13} {}\n{:<13} {} states, {} parameters; coupling: {}; spikes: {} crossing {:g}; calcium: {}; "
               "default step: RK4 {:g} ms, Euler {:g} ms\n{:<13} glucose: {}\n{:<13} {}. doi:{}\n\n",
               m->name, m->title, "", m->states.size(), m->params.size(), keys, m->spike_state, m->spike_threshold,
               *m->calcium ? m->calcium : "none", m->dt_ms_rk4, m->dt_ms_euler, "", m->stimulus, "", m->citation,
               m->doi);
  }
  return 0;
}

// Under MPI, errors every rank has (bad input broadcast from rank 0) are
// printed by rank 0 only.
bool g_quiet_errors = false;

int cmd_sweep(const std::string& path, const std::string& executor, int cores, int threads_per_task,
              const std::string& shard, bool resume, bool overwrite, bool quiet) {
  const sweep::ExecutorKind kind = sweep::resolve_executor(executor, env::mpi_launcher_size());
  std::optional<sweep::MpiSession> mpi;
  if (kind == sweep::ExecutorKind::mpi) mpi.emplace();  // before the signal handlers: ours win
  const int rank = mpi ? mpi->rank() : 0;
  sweep::SweepSpec spec;
  if (!mpi) {
    spec = sweep::load_sweep(path);
  } else {  // every rank reads the sweep; agree before anything collective
    std::string err;
    try {
      spec = sweep::load_sweep(path);
    } catch (const InputError& e) {
      err = e.what();
    }
    const std::vector<int> ok = mpi->allgather(err.empty());
    std::vector<int> bad;
    for (std::size_t r = 0; r < ok.size(); ++r)
      if (!ok[r]) bad.push_back(static_cast<int>(r));
    if (!bad.empty()) {
      // Report here, while MPI is still initialised: once the session ends
      // (MPI_Finalize) mpirun may no longer forward this rank's output.
      std::string msg;
      if (!ok[0])
        msg = rank == 0 ? (err.empty() ? "rank 0 could not read the sweep file" : err) : "";
      else if (!err.empty())
        msg = fmt::format("(rank {}) {}", rank, err);
      else if (rank == 0)
        msg = fmt::format("rank(s) {} could not read the sweep file (see their messages)", fmt::join(bad, ", "));
      if (!msg.empty()) {
        fmt::print(stderr, "islet: error: {}\n", msg);
        std::fflush(stderr);
      }
      return 2;
    }
    g_quiet_errors = rank != 0;  // from here on rank 0 reports for everyone
  }
  sweep::SweepOptions opt;
  opt.exec.kind = kind;
  opt.exec.threads_per_task = threads_per_task > 0 ? static_cast<unsigned>(threads_per_task) : 1;
  const unsigned detected = env::detect_cores().cores;
  opt.exec.cores = cores > 0 ? static_cast<unsigned>(cores)
                   : mpi     ? sweep::rank_cores(detected, mpi->ranks_sharing_mask())
                             : detected;
  opt.exec.stop = env::install_stop_handlers();
  if (!shard.empty()) opt.shard = sweep::parse_shard(shard);
  opt.resume = resume;
  opt.overwrite = overwrite;
  opt.quiet = quiet;
  opt.progress = !quiet && env::stderr_is_tty();
  const unsigned conc = sweep::concurrent_tasks(opt.exec);
  const std::string where =
      mpi ? fmt::format("{} rank(s), {} on this node, {} core(s) each: ", mpi->size(), mpi->ranks_on_node(), opt.exec.cores)
          : std::string();
  if (!quiet && rank == 0)
    fmt::print(stderr, "islet sweep: {} task(s){}, executor {}: {}{} at a time x {} thread(s) each -> {}\n", spec.size(),
               opt.shard.n > 1 ? fmt::format(" (shard {}/{})", opt.shard.k, opt.shard.n) : std::string(),
               sweep::to_string(opt.exec.kind), where, conc, opt.exec.threads_per_task, spec.out_dir);
  const sweep::SweepOutcome o = sweep::run_sweep(spec, opt);
  if (rank == 0)
    fmt::print("islet sweep: {} of {} task(s) in this shard: {} ok, {} failed, {} skipped (done before), {} interrupted, "
               "in {:.2f} s -> {}\n",
               o.selected, o.total, o.ok, o.failed, o.skipped, o.interrupted, o.wall_s, o.table);
  if (o.interrupted) return 130;
  return o.failed ? 1 : 0;
}

#ifdef ISLET_HAVE_GAUSS
int cmd_bifurcation(const sweep::GaussOptions& g, const std::string& out, int cores, const std::string& executor) {
  sweep::ExecutorOptions eo;
  eo.kind = sweep::resolve_executor(executor, 0);
  if (eo.kind == sweep::ExecutorKind::mpi) throw InputError("bifurcation: --executor mpi is not supported (use threads)");
  eo.cores = cores > 0 ? static_cast<unsigned>(cores) : env::detect_cores().cores;
  const sweep::BifurcationTiming t = sweep::gauss_bifurcation(g, out, eo);
  fmt::print("islet bifurcation: Gauss map alpha = {:g}, beta {:g}..{:g}: {}x{} ({} transient + {} iterations per "
             "column) computed in {:.2f} ms ({} task(s) on {} worker(s)); PNG written in {:.2f} ms -> {}\n",
             g.alpha, g.beta_min, g.beta_max, g.width, g.height, g.transient, g.iterations, t.compute_s * 1e3, t.tasks,
             t.workers, t.png_s * 1e3, out);
  return 0;
}
#endif

int run_cli(int argc, char** argv) {
  // A crash of the HDF5 library on a damaged input file: an error naming the
  // file, exit status 2 (env::ReadingFile).
  env::install_crash_report();
  // Every command reports a write error past a file-size limit, removing its
  // temporary files.
  env::fail_writes_past_size_limit();
  CLI::App app{"isletsim: simulate networks of coupled pancreatic beta cells (`islet models` lists the cell models)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version());

  auto* run = app.add_subcommand("run", "simulate an islet (the built-in default when no config is given)");
  std::string config_path, output;
  std::vector<std::string> sets;
  int threads = 0;
  bool quiet = false, profile = false, print_config = false;
  run->add_option("config", config_path,
                  "TOML run configuration (docs/config.md), or an earlier output .h5 to run its config again");
  run->add_option("--set", sets, "override a config value, e.g. --set coupling.gV=120 (repeatable)")
      ->allow_extra_args(false);
  run->add_option("-o,--output", output, "output HDF5 file (default: record.file of the config)")
      ->check([](const std::string& v) { return v.empty() ? std::string("an empty file name") : std::string(); });
  bool overwrite = false;
  run->add_flag("--overwrite", overwrite,
                "replace the output file if it exists (by default an existing file is kept "
                "and the run refused)");
  run->add_option("-j,--threads", threads,
                  "threads (default: 1 for small islets, else the idle usable cores; see `islet info`)");
  run->add_flag("-q,--quiet", quiet, "no progress line and no warnings");
  run->add_flag("--profile", profile, "print where the time went");
  run->add_flag("--print-config", print_config,
                "print the resolved config as TOML, every key explicit (the model's defaults too), and exit");
  std::string continue_path;
  run->add_option("--continue", continue_path,
                  "go on from the last saved state of this run file (its checkpoint or end), extending it in place "
                  "(or into -o); --set may change sim.duration_s and record.checkpoint_s only");

  auto* params = app.add_subcommand("params", "list a model's parameters, states and coupling keys");
  bool markdown = false;
  std::string params_model = default_model().name;
  params->add_flag("--markdown", markdown, "as a Markdown table");
  params->add_option("--model", params_model, "the model (default bertram2007; see `islet models`)");
  auto* models_cmd = app.add_subcommand("models", "list the cell models: name, size, coupling, citation");

  auto* info = app.add_subcommand("info", "cores this process may use, and why");

  cli::NetworkArgs na;
  auto* network_cmd = cli::add_network_command(app, na);

  auto* sw = app.add_subcommand("sweep", "run many independent simulations from a sweep file (docs/sweeps.md)");
  std::string sweep_path, executor = "auto", shard;
  int sweep_cores = 0, threads_per_task = 1;
  bool resume = false, sweep_quiet = false;
  sw->add_option("sweep_file", sweep_path, "sweep TOML file (docs/sweeps.md)")->required();
  sw->add_option("--executor", executor,
                 "auto, serial, threads or mpi (default auto: mpi when started by mpirun/srun, else threads)");
  sw->add_option("-j,--cores", sweep_cores,
                 "cores to use (per rank under MPI; default: the usable cores, see `islet info`, shared among the "
                 "ranks of a node bound to the same cores)");
  sw->add_option("--threads-per-task", threads_per_task, "threads per simulation (default 1)");
  sw->add_option("--shard", shard, "K/N: run only tasks with index % N == K-1 (e.g. a Slurm array task)");
  sw->add_flag("--resume", resume, "skip tasks already complete (result file and table row present)");
  bool sweep_overwrite = false;
  sw->add_flag("--overwrite", sweep_overwrite,
               "run every task again, replacing the results of an earlier sweep in out_dir (by default they are "
               "kept and the sweep refused)")
      ->excludes("--resume");
  sw->add_flag("-q,--quiet", sweep_quiet, "no progress line and no per-task messages");

#ifdef ISLET_HAVE_GAUSS
  auto* bif = app.add_subcommand("bifurcation", "bifurcation diagram of a map as a PNG");
  std::string bif_map, bif_out = "gauss_bifurcation.png", bif_exec = "auto";
  sweep::GaussOptions g;
  int bif_cores = 0;
  // Values are checked as they are parsed (exit 2, naming the option): the
  // map's numbers finite, at least one iteration, and an output that is a
  // new or regular file in an existing folder (cli::check_output_file).
  const CLI::Validator finite(
      [](std::string& s) {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        return end != s.c_str() && *end == '\0' && !std::isfinite(v) ? "expected a finite number, got " + s
                                                                     : std::string();
      },
      "");
  const CLI::Validator at_least_one(
      [](std::string& s) {
        return s.find_first_not_of('0') == std::string::npos ? "expected at least 1 iteration per column, got " + s
                                                             : std::string();
      },
      "");
  const CLI::Validator png_file(
      [](std::string& s) {
        try {
          cli::check_output_file(s, "the PNG file");
        } catch (const InputError& e) {
          return std::string(e.what());
        }
        return std::string();
      },
      "");
  bif->add_option("map", bif_map, "the map: gauss (x -> exp(-alpha x^2) + beta)")->required()->check(CLI::IsMember({"gauss"}));
  bif->add_option("--alpha", g.alpha, "alpha (default 5.8)")->check(finite);
  bif->add_option("--beta-min", g.beta_min, "first column's beta (default -1)")->check(finite);
  bif->add_option("--beta-max", g.beta_max, "last column's beta (default 1)")->check(finite);
  bif->add_option("--x-min", g.x_min, "bottom of the image (default -1)")->check(finite);
  bif->add_option("--x-max", g.x_max, "top of the image (default 1.5)")->check(finite);
  bif->add_option("--width", g.width, "columns (values of beta; default 640)");
  bif->add_option("--height", g.height, "rows (histogram bins; default 400)");
  bif->add_option("--transient", g.transient, "iterations dropped per column (default 200)");
  bif->add_option("--iterations", g.iterations, "iterations histogrammed per column (default 4000)")
      ->check(at_least_one);
  bif->add_option("-o,--output", bif_out, "PNG file (default gauss_bifurcation.png)")->check(png_file);
  bif->add_option("-j,--cores", bif_cores, "cores to use (default: the usable cores)");
  bif->add_option("--executor", bif_exec, "serial or threads (default threads)");
#endif

  auto* an = app.add_subcommand("analyze", "analyse the calcium of a run, a recorded islet or a sweep (docs/analysis.md)");
  cli::AnalyzeArgs aa;
  an->add_option("input", aa.input,
                 "a run's .h5 file, a recorded islet (text: one row per time point, one column per cell), or a sweep "
                 "output directory")
      ->required();
  an->add_option("-o,--output", aa.output, "output stem: STEM.analysis.h5, STEM.cells.csv, STEM.summary.csv, "
                                           "STEM_figures/ (default: the input without its extension)");
  an->add_option("--from", aa.from_s, "start of the analysed window (s; default: the first sample)");
  an->add_option("--to", aa.to_s, "end of the analysed window (s; default: the last sample)");
  an->add_option("--k-avg", aa.k_avg, "average degree of the functional network (default 8)");
  an->add_option("--threshold", aa.threshold, "fixed similarity threshold instead of --k-avg");
  an->add_option("--binarize", aa.binarize, "half_amplitude (default), slope or prominence");
  an->add_option("--band", aa.band, "raw (default), fast or slow: the signal binarised and correlated");
  an->add_option("--stimulus", aa.stimulus_s, "stimulus time (s) for first responses (default: the glucose step)");
  an->add_option("--resample-hz", aa.resample_hz, "analysis rate (Hz; default: the data's)");
  an->add_option("--var", aa.variable, "recorded variable to analyse (default c)");
  an->add_option("--positions", aa.positions,
                 "text file of x y [z] (um), one row per cell: a recorded islet's, or in place of a run's");
  an->add_option("--sampling-hz", aa.sampling_hz, "recorded islet: sampling rate (Hz) of a file without a time column");
  an->add_flag("--time-column", aa.time_column, "recorded islet: the first column is time even with --sampling-hz");
  an->add_option("--config", aa.config, "TOML file whose [analysis] table gives the options");
  an->add_option("--set", aa.sets, "override an option, e.g. --set analysis.wave_dt_s=1 (repeatable)")
      ->allow_extra_args(false);
  an->add_flag("--no-figures", aa.no_figures, "do not draw the pictures");
  an->add_flag("-q,--quiet", aa.quiet, "fewer messages");
  an->add_option("-j,--cores", aa.cores, "cores to use (default: the usable cores, see `islet info`)");
  an->add_option("--executor", aa.executor, "sweep directories: auto, serial, threads or mpi");

  // Exit codes: 0 ok, 1 the run failed (or a runtime error), 2 bad input or
  // a bad command line, 130 interrupted. CLI11's own codes (105, 106, 109,
  // ...) become 2; --help and --version stay 0.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    // Thread and core counts: 0 (or unset) = the default (run: env::default_threads;
    // the others: the usable cores); never negative,
    // at most env::kMaxThreads.
    const auto check_count = [](const CLI::App* cmd, int v, const char* opt) {
      if (!*cmd) return;
      if (v < 0)
        throw InputError(fmt::format("{} {}: expected a number >= 1 (or 0: the default)", opt, v));
      env::check_thread_count(static_cast<unsigned>(v), opt);
    };
    check_count(run, threads, "-j");
    check_count(sw, sweep_cores, "-j/--cores");
    check_count(sw, threads_per_task, "--threads-per-task");
    check_count(an, aa.cores, "-j/--cores");
#ifdef ISLET_HAVE_GAUSS
    check_count(bif, bif_cores, "-j/--cores");
#endif
    if (*run) {
      if (print_config) {
        fmt::print("{}", to_toml(continue_path.empty() ? resolve_config(config_path, sets)
                                                       : build_continuation(continue_path, sets).config,
                                 true));
        return 0;
      }
      return cmd_run(config_path, sets, output, threads, quiet, profile, continue_path, command_line(argc, argv),
                     overwrite);
    }
    if (*params) return cmd_params(markdown, params_model);
    if (*models_cmd) return cmd_models();
    if (*sw)
      return cmd_sweep(sweep_path, executor, sweep_cores, threads_per_task, shard, resume, sweep_overwrite,
                       sweep_quiet);
#ifdef ISLET_HAVE_GAUSS
    if (*bif) return cmd_bifurcation(g, bif_out, bif_cores, bif_exec);
#endif
    if (*an) return cli::cmd_analyze(aa);
    if (*network_cmd) return cli::cmd_network(na);
    if (*info) {
      const env::CoreReport rep = env::detect_cores();
      fmt::print("isletsim {}\n{}", version(), env::format_core_report(rep));
      const env::IdleSample sample("/proc/stat", true);
      const auto idle = sample.idle();
      // The largest islet that gets one thread on these cores, all idle, no
      // writer (the least W(N) of env::default_threads reaches W(1) = 1).
      std::size_t one = static_cast<std::size_t>(env::kSyncCells);
      while (env::default_threads(one + 1, rep.cores) == 1 && one < 100000) ++one;
      fmt::print("islet run without -j: 1 thread for islets up to {} cells ({}-state model; fewer with more "
                 "states); above, the usable cores that are idle when it starts ({}), fewer where compressing the "
                 "samples would cost more than a thread gains (on every usable core the threads compress them "
                 "themselves)\n",
                 one, env::kReferenceStates,
                 idle ? fmt::format("now {:.1f} of {}", *idle, rep.cores) : std::string("unknown here: all"));
      return 0;
    }
  } catch (const InputError& e) {
    if (!g_quiet_errors) fmt::print(stderr, "islet: error: {}\n", e.what());
    return 2;
  } catch (const std::bad_alloc&) {
    // Sizes are checked when the input is read (docs/config.md): what is left
    // is a run bigger than this machine's memory, or its limit.
    if (!g_quiet_errors)
      fmt::print(stderr, "islet: error: out of memory: an allocation failed (the run needs more memory than this "
                         "process may use; `ulimit -v` and cgroup limits count). Use fewer cells, fewer recorded "
                         "variables or a longer record.interval_ms\n");
    return 1;
  } catch (const std::exception& e) {
    if (!g_quiet_errors) fmt::print(stderr, "islet: error: {}\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int status = 1;
  try {
    status = run_cli(argc, argv);
  } catch (const std::exception& e) {  // in setting up the command line, before run_cli's own handlers
    std::fprintf(stderr, "islet: error: %s\n", e.what());
  }
  // Every file is closed by now (the handles close as the command returns).
  // After a failed command, HDF5's own clean-up at exit is skipped: when a
  // file could not be closed (a write error, e.g. "File too large"), libhdf5
  // keeps it half-closed and crashes closing it again at exit (exit status
  // 139 instead of the error's).
  if (status != 0) {
    std::fflush(nullptr);
    std::_Exit(status);
  }
  return 0;
}
