// Running a sweep: selects the shard's tasks, skips finished ones on
// --resume, runs the rest with an executor and keeps the results table
// (summary.csv) up to date, written atomically after every task.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"

namespace isletsim::sweep {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<std::string> csv_split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

std::string number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : std::string("nan"); }

class Table {
 public:
  Table(std::string path, std::string header) : path_(std::move(path)), header_(std::move(header)) {}

  // Rows of an earlier run of the same sweep (--resume).
  void load() {
    std::ifstream in(path_);
    if (!in) return;
    std::string line;
    if (!std::getline(in, line)) return;
    if (line != header_)
      throw InputError(fmt::format("{}: its columns ({}) are not this sweep's ({}); move it away or run without --resume",
                                   path_, line, header_));
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      const auto f = csv_split(line);
      try {
        rows_[std::stoul(f.at(0))] = line;
      } catch (const std::exception&) {
        throw InputError(fmt::format("{}: unreadable row '{}'", path_, line));
      }
    }
  }
  bool ok(std::size_t i, std::size_t status_col) const {
    const auto it = rows_.find(i);
    if (it == rows_.end()) return false;
    const auto f = csv_split(it->second);
    return status_col < f.size() && f[status_col] == "ok";
  }
  void set(std::size_t i, std::string row) { rows_[i] = std::move(row); }

  // Temporary file, then rename: a reader never sees a half-written table.
  void write() const {
    const std::string tmp = path_ + ".tmp";
    {
      std::ofstream out(tmp, std::ios::trunc);
      out << header_ << "\n";
      for (const auto& [i, row] : rows_) out << row << "\n";
      if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path_);
  }

 private:
  std::string path_, header_;
  std::map<std::size_t, std::string> rows_;
};

}  // namespace

std::string table_path(const SweepSpec& spec, const Shard& shard) {
  const std::string name = shard.n == 1 ? "summary.csv" : fmt::format("summary.shard-{}-of-{}.csv", shard.k, shard.n);
  return (std::filesystem::path(spec.out_dir) / name).string();
}

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  SweepOutcome o;
  o.total = spec.size();
  o.table = table_path(spec, opt.shard);
  std::error_code ec;
  std::filesystem::create_directories(spec.out_dir, ec);
  if (ec) throw InputError("cannot create the output directory '" + spec.out_dir + "': " + ec.message());

  std::string header = "task";
  for (const auto& k : spec.keys) header += "," + csv_field(k);
  header += ",status,wall_s,duty_cycle,frequency_hz,synchrony,file,message";
  const std::size_t status_col = 1 + spec.keys.size();
  Table table(o.table, header);
  if (opt.resume) table.load();

  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (!opt.shard.selects(i)) continue;
    ++o.selected;
    if (opt.resume && table.ok(i, status_col) && std::filesystem::exists(task_file(spec, i))) {
      ++o.skipped;
      continue;
    }
    todo.push_back(i);
  }
  table.write();

  std::vector<std::unique_ptr<Task>> owned;
  std::vector<Task*> tasks;
  for (std::size_t i : todo) {
    owned.push_back(make_islet_task(spec, i));
    tasks.push_back(owned.back().get());
  }
  std::size_t done_count = 0;
  auto last_shown = Clock::now() - std::chrono::seconds(1);
  bool shown = false;
  const auto show = [&](bool force) {
    if (!opt.progress) return;
    const auto now = Clock::now();
    if (!force && now - last_shown < std::chrono::milliseconds(250)) return;
    last_shown = now;
    const double wall = std::chrono::duration<double>(now - t0).count();
    const double rate = wall > 0 ? static_cast<double>(done_count) / wall : 0;
    const int eta = rate > 0 ? static_cast<int>(std::lround(static_cast<double>(todo.size() - done_count) / rate)) : 0;
    std::fprintf(stderr, "\r[%zu/%zu tasks] %zu failed | %.2f tasks/s | ETA %d:%02d:%02d   ", done_count, todo.size(),
                 o.failed, rate, eta / 3600, eta / 60 % 60, eta % 60);
    std::fflush(stderr);
    shown = true;
  };
  show(true);
  execute(
      tasks,
      [&](std::size_t k, TaskResult&& r) {
        const std::size_t i = todo[k];
        ++done_count;
        if (r.status == TaskResult::Status::interrupted) {
          ++o.interrupted;  // not in the table: --resume runs it again
          show(false);
          return;
        }
        if (r.status == TaskResult::Status::ok) ++o.ok;
        else ++o.failed;
        if (r.status == TaskResult::Status::failed && !opt.quiet) {
          if (shown) std::fprintf(stderr, "\r%100s\r", "");
          std::fprintf(stderr, "islet sweep: task %zu (%s) failed: %s\n", i, tasks[k]->describe().c_str(),
                       r.message.c_str());
        }
        std::string row = std::to_string(i);
        for (const auto& v : spec.points[i]) row += "," + csv_field(v.display);
        row += fmt::format(",{},{:.3f}", to_string(r.status), r.wall_s);
        for (const auto& [name, value] : r.metrics) row += "," + number(value);
        const std::string file = task_file(spec, i);
        const std::string kept = r.status == TaskResult::Status::ok ? file
                                 : std::filesystem::exists(file + ".failed") ? file + ".failed"
                                                                             : std::string();
        row += "," + csv_field(kept.empty() ? kept : std::filesystem::path(kept).filename().string());
        row += "," + csv_field(r.message);
        table.set(i, std::move(row));
        table.write();
        show(false);
      },
      opt.exec);
  show(true);
  if (shown) std::fprintf(stderr, "\n");
  o.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return o;
}

}  // namespace isletsim::sweep
