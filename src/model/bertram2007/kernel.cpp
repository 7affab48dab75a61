// The cell kernel compiled for several instruction sets, chosen at run time
// (x86-64: AVX-512 = x86-64-v4, AVX2+FMA = x86-64-v3, else the baseline this
// file is compiled for), each in one variant per Stage (the integrators'
// update fused into the loop). The results are the same bits on every path
// (see fastmath.hpp); only the speed differs.
#include <array>
#include <stdexcept>

#include "model/bertram2007/kernel.hpp"

namespace isletsim::bertram2007::kernel {

namespace {
using RhsFloatFn = void (*)(std::size_t, const float*, const float*, float, float*);

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

#define ISLET_ROW(F, S)                                                                                        \
  std::array<model_abi::StageFn, model_abi::kNumStages> {                                                      \
    F<Stage::derivs, S>, F<Stage::euler, S>, F<Stage::rk_first, S>, F<Stage::rk_mid, S>, F<Stage::rk_last, S> \
  }
#define ISLET_STAGES(F) model_abi::StageTable{ISLET_ROW(F, false), ISLET_ROW(F, true)}

RhsFloatFn fnf_for(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return rhsf_avx512;
  if (isa == Isa::avx2) return rhsf_avx2;
#endif
  return rhsf_baseline;
}
}  // namespace

model_abi::StageTable stage_table(Isa isa) {
#if defined(__x86_64__)
  if (isa == Isa::avx512) return ISLET_STAGES(body_avx512);
  if (isa == Isa::avx2) return ISLET_STAGES(body_avx2);
#endif
  return ISLET_STAGES(body_baseline);
}

void rhs(std::size_t n, const double* __restrict st, const double* __restrict in, double gkf, double* __restrict d) {
  StageArgs<double> a;
  a.d = d;
  stage_table(model_abi::active_isa())[0][static_cast<int>(Stage::derivs)](n, st, in, gkf, a);
}

void stage(Stage m, bool shared_resp, std::size_t n, const double* __restrict st, const double* __restrict in,
           double gkf, const StageArgs<double>& a) {
  stage_table(model_abi::active_isa())[shared_resp ? 1 : 0][static_cast<int>(m)](n, st, in, gkf, a);
}

void rhs_float(std::size_t n, const float* __restrict st, const float* __restrict in, float gkf,
               float* __restrict d) {
  fnf_for(model_abi::active_isa())(n, st, in, gkf, d);
}

}  // namespace isletsim::bertram2007::kernel
