// From a RunSetup to a file: the one place that lays out a run's HDF5 output
// (docs/hdf5-layout.md). The CLI, the sweep tasks and Python's
// simulate(output=...) run through run_to_file; Python's Result.save writes
// the same static part with open_run_file, so every file is laid out alike.
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <memory>
#include <optional>

#include "isletsim/error.hpp"
#include "isletsim/simulation.hpp"
#include "model/model_abi.hpp"
#include "run/paths.hpp"

#ifndef ISLETSIM_GIT_COMMIT
#define ISLETSIM_GIT_COMMIT "unknown"
#endif
#ifndef ISLETSIM_BUILD_INFO
#define ISLETSIM_BUILD_INFO "unknown"
#endif

namespace isletsim {

std::string status_text(RunResult::Status s) {
  return s == RunResult::Status::complete ? "complete" : s == RunResult::Status::interrupted ? "interrupted" : "failed";
}

namespace {

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ",") + x;
  return out;
}

}  // namespace

namespace {
std::vector<std::pair<std::string, RunAttr>> run_attributes_common(const RunSetup& s, unsigned threads);
}  // namespace

std::vector<std::pair<std::string, RunAttr>> run_attributes(const RunSetup& s, unsigned threads) {
  const RunConfig& c = s.config;
  auto attrs = run_attributes_common(s, threads);
  if (is_adaptive(c.integrator)) attrs.emplace_back("tolerance", c.tolerance);
  return attrs;
}

