// The MPI executor: `mpirun -n N islet sweep sweep.toml`.
//
// Every rank holds the same task list. Rank 0 hands out task indices one at
// a time (dynamic distribution: uneven tasks balance) from a helper thread
// that polls for requests (MPI_Iprobe, then a sleep of 20..200 us: no core
// spent spinning), while its own worker threads take indices straight from
// the same counter. A worker on another rank sends "result of task i (if
// any), give me the next one" and gets back the next index or -1. Results
// reach rank 0 with those requests; done() runs there only. All MPI calls of
// a process are serialised (rank 0: the helper thread only; other ranks: one
// mutex), so MPI_THREAD_SERIALIZED is all we ask for.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "isletsim/sweep.hpp"
#include "mpi_detail.hpp"

#ifdef ISLET_HAVE_MPI
#include <sched.h>

#include <mpi.h>
#endif

namespace isletsim::sweep {

unsigned rank_cores(unsigned detected, unsigned ranks_sharing_mask) {
  return std::max(1u, detected / std::max(1u, ranks_sharing_mask));
}

#ifndef ISLET_HAVE_MPI

bool mpi_built() { return false; }
MpiSession::MpiSession() { throw std::runtime_error("this islet was built without MPI (-DISLET_MPI=ON)"); }
MpiSession::~MpiSession() = default;
std::vector<int> MpiSession::allgather(int value) const { return {value}; }

namespace detail {
void execute_mpi(const std::vector<Task*>&, const std::function<void(std::size_t, TaskResult&&)>&,
                 const ExecutorOptions&) {
  throw std::logic_error("MPI executor: not built");
}
int mpi_world_rank() { return 0; }
void mpi_broadcast(std::string&) { throw std::logic_error("MPI: not built"); }
}  // namespace detail

#else

bool mpi_built() { return true; }

namespace {

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

}  // namespace

MpiSession::MpiSession() {
  int provided = 0;
  check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
  if (provided < MPI_THREAD_SERIALIZED) {
    MPI_Finalize();
    throw std::runtime_error("MPI: the library does not support MPI_THREAD_SERIALIZED");
  }
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  // Ranks on this node, and among them those bound to the same CPUs as us.
  MPI_Comm node;
  check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node), "MPI_Comm_split_type");
  int node_size = 1;
  MPI_Comm_size(node, &node_size);
  cpu_set_t mine;
  CPU_ZERO(&mine);
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) CPU_ZERO(&mine);
  std::vector<cpu_set_t> all(static_cast<std::size_t>(node_size));
  check(MPI_Allgather(&mine, sizeof mine, MPI_BYTE, all.data(), sizeof mine, MPI_BYTE, node), "MPI_Allgather");
  MPI_Comm_free(&node);
  node_ranks_ = static_cast<unsigned>(node_size);
  mask_ranks_ = static_cast<unsigned>(
      std::count_if(all.begin(), all.end(), [&](const cpu_set_t& s) { return std::memcmp(&s, &mine, sizeof s) == 0; }));
}

MpiSession::~MpiSession() { MPI_Finalize(); }

std::vector<int> MpiSession::allgather(int value) const {
  std::vector<int> all(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&value, 1, MPI_INT, all.data(), 1, MPI_INT, MPI_COMM_WORLD), "MPI_Allgather");
  return all;
}

