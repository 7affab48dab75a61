// Running a sweep: selects the shard's tasks, skips finished ones on
// --resume, runs the rest with an executor and keeps the results table
// (summary.csv) up to date, written atomically after every task, and
// summary.h5 with the same rows at the end. Under MPI rank 0 does all of the
// table work; the other ranks only run tasks.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "io/csv.hpp"
#include "io/h5_handle.hpp"
#include "io/write_atomically.hpp"
#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"
#include "mpi_detail.hpp"

namespace isletsim::sweep {
namespace {

const auto& csv_field = csv::field;
const auto& csv_split = csv::split;

std::string number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : std::string("nan"); }

class Table {
 public:
  Table(std::string path, std::string header) : path_(std::move(path)), header_(std::move(header)) {}

  // Rows of an earlier run of the same sweep (--resume). A table written
  // before the window columns existed (`legacy`: the header without them) is
  // read with those fields empty (nan); rows of tasks >= n_tasks (the sweep
  // has fewer tasks now) are dropped.
  void load(const std::string& legacy, std::size_t insert_at, std::size_t n_inserted, std::size_t n_tasks) {
    std::ifstream in(path_);
    if (!in) return;
    std::string line;
    if (!std::getline(in, line)) return;
    const bool old = line == legacy && line != header_;
    if (line != header_ && !old)
      throw InputError(fmt::format("{}: its columns ({}) are not this sweep's ({}); move it away or run without --resume",
                                   path_, line, header_));
    // A row that is not one this table writes is named by its line, with
    // what was expected: repairing or deleting it (its task then runs again)
    // is the user's choice, not a guess of ours.
    const std::size_t fields = csv_split(old ? legacy : header_).size();
    std::map<std::size_t, std::size_t> line_of;  // task -> its line
    for (std::size_t lineno = 2; std::getline(in, line); ++lineno) {
      if (line.empty()) continue;
      auto f = csv_split(line);
      const auto bad = [&](const std::string& why) {
        return InputError(
            fmt::format("{}:{}: unreadable row '{}': {} (expected {} fields, {}, as islet sweep writes "
                        "them); repair the line or delete it (its task then runs again)",
                        path_, lineno, line, why, fields, old ? legacy : header_));
      };
      const std::string& task = f.front();
      std::size_t i = 0;
      if (!csv::task_number(task, i)) throw bad("its first field '" + task + "' is not a task number");
      if (f.size() != fields) throw bad(fmt::format("{} field(s)", f.size()));
      if (const auto [it, first] = line_of.emplace(i, lineno); !first)
        throw bad(fmt::format("task {} has a row on line {} already", i, it->second));
      if (i >= n_tasks) continue;
      if (old && f.size() >= insert_at) {
        f.insert(f.begin() + static_cast<std::ptrdiff_t>(insert_at), n_inserted, "nan");
        line.clear();
        for (std::size_t c = 0; c < f.size(); ++c) line.append(c ? "," : "").append(csv_field(f[c]));
      }
      rows_[i] = line;
    }
  }
  bool ok(std::size_t i, std::size_t status_col) const {
    const auto it = rows_.find(i);
    if (it == rows_.end()) return false;
    const auto f = csv_split(it->second);
    return status_col < f.size() && f[status_col] == "ok";
  }
  void set(std::size_t i, std::string row) { rows_[i] = std::move(row); }
  const std::map<std::size_t, std::string>& rows() const { return rows_; }
  const std::string& header() const { return header_; }

  // Whole or not at all (io::write_atomically): a reader never sees a
  // half-written table, and one that cannot be written leaves the last as it was.
  void write() const {
    std::string text = header_ + "\n";
    for (const auto& [i, row] : rows_) text.append(row).append("\n");
    io::write_atomically(path_, [&](const std::string& tmp) { io::write_text(tmp, path_, text); });
  }

