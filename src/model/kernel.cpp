// The cell kernel compiled for several instruction sets, chosen at run time
// (x86-64: AVX-512 = x86-64-v4, AVX2+FMA = x86-64-v3, else the baseline this
// file is compiled for). The results are the same bits on every path (see
// fastmath.hpp); only the speed differs.
#include <stdexcept>

#include "model/kernel.hpp"

namespace isletsim::kernel {

namespace {
using RhsFn = void (*)(std::size_t, const double*, double, double*);

void rhs_baseline(std::size_t n, const double* in, double gkf, double* out) { rhs_body(n, in, gkf, out); }
#if defined(__x86_64__)
__attribute__((target("arch=x86-64-v3"))) void rhs_avx2(std::size_t n, const double* in, double gkf, double* out) {
  rhs_body(n, in, gkf, out);
}
__attribute__((target("arch=x86-64-v4"))) void rhs_avx512(std::size_t n, const double* in, double gkf,
                                                          double* out) {
  rhs_body(n, in, gkf, out);
}
#endif

// Float kernel (experiment, see kernel.hpp): the same instruction sets.
using RhsFloatFn = void (*)(std::size_t, const float*, float, float*);
void rhsf_baseline(std::size_t n, const float* in, float gkf, float* out) { rhs_body_t<float>(n, in, gkf, out); }
#if defined(__x86_64__)
__attribute__((target("arch=x86-64-v3"))) void rhsf_avx2(std::size_t n, const float* in, float gkf, float* out) {
  rhs_body_t<float>(n, in, gkf, out);
}
__attribute__((target("arch=x86-64-v4"))) void rhsf_avx512(std::size_t n, const float* in, float gkf, float* out) {
  rhs_body_t<float>(n, in, gkf, out);
}
#endif
RhsFloatFn fnf_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return rhsf_avx512;
  if (isa == Isa::avx2) return rhsf_avx2;
#endif
  return rhsf_baseline;
}

RhsFn fn_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return rhs_avx512;
  if (isa == Isa::avx2) return rhs_avx2;
#endif
  return rhs_baseline;
}

Isa g_isa = best_isa();
RhsFn g_rhs = fn_for(g_isa);
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
  if (__builtin_cpu_supports("x86-64-v4")) return Isa::avx512;
  if (__builtin_cpu_supports("x86-64-v3")) return Isa::avx2;
#endif
  return Isa::baseline;
}

Isa active_isa() { return g_isa; }

void force_isa(Isa isa) {
  if (static_cast<int>(isa) > static_cast<int>(best_isa()))
    throw std::runtime_error(std::string("this CPU cannot run the ") + isa_name(isa) + " kernel");
  g_isa = isa;
  g_rhs = fn_for(isa);
}

void rhs(std::size_t n, const double* __restrict in, double gkf, double* __restrict out) { g_rhs(n, in, gkf, out); }

void rhs_float(std::size_t n, const float* __restrict in, float gkf, float* __restrict out) {
  fnf_for(g_isa)(n, in, gkf, out);
}

}  // namespace isletsim::kernel
