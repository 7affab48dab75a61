#pragma once
// What a cell model gives the engine (the model "ABI"; docs/models/adding.md).
//
// A model is one folder, src/model/<name>/: its tables (states, parameters,
// coupled variables, stimulus), its derived parameters and its kernel body.
// The engine calls the kernel on blocks of up to kBlock cells:
//
//   st  the state block: one row of kBlock values per state variable, in the
//       order of the model's state table (state k of cell j at st[k * kBlock + j]);
//   in  the input block, rows of kBlock values:
//         [0, P)          the parameters, in the order of the parameter table
//                         (per-cell values, or one value broadcast);
//         [P, P + D)      the derived parameters (Kernel::derive of each cell's
//                         parameters, computed once per run);
//         [P + D, + C)    one row per coupled variable (the model's coupled
//                         table, in order): the gap-junction term the engine
//                         computed for that cell (see CouplingForm);
//   stim  the stimulus of this step, the same for every cell: the model's
//         stimulus function of the glucose protocol's G(t) (mM);
//
// and the body writes the derivatives (units per ms), combined with the
// integrator's update as `Stage` says, into the blocks of StageArgs.
// Every body is one plain loop over j in [0, n) that the compiler vectorises
// (`#pragma omp simd`), with explicit std::fma where a fused multiply-add is
// meant (the build forbids implicit contraction: the same bits on every
// instruction set), and fastmath::exp / fastmath::log for exp and log.
#include <array>
#include <cstddef>

#include "core/fastmath.hpp"

namespace isletsim::model_abi {

constexpr std::size_t kBlock = 32;  // cells per kernel call

// What a kernel call does with the derivatives d (per variable k, cell j, rows
// of kBlock values): the integrators' update loops fused into the kernel, so
// the derivatives never go through memory. Each update is one fma.
enum class Stage {
  derivs,    // a.d = d
  euler,     // a.out = a.y + a.h d
  rk_first,  // a.acc = d;            a.out = a.y + a.h d
  rk_mid,    // a.acc = a.acc + a.w d; a.out = a.y + a.h d
  rk_last,   // a.y = a.y + a.h (a.acc + d)   (in place)
};
constexpr int kNumStages = 5;

template <class T>
struct StageArgs {
  T* d = nullptr;    // derivs
  T* y = nullptr;    // base state block (written by rk_last only)
  T* out = nullptr;  // next state block
  T* acc = nullptr;  // RK4 accumulator block
  T h = 0, w = 0;
};

// The update of state row k, cell j, with derivative dk (call once per state
// at the end of a body, for k = 0 .. n_states - 1).
template <Stage M, class T>
[[gnu::always_inline]] inline void store(const StageArgs<T>& a, std::size_t i, T dk) {
  using std::fma;
  if constexpr (M == Stage::derivs) {
    a.d[i] = dk;
  } else if constexpr (M == Stage::euler) {
    a.out[i] = fma(a.h, dk, a.y[i]);
  } else if constexpr (M == Stage::rk_first) {
    a.acc[i] = dk;
    a.out[i] = fma(a.h, dk, a.y[i]);
  } else if constexpr (M == Stage::rk_mid) {
    a.acc[i] = fma(a.w, dk, a.acc[i]);
    a.out[i] = fma(a.h, dk, a.y[i]);
  } else {
    a.y[i] = fma(a.h, a.acc[i] + dk, a.y[i]);
  }
}

// Instruction sets each kernel is compiled for; the best one the CPU has is
// used unless forced. Every one gives the same bits.
enum class Isa { baseline, avx2, avx512 };
const char* isa_name(Isa);
Isa best_isa();           // what this CPU supports
Isa active_isa();         // what the engine uses (best_isa() unless forced)
void force_isa(Isa isa);  // tests and benchmarks; throws if the CPU lacks it

using StageFn = void (*)(std::size_t n, const double* __restrict st, const double* __restrict in, double stim,
                         const StageArgs<double>& a);
constexpr int kMaxVariants = 2;
// [variant][stage]
using StageTable = std::array<std::array<StageFn, kNumStages>, kMaxVariants>;

struct Kernel {
  std::size_t n_derived = 0;
  // Derived parameters of one cell from its parameters P (table order) into
  // D[n_derived]; nullptr when n_derived == 0.
  void (*derive)(const double* P, double* D) = nullptr;
  // Which body variant a cell's parameters P (table order) allow: a cheaper
  // body, e.g. when two exps are equal. A run uses variant v when every cell
  // allows it, else 0 (every variant must give the same bits). nullptr: 0.
  int (*variant)(const double* P) = nullptr;
  // The stage functions compiled for an instruction set.
  StageTable (*table)(Isa) = nullptr;
};

}  // namespace isletsim::model_abi

