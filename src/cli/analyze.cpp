// `islet analyze`: the analysis pipeline on a run file, a recorded text file
// or a sweep directory (docs/analysis.md); pictures by the Python package.
#include "cli/analyze.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>

#include "cli/output_file.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/config.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

extern char** environ;

// Set by python/CMakeLists.txt when the Python module is built.
#ifndef ISLET_PYTHON_EXECUTABLE
#define ISLET_PYTHON_EXECUTABLE "python3"
#endif
#ifndef ISLET_PYTHON_BUILD_DIR
#define ISLET_PYTHON_BUILD_DIR ""
#endif
#ifndef ISLET_PYTHON_INSTALL_DIR
#define ISLET_PYTHON_INSTALL_DIR ""
#endif

namespace isletsim::cli {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string stem_of(const std::string& path) {
  for (const char* ext : {".h5", ".txt", ".csv", ".tsv", ".dat"})
    if (ends_with(path, ext)) return path.substr(0, path.size() - std::string(ext).size());
  return path;
}

// Where the isletsim Python package is: the build tree's, else the installed one.
std::string python_package_dir() {
  for (const char* dir : {ISLET_PYTHON_BUILD_DIR, ISLET_PYTHON_INSTALL_DIR}) {
    std::error_code ec;
    if (*dir && std::filesystem::exists(std::filesystem::path(dir) / "isletsim" / "figures.py", ec)) return dir;
  }
  return "";
}

// python3 -m isletsim.figures <args>: 0 when it ran and succeeded.
int run_figures(const std::vector<std::string>& args, unsigned jobs) {
  std::vector<std::string> argv_s = {ISLET_PYTHON_EXECUTABLE, "-m", "isletsim.figures", "--jobs", std::to_string(jobs)};
  argv_s.insert(argv_s.end(), args.begin(), args.end());

  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // The environment, with the package's folder first on PYTHONPATH and a
  // non-interactive matplotlib back end.
  std::vector<std::string> env_s;
  const std::string dir = python_package_dir();
  std::string pythonpath = dir;
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (kv.rfind("PYTHONPATH=", 0) == 0) {
      const std::string old = kv.substr(11);
      if (!old.empty()) pythonpath += (pythonpath.empty() ? "" : ":") + old;
    } else if (kv.rfind("MPLBACKEND=", 0) != 0) {
      env_s.push_back(kv);
    }
  }
  env_s.push_back("PYTHONPATH=" + pythonpath);
  env_s.push_back("MPLBACKEND=Agg");
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  pid_t pid = 0;
  if (posix_spawnp(&pid, argv[0], nullptr, nullptr, argv.data(), envp.data()) != 0) return -1;
  int status = 0;
  if (waitpid(pid, &status, 0) < 0) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void figures(const std::vector<std::string>& args, const AnalyzeArgs& a) {
  if (a.no_figures) return;
  const int rc = run_figures(args, a.cores > 0 ? static_cast<unsigned>(a.cores) : env::detect_cores().cores);
  if (rc != 0)
    fmt::print(stderr,
               "islet analyze: warning: the pictures were not made ({} -m isletsim.figures {}); the results are "
               "complete without them (needs the isletsim Python package and matplotlib; --no-figures skips them)\n",
               ISLET_PYTHON_EXECUTABLE, rc < 0 ? "could not start" : fmt::format("exited with {}", rc));
}

// The numeric flags, refused as their [analysis] keys are (not finite, out of
// range) but named as typed; --threshold and --k-avg exclude each other.
void check_flags(const AnalyzeArgs& a) {
  struct Flag {
    const char* name;
    const std::optional<double>& value;
    bool (*ok)(double);
    const char* expected;
  };
  const auto positive = [](double v) { return v > 0; };
  const auto non_negative = [](double v) { return v >= 0; };
  const auto correlation = [](double v) { return v >= -1 && v <= 1; };
  for (const Flag& f : {Flag{"--from", a.from_s, non_negative, "a finite number >= 0 (s; analysis.from_s)"},
                        Flag{"--to", a.to_s, positive, "a finite number > 0 (s; analysis.to_s)"},
                        Flag{"--k-avg", a.k_avg, positive, "a finite number > 0 (the average degree; analysis.k_avg)"},
                        Flag{"--threshold", a.threshold, correlation,
                             "a finite number in [-1, 1] (a correlation or coactivity threshold; analysis.threshold)"},
                        Flag{"--stimulus", a.stimulus_s, non_negative, "a finite number >= 0 (s; analysis.stimulus_s)"},
                        Flag{"--resample-hz", a.resample_hz, non_negative,
                             "a finite number >= 0 (Hz; 0: the data's rate; analysis.resample_hz)"},
                        Flag{"--sampling-hz", a.sampling_hz, positive,
                             "a finite rate > 0 in Hz (leave it out when the first column is time)"}})
    if (f.value && !(std::isfinite(*f.value) && f.ok(*f.value)))
      throw InputError(fmt::format("{} {}: expected {}", f.name, *f.value, f.expected));
  if (a.k_avg && a.threshold)
    throw InputError(
        fmt::format("--threshold {} and --k-avg {} exclude each other: --threshold fixes the similarity "
                    "threshold of the functional network, --k-avg chooses the one that gives that "
                    "average degree; give one of them",
                    *a.threshold, *a.k_avg));
}

// The output stem of one file (-o, else the input without its extension) and
// its three files: a stem that names a directory is refused (it would write
// hidden files in it), and so is an output that is a directory, a FIFO or
// another file that is not regular, before anything is computed.
std::string output_stem(const AnalyzeArgs& a) {
  if (!a.output) return stem_of(a.input);
  const std::string& o = *a.output;
  const std::string example = " (e.g. -o results/run1 writes results/run1.analysis.h5, results/run1.cells.csv, ...)";
  if (o.empty()) throw InputError("-o '': expected an output stem, a file name without extension" + example);
  const std::string last = std::filesystem::path(o).filename().string();
  if (last.empty() || last == "." || last == "..")
    throw InputError("-o '" + o + "' names a directory; expected an output stem, a file name without extension" +
                     example);
  return o;
}

// The command-line flags as --set analysis.<key>=<value> overrides.
Overrides flag_sets(const AnalyzeArgs& a) {
  Overrides s;
  const auto num = [&](const char* key, const std::optional<double>& v) {
    if (v) s.push_back(fmt::format("analysis.{}={}", key, *v));
  };
  num("from_s", a.from_s);
  num("to_s", a.to_s);
  num("k_avg", a.k_avg);
  num("threshold", a.threshold);
  num("stimulus_s", a.stimulus_s);
  num("resample_hz", a.resample_hz);
  if (!a.binarize.empty()) s.push_back("analysis.binarize=\"" + a.binarize + "\"");
  if (!a.band.empty()) s.push_back("analysis.band=\"" + a.band + "\"");
  if (!a.variable.empty()) s.push_back("analysis.variable=\"" + a.variable + "\"");
  for (const auto& x : a.sets) {
    if (x.rfind("analysis.", 0) != 0)
      throw InputError("--set '" + x + "': islet analyze takes analysis.<key>=<value> (docs/analysis.md)");
    s.push_back(x);
  }
  return s;
}

void print_summary(const analysis::Result& r, const analysis::Input& in) {
  std::map<std::string, double> m;
  for (const auto& [k, v] : r.metrics()) m[k] = v;
  fmt::print("islet analyze: {} of {}: {} cells ({} excluded) x {} samples at {:g} Hz\n", in.variable, in.source,
             in.data.cells, m["n_excluded"], r.pre.time.size(), r.pre.rate_hz);
  fmt::print("  activity: relative active time {:.3f}, {:.4f} Hz, episodes {:.2f} s, intervals {:.2f} s (CV {:.2f})\n",
             m["relative_active_time"], m["frequency_hz"], m["mean_duration_s"], m["mean_interval_s"],
             m["interval_cv"]);
  if (!std::isnan(r.stimulus_s))
    fmt::print("  response to the stimulus at {:g} s: median latency {:.2f} s, time to plateau {:.2f} s\n", r.stimulus_s,
               m["median_response_latency_s"], m["median_time_to_plateau_s"]);
  fmt::print("  network ({} >= {:.6g}): {} edges, degree {:.2f}, clustering {:.3f}, efficiency {:.3f}, largest "
             "component {:.3f}, modularity {:.3f} ({} communities), {} hubs; mean correlation {:.3f}\n",
             analysis::to_string(r.options.similarity), r.threshold, r.network.i.size(), m["average_degree"],
             m["average_clustering"], m["global_efficiency"], m["largest_component"], m["modularity"],
             m["n_communities"], m["n_hubs"], m["mean_correlation"]);
  fmt::print("  waves: {} (mean size {:.2f} of the cells, speed {:.1f} um/s, leader consistency {:.2f})\n",
             r.waves.waves.size(), m["mean_wave_size"], m["mean_wave_speed_um_s"], m["leader_consistency"]);
}

int analyze_one(const AnalyzeArgs& a) {
  const std::string& path = a.input;
  const bool is_run = ends_with(path, ".h5");
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError("'" + path + "': no such file or directory");
  if (is_run && (a.sampling_hz || a.time_column))
    throw InputError("--sampling-hz and --time-column are for recorded text files; '" + path +
                     "' is a run file, which holds its times");
  const std::string stem = output_stem(a);
  const std::vector<std::string> outputs = {stem + ".analysis.h5", stem + ".cells.csv", stem + ".summary.csv"};
  for (const auto& f : outputs) check_output_file(f, "islet analyze");
  if (!is_run && !a.sampling_hz && !a.time_column && !a.quiet)
    fmt::print(stderr, "islet analyze: taking the first column of '{}' as time (s); give --sampling-hz if it has none\n",
               path);
  // Options: the run's stored [analysis] (or --config's), then --set, then flags.
  std::string text, origin = "<defaults>";
  if (!a.config.empty()) {
    check_not_directory(a.config);
    std::ifstream f(a.config);
    if (!f) throw InputError("cannot open config file '" + a.config + "'");
    std::stringstream ss;
    ss << f.rdbuf();
    text = ss.str(), origin = a.config;
  } else if (is_run) {
    text = stored_config(path), origin = path + " (config attribute)";
  }
  const analysis::Options o = resolve_analysis_options(text, origin, flag_sets(a));
  const analysis::Input in = is_run ? analysis_input_from_run(path, o.variable, a.positions)
                                    : analysis_input_from_text(path, a.positions, a.sampling_hz.value_or(0),
                                                               a.time_column);
  const analysis::Result r = analysis::analyze(in, o);
  std::vector<std::string> files;
  try {
    files = write_analysis_outputs(r, in, stem, path);
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    // A write error (full disk, file-size limit): the file being written is
    // removed; reported with the file's name (exit 1; main() skips libhdf5's
    // clean-up at exit, which crashes on a file it could not flush). Most
    // messages say so already ("cannot write 'STEM.cells.csv': ...").
    const std::string what = e.what();
    if (what.rfind("cannot write '", 0) == 0) throw;
    std::string file = stem + ".*";
    for (const auto& f : outputs)
      if (what.find("'" + f + "'") != std::string::npos) file = f;
    throw std::runtime_error(fmt::format("cannot write '{}': {}", file, what));
  }
  print_summary(r, in);
  fmt::print("  -> {}, {}, {}\n", files[0], files[1], files[2]);
  std::fflush(stdout);
  figures({files[0], "-o", stem + "_figures", "--quiet"}, a);
  if (!a.no_figures && !a.quiet) fmt::print("  pictures -> {}_figures/\n", stem);
  return 0;
}

int analyze_dir(const AnalyzeArgs& a) {
  sweep::AnalyzeSweepOptions opt;
  opt.exec.kind = sweep::resolve_executor(a.executor, env::mpi_launcher_size());
  std::optional<sweep::MpiSession> mpi;
  if (opt.exec.kind == sweep::ExecutorKind::mpi) mpi.emplace();
  const unsigned detected = env::detect_cores().cores;
  opt.exec.cores = a.cores > 0 ? static_cast<unsigned>(a.cores)
                   : mpi       ? sweep::rank_cores(detected, mpi->ranks_sharing_mask())
                               : detected;
  opt.exec.stop = env::install_stop_handlers();
  opt.sets = flag_sets(a);
  opt.quiet = a.quiet;
  // Concurrent tasks each run their matrix products on one thread.
  analysis::set_blas_threads(sweep::concurrent_tasks(opt.exec) > 1 ? 1 : static_cast<int>(opt.exec.cores));
  const sweep::AnalyzeSweepOutcome o = sweep::analyze_sweep(a.input, opt);
  if (mpi && mpi->rank() != 0) return o.failed ? 1 : 0;
  fmt::print("islet analyze: {} task(s) in {}: {} analysed, {} failed, {} without a result file, {} interrupted, in "
             "{:.2f} s -> {}\n",
             o.tasks, a.input, o.ok, o.failed, o.skipped, o.interrupted, o.wall_s, o.table);
  std::fflush(stdout);
  if (o.ok > 0) {
    std::vector<std::string> args = {"--sweep", o.table, "-o", (std::filesystem::path(a.input) / "figures").string()};
    if (!o.keys.empty()) {
      std::string keys;
      for (const auto& k : o.keys) keys += (keys.empty() ? "" : ",") + k;
      args.push_back("--keys");
      args.push_back(keys);
    }
    args.push_back("--quiet");
    figures(args, a);
    if (!a.no_figures && !a.quiet) fmt::print("  pictures -> {}\n", (std::filesystem::path(a.input) / "figures").string());
  }
  if (o.interrupted) return 130;
  return o.failed ? 1 : 0;
}

}  // namespace

int cmd_analyze(const AnalyzeArgs& a) {
  check_flags(a);
  std::error_code ec;
  if (std::filesystem::is_directory(a.input, ec)) {
    if (!a.positions.empty() || a.sampling_hz || a.time_column || a.output || !a.config.empty())
      throw InputError("'" + a.input + "' is a sweep directory: --positions, --sampling-hz, --time-column, -o and "
                       "--config apply to one file (each task's stored [analysis] is used, with --set on top)");
    return analyze_dir(a);
  }
  analysis::set_blas_threads(a.cores > 0 ? a.cores : static_cast<int>(env::detect_cores().cores));
  return analyze_one(a);
}

}  // namespace isletsim::cli
