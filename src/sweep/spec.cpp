// Sweep files: a base run config and axes (grid, zip, sample), checked with
// file:line:column and key in every error, like src/io/config.cpp.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "io/toml_util.hpp"

#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"
#include "isletsim/rng.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::sweep {
namespace {

const std::vector<std::string> kTopKeys = {"base", "out_dir", "grid", "zip", "sample"};
const std::vector<std::string> kSections = {"model",         "sim",     "network", "coupling", "params",
                                            "heterogeneity", "initial", "glucose", "record",   "summary"};
const std::vector<std::string> kSampleKeys = {"method", "n", "seed"};

std::string where(const std::string& origin, const toml::node& n) {
  const auto& src = n.source();
  if (src.begin.line == 0) return origin;
  return fmt::format("{}:{}:{}", origin, src.begin.line, src.begin.column);
}

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (char ch : s) q += (ch == '"' || ch == '\\') ? std::string("\\") + ch : std::string(1, ch);
  return q + "\"";
}

std::string fmt_double(double d) {
  std::string s = fmt::format("{}", d);
  return s;
}

struct Component {
  std::vector<std::string> keys;
  std::vector<std::vector<Value>> points;
};

// The overrides of point i, given the base config (for heterogeneity.X.cv).
Overrides overrides_for(const RunConfig& base, const SweepSpec& s, std::size_t i) {
  Overrides out;
  // Three-part keys, merged per name: (name, {dist, cv} as TOML literals).
  std::vector<std::pair<std::string, std::pair<std::string, std::string>>> het;
  for (std::size_t k = 0; k < s.keys.size(); ++k) {
    const std::string& key = s.keys[k];
    const Value& v = s.points[i][k];
    const auto d1 = key.find('.'), d2 = key.find('.', d1 + 1);
    if (d2 == std::string::npos) {
      out.push_back(key + "=" + v.toml);
      continue;
    }
    const std::string name = key.substr(d1 + 1, d2 - d1 - 1), field = key.substr(d2 + 1);
    auto it = std::find_if(het.begin(), het.end(), [&](const auto& h) { return h.first == name; });
    if (it == het.end()) {
      Distribution d;
      for (const auto& [n, bd] : base.heterogeneity)
        if (n == name) d = bd;
      het.push_back({name, {quote(to_string(d.dist)), fmt_double(d.cv)}});
      it = het.end() - 1;
    }
    (field == "cv" ? it->second.second : it->second.first) = v.toml;
  }
  for (const auto& [name, d] : het)
    out.push_back(fmt::format("heterogeneity.{}={{dist = {}, cv = {}}}", name, d.first, d.second));
  return out;
}

// At most this many tasks in one sweep file (a bound on memory and checking
// time for any input; split larger studies into several files).
constexpr std::size_t kMaxTasks = 1000000;

struct Parser {
  std::string origin, dir;
  SweepSpec spec;
  RunConfig base_cfg;

  [[noreturn]] void fail(const toml::node& n, const std::string& key, const std::string& what) const {
    throw InputError(fmt::format("{}: {}: {}", where(origin, n), key, what));
  }

  Value value(const toml::node& n, const std::string& key) const {
    if (auto i = n.as_integer()) return {std::to_string(i->get()), std::to_string(i->get())};
    if (auto d = n.as_floating_point()) {
      if (!std::isfinite(d->get())) fail(n, key, "expected a finite number");
      return {fmt_double(d->get()), fmt_double(d->get())};
    }
    if (auto s = n.as_string()) return {quote(s->get()), s->get()};
    if (auto b = n.as_boolean()) return {b->get() ? "true" : "false", b->get() ? "true" : "false"};
    fail(n, key, "expected a number, string or boolean value");
  }

  // Checks that `key` is a config key and that value `v` is acceptable there.
  void check_key(const toml::node& n, const std::string& key, const std::string& where_key) {
    const auto dot = key.find('.');
    const std::string sec = key.substr(0, dot);
    if (dot == std::string::npos || dot + 1 == key.size())
      fail(n, where_key, "expected a config key section.key, e.g. \"coupling.gV\"");
    if (std::find(kSections.begin(), kSections.end(), sec) == kSections.end())
      fail(n, where_key, "unknown config section '" + sec + "'" + did_you_mean(sec, kSections));
    const std::string rest = key.substr(dot + 1);
    const auto dot2 = rest.find('.');
    if (dot2 != std::string::npos) {
      const std::string field = rest.substr(dot2 + 1);
      if (sec != "heterogeneity" || rest.find('.', dot2 + 1) != std::string::npos || (field != "cv" && field != "dist"))
        fail(n, where_key, "only heterogeneity.<name>.cv and heterogeneity.<name>.dist have three parts" +
                               (sec == "heterogeneity" ? did_you_mean(field, {"cv", "dist"}) : std::string()));
    }
  }

