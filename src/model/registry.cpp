// The models isletsim knows: one line each (docs/models/adding.md).
#include <algorithm>
#include <cctype>
#include <vector>

#include "isletsim/error.hpp"
#include "isletsim/model.hpp"
#include "model/bertram2007/model.hpp"
#include "model/cha2011/model.hpp"
#include "model/pedersen2010/model.hpp"

namespace isletsim {

namespace {
// The built-in models: one line each.
std::vector<const ModelInfo*>& registry() {
  static std::vector<const ModelInfo*> r = {
      &bertram2007::model(),
      &cha2011::model(),
      &pedersen2010::model(),
  };
  return r;
}

bool valid_name(const char* s) {
  if (!s || !*s) return false;
  for (const char* p = s; *p; ++p)
    if (!(std::isalnum(static_cast<unsigned char>(*p)) || *p == '_')) return false;
  return true;
}
}  // namespace

std::span<const ModelInfo* const> models() { return registry(); }
const ModelInfo& default_model() { return *registry()[0]; }

void register_model(const ModelInfo& m) {
  const std::string name = m.name ? m.name : "";
  const auto bad = [&](const std::string& what) { throw InputError("model '" + name + "': " + what); };
  if (!valid_name(m.name)) bad("the name must be letters, digits and _");
  for (const ModelInfo* x : registry())
    if (name == x->name) bad("a model of this name is already registered");
  if (m.states.empty()) bad("no state variables");
  if (!m.kernel || !m.kernel->table) bad("no kernel");
  if (m.kernel->n_derived > 0 && !m.kernel->derive) bad("derived parameters but no derive function");
  std::vector<std::string> seen;
  for (const auto& x : m.states) seen.emplace_back(x.name);
  for (const auto& x : m.params) seen.emplace_back(x.name);
  for (const auto& n : seen)
    if (!valid_name(n.c_str()) || std::count(seen.begin(), seen.end(), n) != 1)
      bad("state and parameter names must be unique identifiers ('" + n + "')");
  if (m.coupled.size() > 4) bad("at most 4 coupled variables");
  for (const auto& c : m.coupled)
    if (!find_state(m, c.state)) bad(std::string("coupled variable of unknown state '") + c.state + "'");
  if (!find_state(m, m.spike_state)) bad(std::string("spike state '") + m.spike_state + "' is not a state");
  if (*m.calcium && !find_state(m, m.calcium)) bad(std::string("calcium state '") + m.calcium + "' is not a state");
  if (!(m.dt_ms_rk4 > 0) || !(m.dt_ms_euler > 0)) bad("default time steps must be > 0");
  for (const auto& p : m.params)
    if (!in_domain(p.domain, p.default_value))
      bad(std::string("the default of parameter '") + p.name + "' is outside its domain (" + describe(p.domain) + ")");
  for (const auto& x : m.states)
    if (!in_domain(x.domain, x.initial))
      bad(std::string("the initial value of state '") + x.name + "' is outside its domain (" + describe(x.domain) + ")");
  registry().push_back(&m);
}

const ModelInfo& find_model(const std::string& name) {
  std::vector<std::string> names;
  for (const ModelInfo* m : registry()) {
    if (name == m->name) return *m;
    names.emplace_back(m->name);
  }
  std::string all;
  for (const auto& n : names) all += (all.empty() ? "" : ", ") + n;
  throw InputError("unknown model '" + name + "'" + did_you_mean(name, names) + "; models are " + all +
                   " (`islet models` describes them)");
}

namespace {
template <class Table, class Get>
std::optional<int> index_of(const Table& t, const std::string& name, Get get) {
  for (std::size_t i = 0; i < t.size(); ++i)
    if (name == get(t[i])) return static_cast<int>(i);
  return std::nullopt;
}
}  // namespace

std::optional<int> find_param(const ModelInfo& m, const std::string& name) {
  return index_of(m.params, name, [](const ParamInfo& p) { return p.name; });
}
std::optional<int> find_state(const ModelInfo& m, const std::string& name) {
  return index_of(m.states, name, [](const StateInfo& s) { return s.name; });
}
std::optional<int> find_coupled(const ModelInfo& m, const std::string& key) {
  return index_of(m.coupled, key, [](const CoupledVarInfo& c) { return c.key; });
}
std::vector<std::string> param_names(const ModelInfo& m) {
  std::vector<std::string> v;
  for (const auto& p : m.params) v.emplace_back(p.name);
  return v;
}
std::vector<std::string> state_names(const ModelInfo& m) {
  std::vector<std::string> v;
  for (const auto& s : m.states) v.emplace_back(s.name);
  return v;
}
std::vector<std::string> coupled_keys(const ModelInfo& m) {
  std::vector<std::string> v;
  for (const auto& c : m.coupled) v.emplace_back(c.key);
  return v;
}
std::vector<std::string> models_with_param(const std::string& name) {
  std::vector<std::string> v;
  for (const ModelInfo* m : registry())
    if (find_param(*m, name)) v.emplace_back(m->name);
  return v;
}
std::vector<std::string> models_with_coupling_key(const std::string& name) {
  std::vector<std::string> v;
  for (const ModelInfo* m : registry())
    if (find_coupled(*m, name)) v.emplace_back(m->name);
  return v;
}

std::span<const ParamInfo> model_params() { return default_model().params; }
std::span<const StateInfo> model_states() { return default_model().states; }
std::vector<std::string> model_param_names() { return param_names(default_model()); }
std::vector<std::string> model_state_names() { return state_names(default_model()); }
std::optional<int> find_param(const std::string& name) { return find_param(default_model(), name); }
std::optional<int> find_state(const std::string& name) { return find_state(default_model(), name); }
double glucokinase_factor(double G_mM) { return bertram2007::glucokinase_factor(G_mM); }

}  // namespace isletsim
