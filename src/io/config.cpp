// TOML configuration: parsing with strict checking, --set overrides, and the
// resolved config written back as TOML.
#include "isletsim/config.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "io/toml_util.hpp"

#include "isletsim/integrator.hpp"
#include "isletsim/error.hpp"
#include "isletsim/model.hpp"

namespace isletsim {

const char* to_string(DistKind d) {
  return d == DistKind::lognormal ? "lognormal" : d == DistKind::gamma ? "gamma" : "normal";
}
const char* to_string(NetworkKind k) {
  return k == NetworkKind::lattice ? "lattice" : k == NetworkKind::csv ? "csv" : "sphere";
}
const char* to_string(WeightMode w) { return w == WeightMode::network ? "network" : "per_cell"; }
const char* to_string(GlucoseMode m) {
  switch (m) {
    case GlucoseMode::constant: return "constant";
    case GlucoseMode::protocol: return "protocol";
    case GlucoseMode::fixed_jgk: return "fixed_jgk";
    default: return "step";
  }
}
const char* to_string(RecordType t) { return t == RecordType::float64 ? "float64" : "float32"; }
DistKind dist_from_string(const std::string& s) {
  for (DistKind d : {DistKind::normal, DistKind::lognormal, DistKind::gamma})
    if (s == to_string(d)) return d;
  throw InputError("unknown distribution '" + s + "' (expected normal, lognormal or gamma)" +
                   did_you_mean(s, {"normal", "lognormal", "gamma"}));
}

GlucoseProtocol RunConfig::glucose() const {
  GlucoseProtocol g;
  if (glucose_mode == GlucoseMode::fixed_jgk) {
    g.fixed_jgk = true;
  } else if (glucose_mode == GlucoseMode::constant) {
    g.G0_mM = level_mM;
  } else if (glucose_mode == GlucoseMode::step) {
    g.G0_mM = basal_mM;
    g.events.push_back({t_step_s, level_mM, 0.0, tau_s});
  } else {  // protocol
    g.G0_mM = basal_mM;
    g.events = events;
  }
  return g;
}

namespace {
std::vector<std::string> model_record_vars(const ModelInfo& m) {
  std::vector<std::string> v;
  if (*m.calcium) v.emplace_back(m.calcium);
  v.emplace_back(m.spike_state);
  return v;
}
std::vector<std::pair<std::string, Distribution>> model_heterogeneity(const ModelInfo& m) {
  std::vector<std::pair<std::string, Distribution>> v;
  for (const auto& h : m.default_heterogeneity) v.push_back({h.param, {dist_from_string(h.dist), h.cv}});
  return v;
}
// A config of model `name` with that model's defaults (heterogeneity,
// recorded variables).
void set_model(RunConfig& c, const ModelInfo& m) {
  c.model = m.name;
  c.integrator = m.default_integrator;
  c.heterogeneity = model_heterogeneity(m);
  c.record_vars = model_record_vars(m);
  c.analysis.variable = *m.calcium ? m.calcium : m.spike_state;
}
}  // namespace

RunConfig default_config() {
  RunConfig c;
  set_model(c, default_model());
  if (is_adaptive(c.integrator)) c.dt_ms = c.record_interval_ms;  // its grid
  return c;
}

double RunConfig::coupling_value(const std::string& key) const {
  for (const auto& [k, v] : coupling)
    if (k == key) return v;
  const ModelInfo& m = find_model(model);
  const auto i = find_coupled(m, key);
  if (!i) throw InputError("model " + model + " has no coupling coefficient '" + key + "'");
  return m.coupled[*i].default_value;
}

namespace {

const std::vector<std::string> kSections = {"model",   "sim",     "network", "coupling", "params", "heterogeneity",
                                            "initial", "glucose", "record",  "analysis", "summary"};

std::string where(const std::string& origin, const toml::node& n) {
  const auto& src = n.source();
  if (src.begin.line == 0) return origin;
  return fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column);
}

const char* type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    default: return "a date/time";
  }
}

// Reads one table's keys into a RunConfig, checking names and types.
class Reader {
 public:
  Reader(std::string origin, RunConfig& cfg) : origin_(std::move(origin)), cfg_(cfg) {}

  void read(const toml::table& root) {
    // The model first: the names [coupling], [params], [initial] and
    // [heterogeneity] accept are its names.
    if (const auto* mt = root.get("model"); mt && mt->is_table())
      if (const auto* name = mt->as_table()->get("name")) {
        const std::string n = string(*name, "model.name");
        try {
          set_model(cfg_, find_model(n));
        } catch (const InputError& e) {
          fail(*name, "model.name", e.what());
        }
      }
    model_ = &find_model(cfg_.model);
    for (auto&& [k, v] : root) {
      const std::string name(k.str());
      const auto* t = v.as_table();
      if (std::find(kSections.begin(), kSections.end(), name) == kSections.end())
        fail(v, name, "unknown section" + did_you_mean(name, kSections) + "; sections are " + join(kSections));
      if (!t) fail(v, name, std::string("expected a table [") + name + "], got " + type_name(v));
      section(name, *t);
    }
    refuse_unused(root);
  }

