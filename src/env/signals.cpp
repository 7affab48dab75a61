// Stop requests (SIGINT/SIGTERM), the report of a crash while reading a
// file, and terminal detection.
#include "isletsim/env.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <string>

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

// The file this thread reads (ReadingFile): a fixed buffer, so that the
// crash handler only reads memory (thread_local: the executable's own
// initial-exec TLS, safe to read in a handler).
constexpr std::size_t kPathMax = ReadingFile::kPathMax;
thread_local char t_reading[kPathMax] = {};
thread_local bool t_reading_on = false;

constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGABRT};
constexpr std::size_t kCrash = std::size(kCrashSignals);
struct sigaction g_previous[kCrash];
// install_crash_report's choices (set before the handler is installed).
const char* g_program = "islet";
bool g_exit = true;

void put(const char* s) {
  std::size_t n = std::strlen(s);
  while (n > 0) {
    const ssize_t w = ::write(STDERR_FILENO, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<std::size_t>(w);
  }
}

// Async-signal-safe only: write, sigaction, raise, _exit.
extern "C" void on_crash_signal(int sig, siginfo_t* info, void*) {
  std::size_t k = 0;
  while (k + 1 < kCrash && kCrashSignals[k] != sig) ++k;
  if (t_reading_on) {
    put(g_program);
    put(": error: '");
    put(t_reading);
    put("': the HDF5 library crashed reading this file (");
    put(sig == SIGSEGV ? "segmentation fault" : sig == SIGBUS ? "bus error" : "abort");
    put("): it is damaged or was not written whole");
    if (g_exit) {
      put("\n");
      _exit(2);
    }
    put("; this process cannot go on\n");
  }
  // Not a file being read (or CrashReport::report_then_crash): the handler
  // before ours (a sanitizer's, Python's faulthandler), or the default
  // action, takes it: a fault the kernel raised happens again when this
  // handler returns; a signal sent (raise, kill, abort: si_code <= 0) is
  // sent again, delivered once this handler returns.
  sigaction(sig, &g_previous[k], nullptr);
  if (info && info->si_code <= 0) raise(sig);
}

}  // namespace

ReadingFile::ReadingFile(const std::string& path) {
  had_ = t_reading_on;
  if (had_) std::memcpy(saved_, t_reading, kPathMax);
  const std::size_t n = std::min(path.size(), kPathMax - 1);
  t_reading_on = false;
  std::memcpy(t_reading, path.data(), n);
  t_reading[n] = '\0';
  t_reading_on = true;
}

ReadingFile::~ReadingFile() {
  t_reading_on = false;
  if (had_) {
    std::memcpy(t_reading, saved_, kPathMax);
    t_reading_on = true;
  }
}

void install_crash_report(CrashReport how, const char* program) {
  g_program = program ? program : "islet";
  g_exit = how == CrashReport::exit_with_error;
  for (std::size_t k = 0; k < kCrash; ++k) {
    // Installed already (a second call): keep the handler before ours, or
    // a crash would be handed back to us for ever.
    struct sigaction now {};
    if (sigaction(kCrashSignals[k], nullptr, &now) == 0 && (now.sa_flags & SA_SIGINFO) &&
        now.sa_sigaction == &on_crash_signal)
      continue;
    struct sigaction sa {};
    sa.sa_sigaction = &on_crash_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_ONSTACK | SA_SIGINFO;
    sigaction(kCrashSignals[k], &sa, &g_previous[k]);
  }
}

std::atomic<bool>* install_stop_handlers() {
  struct sigaction sa {};
  sa.sa_handler = &on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGINT);
  sigaddset(&sa.sa_mask, SIGTERM);
  sa.sa_flags = SA_RESTART;  // blocking I/O resumes; the engine polls the flag
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A run then ends "failed" with its data intact, as on a full disk.
  fail_writes_past_size_limit();
  return &g_stop;
}

void fail_writes_past_size_limit() { signal(SIGXFSZ, SIG_IGN); }

bool stderr_is_tty() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace isletsim::env
