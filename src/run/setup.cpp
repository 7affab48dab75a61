// From a RunConfig to a RunSetup: the network, the coupling weights, the
// per-cell parameters (heterogeneity) and the EngineProblem. The engine itself
// knows no config; this is where a config becomes a problem.
#include <bit>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <algorithm>

#include <fmt/format.h>

#include "isletsim/domains.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "run/paths.hpp"
#include "core/fastmath.hpp"
#include "isletsim/rng.hpp"
#include "isletsim/simulation.hpp"
#include "isletsim/env.hpp"

namespace isletsim {

#ifndef ISLETSIM_VERSION
#define ISLETSIM_VERSION "dev"
#endif
std::string version() { return ISLETSIM_VERSION; }

std::size_t record_block_for(std::size_t n_cells, std::size_t n_vars, std::uint64_t landing_samples) {
  const std::size_t cap =
      std::bit_floor(std::clamp<std::size_t>((1u << 17) / std::max<std::size_t>(1, n_cells * n_vars), 1, 1024));
  if (landing_samples == 0) return cap;
  std::size_t best = 1;  // the largest divisor of landing_samples up to cap
  for (std::size_t d = 1; d <= cap; ++d)
    if (landing_samples % d == 0) best = d;
  return best;
}

std::uint64_t landing_samples_for(double record_interval_ms, std::size_t n_cells) {
  const double per_s = 1000.0 / record_interval_ms;
  if (per_s >= 1 && std::abs(per_s - std::round(per_s)) <= 1e-9 * per_s) return static_cast<std::uint64_t>(std::llround(per_s));
  return std::max<std::size_t>(64, record_block_for(n_cells, 1));
}

double writer_share_of(const RunSetup& s) {
  const EngineProblem& p = s.problem;
  if (p.record_vars.empty() || p.record_every == 0 || !(p.dt_ms > 0)) return 0;
  const double sample_ms = static_cast<double>(p.record_every) * p.dt_ms;
  // float64 samples: twice the bytes to shuffle and deflate (~1.5x the time).
  const double dtype = s.config.record_dtype == RecordType::float64 ? 1.5 : 1.0;
  const double values = static_cast<double>(p.record_vars.size()) * 1000.0 / sample_ms * dtype;
  double evals = 0;
  switch (p.integrator) {
    case Integrator::euler: evals = 1000.0 / p.dt_ms; break;
    case Integrator::rk4: evals = 4 * 1000.0 / p.dt_ms; break;
    case Integrator::dopri5: {
      // Six evaluations per step; the mean step of Bertram 2007's default
      // 1000-cell islet over 10 minutes at tolerance 1e-8 is 4.7 ms (2.2 ms
      // in its first minute, longer in the silent phases after), growing as
      // tolerance^(1/5); the stage combinations, error norm and dense output
      // add ~30% to the evaluations' cost.
      double h = 4.7 * std::pow(p.tolerance / 1e-8, 0.2);
      if (p.max_step_ms > 0) h = std::min(h, p.max_step_ms);
      evals = 1.3 * 6 * 1000.0 / h;
      break;
    }
  }
  // The state vectors a step reads and writes: y and its update, plus the
  // stage derivatives (RK4: 2 more, dopri5: 7 and the dense output's).
  const double vectors = p.integrator == Integrator::dopri5 ? 10 : p.integrator == Integrator::rk4 ? 4 : 2;
  const std::size_t states = p.the_model().states.size();
  const double bytes = static_cast<double>(p.n_cells) * static_cast<double>(states) * 8 * vectors;
  return env::writer_share(values, evals, states, bytes);
}

double draw_factor(const Distribution& d, std::uint64_t seed, std::uint64_t cell, std::uint32_t stream,
                   std::uint32_t sub) {
  if (d.cv <= 0) return 1.0;
  CounterRng rng(seed, cell, stream, sub);
  if (d.dist == DistKind::lognormal) {
    const double s2 = fastmath::log(1.0 + d.cv * d.cv);
    return fastmath::exp(-0.5 * s2 + std::sqrt(s2) * rng.normal());
  }
  if (d.dist == DistKind::gamma) {
    const double k = 1.0 / (d.cv * d.cv);
    return rng.gamma(k) / k;
  }
  // Normal truncated to positive values: redraw (the counter moves on).
  for (int i = 0; i < 1000; ++i) {
    const double x = 1.0 + d.cv * rng.normal();
    if (x > 0) return x;
  }
  throw InputError(fmt::format("heterogeneity cv = {} is too large for a positive normal factor", d.cv));
}

namespace {

std::string resolve(const RunConfig& c, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute() || c.base_dir.empty()) return p;
  return (std::filesystem::path(c.base_dir) / p).string();
}

Network make_network(const RunConfig& c) {
  if (c.network == NetworkKind::lattice) return make_lattice(c.nx, c.ny, c.nz, c.spacing_um);
  if (c.network == NetworkKind::csv)
    return load_network_csv(resolve(c, c.cells_csv), resolve(c, c.edges_csv), param_names(find_model(c.model)));
  SphereOptions o;
  o.n_cells = c.n_cells;
  o.seed = c.seed;
  if (c.cell_diameter_um > 0) o.cell_diameter_um = c.cell_diameter_um;
  if (c.contact_factor > 0) o.contact_factor = c.contact_factor;
  if (c.oversample > 0) o.oversample = c.oversample;
  return make_sphere(o);
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t b = 0;
  while (b < text.size()) {
    const std::size_t e = std::min(text.find(',', b), text.size());
    if (e > b) out.push_back(text.substr(b, e - b));
    b = e + 1;
  }
  return out;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// The network a run file stores: positions, edges and the effective
// weights (the per-cell conductance factors already applied).
Network stored_network(const H5Run& f) {
  Network net;
  net.x = f.x, net.y = f.y, net.z = f.z;
  net.edge_i = f.edge_i, net.edge_j = f.edge_j, net.edge_w = f.edge_w;
  return net;
}

// Per-cell values of `group` of `file` into the matching columns.
void stored_columns(const std::string& file, const std::string& group, const ModelInfo& model, bool states,
                    std::size_t n, std::vector<Column>& cols) {
  for (auto& [name, values] : read_cell_group(file, group)) {
    const auto k = states ? find_state(model, name) : find_param(model, name);
    if (!k)
      throw InputError(fmt::format("'{}': /{}/{} is not a {} of model {}", file, group, name,
                                   states ? "state" : "parameter", model.name));
    if (values.size() != n)
      throw InputError(fmt::format("'{}': /{}/{} has {} values for {} cells", file, group, name, values.size(), n));
    cols[*k].values = std::move(values);
  }
}

}  // namespace

RunSetup build_setup(const RunConfig& cfg) { return build_setup(cfg, nullptr); }

RunSetup build_setup(const RunConfig& cfg, const Network* network) {
  RunSetup s;
  s.config = cfg;
  // Re-running a run file: what that run took from arrays instead of its
  // config (a Python network=, params=, initial=) is read back from it.
  std::vector<std::string> stored;
  if (!cfg.rerun_file.empty()) {
    stored = split_list(read_run(cfg.rerun_file, false).attr("external_inputs"));
    // A network read from CSV files comes back from the run file too (with
    // the parameter columns those files gave): the file is the whole record
    // of the run, wherever it has been moved since.
    if (cfg.network == NetworkKind::csv)
      for (const char* part : {"network", "params"})
        if (!contains(stored, part)) stored.push_back(part);
  }
  const bool stored_net = !network && contains(stored, "network");
  if (stored_net) s.network = stored_network(read_run(cfg.rerun_file, false));
  else s.network = network ? *network : make_network(cfg);
  s.external = stored;
  Network& net = s.network;
  const std::size_t n = net.n_cells();
  if (n == 0) throw InputError("the network has no cells");
  validate_network(net, "network");

  // Coupling weights: w_ij = network weight, times (g_i + g_j)/2 with a
  // per-cell conductance factor g (field notes: Gamma(4,4)-shaped, SD ~50%).
  // A stored network holds these effective weights already.
  if (cfg.weights == WeightMode::per_cell) {
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i)
      g[i] = draw_factor(cfg.cell_conductance, cfg.seed, i, static_cast<std::uint32_t>(RngStream::coupling), 0);
    if (!stored_net)
      for (std::size_t e = 0; e < net.n_edges(); ++e) net.edge_w[e] *= 0.5 * (g[net.edge_i[e]] + g[net.edge_j[e]]);
    s.conductance_factor = std::move(g);
  }

