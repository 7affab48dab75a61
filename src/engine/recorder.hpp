#pragma once
// The engine's recording: the samples of the recorded variables in two
// buffers of `block` samples each (the threads fill one while the writer
// thread hands the other to the sink), and the writer thread itself.
//
// The threads write a sample's row in the engine's internal cell order, each
// its own cells as one contiguous run (two threads never write the same
// cache line but at their boundary; in the original order the cell order
// spreads a thread's cells over the whole row, and both cores would write
// every line of every row). A block is put in the original cell order, in
// place and per variable, once it is complete, before the sink sees it: by
// the threads that compress it (encode), or by the writer (submit).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "async_writer.hpp"
#include "isletsim/engine.hpp"

namespace isletsim::engine {

class Recorder {
 public:
  // perm: internal index -> original cell id, for n_cells cells; encode:
  // RunOptions::encode_on_compute.
  Recorder(SampleSink* sink, std::size_t n_vars, std::size_t block, bool encode, const std::vector<std::uint32_t>& perm)
      : sink_(sink),
        on_(sink && n_vars > 0),
        encode_(on_ && encode),
        n_(perm.size()),
        K_(std::max<std::size_t>(1, block)),
        inv_(perm.size()),
        writer_(sink) {
    for (std::size_t i = 0; i < n_; ++i) inv_[perm[i]] = static_cast<std::uint32_t>(i);
    if (!on_) return;
    for (auto& buf : buf_) {
      buf.data.assign(n_vars, std::vector<double>(K_ * n_));
      buf.time.assign(K_, 0.0);
      buf.glucose.assign(K_, 0.0);
    }
  }

  bool on() const { return on_; }
  // The threads put each block in cell order and compress it (encode).
  bool encodes() const { return encode_; }
  // Samples per block (buffer): blocks are handed to the sink whole.
  std::size_t block() const { return K_; }
  // Samples handed over so far.
  std::size_t samples() const { return samples_; }
  // The writer thread: the sink's work (samples, checkpoints) in order.
  AsyncWriter& writer() { return writer_; }

  // Sample k's row of recorded variable v: n values in the internal order.
  double* row(std::uint64_t k, std::size_t v) { return buf_[(k / K_) % 2].data[v].data() + (k % K_) * n_; }
  // Sample k's time and glucose (one thread writes them).
  void stamp(std::uint64_t k, double time_s, double glucose_mM) {
    Buffer& b = buf_[(k / K_) % 2];
    b.time[k % K_] = time_s;
    b.glucose[k % K_] = glucose_mM;
  }

  // encodes(): thread tid of nt puts variables v = tid, tid + nt, ... of
  // samples [from, to) in cell order and hands them to SampleSink::encode
  // (the run file's compression). Every thread calls it, once every thread
  // has written those samples and with the writer idle; the caller then
  // waits for all of them (a barrier) before submit.
  void encode(std::uint64_t from, std::uint64_t to, unsigned tid, unsigned nt) {
    Buffer& b = buf_[(from / K_) % 2];
    const std::size_t off = from % K_, count = static_cast<std::size_t>(to - from);
    std::vector<double> scratch(tid < b.data.size() ? n_ : 0);
    for (std::size_t v = tid; v < b.data.size(); v += nt) {
      double* d = b.data[v].data() + off * n_;
      to_original(d, count, scratch.data());
      sink_->encode(v, from, count, d);
    }
  }

  // Queues samples [from, to) for the sink (one thread, once every thread
  // has written them). They lie in one buffer: sample k is slot k % block
  // of buffer (k / block) % 2. ordered: encode() has put them in cell
  // order; otherwise the writer does.
  void submit(std::uint64_t from, std::uint64_t to, bool ordered) {
    if (!on_ || to <= from) return;
    Buffer* b = &buf_[(from / K_) % 2];
    const std::size_t off = from % K_, count = static_cast<std::size_t>(to - from);
    samples_ += count;
    writer_.submit([this, b, off, count, ordered] {
      if (!ordered) {
        std::vector<double> scratch(n_);
        for (auto& d : b->data) to_original(d.data() + off * n_, count, scratch.data());
      }
      std::vector<const double*> ptrs;
      for (const auto& d : b->data) ptrs.push_back(d.data() + off * n_);
      sink_->write(count, b->time.data() + off, b->glucose.data() + off, ptrs);
    });
  }

 private:
  struct Buffer {
    std::vector<std::vector<double>> data;  // [var][slot * n + internal index], then cell order
    std::vector<double> time, glucose;
  };
  // Rows [0, count) of n_ values from d, each from the internal order to
  // the original cell order, in place (scratch: n_ values).
  void to_original(double* d, std::size_t count, double* scratch) const {
    const std::uint32_t* inv = inv_.data();
    for (std::size_t r = 0; r < count; ++r) {
      double* x = d + r * n_;
      for (std::size_t j = 0; j < n_; ++j) scratch[j] = x[inv[j]];
      std::copy(scratch, scratch + n_, x);
    }
  }

  SampleSink* sink_;
  bool on_, encode_;
  std::size_t n_, K_;
  std::vector<std::uint32_t> inv_;  // original cell id -> internal index
  Buffer buf_[2];
  std::size_t samples_ = 0;
  AsyncWriter writer_;  // last: its thread stops (joined) before the buffers go
};

}  // namespace isletsim::engine