 private:
  std::string path_, header_;
  std::map<std::size_t, std::string> rows_;
};

bool parse_number(const std::string& s, double& x) {
  if (s.empty()) return false;
  char* end = nullptr;
  x = std::strtod(s.c_str(), &end);
  return end == s.c_str() + s.size();
}

// write_table_h5's file, written to `tmp` (its temporary file).
void write_table_h5_to(const std::string& tmp, const std::string& path, const Table& table, std::size_t n_keys) {
  using namespace h5;
  silence_hdf5();
  const std::vector<std::string> cols = csv_split(table.header());
  std::vector<std::vector<std::string>> rows;
  for (const auto& [i, row] : table.rows()) {
    rows.push_back(csv_split(row));
    rows.back().resize(cols.size());
  }
  const Ctx ctx{path};
  {
    Handle file = ctx.own(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose, "create file");
    Handle str = utf8_string_type(ctx);
    const auto strings = [](const std::vector<std::string>& v) {
      std::vector<const char*> p;
      for (const auto& s : v) p.push_back(s.c_str());
      return p;
    };
    const hsize_t n = rows.size();
    for (std::size_t c = 0; c < cols.size(); ++c) {
      std::vector<std::string> text(rows.size());
      for (std::size_t r = 0; r < rows.size(); ++r) text[r] = rows[r][c];
      const bool is_key = c >= 1 && c <= n_keys;
      const bool string_col = cols[c] == "status" || cols[c] == "file" || cols[c] == "message";
      std::vector<double> num(rows.size());
      bool numeric = !string_col;
      for (std::size_t r = 0; r < rows.size() && numeric; ++r)
        if (!parse_number(text[r], num[r])) {
          if (is_key) numeric = false;
          else num[r] = NAN;
        }
      if (numeric)
        write_fixed(ctx, file.get(), cols[c], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n}, num.data());
      else
        write_fixed(ctx, file.get(), cols[c], str.get(), str.get(), {n}, strings(text).data());
    }
    // The column order (HDF5 lists datasets by name).
    const hsize_t nc = cols.size();
    Handle cspace = ctx.space({nc});
    Handle attr = ctx.own(H5Acreate2(file.get(), "columns", str.get(), cspace.get(), H5P_DEFAULT, H5P_DEFAULT),
                          H5Aclose, "create attribute 'columns'");
    ctx.ok(H5Awrite(attr.get(), str.get(), strings(cols).data()), "write attribute 'columns'");
    attr.reset();
    if (file.close() < 0) ctx.fail("close");
  }
}

// The table's rows as HDF5, whole or not at all (io::write_atomically): per
// column a 1-D dataset of float64 (task, wall_s, the metrics, swept keys
// whose values are all numbers) or variable-length UTF-8 strings.
void write_table_h5(const std::string& path, const Table& table, std::size_t n_keys) {
  io::write_atomically(path, [&](const std::string& tmp) { write_table_h5_to(tmp, path, table, n_keys); });
}

// Outcome counts, broadcast from rank 0 under MPI.
std::string pack(const std::vector<std::uint64_t>& v, const std::string& text) {
  std::string s(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(std::uint64_t));
  return fmt::format("{}:", v.size()) + s + text;
}
std::vector<std::uint64_t> unpack(const std::string& s, std::string& text) {
  const std::size_t colon = s.find(':');
  const std::size_t n = std::stoul(s.substr(0, colon));
  std::vector<std::uint64_t> v(n);
  std::memcpy(v.data(), s.data() + colon + 1, n * sizeof(std::uint64_t));
  text = s.substr(colon + 1 + n * sizeof(std::uint64_t));
  return v;
}

