// isletsim.simulate: builds the run with build_setup, runs the engine with
// the GIL released into memory (with output=, through run_to_file, the CLI's
// path from a config to a file), calls the Python callback per block of
// samples and checks for Ctrl-C about every 1000 steps.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "binding.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/env.hpp"
#include "isletsim/network.hpp"

namespace isletsim::binding {

namespace {

py::object make_result_object(IslResult&& r) { return py::cast(std::move(r)); }

// Raises the exception in `type` (a Python exception class or pending error)
// with .result set to the result object.
[[noreturn]] void raise_with_result(PendingError& pe, py::object result) {
  PyErr_NormalizeException(&pe.type, &pe.value, &pe.tb);
  if (pe.value) PyObject_SetAttrString(pe.value, "result", result.ptr());
  PyErr_Restore(pe.type, pe.value, pe.tb);
  throw py::error_already_set();
}

// Per-cell values from Python: (model index, values), checked for length
// once the network (and so n_cells) is known.
struct PerCell {
  std::string what;  // "params['gKATP']", for messages
  int index = 0;
  std::vector<double> values;
};

std::vector<PerCell> per_cell_arrays(py::object dict, bool params, const ModelInfo& m) {
  std::vector<PerCell> out;
  if (dict.is_none()) return out;
  if (!py::isinstance<py::dict>(dict))
    throw py::type_error(std::string(params ? "params" : "initial") + " must be a dict {name: array}");
  std::vector<std::string> names;
  if (params)
    for (const auto& p : m.params) names.push_back(p.name);
  else
    for (const auto& st : m.states) names.push_back(st.name);
  for (auto [k, v] : dict.cast<py::dict>()) {
    const std::string name = py::str(k).cast<std::string>();
    PerCell pc;
    pc.what = std::string(params ? "params" : "initial") + "['" + name + "']";
    const auto idx = params ? find_param(m, name) : find_state(m, name);
    if (!idx)
      throw py::key_error(pc.what + ": model " + m.name + " has no " + (params ? "parameter" : "state variable") +
                          " '" + name + "'" + did_you_mean(name, names) + " (see isletsim." +
                          (params ? "params" : "states") + "('" + m.name + "'))");
    pc.index = static_cast<int>(*idx);
    auto a = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(v);
    if (!a) {
      PyErr_Clear();
      throw py::type_error(pc.what + ": expected an array of numbers, one per cell");
    }
    if (a.ndim() != 1)
      throw py::value_error(pc.what + ": expected a 1-D array (one value per cell), got " + std::to_string(a.ndim()) +
                            "-D");
    pc.values.assign(a.data(), a.data() + a.shape(0));
    for (std::size_t i = 0; i < pc.values.size(); ++i)
      if (!std::isfinite(pc.values[i]))
        throw py::value_error(pc.what + ": value " + py::repr(py::float_(pc.values[i])).cast<std::string>() +
                              " at cell " + std::to_string(i) + " is not finite");
    params ? check_domain(m.params[pc.index], pc.values, pc.what) : check_domain(m.states[pc.index], pc.values, pc.what);
    out.push_back(std::move(pc));
  }
  return out;
}

void apply_per_cell(std::vector<Column>& params, std::vector<Column>& initial,
                    const std::vector<PerCell>& ps, const std::vector<PerCell>& is, std::size_t n_cells) {
  for (const auto* list : {&ps, &is})
    for (const auto& pc : *list)
      if (pc.values.size() != n_cells)
        throw py::value_error(pc.what + ": " + std::to_string(pc.values.size()) + " values, but the network has " +
                              std::to_string(n_cells) + " cells");
  for (const auto& pc : ps) params[pc.index].values = pc.values;
  for (const auto& pc : is) initial[pc.index].values = pc.values;
}

// Passes each block of recorded samples on to `inner` (memory), then
// to the Python callback, with the GIL taken: write() runs on the engine's
// writer thread while the calling thread runs the engine with the GIL
// released. A callback that raises (or returns True) sets `stop`: the engine
// stops at its next sample, and simulate() re-raises after the run.
struct CallbackSink : SampleSink {
  SampleSink* inner = nullptr;
  py::handle callback;
  std::vector<std::string> names;
  std::size_t n_cells = 0;
  std::atomic<bool>* stop = nullptr;
  PendingError error;          // what the callback raised
  bool stop_requested = false;  // the callback returned True
  std::size_t calls = 0;

  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    if (inner) inner->write(n, t, g, d);
    if (error.set() || stop_requested) return;
    py::gil_scoped_acquire gil;
    try {
      py::array_t<double> ta(static_cast<py::ssize_t>(n));
      std::copy(t, t + n, ta.mutable_data());
      py::dict data;
      for (std::size_t v = 0; v < d.size() && v < names.size(); ++v) {
        py::array_t<double> a({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(n_cells)});
        std::copy(d[v], d[v] + n * n_cells, a.mutable_data());
        data[py::str(names[v])] = std::move(a);
      }
      ++calls;
      py::object r = callback(ta, data);
      if (r.ptr() == Py_True) {
        stop_requested = true;
        stop->store(true);
      }
    } catch (py::error_already_set& e) {
      e.restore();
      fetch_into(error);
      stop->store(true);
    } catch (const std::exception& e) {
      PyErr_SetString(PyExc_RuntimeError, e.what());
      fetch_into(error);
      stop->store(true);
    }
  }
};

// continue_from: the run `prev` goes on under `s` (built from the new
// config): its network and per-cell parameters, its last state, and its
// samples before that state as the prefix of the new result.
struct Continuation {
  bool on = false;
  H5Run prefix;
  std::string in_place;  // output is prev's own file: extended in place
};

Continuation continue_setup(RunSetup& s, const IslResult& prev, const std::optional<std::string>& output) {
  Continuation c;
  c.on = true;
  if (!prev.all_cells || prev.first_sample != 0)
    throw py::value_error("continue_from: the result is a part of its file (window= or cells=); load it whole");
  const std::string text = prev.attr_string("config");
  if (text.empty()) throw py::value_error("continue_from: the result holds no config (not an isletsim run?)");
  RunConfig before = parse_config(text, "continue_from's config");
  RunConfig now = s.config;
  now.duration_s = before.duration_s;
  now.checkpoint_s = before.checkpoint_s;
  now.output = before.output;
  if (to_toml(now) != to_toml(before))
    throw py::value_error(
        "continue_from: the config differs from the continued run's in more than sim.duration_s and "
        "record.checkpoint_s (a different run: start it from the other's end state with initial.from, or with "
        "initial=result.final_state)");
  // The network and per-cell parameters the run used, as it stored them.
  EngineProblem& p = s.problem;
  const ModelInfo& model = p.the_model();
  if (prev.n_cells != p.n_cells || prev.edge_i.size() != s.network.n_edges())
    throw py::value_error("continue_from: the result's network differs from the config's (" +
                          std::to_string(prev.n_cells) + " cells, " + std::to_string(prev.edge_i.size()) + " edges)");
  s.network.x = prev.x, s.network.y = prev.y, s.network.z = prev.z;
  s.network.edge_i = prev.edge_i, s.network.edge_j = prev.edge_j, s.network.edge_w = prev.edge_w;
  p.graph = build_csr(s.network);
  for (const auto& cp : prev.params)
    if (const auto k = find_param(model, cp.name)) p.params[*k].values = cp.values;
  // The state to go on from: the result's end state, else its file's checkpoint.
  std::vector<std::string> names;
  std::vector<std::vector<double>> state;
  std::uint64_t step = 0, samples = 0;
  double step_ms = 0;
  if (!prev.final_state.empty()) {
    for (const auto& st : model.states) names.push_back(st.name);
    state = prev.final_state;
    step = prev.end_step;
    step_ms = prev.end_step_ms;
    samples = prev.n_samples;
  } else if (!prev.path.empty()) {
    auto ck = read_checkpoint(prev.path);
    if (!ck) throw py::value_error("continue_from: '" + prev.path + "' holds no saved state to continue from");
    names = ck->names, state = ck->state, step = ck->step, samples = ck->samples, step_ms = ck->step_ms;
  } else {
    throw py::value_error("continue_from: the result holds no end state");
  }
  if (prev.n_samples < samples)
    throw py::value_error("continue_from: the result holds fewer samples than its saved state needs");
  for (std::size_t k = 0; k < names.size(); ++k)
    if (const auto idx = find_state(model, names[k])) p.initial[*idx].values = state[k];
  p.start_step = step;
  p.first_sample = samples;
  p.start_step_ms = is_adaptive(p.integrator) ? step_ms : 0.0;
  if (p.n_steps < step)
    throw py::value_error("continue_from: sim.duration_s ends before the result's end (t = " +
                          std::to_string(static_cast<double>(step) * p.dt_ms * 1e-3) + " s)");
  check_problem(p);
  s.continues = prev.path.empty() ? std::string("(a result in memory)") : prev.path;
  std::error_code ec;
  if (output && !prev.path.empty() && std::filesystem::equivalent(*output, prev.path, ec)) c.in_place = prev.path;
  if (!prev.path.empty()) {  // the samples as the file holds them (a loaded result may not hold them all)
    if (!c.in_place.empty()) return c;
    c.prefix = read_run(prev.path, true, prev.var_names());
    if (c.prefix.n_samples < samples)
      throw py::value_error("continue_from: '" + prev.path + "' holds fewer samples than its saved state needs");
    c.prefix.n_samples = samples;
    c.prefix.time.resize(samples);
    c.prefix.glucose.resize(samples);
    for (auto& d : c.prefix.data) d.resize(samples * prev.n_cells);
    return c;
  }
  c.prefix.n_cells = prev.n_cells;
  c.prefix.n_samples = samples;
  c.prefix.time.assign(prev.time.begin(), prev.time.begin() + static_cast<std::ptrdiff_t>(samples));
  c.prefix.glucose.assign(prev.glucose.begin(), prev.glucose.begin() + static_cast<std::ptrdiff_t>(samples));
  for (const auto& d : prev.data)
    c.prefix.data.emplace_back(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(samples * prev.n_cells));
  return c;
}

py::object simulate(const IslConfig& cfg, const Network* network, std::optional<int> threads,
                    std::optional<std::string> output, py::object params_in, py::object initial_in, py::object callback,
                    std::optional<double> callback_interval_s, py::object progress, py::object continue_from,
                    bool overwrite) {
  const env::IdleSample idle;  // how idle the cores are while the run is set up
  RunConfig rc = cfg.resolved;
  if (output) rc.output = *output;
  unsigned nt = 0;  // 0: env::default_threads_now, once the islet's size is known
  if (threads) {
    if (*threads < 1) throw py::value_error("threads must be at least 1, got " + std::to_string(*threads));
    env::check_thread_count(static_cast<unsigned>(*threads), "threads=");
    nt = static_cast<unsigned>(*threads);
  }
  const ModelInfo& model = find_model(rc.model);
  const std::vector<PerCell> per_param = per_cell_arrays(params_in, true, model);
  const std::vector<PerCell> per_initial = per_cell_arrays(initial_in, false, model);
  const bool with_callback = !callback.is_none();
  if (with_callback && !PyCallable_Check(callback.ptr()))
    throw py::type_error("callback must be callable: f(t, data) with t (n,) s and data {var: (n, cells) array}");
  if (callback_interval_s) {
    if (!with_callback) throw py::value_error("callback_interval_s needs a callback");
    if (!(*callback_interval_s > 0) || !std::isfinite(*callback_interval_s))
      throw py::value_error("callback_interval_s must be a positive number of seconds");
  }

  IslResult res;
  PendingError pending;
  std::atomic<bool> stop{false};
  RunOptions opt;
  opt.threads = nt;
  opt.stop = &stop;
  using Clock = std::chrono::steady_clock;
  auto last_check = Clock::now();
  if (!progress.is_none() && !PyCallable_Check(progress.ptr()))
    throw py::type_error("progress must be callable: f(step, n_steps)");
  // Called by the engine's thread 0 (the calling thread) about every 1000
  // steps: at most every 50 ms, take the GIL, run Python's signal handlers and
  // call progress(step, n_steps) (an exception from it stops the run and propagates).
  opt.progress = [&](const Progress& p) {
    if (stop.load(std::memory_order_relaxed)) return;
    const auto now = Clock::now();
    if (now - last_check < std::chrono::milliseconds(50)) return;
    last_check = now;
    try {
      py::gil_scoped_acquire gil;
      if (PyErr_CheckSignals() != 0) {
        fetch_into(pending);
        stop.store(true);
      } else if (!progress.is_none()) {
        try {
          progress(p.step, p.n_steps);
        } catch (py::error_already_set& e) {
          e.restore();
          fetch_into(pending);
          stop.store(true);
        }
      }
    } catch (...) {
      stop.store(true);
    }
  };

  const IslResult* prev = continue_from.is_none() ? nullptr : &continue_from.cast<const IslResult&>();
  Continuation cont;
  CallbackSink cb;
  cb.callback = callback;
  cb.stop = &stop;
  RunResult rr;
  {
    py::gil_scoped_release nogil;
    RunSetup s = build_setup(rc, network);
    const auto mark = [&](const char* what) {
      if (std::find(s.external.begin(), s.external.end(), what) == s.external.end()) s.external.push_back(what);
    };
    if (network) mark("network");
    if (!per_param.empty()) mark("params");
    if (!per_initial.empty()) mark("initial");
    s.command_line = "isletsim.simulate (Python)";
    if (!per_param.empty() || !per_initial.empty()) {
      apply_per_cell(s.problem.params, s.problem.initial, per_param, per_initial, s.problem.n_cells);
      check_problem(s.problem);
    }
    if (prev) cont = continue_setup(s, *prev, output);
    const unsigned cores = env::detect_cores().cores;
    if (nt == 0)
      nt = env::default_threads_now(s.problem.n_cells, cores, s.problem.the_model().states.size(),
                                    output ? writer_share_of(s) : 0.0,
                                    static_cast<unsigned>(s.problem.record_vars.size()), idle);
    opt.threads = nt;
    // With output= and a thread on every usable core, they compress the
    // samples themselves (as islet run).
    opt.encode_on_compute = output && env::encode_on_compute(nt, cores);
    if (callback_interval_s) {
      // Samples per block handed to the sink = per callback call.
      const double sample_s = static_cast<double>(s.problem.record_every) * s.problem.dt_ms * 1e-3;
      const double k = std::ceil(*callback_interval_s / sample_s - 1e-9);
      const double samples =
          static_cast<double>(s.problem.n_steps / std::max<std::uint64_t>(1, s.problem.record_every) + 1);
      s.problem.record_block = static_cast<std::size_t>(std::clamp(k, 1.0, samples));
    }
    static_cast<RunFileStatic&>(res) = file_static(s, nt);
    res.model = &s.problem.the_model();
    cb.names = res.var_names();
    cb.n_cells = s.problem.n_cells;
    // The samples stay in memory; with output= the same run_to_file as the
    // CLI's writes the file and hands every block on to them.
    MemorySink memory(s.problem.n_cells);
    SampleSink* sink = &memory;
    if (with_callback) {
      cb.inner = &memory;
      sink = &cb;
    }
    if (output) {
      // As islet run: its own inputs refused first, then an existing file
      // unless overwrite=True (a continued run extends its own file).
      check_output_is_new(s, *output, overwrite, !cont.in_place.empty(), "give overwrite=True");
      try {
        if (cont.on && !cont.in_place.empty())
          rr = run_to_file(s, *output, opt, sink);  // prev's own file: extended in place
        else
          rr = run_to_file(s, *output, opt, sink, cont.on ? &cont.prefix : nullptr);
      } catch (const InputError& e) {
        rethrow_input(e, {std::filesystem::path(*output).parent_path().string()});
      }
      res.path = *output;
    } else {
      rr = run_engine(s.problem, sink, opt);
    }
    res.time = std::move(memory.time_s);
    res.glucose = std::move(memory.glucose_mM);
    res.data = std::move(memory.data);
    res.data.resize(res.vars.size());
    if (cont.on) {  // the continued run's samples first
      res.time.insert(res.time.begin(), cont.prefix.time.begin(), cont.prefix.time.end());
      res.glucose.insert(res.glucose.begin(), cont.prefix.glucose.begin(), cont.prefix.glucose.end());
      for (std::size_t v = 0; v < res.data.size() && v < cont.prefix.data.size(); ++v)
        res.data[v].insert(res.data[v].begin(), cont.prefix.data[v].begin(), cont.prefix.data[v].end());
    }
    res.end_step = s.problem.start_step + rr.steps_done;
    res.end_step_ms = rr.next_step_ms;
    res.n_samples = res.time.size();
    // A Result run into a file holds what the file holds (what isl.load reads
    // back): float32 storage rounds the samples, as HDF5's conversion does.
    if (output && res.float32)
      for (auto& v : res.data)
        for (double& x : v) x = static_cast<double>(static_cast<float>(x));
  }
  res.status = status_text(rr.status);
  res.message = rr.message;
  if (cb.stop_requested && rr.status == RunResult::Status::interrupted)
    res.message = "stopped by the callback: " + rr.message;
  res.final_state = std::move(rr.final_state);
  res.steps_done = rr.steps_done;
  res.wall_s = rr.wall_s;
  const bool failed = rr.status == RunResult::Status::failed;
  py::object obj = make_result_object(std::move(res));
  if (cb.error.set()) {
    discard(pending);
    raise_with_result(cb.error, obj);
  }
  if (pending.set()) raise_with_result(pending, obj);
  if (failed) {
    PendingError pe;
    Py_INCREF(g_simulation_error);
    pe.type = g_simulation_error;
    pe.value = py::str(rr.message).release().ptr();
    raise_with_result(pe, obj);
  }
  return obj;
}
}  // namespace

