// Roofline-style bound for the cell kernel on this machine (issue 3).
//
// 1. Times the kernel (derivatives only, the variant the default parameters
//    use: one shared respiration exp) on one block (kernel::kBlock cells)
//    that stays in L1: ns per cell evaluation, the kernel's real cost
//    without memory traffic.
// 2. Measures this core's throughput for the instruction classes the kernel
//    is made of (independent operations, 8 accumulators, the widest vectors
//    the build allows): multiply/FMA, add, divide, square root.
// 3. Counts the kernel's instructions per vector of cells in its compiled
//    code (objdump of this very program, the function timed in 1) and
//    combines them into a lower bound on the time per cell evaluation: the
//    busiest execution resource decides (FMA/multiply pipes, add pipes, the
//    divider).
// Usage: roofline [avx512|avx2|baseline]  (default: the best the CPU has;
// another instruction set only times the kernel, as the counts are of the
// AVX-512 variant)
// GCC 12's AVX-512 intrinsics (_mm512_sqrt_pd, _mm512_reduce_add_pd) use
// _mm512_undefined_pd() and trip false -Wmaybe-uninitialized warnings.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "isletsim/model.hpp"
#include "model/bertram2007/kernel.hpp"

namespace bertram = isletsim::bertram2007;
namespace kernel = isletsim::bertram2007::kernel;

using namespace isletsim;
using Clock = std::chrono::steady_clock;

#if defined(__AVX512F__)
using V = __m512d;
constexpr int kLanes = 8;
#define VSET1 _mm512_set1_pd
#define VMUL _mm512_mul_pd
#define VADD _mm512_add_pd
#define VDIV _mm512_div_pd
#define VSQRT _mm512_sqrt_pd
#define VSUM(v) _mm512_reduce_add_pd(v)
#elif defined(__AVX2__)
using V = __m256d;
constexpr int kLanes = 4;
#define VSET1 _mm256_set1_pd
#define VMUL _mm256_mul_pd
#define VADD _mm256_add_pd
#define VDIV _mm256_div_pd
#define VSQRT _mm256_sqrt_pd
static double vsum(__m256d v) {
  alignas(32) double a[4];
  _mm256_store_pd(a, v);
  return a[0] + a[1] + a[2] + a[3];
}
#define VSUM(v) vsum(v)
#else
#error "roofline needs AVX2 or AVX-512"
#endif

// ns per vector instruction of one kind, 8 independent chains.
template <class Op>
double throughput_ns(Op op) {
  V a[8];
  for (int i = 0; i < 8; ++i) a[i] = VSET1(1.0 + 1e-3 * i);
  const V b = VSET1(1.0000001);
  constexpr long N = 4'000'000;
  double best = 1e9;
  for (int rep = 0; rep < 5; ++rep) {
    const auto t0 = Clock::now();
    for (long k = 0; k < N; ++k)
      for (int i = 0; i < 8; ++i) a[i] = op(a[i], b);
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    best = std::min(best, s / (N * 8.0) * 1e9);
  }
  double sink = 0;
  for (auto& v : a) sink += VSUM(v);
  if (sink == 42.4242) std::printf("!");
  return best;
}

// Packed double instructions of the AVX-512 kernel variant timed below,
// by class, from this program's own disassembly.
struct Counts {
  int mul = 0, add = 0, div = 0, sqrt = 0;
  bool found = false;
};
Counts count_kernel_instructions() {
  Counts c;
  // (/proc/self/exe read here: in the objdump child it would be objdump)
  char exe[4096] = {};
  const ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (len <= 0) return c;
  const std::string cmd = std::string("objdump -d --no-show-raw-insn -C '") + exe + "' 2>/dev/null";
  std::FILE* f = popen(cmd.c_str(), "r");
  if (!f) return c;
  char line[4096];
  bool in = false;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strchr(line, '<') && std::strstr(line, ">:")) {  // a function starts
      in = std::strstr(line, "body_avx512<(isletsim::model_abi::Stage)0, true>") != nullptr;
      c.found = c.found || in;
      continue;
    }
    if (!in || !std::strstr(line, "zmm")) continue;
    const char* op = line;
    while (*op && *op != 'v') ++op;  // the mnemonic (after the address and tab)
    const std::string m(op, std::strcspn(op, " \t"));
    if (m == "vmulpd" || m.rfind("vfmadd", 0) == 0 || m.rfind("vfnmadd", 0) == 0 || m.rfind("vfmsub", 0) == 0 ||
        m.rfind("vfnmsub", 0) == 0)
      ++c.mul;
    else if (m == "vaddpd" || m == "vsubpd")
      ++c.add;
    else if (m == "vdivpd")
      ++c.div;
    else if (m == "vsqrtpd")
      ++c.sqrt;
  }
  pclose(f);
  return c;
}