 private:
  // Keys that the network kind chosen does not read, and glucose events
  // outside a protocol, are refused, not ignored (network.n_cells with a
  // lattice would otherwise build the lattice's 1000 cells without a word).
  void refuse_unused(const toml::table& root) const {
    const auto check = [&](const char* sec, const char* chooser, const std::string& choice,
                           const std::vector<std::string>& used) {  // every key of [sec] but chooser is in used
      const auto* node = root.get(sec);
      const auto* t = node ? node->as_table() : nullptr;
      if (!t) return;
      for (auto&& [k, v] : *t) {
        const std::string name(k.str());
        if (name == chooser || std::find(used.begin(), used.end(), name) != used.end()) continue;
        fail(v, std::string(sec) + "." + name,
             fmt::format("not used with {}.{} = \"{}\" (which reads {}); remove it, or set {}.{}", sec, chooser, choice,
                         join(prefixed(sec, used)), sec, chooser));
      }
    };
    const RunConfig& c = cfg_;
    switch (c.network) {
      case NetworkKind::sphere:
        check("network", "kind", to_string(c.network), {"n_cells", "cell_diameter_um", "contact_factor", "oversample"});
        break;
      case NetworkKind::lattice:
        check("network", "kind", to_string(c.network), {"nx", "ny", "nz", "spacing_um"});
        break;
      default: check("network", "kind", to_string(c.network), {"cells", "edges"});
    }
    // [glucose]: run files store every key of the section whatever the mode
    // (they must run again as written), so only events, which only a
    // protocol reads, are refused elsewhere.
    if (c.glucose_mode != GlucoseMode::protocol && !c.events.empty()) {
      const toml::node* events = root.get("glucose")->as_table()->get("events");
      fail(*events, "glucose.events",
           fmt::format("not used with glucose.mode = \"{}\" (only mode = \"protocol\" reads events); remove "
                       "them, or set glucose.mode = \"protocol\"",
                       to_string(c.glucose_mode)));
    }
  }
  static std::vector<std::string> prefixed(const char* sec, const std::vector<std::string>& names) {
    std::vector<std::string> v;
    v.reserve(names.size());
    for (const auto& n : names) v.push_back(std::string(sec) + "." + n);
    return v;
  }

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& what) const {
    // A value that came from --set is located there, not in the file.
    for (std::size_t i = overrides_.size(); i-- > 0;) {  // the last --set of a key is the one taken
      const auto& [k, set] = overrides_[i];
      if (key == k || key.rfind(k + ".", 0) == 0 || key.rfind(k + "[", 0) == 0 || k.rfind(key + ".", 0) == 0)
        throw InputError(fmt::format("--set {}: {}: {}", set, key, what));
    }
    throw InputError(fmt::format("{}: {}: {}", where(origin_, n), key, what));
  }
  static std::string join(const std::vector<std::string>& v) {
    std::string s;
    for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
  }

  double number(const toml::node& n, const std::string& key) const {
    if (auto d = n.value<double>(); d && n.is_number()) {
      if (!std::isfinite(*d)) fail(n, key, "expected a finite number");
      return *d;
    }
    // A number too large for a double (1e400) is no TOML number: --set
    // then takes it as text. Say what it is.
    if (const auto t = n.value<std::string>(); t && n.is_string()) {
      char* end = nullptr;
      errno = 0;
      const double d = std::strtod(t->c_str(), &end);
      if (end != t->c_str() && *end == '\0' && errno == ERANGE && std::abs(d) > 1)
        fail(n, key, fmt::format("{} is out of the range of a double (about 1.8e308): expected a finite number", *t));
    }
    fail(n, key, std::string("expected a number, got ") + type_name(n));
  }
  double positive(const toml::node& n, const std::string& key) const {
    const double d = number(n, key);
    if (!(d > 0)) fail(n, key, fmt::format("{} is not allowed: expected a number > 0", d));
    return d;
  }
  double non_negative(const toml::node& n, const std::string& key) const {
    const double d = number(n, key);
    if (d < 0) fail(n, key, fmt::format("{} is not allowed: expected a number >= 0", d));
    return d;
  }
  double cv(const toml::node& n, const std::string& key) const {
    const double d = non_negative(n, key);
    if (d > kMaxCv) fail(n, key, fmt::format("cv = {} is not allowed: expected a coefficient of variation in [0, {}]", d, kMaxCv));
    return d;
  }
  double glucose(const toml::node& n, const std::string& key) const {
    const double d = non_negative(n, key);
    if (d > kMaxGlucose_mM)
      fail(n, key, fmt::format("{} mM is not allowed: expected a glucose level in [0, {}] mM", d, kMaxGlucose_mM));
    return d;
  }
  // A number of cells (or one lattice dimension): 1..kMaxConfigCells.
  std::uint64_t cells(const toml::node& n, const std::string& key) const {
    const std::uint64_t i = count(n, key);
    if (i > kMaxConfigCells)
      fail(n, key, fmt::format("{} is not allowed: expected 1..{} cells (each needs about 1 KB of memory)", i,
                               kMaxConfigCells));
    return i;
  }
  // Integers only: toml++'s value<int64_t>() of a float converts it, and one
  // beyond int64's range is undefined behaviour (found by fuzz_sweep: seed
  // = 2e111).
  std::uint64_t seed(const toml::node& n, const std::string& key) const {
    const auto i = n.is_integer() ? n.value<std::int64_t>() : std::nullopt;
    if (!n.is_integer() || !i || *i < 0)
      fail(n, key, std::string("expected an integer 0..9223372036854775807 (2^63 - 1), got ") +
                       (n.is_integer() ? fmt::format("{}", *i) : type_name(n)));
    return static_cast<std::uint64_t>(*i);
  }
  std::uint64_t count(const toml::node& n, const std::string& key) const {
    const auto i = n.is_integer() ? n.value<std::int64_t>() : std::nullopt;
    if (!n.is_integer() || !i) fail(n, key, std::string("expected an integer, got ") + type_name(n));
    if (*i <= 0) fail(n, key, fmt::format("{} is not allowed: expected an integer > 0", *i));
    return static_cast<std::uint64_t>(*i);
  }
  std::string string(const toml::node& n, const std::string& key) const {
    if (!n.is_string()) fail(n, key, std::string("expected a string, got ") + type_name(n));
    return *n.value<std::string>();
  }
  std::string path(const toml::node& n, const std::string& key) const {
    std::string s = string(n, key);
    if (s.empty()) fail(n, key, "expected a file name, got an empty string");
    return s;
  }
  std::string choice(const toml::node& n, const std::string& key, const std::vector<std::string>& options) const {
    std::string s = string(n, key);
    if (std::find(options.begin(), options.end(), s) == options.end())
      fail(n, key, "'" + s + "' is not one of " + join(options) + did_you_mean(s, options));
    return s;
  }
  Distribution distribution(const toml::node& n, const std::string& key) const {
    Distribution d;
    if (n.is_number()) {  // shorthand: name = 0.1 means {cv = 0.1}
      d.cv = cv(n, key);
      return d;
    }
    const auto* t = n.as_table();
    if (!t) fail(n, key, std::string("expected {cv = ..., dist = \"normal\"}, got ") + type_name(n));
    for (auto&& [k, v] : *t) {
      const std::string sub(k.str());
      if (sub == "cv")
        d.cv = cv(v, key + ".cv");
      else if (sub == "dist")
        d.dist = pick(v, key + ".dist", {DistKind::normal, DistKind::lognormal, DistKind::gamma});
      else
        fail(v, key + "." + sub, "unknown key" + did_you_mean(sub, {"cv", "dist"}) + "; expected cv, dist");
    }
    return d;
  }

  using Setter = std::function<void(const toml::node&, const std::string&)>;

  void keys(const std::string& sec, const toml::table& t, const std::map<std::string, Setter>& setters) {
    std::vector<std::string> names;
    for (const auto& [n, s] : setters) names.push_back(n);
    for (auto&& [k, v] : t) {
      const std::string name(k.str()), full = sec + "." + name;
      const auto it = setters.find(name);
      if (it == setters.end())
        fail(v, full, "unknown key" + did_you_mean(name, names) + "; [" + sec + "] takes " + join(names));
      it->second(v, full);
    }
  }

  void section(const std::string& sec, const toml::table& t) {
    RunConfig& c = cfg_;
    const ModelInfo& m = *model_;
    if (sec == "model") {
      keys(sec, t, {{"name", [&](auto&, auto&) {}}});  // read first (see read)
    } else if (sec == "sim") {
      keys(sec, t,
           {{"duration_s", [&](auto& v, auto& k) { c.duration_s = positive(v, k); }},
            {"integrator", [&](auto& v, auto& k) {
               c.integrator = pick(v, k, {Integrator::rk4, Integrator::euler, Integrator::dopri5});
             }},
            {"dt_ms", [&](auto& v, auto& k) { c.dt_ms = positive(v, k); }},
            {"tolerance", [&](auto& v, auto& k) {
               c.tolerance = positive(v, k);
               if (!(c.tolerance < 1e-1) || c.tolerance < 1e-13)
                 fail(v, k, fmt::format("{} is not allowed: expected a relative tolerance in [1e-13, 0.1)", c.tolerance));
             }},
            {"max_step_ms", [&](auto& v, auto& k) { c.max_step_ms = non_negative(v, k); }},
            {"seed", [&](auto& v, auto& k) { c.seed = seed(v, k); }}});
      dt_given_ = dt_given_ || t.contains("dt_ms");
      for (const char* key : {"tolerance", "max_step_ms"})
        if (t.contains(key)) adaptive_keys_.emplace_back(std::string("sim.") + key);
      integrator_given_ = integrator_given_ || t.contains("integrator");
    } else if (sec == "network") {
      keys(sec, t,
           {{"kind", [&](auto& v, auto& k) {
              c.network = pick(v, k, {NetworkKind::sphere, NetworkKind::lattice, NetworkKind::csv});
            }},
            {"n_cells", [&](auto& v, auto& k) { c.n_cells = cells(v, k); }},
            {"cell_diameter_um", [&](auto& v, auto& k) { c.cell_diameter_um = positive(v, k); }},
            {"contact_factor", [&](auto& v, auto& k) {
               c.contact_factor = positive(v, k);
               if (!(c.contact_factor > 1))
                 fail(v, k, fmt::format("{} is not allowed: expected a number > 1 (cells are at least one diameter "
                                        "apart, so a smaller factor couples nothing)", c.contact_factor));
             }},
            {"oversample", [&](auto& v, auto& k) {
               c.oversample = positive(v, k);
               if (!(c.oversample >= 1) || c.oversample > 1000)
                 fail(v, k, fmt::format("{} is not allowed: expected a number in [1, 1000] (oversample x n_cells "
                                        "spheres are packed)", c.oversample));
             }},
            {"nx", [&](auto& v, auto& k) { c.nx = cells(v, k); }},
            {"ny", [&](auto& v, auto& k) { c.ny = cells(v, k); }},
            {"nz", [&](auto& v, auto& k) { c.nz = cells(v, k); }},
            {"spacing_um", [&](auto& v, auto& k) { c.spacing_um = positive(v, k); }},
            {"cells", [&](auto& v, auto& k) { c.cells_csv = path(v, k); }},
            {"edges", [&](auto& v, auto& k) { c.edges_csv = path(v, k); }}});
    } else if (sec == "coupling") {
      std::map<std::string, Setter> setters{
          {"weights", [&](auto& v, auto& k) { c.weights = pick(v, k, {WeightMode::network, WeightMode::per_cell}); }},
          {"cell_conductance", [&](auto& v, auto& k) { c.cell_conductance = distribution(v, k); }}};
      for (const auto& cv : m.coupled) {
        const std::string key = cv.key;
        setters[key] = [&, key](auto& v, auto& k) { set(c.coupling, key, non_negative(v, k)); };
      }
      for (auto&& [k, v] : t) {  // a key of another model: say which
        const std::string name(k.str());
        if (setters.count(name)) continue;
        const auto others = models_with_coupling_key(name);
        if (!others.empty())
          fail(v, "coupling." + name,
               fmt::format("model {} has no coupling '{}' (it is a coupling of {}); {} couples {}", m.name, name,
                           join(others), m.name, join(coupled_keys(m))));
      }
      keys(sec, t, setters);
    } else if (sec == "params" || sec == "initial" || sec == "heterogeneity") {
      const bool is_state = sec == "initial";
      const auto names = is_state ? state_names(m) : param_names(m);
      for (auto&& [k, v] : t) {
        const std::string name(k.str()), full = sec + "." + name;
        if (is_state && name == "from") {
          c.initial_from = string(v, full);
          if (c.initial_from.empty()) fail(v, full, "expected the path of a run file (.h5)");
          continue;
        }
        if ((is_state ? find_state(m, name) : find_param(m, name)) == std::nullopt) {
          std::string other;
          if (!is_state)
            if (const auto o = models_with_param(name); !o.empty())
              other = fmt::format(" ('{}' is a parameter of {}, not of {}: set model.name to use it)", name,
                                  join(o), m.name);
          fail(v, full,
               std::string("unknown model ") + (is_state ? "state variable" : "parameter") + other +
                   did_you_mean(name, names) +
                   (is_state ? "; states of " + std::string(m.name) + " are " + join(names)
                             : "; `islet params --model " + std::string(m.name) + "` lists them"));
        }
        if (sec == "heterogeneity") {
          set(c.heterogeneity, name, distribution(v, full));
        } else {
          const double x = number(v, full);
          const auto& node = v;  // a structured binding: clang 14 does not capture one in a lambda
          const auto check = [&](const auto& info) {
            if (!in_domain(info.domain, x))
              fail(node, full, fmt::format("{} is not allowed: expected {} ({}, {})", x, describe(info.domain),
                                        info.description, info.unit));
          };
          if (is_state)
            check(m.states[*find_state(m, name)]);
          else
            check(m.params[*find_param(m, name)]);
          set(is_state ? c.initial : c.params, name, x);
        }
      }
    } else if (sec == "glucose") {
      keys(sec, t,
           {{"mode", [&](auto& v, auto& k) {
              c.glucose_mode = pick(v, k, {GlucoseMode::constant, GlucoseMode::step, GlucoseMode::protocol,
                                           GlucoseMode::fixed_jgk});
            }},
            {"basal", [&](auto& v, auto& k) { c.basal_mM = glucose(v, k); }},
            {"level", [&](auto& v, auto& k) { c.level_mM = glucose(v, k); }},
            {"t_step_s", [&](auto& v, auto& k) { c.t_step_s = non_negative(v, k); }},
            {"tau_s", [&](auto& v, auto& k) { c.tau_s = non_negative(v, k); }},
            {"events", [&](auto& v, auto& k) { c.events = events(v, k); }}});
    } else if (sec == "analysis") {
      analysis_section(t);
    } else if (sec == "summary") {  // the sweep summary's window (checked in check_consistency)
      keys(sec, t,
           {{"from_s", [&](auto& v, auto& k) { c.summary_from_s = non_negative(v, k); }},
            {"to_s", [&](auto& v, auto& k) { c.summary_to_s = positive(v, k); }}});
    } else if (sec == "record") {
      keys(sec, t,
           {{"vars", [&](auto& v, auto& k) { c.record_vars = state_list(v, k); }},
            {"interval_ms", [&](auto& v, auto& k) { c.record_interval_ms = positive(v, k); }},
            {"file", [&](auto& v, auto& k) {
               c.output = string(v, k);
               if (c.output.empty()) fail(v, k, "expected an output file name, got an empty string");
             }},
            {"checkpoint_s", [&](auto& v, auto& k) { c.checkpoint_s = non_negative(v, k); }},
            {"dtype", [&](auto& v, auto& k) { c.record_dtype = pick(v, k, {RecordType::float32, RecordType::float64}); }}});
    }
  }

  // One of the config's enum choices, by its to_string name.
  template <class E>
  E pick(const toml::node& n, const std::string& key, std::initializer_list<E> values) const {
    std::vector<std::string> names;
    for (E e : values) names.push_back(isletsim::to_string(e));
    const std::string s = choice(n, key, names);
    return *(values.begin() + (std::find(names.begin(), names.end(), s) - names.begin()));
  }

  template <class E>
  E enum_choice(const toml::node& n, const std::string& key, std::initializer_list<E> values) const {
    std::vector<std::string> names;
    for (E e : values) names.push_back(analysis::to_string(e));
    const std::string s = choice(n, key, names);
    return *(values.begin() + (std::find(names.begin(), names.end(), s) - names.begin()));
  }
  // [low, high] in Hz, 0 <= low < high.
  void band(const toml::node& n, const std::string& key, double& low, double& high) const {
    const auto* a = n.as_array();
    if (!a || a->size() != 2) fail(n, key, "expected [low_hz, high_hz], e.g. [0.03, 1.2]");
    const double lo = non_negative((*a)[0], key + "[0]"), hi = positive((*a)[1], key + "[1]");
    if (!(lo < hi)) fail(n, key, fmt::format("the low edge {} Hz must be below the high edge {} Hz", lo, hi));
    low = lo, high = hi;
  }
  double fraction(const toml::node& n, const std::string& key) const {
    const double d = number(n, key);
    if (!(d >= 0 && d <= 1)) fail(n, key, fmt::format("{} is not allowed: expected a number in [0, 1]", d));
    return d;
  }

  void analysis_section(const toml::table& t) {
    using namespace analysis;
    Options& o = cfg_.analysis;
    keys("analysis", t,
         {{"variable", [&](auto& v, auto& k) { o.variable = state_name(v, k); }},
          {"from_s", [&](auto& v, auto& k) { o.from_s = non_negative(v, k); }},
          {"to_s", [&](auto& v, auto& k) { o.to_s = positive(v, k); }},
          {"resample_hz", [&](auto& v, auto& k) { o.sampling_hz = non_negative(v, k); }},
          {"detrend", [&](auto& v, auto& k) {
             o.detrend = enum_choice(v, k, {Detrend::none, Detrend::mean, Detrend::linear});
           }},
          {"band", [&](auto& v, auto& k) { o.band = enum_choice(v, k, {Band::raw, Band::fast, Band::slow}); }},
          {"fast_band", [&](auto& v, auto& k) { band(v, k, o.fast_low_hz, o.fast_high_hz); }},
          {"slow_band", [&](auto& v, auto& k) { band(v, k, o.slow_low_hz, o.slow_high_hz); }},
          {"filter_order", [&](auto& v, auto& k) {
             const auto i = count(v, k);
             if (i > 8) fail(v, k, fmt::format("{} is not allowed: expected 1..8", i));
             o.filter_order = static_cast<int>(i);
           }},
          {"smooth_s", [&](auto& v, auto& k) { o.smooth_s = non_negative(v, k); }},
          {"min_sd_rel", [&](auto& v, auto& k) { o.min_sd_rel = non_negative(v, k); }},
          {"binarize", [&](auto& v, auto& k) {
             o.binarize = enum_choice(v, k, {BinarizeMethod::half_amplitude, BinarizeMethod::slope,
                                             BinarizeMethod::prominence});
           }},
          {"slope_k", [&](auto& v, auto& k) { o.slope_k = positive(v, k); }},
          {"min_amplitude", [&](auto& v, auto& k) { o.min_amplitude = fraction(v, k); }},
          {"prominence", [&](auto& v, auto& k) { o.prominence = fraction(v, k); }},
          {"min_active_s", [&](auto& v, auto& k) { o.min_active_s = non_negative(v, k); }},
          {"stimulus_s", [&](auto& v, auto& k) { o.stimulus_s = non_negative(v, k); }},
          {"stimulus_rise_mM", [&](auto& v, auto& k) { o.stimulus_rise_mM = positive(v, k); }},
          {"baseline_s", [&](auto& v, auto& k) { o.baseline_s = positive(v, k); }},
          {"plateau_fraction", [&](auto& v, auto& k) { o.plateau_fraction = fraction(v, k); }},
          {"plateau_smooth_s", [&](auto& v, auto& k) { o.plateau_smooth_s = non_negative(v, k); }},
          {"similarity", [&](auto& v, auto& k) {
             o.similarity = enum_choice(v, k, {Similarity::correlation, Similarity::coactivity});
           }},
          {"k_avg", [&](auto& v, auto& k) { o.k_avg = positive(v, k); }},
          {"k_tolerance", [&](auto& v, auto& k) { o.k_tolerance = non_negative(v, k); }},
          {"threshold", [&](auto& v, auto& k) { o.threshold = number(v, k); }},
          {"hubs", [&](auto& v, auto& k) {
             o.hub_rule = enum_choice(v, k, {HubRule::fraction_of_max, HubRule::top_fraction});
           }},
          {"hub_fraction", [&](auto& v, auto& k) { o.hub_fraction = fraction(v, k); }},
          {"n_random", [&](auto& v, auto& k) {
             const auto i = count(v, k);
             if (i > 1000) fail(v, k, fmt::format("{} is not allowed: expected 1..1000", i));
             o.n_random = static_cast<int>(i);
           }},
          {"seed", [&](auto& v, auto& k) { o.seed = seed(v, k); }},
          {"distance_bin_um", [&](auto& v, auto& k) { o.distance_bin_um = positive(v, k); }},
          {"wave_dt_s", [&](auto& v, auto& k) { o.wave_dt_s = positive(v, k); }},
          {"wave_dist_um", [&](auto& v, auto& k) { o.wave_dist_um = positive(v, k); }},
          {"wave_min_size", [&](auto& v, auto& k) { o.wave_min_size = fraction(v, k); }},
          {"initiator_fraction", [&](auto& v, auto& k) { o.initiator_fraction = fraction(v, k); }}});
    if (!std::isnan(o.threshold) && !(o.threshold >= -1 && o.threshold <= 1))
      fail(*t.get("threshold"), "analysis.threshold",
           fmt::format("{} is not allowed: expected a similarity threshold in [-1, 1]", o.threshold));
    if (!std::isnan(o.from_s) && !std::isnan(o.to_s) && !(o.from_s < o.to_s))
      fail(t, "analysis.to_s", fmt::format("the window [{}, {}] s is empty: to_s must be above from_s", o.from_s, o.to_s));
  }

  template <class T>
  static void set(std::vector<std::pair<std::string, T>>& list, const std::string& name, T value) {
    for (auto& [n, v] : list)
      if (n == name) {
        v = value;
        return;
      }
    list.emplace_back(name, value);
  }

  // One state variable of the model, by name.
  std::string state_name(const toml::node& n, const std::string& key) const {
    const std::string s = string(n, key);
    if (!find_state(*model_, s)) {
      const auto names = state_names(*model_);
      fail(n, key, "unknown state variable '" + s + "'" + did_you_mean(s, names) + "; states are " + join(names));
    }
    return s;
  }

  std::vector<std::string> state_list(const toml::node& n, const std::string& key) const {
    const auto* a = n.as_array();
    if (!a) fail(n, key, std::string("expected an array of state names, got ") + type_name(n));
    std::vector<std::string> out;
    const auto names = state_names(*model_);
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string s = string((*a)[i], fmt::format("{}[{}]", key, i));
      if (!find_state(*model_, s))
        fail((*a)[i], fmt::format("{}[{}]", key, i),
             "unknown state variable '" + s + "'" + did_you_mean(s, names) + "; states are " + join(names));
      if (std::find(out.begin(), out.end(), s) != out.end())
        fail((*a)[i], fmt::format("{}[{}]", key, i), "'" + s + "' is listed twice: record each variable once");
      out.push_back(s);
    }
    if (out.empty()) fail(n, key, "record at least one variable");
    return out;
  }

  std::vector<GlucoseEvent> events(const toml::node& n, const std::string& key) const {
    const auto* a = n.as_array();
    if (!a) fail(n, key, std::string("expected an array of {t_s, G, ramp_s, tau_s} tables, got ") + type_name(n));
    std::vector<GlucoseEvent> out;
    for (std::size_t i = 0; i < a->size(); ++i) {
      const std::string k = fmt::format("{}[{}]", key, i);
      const auto* t = (*a)[i].as_table();
      if (!t) fail((*a)[i], k, "expected a table {t_s = ..., G = ...}");
      GlucoseEvent ev;
      bool has_t = false, has_g = false;
      for (auto&& [name, v] : *t) {
        const std::string s(name.str());
        if (s == "t_s") ev.t_s = non_negative(v, k + ".t_s"), has_t = true;
        else if (s == "G") ev.G_mM = glucose(v, k + ".G"), has_g = true;
        else if (s == "ramp_s") ev.ramp_s = non_negative(v, k + ".ramp_s");
        else if (s == "tau_s") ev.tau_s = non_negative(v, k + ".tau_s");
        else fail(v, k + "." + s, "unknown key" + did_you_mean(s, {"t_s", "G", "ramp_s", "tau_s"}) + "; expected t_s, G, ramp_s, tau_s");
      }
      if (!has_t || !has_g) fail((*a)[i], k, "each event needs t_s (s) and G (mM)");
      if (ev.ramp_s > 0 && ev.tau_s > 0)
        fail((*a)[i], k,
             "an event goes to its G at once, over a linear ramp (ramp_s) or exponentially (tau_s): "
             "not both");
      if (!out.empty() && !(ev.t_s > out.back().t_s))
        fail(
            (*a)[i], k,
            fmt::format("events must be in time order, one at a time ({} s comes after {} s)", ev.t_s, out.back().t_s));
      out.push_back(ev);
    }
    return out;
  }

  std::string origin_;
  RunConfig& cfg_;
  const ModelInfo* model_ = nullptr;

 public:
  std::vector<std::pair<std::string, std::string>> overrides_;  // (section.key, the --set text)
  bool dt_given_ = false, integrator_given_ = false;
  std::vector<std::string> adaptive_keys_;  // sim.tolerance, sim.max_step_ms where given
};

