#include <bit>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "isletsim/error.hpp"
#include "model/fastmath.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/rng.hpp"
#include "isletsim/simulation.hpp"

namespace isletsim {

#ifndef ISLETSIM_VERSION
#define ISLETSIM_VERSION "dev"
#endif
std::string version() { return ISLETSIM_VERSION; }

std::size_t record_block_for(std::size_t n_cells, std::size_t n_vars) {
  return std::bit_floor(std::clamp<std::size_t>((1u << 17) / std::max<std::size_t>(1, n_cells * n_vars), 1, 1024));
}

std::vector<std::pair<std::string, RunAttr>> run_attributes(const RunSetup& s, unsigned threads) {
  const RunConfig& c = s.config;
  return {{"program", std::string("isletsim")},
          {"version", version()},
          {"model", std::string(s.problem.the_model().name)},
          {"model_citation", std::string(s.problem.the_model().citation) + ". doi:" + s.problem.the_model().doi},
          {"config", to_toml(c)},
          {"seed", static_cast<std::int64_t>(c.seed)},
          {"integrator", c.integrator},
          {"dt_ms", c.dt_ms},
          {"record_interval_ms", c.record_interval_ms},
          {"n_cells", static_cast<std::int64_t>(s.problem.n_cells)},
          {"glucose_protocol", s.problem.glucose.describe()},
          {"threads", static_cast<std::int64_t>(threads)}};
}

double draw_factor(const Distribution& d, std::uint64_t seed, std::uint64_t cell, std::uint32_t stream,
                   std::uint32_t sub) {
  if (d.cv <= 0) return 1.0;
  CounterRng rng(seed, cell, stream, sub);
  if (d.dist == "lognormal") {
    const double s2 = fastmath::log(1.0 + d.cv * d.cv);
    return fastmath::exp(-0.5 * s2 + std::sqrt(s2) * rng.normal());
  }
  if (d.dist == "gamma") {
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
  if (c.network == "lattice") return make_lattice(c.nx, c.ny, c.nz, c.spacing_um);
  if (c.network == "csv")
    return load_network_csv(resolve(c, c.cells_csv), resolve(c, c.edges_csv), param_names(find_model(c.model)));
  SphereOptions o;
  o.n_cells = c.n_cells;
  o.seed = c.seed;
  if (c.cell_diameter_um > 0) o.cell_diameter_um = c.cell_diameter_um;
  if (c.contact_factor > 0) o.contact_factor = c.contact_factor;
  if (c.oversample > 0) o.oversample = c.oversample;
  return make_sphere(o);
}

}  // namespace

RunSetup build_setup(const RunConfig& cfg) { return build_setup(cfg, nullptr); }

RunSetup build_setup(const RunConfig& cfg, const Network* network) {
  RunSetup s;
  s.config = cfg;
  s.network = network ? *network : make_network(cfg);
  Network& net = s.network;
  const std::size_t n = net.n_cells();
  if (n == 0) throw InputError("the network has no cells");
  validate_network(net, "network");

  // Coupling weights: w_ij = network weight, times (g_i + g_j)/2 with a
  // per-cell conductance factor g (field notes: Gamma(4,4)-shaped, SD ~50%).
  if (cfg.weights == "per_cell") {
    std::vector<double> g(n);
    for (std::size_t i = 0; i < n; ++i)
      g[i] = draw_factor(cfg.cell_conductance, cfg.seed, i, static_cast<std::uint32_t>(RngStream::coupling), 0);
    for (std::size_t e = 0; e < net.n_edges(); ++e) net.edge_w[e] *= 0.5 * (g[net.edge_i[e]] + g[net.edge_j[e]]);
  }

  const ModelInfo& model = find_model(cfg.model);
  EngineProblem& p = s.problem;
  p = EngineProblem::defaults(model);
  p.n_cells = n;
  p.graph = build_csr(net);
  for (const auto& cv : model.coupled) p.coupling.push_back(cfg.coupling_value(cv.key));

  // Parameters: default, global override, per-cell column from cells.csv,
  // then the heterogeneity factor.
  for (const auto& [name, v] : cfg.params) p.params[*find_param(model, name)].uniform = v;
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
    const int k = *find_param(model, name);
    Column& col = p.params[k];
    std::vector<double> v(n);
    for (std::size_t i = 0; i < n; ++i)
      v[i] = col.at(i) * draw_factor(d, cfg.seed, i, static_cast<std::uint32_t>(RngStream::parameter),
                                     static_cast<std::uint32_t>(k));
    col.values = std::move(v);
  }
  for (const auto& [name, v] : cfg.initial) p.initial[*find_state(model, name)].uniform = v;

  p.glucose = cfg.glucose();
  p.integrator = integrator_from_string(cfg.integrator);
  p.dt_ms = cfg.dt_ms;
  p.n_steps = static_cast<std::uint64_t>(std::llround(cfg.duration_s * 1e3 / cfg.dt_ms));
  p.record_every = static_cast<std::uint64_t>(std::llround(cfg.record_interval_ms / cfg.dt_ms));
  for (const auto& v : cfg.record_vars) p.record_vars.push_back(*find_state(model, v));
  p.record_block = record_block_for(n, p.record_vars.size());
  check_problem(p);
  return s;
}

namespace {
struct H5Sink : SampleSink {
  H5Writer& w;
  explicit H5Sink(H5Writer& writer) : w(writer) {}
  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    w.append(n, t, g, d);
  }
};
}  // namespace

RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt) {
  const EngineProblem& p = s.problem;
  const RunConfig& c = s.config;
  H5WriterOptions wo;
  wo.path = path;
  wo.n_cells = p.n_cells;
  wo.float32 = c.record_dtype == "float32";
  wo.chunk_samples = p.record_block;
  const ModelInfo& model = p.the_model();
  for (int v : p.record_vars) {
    const auto& st = model.states[v];
    wo.vars.push_back({st.name, st.unit, st.description});
  }
  H5Writer w(wo);
  w.write_positions(s.network.x, s.network.y, s.network.z);
  w.write_edges(s.network.edge_i, s.network.edge_j, s.network.edge_w);
  for (std::size_t k = 0; k < model.params.size(); ++k) {
    const auto& info = model.params[k];
    std::vector<double> v(p.n_cells);
    for (std::size_t i = 0; i < p.n_cells; ++i) v[i] = p.params[k].at(i);
    w.write_cell_param(info.name, info.unit, info.description, v);
  }
  for (const auto& [name, value] : run_attributes(s, opt.threads))
    std::visit([&, &name = name](const auto& v) { w.set_attr(name, v); }, value);
  H5Sink sink(w);
  RunResult r = run_engine(p, &sink, opt);
  const char* status = r.status == RunResult::Status::complete      ? "complete"
                       : r.status == RunResult::Status::interrupted ? "interrupted"
                                                                    : "failed";
  w.finish(status, r.message);
  return r;
}

}  // namespace isletsim
