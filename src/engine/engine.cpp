#include "isletsim/engine.hpp"

#include <omp.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "engine/aligned.hpp"
#include "engine/barrier.hpp"
#include "engine/dopri5.hpp"
#include "engine/gather.hpp"
#include "engine/layout.hpp"
#include "engine/partition.hpp"
#include "engine/recorder.hpp"
#include "engine/stages.hpp"
#include "isletsim/error.hpp"
#include "model/model_abi.hpp"

// The Engine: set-up of the kernel's input rows from the problem, the
// persistent parallel region, the control loop (stop and finite checks,
// load balancing, recording) and the stages over a thread's cells. The
// pieces it is built from live beside it: the state layout (layout.hpp),
// the cell order and the split between threads (partition.hpp), the
// coupling gather (gather.hpp), the integrators' stage sequence
// (stages.hpp) and the asynchronous writer (async_writer.hpp).

namespace isletsim {

using model_abi::Stage;

std::string to_string(Integrator m) {
  switch (m) {
    case Integrator::euler: return "euler";
    case Integrator::dopri5: return "dopri5";
    default: return "rk4";
  }
}

Integrator integrator_from_string(const std::string& s) {
  if (s == "euler") return Integrator::euler;
  if (s == "rk4") return Integrator::rk4;
  if (s == "dopri5") return Integrator::dopri5;
  throw InputError("unknown integrator '" + s + "' (expected \"rk4\", \"euler\" or \"dopri5\")" +
                   did_you_mean(s, {"rk4", "euler", "dopri5"}));
}

double default_dt_ms(Integrator m) { return m == Integrator::euler ? 0.1 : 0.5; }

namespace {

using namespace engine;  // the engine's own pieces (src/engine/*.hpp)

constexpr std::uint64_t kControlEvery = 1000;  // steps between stop/finite checks

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// What a thread found at a control point.
struct alignas(64) ThreadFlags {
  std::size_t bad_cell = SIZE_MAX;  // smallest cell id with a non-finite state
  int bad_var = -1;
  double bad_value = 0;
};

// --profile's clock: on x86-64 the time-stamp counter (a read costs ~10 ns
// on the Zen 5 test VM against ~24 ns for steady_clock, and the profile
// reads it three times per block and stage: --profile's overhead on a
// 1000-cell Euler step fell from ~20% to a few %), elsewhere steady_clock's
// nanoseconds. Ticks are turned into seconds with the rate measured over
// the whole run (Engine::run); the counter runs at a constant rate on every
// core of x86-64 CPUs of the last 15 years (constant_tsc).
struct ProfClock {
  static std::uint64_t now() {
#if defined(__x86_64__)
    return __rdtsc();
#else
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count());
#endif
  }
};

// Per thread: profile ticks (ProfClock) per phase.
struct PhaseTimes {
  double kernel = 0, coupling = 0, recording = 0, sync = 0;
};

class Engine {
 public:
  Engine(const EngineProblem& p, SampleSink* sink, const RunOptions& opt)
      : p_(p),
        m_(p.the_model()),
        sink_(sink),
        opt_(opt),
        perm_(cell_order(p.graph)),
        rec_(sink, p.record_vars.size(), p.record_block, opt.encode_on_compute, perm_) {
    n_ = p.n_cells;
    S_ = m_.states.size(), P_ = m_.params.size(), D_ = m_.kernel->n_derived, C_ = m_.coupled.size();
    lay_.stride = S_ * kBlock;
    fns_ = m_.kernel->table(model_abi::active_isa());
    uniform_.assign(P_ + D_ + C_, 0.0);
    // Coupled variables: the state rows read, the input rows written, and
    // the coefficient (see gather).
    for (std::size_t c = 0; c < C_ && c < kMaxCoupled; ++c) {
      const CoupledVarInfo& cv = m_.coupled[c];
      const double g = c < p.coupling.size() ? p.coupling[c] : 0.0;
      cg_.var_row[c] = static_cast<std::size_t>(*find_state(m_, cv.state)) * kBlock;
      cg_.out_row[c] = P_ + D_ + c;
      cg_.coef[c] = cv.form == CouplingForm::current ? -g : cv.factor * g;
      cg_.on[c] = g != 0;
    }
    npad_ = (n_ + kSimd - 1) / kSimd * kSimd;
    if (npad_ == 0) npad_ = kSimd;
    // Cells are stored in an internal order (see rcm_order); everything the
    // caller sees (recording, final state, messages) uses the original ids.
    // Within each kernel block, cells sorted by degree (stable): the gather's
    // slices of kSimd cells then hold cells of similar degree, so less of the
    // ELL width is padding (see cell_order).
    // (perm_ = cell_order(p.graph) is built in the initialiser list: the
    // recorder takes it.)
    // Original id whose values internal slot i holds (padding repeats the last cell).
    const auto src = [&](std::size_t i) { return perm_[std::min(i, n_ - 1)]; };
    // The per-cell input rows (parameters, then derived parameters) and
    // their values in internal order.
    std::vector<std::vector<double>> het_values;
    for (std::size_t k = 0; k < P_; ++k) {
      const Column& col = p.params[k];
      if (col.per_cell()) {
        het_rows_.push_back(k);
        het_values.emplace_back(npad_);
        for (std::size_t i = 0; i < npad_; ++i) het_values.back()[i] = col.values[src(i)];
      } else {
        uniform_[k] = col.uniform;
      }
    }
    // Derived parameters: per cell where they vary, else one broadcast value.
    if (D_ > 0) {
      std::vector<double> pc(P_), d(D_);
      std::vector<std::vector<double>> values(D_, std::vector<double>(npad_));
      for (std::size_t i = 0; i < npad_; ++i) {
        for (std::size_t k = 0; k < P_; ++k) pc[k] = p.params[k].at(src(i));
        m_.kernel->derive(pc.data(), d.data());
        for (std::size_t k = 0; k < D_; ++k) values[k][i] = d[k];
      }
      for (std::size_t k = 0; k < D_; ++k) {
        const auto& vk = values[k];
        const bool uniform = std::all_of(vk.begin(), vk.end(), [&](double x) { return x == vk[0]; });
        if (uniform) {
          uniform_[P_ + k] = values[k][0];
        } else {
          het_rows_.push_back(P_ + k);
          het_values.push_back(std::move(values[k]));
        }
      }
    }
    // The kernel variant every cell allows (e.g. one exp fewer), else 0.
    if (m_.kernel->variant) {
      std::vector<double> pc(P_);
      for (std::size_t i = 0; i < n_; ++i) {
        for (std::size_t k = 0; k < P_; ++k) pc[k] = p.params[k].at(i);
        const int v = m_.kernel->variant(pc.data());
        if (i == 0) variant_ = v;
        if (v != variant_) {
          variant_ = 0;
          break;
        }
      }
      if (variant_ < 0 || variant_ >= model_abi::kMaxVariants) variant_ = 0;
    }
    // The per-cell rows block by block, in the kernel's row layout: block
    // b's rows lie together, [b][het row][kBlock], so load_block reads one
    // contiguous run of memory per block (one stream for the hardware
    // prefetcher) instead of one run in each row's own array (issue 13,
    // item 5: whole Euler step ~5% faster with the default heterogeneity's
    // 7 per-cell rows; BENCHMARKS.md). + 1 row: load_block copies whole
    // rows from a segment's first cell, which may lie inside a block.
    {
      const std::size_t nb = (npad_ + kBlock - 1) / kBlock, nh = het_rows_.size();
      het_block_.assign((nb * nh + 1) * kBlock, 0.0);
      for (std::size_t r = 0; r < nh; ++r)
        for (std::size_t i = 0; i < npad_; ++i) het_block_[(i / kBlock * nh + r) * kBlock + i % kBlock] = het_values[r][i];
    }
    cg_.ell = build_ell(p.graph, perm_, npad_, lay_);
    gather_ = cg_.pick();
    y_.resize(npad_, lay_);
    for (std::size_t k = 0; k < S_; ++k) {
      const Column& col = p.initial[k];
      for (std::size_t i = 0; i < npad_; ++i) y_.at(i, static_cast<int>(k)) = col.at(src(i));
    }
    a_.resize(npad_, lay_);
    if (p.integrator == Integrator::rk4) {
      b_.resize(npad_, lay_);
      acc_.resize(npad_, lay_);
    }
    if (is_adaptive(p.integrator)) {
      b_.resize(npad_, lay_);
      ynew_.resize(npad_, lay_);
      for (auto& k : k_) k.resize(npad_, lay_);
      // The error weight of state r: tolerance x (scale_r + |y|).
      for (std::size_t r = 0; r < S_; ++r) {
        const double s = r < m_.error_scale.size() ? m_.error_scale[r]
                                                   : std::max(1e-6, 0.01 * std::abs(m_.states[r].initial));
        err_scale_.push_back(s);
      }
    }
    if (sink && opt.checkpoint_every > 0) ckpt_state_.assign(S_, std::vector<double>(n_));
  }