namespace {
std::vector<std::pair<std::string, RunAttr>> run_attributes_common(const RunSetup& s, unsigned threads) {
  const RunConfig& c = s.config;
  // Stored (and in the config, read back) as a signed 64-bit integer, as a
  // config file gives it: a larger seed (the C++ API's RunConfig holds a
  // uint64_t) would be stored negative.
  if (c.seed > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    throw InputError("sim.seed = " + std::to_string(c.seed) +
                     ": expected an integer 0..9223372036854775807 (2^63 - 1), which a run file stores as it is");
  return {{"program", std::string("isletsim")},
          {"version", version()},
          {"git_commit", std::string(ISLETSIM_GIT_COMMIT)},
          {"build", std::string(ISLETSIM_BUILD_INFO)},
          {"isa", std::string(model_abi::isa_name(model_abi::active_isa()))},
          {"host", host_name()},
          {"command_line", s.command_line},
          {"start_time", utc_now()},
          {"external_inputs", join(s.external)},
          {"model", std::string(s.problem.the_model().name)},
          {"model_citation", std::string(s.problem.the_model().citation) + ". doi:" + s.problem.the_model().doi},
          {"config", to_toml(c)},
          {"seed", static_cast<std::int64_t>(c.seed)},
          {"integrator", to_string(c.integrator)},
          {"dt_ms", c.dt_ms},
          {"record_interval_ms", c.record_interval_ms},
          {"n_cells", static_cast<std::int64_t>(s.problem.n_cells)},
          {"glucose_protocol", s.problem.glucose.describe()},
          {"threads", static_cast<std::int64_t>(threads)}};
}
}  // namespace

RunFileStatic file_static(const RunSetup& s, unsigned threads) {
  const EngineProblem& p = s.problem;
  const ModelInfo& model = p.the_model();
  RunFileStatic f;
  f.n_cells = p.n_cells;
  f.x = s.network.x, f.y = s.network.y, f.z = s.network.z;
  f.edge_i = s.network.edge_i, f.edge_j = s.network.edge_j, f.edge_w = s.network.edge_w;
  for (std::size_t k = 0; k < model.params.size(); ++k) {
    const auto& info = model.params[k];
    std::vector<double> v(p.n_cells);
    for (std::size_t i = 0; i < p.n_cells; ++i) v[i] = p.params[k].at(i);
    f.params.push_back({info.name, info.unit, info.description, std::move(v)});
  }
  for (std::size_t k = 0; k < model.states.size(); ++k) {
    const auto& info = model.states[k];
    std::vector<double> v(p.n_cells);
    for (std::size_t i = 0; i < p.n_cells; ++i) v[i] = p.initial[k].at(i);
    f.initial.push_back({info.name, info.unit, info.description, std::move(v)});
  }
  f.conductance_factor = s.conductance_factor;
  for (int v : p.record_vars) {
    const auto& st = model.states[v];
    f.vars.push_back({st.name, st.unit, st.description});
  }
  f.attrs = run_attributes(s, threads);
  f.float32 = s.config.record_dtype == RecordType::float32;
  // From the sizes, not p.record_block: a caller may hand samples over in
  // other blocks (Python's callback interval) without changing the file.
  f.chunk_samples = record_block_for(p.n_cells, p.record_vars.size(),
                                     is_adaptive(p.integrator) ? p.land_every / std::max<std::uint64_t>(1, p.record_every) : 0);
  return f;
}

namespace {

// The writer of the file at `path` for the static part `f`; continue_at:
// the samples kept of an existing file (H5WriterOptions::continue_at);
// held: a new file stays new until settled (H5WriterOptions::new_until_settled).
std::unique_ptr<H5Writer> make_writer(const std::string& path, const RunFileStatic& f,
                                      std::optional<std::size_t> continue_at, bool held = false) {
  H5WriterOptions wo;
  wo.path = path;
  wo.n_cells = f.n_cells;
  wo.float32 = f.float32;
  wo.chunk_samples = f.chunk_samples;
  wo.vars = f.vars;
  wo.continue_at = continue_at;
  wo.new_until_settled = held;
  return std::make_unique<H5Writer>(wo);
}

// The static part of a new run file: network, parameters, initial states,
// attributes.
void write_static(H5Writer& w, const RunFileStatic& f) {
  w.write_positions(f.x, f.y, f.z);
  w.write_edges(f.edge_i, f.edge_j, f.edge_w);
  for (const auto& cp : f.params) w.write_cell_param(cp.name, cp.units, cp.description, cp.values);
  for (const auto& cp : f.initial) w.write_cell_values("initial", cp.name, cp.units, cp.description, cp.values);
  if (!f.conductance_factor.empty())
    w.write_cell_values("cells", "conductance_factor", "1",
                        "per-cell gap-junction conductance factor g_i: w_ij = network weight * (g_i + g_j) / 2",
                        f.conductance_factor);
  for (const auto& [name, value] : f.attrs)
    std::visit([&, &name = name](const auto& v) { w.set_attr(name, v); }, value);
  w.flush();  // the config is in the file from the start, whatever happens next (and the file is no longer new)
}

}  // namespace

std::unique_ptr<H5Writer> open_run_file(const std::string& path, const RunFileStatic& f) {
  std::unique_ptr<H5Writer> w = make_writer(path, f, std::nullopt);
  // A write error before write_static's flush (the disk or a file-size
  // limit full) leaves no half-written file: the writer, going away with
  // the file still new, removes it (H5Writer).
  write_static(*w, f);
  return w;
}

namespace {

// The run file `path`, to go on writing it from sample `keep`: the static
// part is there already; the attributes (config, ...) are rewritten.
std::unique_ptr<H5Writer> reopen_run_file(const std::string& path, const RunFileStatic& f, std::size_t keep) {
  auto w = make_writer(path, f, keep);
  for (const auto& [name, value] : f.attrs)
    if (name != "start_time") std::visit([&, &name = name](const auto& v) { w->set_attr(name, v); }, value);
  w->set_attr("continued_time", utc_now());
  return w;
}

}  // namespace

namespace {

// Appends each block to the file, then hands it on to `also` (if any): what
// `also` receives is always already in the file. After a failed write,
// nothing more goes to the file: no later block, and no checkpoint that
// would claim samples it does not hold.
struct FileSink : SampleSink {
  H5Writer& w;
  SampleSink* also;
  std::vector<std::string> names;
  double dt_ms = 0;
  bool failed = false;
  FileSink(H5Writer& writer, SampleSink* next) : w(writer), also(next) {}
  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    if (failed) return;
    try {
      w.append(n, t, g, d);
      w.settle();  // the run's first block is in the file: kept from here on
    } catch (...) {
      failed = true;
      throw;
    }
    if (also) also->write(n, t, g, d);
  }
  // On a simulation thread: compression only (no HDF5 call). A failure is
  // left to write(), which compresses again and reports it.
  void encode(std::size_t v, std::uint64_t first, std::size_t n, const double* data) override {
    if (failed) return;
    try {
      w.encode(v, static_cast<std::size_t>(first), n, data);
    } catch (...) {
    }
  }
  void checkpoint(std::uint64_t step, std::uint64_t samples, const std::vector<std::vector<double>>& state,
                  double step_ms) override {
    if (failed) return;
    try {
      w.write_state(step, samples, static_cast<double>(step) * dt_ms * 1e-3, names, state, step_ms);
    } catch (...) {
      failed = true;
      throw;
    }
  }
};

// Samples [0, keep) of `from` appended to `w`, a block at a time.
void copy_samples(H5Writer& w, const H5Run& from, std::size_t keep, std::size_t block) {
  const std::size_t cells = from.n_cells;
  for (std::size_t a = 0; a < keep; a += block) {
    const std::size_t n = std::min(block, keep - a);
    std::vector<const double*> ptrs;
    for (const auto& d : from.data) ptrs.push_back(d.data() + a * cells);
    w.append(n, from.time.data() + a, from.glucose.empty() ? nullptr : from.glucose.data() + a, ptrs);
  }
}

}  // namespace

RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt, SampleSink* also,
                      const H5Run* prefix) {
  check_output_path(s, path);
  const EngineProblem& p = s.problem;
  const RunFileStatic f = file_static(s, opt.threads);
  const std::size_t keep = p.first_sample;
  std::unique_ptr<H5Writer> w;
  if (!s.continues.empty() && !prefix && run::same_file(s.continues, path)) {
    w = reopen_run_file(path, f, keep);
  } else {
    // A continued run into a new file: the samples it keeps first. Read
    // before the output is created (it may not be the input: checked above).
    H5Run read;
    if (!s.continues.empty() && !prefix) {
      std::vector<std::string> names;
      for (const auto& v : f.vars) names.push_back(v.name);
      read = read_run(s.continues, true, names);
      prefix = &read;
    }
    if (prefix && prefix->n_samples < keep)
      throw InputError("the run continued holds " + std::to_string(prefix->n_samples) + " samples, fewer than the " +
                       std::to_string(keep) + " before its saved state");
    // A continued run's new file stays new (its writer removes it) until
    // the run's first block is in it: should anything fail before (the copy
    // of the samples kept, on a full disk), no file is left, and the run
    // continued is as it was.
    w = make_writer(path, f, std::nullopt, prefix != nullptr);
    write_static(*w, f);
    try {
      if (prefix) copy_samples(*w, *prefix, keep, f.chunk_samples);
    } catch (const std::runtime_error& e) {  // a write error
      const std::string from = s.continues.empty() ? std::string("the run continued") : "'" + s.continues + "'";
      throw std::runtime_error("cannot continue " + from + " into '" + path + "': copying the " + std::to_string(keep) +
                               " samples it keeps failed: " + e.what() + "; '" + path + "' is not kept (" + from +
                               " is as it was)");
    }
  }
  FileSink sink(*w, also);
  for (const auto& st : p.the_model().states) sink.names.push_back(st.name);
  sink.dt_ms = p.dt_ms;
  RunOptions o = opt;
  if (s.config.checkpoint_s > 0)
    o.checkpoint_every = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround(s.config.checkpoint_s * 1e3 / p.dt_ms)));
  RunResult r = run_engine(p, &sink, o);
  w->settle();  // the run ran (whatever its status, recorded below): its file is kept
  r.samples = w->samples_written() - std::min(keep, w->samples_written());  // taken and in the file
  // The end state, to continue from (not after a blow-up: it is not finite,
  // and the last checkpoint stays the state to go on from).
  if (r.status != RunResult::Status::failed && !sink.failed) {
    try {
      const std::uint64_t end = p.start_step + r.steps_done;
      w->write_state(end, keep + r.samples, static_cast<double>(end) * p.dt_ms * 1e-3, sink.names, r.final_state,
                     r.next_step_ms);
    } catch (const std::exception& e) {
      r.status = RunResult::Status::failed;
      r.message = std::string("writing the end state failed: ") + e.what();
    }
  }
  try {
    w->set_attr("end_time", utc_now());
  } catch (const std::exception&) {
    // Recorded below with the status, or reported with it.
  }
  try {
    w->finish(status_text(r.status), r.message);
  } catch (const std::exception& e) {
    r.status = RunResult::Status::failed;
    r.message += std::string(r.message.empty() ? "" : "; ") + "the file's final status could not be recorded (" +
                 e.what() + "); every sample up to len(time) is complete";
  }
  return r;
}

}  // namespace isletsim