// Applies "a.b=value" on the TOML tree: the value is parsed as TOML, and
// taken as a plain string when it is not valid TOML (so sim.integrator=euler works).
void apply_override(toml::table& root, const std::string& set) {
  const auto eq = set.find('=');
  if (eq == std::string::npos || eq == 0)
    throw InputError("--set '" + set + "': expected key=value, e.g. --set coupling.gV=120");
  const std::string key = set.substr(0, eq), value = set.substr(eq + 1);
  const auto dot = key.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == key.size() || key.find('.', dot + 1) != std::string::npos)
    throw InputError("--set '" + set + "': expected section.key=value, e.g. --set sim.duration_s=600");
  const std::string sec = key.substr(0, dot), name = key.substr(dot + 1);
  const std::string src = "--set " + set;
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value, src);
  } catch (const toml::parse_error&) {
    std::string quoted;  // not TOML: take the text as a string
    for (char ch : value) quoted += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
    try {
      parsed = toml::parse("v = \"" + quoted + "\"", src);
    } catch (const toml::parse_error& e) {  // not a string either: control characters, invalid UTF-8
      throw InputError("--set '" + set + "': the value is neither TOML nor text (" + std::string(e.description()) + ")");
    }
  }
  if (!root.contains(sec)) root.insert(sec, toml::table{});
  auto* t = root.get(sec)->as_table();
  if (!t) throw InputError("--set '" + set + "': '" + sec + "' is not a table");
  parsed.get("v")->visit([&](auto&& x) { t->insert_or_assign(name, x); });
}

