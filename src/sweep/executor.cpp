// Executors: run independent tasks serially or on a pool of threads in this
// process (task-level parallelism; each task gets threads_per_task threads);
// the MPI executor is in mpi.cpp.
#include <algorithm>
#include <exception>
#include <mutex>
#include <thread>

#include "isletsim/error.hpp"
#include "isletsim/sweep.hpp"
#include "mpi_detail.hpp"

namespace isletsim::sweep {

const char* to_string(TaskResult::Status s) {
  switch (s) {
    case TaskResult::Status::ok: return "ok";
    case TaskResult::Status::failed: return "failed";
    default: return "interrupted";
  }
}

ExecutorKind executor_from_string(const std::string& s) {
  if (s == "serial") return ExecutorKind::serial;
  if (s == "threads") return ExecutorKind::threads;
  if (s == "mpi") return ExecutorKind::mpi;
  const std::vector<std::string> known{"serial", "threads", "mpi", "auto"};
  throw InputError("--executor '" + s + "': expected auto, serial, threads or mpi" + did_you_mean(s, known));
}

ExecutorKind resolve_executor(const std::string& s, unsigned launcher_size) {
  if (s == "auto") return mpi_built() && launcher_size > 0 ? ExecutorKind::mpi : ExecutorKind::threads;
  const ExecutorKind k = executor_from_string(s);
  if (k == ExecutorKind::mpi && !mpi_built())
    throw InputError("--executor mpi: this islet was built without MPI (install libopenmpi-dev and rebuild with "
                     "-DISLET_MPI=ON); use --shard to spread a sweep over nodes");
  return k;
}

const char* to_string(ExecutorKind k) {
  switch (k) {
    case ExecutorKind::serial: return "serial";
    case ExecutorKind::threads: return "threads";
    default: return "mpi";
  }
}

unsigned concurrent_tasks(const ExecutorOptions& opt) {
  if (opt.kind == ExecutorKind::serial) return 1;
  const unsigned cores = std::max(1u, opt.cores);  // the caller decides (src/env detects)
  return std::max(1u, cores / std::max(1u, opt.threads_per_task));
}

void execute(const std::vector<Task*>& tasks, const std::function<void(std::size_t, TaskResult&&)>& done,
             const ExecutorOptions& opt) {
  if (opt.kind == ExecutorKind::mpi) return detail::execute_mpi(tasks, done, opt);
  TaskContext ctx;
  ctx.threads = std::max(1u, opt.threads_per_task);
  ctx.stop = opt.stop;
  std::mutex m;
  std::exception_ptr error;  // from done(): rethrown after every worker stopped
  const auto stopped = [&] { return opt.stop && opt.stop->load(); };
  const auto run_one = [&](std::size_t i) {
    TaskResult r;
    if (stopped()) {
      r.status = TaskResult::Status::interrupted;
      r.message = "not started (stop requested)";
    } else {
      r = tasks[i]->run(ctx);
    }
    std::lock_guard<std::mutex> lock(m);
    try {
      done(i, std::move(r));
    } catch (...) {
      if (!error) error = std::current_exception();
    }
  };
  const unsigned workers = std::min<std::size_t>(concurrent_tasks(opt), tasks.size());
  if (workers <= 1) {
    for (std::size_t i = 0; i < tasks.size() && !error; ++i) run_one(i);
    if (error) std::rethrow_exception(error);
    return;
  }
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < tasks.size();) run_one(i);
  };
  // The calling thread is one of the workers: it is already running (no
  // thread start, no waking an idle core before the first task begins).
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work);
  try {
    work();
  } catch (...) {  // join the others before leaving
    next.store(tasks.size());
    for (auto& t : pool) t.join();
    throw;
  }
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace isletsim::sweep
