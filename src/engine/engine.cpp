#include "isletsim/engine.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "engine/aligned.hpp"
#include "engine/barrier.hpp"
#include "isletsim/error.hpp"
#include "model/model_abi.hpp"

namespace isletsim {

using model_abi::Stage;

std::string to_string(Integrator m) { return m == Integrator::euler ? "euler" : "rk4"; }

Integrator integrator_from_string(const std::string& s) {
  if (s == "euler") return Integrator::euler;
  if (s == "rk4") return Integrator::rk4;
  throw InputError("unknown integrator '" + s + "' (expected \"rk4\" or \"euler\")" +
                   did_you_mean(s, {"rk4", "euler"}));
}

double default_dt_ms(Integrator m) { return m == Integrator::euler ? 0.1 : 0.5; }

namespace {

constexpr std::size_t kSimd = 8;    // cells per partition unit (one AVX-512 vector of doubles)
using model_abi::kBlock;  // cells per kernel call (the block scratch stays in L1)
constexpr std::uint64_t kControlEvery = 1000;  // steps between stop/finite checks

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The state of all cells, in blocks of kBlock cells with one row of kBlock
// values per variable (the layout the kernel reads and writes in place):
// cell i, variable k is at off(i) + k * kBlock, with stride = the model's
// states x kBlock doubles per block of cells.
struct Layout {
  std::size_t stride = 0;
  std::size_t off(std::size_t i) const { return i / kBlock * stride + i % kBlock; }
  // The cell whose variable 0 is at offset o (inverse of off).
  std::size_t cell_at(std::size_t o) const { return o / stride * kBlock + o % stride; }
};
struct StateSet {
  AlignedVec<double> v;
  Layout lay;
  void resize(std::size_t npad, Layout l) {
    lay = l;
    v.assign((npad + kBlock - 1) / kBlock * lay.stride, 0.0);
  }
  double& at(std::size_t i, int k) { return v[lay.off(i) + static_cast<std::size_t>(k) * kBlock]; }
  double at(std::size_t i, int k) const { return v[lay.off(i) + static_cast<std::size_t>(k) * kBlock]; }
  bool empty() const { return v.empty(); }
};

// Hands full sample buffers to the sink on its own thread, so HDF5 writing
// and compression overlap the simulation.
class AsyncWriter {
 public:
  explicit AsyncWriter(SampleSink* sink) : sink_(sink) {
    if (sink_) thread_ = std::thread([this] { loop(); });
  }
  ~AsyncWriter() {
    if (!sink_) return;
    {
      std::lock_guard lk(m_);
      quit_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  // Waits until the previous job is done, then queues this one.
  void submit(std::function<void()> job) {
    if (!sink_) return;
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return !job_; });
    job_ = std::move(job);
    cv_.notify_all();
  }
  void wait_idle() {
    if (!sink_) return;
    std::unique_lock lk(m_);
    cv_.wait(lk, [&] { return !job_; });
  }
  std::string error() {
    std::lock_guard lk(m_);
    return error_;
  }