void bind_simulate(py::module_& m) {
  m.def("simulate", &simulate, py::arg("config"), py::arg("network") = nullptr, py::arg("threads") = py::none(),
        py::arg("output") = py::none(), py::kw_only(), py::arg("params") = py::none(), py::arg("initial") = py::none(),
        py::arg("callback") = py::none(), py::arg("callback_interval_s") = py::none(), py::arg("progress") = py::none(),
        py::arg("continue_from") = py::none(), py::arg("overwrite") = false,
        R"doc(Run a simulation; returns a Result.

config: a Config. network: a Network to use instead of the config's [network]
section (None = build it from the config). threads: None = the count predicted
fastest from the islet's size, the idle cores and the recording, at most the
cores this process may use (as `islet run` without -j). output: also write the
HDF5 file there, as `islet run -o`: an existing file is kept and the run refused
(FileExistsError) unless overwrite=True.

params: {parameter name: (n_cells,) array} per-cell parameter values (units of
isletsim.params()). They are the final values: they replace whatever the config
gives that parameter (global value, cells.csv column, heterogeneity factors).
initial: {state name: (n_cells,) array} per-cell initial states (isletsim.states()).
Arrays are read as float64 and must have one finite value per cell (ValueError
naming the parameter and both lengths otherwise; KeyError for an unknown name).

callback: f(t, data) called during the run for online analysis, once per block
of recorded samples: t the block's sample times, (n,) float64 s; data {var:
(n, n_cells) float64} for each recorded variable (record.vars). Both are fresh
C-contiguous copies the callback may keep. The samples are those of the result
(every record.interval_ms); callback_interval_s sets the block length (None =
the engine's block, up to 1024 samples; the last block may be shorter). It runs
with the GIL held on the engine's writer thread while the simulation goes on
(the engine waits for it only when the next block is ready). If it returns True
the run stops (status 'interrupted'); if it raises, the run stops within a block
and the exception propagates with .result holding the data so far.

continue_from: a Result (of simulate, or isletsim.load of a run file) to go on
from: config must be that run's config with a longer sim.duration_s (and
record.checkpoint_s may differ). The run starts from the result's end state (a
loaded file: its last saved state), with its network and per-cell parameters,
and the returned Result holds the samples of both, the same bits as one run of
the whole duration. With output= it writes them all to that file (output =
the result's own file: extended in place).

progress: f(step, n_steps) called about every 1000 steps (at most every 50 ms)
with the GIL held; an exception from it stops the run and propagates.

The GIL is released while it runs. Ctrl-C stops it at the next sample and raises
KeyboardInterrupt with .result holding the data so far; a failed run (non-finite
state) raises SimulationError (a RuntimeError) with .result.)doc");
}

}  // namespace isletsim::binding
