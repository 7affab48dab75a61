#pragma once
// Hands full sample buffers to the sink on its own thread, so HDF5 writing
// and compression overlap the simulation (the engine's recording).
#include <time.h>

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "isletsim/engine.hpp"

namespace isletsim::engine {

class AsyncWriter {
 public:
  explicit AsyncWriter(SampleSink* sink) : sink_(sink) {
    if (sink_) thread_ = std::thread([this] { loop(); });
  }
  ~AsyncWriter() {
    if (!sink_) return;
    {
      std::lock_guard lk(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Waits until the previous job is done, then queues this one.
  void submit(std::function<void()> job) {
    if (!sink_) return;
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return !job_; });
    job_ = std::move(job);
    cv_.notify_all();
  }
  void wait_idle() {
    if (!sink_) return;
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return !job_; });
  }
  std::string error() {
    std::lock_guard lk(m_);
    return error_;
  }
  // CPU time of the writer thread in its jobs so far (seconds; read after
  // wait_idle() for a settled figure).
  double cpu_seconds() {
    std::lock_guard lk(m_);
    return cpu_s_;
  }

 private:
  void loop() {
    std::unique_lock lk(m_);
    for (;;) {
      cv_.wait(lk, [&] { return quit_ || job_; });
      if (!job_) return;
      lk.unlock();
      std::string err;
      const double c0 = thread_cpu_s();
      try {
        job_();
      } catch (const std::exception& e) {
        err = e.what();
      }
      const double c1 = thread_cpu_s();
      lk.lock();
      cpu_s_ += c1 - c0;
      if (!err.empty() && error_.empty()) error_ = err;
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  // This thread's CPU time (CLOCK_THREAD_CPUTIME_ID), seconds.
  static double thread_cpu_s() {
    timespec ts{};
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return 0;
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
  SampleSink* sink_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool quit_ = false;
  std::string error_;
  double cpu_s_ = 0;
};

}  // namespace isletsim::engine