  const ModelInfo& model = find_model(cfg.model);
  EngineProblem& p = s.problem;
  p = EngineProblem::defaults(model);
  p.n_cells = n;
  p.graph = build_csr(net);
  for (const auto& cv : model.coupled) p.coupling.push_back(cfg.coupling_value(cv.key));

  // Parameters: default, global override, per-cell column from cells.csv,
  // then the heterogeneity factor.
  // A RunConfig built in code (not parsed) may name what its model lacks:
  // the same message as the config checker's, never an unchecked index.
  const auto index = [&](std::optional<int> i, const char* key, const std::string& name) {
    if (!i)
      throw InputError(fmt::format("{}.{}: model {} has no {} '{}'", key, name, model.name,
                                   std::string(key) == "params" || std::string(key) == "heterogeneity"
                                       ? "parameter"
                                       : "state variable",
                                   name));
    return *i;
  };
  for (const auto& [name, v] : cfg.params) p.params[index(find_param(model, name), "params", name)].uniform = v;
  for (const auto& [name, values] : net.cell_params) {
    const auto k = find_param(model, name);
    if (!k) {
      const auto others = models_with_param(name);
      throw InputError("cells file: column '" + name + "' is not a parameter of model " + model.name +
                       (others.empty() ? std::string() : " (it is one of " + others.front() + ")") +
                       did_you_mean(name, param_names(model)));
    }
    p.params[*k].values = values;
  }
  for (const auto& [name, d] : cfg.heterogeneity) {
    if (d.cv <= 0) continue;
    const int k = index(find_param(model, name), "heterogeneity", name);
    Column& col = p.params[k];
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i)
      v[i] = col.at(i) * draw_factor(d, cfg.seed, i, static_cast<std::uint32_t>(RngStream::parameter),
                                     static_cast<std::uint32_t>(k));
    col.values = std::move(v);
  }
  // [initial] from: the end state of another run (same model and cells),
  // then the config's single values over it.
  if (!cfg.initial_from.empty()) {
    const std::string from = resolve(cfg, cfg.initial_from);
    const auto st = read_checkpoint(from);
    if (!st)
      throw InputError(fmt::format("initial.from: '{}' holds no saved state (a file of an older version, or a run "
                                   "stopped before its first checkpoint)",
                                   from));
    const H5Run other = read_run(from, false);
    if (other.attr("model") != model.name)
      throw InputError(fmt::format("initial.from: '{}' is a run of model {}, this run's model is {}", from,
                                   other.attr("model"), model.name));
    for (std::size_t k = 0; k < st->names.size(); ++k) {
      const auto idx = find_state(model, st->names[k]);
      if (!idx) throw InputError(fmt::format("initial.from: '{}' state '{}' is not a state of {}", from, st->names[k], model.name));
      if (st->state[k].size() != n)
        throw InputError(fmt::format("initial.from: '{}' holds {} cells, this network has {}", from,
                                     st->state[k].size(), n));
      p.initial[*idx].values = st->state[k];
    }
  }
  for (const auto& [name, v] : cfg.initial) {
    Column& col = p.initial[index(find_state(model, name), "initial", name)];
    col.uniform = v;
    col.values.clear();
  }
  if (contains(stored, "params")) stored_columns(cfg.rerun_file, "params", model, false, n, p.params);
  if (contains(stored, "initial")) stored_columns(cfg.rerun_file, "initial", model, true, n, p.initial);

  p.glucose = cfg.glucose();
  p.integrator = cfg.integrator;
  p.dt_ms = cfg.dt_ms;
  p.n_steps = static_cast<std::uint64_t>(std::llround(cfg.duration_s * 1e3 / cfg.dt_ms));
  p.record_every = static_cast<std::uint64_t>(std::llround(cfg.record_interval_ms / cfg.dt_ms));
  for (const auto& v : cfg.record_vars) p.record_vars.push_back(index(find_state(model, v), "record.vars", v));
  p.record_block = record_block_for(n, p.record_vars.size());
  if (is_adaptive(cfg.integrator)) {
    p.tolerance = cfg.tolerance;
    p.max_step_ms = cfg.max_step_ms;
    // Steps land on every whole second (or every L-th sample when the
    // interval does not divide a second): checkpoints are taken and a stop
    // request ends the run there, and a run of whole seconds continues to
    // the same bits as a longer one. Not on what is recorded: the same bits
    // whatever is. Blocks of samples (file chunks) divide it.
    const std::uint64_t spl = landing_samples_for(cfg.record_interval_ms, n);
    p.land_every = p.record_every * spl;
    p.record_block = record_block_for(n, p.record_vars.size(), spl);
  }
  if (cfg.record_dtype == RecordType::float32) p.finite_limit = std::numeric_limits<float>::max();
  check_param_domains(p, cfg, net, network != nullptr);
  check_problem(p);
  return s;
}

