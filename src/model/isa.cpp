// Which instruction set the models' kernels run (model_abi.hpp): the best the
// CPU has, unless a test or benchmark forces one. Every one gives the same bits.
#include <stdexcept>
#include <string>

#include "model/model_abi.hpp"

namespace isletsim::model_abi {

namespace {
Isa g_isa = best_isa();
}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512: return "avx512 (x86-64-v4)";
    case Isa::avx2: return "avx2 (x86-64-v3)";
    default: return "baseline";
  }
}

Isa best_isa() {
#if defined(__x86_64__)
  __builtin_cpu_init();
#if defined(__clang__)
  // clang (the fuzz and sanitizer builds, docs/testing.md) has no level
  // names in __builtin_cpu_supports: the levels' features it can test.
  const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                  __builtin_cpu_supports("bmi") && __builtin_cpu_supports("bmi2");
  if (v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    return Isa::avx512;
  if (v3) return Isa::avx2;
#else
  if (__builtin_cpu_supports("x86-64-v4")) return Isa::avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return Isa::avx2;
#endif
#endif
  return Isa::baseline;
}

Isa active_isa() { return g_isa; }

void force_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_isa()))
    throw std::runtime_error(std::string("this CPU cannot run the ") + isa_name(isa) + " kernel");
  g_isa = isa;
}

}  // namespace isletsim::model_abi