int main(int argc, char** argv) {
  if (argc > 1) {
    const std::string want = argv[1];
    const isletsim::model_abi::Isa isa = want == "avx512" ? isletsim::model_abi::Isa::avx512
                            : want == "avx2" ? isletsim::model_abi::Isa::avx2
                                             : isletsim::model_abi::Isa::baseline;
    if (want != "avx512" && want != "avx2" && want != "baseline") {
      std::fprintf(stderr, "roofline: unknown instruction set '%s' (avx512, avx2 or baseline)\n", argv[1]);
      return 2;
    }
    isletsim::model_abi::force_isa(isa);  // throws if the CPU lacks it
    std::printf("instruction set: %s\n", isletsim::model_abi::isa_name(isa));
  }
  // 1. The kernel on one block in L1.
  constexpr std::size_t B = kernel::kBlock;
  std::vector<double> st(bertram2007::kNumStates * B), in(kernel::kRows * B, 0.0), out(bertram2007::kNumStates * B);
  std::vector<double> P(bertram2007::kNumParams), D(kernel::derived::kNumDerived);
  for (int k = 0; k < bertram2007::kNumStates; ++k)
    for (std::size_t j = 0; j < B; ++j) st[k * B + j] = model_states()[k].initial * (1.0 + 1e-4 * j);
  for (int k = 0; k < bertram2007::kNumParams; ++k) P[k] = model_params()[k].default_value;
  kernel::derive(P.data(), D.data());
  for (int k = 0; k < bertram2007::kNumParams; ++k)
    for (std::size_t j = 0; j < B; ++j) in[(kernel::kRowParam + k) * B + j] = P[k];
  for (int k = 0; k < kernel::derived::kNumDerived; ++k)
    for (std::size_t j = 0; j < B; ++j) in[(kernel::kRowDerived + k) * B + j] = D[k];
  kernel::StageArgs<double> a;
  a.d = out.data();
  double best = 1e9, sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    constexpr int R = 100000;
    const auto t0 = Clock::now();
    for (int r = 0; r < R; ++r) {
      kernel::stage(kernel::Stage::derivs, true, B, st.data(), in.data(), 1.0, a);
      sink += out[r % out.size()];
    }
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count() / (R * double(B)) * 1e9);
  }

  // 2. Instruction throughput.
  const double t_mul = throughput_ns([](V x, V y) { return VMUL(x, y); });
  const double t_add = throughput_ns([](V x, V y) { return VADD(x, y); });
  const double t_div = throughput_ns([](V x, V y) { return VDIV(x, y); });
  const double t_sqrt = throughput_ns([](V x, V) { return VSQRT(x); });

  // 3. Instruction counts per vector iteration of the kernel loop (the
  //    AVX-512 variant's one vector loop body).
  const Counts n = count_kernel_instructions();
  if (!n.found || kLanes != 8 || isletsim::model_abi::active_isa() != isletsim::model_abi::Isa::avx512) {
    std::printf("measured kernel: %.2f ns per cell evaluation\n", best);
    std::printf("no bound: needs objdump and an AVX-512 CPU (the instruction counts are those of the AVX-512 variant)\n");
    return 0;
  }
  const double n_mul = n.mul, n_add = n.add, n_div = n.div, n_sqrt = n.sqrt;
  const double per_lane = 1.0 / kLanes;
  const double b_mul = n_mul * t_mul * per_lane, b_add = n_add * t_add * per_lane;
  const double b_div = (n_div * t_div + n_sqrt * t_sqrt) * per_lane;
  const double bound = std::max({b_mul, b_add, b_div});
  std::printf("vector width: %d doubles\n", kLanes);
  std::printf("measured throughput, ns per vector instruction: mul/fma %.3f  add %.3f  div %.3f  sqrt %.3f\n",
              t_mul, t_add, t_div, t_sqrt);
  std::printf("kernel instructions per vector of %d cells: %g mul/fma, %g add/sub, %g div, %g sqrt\n", kLanes, n_mul,
              n_add, n_div, n_sqrt);
  std::printf("bound per cell evaluation (ns): mul/fma pipes %.2f, add pipes %.2f, divider %.2f -> %.2f\n", b_mul,
              b_add, b_div, bound);
  std::printf("measured kernel: %.2f ns per cell evaluation = %.0f%% of the bound's speed\n", best,
              100.0 * bound / best);
  std::printf("bound: %.3g cell evaluations per second per core; measured %.3g\n", 1e9 / bound, 1e9 / best);
  if (sink == 42.4242) std::printf("!");
  return 0;
}
