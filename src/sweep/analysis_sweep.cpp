// `islet analyze DIR`: the analysis pipeline over a sweep's output, one task
// per result file, on the sweep executors.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "io/csv.hpp"
#include "io/write_atomically.hpp"
#include "isletsim/analysis_io.hpp"
#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"
#include "mpi_detail.hpp"

namespace isletsim::sweep {

namespace {

struct Row {
  std::size_t task = 0;
  std::vector<std::string> keys;  // swept values as the summary shows them
  std::string file;               // full path, "" when the task has none
};

class AnalysisTask final : public Task {
 public:
  AnalysisTask(std::string file, Overrides sets) : file_(std::move(file)), sets_(std::move(sets)) {}
  std::string describe() const override { return file_; }
  TaskResult run(const TaskContext&) override {
    TaskResult r;
    const auto t0 = std::chrono::steady_clock::now();
    try {
      const analysis::Options o = resolve_analysis_options(stored_config(file_), file_ + " (config attribute)", sets_);
      const analysis::Input in = analysis_input_from_run(file_, o.variable);
      const analysis::Result res = analysis::analyze(in, o);
      std::string stem = file_;
      if (stem.size() > 3 && stem.compare(stem.size() - 3, 3, ".h5") == 0) stem.resize(stem.size() - 3);
      write_analysis_outputs(res, in, stem, file_);
      r.metrics = res.metrics();
    } catch (const std::exception& e) {
      r.status = TaskResult::Status::failed;
      r.message = e.what();
    }
    r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  }

 private:
  std::string file_;
  Overrides sets_;
};

std::string number(double x) { return std::isfinite(x) ? fmt::format("{}", x) : std::string("nan"); }

}  // namespace

AnalyzeSweepOutcome analyze_sweep(const std::string& dir, const AnalyzeSweepOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  AnalyzeSweepOutcome o;
  const std::filesystem::path summary = std::filesystem::path(dir) / "summary.csv";
  std::ifstream in(summary);
  if (!in)
    throw InputError("'" + dir + "' is not a sweep output directory: it has no summary.csv (`islet sweep` writes one)");
  std::string line;
  std::getline(in, line);
  const auto head = csv::split(line);
  const auto col = [&](const char* name) -> std::size_t {
    for (std::size_t c = 0; c < head.size(); ++c)
      if (head[c] == name) return c;
    throw InputError(fmt::format("{}: no '{}' column (not a sweep summary?)", summary.string(), name));
  };
  const std::size_t task_col = col("task"), status_col = col("status"), file_col = col("file");
  if (task_col != 0 || status_col < 1) throw InputError(summary.string() + ": columns are not a sweep summary's");
  o.keys.assign(head.begin() + 1, head.begin() + static_cast<std::ptrdiff_t>(status_col));
  std::vector<Row> rows;
  for (std::size_t lineno = 2; std::getline(in, line); ++lineno) {
    if (line.empty()) continue;
    const auto f = csv::split(line);
    if (f.size() != head.size())
      throw InputError(fmt::format("{}:{}: {} fields, expected {}", summary.string(), lineno, f.size(), head.size()));
    Row r;
    if (!csv::task_number(f[0], r.task))
      throw InputError(
          fmt::format("{}:{}: task '{}' is not a task number (expected 0, 1, 2, ... in the first "
                      "column, as islet sweep writes it)",
                      summary.string(), lineno, f[0]));
    r.keys.assign(f.begin() + 1, f.begin() + static_cast<std::ptrdiff_t>(status_col));
    if (f[status_col] == "ok" && !f[file_col].empty()) r.file = (std::filesystem::path(dir) / f[file_col]).string();
    rows.push_back(std::move(r));
  }
  o.tasks = rows.size();

  std::vector<std::unique_ptr<Task>> owned;
  std::vector<Task*> tasks;
  std::vector<std::size_t> row_of;
  for (std::size_t k = 0; k < rows.size(); ++k)
    if (!rows[k].file.empty()) {
      owned.push_back(std::make_unique<AnalysisTask>(rows[k].file, opt.sets));
      tasks.push_back(owned.back().get());
      row_of.push_back(k);
    } else {
      ++o.skipped;
    }
  std::vector<TaskResult> results(rows.size());
  std::vector<bool> ran(rows.size(), false);
  execute(tasks,
          [&](std::size_t i, TaskResult&& r) {
            if (!opt.quiet && r.status == TaskResult::Status::failed)
              fmt::print(stderr, "islet analyze: {}: {}\n", tasks[i]->describe(), r.message);
            results[row_of[i]] = std::move(r);
            ran[row_of[i]] = true;
          },
          opt.exec);
  const bool root = opt.exec.kind != ExecutorKind::mpi || detail::mpi_world_rank() == 0;

  // The metric names (the same for every task): from a task that ran, else
  // from an empty result.
  std::vector<std::string> names;
  for (const auto& [name, v] : analysis::Result{}.metrics()) names.push_back(name);
  std::string text = "task";
  for (const auto& k : o.keys) text += "," + csv::field(k);
  text += ",status";
  for (const auto& n : names) text += "," + n;
  text += ",file,message\n";
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Row& r = rows[k];
    const TaskResult& t = results[k];
    std::string status = "skipped", message = "no result file (the run did not complete)";
    if (ran[k]) {
      status = to_string(t.status);
      message = t.message;
      (t.status == TaskResult::Status::ok ? o.ok : t.status == TaskResult::Status::failed ? o.failed : o.interrupted)++;
    } else if (!r.file.empty()) {
      status = "interrupted", message = "not run (stopped)";
      ++o.interrupted;
    }
    text += std::to_string(r.task);
    for (const auto& v : r.keys) text += "," + csv::field(v);
    text += "," + status;
    for (std::size_t m = 0; m < names.size(); ++m)
      text += "," + number(ran[k] && m < t.metrics.size() ? t.metrics[m].second : NAN);
    const std::string stem = r.file.size() > 3 ? r.file.substr(0, r.file.size() - 3) : r.file;
    text += "," + csv::field(ran[k] && t.status == TaskResult::Status::ok
                                 ? std::filesystem::path(stem + ".analysis.h5").filename().string()
                                 : std::string());
    text += "," + csv::field(message) + "\n";
  }
  o.table = (std::filesystem::path(dir) / "analysis.csv").string();
  if (root)  // whole or not at all: a failed write leaves the table there before as it was
    io::write_atomically(o.table, [&](const std::string& tmp) { io::write_text(tmp, o.table, text); });
  o.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return o;
}

}  // namespace isletsim::sweep
