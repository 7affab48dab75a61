#pragma once
// Sense-reversing spin barrier for the persistent parallel region. A step of
// a 1000-cell islet is ~10 us of work, so the barrier must cost well under a
// microsecond: threads spin on a cache line (with a pause hint) and only
// yield the core after a long wait, e.g. when more threads than cores run.
#include <atomic>
#include <cstdint>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define ISLET_CPU_RELAX() _mm_pause()
#else
#define ISLET_CPU_RELAX() ((void)0)
#endif

namespace isletsim {

class SpinBarrier {
 public:
  explicit SpinBarrier(unsigned n) : n_(n) {}

  // `sense` is the caller's own flag, starting at false.
  void wait(bool& sense) {
    sense = !sense;
    if (count_.fetch_add(1, std::memory_order_acq_rel) + 1 == n_) {
      count_.store(0, std::memory_order_relaxed);
      flag_.store(sense, std::memory_order_release);
      return;
    }
    std::uint32_t spins = 0;
    while (flag_.load(std::memory_order_acquire) != sense) {
      if (++spins < 2048) {
        ISLET_CPU_RELAX();
      } else {
        std::this_thread::yield();
      }
    }
  }

 private:
  alignas(64) std::atomic<unsigned> count_{0};
  alignas(64) std::atomic<bool> flag_{false};
  const unsigned n_;
};

}  // namespace isletsim