// The task whose result file is named `name` (task_N.h5, without .part or
// .failed), if N is one of the sweep's tasks.
std::optional<std::size_t> task_of_file(const SweepSpec& spec, const std::string& name) {
  if (name.rfind("task_", 0) != 0 || name.size() < 9 || !name.ends_with(".h5")) return std::nullopt;
  const std::string num = name.substr(5, name.size() - 8);
  if (num.size() >= 19 || num.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const std::size_t i = std::stoull(num);
  return i < spec.size() ? std::optional<std::size_t>(i) : std::nullopt;
}

// Whether `file` is one the sweep writes in its out_dir: a task's result
// (task_N.h5, its .part and .failed), or a results table (summary*.csv,
// summary*.h5). The tables' temporary files are new names
// (io::write_atomically), never a file already there.
bool is_sweep_output(const SweepSpec& spec, const std::string& file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path f = fs::weakly_canonical(fs::absolute(file, ec), ec);
  if (ec) return false;
  const fs::path dir = fs::weakly_canonical(fs::absolute(spec.out_dir.empty() ? "." : spec.out_dir, ec), ec);
  if (ec || f.parent_path() != dir) return false;
  std::string name = f.filename().string();
  for (const char* tail : {".part", ".failed"})
    if (name.ends_with(tail)) name.resize(name.size() - std::strlen(tail));
  if (name == "summary.csv" || name == "summary.h5" ||
      (name.rfind("summary.shard-", 0) == 0 && (name.ends_with(".csv") || name.ends_with(".h5"))))
    return true;
  return task_of_file(spec, name).has_value();
}

// A sweep never overwrites its own inputs: no task may read a file the sweep
// writes (the base config, initial.from, a CSV network). Every task's
// inputs are looked at when a swept key can change them, else the first
// task's.
void check_inputs_are_not_outputs(const SweepSpec& spec, const Shard& shard) {
  const auto in = [](const RunConfig& c, const std::string& p) {
    if (p.empty() || std::filesystem::path(p).is_absolute() || c.base_dir.empty()) return p;
    return (std::filesystem::path(c.base_dir) / p).string();
  };
  const auto check = [&](const std::string& what, const std::string& file) {
    if (!file.empty() && is_sweep_output(spec, file))
      throw InputError(
          fmt::format("{}{} '{}' is a file this sweep writes (out_dir '{}'): a sweep never overwrites its "
                      "own inputs; move it, or choose another out_dir",
                      spec.path.empty() ? std::string() : spec.path + ": ", what, file, spec.out_dir));
  };
  check("the base config", spec.base_file);
  bool varies = false;
  for (const std::string& k : spec.keys)
    varies = varies || k == "initial.from" || k == "network.kind" || k == "network.cells" || k == "network.edges";
  for (std::size_t i = 0; i < spec.size(); ++i) {
    if (!shard.selects(i)) continue;
    const RunConfig c = task_config(spec, i);
    if (!c.initial_from.empty()) check("the run its tasks start from (initial.from)", in(c, c.initial_from));
    if (c.network == NetworkKind::csv) {
      check("the cells file of its network", in(c, c.cells_csv));
      check("the edges file of its network", in(c, c.edges_csv));
    }
    if (!varies) break;
  }
}

// Data already simulated is never lost: without --resume (go on with them)
// or --overwrite (replace them), an earlier sweep's results in out_dir stop
// the sweep before any task runs: its table, or the file of a task this
// sweep (this shard) would run.
void check_no_earlier_results(const SweepSpec& spec, const Shard& shard) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(spec.out_dir, ec)) return;
  const std::string csv = fs::path(table_path(spec, shard)).filename().string();
  const std::string h5 = fs::path(table_h5_path(spec, shard)).filename().string();
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(spec.out_dir, ec)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".failed")) name.resize(name.size() - 7);
    const std::optional<std::size_t> task = task_of_file(spec, name);
    if (name == csv || name == h5 || (task && shard.selects(*task))) found.push_back(e.path().filename().string());
  }
  if (found.empty()) return;
  std::sort(found.begin(), found.end());
  const std::size_t n = found.size();
  found.resize(std::min<std::size_t>(n, 3));
  throw InputError(
      fmt::format("{}out_dir '{}' holds the results of an earlier sweep ({}{}): a sweep does not replace "
                  "them; give --resume to go on with them (tasks done are skipped), --overwrite to run "
                  "every task again and replace them, or choose another out_dir",
                  spec.path.empty() ? std::string() : spec.path + ": ", spec.out_dir, fmt::join(found, ", "),
                  n > found.size() ? fmt::format(" and {} more", n - found.size()) : ""));
}

}  // namespace

std::string table_path(const SweepSpec& spec, const Shard& shard) {
  const std::string name = shard.n == 1 ? "summary.csv" : fmt::format("summary.shard-{}-of-{}.csv", shard.k, shard.n);
  return (std::filesystem::path(spec.out_dir) / name).string();
}

std::string table_h5_path(const SweepSpec& spec, const Shard& shard) {
  std::string p = table_path(spec, shard);
  return p.replace(p.size() - 4, 4, ".h5");
}