void check_consistency(const RunConfig& c, const std::string& origin,
                       const std::vector<std::pair<std::string, std::string>>& overrides) {
  const auto err = [&](const std::string& key, const std::string& what) {
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)  // the last --set of this key wins
      if (it->first == key) throw InputError(fmt::format("--set {}: {}: {}", it->second, key, what));
    throw InputError(fmt::format("{}: {}: {}", origin, key, what));
  };
  if (c.network == NetworkKind::csv && (c.cells_csv.empty() || c.edges_csv.empty()))
    err("network", "kind = \"csv\" needs both network.cells and network.edges");
  if (c.glucose_mode == GlucoseMode::protocol && c.events.empty())
    err("glucose.events", "mode = \"protocol\" needs a list of events [{t_s = ..., G = ...}, ...]");
  if (c.network == NetworkKind::lattice) {
    const double cells = static_cast<double>(c.nx) * static_cast<double>(c.ny) * static_cast<double>(c.nz);
    if (cells > static_cast<double>(kMaxConfigCells))
      err("network.nx", fmt::format("a lattice of nx x ny x nz = {} x {} x {} = {:.0f} cells is not allowed: expected "
                                    "at most {} cells (each needs about 1 KB of memory)",
                                    c.nx, c.ny, c.nz, cells, kMaxConfigCells));
  }
  if (c.network == NetworkKind::sphere && c.oversample > 0 &&
      std::ceil(c.oversample * static_cast<double>(c.n_cells)) > static_cast<double>(kMaxConfigCells))
    err("network.oversample", fmt::format("oversample x n_cells = {} x {} spheres is not allowed: expected at most {}",
                                          c.oversample, c.n_cells, kMaxConfigCells));
  const double ratio = c.record_interval_ms / c.dt_ms;
  if (ratio < 1.0 - 1e-9 || std::abs(ratio - std::round(ratio)) > 1e-6 * ratio)
    err("record.interval_ms", fmt::format("{} ms must be a whole multiple of sim.dt_ms = {} ms", c.record_interval_ms, c.dt_ms));
  if (ratio > kMaxSteps)
    err("record.interval_ms", fmt::format("{} ms is {:.3g} steps of sim.dt_ms = {} ms: expected at most 2^53 steps "
                                          "per sample", c.record_interval_ms, ratio, c.dt_ms));
  const double steps = c.duration_s * 1e3 / c.dt_ms;
  if (steps > kMaxSteps)
    err("sim.duration_s", fmt::format("{} s is {:.3g} steps of sim.dt_ms = {} ms: expected at most 2^53 "
                                      "(9.0e15) steps", c.duration_s, steps, c.dt_ms));
  if (is_adaptive(c.integrator) && std::abs(steps - std::round(steps)) > 1e-6 * steps)
    err("sim.duration_s", fmt::format("{} s is not a whole number of record intervals (record.interval_ms = {} ms): "
                                      "integrator = \"{}\" ends on a sample", c.duration_s, c.dt_ms,
                                      to_string(c.integrator)));
  if (std::abs(steps - std::round(steps)) > 1e-6 * steps)
    err("sim.duration_s", fmt::format("{} s is not a whole number of steps of {} ms", c.duration_s, c.dt_ms));
  // [summary]: 0 <= from_s < to_s <= duration_s (unset: the second half).
  const bool from_set = !std::isnan(c.summary_from_s), to_set = !std::isnan(c.summary_to_s);
  const double from = from_set ? c.summary_from_s : 0.5 * c.duration_s, to = to_set ? c.summary_to_s : c.duration_s;
  if (to_set && to > c.duration_s)
    err("summary.to_s", fmt::format("{} s is after the end of the run (sim.duration_s = {} s)", to, c.duration_s));
  if (!(from < to))
    err(from_set ? "summary.from_s" : "summary.to_s",
        fmt::format("the window [{}, {}] s is empty: expected summary.from_s < summary.to_s <= sim.duration_s{}", from,
                    to, from_set ? "" : " (unset from_s: half the run)"));
}

}  // namespace

