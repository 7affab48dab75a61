// From a RunSetup to a file: the one place that lays out a run's HDF5 output
// (docs/hdf5-layout.md). The CLI, the sweep tasks and Python's
// simulate(output=...) run through run_to_file; Python's Result.save writes
// the same static part with open_run_file, so every file is laid out alike.
#include <memory>

#include "isletsim/simulation.hpp"

namespace isletsim {

std::string status_text(RunResult::Status s) {
  return s == RunResult::Status::complete ? "complete" : s == RunResult::Status::interrupted ? "interrupted" : "failed";
}

std::vector<std::pair<std::string, RunAttr>> run_attributes(const RunSetup& s, unsigned threads) {
  const RunConfig& c = s.config;
  return {{"program", std::string("isletsim")},
          {"version", version()},
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
  for (int v : p.record_vars) {
    const auto& st = model.states[v];
    f.vars.push_back({st.name, st.unit, st.description});
  }
  f.attrs = run_attributes(s, threads);
  f.float32 = s.config.record_dtype == RecordType::float32;
  // From the sizes, not p.record_block: a caller may hand samples over in
  // other blocks (Python's callback interval) without changing the file.
  f.chunk_samples = record_block_for(p.n_cells, p.record_vars.size());
  return f;
}

std::unique_ptr<H5Writer> open_run_file(const std::string& path, const RunFileStatic& f) {
  H5WriterOptions wo;
  wo.path = path;
  wo.n_cells = f.n_cells;
  wo.float32 = f.float32;
  wo.chunk_samples = f.chunk_samples;
  wo.vars = f.vars;
  auto w = std::make_unique<H5Writer>(wo);
  w->write_positions(f.x, f.y, f.z);
  w->write_edges(f.edge_i, f.edge_j, f.edge_w);
  for (const auto& cp : f.params) w->write_cell_param(cp.name, cp.units, cp.description, cp.values);
  for (const auto& [name, value] : f.attrs)
    std::visit([&, &name = name](const auto& v) { w->set_attr(name, v); }, value);
  return w;
}

namespace {

// Appends each block to the file, then hands it on to `also` (if any): what
// `also` receives is always already in the file.
struct FileSink : SampleSink {
  H5Writer& w;
  SampleSink* also;
  FileSink(H5Writer& writer, SampleSink* next) : w(writer), also(next) {}
  void write(std::size_t n, const double* t, const double* g, const std::vector<const double*>& d) override {
    w.append(n, t, g, d);
    if (also) also->write(n, t, g, d);
  }
};

}  // namespace

RunResult run_to_file(const RunSetup& s, const std::string& path, const RunOptions& opt, SampleSink* also) {
  const std::unique_ptr<H5Writer> w = open_run_file(path, file_static(s, opt.threads));
  FileSink sink(*w, also);
  RunResult r = run_engine(s.problem, &sink, opt);
  w->finish(status_text(r.status), r.message);
  return r;
}

}  // namespace isletsim
