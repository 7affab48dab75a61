#pragma once
// Inputs and outputs of the analysis pipeline (docs/analysis.md): an isletsim
// run file or a recorded time x cells text file in; an HDF5 file with every
// result, a per-cell CSV and a one-row summary CSV out.
#include <string>
#include <utility>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/config.hpp"

namespace isletsim {

// The variable `variable` of a run's HDF5 output, with its time, glucose,
// positions and gap-junction edges. InputError when it was not recorded.
// positions_path: a text file whose positions replace the run's (as
// read_positions_file reads it), e.g. a 2-D projection; "" keeps the run's.
analysis::Input analysis_input_from_run(const std::string& path, const std::string& variable,
                                        const std::string& positions_path = "");

// A recorded islet: a text file of one row per time point and one column per
// cell (separated by spaces, tabs, commas or semicolons; lines starting with
// '#' and a first line of column names are skipped). When sampling_hz is 0,
// or time_column is true, the first column is the time in s (uniform and
// increasing); otherwise every column is a cell and sample k is at k /
// sampling_hz. positions_path ("" = none): one row "x y [z]" (um) per cell.
analysis::Input analysis_input_from_text(const std::string& path, const std::string& positions_path,
                                         double sampling_hz, bool time_column);

// Cell positions from a text file, one row "x y [z]" (um) per cell of `in`
// (in.data.cells of them, in the order of its cells), into in.x, in.y, in.z
// (replacing any there). InputError naming the file (and the line of a bad
// number).
void read_positions_file(const std::string& positions_path, analysis::Input& in);

// The analysis results as HDF5 (layout: docs/analysis.md). Written to a
// temporary name and renamed when complete: a failed write leaves no file.
// options_toml: the [analysis] table used (stored as an attribute).
void write_analysis_h5(const analysis::Result& r, const analysis::Input& in, const std::string& path,
                       const std::string& options_toml);

// One row per cell: cell, x, y, z, excluded, the activity, network and wave
// columns (NaN written as "nan"). Written to a temporary name, then renamed.
void write_cells_csv(const analysis::Result& r, const analysis::Input& in, const std::string& path);

// The global metrics as a one-row CSV (header = metric names).
void write_summary_csv(const analysis::Result& r, const std::string& path);

// The [analysis] options of a config text (a run's stored config, or a TOML
// file with an [analysis] table; "" = the defaults) with `sets`
// ("analysis.k_avg=6", ...) applied. InputError names the key.
analysis::Options resolve_analysis_options(const std::string& config_text, const std::string& origin,
                                           const Overrides& sets);

// The config stored in a run file ("" when it has none).
std::string stored_config(const std::string& run_path);

// <stem>.analysis.h5, <stem>.cells.csv and <stem>.summary.csv, all three or
// none (io::write_atomically): each is written to a temporary name, and they
// are renamed into place only when every one is complete; after a failure
// none of them is there and the files they would have replaced are as they
// were. Returns their paths. InputError when one of them would replace
// `input_path`.
std::vector<std::string> write_analysis_outputs(const analysis::Result& r, const analysis::Input& in,
                                                const std::string& stem, const std::string& input_path);

// The per-cell column names of write_cells_csv after cell, x, y, z, excluded.
std::vector<std::string> analysis_cell_columns();

}  // namespace isletsim
