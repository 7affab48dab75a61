// Stop requests (SIGINT/SIGTERM) and terminal detection.
#include "isletsim/env.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>

namespace isletsim::env {
namespace {

static_assert(std::atomic<bool>::is_always_lock_free, "the stop flag must be usable from a signal handler");

std::atomic<bool> g_stop{false};

// Async-signal-safe only: atomic exchange, sigaction, raise.
extern "C" void on_stop_signal(int sig) {
  const int saved_errno = errno;
  if (g_stop.exchange(true)) {
    // Second request: fall back to the default action and deliver it again
    // (it stays pending while this handler runs, then terminates us).
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, nullptr);
    raise(sig);
  }
  errno = saved_errno;
}

}  // namespace

std::atomic<bool>* install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;  // blocking I/O resumes; the engine polls the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A file-size limit (ulimit -f) reached while writing: the write fails
  // (EFBIG) and the run ends "failed" with its data intact, as on a full
  // disk, instead of the process being killed mid-write.
  signal(SIGXFSZ, SIG_IGN);
  return &g_stop;
}

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace isletsim::env
