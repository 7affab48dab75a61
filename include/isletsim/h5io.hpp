#pragma once
// HDF5 output of a run, written as it goes, and read back.
//
// Layout (all names fixed; see docs/hdf5-layout.md):
//   /time                 float64 [samples]          attr units = "s"
//   /glucose              float64 [samples]          attr units = "mM" (NaN when JGK is fixed)
//   /data/<var>           float32|float64 [samples x cells], chunked, shuffle+deflate,
//                         attrs units, description
//   /cells/position       float64 [cells x 3]        attr units = "um"
//   /network/edges        uint32  [edges x 2]        (i, j), each undirected edge once
//   /network/weight       float64 [edges]            effective weight w_ij (dimensionless)
//   /params/<name>        float64 [cells]            per-cell value, attrs units, description
//   root attributes       strings / numbers set with set_attr (config, version, seed, ...)
//                         plus "status" ("running", "complete", "interrupted", "failed")
//                         and "status_message"
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace isletsim {

struct H5Variable {
  std::string name, units, description;
};

struct H5WriterOptions {
  std::string path;
  std::size_t n_cells = 0;
  std::vector<H5Variable> vars;
  bool float32 = false;            // storage type of /data/<var>
  std::size_t chunk_samples = 64;  // samples per chunk along time
  int deflate_level = 1;           // 0 = no compression
  // Set: open the existing run file at `path` instead of creating one, cut
  // its series back to this many samples and go on appending (a continued
  // run). vars must be the file's recorded variables.
  std::optional<std::size_t> continue_at;
  // Set: a file this writer creates stays new past its flushes and appends
  // until settle() (or finish()): for a file that starts with samples copied
  // from another run (a continued run written to a new file), which holds
  // nothing of its own until the run's first block.
  bool new_until_settled = false;
};

// Creates (truncates) the file at construction. Static content first, then
// append() any number of times; the file is flushed after every append so a
// reader (or a crash) sees everything appended so far. The writer does not
// take HDF5's file lock, so h5py can open the file while a run is going.
// finish() records the final status; if the writer is destroyed without
// finish(), status stays "running" but all appended data is there. A file
// it creates is new until the first flush after its layout succeeds
// (flush(), append(), write_state() or finish()), or with
// new_until_settled until settle(): a writer that fails in its constructor,
// or is destroyed while the file is new (e.g. when a write of the static
// part throws), removes the file, which holds nothing simulated yet. A file
// being continued (continue_at) is never removed.
class H5Writer {
 public:
  explicit H5Writer(const H5WriterOptions& opt);  // throws InputError if the file can't be created
  ~H5Writer();
  H5Writer(const H5Writer&) = delete;
  H5Writer& operator=(const H5Writer&) = delete;

  void write_positions(const std::vector<double>& x, const std::vector<double>& y,
                       const std::vector<double>& z);
  void write_edges(const std::vector<std::uint32_t>& i, const std::vector<std::uint32_t>& j,
                   const std::vector<double>& w);
  void write_cell_param(const std::string& name, const std::string& units,
                        const std::string& description, const std::vector<double>& values);
  // A per-cell dataset /<group>/<name> (e.g. "initial", "cells").
  void write_cell_values(const std::string& group, const std::string& name, const std::string& units,
                         const std::string& description, const std::vector<double>& values);
  void flush();  // what was written so far reaches the disk (append() flushes by itself)
  // A file kept from here on, whatever happens (new_until_settled): flushed,
  // it is no longer new. Does nothing when the file is not held new.
  void settle();
  void set_attr(const std::string& name, const std::string& value);
  void set_attr(const std::string& name, double value);
  void set_attr(const std::string& name, std::int64_t value);

  // n samples; data[v] points to n * n_cells values (sample-major: sample s,
  // cell c at [s * n_cells + c]) for variable v in the order of opt.vars.
  void append(std::size_t n, const double* time_s, const double* glucose_mM,
              const std::vector<const double*>& data);

  // Optional, before append() of samples [first, first + n): compresses the
  // whole chunks of variable v's rows among them (data: n * n_cells values,
  // as for append), which append() then stores as they are. Calls for
  // different variables may run at once on different threads (no HDF5 call
  // is made here); each must finish before the append() of its block, and
  // the next encode of a variable must wait for that append(). An append()
  // whose block was not encoded (or encoded for other samples) compresses
  // on its own thread.
  void encode(std::size_t v, std::size_t first, std::size_t n, const double* data);

  // The complete state of every cell at `step` (state[k][cell], named by
  // `names`), after `samples` samples: /checkpoint/{a,b}, written in turn,
  // with /checkpoint's attribute "latest" naming the last one written whole.
  // step_ms > 0 (adaptive integrators): the step the integrator goes on
  // with, stored as the attribute "step_ms".
  void write_state(std::uint64_t step, std::uint64_t samples, double time_s, const std::vector<std::string>& names,
                   const std::vector<std::vector<double>>& state, double step_ms = 0);

  // status: "complete", "interrupted" or "failed"; message: free text. After
  // a failed write, the series are cut back to the samples written whole;
  // throws (after closing the file) if the status could not be recorded.
  void finish(const std::string& status, const std::string& message);

  std::size_t samples_written() const;
  const std::string& path() const;

 private:
  void reopen(std::size_t keep);
  void truncate_series();
  void attach_scales();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A whole output file in memory (tests, Python's isl.load).
struct H5Run {
  std::vector<double> time, glucose;
  std::vector<std::string> var_names;
  std::vector<std::vector<double>> data;  // per variable, samples x cells, sample-major
  std::size_t n_samples = 0, n_cells = 0;
  bool float32 = false;  // /data/<var> stored as float32 (record.dtype), so a copy is stored alike
  std::vector<double> x, y, z;
  std::vector<std::uint32_t> edge_i, edge_j;
  std::vector<double> edge_w;
  std::vector<std::pair<std::string, std::vector<double>>> params;
  std::vector<std::pair<std::string, std::string>> string_attrs;
  std::vector<std::pair<std::string, double>> number_attrs;
  std::vector<std::pair<std::string, std::int64_t>> integer_attrs;  // those of number_attrs stored as integers, exactly
  std::size_t first_sample = 0;     // read_run with an H5Select: the file's index of time[0]
  std::vector<std::size_t> cells;  // read_run with an H5Select: the file's index of each cell read
  std::string attr(const std::string& name) const;  // "" when absent
  const std::vector<double>& var(const std::string& name) const;  // throws InputError
};

// Throws InputError naming the file. with_data = false reads everything but
// the sampled series (time, glucose, data stay empty; n_samples is set).
// vars, when not empty, reads only those variables of /data, in that order
// (InputError naming the recorded ones when one is missing).
H5Run read_run(const std::string& path, bool with_data = true, const std::vector<std::string>& vars = {});

// The complete state a run file holds (/checkpoint): at step `step`, after
// `samples` samples; state[k] is the state names[k] of every cell.
struct StoredState {
  std::uint64_t step = 0, samples = 0;
  double time_s = 0;
  double step_ms = 0;  // an adaptive integrator's next step (0: none stored)
  std::vector<std::string> names;
  std::vector<std::vector<double>> state;
};
// The last one written whole; nullopt when the file holds none (a file of an
// older version, or a run killed before its first checkpoint).
std::optional<StoredState> read_checkpoint(const std::string& path);

// The 1-D per-cell datasets of a group of a run file (e.g. "initial",
// "params"), in the order written; empty when the group is absent.
std::vector<std::pair<std::string, std::vector<double>>> read_cell_group(const std::string& path,
                                                                          const std::string& group);

// A part of a run file: the samples with t0 <= time < t1 (s) and some cells.
struct H5Select {
  double t0 = -std::numeric_limits<double>::infinity();
  double t1 = std::numeric_limits<double>::infinity();
  bool all_cells = true;
  std::vector<std::size_t> cells;  // when !all_cells: the file's cell indices, each once, in any order
};

// read_run for the part `sel` of a file: /time, /glucose, /data/<var> (when
// with_data), /cells/position and /params/<name> hold the selected samples and
// cells only (reading only those rows and, for /data, column blocks; never the
// whole series); /network keeps the edges between selected cells, renumbered
// to positions in sel.cells. run.first_sample and run.cells say what was
// read. InputError naming `cells` for an index out of range or given twice.
H5Run read_run(const std::string& path, const H5Select& sel, bool with_data = true,
               const std::vector<std::string>& vars = {});

// One recorded variable's samples [first, first + count) of the cells `cells`
// (the file's indices, any order; all_cells: every cell), sample-major, as
// float64 or float32 (HDF5 converts from the stored type). Reads only those
// rows, and for a cell list only the columns from its smallest to its largest
// index, a block of chunks at a time. InputError when the file does not have them.
void read_var(const std::string& path, const std::string& var, std::size_t first, std::size_t count,
              bool all_cells, const std::vector<std::size_t>& cells, std::vector<double>& out);
void read_var(const std::string& path, const std::string& var, std::size_t first, std::size_t count,
              bool all_cells, const std::vector<std::size_t>& cells, std::vector<float>& out);

}  // namespace isletsim