SweepOutcome run_sweep(const SweepSpec& spec, const SweepOptions& opt) {
  using Clock = std::chrono::steady_clock;
  const auto t0 = Clock::now();
  const bool mpi = opt.exec.kind == ExecutorKind::mpi;
  const bool root = !mpi || detail::mpi_world_rank() == 0;
  SweepOutcome o;
  o.total = spec.size();
  o.table = table_path(spec, opt.shard);

  std::string header = "task";
  for (const auto& k : spec.keys) header.append(",").append(csv_field(k));
  const std::string legacy = header + ",status,wall_s,duty_cycle,frequency_hz,synchrony,file,message";
  header += ",status,wall_s,duty_cycle,frequency_hz,synchrony,window_from_s,window_to_s,file,message";
  const std::size_t status_col = 1 + spec.keys.size();
  Table table(o.table, header);
  const bool notes = root && opt.notes && !opt.quiet;

  std::vector<std::size_t> todo;
  std::string input_error;
  if (root) {
    try {
      check_inputs_are_not_outputs(spec, opt.shard);
      if (!opt.resume && !opt.overwrite) check_no_earlier_results(spec, opt.shard);
      std::error_code ec;
      std::filesystem::create_directories(spec.out_dir, ec);
      if (ec) throw InputError("cannot create the output directory '" + spec.out_dir + "': " + ec.message());
      if (notes)
        for (const std::string& w : sweep_warnings(spec)) std::fprintf(stderr, "islet sweep: warning: %s\n", w.c_str());
      if (opt.resume) table.load(legacy, status_col + 5, 2, spec.size());
      for (std::size_t i = 0; i < spec.size(); ++i) {
        if (!opt.shard.selects(i)) continue;
        ++o.selected;
        if (opt.resume && table.ok(i, status_col) && std::filesystem::exists(task_file(spec, i))) {
          // Done before: skipped while its file's task hash is the task's.
          std::string why = resume_reason(spec, i);
          if (why.empty()) {
            ++o.skipped;
            continue;
          }
          if (notes) std::fprintf(stderr, "islet sweep: %s\n", why.c_str());
          o.reruns.push_back(std::move(why));
        }
        todo.push_back(i);
      }
      table.write();
    } catch (const InputError& e) {
      if (!mpi) throw;
      input_error = e.what();
    }
  }
  if (mpi) {  // rank 0's task list (or its input error) to every rank
    std::string msg = pack(std::vector<std::uint64_t>(todo.begin(), todo.end()), input_error);
    detail::mpi_broadcast(msg);
    const auto v = unpack(msg, input_error);
    todo.assign(v.begin(), v.end());
    if (!input_error.empty()) throw InputError(input_error);
  }

  std::vector<std::unique_ptr<Task>> owned;
  std::vector<Task*> tasks;
  for (std::size_t i : todo) {
    owned.push_back(make_islet_task(spec, i));
    tasks.push_back(owned.back().get());
  }
  std::size_t done_count = 0;
  auto last_shown = Clock::now() - std::chrono::seconds(1);
  bool shown = false;
  const bool progress = opt.progress && root;
  const auto show = [&](bool force) {
    if (!progress) return;
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
  std::string run_error;  // from the table writing on rank 0: every rank reports it
  try {
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
          for (const auto& v : spec.points[i]) row.append(",").append(csv_field(v.display));
          row += fmt::format(",{},{:.3f}", to_string(r.status), r.wall_s);
          for (const auto& [name, value] : r.metrics) row.append(",").append(number(value));
          const std::string file = task_file(spec, i);
          const std::string kept = r.status == TaskResult::Status::ok ? file
                                   : std::filesystem::exists(file + ".failed") ? file + ".failed"
                                                                               : std::string();
          row.append(",").append(csv_field(kept.empty() ? kept : std::filesystem::path(kept).filename().string()));
          row.append(",").append(csv_field(r.message));
          table.set(i, std::move(row));
          table.write();
          show(false);
        },
        opt.exec);
    if (root) write_table_h5(table_h5_path(spec, opt.shard), table, spec.keys.size());
  } catch (const std::exception& e) {
    if (!mpi) throw;
    run_error = e.what();
  }
  show(true);
  if (shown) std::fprintf(stderr, "\n");
  if (mpi) {  // rank 0's counts (and error) to every rank: the same exit status everywhere
    std::string msg = pack({o.selected, o.skipped, o.ok, o.failed, o.interrupted}, run_error);
    detail::mpi_broadcast(msg);
    const auto v = unpack(msg, run_error);
    o.selected = v[0], o.skipped = v[1], o.ok = v[2], o.failed = v[3], o.interrupted = v[4];
    if (!run_error.empty()) throw std::runtime_error(run_error);
  }
  o.wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  return o;
}

}  // namespace isletsim::sweep