RunConfig parse_config(const std::string& text, const std::string& origin, const Overrides& sets) {
  toml::table root = parse_toml(text, origin);
  for (const auto& s : sets) apply_override(root, s);
  RunConfig c = default_config();
  Reader r(origin, c);
  for (const auto& s : sets) r.overrides_.emplace_back(s.substr(0, s.find('=')), s);
  r.read(root);
  // dopri5 chooses its steps: its grid is the record interval; the keys of
  // the adaptive integrator are refused with the fixed-step ones.
  if (is_adaptive(c.integrator)) {
    if (r.dt_given_)
      throw InputError(fmt::format("{}: sim.dt_ms is the step of the fixed-step integrators; integrator = \"{}\" "
                                   "chooses its own (set sim.tolerance, and sim.max_step_ms for the largest step)",
                                   origin, to_string(c.integrator)));
    c.dt_ms = c.record_interval_ms;
  } else if (!r.adaptive_keys_.empty()) {
    throw InputError(fmt::format("{}: {} applies to integrator = \"dopri5\" only (this run's is \"{}\")", origin,
                                 r.adaptive_keys_.front(), to_string(c.integrator)));
  }
  // No step given: the model's default step for the integrator.
  if (!r.dt_given_ && !is_adaptive(c.integrator)) {
    const ModelInfo& m = find_model(c.model);
    c.dt_ms = c.integrator == Integrator::euler ? m.dt_ms_euler : m.dt_ms_rk4;
  }
  check_consistency(c, origin, r.overrides_);
  return c;
}