  RunResult run() {
    const auto t0 = Clock::now();
    const std::uint64_t ticks0 = ProfClock::now();
    const unsigned T = std::max(1u, opt_.threads);
    unsigned actual = T;
#pragma omp parallel num_threads(T)
    {
      // With OMP_DYNAMIC the runtime may give fewer threads: everyone agrees on
      // the real count before any barrier is used.
      const unsigned nt = static_cast<unsigned>(omp_get_num_threads());
#pragma omp single
      {
        actual = nt;
        barrier_ptr_ = std::make_unique<SpinBarrier>(nt);
        for (auto& f : flags_) f.assign(nt, {});
        for (auto& l : load_) l.assign(nt, {});
        times_.assign(nt, {});
        for (auto& e : errs_) e.assign(nt, {});
        nsync_.init(nt);
      }
      SpinBarrier& bar = *barrier_ptr_;
      if (is_adaptive(p_.integrator)) {
        if (opt_.profile)
          thread_adaptive<true>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
        else
          thread_adaptive<false>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
      } else if (opt_.profile)
        thread_main<true>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
      else
        thread_main<false>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
    }
    rec_.writer().wait_idle();
    result_.wall_s = seconds_since(t0);
    const std::uint64_t ticks = ProfClock::now() - ticks0;
    const double per_tick = ticks > 0 ? result_.wall_s / static_cast<double>(ticks) : 0.0;
    result_.samples = rec_.samples();
    // A write error stops the run at the next control point (seen there as a
    // stop request): it failed, it was not interrupted.
    if (const std::string err = rec_.writer().error(); !err.empty() && result_.status != RunResult::Status::failed) {
      result_.status = RunResult::Status::failed;
      result_.message = "writing output failed: " + err;
    }
    Profile& pr = result_.profile;
    pr.threads = actual;
    pr.total_wall = result_.wall_s;
    pr.writer_cpu = rec_.writer().cpu_seconds();
    for (const auto& t : times_) {
      pr.kernel += t.kernel * per_tick;
      pr.coupling += t.coupling * per_tick;
      pr.recording += t.recording * per_tick;
      pr.sync += t.sync * per_tick;
    }
    result_.final_state.resize(S_);
    for (std::size_t k = 0; k < S_; ++k) {
      result_.final_state[k].resize(n_);
      for (std::size_t i = 0; i < n_; ++i) result_.final_state[k][perm_[i]] = final_->at(i, static_cast<int>(k));
    }
    return result_;
  }

 private:
  template <bool Prof>
  struct Timer {
    std::uint64_t t = 0;
    Timer() {
      if constexpr (Prof) t = ProfClock::now();
    }
    void lap(double& acc) {  // acc: ticks
      if constexpr (Prof) {
        const std::uint64_t now = ProfClock::now();
        acc += static_cast<double>(now - t);
        t = now;
      }
    }
  };