  void check_value(const toml::node& n, const std::string& key, const Value& v) {
    SweepSpec one;
    one.base_text = spec.base_text;
    one.keys = {key};
    one.points = {{v}};
    const Overrides ov = overrides_for(base_cfg, one, 0);
    try {
      parse_config(spec.base_text, spec.base_origin, ov);
    } catch (const InputError& e) {
      std::string msg = e.what();
      const std::string prefix = "--set " + ov.front() + ": ";
      if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
      throw InputError(fmt::format("{}: {}", where(origin, n), msg));
    }
  }

  // Flattens nested tables: grid.coupling.gV or "coupling.gV" = [...] -> ("coupling.gV", node).
  void flatten(const toml::table& t, const std::string& prefix, std::vector<std::pair<std::string, const toml::node*>>& out,
               const std::vector<std::string>& reserved) {
    for (auto&& [k, v] : t) {
      const std::string name = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
      if (prefix.empty() && std::find(reserved.begin(), reserved.end(), name) != reserved.end()) continue;
      if (auto* sub = v.as_table()) flatten(*sub, name, out, {});
      else out.emplace_back(name, &v);
    }
    std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
      return a.second->source().begin < b.second->source().begin;
    });
  }

  std::vector<Value> list(const std::string& table, const std::string& key, const toml::node& n) {
    const auto* a = n.as_array();
    if (!a) fail(n, table + "." + key, "expected a list of values, e.g. [0, 60, 120]");
    if (a->empty()) fail(n, table + "." + key, "empty list");
    std::vector<Value> out;
    for (auto&& e : *a) {
      out.push_back(value(e, table + "." + key));
      check_value(e, key, out.back());
    }
    return out;
  }

  void parse(const std::string& text) {
    const toml::table root = parse_toml(text, origin);
    for (auto&& [k, v] : root) {
      const std::string name(k.str());
      if (std::find(kTopKeys.begin(), kTopKeys.end(), name) == kTopKeys.end())
        fail(v, name, "unknown key" + did_you_mean(name, kTopKeys) + "; a sweep file takes base, out_dir, [grid], [zip], [sample]");
    }
    // Base config.
    const toml::node* base = root.get("base");
    if (!base)
      throw InputError(origin +
                       ": base: missing: give base = \"run.toml\" (relative to the sweep file) or a [base] table");
    if (auto* s = base->as_string()) {
      const std::filesystem::path p = std::filesystem::path(dir) / s->get();
      std::error_code ec;
      if (std::filesystem::is_directory(p, ec))
        fail(*base, "base", "'" + p.string() + "' is a directory; expected a run config (.toml) or a run file (.h5)");
      if (std::filesystem::equivalent(p, origin, ec))
        fail(*base, "base",
             "'" + p.string() + "' is this sweep file; expected a run config (.toml) or a run file (.h5)");
      std::ifstream in(p, std::ios::binary);
      if (!in) fail(*base, "base", "cannot open config file '" + p.string() + "'");
      std::stringstream ss;
      ss << in.rdbuf();
      spec.base_text = ss.str();
      spec.base_origin = spec.base_file = p.string();
      spec.base_dir = p.parent_path().string();
      // A run file (HDF5 signature): the config it holds, as `islet run
      // old.h5` runs it again.
      if (spec.base_text.rfind("\x89HDF\r\n\x1a\n", 0) == 0) {
        try {
          spec.base_text = read_run(p.string(), false).attr("config");
        } catch (const std::exception& e) {
          fail(*base, "base", e.what());
        }
        if (spec.base_text.empty())
          fail(*base, "base", "'" + p.string() + "' holds no config attribute (not an isletsim run file?)");
        spec.base_origin = p.string() + " (config attribute)";
      }
    } else if (auto* t = base->as_table()) {
      std::stringstream ss;
      ss << *t << "\n";
      spec.base_text = ss.str();
      spec.base_origin = origin + " [base]";
      spec.base_dir = dir;
    } else {
      fail(*base, "base", "expected a file name or a [base] table");
    }
    base_cfg = parse_config(spec.base_text, spec.base_origin);
    // Output directory.
    std::string out = "sweep_out";
    if (const toml::node* o = root.get("out_dir")) {
      if (!o->as_string()) fail(*o, "out_dir", "expected a directory name");
      out = o->as_string()->get();
    } else if (!spec.path.empty()) {
      out = std::filesystem::path(spec.path).stem().string() + "_out";
    }
    spec.out_dir = (std::filesystem::path(dir) / out).lexically_normal().string();

    // Components: each is a list of points over its own keys; the tasks are
    // their cartesian product (grid axes first, first axis slowest).
    std::vector<Component> comps;
    const auto table_of = [&](const char* name) -> const toml::table* {
      const toml::node* n = root.get(name);
      if (!n) return nullptr;
      if (!n->as_table()) fail(*n, name, std::string("expected a table [") + name + "]");
      return n->as_table();
    };
    if (const auto* g = table_of("grid")) {
      std::vector<std::pair<std::string, const toml::node*>> axes;
      flatten(*g, "", axes, {});
      for (const auto& [key, n] : axes) {
        check_key(*n, key, "grid." + key);
        Component c;
        c.keys = {key};
        for (auto& v : list("grid", key, *n)) c.points.push_back({v});
        comps.push_back(std::move(c));
      }
    }
    if (const auto* z = table_of("zip")) {
      std::vector<std::pair<std::string, const toml::node*>> axes;
      flatten(*z, "", axes, {});
      Component c;
      for (const auto& [key, n] : axes) {
        check_key(*n, key, "zip." + key);
        const auto vals = list("zip", key, *n);
        if (!c.keys.empty() && vals.size() != c.points.size())
          fail(*n, "zip." + key, fmt::format("{} values, but zip.{} has {}: zipped lists need the same length",
                                             vals.size(), c.keys.front(), c.points.size()));
        if (c.keys.empty()) c.points.resize(vals.size());
        c.keys.push_back(key);
        for (std::size_t i = 0; i < vals.size(); ++i) c.points[i].push_back(vals[i]);
      }
      if (!c.keys.empty()) comps.push_back(std::move(c));
    }
    if (const auto* s = table_of("sample")) comps.push_back(sample(*s));

    for (const auto& c : comps)
      for (const auto& k : c.keys) {
        if (std::find(spec.keys.begin(), spec.keys.end(), k) != spec.keys.end())
          throw InputError(fmt::format("{}: {}: swept twice (in two of grid, zip, sample)", origin, k));
        spec.keys.push_back(k);
      }
    std::size_t total = 1;
    for (const auto& c : comps) {
      if (c.points.size() > kMaxTasks / total)
        throw InputError(fmt::format("{}: more than {} tasks (grid x zip x sample); split the sweep into several files",
                                     origin, kMaxTasks));
      total *= c.points.size();
    }
    spec.points.resize(total);
    for (std::size_t i = 0; i < total; ++i) {
      std::size_t rem = i;
      std::vector<std::size_t> idx(comps.size());
      for (std::size_t c = comps.size(); c-- > 0;) {
        idx[c] = rem % comps[c].points.size();
        rem /= comps[c].points.size();
      }
      for (std::size_t c = 0; c < comps.size(); ++c)
        for (const auto& v : comps[c].points[idx[c]]) spec.points[i].push_back(v);
    }
  }

  // [sample]: method = "random" | "lhs", n, seed, and key = [lo, hi] ranges.
  Component sample(const toml::table& t) {
    std::string method = "lhs";
    std::int64_t n = 0, seed = 1;
    if (const toml::node* m = t.get("method")) {
      if (!m->as_string() || (m->as_string()->get() != "random" && m->as_string()->get() != "lhs"))
        fail(*m, "sample.method", "expected \"random\" or \"lhs\" (Latin hypercube)" +
                                      (m->as_string() ? did_you_mean(m->as_string()->get(), {"random", "lhs"}) : ""));
      method = m->as_string()->get();
    }
    const toml::node* nn = t.get("n");
    if (!nn) throw InputError(origin + ": sample.n: missing: the number of samples");
    if (!nn->as_integer() || nn->as_integer()->get() < 1) fail(*nn, "sample.n", "expected a positive integer");
    if (nn->as_integer()->get() > static_cast<std::int64_t>(kMaxTasks))
      fail(*nn, "sample.n", fmt::format("at most {} samples", kMaxTasks));
    n = nn->as_integer()->get();
    if (const toml::node* sd = t.get("seed")) {
      if (!sd->as_integer() || sd->as_integer()->get() < 0) fail(*sd, "sample.seed", "expected a non-negative integer");
      seed = sd->as_integer()->get();
    }
    std::vector<std::pair<std::string, const toml::node*>> axes;
    flatten(t, "", axes, kSampleKeys);
    Component c;
    c.points.resize(static_cast<std::size_t>(n));
    for (std::size_t a = 0; a < axes.size(); ++a) {
      const auto& [key, node] = axes[a];
      check_key(*node, key, "sample." + key);
      const auto* arr = node->as_array();
      double lo = 0, hi = 0;
      if (!arr || arr->size() != 2 || !(*arr)[0].is_number() || !(*arr)[1].is_number())
        fail(*node, "sample." + key, "expected a range [low, high] of two numbers");
      lo = (*arr)[0].value<double>().value();
      hi = (*arr)[1].value<double>().value();
      if (!(hi >= lo)) fail(*node, "sample." + key, "expected low <= high");
      // Latin hypercube: a seeded permutation of the n strata per axis.
      std::vector<std::size_t> perm(c.points.size());
      std::iota(perm.begin(), perm.end(), std::size_t{0});
      CounterRng prng(static_cast<std::uint64_t>(seed), a, static_cast<std::uint32_t>(RngStream::user), 1);
      for (std::size_t i = perm.size(); i-- > 1;) std::swap(perm[i], perm[prng.next_u64() % (i + 1)]);
      CounterRng rng(static_cast<std::uint64_t>(seed), a, static_cast<std::uint32_t>(RngStream::user), 0);
      for (std::size_t i = 0; i < c.points.size(); ++i) {
        const double u = method == "lhs" ? (static_cast<double>(perm[i]) + rng.uniform()) / static_cast<double>(n)
                                         : rng.uniform();
        const double x = lo + u * (hi - lo);
        const Value v{fmt_double(x), fmt_double(x)};
        check_value(*node, key, v);
        c.points[i].push_back(v);
      }
      c.keys.push_back(key);
    }
    if (c.keys.empty()) throw InputError(origin + ": sample: no ranges to sample, e.g. \"coupling.gV\" = [0, 200]");
    return c;
  }
};

}  // namespace