// Derived parameters from an X-list LIST(D) of D(name, expression in P[...]):
// ISLET_MODEL_DERIVED_ENUM(LIST) declares `namespace derived { enum Derived
// { name..., kNumDerived }; }`, and ISLET_MODEL_DERIVED_ASSIGN(LIST), inside a
// model's `derive(const double* P, double* out)` (after any locals the
// expressions use), stores each expression in out[derived::name].
#define ISLET_MODEL_DERIVED_NAME_(name, expr) name,
#define ISLET_MODEL_DERIVED_EVAL_(name, expr) out[derived::name] = (expr);
#define ISLET_MODEL_DERIVED_ENUM(LIST) \
  namespace derived {                  \
  enum Derived : int { LIST(ISLET_MODEL_DERIVED_NAME_) kNumDerived }; \
  }
#define ISLET_MODEL_DERIVED_ASSIGN(LIST) LIST(ISLET_MODEL_DERIVED_EVAL_)

// Defines `model_abi::StageTable stage_table(model_abi::Isa)` in the current
// namespace for a body template BODY<T, Stage M, int Variant>(n, st, in, stim, a),
// compiled for the baseline and, on x86-64, for AVX2 (x86-64-v3) and AVX-512
// (x86-64-v4). NV: the number of variants (1 or 2). Use it in the model's
// kernel.cpp (compiled for the baseline: see CMakeLists.txt).
#define ISLET_MODEL_KERNEL_TABLE_COMMON(BODY)                                                                      \
  template <::isletsim::model_abi::Stage M, int V>                                                              \
  void islet_body_baseline(std::size_t n, const double* __restrict st, const double* __restrict in, double stim, \
                           const ::isletsim::model_abi::StageArgs<double>& a) {                                 \
    BODY<double, M, V>(n, st, in, stim, a);                                                                      \
  }
#if defined(__x86_64__)
#define ISLET_MODEL_KERNEL_TABLE_X86(BODY)                                                                         \
  template <::isletsim::model_abi::Stage M, int V>                                                              \
  __attribute__((target("arch=x86-64-v3"))) void islet_body_avx2(                                                \
      std::size_t n, const double* __restrict st, const double* __restrict in, double stim,                     \
      const ::isletsim::model_abi::StageArgs<double>& a) {                                                        \
    BODY<double, M, V>(n, st, in, stim, a);                                                                      \
  }                                                                                                              \
  template <::isletsim::model_abi::Stage M, int V>                                                              \
  __attribute__((target("arch=x86-64-v4"))) void islet_body_avx512(                                              \
      std::size_t n, const double* __restrict st, const double* __restrict in, double stim,                     \
      const ::isletsim::model_abi::StageArgs<double>& a) {                                                        \
    BODY<double, M, V>(n, st, in, stim, a);                                                                      \
  }
#define ISLET_MODEL_PICK(F)                                                                                        \
  if (isa == ::isletsim::model_abi::Isa::avx512) return ISLET_MODEL_ROWS(islet_body_avx512);                      \
  if (isa == ::isletsim::model_abi::Isa::avx2) return ISLET_MODEL_ROWS(islet_body_avx2);
#else
#define ISLET_MODEL_KERNEL_TABLE_X86(BODY)
#define ISLET_MODEL_PICK(F)
#endif
#define ISLET_MODEL_ROW(F, V)                                                                                      \
  std::array<::isletsim::model_abi::StageFn, ::isletsim::model_abi::kNumStages> {                                \
    F<::isletsim::model_abi::Stage::derivs, V>, F<::isletsim::model_abi::Stage::euler, V>,                       \
        F<::isletsim::model_abi::Stage::rk_first, V>, F<::isletsim::model_abi::Stage::rk_mid, V>,                \
        F<::isletsim::model_abi::Stage::rk_last, V>                                                              \
  }
#define ISLET_MODEL_ROWS(F) ::isletsim::model_abi::StageTable{ISLET_MODEL_ROW(F, 0), ISLET_MODEL_ROW(F, (NV_ > 1 ? 1 : 0))}
#define ISLET_MODEL_KERNEL_TABLE(BODY, NV)                                                                         \
  ISLET_MODEL_KERNEL_TABLE_COMMON(BODY)                                                                          \
  ISLET_MODEL_KERNEL_TABLE_X86(BODY)                                                                             \
  ::isletsim::model_abi::StageTable stage_table(::isletsim::model_abi::Isa isa) {                                 \
    constexpr int NV_ = (NV);                                                                                    \
    ISLET_MODEL_PICK(F)                                                                                          \
    (void)isa;                                                                                                   \
    return ISLET_MODEL_ROWS(islet_body_baseline);                                                                \
  }