  // Fills the thread's scratch block for cells [lo, lo+m) (one block of
  // the state layout) of state set `in`: per-cell parameters and the
  // gap-junction terms. The states themselves are read in place.
  template <bool Prof>
  void load_block(const StateSet& in, std::size_t lo, std::size_t m, Scratch& sc, PhaseTimes& pt,
                  Timer<Prof>& tm) const {
    // Whole rows of constant size (het_block_ has a row of slack): an
    // inline copy; a loop of m values became a memmove call per row (12% of
    // an Euler step). Lanes m and above get the next row's values: the
    // kernel reads only lanes below m.
    const auto copy = [](const double* __restrict from, double* __restrict to) {
      std::memcpy(to, from, kBlock * sizeof(double));
    };
    const double* from = het_block_.data() + (lo / kBlock * het_rows_.size()) * kBlock + lo % kBlock;
    for (std::size_t r : het_rows_) {
      copy(from, sc.row(r));
      from += kBlock;
    }
    tm.lap(pt.kernel);
    if (gather_) (cg_.*gather_)(in.v.data(), lo, m, sc);
    tm.lap(pt.coupling);
  }

  // The model's stimulus at t_ms from the glucose protocol (Bertram 2007:
  // the glucokinase factor), the same for every cell.
  double stimulus(double t_ms) const {
    if (p_.glucose.fixed_jgk) return m_.stimulus_without_glucose;
    return m_.stimulus_of_glucose ? m_.stimulus_of_glucose(p_.glucose.glucose_mM(t_ms * 1e-3)) : 0.0;
  }

  // A checkpoint (every thread calls it): the thread's cells of y into
  // ckpt_state_, then, after a barrier, thread 0 hands a copy to the writer
  // (behind every block handed before). Nobody writes ckpt_state_ again
  // before that copy: the next checkpoint comes after another barrier.
  void checkpoint(const StateSet& y, const Part& part, unsigned tid, SpinBarrier& bar, bool& sense,
                  std::uint64_t step, std::uint64_t samples, double h) {
    for (std::size_t v = 0; v < S_; ++v)
      for (std::size_t i = part.lo; i < std::min(part.hi, n_); ++i)
        ckpt_state_[v][perm_[i]] = y.at(i, static_cast<int>(v));
    bar.wait(sense);
    if (tid == 0)
      rec_.writer().submit(
          [this, state = ckpt_state_, step, samples, h] { sink_->checkpoint(step, samples, state, h); });
  }

  // The thread's segments (part.segs, each within one kernel block),
  // boundary ones first, then boundary_done() (its neighbours may go on:
  // this pass reads no other thread's cells after it), then the rest:
  // block(b, m, o, tm) for cells [b, b + m) at layout offset o.
  template <bool Prof, class Block, class OnBoundary>
  void for_segments(const Part& part, PhaseTimes& pt, Block&& block, OnBoundary&& boundary_done) {
    Timer<Prof> tm;
    const auto& segs = part.segs;
    const std::size_t nb = part.n_boundary;
    for (std::size_t si = 0; si <= segs.size(); ++si) {
      if (si == nb) {
        boundary_done();
        tm.lap(pt.sync);
      }
      if (si == segs.size()) break;
      const auto [b, e] = segs[si];
      block(b, e - b, lay_.off(b), tm);
    }
  }

  // One explicit stage over the thread's cells: derivatives of `in`
  // segment by segment, combined by the kernel as `mode` says into the
  // blocks of `base` (the step's start state), `out` and acc_.
  template <bool Prof, class OnBoundary>
  void stage(Stage mode, const StateSet& in, StateSet* base, StateSet* out, double h, double w,
             const Part& part, double gkf, Scratch& sc, PhaseTimes& pt, OnBoundary&& boundary_done) {
    for_segments<Prof>(
        part, pt,
        [&](std::size_t b, std::size_t m, std::size_t o, Timer<Prof>& tm) {
          load_block<Prof>(in, b, m, sc, pt, tm);
          model_abi::StageArgs<double> a;
          a.y = base ? base->v.data() + o : nullptr;
          a.out = out ? out->v.data() + o : nullptr;
          a.acc = acc_.empty() ? nullptr : acc_.v.data() + o;
          a.h = h;
          a.w = w;
          fns_[variant_][static_cast<int>(mode)](m, in.v.data() + o, sc.in.data(), gkf, a);
          tm.lap(pt.kernel);
        },
        boundary_done);
  }

  template <bool Prof>
  void step(std::uint64_t s, Scratch& sc, PhaseTimes& pt, unsigned tid, std::uint64_t& phase, View& view,
            const Part& part, double& waited) {
    const double dt = p_.dt_ms;
    const double t_ms = static_cast<double>(s) * dt;
    // Before a stage: the neighbours have done their part of the previous
    // one (written what this stage reads, read what it overwrites). The
    // time spent waiting is measured for load balancing, and only when
    // there is a wait (the clock is read while idle).
    const auto wait = [&] {
      Timer<Prof> tm;
      if (!nsync_.ready(part.deps, phase)) {
        const auto t0 = Clock::now();
        nsync_.wait_for(part.deps, phase);
        waited += std::chrono::duration<double>(Clock::now() - t0).count();
      }
      tm.lap(pt.sync);
    };
    const auto arrive = [&] { nsync_.arrive(tid, ++phase); };
    integrator_step(p_.integrator, t_ms, dt, view, a_, b_, wait,
                    [&](Stage mode, const StateSet& in, StateSet* base, StateSet* out, double h, double w, double t) {
                      stage<Prof>(mode, in, base, out, h, w, part, stimulus(t), sc, pt, arrive);
                    });
  }

  // Non-finite check of the thread's real cells.
  void check_finite(const StateSet& y, std::size_t lo, std::size_t hi, ThreadFlags& f) const {
    f = {};
    const std::size_t end = std::min(hi, n_);
    for (int k = 0; k < static_cast<int>(S_); ++k) {
      for (std::size_t i = lo; i < end; ++i) {
        const double x = y.at(i, k);
        if (!(std::abs(x) <= p_.finite_limit) && perm_[i] < f.bad_cell) {
          f.bad_cell = perm_[i];
          f.bad_var = k;
          f.bad_value = x;
        }
      }
    }
  }

