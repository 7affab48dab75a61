// How many cores a run may use: the minimum over the affinity mask, the
// cgroup CPU quota (v2 and v1), OpenMP variables and batch-scheduler
// allocations. See "How many cores may a run use" in the field notes.
#include "isletsim/env.hpp"
#include "isletsim/error.hpp"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>
#include <thread>

namespace isletsim::env {
namespace {

namespace fs = std::filesystem;

// Whole file, or nullopt when it cannot be opened.
std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string_view trim(std::string_view s) {
  const auto ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// A decimal integer > 0 and nothing else (surrounding white space allowed).
std::optional<unsigned long long> parse_positive(std::string_view s) {
  s = trim(s);
  unsigned long long v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v == 0) return std::nullopt;
  return v;
}

std::string one_line(std::string_view s) {
  std::string out(trim(s));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

std::string format_limit(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  s.erase(s.find_last_not_of('0') + 1);
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string real_getenv(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// ---------------------------------------------------------------- affinity

std::string cpu_ranges(const cpu_set_t* set, std::size_t bytes, int ncpus) {
  std::string out;
  for (int c = 0; c < ncpus; ++c) {
    if (!CPU_ISSET_S(c, bytes, set)) continue;
    int e = c;
    while (e + 1 < ncpus && CPU_ISSET_S(e + 1, bytes, set)) ++e;
    if (!out.empty()) out += ',';
    out += std::to_string(c);
    if (e > c) out += '-' + std::to_string(e);
    c = e;
  }
  return out;
}

CoreSource affinity_source() {
  CoreSource src{"affinity", std::nullopt, ""};
  // Grow the set until the kernel's mask fits (machines with > 1024 CPUs).
  for (int ncpus = 1024; ncpus <= (1 << 22); ncpus *= 2) {
    cpu_set_t* set = CPU_ALLOC(ncpus);
    if (!set) break;
    const std::size_t bytes = CPU_ALLOC_SIZE(ncpus);
    CPU_ZERO_S(bytes, set);
    if (sched_getaffinity(0, bytes, set) == 0) {
      const int n = CPU_COUNT_S(bytes, set);
      src.limit = n;
      src.detail = "CPUs " + cpu_ranges(set, bytes, ncpus);
      const long online = sysconf(_SC_NPROCESSORS_ONLN);
      if (online > 0) src.detail += " (" + std::to_string(n) + " of " + std::to_string(online) + " online)";
      CPU_FREE(set);
      return src;
    }
    const int err = errno;
    CPU_FREE(set);
    if (err != EINVAL) {
      src.detail = std::string("sched_getaffinity failed: ") + std::strerror(err);
      return src;
    }
  }
  src.detail = "sched_getaffinity: mask too large";
  return src;
}

// ------------------------------------------------------------------ cgroup

// "/a/b/c" -> the directories base/a/b/c, base/a/b, base/a, base, deepest
// first. A path with ".." (outside our cgroup namespace) yields base only.
std::vector<std::string> cgroup_dirs(const std::string& base, std::string_view path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i <= path.size()) {
    std::size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (part == "..") {
      parts.clear();
      break;
    }
    if (!part.empty() && part != ".") parts.emplace_back(part);
    i = j + 1;
  }
  std::vector<std::string> dirs;
  for (std::size_t n = parts.size() + 1; n-- > 0;) {
    std::string d = base;
    for (std::size_t k = 0; k < n; ++k) d += "/" + parts[k];
    dirs.push_back(d);
  }
  return dirs;
}

// Quota/period -> limit and detail; quota == nullopt means unlimited.
void set_quota(CoreSource& src, std::string raw, std::optional<unsigned long long> quota,
               unsigned long long period) {
  src.detail = std::move(raw);
  if (!quota) {
    src.detail += " (unlimited)";
    return;
  }
  const double cores = double(*quota) / double(period);
  src.limit = cores;
  src.detail += " = " + format_limit(cores) + " cores";
  if (cores != std::floor(cores) || cores < 1)
    src.detail += " (rounded down to " + format_limit(std::max(1.0, std::floor(cores))) + ")";
}

// cgroup v2: cpu.max holds "QUOTA PERIOD" or "max PERIOD".
CoreSource cpu_max_source(const std::string& dir, const std::string& text) {
  CoreSource src{"cgroup v2 cpu.max (" + dir + ")", std::nullopt, ""};
  std::istringstream in(text);
  std::string q, p;
  in >> q >> p;
  const auto period = p.empty() ? std::optional<unsigned long long>(100000) : parse_positive(p);
  if (q == "max" && period) {
    set_quota(src, one_line(text), std::nullopt, *period);
  } else if (const auto quota = parse_positive(q); quota && period) {
    set_quota(src, one_line(text), quota, *period);
  } else {
    src.detail = "unparsable '" + one_line(text) + "', ignored";
  }
  return src;
}

void cgroup_v2_sources(const CoreProbe& probe, std::string_view path, std::vector<CoreSource>& out) {
  // On a hybrid host the v2 hierarchy is mounted at <root>/unified.
  std::string base = probe.cgroup_root;
  if (!fs::exists(base + "/cgroup.controllers") && fs::exists(base + "/unified/cgroup.controllers"))
    base += "/unified";
  bool any = false;
  for (const auto& dir : cgroup_dirs(base, path)) {
    if (const auto text = read_file(dir + "/cpu.max")) {
      out.push_back(cpu_max_source(dir, *text));
      any = true;
    }
  }
  if (!any)
    out.push_back({"cgroup v2 cpu.max", std::nullopt,
                   "no cpu.max from " + base + std::string(path) + " up to " + base});
}

// cgroup v1: cpu.cfs_quota_us (-1 = unlimited) over cpu.cfs_period_us.
CoreSource cfs_source(const std::string& dir, const std::string& quota_text) {
  CoreSource src{"cgroup v1 cpu.cfs_quota_us (" + dir + ")", std::nullopt, ""};
  const std::string period_text = read_file(dir + "/cpu.cfs_period_us").value_or("");
  const std::string raw = one_line(quota_text) + " / " + one_line(period_text);
  const auto period = parse_positive(period_text);
  if (!period) {
    src.detail = "no valid cpu.cfs_period_us (" + raw + "), ignored";
  } else if (trim(quota_text) == "-1") {
    set_quota(src, raw, std::nullopt, *period);
  } else if (const auto quota = parse_positive(quota_text)) {
    set_quota(src, raw, quota, *period);
  } else {
    src.detail = "unparsable quota (" + raw + "), ignored";
  }
  return src;
}

void cgroup_v1_sources(const CoreProbe& probe, std::string_view controllers, std::string_view path,
                       std::vector<CoreSource>& out) {
  const std::string& root = probe.cgroup_root;
  std::string mount;
  for (const std::string& cand : {root + "/" + std::string(controllers), root + "/cpu,cpuacct", root + "/cpu"}) {
    if (fs::is_directory(cand)) {
      mount = cand;
      break;
    }
  }
  if (mount.empty()) {
    out.push_back({"cgroup v1 cpu.cfs_quota_us", std::nullopt, "no cpu controller mounted under " + root});
    return;
  }
  bool any = false;
  for (const auto& dir : cgroup_dirs(mount, path)) {
    if (const auto text = read_file(dir + "/cpu.cfs_quota_us")) {
      out.push_back(cfs_source(dir, *text));
      any = true;
    }
  }
  if (!any)
    out.push_back({"cgroup v1 cpu.cfs_quota_us", std::nullopt,
                   "no cpu.cfs_quota_us from " + mount + std::string(path) + " up to " + mount});
}

void cgroup_sources(const CoreProbe& probe, std::vector<CoreSource>& out) {
  const auto text = read_file(probe.proc_self_cgroup);
  if (!text) {
    out.push_back({"cgroup", std::nullopt, "cannot read " + probe.proc_self_cgroup});
    return;
  }
  // Lines are "hierarchy-ID:controller-list:path"; v2 is "0::path".
  std::optional<std::string> v2_path, v1_controllers, v1_path;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    const auto c1 = line.find(':');
    const auto c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
    if (c2 == std::string::npos) continue;
    const std::string id = line.substr(0, c1), controllers = line.substr(c1 + 1, c2 - c1 - 1);
    const std::string path = line.substr(c2 + 1);
    if (id == "0" && controllers.empty()) {
      if (!v2_path) v2_path = path;
    } else if (!v1_path && ("," + controllers + ",").find(",cpu,") != std::string::npos) {
      v1_controllers = controllers;
      v1_path = path;
    }
  }
  if (v2_path)
    cgroup_v2_sources(probe, *v2_path, out);
  else
    out.push_back({"cgroup v2 cpu.max", std::nullopt, "no '0::' line in " + probe.proc_self_cgroup});
  if (v1_path)
    cgroup_v1_sources(probe, *v1_controllers, *v1_path, out);
  else
    out.push_back({"cgroup v1 cpu.cfs_quota_us", std::nullopt, "no cpu controller in " + probe.proc_self_cgroup});
}

// ------------------------------------------------------------- environment

CoreSource env_source(std::string (*getenv)(const char*), const char* name, bool first_of_list = false) {
  CoreSource src{name, std::nullopt, ""};
  const std::string raw = getenv(name);
  if (raw.empty()) {
    src.detail = "not set";
    return src;
  }
  std::string_view value = raw;
  if (first_of_list) value = value.substr(0, value.find(','));
  if (const auto n = parse_positive(value)) {
    src.limit = double(*n);
    src.detail = "'" + raw + "'";
    if (value.size() != raw.size()) src.detail += " (first item of list)";
  } else {
    src.detail = "invalid value '" + raw + "', ignored";
  }
  return src;
}

}  // namespace

CoreReport detect_cores(const CoreProbe& probe) {
  CoreReport report;
  auto& sources = report.sources;
  if (probe.use_affinity)
    sources.push_back(affinity_source());
  else
    sources.push_back({"affinity", std::nullopt, "not probed"});
  cgroup_sources(probe, sources);

  const auto getenv = probe.getenv ? probe.getenv : &real_getenv;
  sources.push_back(env_source(getenv, "OMP_NUM_THREADS", /*first_of_list=*/true));
  sources.push_back(env_source(getenv, "OMP_THREAD_LIMIT"));
  for (const char* name : {"SLURM_CPUS_PER_TASK", "NSLOTS", "PBS_NUM_PPN", "NCPUS", "LSB_DJOB_NUMPROC"})
    sources.push_back(env_source(getenv, name));

  // Lock-step threads: a fractional quota is rounded down, but at least 1.
  auto usable = [](double limit) { return std::max(1.0, std::floor(limit)); };
  std::optional<double> best;
  for (const auto& s : sources)
    if (s.limit) best = std::min(best.value_or(usable(*s.limit)), usable(*s.limit));
  if (!best) {
    const unsigned hw = std::thread::hardware_concurrency();
    report.cores = std::max(1u, hw);
    report.limited_by = "no limit found; hardware_concurrency";
    return report;
  }
  report.cores = unsigned(std::min(*best, double(UINT_MAX)));
  for (const auto& s : sources) {
    if (s.limit && usable(*s.limit) == *best) {
      if (!report.limited_by.empty()) report.limited_by += ", ";
      report.limited_by += s.name;
    }
  }
  return report;
}

void check_thread_count(unsigned long long requested, const std::string& option) {
  if (requested <= kMaxThreads) return;
  const bool assign = !option.empty() && option.back() == '=';  // "threads=100000", "-j 100000"
  throw InputError(option + (assign ? "" : " ") + std::to_string(requested) + ": too many threads (at most " +
                   std::to_string(kMaxThreads) + "; this process may use " + std::to_string(detect_cores().cores) +
                   " core(s), see `islet info`)");
}

std::string format_core_report(const CoreReport& report) {
  std::size_t width = std::string_view("source").size();
  for (const auto& s : report.sources) width = std::max(width, s.name.size());
  std::size_t lwidth = std::string_view("limit").size();
  for (const auto& s : report.sources)
    if (s.limit) lwidth = std::max(lwidth, format_limit(*s.limit).size());

  std::string out;
  auto row = [&](const std::string& name, const std::string& limit, const std::string& detail) {
    out += name + std::string(width - name.size() + 2, ' ');
    out += limit + std::string(lwidth - limit.size() + 2, ' ');
    out += detail + "\n";
  };
  row("source", "limit", "detail");
  for (const auto& s : report.sources) row(s.name, s.limit ? format_limit(*s.limit) : "-", s.detail);
  out += "usable cores: " + std::to_string(report.cores) + " (limited by " + report.limited_by + ")\n";
  return out;
}

}  // namespace isletsim::env
