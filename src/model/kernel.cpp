// The cell kernel compiled for several instruction sets, chosen at run time
// (x86-64: AVX-512 = x86-64-v4, AVX2+FMA = x86-64-v3, else the baseline this
// file is compiled for), each in one variant per Stage (the integrators'
// update fused into the loop). The results are the same bits on every path
// (see fastmath.hpp); only the speed differs.
#include <array>
#include <stdexcept>

#include "model/kernel.hpp"

namespace isletsim::kernel {

namespace {
using StageFn = void (*)(std::size_t, const double*, const double*, double, const StageArgs<double>&);
using RhsFloatFn = void (*)(std::size_t, const float*, const float*, float, float*);
constexpr int kNumStages = 5;
using StageTable = std::array<StageFn, 2 * kNumStages>;  // [shared_resp * kNumStages + stage]

template <Stage M, bool S>
void body_baseline(std::size_t n, const double* st, const double* in, double gkf, const StageArgs<double>& a) {
  rhs_body_t<double, M, S>(n, st, in, gkf, a);
}
void rhsf_baseline(std::size_t n, const float* st, const float* in, float gkf, float* d) {
  StageArgs<float> a;
  a.d = d;
  rhs_body_t<float, Stage::derivs>(n, st, in, gkf, a);
}
#if defined(__x86_64__)
template <Stage M, bool S>
__attribute__((target("arch=x86-64-v3"))) void body_avx2(std::size_t n, const double* st, const double* in, double gkf,
                                                         const StageArgs<double>& a) {
  rhs_body_t<double, M, S>(n, st, in, gkf, a);
}
template <Stage M, bool S>
__attribute__((target("arch=x86-64-v4"))) void body_avx512(std::size_t n, const double* st, const double* in,
                                                           double gkf, const StageArgs<double>& a) {
  rhs_body_t<double, M, S>(n, st, in, gkf, a);
}
__attribute__((target("arch=x86-64-v3"))) void rhsf_avx2(std::size_t n, const float* st, const float* in, float gkf,
                                                         float* d) {
  StageArgs<float> a;
  a.d = d;
  rhs_body_t<float, Stage::derivs>(n, st, in, gkf, a);
}
__attribute__((target("arch=x86-64-v4"))) void rhsf_avx512(std::size_t n, const float* st, const float* in,
                                                           float gkf, float* d) {
  StageArgs<float> a;
  a.d = d;
  rhs_body_t<float, Stage::derivs>(n, st, in, gkf, a);
}
#endif

#define ISLET_STAGES(F)                                                                                    \
  {F<Stage::derivs, false>, F<Stage::euler, false>, F<Stage::rk_first, false>, F<Stage::rk_mid, false>,    \
   F<Stage::rk_last, false>, F<Stage::derivs, true>,  F<Stage::euler, true>,   F<Stage::rk_first, true>, \
   F<Stage::rk_mid, true>,   F<Stage::rk_last, true>}

StageTable table_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return StageTable ISLET_STAGES(body_avx512);
  if (isa == Isa::avx2) return StageTable ISLET_STAGES(body_avx2);
#endif
  return StageTable ISLET_STAGES(body_baseline);
}

RhsFloatFn fnf_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return rhsf_avx512;
  if (isa == Isa::avx2) return rhsf_avx2;
#endif
  return rhsf_baseline;
}

Isa g_isa = best_isa();
StageTable g_table = table_for(g_isa);
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
  g_table = table_for(isa);
}

void rhs(std::size_t n, const double* __restrict st, const double* __restrict in, double gkf, double* __restrict d) {
  StageArgs<double> a;
  a.d = d;
  g_table[static_cast<int>(Stage::derivs)](n, st, in, gkf, a);
}

void stage(Stage m, bool shared_resp, std::size_t n, const double* __restrict st, const double* __restrict in,
           double gkf, const StageArgs<double>& a) {
  g_table[(shared_resp ? kNumStages : 0) + static_cast<int>(m)](n, st, in, gkf, a);
}

void rhs_float(std::size_t n, const float* __restrict st, const float* __restrict in, float gkf,
               float* __restrict d) {
  fnf_for(g_isa)(n, st, in, gkf, d);
}

}  // namespace isletsim::kernel