  // Samples [from, to) to the writer (every thread, once every thread has
  // written them, with the writer idle): the threads put them in cell order
  // and compress them (Recorder::encode) when they do, then a barrier, then
  // thread 0 queues them.
  void hand_samples(std::uint64_t from, std::uint64_t to, unsigned tid, unsigned nt, SpinBarrier& bar, bool& sense) {
    if (rec_.encodes()) {
      rec_.encode(from, to, tid, nt);
      bar.wait(sense);
    }
    if (tid == 0) rec_.submit(from, to, rec_.encodes());
  }

  template <bool Prof>
  void thread_main(unsigned tid, unsigned nt, SpinBarrier& bar) {
    bool sense = false;
    std::vector<std::size_t> cuts = equal_cuts(npad_, nt);
    Part part = make_part(cuts, tid, cg_.ell, cg_.mask() != 0);
    std::uint64_t phase = 0;  // stages finished (for NeighbourSync)
    // Load balancing: busy time = wall time since the last re-split minus
    // time spent waiting for other threads.
    const bool balance = nt > 1 && opt_.rebalance_every > 0;
    std::uint64_t next_balance = opt_.rebalance_every, balances = 0, resplits = 0;
    auto since = Clock::now();
    double waited = 0;
    Scratch sc(uniform_);
    PhaseTimes& pt = times_[tid];
    PhaseTimes local;
    const std::uint64_t N = p_.n_steps, every = std::max<std::uint64_t>(1, p_.record_every);
    const std::size_t K = rec_.block();
    const std::size_t nv = p_.record_vars.size();
    std::uint64_t k = p_.first_sample;  // sample index (sample k: step k * every)
    std::uint64_t handed = k;           // samples handed to the writer
    const std::uint64_t ckpt_every = sink_ ? opt_.checkpoint_every : 0;
    std::uint64_t next_ckpt = p_.start_step + ckpt_every;
    View view{&y_, &a_};
    std::uint64_t steps = 0;
    std::uint64_t controls = 0;  // control points passed
    for (std::uint64_t s = p_.start_step;; ++s) {
      const bool sample = rec_.on() && s % every == 0 && s / every >= k;
      if (s % kControlEvery == 0 || sample || s == N) {
        Timer<Prof> tm;
        // What threads report here is double-buffered by the parity of the
        // control point: a thread that has passed this barrier may run on to
        // the next control point (its neighbours need not have finished
        // their stage) and write its report there while a slower thread is
        // still reading this one's.
        const int par = static_cast<int>(controls & 1);
        ++controls;
        check_finite(*view.cur, part.lo, part.hi, flags_[par][tid]);
        const bool rebalance = balance && s >= next_balance && s < N;
        if (rebalance) {
          const auto now = Clock::now();
          load_[balances & 1][tid] = {std::chrono::duration<double>(now - since).count() - waited};
        }
        if (tid == 0) {
          stop_now_[par] = (opt_.stop && opt_.stop->load(std::memory_order_relaxed)) || !rec_.writer().error().empty();
          // Sample k starts a buffer: the writer must be done with it (it was
          // handed over K samples ago) before anyone writes into it.
          if (sample && k % K == 0) rec_.writer().wait_idle();
          if (opt_.progress && s % kControlEvery == 0) opt_.progress({s, N});
        }
        tm.lap(local.recording);
        {
          const auto t0 = Clock::now();
          bar.wait(sense);
          waited += std::chrono::duration<double>(Clock::now() - t0).count();
        }
        tm.lap(local.sync);
        // Every thread has written every sample before k (threads are only
        // loosely coupled between control points, so this must come after the
        // barrier): hand the full buffer to the writer.
        if (sample && k > handed && k % K == 0) {
          hand_samples(handed, k, tid, nt, bar, sense);  // (the writer idle: waited for above, before the barrier)
          tm.lap(local.recording);
          handed = k;
        }
        // Every thread reads the same flags after the barrier: one decision.
        std::size_t bad = SIZE_MAX;
        const ThreadFlags* which = nullptr;
        for (const auto& f : flags_[par])
          if (f.bad_cell < bad) bad = f.bad_cell, which = &f;
        if (which || stop_now_[par]) {
          if (tid == 0) {
            const double t_s = static_cast<double>(s) * p_.dt_ms * 1e-3;
            if (which) {
              result_.status = RunResult::Status::failed;
              result_.message = fmt::format(
                  "the simulation blew up: cell {} variable {} = {} at t = {:.4f} s (step {}); "
                  "data up to the last finite sample is kept",
                  which->bad_cell, m_.states[which->bad_var].name, which->bad_value, t_s, s);
            } else {
              result_.status = RunResult::Status::interrupted;
              result_.message = fmt::format("interrupted at t = {:.4f} s (step {} of {})", t_s, s, N);
            }
          }
          break;
        }
        // A checkpoint at the first block boundary (every sample before this
        // one just handed to the writer, whole chunks only) after each
        // checkpoint_every steps: every thread copies its cells' complete
        // state; after a barrier thread 0 hands it to the writer, behind the
        // block. A file killed mid-write then still holds every chunk before
        // it as written (no partly filled chunk is ever written again before
        // it).
        if (ckpt_every > 0 && sample && k % K == 0 && k > p_.first_sample && s != N && s >= next_ckpt) {
          checkpoint(*view.cur, part, tid, bar, sense, s, k, 0.0);
          // The next checkpoint comes after at least one control barrier.
          next_ckpt = s + ckpt_every;
          tm.lap(local.recording);
        }
        if (sample) {
          for (std::size_t v = 0; v < nv; ++v) {
            const int var = p_.record_vars[v];
            double* row = rec_.row(k, v);
            for (std::size_t i = part.lo; i < std::min(part.hi, n_); ++i) row[i] = view.cur->at(i, var);
          }
          if (tid == 0) {
            const double t_s = static_cast<double>(s) * p_.dt_ms * 1e-3;
            rec_.stamp(k, t_s, p_.glucose.glucose_mM(t_s));
          }
          ++k;
          tm.lap(local.recording);
        }
        if (rebalance) {
          // Every thread reads the same loads (written before the barrier;
          // double-buffered like the flags) and computes the same cuts.
          const auto next = balanced_cuts(cuts, load_[balances & 1].data(), opt_.rebalance_scramble, balances);
          if (next != cuts) {
            cuts = next;
            part = make_part(cuts, tid, cg_.ell, cg_.mask() != 0);
            ++resplits;
            // Cells change owner: nobody may write a cell (next stage)
            // while its old owner may still read it (the sample above).
            bar.wait(sense);
          }
          ++balances;
          next_balance = s + opt_.rebalance_every;
          waited = 0;
          since = Clock::now();
        }
      }
      if (s == N) break;
      step<Prof>(s, sc, local, tid, phase, view, part, waited);
      ++steps;  // thread-local: a shared counter written every step would
                // bounce its cache line (and its neighbours') between cores
    }
    // Make every column of the last buffer complete, then hand it over.
    bar.wait(sense);
    if (tid == 0 && k > handed) rec_.submit(handed, k, false);
    pt = local;
    if (tid == 0) {
      result_.profile.resplits = resplits;
      for (unsigned t = 0; t < nt; ++t) result_.profile.cells_per_thread.push_back(cuts[t + 1] - cuts[t]);
      final_ = view.cur;
      result_.steps_done = steps;
    }
  }