void check_not_directory(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InputError("'" + path + "' is a directory; expected a TOML config file or an isletsim .h5 file");
}

RunConfig load_config(const std::string& path, const Overrides& sets) {
  // A directory opens as an empty stream on Linux: it would run the built-in default.
  check_not_directory(path);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  RunConfig c = parse_config(ss.str(), path, sets);
  c.base_dir = std::filesystem::path(path).parent_path().string();
  c.source_path = path;
  return c;
}

toml::table analysis_toml(const analysis::Options& o);

std::string to_toml(const RunConfig& c, bool every_key) {
  const auto dist = [](const Distribution& d) { return toml::table{{"dist", to_string(d.dist)}, {"cv", d.cv}}; };
  toml::table net{{"kind", to_string(c.network)}};
  if (c.network == NetworkKind::sphere) {
    net.insert("n_cells", static_cast<std::int64_t>(c.n_cells));
    if (c.cell_diameter_um > 0) net.insert("cell_diameter_um", c.cell_diameter_um);
    if (c.contact_factor > 0) net.insert("contact_factor", c.contact_factor);
    if (c.oversample > 0) net.insert("oversample", c.oversample);
  } else if (c.network == NetworkKind::lattice) {
    net.insert("nx", static_cast<std::int64_t>(c.nx));
    net.insert("ny", static_cast<std::int64_t>(c.ny));
    net.insert("nz", static_cast<std::int64_t>(c.nz));
    net.insert("spacing_um", c.spacing_um);
  } else {
    net.insert("cells", c.cells_csv);
    net.insert("edges", c.edges_csv);
  }
  // Keys whose default depends on the model (time step, coupling
  // coefficients, heterogeneity, recorded and analysed variables) are written
  // only where the config departs from the model's defaults: the text then
  // reads back as the same config, and switching model.name (a sweep over
  // models, --set) gives the new model's defaults, not the old model's names.
  const ModelInfo& model = find_model(c.model);
  toml::table coupling;
  for (const auto& [k, v] : c.coupling) coupling.insert(k, v);
  if (every_key)
    for (const auto& cv : model.coupled) coupling.insert(cv.key, c.coupling_value(cv.key));  // (kept where set)
  coupling.insert("weights", to_string(c.weights));
  coupling.insert("cell_conductance", dist(c.cell_conductance));
  toml::table params, het, init;
  for (const auto& [n, v] : c.params) params.insert(n, v);
  const auto het_default = model_heterogeneity(model);
  const auto same_dist = [](const Distribution& a, const Distribution& b) { return a.dist == b.dist && a.cv == b.cv; };
  const bool het_is_default =
      c.heterogeneity.size() == het_default.size() &&
      std::equal(c.heterogeneity.begin(), c.heterogeneity.end(), het_default.begin(), [&](const auto& a, const auto& b) {
        return a.first == b.first && same_dist(a.second, b.second);
      });
  if (every_key || !het_is_default) {
    for (const auto& [n, d] : c.heterogeneity) het.insert(n, dist(d));
    for (const auto& [n, d] : het_default)  // a default the config removed
      if (!het.contains(n)) het.insert(n, dist(Distribution(d.dist, 0.0)));
  }
  for (const auto& [n, v] : c.initial) init.insert(n, v);
  if (!c.initial_from.empty()) init.insert("from", c.initial_from);
  toml::array events;
  for (const auto& e : c.events)
    events.push_back(toml::table{{"t_s", e.t_s}, {"G", e.G_mM}, {"ramp_s", e.ramp_s}, {"tau_s", e.tau_s}});
  toml::array vars;
  for (const auto& v : c.record_vars) vars.push_back(v);
  const double dt_default =
      c.integrator == Integrator::euler ? model.dt_ms_euler : model.dt_ms_rk4;
  // The integrator, its step and tolerance only where they differ from the
  // model's defaults (as the keys of every section): a sweep over
  // model.name then gives each model its own.
  toml::table sim{{"duration_s", c.duration_s}, {"seed", static_cast<std::int64_t>(c.seed)}};
  if (every_key || c.integrator != model.default_integrator) sim.insert("integrator", to_string(c.integrator));
  if (is_adaptive(c.integrator)) {
    if (every_key || c.tolerance != RunConfig{}.tolerance) sim.insert("tolerance", c.tolerance);
    if (every_key || c.max_step_ms > 0) sim.insert("max_step_ms", c.max_step_ms);
  } else if (every_key || c.dt_ms != dt_default) {
    sim.insert("dt_ms", c.dt_ms);
  }
  toml::table record{{"interval_ms", c.record_interval_ms},
                     {"file", c.output},
                     {"dtype", to_string(c.record_dtype)},
                     {"checkpoint_s", c.checkpoint_s}};
  if (every_key || c.record_vars != model_record_vars(model)) record.insert("vars", vars);
  toml::table root{
      {"model", toml::table{{"name", c.model}}},
      {"sim", sim},
      {"network", net},
      {"coupling", coupling},
      {"params", params},
      {"heterogeneity", het},
      {"initial", init},
      {"glucose", toml::table{{"mode", to_string(c.glucose_mode)}, {"basal", c.basal_mM}, {"level", c.level_mM},
                              {"t_step_s", c.t_step_s}, {"tau_s", c.tau_s}, {"events", events}}},
      {"record", record},
  };
  toml::table an = analysis_toml(c.analysis);
  if (!every_key && c.analysis.variable == (*model.calcium ? model.calcium : model.spike_state)) an.erase("variable");
  root.insert("analysis", an);
  toml::table summary;  // only what is set: unset keeps a config's text as before
  if (!std::isnan(c.summary_from_s)) summary.insert("from_s", c.summary_from_s);
  if (!std::isnan(c.summary_to_s)) summary.insert("to_s", c.summary_to_s);
  if (!summary.empty()) root.insert("summary", summary);
  std::stringstream ss;
  ss << root << "\n";
  return ss.str();
}

