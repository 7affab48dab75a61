#pragma once
// Sense-reversing spin barrier for the persistent parallel region. A step of
// a 1000-cell islet is ~10 us of work, so the barrier must cost well under a
// microsecond: threads spin on a cache line (with a pause hint), and after a
// while sleep in the kernel (std::atomic::wait, a futex) until the last
// thread arrives, so an oversubscribed run does not burn the cores it waits
// for. How long they spin adapts (SpinBudget): on a quiet machine the others
// arrive within microseconds and spinning catches them; on a busy one a
// thread waits for another that the host has descheduled for milliseconds,
// and spinning only takes the core from the thread being waited for (on the
// 2-vCPU test VM with a busy host: 1000 cells on 2 threads 3.0-3.4x faster
// than with a fixed 2048 spins, BENCHMARKS.md "Default thread count").
#include <atomic>
#include <chrono>
#include <cstdint>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ISLET_CPU_RELAX() _mm_pause()
#else
#define ISLET_CPU_RELAX() ((void)0)
#endif

namespace isletsim {

// How many times a waiter spins before it sleeps, shared by the waiters of
// one barrier (or NeighbourSync). A wait that ends while spinning, or a
// sleep that ended within kShortWait (spinning a little longer would have
// caught it), doubles the budget, up to kMax (2048 pauses: ~50 us on the
// test VM's AMD EPYC); a longer sleep (the thread waited for was not
// running) halves it, down to 0 (sleep at once). Written only when it
// changes, so a steady state (always caught, or always asleep) adds no
// shared write. Timing only: no result depends on it.
class SpinBudget {
 public:
  static constexpr std::uint32_t kMax = 2048;
  static constexpr std::uint32_t kMinGrown = 16;  // the budget after 0 grows
  static constexpr std::chrono::nanoseconds kShortWait{20000};

  std::uint32_t spins() const { return v_.load(std::memory_order_relaxed); }
  void caught() { grow(); }
  // The waiter slept from t0 to now.
  void slept(std::chrono::steady_clock::time_point t0) {
    if (std::chrono::steady_clock::now() - t0 < kShortWait)
      grow();
    else if (const std::uint32_t v = spins(); v > 0)
      v_.store(v / 2 < kMinGrown ? 0 : v / 2, std::memory_order_relaxed);
  }

 private:
  void grow() {
    if (const std::uint32_t v = spins(); v < kMax)
      v_.store(v == 0 ? kMinGrown : (v * 2 > kMax ? kMax : v * 2), std::memory_order_relaxed);
  }
  alignas(64) std::atomic<std::uint32_t> v_{kMax};
};

class SpinBarrier {
 public:
  explicit SpinBarrier(unsigned n) : n_(n) {}

  // `sense` is the caller's own flag, starting at false.
  void wait(bool& sense) {
    sense = !sense;
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      flag_.store(sense, std::memory_order_release);
      flag_.notify_all();  // int: the futex type, so no system call or shared write unless a thread sleeps
      return;
    }
    for (std::uint32_t spins = 0, n = budget_.spins(); spins < n; ++spins) {
      if (flag_.load(std::memory_order_acquire) == sense) {
        budget_.caught();
        return;
      }
      ISLET_CPU_RELAX();
    }
    const auto t0 = std::chrono::steady_clock::now();
    while (flag_.load(std::memory_order_acquire) != sense) flag_.wait(!sense, std::memory_order_acquire);
    budget_.slept(t0);
  }

 private:
  alignas(64) std::atomic<unsigned> count_{0};
  // int, not bool: libstdc++ waits on int with a futex directly; for other
  // types notify_all() does an atomic add on a process-wide table entry,
  // which all threads would then fight over at every barrier.
  alignas(64) std::atomic<int> flag_{0};
  SpinBudget budget_;
  const unsigned n_;
};

}  // namespace isletsim

namespace isletsim {

// Point-to-point synchronisation between the stages of a step: a thread only
// waits for the threads it shares gap junctions with (whose values it reads,
// and who read its values), not for everyone. Each thread publishes how many
// stages it has finished; before the next stage it waits until each of its
// neighbours has finished the same number. One cache line moves per
// neighbour, instead of the several a counting barrier needs; uncoupled runs
// do not wait at all.
class NeighbourSync {
 public:
  void init(unsigned threads) { epochs_ = std::vector<Slot>(threads); }

  // Thread t has done its part of stage `phase` (1, 2, ...) that others
  // depend on: written the values its neighbours read, and read theirs.
  void arrive(unsigned t, std::uint64_t phase64) {
    epochs_[t].v.store(narrow(phase64), std::memory_order_release);
    epochs_[t].v.notify_all();
  }

  // Whether every thread in `deps` has arrived at `phase` (no waiting).
  bool ready(const std::vector<unsigned>& deps, std::uint64_t phase64) const {
    const std::int32_t phase = narrow(phase64);
    for (unsigned u : deps)
      if (behind(epochs_[u].v.load(std::memory_order_acquire), phase)) return false;
    return true;
  }

  // Returns when every thread in `deps` (the caller's neighbours: the
  // threads whose values it reads or who read its values) has arrived at
  // `phase`.
  void wait_for(const std::vector<unsigned>& deps, std::uint64_t phase64) {
    const std::int32_t phase = narrow(phase64);
    for (unsigned u : deps) {
      std::atomic<std::int32_t>& e = epochs_[u].v;
      std::int32_t seen = e.load(std::memory_order_acquire);
      if (!behind(seen, phase)) continue;
      const std::uint32_t n = budget_.spins();
      std::uint32_t spins = 0;
      for (; spins < n && behind(seen, phase); ++spins) {
        ISLET_CPU_RELAX();
        seen = e.load(std::memory_order_acquire);
      }
      if (!behind(seen, phase)) {
        budget_.caught();
        continue;
      }
      const auto t0 = std::chrono::steady_clock::now();
      for (; behind(seen, phase); seen = e.load(std::memory_order_acquire)) e.wait(seen, std::memory_order_acquire);
      budget_.slept(t0);
    }
  }

 private:
  static std::int32_t narrow(std::uint64_t p) { return static_cast<std::int32_t>(static_cast<std::uint32_t>(p)); }
  // 32-bit counters (the futex type, see SpinBarrier::flag_), compared
  // modulo 2^32: neighbours are never more than one stage apart.
  static bool behind(std::int32_t seen, std::int32_t phase) {
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(seen) - static_cast<std::uint32_t>(phase)) < 0;
  }
  struct alignas(64) Slot {
    std::atomic<std::int32_t> v{0};
  };
  std::vector<Slot> epochs_;
  SpinBudget budget_;
};

}  // namespace isletsim