RunConfig config_of_run_file(const std::string& path, const std::vector<std::string>& sets) {
  const std::string text = read_run(path, false).attr("config");
  if (text.empty()) throw InputError("'" + path + "' holds no config attribute (not an isletsim output?)");
  RunConfig c = parse_config(text, path + " (config attribute)", sets);
  c.base_dir = std::filesystem::path(path).parent_path().string();
  c.source_path = path;
  c.rerun_file = path;
  return c;
}

RunSetup build_continuation(const std::string& path, const std::vector<std::string>& sets) {
  for (const std::string& set : sets) {
    const std::string key = set.substr(0, set.find('='));
    if (key != "sim.duration_s" && key != "record.checkpoint_s")
      throw InputError(fmt::format("--set {}: a continued run may change only sim.duration_s and "
                                   "record.checkpoint_s (anything else is a different run: start one from this "
                                   "file's end state with [initial] from = \"{}\")",
                                   key, path));
  }
  RunConfig cfg = config_of_run_file(path, sets);
  const auto st = read_checkpoint(path);
  if (!st)
    throw InputError(fmt::format("'{}' holds no saved state to continue from (a file of an older version, or a run "
                                 "stopped before its first checkpoint): run it again",
                                 path));
  RunSetup s = build_setup(cfg);
  EngineProblem& p = s.problem;
  const ModelInfo& model = p.the_model();
  for (std::size_t k = 0; k < st->names.size(); ++k) {
    const auto idx = find_state(model, st->names[k]);
    if (!idx || st->state[k].size() != p.n_cells)
      throw InputError(fmt::format("'{}': the saved state '{}' does not fit the run's model {} and {} cells", path,
                                   st->names[k], model.name, p.n_cells));
    p.initial[*idx].values = st->state[k];
  }
  if (st->names.size() != model.states.size())
    throw InputError(fmt::format("'{}': the saved state has {} variables, model {} has {}", path, st->names.size(),
                                 model.name, model.states.size()));
  p.start_step = st->step;
  p.first_sample = st->samples;
  p.start_step_ms = is_adaptive(p.integrator) ? st->step_ms : 0.0;
  if (p.n_steps < p.start_step)
    throw InputError(fmt::format("sim.duration_s = {} s ends before the saved state at t = {} s", cfg.duration_s,
                                 st->time_s));
  s.continues = path;
  check_problem(p);
  return s;
}