toml::table analysis_toml(const analysis::Options& o) {
  using analysis::to_string;
  toml::table t{{"variable", o.variable},
                {"resample_hz", o.sampling_hz},
                {"detrend", to_string(o.detrend)},
                {"band", to_string(o.band)},
                {"fast_band", toml::array{o.fast_low_hz, o.fast_high_hz}},
                {"slow_band", toml::array{o.slow_low_hz, o.slow_high_hz}},
                {"filter_order", o.filter_order},
                {"smooth_s", o.smooth_s},
                {"min_sd_rel", o.min_sd_rel},
                {"binarize", to_string(o.binarize)},
                {"slope_k", o.slope_k},
                {"min_amplitude", o.min_amplitude},
                {"prominence", o.prominence},
                {"min_active_s", o.min_active_s},
                {"stimulus_rise_mM", o.stimulus_rise_mM},
                {"baseline_s", o.baseline_s},
                {"plateau_fraction", o.plateau_fraction},
                {"plateau_smooth_s", o.plateau_smooth_s},
                {"similarity", to_string(o.similarity)},
                {"k_avg", o.k_avg},
                {"k_tolerance", o.k_tolerance},
                {"hubs", to_string(o.hub_rule)},
                {"hub_fraction", o.hub_fraction},
                {"n_random", o.n_random},
                {"seed", static_cast<std::int64_t>(o.seed)},
                {"distance_bin_um", o.distance_bin_um},
                {"wave_dt_s", o.wave_dt_s},
                {"wave_dist_um", o.wave_dist_um},
                {"wave_min_size", o.wave_min_size},
                {"initiator_fraction", o.initiator_fraction}};
  // Unset choices (the whole recording, the file's glucose step, the k_avg
  // rule) are left out rather than written as nan.
  if (!std::isnan(o.from_s)) t.insert("from_s", o.from_s);
  if (!std::isnan(o.to_s)) t.insert("to_s", o.to_s);
  if (!std::isnan(o.stimulus_s)) t.insert("stimulus_s", o.stimulus_s);
  if (!std::isnan(o.threshold)) t.insert("threshold", o.threshold);
  return t;
}

