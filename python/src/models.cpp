// The cell models for Python: isletsim.models(), params(model), states(model).
#include <string>
#include <tuple>
#include <vector>

#include "binding.hpp"

namespace isletsim::binding {

void bind_models(py::module_& m) {
  m.def(
      "_params",
      [](const std::string& model) {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : find_model(model).params) v.emplace_back(p.name, p.unit, p.default_value, p.description);
        return v;
      },
      py::arg("model") = "bertram2007", "Model parameters: (name, unit, default, description) tuples.");
  m.def(
      "_states",
      [](const std::string& model) {
        std::vector<std::tuple<std::string, std::string, double, std::string>> v;
        for (const auto& p : find_model(model).states) v.emplace_back(p.name, p.unit, p.initial, p.description);
        return v;
      },
      py::arg("model") = "bertram2007", "State variables: (name, unit, initial, description) tuples.");
  m.def(
      "_models",
      [] {
        py::list out;
        for (const ModelInfo* x : models()) {
          py::dict d;
          d["name"] = x->name, d["title"] = x->title, d["citation"] = x->citation, d["doi"] = x->doi;
          d["n_states"] = x->states.size(), d["n_params"] = x->params.size();
          py::list cpl;
          for (const auto& c : x->coupled)
            cpl.append(py::make_tuple(c.key, c.state, c.unit, c.default_value, c.description));
          d["coupling"] = cpl;
          d["spike_state"] = x->spike_state, d["spike_threshold"] = x->spike_threshold;
          d["calcium"] = x->calcium, d["stimulus"] = x->stimulus;
          d["dt_ms_rk4"] = x->dt_ms_rk4, d["dt_ms_euler"] = x->dt_ms_euler;
          out.append(d);
        }
        return out;
      },
      "The cell models: one dict each (name, title, citation, doi, coupling, ...).");
}

}  // namespace isletsim::binding