namespace detail {

namespace {

constexpr int kTagRequest = 4101, kTagReply = 4102;

// Request of a worker on rank > 0: [u8 has_result][result of task i].
class Writer {
 public:
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const char*>(&v);
    buf.insert(buf.end(), p, p + sizeof v);
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    buf.insert(buf.end(), s.begin(), s.end());
  }
  std::vector<char> buf;
};

class Reader {
 public:
  explicit Reader(const std::vector<char>& b) : b_(b) {}
  template <class T>
  T get() {
    T v;
    need(sizeof v);
    std::memcpy(&v, b_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint32_t>();
    need(n);
    std::string s(b_.data() + at_, n);
    at_ += n;
    return s;
  }

 private:
  void need(std::size_t n) const {
    if (at_ + n > b_.size()) throw std::runtime_error("MPI executor: truncated message");
  }
  const std::vector<char>& b_;
  std::size_t at_ = 0;
};

std::vector<char> encode(const std::optional<std::pair<std::int64_t, TaskResult>>& res) {
  Writer w;
  w.put(static_cast<std::uint8_t>(res.has_value()));
  if (res) {
    const TaskResult& r = res->second;
    w.put(res->first);
    w.put(static_cast<std::int32_t>(r.status));
    w.put(r.wall_s);
    w.put(static_cast<std::uint32_t>(r.metrics.size()));
    for (const auto& [name, value] : r.metrics) {
      w.put_string(name);
      w.put(value);
    }
    w.put_string(r.message);
  }
  return std::move(w.buf);
}

std::optional<std::pair<std::int64_t, TaskResult>> decode(const std::vector<char>& b) {
  Reader rd(b);
  if (!rd.get<std::uint8_t>()) return std::nullopt;
  std::pair<std::int64_t, TaskResult> out;
  out.first = rd.get<std::int64_t>();
  TaskResult& r = out.second;
  r.status = static_cast<TaskResult::Status>(rd.get<std::int32_t>());
  r.wall_s = rd.get<double>();
  const auto n = rd.get<std::uint32_t>();
  for (std::uint32_t k = 0; k < n; ++k) {
    std::string name = rd.get_string();
    const double v = rd.get<double>();
    r.metrics.emplace_back(std::move(name), v);
  }
  r.message = rd.get_string();
  return out;
}

}  // namespace

void execute_mpi(const std::vector<Task*>& tasks, const std::function<void(std::size_t, TaskResult&&)>& done,
                 const ExecutorOptions& opt) {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  TaskContext ctx;
  ctx.threads = std::max(1u, opt.threads_per_task);
  ctx.stop = opt.stop;
  const auto run_task = [&](std::size_t i) {
    if (opt.stop && opt.stop->load()) {
      TaskResult r;
      r.status = TaskResult::Status::interrupted;
      r.message = "not started (stop requested)";
      return r;
    }
    return tasks[i]->run(ctx);
  };
  ExecutorOptions local = opt;
  local.kind = ExecutorKind::threads;
  const int workers = static_cast<int>(std::max<std::size_t>(1, std::min<std::size_t>(concurrent_tasks(local), tasks.size())));
  std::vector<int> all_workers(static_cast<std::size_t>(size));
  check(MPI_Gather(&workers, 1, MPI_INT, all_workers.data(), 1, MPI_INT, 0, MPI_COMM_WORLD), "MPI_Gather");
  const std::int64_t n = static_cast<std::int64_t>(tasks.size());

  if (rank == 0) {
    std::atomic<std::int64_t> next{0};
    std::mutex m;
    std::exception_ptr error;
    const auto deliver = [&](std::size_t i, TaskResult&& r) {
      std::lock_guard<std::mutex> lock(m);
      try {
        done(i, std::move(r));
      } catch (...) {
        if (!error) error = std::current_exception();
      }
    };
    std::int64_t remote = 0;  // worker threads on other ranks not yet told "no more tasks"
    for (int r = 1; r < size; ++r) remote += all_workers[static_cast<std::size_t>(r)];
    std::thread server([&] {
      std::vector<char> buf;
      int sleep_us = 20;
      try {
        while (remote > 0) {
          int flag = 0;
          MPI_Status st;
          check(MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
          if (!flag) {
            std::this_thread::sleep_for(std::chrono::microseconds(sleep_us));
            sleep_us = std::min(2 * sleep_us, 200);
            continue;
          }
          sleep_us = 20;
          int count = 0;
          MPI_Get_count(&st, MPI_BYTE, &count);
          buf.resize(static_cast<std::size_t>(count));
          check(MPI_Recv(buf.data(), count, MPI_BYTE, st.MPI_SOURCE, kTagRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE),
                "MPI_Recv");
          std::int64_t reply = next.fetch_add(1);
          if (reply >= n) {
            reply = -1;
            --remote;
          }
          // Reply first: the remote worker starts its next task at once.
          check(MPI_Send(&reply, 1, MPI_INT64_T, st.MPI_SOURCE, kTagReply, MPI_COMM_WORLD), "MPI_Send");
          if (auto res = decode(buf)) deliver(static_cast<std::size_t>(res->first), std::move(res->second));
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!error) error = std::current_exception();
        MPI_Abort(MPI_COMM_WORLD, 1);  // the other ranks would wait for us forever
      }
    });
    std::vector<std::thread> pool;
    for (int w = 0; w < workers; ++w)
      pool.emplace_back([&] {
        for (std::int64_t i; (i = next.fetch_add(1)) < n;) deliver(static_cast<std::size_t>(i), run_task(static_cast<std::size_t>(i)));
      });
    for (auto& t : pool) t.join();
    server.join();
    if (error) std::rethrow_exception(error);
    return;
  }

  std::mutex mpi;  // one exchange with rank 0 at a time on this rank
  const auto exchange = [&](const std::optional<std::pair<std::int64_t, TaskResult>>& res) {
    const std::vector<char> buf = encode(res);
    std::int64_t reply = -1;
    std::lock_guard<std::mutex> lock(mpi);
    check(MPI_Send(buf.data(), static_cast<int>(buf.size()), MPI_BYTE, 0, kTagRequest, MPI_COMM_WORLD), "MPI_Send");
    check(MPI_Recv(&reply, 1, MPI_INT64_T, 0, kTagReply, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    return reply;
  };
  std::vector<std::thread> pool;
  for (int w = 0; w < workers; ++w)
    pool.emplace_back([&] {
      try {
        for (std::int64_t i = exchange(std::nullopt); i >= 0;) {
          TaskResult r = run_task(static_cast<std::size_t>(i));
          i = exchange(std::make_pair(i, std::move(r)));
        }
      } catch (...) {
        MPI_Abort(MPI_COMM_WORLD, 1);
      }
    });
  for (auto& t : pool) t.join();
}

int mpi_world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

void mpi_broadcast(std::string& bytes) {
  std::uint64_t len = bytes.size();
  check(MPI_Bcast(&len, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD), "MPI_Bcast");
  bytes.resize(len);
  if (len) check(MPI_Bcast(bytes.data(), static_cast<int>(len), MPI_BYTE, 0, MPI_COMM_WORLD), "MPI_Bcast");
}

}  // namespace detail

#endif

}  // namespace isletsim::sweep