std::string analysis_to_toml(const analysis::Options& o) {
  std::stringstream ss;
  ss << toml::table{{"analysis", analysis_toml(o)}} << "\n";
  return ss.str();
}

std::vector<std::string> config_keys() {
  std::vector<std::string> keys = {"model.name", "sim.duration_s", "sim.integrator", "sim.dt_ms", "sim.seed",
                                   "network.kind", "network.n_cells", "network.cell_diameter_um",
                                   "network.contact_factor", "network.oversample", "network.nx", "network.ny",
                                   "network.nz", "network.spacing_um", "network.cells", "network.edges"};
  for (const ModelInfo* m : models())  // every model's coupling keys, once
    for (const auto& cv : m->coupled)
      if (std::find(keys.begin(), keys.end(), std::string("coupling.") + cv.key) == keys.end())
        keys.push_back(std::string("coupling.") + cv.key);
  for (const char* k : {"coupling.weights", "coupling.cell_conductance", "params.<name>", "heterogeneity.<name>",
                        "initial.<state>", "glucose.mode", "glucose.basal", "glucose.level", "glucose.t_step_s",
                        "glucose.tau_s", "glucose.events", "record.vars", "record.interval_ms", "record.file",
                        "record.dtype", "record.checkpoint_s", "initial.from", "analysis.<key> (docs/analysis.md)",
                        "summary.from_s", "summary.to_s"})
    keys.emplace_back(k);
  return keys;
}

}  // namespace isletsim