  // ---- The adaptive integrator (dopri5): one step for the whole islet,
  // chosen from the largest error of any state of any cell.

  // y + h * sum(terms) for the states of block [o, o + m) (fixed order,
  // explicit fmas: the same bits on every instruction set).
  // ks: the stages' derivative buffers, as this thread sees them (the
  // first and last are swapped after each step: per thread, like y).
  using Stages = std::array<StateSet*, dopri5::kStages>;

  template <std::size_t NT>
  void combine(const Stages& ks, const std::array<dopri5::Term, NT>& terms, const StateSet& y, StateSet& out, double h,
               std::size_t o, std::size_t m) {
    const double* __restrict yb = y.v.data() + o;
    double* __restrict ob = out.v.data() + o;
    const double* kp[NT];
    double c[NT];
    for (std::size_t t = 0; t < NT; ++t) kp[t] = ks[terms[t].k]->v.data() + o, c[t] = terms[t].c;
    for (std::size_t r = 0; r < S_; ++r) {
      const std::size_t row = r * kBlock;
#pragma omp simd
      for (std::size_t j = 0; j < m; ++j) {
        double s = c[0] * kp[0][row + j];
        for (std::size_t t = 1; t < NT; ++t) s = std::fma(c[t], kp[t][row + j], s);
        ob[row + j] = std::fma(h, s, yb[row + j]);
      }
    }
  }

  // The error norm of block [o, o + m) (real cells only): max over states
  // and cells of |h e| / (scale + max(|y|, |ynew|)); infinity where the new
  // state is beyond finite_limit or not a number.
  double block_error(const Stages& ks, const StateSet& y, const StateSet& yn, double h, std::size_t b,
                     std::size_t o, std::size_t m) const {
    namespace dp = dopri5;
    const std::size_t real = b >= n_ ? 0 : std::min(m, n_ - b);
    const double lim = p_.finite_limit, inf = std::numeric_limits<double>::infinity();
    double worst = 0;
    for (std::size_t r = 0; r < S_; ++r) {
      const std::size_t base = o + r * kBlock;
      const double sc = err_scale_[r];
      const double* __restrict k0 = ks[dp::kE[0].k]->v.data() + base;
      const double* __restrict k2 = ks[dp::kE[1].k]->v.data() + base;
      const double* __restrict k3 = ks[dp::kE[2].k]->v.data() + base;
      const double* __restrict k4 = ks[dp::kE[3].k]->v.data() + base;
      const double* __restrict k5 = ks[dp::kE[4].k]->v.data() + base;
      const double* __restrict k6 = ks[dp::kE[5].k]->v.data() + base;
      const double* __restrict yv = y.v.data() + base;
      const double* __restrict nv = yn.v.data() + base;
#pragma omp simd reduction(max : worst)
      for (std::size_t j = 0; j < real; ++j) {
        double e = dp::kE[0].c * k0[j];
        e = std::fma(dp::kE[1].c, k2[j], e);
        e = std::fma(dp::kE[2].c, k3[j], e);
        e = std::fma(dp::kE[3].c, k4[j], e);
        e = std::fma(dp::kE[4].c, k5[j], e);
        e = std::fma(dp::kE[5].c, k6[j], e);
        const double a = std::abs(yv[j]), an = std::abs(nv[j]);
        const double ratio = std::abs(h * e) / (sc + (a > an ? a : an));
        // Not finite, or beyond what the samples can hold: reject.
        const double x = (an <= lim && ratio == ratio) ? ratio : inf;
        worst = worst > x ? worst : x;
      }
    }
    return worst;
  }

  // One pass over the thread's segments (boundary ones first, then
  // boundary_done()): with `in`, the kernel's derivatives of `in` at
  // stimulus gkf go to k_[kout]; then post(b, o, m) for the block.
  template <bool Prof, class Post, class OnBoundary>
  void dp_pass(const StateSet* in, StateSet* kout, double gkf, const Part& part, Scratch& sc, PhaseTimes& pt, Post&& post,
               OnBoundary&& boundary_done) {
    for_segments<Prof>(
        part, pt,
        [&](std::size_t b, std::size_t m, std::size_t o, Timer<Prof>& tm) {
          if (in) {
            load_block<Prof>(*in, b, m, sc, pt, tm);
            model_abi::StageArgs<double> a;
            a.d = kout->v.data() + o;
            fns_[variant_][static_cast<int>(Stage::derivs)](m, in->v.data() + o, sc.in.data(), gkf, a);
          }
          post(b, o, m);
          tm.lap(pt.kernel);
        },
        boundary_done);
  }