SweepSpec parse_sweep(const std::string& text, const std::string& origin, const std::string& dir) {
  Parser p;
  p.origin = origin;
  p.dir = dir;
  p.parse(text);
  return std::move(p.spec);
}

SweepSpec load_sweep(const std::string& path) {
  std::error_code ec;  // a directory opens as an empty stream on Linux
  if (std::filesystem::is_directory(path, ec))
    throw InputError("'" + path + "' is a directory; expected a sweep file (.toml, docs/sweeps.md)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError("cannot open sweep file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  Parser p;
  p.origin = path;
  p.dir = std::filesystem::path(path).parent_path().string();
  p.spec.path = path;
  p.parse(ss.str());
  return std::move(p.spec);
}

Overrides task_overrides(const SweepSpec& spec, std::size_t i) {
  bool three = false;
  for (const auto& k : spec.keys) three |= std::count(k.begin(), k.end(), '.') == 2;
  return overrides_for(three ? parse_config(spec.base_text, spec.base_origin) : RunConfig{}, spec, i);
}

std::string describe_point(const SweepSpec& spec, std::size_t i) {
  std::string s;
  for (std::size_t k = 0; k < spec.keys.size(); ++k)
    s += (k ? ", " : "") + spec.keys[k] + "=" + spec.points[i][k].display;
  return s.empty() ? "base config" : s;
}

std::string task_file(const SweepSpec& spec, std::size_t i) {
  return (std::filesystem::path(spec.out_dir) / fmt::format("task_{}.h5", i)).string();
}
std::string task_temp_file(const SweepSpec& spec, std::size_t i) {
  return (std::filesystem::path(spec.out_dir) / fmt::format("task_{}.h5.part", i)).string();
}

Shard parse_shard(const std::string& s) {
  const auto slash = s.find('/');
  Shard sh;
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    std::size_t a = 0, b = 0;
    const long k = std::stol(s.substr(0, slash), &a), n = std::stol(s.substr(slash + 1), &b);
    if (a != slash || b != s.size() - slash - 1 || n < 1 || k < 1 || k > n) throw std::invalid_argument("");
    sh.k = static_cast<unsigned>(k);
    sh.n = static_cast<unsigned>(n);
  } catch (const std::exception&) {
    throw InputError("--shard '" + s + "': expected K/N with 1 <= K <= N, e.g. --shard 3/10 (Slurm: --shard $SLURM_ARRAY_TASK_ID/N)");
  }
  return sh;
}

}  // namespace isletsim::sweep
