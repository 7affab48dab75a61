#pragma once
// The integrators as sequences of explicit stages. A stage (the engine's
// Engine::stage) evaluates the derivatives of one state set over a thread's
// cells and combines them, in the kernel, as its Stage mode says; this file
// says which stages a step runs, on which buffers, at which times. Runs
// every step: a header template, inlined into the engine's step.
#include <utility>

#include "engine/layout.hpp"
#include "isletsim/engine.hpp"
#include "model/model_abi.hpp"

namespace isletsim::engine {

// Every thread keeps its own view of which buffer is current (all views
// agree: they flip at the same steps).
struct View {
  StateSet* cur;
  StateSet* nxt;
};

// One step from t_ms to t_ms + dt. wait() comes before every stage (the
// neighbours have done their part of the previous one); run(mode, in, base,
// out, h, w, t) is a stage of input `in` at time t, combined into `base`
// (the step's start state), `out` and the accumulator. a and b: the RK4
// stage buffers (a is also Euler's other buffer, view.nxt).
template <class Wait, class RunStage>
inline void integrator_step(Integrator method, double t_ms, double dt, View& view, StateSet& a, StateSet& b,
                            Wait&& wait, RunStage&& run) {
  using model_abi::Stage;
  if (method == Integrator::euler) {
    // y(t+dt) = y + dt f(y), written to the other buffer, then swapped.
    wait();
    run(Stage::euler, *view.cur, view.cur, view.nxt, dt, 0.0, t_ms);
    std::swap(view.cur, view.nxt);
  } else {
    // Classical RK4; stage inputs alternate between buffers a and b so a
    // stage never writes what a neighbour may still be reading.
    // acc = k1 + 2 k2 + 2 k3; stage input = y + h k; y += dt/6 (acc + k4).
    StateSet& y = *view.cur;
    const double h2 = 0.5 * dt, h6 = dt / 6.0;
    wait();
    run(Stage::rk_first, y, &y, &a, h2, 0.0, t_ms);
    wait();
    run(Stage::rk_mid, a, &y, &b, h2, 2.0, t_ms + h2);
    wait();
    run(Stage::rk_mid, b, &y, &a, dt, 2.0, t_ms + h2);
    wait();
    run(Stage::rk_last, a, &y, nullptr, h6, 0.0, t_ms + dt);
  }
}

}  // namespace isletsim::engine