 private:
  void loop() {
    std::unique_lock lk(m_);
    for (;;) {
      cv_.wait(lk, [&] { return quit_ || job_; });
      if (!job_) return;
      lk.unlock();
      std::string err;
      try {
        job_();
      } catch (const std::exception& e) {
        err = e.what();
      }
      lk.lock();
      if (!err.empty() && error_.empty()) error_ = err;
      job_ = nullptr;
      cv_.notify_all();
    }
  }
  SampleSink* sink_;
  std::thread thread_;
  std::mutex m_;
  std::condition_variable cv_;
  std::function<void()> job_;
  bool quit_ = false;
  std::string error_;
};

// What a thread found at a control point.
// What a thread measured between two re-splits of the cells (load balancing).
struct alignas(64) ThreadLoad {
  double busy_s = 0;  // wall time minus time spent waiting for other threads
};

// A thread's share of the cells (see Engine::make_part).
struct Part {
  std::size_t lo = 0, hi = 0;                             // cells [lo, hi), whole SIMD units
  std::vector<std::pair<std::size_t, std::size_t>> segs;  // [b, e) runs within one block, boundary ones first
  std::size_t n_boundary = 0;                             // how many of segs are boundary runs
  std::vector<unsigned> deps;                             // threads it shares gap junctions with
};

// Mixes a counter into a well-spread 64-bit value (tests' arbitrary splits).
inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

struct alignas(64) ThreadFlags {
  std::size_t bad_cell = SIZE_MAX;  // smallest cell id with a non-finite state
  int bad_var = -1;
  double bad_value = 0;
};

struct PhaseTimes {
  double kernel = 0, coupling = 0, recording = 0, sync = 0;
};

// Reverse Cuthill-McKee order of the graph: neighbours get nearby internal
// indices, so each thread's contiguous share of cells has few edges to other
// threads' cells (little cache-line traffic between cores per step). Pure
// function of the graph: the same order for any thread count.
std::vector<std::uint32_t> rcm_order(const Csr& g) {
  const std::size_t n = g.n_rows();
  std::vector<std::uint32_t> order;
  order.reserve(n);
  std::vector<char> seen(n, 0);
  const auto degree = [&](std::size_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
  std::vector<std::uint32_t> by_degree(n);
  for (std::size_t i = 0; i < n; ++i) by_degree[i] = static_cast<std::uint32_t>(i);
  std::stable_sort(by_degree.begin(), by_degree.end(), [&](auto a, auto b) { return degree(a) < degree(b); });
  std::vector<std::uint32_t> next;
  for (std::uint32_t start : by_degree) {
    if (seen[start]) continue;
    seen[start] = 1;
    std::size_t head = order.size();
    order.push_back(start);
    while (head < order.size()) {
      const std::uint32_t u = order[head++];
      next.clear();
      for (std::uint64_t k = g.row_ptr[u]; k < g.row_ptr[u + 1]; ++k)
        if (!seen[g.col[k]]) seen[g.col[k]] = 1, next.push_back(g.col[k]);
      std::stable_sort(next.begin(), next.end(), [&](auto a, auto b) { return degree(a) < degree(b); });
      order.insert(order.end(), next.begin(), next.end());
    }
  }
  std::reverse(order.begin(), order.end());
  return order;
}

class Engine {
 public:
  Engine(const EngineProblem& p, SampleSink* sink, const RunOptions& opt)
      : p_(p), m_(p.the_model()), sink_(sink), opt_(opt), writer_(sink) {
    n_ = p.n_cells;
    S_ = m_.states.size(), P_ = m_.params.size(), D_ = m_.kernel->n_derived, C_ = m_.coupled.size();
    lay_.stride = S_ * kBlock;
    fns_ = m_.kernel->table(model_abi::active_isa());
    per_cell_.resize(P_);
    dper_cell_.resize(D_);
    uniform_.assign(P_ + D_ + C_, 0.0);
    // Coupled variables: the state rows read, the input rows written, and
    // the coefficient (see gather).
    for (std::size_t c = 0; c < C_ && c < kMaxCoupled; ++c) {
      const CoupledVarInfo& cv = m_.coupled[c];
      const double g = c < p.coupling.size() ? p.coupling[c] : 0.0;
      var_row_[c] = static_cast<std::size_t>(*find_state(m_, cv.state)) * kBlock;
      out_row_[c] = P_ + D_ + c;
      coef_[c] = cv.form == CouplingForm::current ? -g : cv.factor * g;
      on_[c] = g != 0;
    }
    npad_ = (n_ + kSimd - 1) / kSimd * kSimd;
    if (npad_ == 0) npad_ = kSimd;
    // Cells are stored in an internal order (see rcm_order); everything the
    // caller sees (recording, final state, messages) uses the original ids.
    perm_ = rcm_order(p.graph);
    // Within each kernel block, cells sorted by degree (stable): the gather's
    // slices of kSimd cells then hold cells of similar degree, so less of the
    // ELL width is padding (default 1000-cell islet: 7496 -> 6256 entries
    // for 5546 edges; Euler step +3%, RK4 +4%). Locality stays that of the
    // RCM order; like it, a pure function of the graph.
    {
      const Csr& g = p.graph;
      const auto degree = [&](std::uint32_t i) { return g.row_ptr[i + 1] - g.row_ptr[i]; };
      for (std::size_t b = 0; b < n_; b += kBlock)
        std::stable_sort(perm_.begin() + static_cast<std::ptrdiff_t>(b),
                         perm_.begin() + static_cast<std::ptrdiff_t>(std::min(n_, b + kBlock)),
                         [&](auto x, auto y) { return degree(x) < degree(y); });
    }
    internal_.assign(n_, 0);
    for (std::size_t i = 0; i < n_; ++i) internal_[perm_[i]] = static_cast<std::uint32_t>(i);
    // Original id whose values internal slot i holds (padding repeats the last cell).
    const auto src = [&](std::size_t i) { return perm_[std::min(i, n_ - 1)]; };
    for (std::size_t k = 0; k < P_; ++k) {
      const Column& col = p.params[k];
      if (col.per_cell()) {
        per_cell_[k].assign(npad_ + kBlock, 0.0);  // + kBlock: load_block copies whole rows
        for (std::size_t i = 0; i < npad_; ++i) per_cell_[k][i] = col.values[src(i)];
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
        const bool uniform = std::all_of(values[k].begin(), values[k].end(), [&](double x) { return x == values[k][0]; });
        if (uniform) {
          uniform_[P_ + k] = values[k][0];
        } else {
          dper_cell_[k].assign(npad_ + kBlock, 0.0);  // + kBlock: see per_cell_
          std::copy(values[k].begin(), values[k].end(), dper_cell_[k].begin());
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
    for (std::size_t k = 0; k < P_; ++k)
      if (!per_cell_[k].empty()) het_params_.push_back(k);
    for (std::size_t k = 0; k < D_; ++k)
      if (!dper_cell_[k].empty()) het_derived_.push_back(k);
    build_ell();
    gather_ = pick_gather();
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
    const std::size_t nv = p.record_vars.size();
    recording_ = sink && nv > 0;
    if (recording_) {
      for (auto& buf : rec_) {
        buf.data.assign(nv, std::vector<double>(p.record_block * n_));
        buf.time.assign(p.record_block, 0.0);
        buf.glucose.assign(p.record_block, 0.0);
      }
    }
  }

  RunResult run() {
    const auto t0 = Clock::now();
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
        nsync_.init(nt);
      }
      SpinBarrier& bar = *barrier_ptr_;
      if (opt_.profile)
        thread_main<true>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
      else
        thread_main<false>(static_cast<unsigned>(omp_get_thread_num()), nt, bar);
    }
    writer_.wait_idle();
    result_.wall_s = seconds_since(t0);
    result_.samples = samples_written_;
    if (const std::string err = writer_.error(); !err.empty() && result_.status == RunResult::Status::complete) {
      result_.status = RunResult::Status::failed;
      result_.message = "writing output failed: " + err;
    }
    Profile& pr = result_.profile;
    pr.threads = actual;
    pr.total_wall = result_.wall_s;
    for (const auto& t : times_) {
      pr.kernel += t.kernel;
      pr.coupling += t.coupling;
      pr.recording += t.recording;
      pr.sync += t.sync;
    }
    result_.final_state.resize(S_);
    for (std::size_t k = 0; k < S_; ++k) {
      result_.final_state[k].resize(n_);
      for (std::size_t i = 0; i < n_; ++i) result_.final_state[k][perm_[i]] = final_->at(i, static_cast<int>(k));
    }
    return result_;
  }

 private:
  struct RecordBuffer {
    std::vector<std::vector<double>> data;  // [var][slot * n + cell]
    std::vector<double> time, glucose;
  };

  template <bool Prof>
  struct Timer {
    Clock::time_point t;
    Timer() {
      if constexpr (Prof) t = Clock::now();
    }
    void lap(double& acc) {
      if constexpr (Prof) {
        const auto now = Clock::now();
        acc += std::chrono::duration<double>(now - t).count();
        t = now;
      }
    }
  };

  // A thread's scratch block: the kernel's inputs other than the states
  // (uniform rows filled once, per-cell rows copied per block, gap-junction
  // rows zero unless that coupling is on).
  struct Scratch {
    AlignedVec<double> in;
    explicit Scratch(const std::vector<double>& uniform) : in(uniform.size() * kBlock) {
      for (std::size_t r = 0; r < uniform.size(); ++r) std::fill_n(in.data() + r * kBlock, kBlock, uniform[r]);
    }
    double* row(std::size_t r) { return in.data() + r * kBlock; }
  };

  // Gap-junction terms for cells [lo, lo+m) of the coupled variables in
  // Mask (bit c: the model's coupled variable c), into their input rows:
  // coef * sum_k w_k (x[col_k] - x[i]), with coef = factor g for a diffusion
  // and -g for a current, g sum_k w_k (x[i] - x[col_k]) (negation is exact:
  // the same bits either way).
  // The neighbours are stored as a sliced ELLPACK matrix: per slice of kSimd
  // cells a fixed width (the slice's largest degree), lane-interleaved, so
  // the sum runs over kSimd cells at once with no branches. All coupled
  // variables are summed in one pass (the neighbour offsets and weights are
  // loaded once), in vector registers (GCC vector types: an array
  // accumulator was kept on the stack, and its 256-bit stores followed by a
  // 512-bit load stalled on store forwarding). Neighbour values are scalar
  // loads: on the Zen 5 test machine AVX-512 hardware gathers were 17%
  // slower overall. Each row keeps the CSR order; padding entries (self,
  // weight 0) add exactly +0.0, so the sum has the same bits as the CSR loop
  // for any partition. x: a StateSet's data; the ELL columns are state
  // offsets (off(cell)).
  using V8 = double __attribute__((vector_size(kSimd * sizeof(double))));
  static V8 load8(const double* p) {
    V8 v;
    std::memcpy(&v, p, sizeof v);
    return v;
  }
  template <unsigned Mask>
  void gather(const double* __restrict x, std::size_t lo, std::size_t m, Scratch& sc) const {
    const std::size_t* kVarRow = var_row_;
    const std::size_t* kOutRow = out_row_;
    const double* coef = coef_;
    // f(integral_constant<v>) for each coupled variable v.
    const auto each = [](auto&& f) {
      [&]<std::size_t... v>(std::index_sequence<v...>) {
        ((Mask & (1u << v) ? f(std::integral_constant<std::size_t, v>{}) : void()), ...);
      }(std::make_index_sequence<4>{});
    };
    for (std::size_t base = lo; base < lo + m; base += kSimd) {
      const std::size_t slice = base / kSimd;
      const std::int32_t* __restrict col = ell_col_.data() + ell_ptr_[slice];
      const double* __restrict w = ell_w_.data() + ell_ptr_[slice];
      const std::size_t width = (ell_ptr_[slice + 1] - ell_ptr_[slice]) / kSimd;
      const std::size_t own = lay_.off(base);  // kSimd divides kBlock: 8 contiguous cells
      V8 xi[4], acc[4];
      each([&](auto v) {
        xi[v] = load8(x + kVarRow[v] + own);
        acc[v] = V8{};
      });
      for (std::size_t k = 0; k < width; ++k) {
        const V8 wk = load8(w + k * kSimd);
        const std::int32_t* ck = col + k * kSimd;
        each([&](auto v) {
          const double* xv = x + kVarRow[v];
          V8 xn;
          for (std::size_t l = 0; l < kSimd; ++l) xn[l] = xv[ck[l]];
          const V8 d = xn - xi[v];
          acc[v] = acc[v] + wk * d;
        });
      }
      each([&](auto v) {
        const V8 r = coef[v] * acc[v];
        std::memcpy(sc.row(kOutRow[v]) + (base - lo), &r, sizeof r);
      });
    }
  }
  // gather<Mask> for Mask = 0..15; gather_ is picked once per run.
  using GatherFn = void (Engine::*)(const double*, std::size_t, std::size_t, Scratch&) const;
  template <std::size_t... M>
  static constexpr std::array<GatherFn, sizeof...(M)> gather_table(std::index_sequence<M...>) {
    return {&Engine::gather<static_cast<unsigned>(M)>...};
  }
  GatherFn pick_gather() const {
    static constexpr auto table = gather_table(std::make_index_sequence<16>{});
    const unsigned mask = coupling_mask();
    return mask ? table[mask] : nullptr;
  }
  unsigned coupling_mask() const {
    unsigned mask = 0;
    for (std::size_t c = 0; c < kMaxCoupled; ++c) mask |= on_[c] ? 1u << c : 0u;
    return mask;
  }

  void build_ell() {
    const Csr& g = p_.graph;
    if ((npad_ + kBlock) / kBlock * lay_.stride > static_cast<std::size_t>(INT32_MAX))
      throw InputError(fmt::format("{} cells: more than this engine's 32-bit neighbour offsets can address", n_));
    const std::size_t slices = npad_ / kSimd;
    ell_ptr_.assign(slices + 1, 0);
    for (std::size_t sl = 0; sl < slices; ++sl) {
      std::uint64_t width = 0;
      for (std::size_t l = 0; l < kSimd; ++l) {
        const std::size_t i = sl * kSimd + l;
        if (i < n_) width = std::max(width, g.row_ptr[perm_[i] + 1] - g.row_ptr[perm_[i]]);
      }
      ell_ptr_[sl + 1] = ell_ptr_[sl] + width * kSimd;
    }
    ell_col_.assign(ell_ptr_.back(), 0);
    ell_w_.assign(ell_ptr_.back(), 0.0);
    for (std::size_t sl = 0; sl < slices; ++sl) {
      const std::size_t width = (ell_ptr_[sl + 1] - ell_ptr_[sl]) / kSimd;
      for (std::size_t l = 0; l < kSimd; ++l) {
        const std::size_t i = sl * kSimd + l;
        const std::size_t r = i < n_ ? perm_[i] : 0;  // the original row
        const std::uint64_t b = i < n_ ? g.row_ptr[r] : 0, deg = i < n_ ? g.row_ptr[r + 1] - b : 0;
        for (std::size_t k = 0; k < width; ++k) {
          const std::size_t e = ell_ptr_[sl] + k * kSimd + l;
          ell_col_[e] = static_cast<std::int32_t>(lay_.off(k < deg ? internal_[g.col[b + k]] : i));
          ell_w_[e] = k < deg ? g.w[b + k] : 0.0;
        }
      }
    }
  }

  // Fills the thread's scratch block for cells [lo, lo+m) (one block of
  // the state layout) of state set `in`: per-cell parameters and the
  // gap-junction terms. The states themselves are read in place.
  template <bool Prof>
  void load_block(const StateSet& in, std::size_t lo, std::size_t m, Scratch& sc, PhaseTimes& pt,
                  Timer<Prof>& tm) const {
    // Whole rows of constant size (the arrays have kBlock values of slack):
    // an inline copy; a loop of m values became a memmove call per row (12%
    // of an Euler step).
    const auto copy = [](const double* __restrict from, double* __restrict to) {
      std::memcpy(to, from, kBlock * sizeof(double));
    };
    for (std::size_t k : het_params_) copy(per_cell_[k].data() + lo, sc.row(k));
    for (std::size_t k : het_derived_) copy(dper_cell_[k].data() + lo, sc.row(P_ + k));
    tm.lap(pt.kernel);
    if (gather_) (this->*gather_)(in.v.data(), lo, m, sc);
    tm.lap(pt.coupling);
  }

  // One explicit stage over the thread's cells (its part.segs, boundary
  // ones first; `boundary_done` is called after those): derivatives of `in`
  // segment by segment, combined by the kernel as `mode` says into the
  // blocks of `base` (the step's start state), `out` and acc_.
  template <bool Prof, class OnBoundary>
  void stage(Stage mode, const StateSet& in, StateSet* base, StateSet* out, double h, double w,
             const Part& part, double gkf, Scratch& sc, PhaseTimes& pt, OnBoundary&& boundary_done) {
    Timer<Prof> tm;
    const auto& segs = part.segs;
    const std::size_t nb = part.n_boundary;
    for (std::size_t si = 0; si <= segs.size(); ++si) {
      if (si == nb) {
        boundary_done();
        tm.lap(pt.sync);
      }
      if (si == segs.size()) break;
      const auto [b, e] = segs[si];  // within one kernel block
      const std::size_t m = e - b, o = lay_.off(b);
      load_block<Prof>(in, b, m, sc, pt, tm);
      model_abi::StageArgs<double> a;
      a.y = base ? base->v.data() + o : nullptr;
      a.out = out ? out->v.data() + o : nullptr;
      a.acc = acc_.empty() ? nullptr : acc_.v.data() + o;
      a.h = h;
      a.w = w;
      fns_[variant_][static_cast<int>(mode)](m, in.v.data() + o, sc.in.data(), gkf, a);
      tm.lap(pt.kernel);
    }
  }

  // Every thread keeps its own view of which buffer is current (all views
  // agree: they flip at the same steps).
  struct View {
    StateSet* cur;
    StateSet* nxt;
  };

  // The equal split: cell t * units / nt (whole SIMD units) for t = 0..nt.
  std::vector<std::size_t> equal_cuts(unsigned nt) const {
    const std::size_t units = npad_ / kSimd;
    std::vector<std::size_t> cuts(nt + 1);
    for (unsigned t = 0; t <= nt; ++t) cuts[t] = kSimd * (units * t / nt);
    return cuts;
  }

  // What thread t needs to know of a split of the cells into contiguous
  // shares (cuts[t] .. cuts[t+1]): its cells, its order of work within a
  // stage, and which threads it shares gap junctions with (only coupled
  // variables are read across cells, and only when their coefficient is
  // non-zero). Every thread computes its own Part from the same cuts, so
  // no thread writes what another reads.
  Part make_part(const std::vector<std::size_t>& cuts, unsigned t) const {
    const unsigned nt = static_cast<unsigned>(cuts.size() - 1);
    Part part;
    part.lo = cuts[t];
    part.hi = cuts[t + 1];
    const std::size_t slices = npad_ / kSimd;
    // Boundary slices of t: a cell in them reads a cell of another thread,
    // or is read by one.
    std::vector<char> boundary(slices, 0), linked(nt, 0);
    if (coupling_mask() != 0) {
      const auto owner = [&](std::size_t cell) {
        return static_cast<unsigned>(std::upper_bound(cuts.begin(), cuts.end(), cell) - cuts.begin() - 1);
      };
      for (std::size_t sl = 0; sl < slices; ++sl) {
        const unsigned a = owner(sl * kSimd);
        for (std::uint64_t e = ell_ptr_[sl]; e < ell_ptr_[sl + 1]; ++e) {
          const std::size_t to = lay_.cell_at(static_cast<std::size_t>(ell_col_[e]));
          const unsigned b = owner(to);
          if (a == b || (a != t && b != t)) continue;
          linked[a == t ? b : a] = 1;
          boundary[a == t ? sl : to / kSimd] = 1;
        }
      }
      for (unsigned u = 0; u < nt; ++u)
        if (linked[u]) part.deps.push_back(u);
    }
    // Its boundary slices first, then the interior ones, as runs of
    // consecutive slices within one kernel block. After the boundary
    // segments of a stage a thread has written everything its neighbours
    // will read and read everything of theirs it needs, so it signals then
    // (NeighbourSync::arrive) and its neighbours may start the next stage
    // while it computes its interior: small differences in speed between
    // threads (or a thread delayed by the host) no longer stall the others
    // at every stage.
    for (int pass = 1; pass >= 0; --pass) {
      for (std::size_t i = part.lo; i < part.hi; i += kSimd) {
        if (boundary[i / kSimd] != pass) continue;
        auto& seg = part.segs;
        if (!seg.empty() && seg.back().second == i && i % kBlock != 0 && (pass == 1 || seg.size() > part.n_boundary))
          seg.back().second = i + kSimd;
        else
          seg.push_back({i, i + kSimd});
      }
      if (pass == 1) part.n_boundary = part.segs.size();
    }
    return part;
  }

  // A new split from what each thread measured since the last one (the same
  // inputs in every thread, so every thread computes the same cuts).
  // Shares move towards being proportional to each thread's speed (cells
  // per busy second), halfway each time (measurements are noisy), and only
  // when the predicted gain is above 3%. Results do not depend on the split:
  // no cell's arithmetic does (the kernel's lanes are independent and every
  // lane computes the same bits; the gather works per SIMD unit).
  std::vector<std::size_t> balanced_cuts(const std::vector<std::size_t>& cuts, const ThreadLoad* load,
                                         std::uint64_t salt) const {
    const std::size_t nt = cuts.size() - 1, units = npad_ / kSimd;
    if (units < 2 * nt) return cuts;
    std::vector<double> share(nt);
    if (opt_.rebalance_scramble) {  // tests: arbitrary cuts
      for (std::size_t t = 0; t < nt; ++t) share[t] = 1.0 + static_cast<double>(splitmix64(salt + t) % 1000);
    } else {
      double slowest = 0, total_speed = 0;
      for (std::size_t t = 0; t < nt; ++t) {
        const double cells = static_cast<double>(cuts[t + 1] - cuts[t]);
        if (!(load[t].busy_s > 0) || cells == 0) return cuts;
        share[t] = cells / load[t].busy_s;
        total_speed += share[t];
        slowest = std::max(slowest, load[t].busy_s);
      }
      // With shares proportional to speed every thread would take
      // (all cells) / (total speed).
      if (slowest < 1.03 * static_cast<double>(npad_) / total_speed) return cuts;
      for (std::size_t t = 0; t < nt; ++t) {
        const double now = static_cast<double>(cuts[t + 1] - cuts[t]) / kSimd;
        share[t] = 0.5 * (now + static_cast<double>(units) * share[t] / total_speed);
      }
    }
    double sum = 0;
    for (double x : share) sum += x;
    std::vector<std::size_t> out(nt + 1, 0);
    double acc = 0;
    for (std::size_t t = 0; t < nt; ++t) {
      acc += share[t];
      // At least one unit per thread.
      std::size_t u = static_cast<std::size_t>(std::llround(acc / sum * static_cast<double>(units)));
      u = std::clamp<std::size_t>(u, out[t] / kSimd + 1, units - (nt - 1 - t));
      out[t + 1] = kSimd * u;
    }
    out[nt] = npad_;
    return out;
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
    // The model's stimulus from the glucose protocol (Bertram 2007: the
    // glucokinase factor).
    const auto gk = [&](double t) {
      if (p_.glucose.fixed_jgk) return m_.stimulus_without_glucose;
      return m_.stimulus_of_glucose ? m_.stimulus_of_glucose(p_.glucose.glucose_mM(t * 1e-3)) : 0.0;
    };
    if (p_.integrator == Integrator::euler) {
      // y(t+dt) = y + dt f(y), written to the other buffer, then swapped.
      wait();
      stage<Prof>(Stage::euler, *view.cur, view.cur, view.nxt, dt, 0.0, part, gk(t_ms), sc, pt, arrive);
      std::swap(view.cur, view.nxt);
    } else {
      // Classical RK4; stage inputs alternate between buffers a and b so a
      // stage never writes what a neighbour may still be reading.
      // acc = k1 + 2 k2 + 2 k3; stage input = y + h k; y += dt/6 (acc + k4).
      StateSet& y = *view.cur;
      const double h2 = 0.5 * dt, h6 = dt / 6.0;
      wait();
      stage<Prof>(Stage::rk_first, y, &y, &a_, h2, 0.0, part, gk(t_ms), sc, pt, arrive);
      wait();
      stage<Prof>(Stage::rk_mid, a_, &y, &b_, h2, 2.0, part, gk(t_ms + h2), sc, pt, arrive);
      wait();
      stage<Prof>(Stage::rk_mid, b_, &y, &a_, dt, 2.0, part, gk(t_ms + h2), sc, pt, arrive);
      wait();
      stage<Prof>(Stage::rk_last, a_, &y, nullptr, h6, 0.0, part, gk(t_ms + dt), sc, pt, arrive);
    }
  }

  // Non-finite check of the thread's real cells.
  void check_finite(const StateSet& y, std::size_t lo, std::size_t hi, ThreadFlags& f) const {
    f = {};
    const std::size_t end = std::min(hi, n_);
    for (int k = 0; k < static_cast<int>(S_); ++k) {
      for (std::size_t i = lo; i < end; ++i) {
        const double x = y.at(i, k);
        if (!std::isfinite(x) && perm_[i] < f.bad_cell) {
          f.bad_cell = perm_[i];
          f.bad_var = k;
          f.bad_value = x;
        }
      }
    }
  }

  // Queues buffer `b` with `count` samples for the sink (called by thread 0
  // only, after a barrier has made every thread's columns complete).
  void submit(int b, std::size_t count) {
    if (!recording_ || count == 0) return;
    RecordBuffer* buf = &rec_[b];
    samples_written_ += count;
    writer_.submit([this, buf, count] {
      std::vector<const double*> ptrs;
      for (const auto& d : buf->data) ptrs.push_back(d.data());
      sink_->write(count, buf->time.data(), buf->glucose.data(), ptrs);
    });
  }

  template <bool Prof>
  void thread_main(unsigned tid, unsigned nt, SpinBarrier& bar) {
    bool sense = false;
    std::vector<std::size_t> cuts = equal_cuts(nt);
    Part part = make_part(cuts, tid);
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
    const std::size_t K = std::max<std::size_t>(1, p_.record_block);
    const std::size_t nv = p_.record_vars.size();
    std::uint64_t k = 0;       // sample index
    std::uint64_t handed = 0;  // samples handed to the writer (thread 0)
    View view{&y_, &a_};
    std::uint64_t steps = 0;
    std::uint64_t controls = 0;  // control points passed
    for (std::uint64_t s = 0;; ++s) {
      const bool sample = recording_ && s % every == 0;
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
          stop_now_[par] = (opt_.stop && opt_.stop->load(std::memory_order_relaxed)) || !writer_.error().empty();
          // Sample k starts a buffer: the writer must be done with it (it was
          // handed over K samples ago) before anyone writes into it.
          if (sample && k % K == 0) writer_.wait_idle();
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
        if (tid == 0 && sample && k > handed && k % K == 0) {
          submit(static_cast<int>(((k - 1) / K) % 2), k - handed);
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
        if (sample) {
          RecordBuffer& buf = rec_[(k / K) % 2];
          const std::size_t slot = k % K;
          for (std::size_t v = 0; v < nv; ++v) {
            const int var = p_.record_vars[v];
            double* row = buf.data[v].data() + slot * n_;
            for (std::size_t i = part.lo; i < std::min(part.hi, n_); ++i) row[perm_[i]] = view.cur->at(i, var);
          }
          if (tid == 0) {
            const double t_s = static_cast<double>(s) * p_.dt_ms * 1e-3;
            buf.time[slot] = t_s;
            buf.glucose[slot] = p_.glucose.glucose_mM(t_s);
          }
          ++k;
          tm.lap(local.recording);
        }
        if (rebalance) {
          // Every thread reads the same loads (written before the barrier;
          // double-buffered like the flags) and computes the same cuts.
          const auto next = balanced_cuts(cuts, load_[balances & 1].data(), balances);
          if (next != cuts) {
            cuts = next;
            part = make_part(cuts, tid);
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
    if (tid == 0 && recording_ && k > 0) {
      if (k > handed) submit(static_cast<int>(((k - 1) / K) % 2), k - handed);
    }
    pt = local;
    if (tid == 0) {
      result_.profile.resplits = resplits;
      for (unsigned t = 0; t < nt; ++t) result_.profile.cells_per_thread.push_back(cuts[t + 1] - cuts[t]);
      final_ = view.cur;
      result_.steps_done = steps;
    }
  }

  static constexpr std::size_t kMaxCoupled = 4;  // coupled variables a model may have

  const EngineProblem& p_;
  const ModelInfo& m_;
  SampleSink* sink_;
  const RunOptions& opt_;
  std::size_t n_ = 0, npad_ = 0;
  std::size_t S_ = 0, P_ = 0, D_ = 0, C_ = 0;  // the model's states, parameters, derived, coupled
  Layout lay_;
  model_abi::StageTable fns_{};
  int variant_ = 0;  // the kernel variant (model_abi::Kernel::variant)
  std::size_t var_row_[kMaxCoupled] = {}, out_row_[kMaxCoupled] = {};  // coupled: state row, input row
  double coef_[kMaxCoupled] = {};
  bool on_[kMaxCoupled] = {};
  std::vector<AlignedVec<double>> per_cell_;  // per parameter; empty = uniform
  std::vector<AlignedVec<double>> dper_cell_;
  std::vector<double> uniform_;  // uniform values by input row
  std::vector<std::size_t> het_params_, het_derived_;  // the per-cell ones
  GatherFn gather_ = nullptr;  // the gather for the couplings that are on (none: nullptr)
  std::vector<std::uint32_t> perm_;      // internal index -> original cell id
  std::vector<std::uint32_t> internal_;  // original cell id -> internal index
  std::vector<std::uint64_t> ell_ptr_;  // per slice of kSimd cells: start in ell_col_/ell_w_
  AlignedVec<std::int32_t> ell_col_;  // signed: what the hardware gathers take
  AlignedVec<double> ell_w_;
  StateSet y_, a_, b_, acc_;
  const StateSet* final_ = &y_;
  bool recording_ = false;
  RecordBuffer rec_[2];
  std::size_t samples_written_ = 0;
  std::vector<ThreadFlags> flags_[2];  // per control-point parity, per thread
  std::vector<PhaseTimes> times_;
  std::unique_ptr<SpinBarrier> barrier_ptr_;
  NeighbourSync nsync_;
  std::vector<ThreadLoad> load_[2];  // per re-split parity, per thread
  bool stop_now_[2] = {false, false};
  RunResult result_;
  AsyncWriter writer_;
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
  for (std::size_t k = 0; k < p.params.size(); ++k) check_col(p.params[k], "parameter", m.params[k].name);
  for (std::size_t k = 0; k < p.initial.size(); ++k) check_col(p.initial[k], "initial state", m.states[k].name);
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