void check_output_path(const RunSetup& s, const std::string& output) {
  using run::same_file;
  const RunConfig& c = s.config;
  const auto refuse = [&](const std::string& what, const std::string& in) {
    if (same_file(output, in))
      throw InputError(fmt::format("the output '{}' is {} ('{}'): a run never overwrites its own input; "
                                   "choose another output with -o / record.file",
                                   output, what, in));
  };
  std::error_code ec;
  if (std::filesystem::is_directory(output, ec))
    throw InputError(fmt::format("the output '{}' is a directory; expected a file name such as run.h5", output));
  // A continued run writes the file it continues (in place), by design.
  if (!same_file(c.rerun_file, s.continues)) refuse("the run file it re-runs", c.rerun_file);
  if (!same_file(c.source_path, s.continues)) refuse("the config file", c.source_path);
  if (!c.initial_from.empty()) refuse("the run it starts from (initial.from)", resolve(c, c.initial_from));
  if (c.network == NetworkKind::csv) {
    refuse("its cells file", resolve(c, c.cells_csv));
    refuse("its edges file", resolve(c, c.edges_csv));
  }
}

void check_output_is_new(const RunSetup& s, const std::string& output, bool overwrite, bool in_place,
                         const std::string& how) {
  check_output_path(s, output);
  std::error_code ec;
  if (!overwrite && !in_place && std::filesystem::exists(output, ec) && !std::filesystem::is_directory(output, ec))
    throw OutputExists(
        fmt::format("the output '{}' exists; a run does not replace an existing file (its data is "
                    "kept): choose another output, or {} to replace it",
                    output, how));
}

}  // namespace isletsim
