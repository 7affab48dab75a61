// Task hashes: what `islet sweep --resume` compares to tell a finished task
// whose config is still the sweep's from one run with another config (the
// swept values or the base changed since). The hash is FNV-1a 64 of the
// task's canonical config text (to_toml, record.file left out) and of the
// network it runs on when that is not made from the config text alone (the
// bytes of a CSV network's files; a network handed over by Python). It is
// stored in the task's file as the root attribute "task_hash".
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "io/h5_handle.hpp"
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::sweep {
namespace {

class Fnv1a64 {
 public:
  void add(const void* p, std::size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (std::size_t k = 0; k < n; ++k) h_ = (h_ ^ b[k]) * 0x100000001b3ULL;
  }
  void add(const std::string& s) {
    add_u64(s.size());  // length first: "ab"+"c" and "a"+"bc" differ
    add(s.data(), s.size());
  }
  void add_u64(std::uint64_t v) {  // little-endian, whatever the host
    for (int k = 0; k < 8; ++k) {
      const unsigned char b = static_cast<unsigned char>(v >> (8 * k));
      add(&b, 1);
    }
  }
  void add_double(double d) {
    std::uint64_t v;
    std::memcpy(&v, &d, sizeof v);
    add_u64(v);
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 0xcbf29ce484222325ULL;
};

std::string resolve(const RunConfig& c, const std::string& p) {
  if (p.empty() || std::filesystem::path(p).is_absolute() || c.base_dir.empty()) return p;
  return (std::filesystem::path(c.base_dir) / p).string();
}

// The string attribute `name` of the file's root ("" when absent).
std::string read_root_string(const std::string& file, const char* name) {
  using namespace h5;
  silence_hdf5();
  const Ctx ctx{file};
  const env::ReadingFile reading(file);
  const hid_t fid = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (fid < 0) return "";
  Handle f(fid, H5Fclose);
  if (H5Aexists(f.get(), name) <= 0) return "";
  Handle attr = ctx.own(H5Aopen(f.get(), name, H5P_DEFAULT), H5Aclose, std::string("open attribute ") + name);
  Handle type = ctx.own(H5Aget_type(attr.get()), H5Tclose, "get attribute type");
  if (H5Tget_class(type.get()) != H5T_STRING) return "";
  if (ctx.yes(H5Tis_variable_str(type.get()), "inspect attribute")) {
    char* p = nullptr;
    ctx.ok(H5Aread(attr.get(), type.get(), &p), std::string("read attribute ") + name);
    std::string v = p ? p : "";
    H5free_memory(p);
    return v;
  }
  std::string buf(H5Tget_size(type.get()), '\0');
  ctx.ok(H5Aread(attr.get(), type.get(), buf.data()), std::string("read attribute ") + name);
  return buf.substr(0, buf.find('\0'));
}

// "section.key" -> value as text, for the keys of a config's TOML text.
void flatten(const toml::table& t, const std::string& prefix, std::map<std::string, std::string>& out) {
  for (auto&& [k, v] : t) {
    const std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = v.as_table()) {
      flatten(*sub, key, out);
    } else if (const auto* d = v.as_floating_point()) {
      out[key] = fmt::format("{}", d->get());
    } else {
      std::stringstream ss;
      v.visit([&](auto&& x) { ss << x; });
      out[key] = ss.str();
    }
  }
}

std::map<std::string, std::string> flat_config(const std::string& text) {
  std::map<std::string, std::string> out;
  try {
    flatten(toml::parse(text), "", out);
  } catch (const toml::parse_error&) {
  }
  out.erase("record.file");
  return out;
}

}  // namespace

RunConfig task_config(const SweepSpec& spec, std::size_t i) {
  RunConfig cfg = parse_config(spec.base_text, spec.base_origin, task_overrides(spec, i));
  cfg.base_dir = spec.base_dir;
  cfg.output = task_file(spec, i);  // as recorded in the file's config attribute
  return cfg;
}

std::string config_hash(const RunConfig& cfg, const Network* network) {
  RunConfig c = cfg;
  c.output.clear();  // where the file goes does not change it
  Fnv1a64 h;
  h.add(std::string("isletsim task v1"));
  h.add(to_toml(c));
  if (network) {
    h.add(std::string("network"));
    for (const auto* v : {&network->x, &network->y, &network->z, &network->edge_w}) {
      h.add_u64(v->size());
      for (double d : *v) h.add_double(d);
    }
    for (const auto* v : {&network->edge_i, &network->edge_j}) {
      h.add_u64(v->size());
      for (std::uint32_t x : *v) h.add_u64(x);
    }
    for (const auto& [name, values] : network->cell_params) {
      h.add(name);
      h.add_u64(values.size());
      for (double d : values) h.add_double(d);
    }
  } else if (c.network == NetworkKind::csv) {
    for (const std::string* p : {&c.cells_csv, &c.edges_csv}) {
      std::ifstream in(resolve(cfg, *p), std::ios::binary);
      std::stringstream ss;
      if (in) ss << in.rdbuf();
      h.add(in ? std::string("file") : std::string("unreadable"));
      h.add(ss.str());
    }
  }
  return fmt::format("fnv1a64:{:016x}", h.value());
}

std::string task_hash(const SweepSpec& spec, std::size_t i) {
  return config_hash(task_config(spec, i), spec.network.get());
}

std::string stored_task_hash(const std::string& file) {
  try {
    return read_root_string(file, kTaskHashAttr);
  } catch (const std::exception&) {
    return "";
  }
}

void store_task_hash(const std::string& file, const std::string& hash) {
  using namespace h5;
  silence_hdf5();
  const Ctx ctx{file};
  Handle f = ctx.own(H5Fopen(file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose, "open to add the task hash");
  write_string_attr(ctx, f.get(), kTaskHashAttr, hash);
  if (f.close() < 0) ctx.fail("close");
}

std::string resume_reason(const SweepSpec& spec, std::size_t i) {
  const std::string file = task_file(spec, i);
  const std::string stored = stored_task_hash(file);
  if (stored.empty())
    return fmt::format("task {}: {} has no task hash (written before task hashes were stored); re-running", i,
                       std::filesystem::path(file).filename().string());
  const RunConfig cfg = task_config(spec, i);
  if (stored == config_hash(cfg, spec.network.get())) return "";
  // What changed, from the config stored in the file.
  const auto before = flat_config(read_root_string(file, "config")), now = flat_config(to_toml(cfg));
  std::vector<std::string> diffs;
  for (const auto& [k, v] : now) {
    const auto it = before.find(k);
    if (it == before.end())
      diffs.push_back(fmt::format("{} unset -> {}", k, v));
    else if (it->second != v)
      diffs.push_back(fmt::format("{} {} -> {}", k, it->second, v));
  }
  for (const auto& [k, v] : before)
    if (!now.contains(k)) diffs.push_back(fmt::format("{} {} -> unset", k, v));
  std::string what;
  if (diffs.empty()) {
    what = spec.network                      ? "the network given changed"
           : cfg.network == NetworkKind::csv ? "the network files changed"
                                             : "its config changed";
  } else {
    const std::size_t shown = std::min<std::size_t>(diffs.size(), 4);
    for (std::size_t k = 0; k < shown; ++k) what += (k ? ", " : "") + diffs[k];
    if (diffs.size() > shown) what += fmt::format(", and {} more", diffs.size() - shown);
    what = "config changed since it ran (" + what + ")";
  }
  return fmt::format("task {}: {}; re-running", i, what);
}

}  // namespace isletsim::sweep