  template <bool Prof>
  void thread_adaptive(unsigned tid, unsigned nt, SpinBarrier& bar) {
    namespace dp = dopri5;
    bool sense = false;
    const std::vector<std::size_t> cuts = equal_cuts(npad_, nt);
    const Part part = make_part(cuts, tid, cg_.ell, cg_.mask() != 0);
    std::uint64_t phase = 0;
    Scratch sc(uniform_);
    PhaseTimes local;
    const double G = p_.dt_ms;  // the grid: samples, landing points and the end lie on it
    const std::uint64_t N = p_.n_steps, every = std::max<std::uint64_t>(1, p_.record_every);
    const std::size_t K = rec_.block();
    const std::size_t nv = p_.record_vars.size();
    // Landing points: grid steps where a step ends exactly (whole blocks of
    // samples before them).
    const std::uint64_t land = p_.land_every > 0 ? p_.land_every : every * K;
    const auto next_land = [&](std::uint64_t g) { return std::min(N, (g / land + 1) * land); };
    const auto sample_time = [&](std::uint64_t kk) { return static_cast<double>(kk * every) * G; };
    const double hmax = p_.max_step_ms > 0 ? p_.max_step_ms : std::numeric_limits<double>::infinity();
    const double hmin = 1e-9;  // ms: below this the solution is taken to have blown up
    std::uint64_t g = p_.start_step;  // the grid step of t when on the grid (at the start and landing points)
    double t = static_cast<double>(g) * G;
    double h = std::min(hmax, p_.start_step_ms > 0 ? p_.start_step_ms : 0.01);
    std::uint64_t g_land = next_land(g);
    std::uint64_t k = p_.first_sample, handed = k;
    const std::uint64_t ckpt_every = sink_ ? opt_.checkpoint_every : 0;
    std::uint64_t next_ckpt = g + ckpt_every;
    bool on_grid = true, stopping = false, rejected_before = false;
    std::uint64_t accepted = 0, rejected = 0, steps_seen = 0;
    dp::Controller ctl;
    StateSet* y = &y_;
    StateSet* yn = &ynew_;
    Stages ks;
    for (int i = 0; i < dp::kStages; ++i) ks[i] = &k_[i];
    const auto wait = [&] {
      Timer<Prof> tm;
      if (!nsync_.ready(part.deps, phase)) nsync_.wait_for(part.deps, phase);
      tm.lap(local.sync);
    };
    const auto arrive = [&] { nsync_.arrive(tid, ++phase); };
    const auto nothing = [](std::size_t, std::size_t, std::size_t) {};
    // Samples [handed, kk) to the writer, once every thread has written
    // them; the writer done with the other buffer (which sample kk may
    // start) before anyone writes into it.
    const auto hand_over = [&](std::uint64_t kk) {
      if (kk <= handed) return;
      if (tid == 0) rec_.writer().wait_idle();
      bar.wait(sense);
      hand_samples(handed, kk, tid, nt, bar, sense);  // timed by the callers, as recording
      handed = kk;
    };
    // Sample kk (its buffer slot) from the dense output at theta of the
    // step from y to yn of size hs (theta = 0: y itself).
    const auto take_sample = [&](std::uint64_t kk, double theta, double hs) {
      // Sample kk starts a buffer: the writer must be done with it, and
      // every thread done with the buffer before it (handed over now).
      if (kk % K == 0) hand_over(kk);
      const auto q = dp::dense_weights(theta);
      // The arrays' bases in locals (the stores into the row could alias
      // the StateSets' members), and each block's lanes as one contiguous
      // run: per value, 7 loads and 6 FMAs, one store (vectorised; the row
      // is in the internal order, see Recorder).
      const Layout lay = y->lay;  // (every StateSet's)
      const std::size_t hi = std::min(part.hi, n_);
      const double* yv = y->v.data();
      std::array<const double*, dp::kStages> kv{};
      for (int st = 0; st < dp::kStages; ++st) kv[st] = ks[st]->v.data();
      for (std::size_t v = 0; v < nv; ++v) {
        const std::size_t var_off = static_cast<std::size_t>(p_.record_vars[v]) * kBlock;
        double* row = rec_.row(kk, v);
        for (std::size_t b0 = part.lo; b0 < hi; b0 = (b0 / kBlock + 1) * kBlock) {
          const std::size_t b1 = std::min(hi, (b0 / kBlock + 1) * kBlock);
          const std::size_t o0 = lay.off(b0) + var_off;
          const std::size_t m = b1 - b0;
          if (theta > 0) {
            for (std::size_t l = 0; l < m; ++l) {
              const std::size_t o = o0 + l;
              double s = q[0] * kv[0][o];
              for (int st = 2; st < dp::kStages; ++st) s = std::fma(q[st], kv[st][o], s);
              row[b0 + l] = std::fma(hs, s, yv[o]);
            }
          } else {
            for (std::size_t l = 0; l < m; ++l) row[b0 + l] = yv[o0 + l];
          }
        }
      }
      if (tid == 0) {
        const double ts = sample_time(kk) * 1e-3;
        rec_.stamp(kk, ts, p_.glucose.glucose_mM(ts));
      }
    };

    // The first stage of the first step (later ones are the last stage of
    // the step before).
    wait();
    dp_pass<Prof>(y, ks[0], stimulus(t), part, sc, local, nothing, arrive);
    for (;;) {
      if (on_grid) {
        Timer<Prof> tm;
        // A checkpoint: every sample before this point handed to the writer
        // (whole blocks), then the state, after a barrier, behind them.
        if (ckpt_every > 0 && (g >= next_ckpt || stopping) && g != N && k > p_.first_sample) {
          if (rec_.on()) hand_over(k);
          checkpoint(*y, part, tid, bar, sense, g, k, h);
          next_ckpt = g + ckpt_every;
          // The next checkpoint comes after at least one step's barrier.
        }
        tm.lap(local.recording);
        if (g == N) break;
        if (stopping) {
          if (tid == 0) {
            result_.status = RunResult::Status::interrupted;
            result_.message = fmt::format("interrupted at t = {:.4f} s (step {} of {} on the {} ms grid)", t * 1e-3,
                                          g, N, G);
          }
          break;
        }
      }
      // The step: up to the next landing point, and never a sliver before it.
      const double t_land = static_cast<double>(g_land) * G;
      const double rem = t_land - t;
      const bool lands = h >= rem;
      const double hs = lands ? rem : (2 * h > rem ? 0.5 * rem : h);
      const double t_end = lands ? t_land : t + hs;
      const int par = static_cast<int>(steps_seen & 1);
      ++steps_seen;
      {
        Timer<Prof> tm;
        // Stage inputs alternate between a_ and b_ (a neighbour may still
        // read the previous one), as in RK4.
        StateSet& A = a_;
        StateSet& B = b_;
        wait();
        dp_pass<Prof>(nullptr, nullptr, 0.0, part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kA1, *y, A, hs, o, m); }, arrive);
        wait();
        dp_pass<Prof>(&A, ks[1], stimulus(std::fma(dp::kC[1], hs, t)), part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kA2, *y, B, hs, o, m); }, arrive);
        wait();
        dp_pass<Prof>(&B, ks[2], stimulus(std::fma(dp::kC[2], hs, t)), part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kA3, *y, A, hs, o, m); }, arrive);
        wait();
        dp_pass<Prof>(&A, ks[3], stimulus(std::fma(dp::kC[3], hs, t)), part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kA4, *y, B, hs, o, m); }, arrive);
        wait();
        dp_pass<Prof>(&B, ks[4], stimulus(std::fma(dp::kC[4], hs, t)), part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kA5, *y, A, hs, o, m); }, arrive);
        wait();
        dp_pass<Prof>(&A, ks[5], stimulus(t_end), part, sc, local,
                      [&](std::size_t, std::size_t o, std::size_t m) { combine(ks, dp::kB, *y, *yn, hs, o, m); }, arrive);
        double worst = 0;
        wait();
        dp_pass<Prof>(yn, ks[6], stimulus(t_end), part, sc, local,
                      [&](std::size_t b, std::size_t o, std::size_t m) {
                        worst = std::max(worst, block_error(ks, *y, *yn, hs, b, o, m));
                      },
                      arrive);
        errs_[par][tid].err = worst;
        if (tid == 0)
          stop_now_[par] = (opt_.stop && opt_.stop->load(std::memory_order_relaxed)) || !rec_.writer().error().empty();
        tm = Timer<Prof>();  // the stages timed themselves
        bar.wait(sense);
        tm.lap(local.sync);
      }
      // Every thread reads the same errors: one decision.
      double err = 0;
      for (unsigned u = 0; u < nt; ++u) err = std::max(err, errs_[par][u].err);
      err /= p_.tolerance;
      stopping = stopping || stop_now_[par];
      if (err <= 1.0) {
        Timer<Prof> tm;
        // Samples in [t, t_end): the dense output (the one at t_end is the
        // next step's, or the end's).
        if (rec_.on())
          for (; k * every < N && sample_time(k) < t_end; ++k) take_sample(k, (sample_time(k) - t) / hs, hs);
        tm.lap(local.recording);
        std::swap(y, yn);
        std::swap(ks[0], ks[dp::kStages - 1]);
        t = t_end;
        const double fac = ctl.accepted(err, rejected_before);
        const double proposal = h;
        h = std::min(hmax, hs * fac);
        if (lands) h = std::max(h, std::min(proposal, hmax));  // a landing does not shrink the step
        rejected_before = false;
        ++accepted;
        on_grid = lands;
        if (lands) {
          g = g_land;
          g_land = next_land(g);
          // The controller's memory starts afresh at a landing point, as in
          // a run continued from it (which knows only the next step).
          ctl = dp::Controller();
        }
        if (tid == 0 && opt_.progress && accepted % 1000 == 0)
          opt_.progress({static_cast<std::uint64_t>(t / G), N});
      } else {
        ++rejected;
        rejected_before = true;
        h = hs * ctl.rejected(err);
        if (!(h >= hmin)) {
          if (tid == 0) {
            result_.status = RunResult::Status::failed;
            result_.message = fmt::format(
                "the simulation blew up at t = {:.4f} s: the step fell below {} ms (error {:.3g} x the tolerance); "
                "data up to the last finite sample is kept",
                t * 1e-3, hmin, err);
          }
          break;
        }
      }
    }
    // The sample at the end.
    if (rec_.on() && result_.status == RunResult::Status::complete && g == N && N % every == 0 && k * every == N)
      take_sample(k++, 0.0, 0.0);
    bar.wait(sense);
    if (tid == 0 && k > handed) rec_.submit(handed, k, false);
    times_[tid] = local;
    if (tid == 0) {
      result_.profile.resplits = 0;
      for (unsigned u = 0; u < nt; ++u) result_.profile.cells_per_thread.push_back(cuts[u + 1] - cuts[u]);
      final_ = y;
      result_.steps_done = g - p_.start_step;
      result_.next_step_ms = h;
      result_.accepted = accepted;
      result_.rejected = rejected;
    }
  }

  const EngineProblem& p_;
  const ModelInfo& m_;
  SampleSink* sink_;
  const RunOptions& opt_;
  std::size_t n_ = 0, npad_ = 0;
  std::size_t S_ = 0, P_ = 0, D_ = 0, C_ = 0;  // the model's states, parameters, derived, coupled
  Layout lay_;
  model_abi::StageTable fns_{};
  int variant_ = 0;  // the kernel variant (model_abi::Kernel::variant)
  CouplingGather cg_;  // the coupled variables' rows and coefficients, and the neighbours (sliced ELL)
  std::vector<double> uniform_;  // uniform values by input row
  std::vector<std::size_t> het_rows_;  // the per-cell input rows (parameters, then derived)
  AlignedVec<double> het_block_;        // their values: [block][het row][kBlock] (see the constructor)
  CouplingGather::Fn gather_ = nullptr;  // the gather for the couplings that are on (none: nullptr)
  std::vector<std::uint32_t> perm_;      // internal index -> original cell id
  StateSet y_, a_, b_, acc_;
  StateSet ynew_;                           // adaptive: the step's new state
  std::array<StateSet, dopri5::kStages> k_;  // adaptive: the stages' derivatives
  std::vector<double> err_scale_;           // adaptive: per state (ModelInfo::error_scale)
  struct alignas(64) ThreadErr {
    double err = 0;
  };
  std::vector<ThreadErr> errs_[2];  // adaptive: per step parity, per thread
  const StateSet* final_ = &y_;
  std::vector<std::vector<double>> ckpt_state_;  // [state][cell]: the checkpoint being assembled
  std::vector<ThreadFlags> flags_[2];  // per control-point parity, per thread
  std::vector<PhaseTimes> times_;
  std::unique_ptr<SpinBarrier> barrier_ptr_;
  NeighbourSync nsync_;
  std::vector<ThreadLoad> load_[2];  // per re-split parity, per thread
  bool stop_now_[2] = {false, false};
  RunResult result_;
  Recorder rec_;  // after perm_ (built from it); its writer thread stops first
};

}  // namespace

