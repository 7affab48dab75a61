#pragma once
// One cell of any model integrated by classic RK4 through its kernel
// (Stage::derivs), for checking a model's equations against its reference
// solution independently of the engine (tests only).
#include <cstddef>
#include <vector>

#include "isletsim/model.hpp"
#include "model/model_abi.hpp"

namespace isletsim::testing {

struct SingleCellTrace {
  std::vector<double> t_ms;
  std::vector<std::vector<double>> x;  // [state][sample]
};

// From `initial` (the state table's initial values when empty) for t_end_ms at
// step dt_ms, sampling every `every` steps (step 0 included); `stim` is the
// kernel's stimulus (the model's stimulus_of_glucose(G)); `params` overrides
// the parameter table's defaults when not empty. No coupling.
inline SingleCellTrace integrate_single(const ModelInfo& m, double dt_ms, double t_end_ms, std::size_t every,
                                        double stim, std::vector<double> initial = {},
                                        std::vector<double> params = {}) {
  using namespace model_abi;
  const std::size_t S = m.states.size(), P = m.params.size(), D = m.kernel->n_derived, C = m.coupled.size();
  if (initial.empty())
    for (const auto& s : m.states) initial.push_back(s.initial);
  if (params.empty())
    for (const auto& p : m.params) params.push_back(p.default_value);
  std::vector<double> derived(D);
  if (D) m.kernel->derive(params.data(), derived.data());
  std::vector<double> in((P + D + C) * kBlock, 0.0);
  for (std::size_t k = 0; k < P; ++k) in[k * kBlock] = params[k];
  for (std::size_t k = 0; k < D; ++k) in[(P + k) * kBlock] = derived[k];
  const int variant = m.kernel->variant ? m.kernel->variant(params.data()) : 0;
  const StageFn f = m.kernel->table(Isa::baseline)[variant][static_cast<int>(Stage::derivs)];
  std::vector<double> y(S * kBlock, 0.0), tmp(S * kBlock, 0.0), k1(S * kBlock), k2(S * kBlock), k3(S * kBlock),
      k4(S * kBlock);
  for (std::size_t k = 0; k < S; ++k) y[k * kBlock] = initial[k];
  const auto rhs = [&](const std::vector<double>& s, std::vector<double>& d) {
    StageArgs<double> a;
    a.d = d.data();
    f(1, s.data(), in.data(), stim, a);
  };
  SingleCellTrace tr;
  tr.x.assign(S, {});
  const auto n_steps = static_cast<std::size_t>(t_end_ms / dt_ms + 0.5);
  for (std::size_t step = 0;; ++step) {
    if (step % every == 0) {
      tr.t_ms.push_back(static_cast<double>(step) * dt_ms);
      for (std::size_t k = 0; k < S; ++k) tr.x[k].push_back(y[k * kBlock]);
    }
    if (step == n_steps) break;
    rhs(y, k1);
    for (std::size_t k = 0; k < S; ++k) tmp[k * kBlock] = y[k * kBlock] + 0.5 * dt_ms * k1[k * kBlock];
    rhs(tmp, k2);
    for (std::size_t k = 0; k < S; ++k) tmp[k * kBlock] = y[k * kBlock] + 0.5 * dt_ms * k2[k * kBlock];
    rhs(tmp, k3);
    for (std::size_t k = 0; k < S; ++k) tmp[k * kBlock] = y[k * kBlock] + dt_ms * k3[k * kBlock];
    rhs(tmp, k4);
    for (std::size_t k = 0; k < S; ++k) {
      const std::size_t i = k * kBlock;
      y[i] += dt_ms / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
    }
  }
  return tr;
}

}  // namespace isletsim::testing