EngineProblem EngineProblem::defaults(const ModelInfo& m) {
  EngineProblem p;
  p.model = &m;
  for (const auto& x : m.params) p.params.push_back({x.default_value, {}});
  for (const auto& x : m.states) p.initial.push_back({x.initial, {}});
  return p;
}

void check_problem(const EngineProblem& p) {
  if (p.n_cells == 0) throw InputError("the network has no cells");
  if (!(p.dt_ms > 0) || !std::isfinite(p.dt_ms))
    throw InputError(fmt::format("sim.dt_ms = {} : the time step must be a finite number > 0", p.dt_ms));
  if (p.graph.n_rows() != p.n_cells)
    throw InputError(fmt::format("coupling graph has {} rows for {} cells", p.graph.n_rows(), p.n_cells));
  auto check_col = [&](const Column& c, const char* what, const char* name) {
    if (c.per_cell() && c.values.size() != p.n_cells)
      throw InputError(fmt::format("{} '{}': {} per-cell values for {} cells", what, name, c.values.size(),
                                   p.n_cells));
    if (!std::isfinite(c.uniform)) throw InputError(fmt::format("{} '{}' is not finite", what, name));
    for (std::size_t i = 0; i < c.values.size(); ++i)
      if (!std::isfinite(c.values[i]))
        throw InputError(fmt::format("{} '{}' of cell {} is not finite ({})", what, name, i, c.values[i]));
  };
  const ModelInfo& m = p.the_model();
  if (p.params.size() != m.params.size() || p.initial.size() != m.states.size())
    throw InputError(fmt::format("model {}: {} parameter and {} initial-state columns, expected {} and {}", m.name,
                                 p.params.size(), p.initial.size(), m.params.size(), m.states.size()));
  if (p.coupling.size() > m.coupled.size())
    throw InputError(fmt::format("model {}: {} coupling coefficients, it has {} coupled variable(s)", m.name,
                                 p.coupling.size(), m.coupled.size()));
  if (m.coupled.size() > 4)
    throw InputError(fmt::format("model {}: {} coupled variables; the engine couples at most 4", m.name,
                                 m.coupled.size()));
  for (const auto& cv : m.coupled)
    if (!find_state(m, cv.state))
      throw InputError(fmt::format("model {}: coupled variable '{}' is not one of its states", m.name, cv.state));
  for (std::size_t k = 0; k < p.params.size(); ++k) check_col(p.params[k], "parameter", m.params[k].name);
  for (std::size_t k = 0; k < p.initial.size(); ++k) check_col(p.initial[k], "initial state", m.states[k].name);
  if (is_adaptive(p.integrator)) {
    if (!(p.tolerance > 0) || !(p.tolerance < 1))
      throw InputError(fmt::format("sim.tolerance = {}: expected a number in (0, 1)", p.tolerance));
    if (!(p.max_step_ms >= 0) || !std::isfinite(p.max_step_ms))
      throw InputError(fmt::format("sim.max_step_ms = {}: expected a finite number >= 0 (0: no limit)", p.max_step_ms));
    if (!(p.start_step_ms >= 0) || !std::isfinite(p.start_step_ms))
      throw InputError(fmt::format("the first step {} ms: expected a finite number >= 0", p.start_step_ms));
    if (p.land_every % std::max<std::uint64_t>(1, p.record_every) != 0)
      throw InputError(fmt::format("landing every {} steps of the grid: not on a sample (one every {} steps)",
                                   p.land_every, p.record_every));
  }
  if (p.start_step > p.n_steps)
    throw InputError(fmt::format("the run starts at step {}, after its end (step {})", p.start_step, p.n_steps));
  {
    const std::uint64_t every = std::max<std::uint64_t>(1, p.record_every);
    if (p.first_sample > p.start_step / every + 1 ||
        (p.first_sample < p.start_step / every + 1 && p.first_sample * every < p.start_step))
      throw InputError(fmt::format("first sample {} does not follow step {} (a sample every {} steps)",
                                   p.first_sample, p.start_step, every));
  }
  for (int v : p.record_vars)
    if (v < 0 || v >= static_cast<int>(m.states.size()))
      throw InputError(fmt::format("record variable index {} out of range", v));
  if (p.glucose.fixed_jgk && std::isnan(m.stimulus_without_glucose))
    throw InputError(fmt::format("glucose.mode = \"fixed_jgk\" (no glucose protocol) is not available for model {}, "
                                 "which takes glucose from the protocol ({}); use mode = \"constant\"",
                                 m.name, m.stimulus));
}

RunResult run_engine(const EngineProblem& p, SampleSink* sink, const RunOptions& opt) {
  check_problem(p);
  Engine e(p, sink, opt);
  return e.run();
}

}  // namespace isletsim