// Analysis inputs (run files, recorded text files) and outputs (HDF5, CSV).
#include "isletsim/analysis_io.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "io/h5_handle.hpp"
#include "io/write_atomically.hpp"
#include "isletsim/error.hpp"
#include "isletsim/h5io.hpp"

namespace isletsim {

using namespace h5;

// ---------------------------------------------------------------- inputs

analysis::Input analysis_input_from_run(const std::string& path, const std::string& variable,
                                        const std::string& positions_path) {
  H5Run run = read_run(path, true, {variable});
  analysis::Input in;
  in.source = path;
  in.variable = variable;
  in.time = std::move(run.time);
  in.data.samples = run.n_samples;
  in.data.cells = run.n_cells;
  in.data.v = std::move(run.data.front());
  // The glucose column is NaN where the run fixes the glucokinase rate instead.
  if (std::any_of(run.glucose.begin(), run.glucose.end(), [](double g) { return std::isfinite(g); }))
    in.glucose = std::move(run.glucose);
  in.x = std::move(run.x), in.y = std::move(run.y), in.z = std::move(run.z);
  in.edge_i = std::move(run.edge_i), in.edge_j = std::move(run.edge_j);
  if (in.data.samples < 2)
    throw InputError(fmt::format("'{}' holds {} sample(s) of '{}': nothing to analyse (status: {})", path,
                                 in.data.samples, variable, run.attr("status")));
  if (!positions_path.empty()) read_positions_file(positions_path, in);
  return in;
}

namespace {

bool is_separator(char c) { return c == ' ' || c == '\t' || c == ',' || c == ';' || c == '\r'; }

// The numbers of one text line; false (and `bad` = the offending token's
// column, 1-based) when a token is not a number.
bool parse_numbers(const std::string& line, std::vector<double>& out, std::size_t& bad) {
  out.clear();
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_separator(line[i])) ++i;
    if (i >= line.size()) break;
    std::size_t j = i;
    while (j < line.size() && !is_separator(line[j])) ++j;
    double v = 0;
    const char* b = line.data() + i;
    const char* e = line.data() + j;
    if (*b == '+') ++b;
    const auto res = std::from_chars(b, e, v);
    if (res.ec != std::errc() || res.ptr != e) {
      bad = i + 1;
      return false;
    }
    out.push_back(v);
    i = j;
  }
  return true;
}

// Rows of numbers of a text file: comments and blank lines skipped, a first
// line that is not numbers taken as a header. Every row has the same count.
std::vector<std::vector<double>> read_table(const std::string& path, const char* what) {
  std::ifstream f(path);
  if (!f) throw InputError(fmt::format("cannot open {} '{}'", what, path));
  std::vector<std::vector<double>> rows;
  std::string line;
  std::vector<double> nums;
  std::size_t lineno = 0, first_line = 0;
  bool header_allowed = true;
  while (std::getline(f, line)) {
    ++lineno;
    const auto start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos || line[start] == '#') continue;
    std::size_t bad = 0;
    if (!parse_numbers(line, nums, bad)) {
      if (header_allowed) {
        header_allowed = false;  // column names
        continue;
      }
      std::size_t end = bad - 1;
      while (end < line.size() && !is_separator(line[end])) ++end;
      throw InputError(fmt::format("{}:{}:{}: '{}' is not a number (expected numbers separated by spaces, tabs or "
                                   "commas)",
                                   path, lineno, bad, line.substr(bad - 1, end - (bad - 1))));
    }
    header_allowed = false;
    if (!rows.empty() && nums.size() != rows.front().size())
      throw InputError(fmt::format("{}:{}: {} values, expected {} as on line {}", path, lineno, nums.size(),
                                   rows.front().size(), first_line));
    if (rows.empty()) first_line = lineno;
    rows.push_back(nums);
  }
  if (rows.empty()) throw InputError(fmt::format("{} '{}' holds no rows of numbers", what, path));
  return rows;
}

}  // namespace

analysis::Input analysis_input_from_text(const std::string& path, const std::string& positions_path,
                                         double sampling_hz, bool time_column) {
  if (std::filesystem::is_directory(path)) throw InputError("'" + path + "' is a directory, not a recording");
  if (!(sampling_hz >= 0) || !std::isfinite(sampling_hz))
    throw InputError(
        fmt::format("sampling rate (--sampling-hz, sampling_hz=) {}: expected a rate > 0 in Hz", sampling_hz));
  const auto rows = read_table(path, "recording");
  const bool has_time = time_column || sampling_hz == 0;
  const std::size_t cols = rows.front().size();
  if (cols < (has_time ? 2u : 1u))
    throw InputError(fmt::format("'{}': {} column(s): expected {}one column per cell", path, cols,
                                 has_time ? "a time column and " : ""));
  analysis::Input in;
  in.source = path;
  in.variable = "c";
  const std::size_t n = cols - (has_time ? 1 : 0);
  in.data = analysis::Series(rows.size(), n);
  in.time.resize(rows.size());
  for (std::size_t s = 0; s < rows.size(); ++s) {
    const auto& r = rows[s];
    in.time[s] = has_time ? r[0] : static_cast<double>(s) / sampling_hz;
    std::copy(r.begin() + (has_time ? 1 : 0), r.end(), in.data.v.begin() + static_cast<std::ptrdiff_t>(s * n));
  }
  if (has_time) {
    if (rows.size() < 2) throw InputError(fmt::format("'{}': a single time point: nothing to analyse", path));
    const double dt = in.time[1] - in.time[0];
    for (std::size_t s = 1; s < in.time.size(); ++s) {
      const double d = in.time[s] - in.time[s - 1];
      if (!(d > 0) || std::abs(d - dt) > 1e-3 * dt)
        throw InputError(fmt::format(
            "'{}': the first column (time, s) is not uniformly increasing at row {} ({} after {}); if the file "
            "has no time column, give the sampling rate (--sampling-hz, sampling_hz=)",
            path, s + 1, in.time[s], in.time[s - 1]));
    }
    if (sampling_hz > 0 && std::abs(1.0 / dt - sampling_hz) > 1e-3 * sampling_hz)
      throw InputError(
          fmt::format("'{}': the time column's step {} s is {} Hz, but the sampling rate given "
                      "(--sampling-hz, sampling_hz=) is {}",
                      path, dt, 1.0 / dt, sampling_hz));
  }
  if (!positions_path.empty()) read_positions_file(positions_path, in);
  return in;
}

void read_positions_file(const std::string& positions_path, analysis::Input& in) {
  const std::size_t n = in.data.cells;
  const bool run = in.source.size() > 3 && in.source.compare(in.source.size() - 3, 3, ".h5") == 0;
  const auto pos = read_table(positions_path, "positions file");
  const std::size_t pc = pos.front().size();
  if (pc != 2 && pc != 3)
    throw InputError(fmt::format("'{}': {} columns: expected x y [z] (um) per cell", positions_path, pc));
  if (pos.size() != n)
    throw InputError(
        fmt::format("'{}': {} positions for the {} cells of '{}' (one row x y [z] per cell, in the "
                    "order of {})",
                    positions_path, pos.size(), n, in.source, run ? "the run's cells" : "the recording's columns"));
  std::vector<double> x, y, z;
  for (const auto& p : pos) {
    x.push_back(p[0]);
    y.push_back(p[1]);
    z.push_back(pc == 3 ? p[2] : 0.0);
  }
  for (std::size_t c = 0; c < n; ++c)
    if (!std::isfinite(x[c]) || !std::isfinite(y[c]) || !std::isfinite(z[c]))
      throw InputError(fmt::format("'{}': the position of cell {} is not finite", positions_path, c));
  in.x = std::move(x), in.y = std::move(y), in.z = std::move(z);
}

// ---------------------------------------------------------------- outputs

namespace {

using io::write_atomically;
using io::write_text;

void put(const Ctx& ctx, hid_t loc, const std::string& name, const std::vector<double>& v, const char* units,
         const char* description) {
  Handle d = write_fixed(ctx, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {v.size()}, v.data(), 4);
  describe(ctx, d.get(), units, description);
}

template <class T>
void put_ints(const Ctx& ctx, hid_t loc, const std::string& name, const std::vector<T>& v, const char* description) {
  static_assert(sizeof(T) == 1 || sizeof(T) == 4 || sizeof(T) == 8);
  hid_t file_type, mem_type;
  if constexpr (sizeof(T) == 1) {
    file_type = H5T_STD_U8LE, mem_type = H5T_NATIVE_UINT8;
  } else if constexpr (sizeof(T) == 4) {
    file_type = std::is_signed_v<T> ? H5T_STD_I32LE : H5T_STD_U32LE;
    mem_type = std::is_signed_v<T> ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT32;
  } else {
    file_type = H5T_STD_U64LE, mem_type = H5T_NATIVE_UINT64;
  }
  Handle d = write_fixed(ctx, loc, name, file_type, mem_type, {v.size()}, v.data(), 4);
  describe(ctx, d.get(), "", description);
}

void put_pairs(const Ctx& ctx, hid_t loc, const std::string& name, const std::vector<std::uint32_t>& i,
               const std::vector<std::uint32_t>& j, const char* description) {
  std::vector<std::uint32_t> ij(2 * i.size());
  for (std::size_t e = 0; e < i.size(); ++e) ij[2 * e] = i[e], ij[2 * e + 1] = j[e];
  Handle d = write_fixed(ctx, loc, name, H5T_STD_U32LE, H5T_NATIVE_UINT32, {i.size(), 2}, ij.data(), 4);
  describe(ctx, d.get(), "", description);
}

}  // namespace

std::vector<std::string> analysis_cell_columns() {
  return {"relative_active_time", "frequency_hz", "mean_duration_s", "mean_interval_s", "interval_cv",
          "n_oscillations", "first_onset_s", "response_latency_s", "time_to_plateau_s", "degree",
          "normalized_degree", "clustering", "betweenness", "closeness", "hub", "community", "initiated",
          "participated", "mean_rank", "rank_sd"};
}

namespace {

// The analysis file `path`, written to `tmp` (the caller renames it).
void write_analysis_h5_to(const analysis::Result& r, const analysis::Input& in, const std::string& tmp,
                          const std::string& path, const std::string& options_toml) {
  silence_hdf5();
  {
    const Ctx ctx{path};  // errors name the file, not its temporary name
    Handle file;
    {
      Handle fapl = file_access_plist(ctx);
      Handle fcpl = ctx.plist(H5P_FILE_CREATE, "file creation");
      ctx.ok(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
             "track attribute creation order");
      const hid_t f = H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
      if (f < 0) throw InputError("cannot create file '" + path + "': " + hdf5_reason());
      file = Handle(f, H5Fclose);
    }
    const hid_t root = file.get();
    const std::size_t n = in.data.cells, m = r.pre.time.size();
    write_string_attr(ctx, root, "kind", "isletsim analysis");
    write_string_attr(ctx, root, "source", in.source);
    write_string_attr(ctx, root, "variable", in.variable);
    write_string_attr(ctx, root, "options", options_toml);
    write_number_attr(ctx, root, "rate_hz", r.pre.rate_hz);
    write_number_attr(ctx, root, "stimulus_s", r.stimulus_s);
    write_number_attr(ctx, root, "threshold", r.threshold);
    write_number_attr(ctx, root, "n_cells", static_cast<std::int64_t>(n));

    put(ctx, root, "time", r.pre.time, "s", "time of each analysed sample");
    {
      Handle d = write_fixed(ctx, root, "binary", H5T_STD_U8LE, H5T_NATIVE_UINT8, {m, n}, r.binary.data(), 4);
      describe(ctx, d.get(), "", "1 where the cell is active [samples x cells]");
    }
    // The signal is stored only when preprocessing changed it: otherwise it
    // is the source's /data/<variable> over /time.
    const analysis::Options& o = r.options;
    const bool processed = o.band != analysis::Band::raw || o.detrend != analysis::Detrend::none ||
                           o.smooth_s > 0 || (m > 0 && in.data.samples > 0 && r.pre.rate_hz > 0 &&
                                              std::abs(r.pre.rate_hz * (in.time[1] - in.time[0]) - 1.0) > 1e-9);
    if (processed) {
      std::vector<float> narrow(r.pre.signal.v.begin(), r.pre.signal.v.end());
      Handle d = write_fixed(ctx, root, "signal", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {m, n}, narrow.data(), 1);
      describe(ctx, d.get(), "", "the preprocessed signal that was binarised [samples x cells]");
    }
    write_number_attr(ctx, root, "signal_stored", static_cast<std::int64_t>(processed));

    Handle cells = create_group(ctx, root, "cells");
    put_ints(ctx, cells.get(), "excluded", r.pre.excluded, "1 = flat or broken trace, left out");
    if (!in.x.empty()) {
      std::vector<double> xyz(3 * n);
      for (std::size_t c = 0; c < n; ++c) xyz[3 * c] = in.x[c], xyz[3 * c + 1] = in.y[c], xyz[3 * c + 2] = in.z[c];
      Handle d = write_fixed(ctx, cells.get(), "position", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n, 3}, xyz.data());
      describe(ctx, d.get(), "um", "cell centres");
    }

    const auto& a = r.activity;
    Handle act = create_group(ctx, root, "activity");
    put(ctx, act.get(), "relative_active_time", a.relative_active_time, "1", "active samples / samples");
    put(ctx, act.get(), "frequency_hz", a.frequency_hz, "Hz", "onsets / window duration");
    put(ctx, act.get(), "mean_duration_s", a.mean_duration_s, "s", "mean length of the active episodes");
    put(ctx, act.get(), "mean_interval_s", a.mean_interval_s, "s", "mean time between consecutive onsets");
    put(ctx, act.get(), "interval_cv", a.interval_cv, "1", "SD / mean of the inter-onset intervals");
    put_ints(ctx, act.get(), "n_oscillations", a.n_oscillations, "active episodes in the window");
    put(ctx, act.get(), "first_onset_s", a.first_onset_s, "s", "first onset after the stimulus, from the stimulus");
    put(ctx, act.get(), "response_latency_s", a.response_latency_s, "s",
        "half-maximum rise after the stimulus, from the stimulus");
    put(ctx, act.get(), "time_to_plateau_s", a.time_to_plateau_s, "s",
        "the smoothed trace reaches plateau_fraction of its rise, from the stimulus");
    {
      std::vector<double> t;
      std::vector<std::uint32_t> cell;
      for (std::size_t c = 0; c < a.onsets.size(); ++c)
        for (double x : a.onsets[c]) t.push_back(x), cell.push_back(static_cast<std::uint32_t>(c));
      Handle on = create_group(ctx, root, "onsets");
      put(ctx, on.get(), "time", t, "s", "onset times, by cell then time");
      put_ints(ctx, on.get(), "cell", cell, "the cell of each onset");
    }

    {
      Handle d = write_fixed(ctx, root, "corr", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n, n}, r.corr.data(), 1);
      describe(ctx, d.get(), "1", "Pearson correlation of the analysed signal [cells x cells]");
      Handle e = write_fixed(ctx, root, "coactivity", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n, n},
                             r.coactivity.data(), 1);
      describe(ctx, e.get(), "1", "N_ij / sqrt(N_i N_j) of the binary traces [cells x cells]");
    }
    {
      Handle g = create_group(ctx, root, "by_distance");
      put(ctx, g.get(), "bin_lo_um", r.by_distance.bin_lo_um, "um", "lower edge of each distance bin");
      put(ctx, g.get(), "mean", r.by_distance.mean, "1", "mean similarity of the pairs in the bin");
      put(ctx, g.get(), "sd", r.by_distance.sd, "1", "SD of the similarity of the pairs in the bin");
      put_ints(ctx, g.get(), "pairs", r.by_distance.pairs, "pairs in the bin");
    }

    const auto& nm = r.measures;
    Handle net = create_group(ctx, root, "network");
    put_pairs(ctx, net.get(), "edges", r.network.i, r.network.j, "functional edges (i < j)");
    write_number_attr(ctx, net.get(), "threshold", r.threshold);
    write_string_attr(ctx, net.get(), "similarity", analysis::to_string(o.similarity));
    put(ctx, net.get(), "degree", nm.degree, "1", "functional degree");
    put(ctx, net.get(), "normalized_degree", nm.normalized_degree, "1", "degree / maximum degree");
    put(ctx, net.get(), "clustering", nm.clustering, "1", "local clustering coefficient");
    put(ctx, net.get(), "betweenness", nm.betweenness, "1", "normalised betweenness centrality");
    put(ctx, net.get(), "closeness", nm.closeness, "1", "closeness centrality (Wasserman-Faust)");
    put_ints(ctx, net.get(), "hub", nm.hub, "1 = hub cell");
    put_ints(ctx, net.get(), "community", nm.community, "community (Louvain), -1 for excluded cells");
    if (!in.edge_i.empty()) {
      Handle s = create_group(ctx, root, "structural");
      put_pairs(ctx, s.get(), "edges", in.edge_i, in.edge_j, "gap-junction edges of the simulated islet");
    }

    const auto& wr = r.waves;
    Handle wg = create_group(ctx, root, "waves");
    {
      std::vector<double> start, dur, speed, rel;
      std::vector<std::uint32_t> origin, cells_flat, init_flat;
      std::vector<double> delays;
      std::vector<std::uint64_t> off{0}, init_off{0};
      for (const auto& w : wr.waves) {
        start.push_back(w.start_s), dur.push_back(w.duration_s), speed.push_back(w.speed_um_s);
        rel.push_back(w.relative_size), origin.push_back(w.origin);
        cells_flat.insert(cells_flat.end(), w.cells.begin(), w.cells.end());
        delays.insert(delays.end(), w.delays_s.begin(), w.delays_s.end());
        init_flat.insert(init_flat.end(), w.initiators.begin(), w.initiators.end());
        off.push_back(cells_flat.size()), init_off.push_back(init_flat.size());
      }
      put(ctx, wg.get(), "start_s", start, "s", "first onset of each wave");
      put(ctx, wg.get(), "duration_s", dur, "s", "last onset - first onset");
      put(ctx, wg.get(), "speed_um_s", speed, "um/s", "distance from the origin against delay (least squares)");
      put(ctx, wg.get(), "relative_size", rel, "1", "cells of the wave / analysed cells");
      put_ints(ctx, wg.get(), "origin", origin, "the earliest cell of each wave");
      put_ints(ctx, wg.get(), "cells", cells_flat, "cells of wave w: cells[offsets[w]:offsets[w+1]], in order");
      put(ctx, wg.get(), "delays_s", delays, "s", "onset - start, per entry of cells");
      put_ints(ctx, wg.get(), "offsets", off, "where each wave's cells start in cells");
      put_ints(ctx, wg.get(), "initiators", init_flat, "initiators[initiator_offsets[w]:initiator_offsets[w+1]]");
      put_ints(ctx, wg.get(), "initiator_offsets", init_off, "where each wave's initiators start");
      write_number_attr(ctx, wg.get(), "leader_consistency", wr.leader_consistency);
    }
    {
      Handle wc = create_group(ctx, root, "wave_cells");
      put_ints(ctx, wc.get(), "initiated", wr.initiated, "waves the cell initiated");
      put_ints(ctx, wc.get(), "participated", wr.participated, "waves the cell took part in");
      put(ctx, wc.get(), "mean_rank", wr.mean_rank, "1", "mean relative activation rank (0 first, 1 last)");
      put(ctx, wc.get(), "rank_sd", wr.rank_sd, "1", "SD of the relative activation rank");
    }
    {
      Handle mg = create_group(ctx, root, "metrics");
      for (const auto& [name, v] : r.metrics()) write_number_attr(ctx, mg.get(), name, v);
    }
    if (!in.glucose.empty()) {
      Handle g = create_group(ctx, root, "glucose");
      put(ctx, g.get(), "time", in.time, "s", "time of the whole recording");
      put(ctx, g.get(), "mM", in.glucose, "mM", "glucose of the whole recording");
    }
    ctx.ok(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
    if (file.close() < 0) ctx.fail("close");
  }
}

}  // namespace

void write_analysis_h5(const analysis::Result& r, const analysis::Input& in, const std::string& path,
                       const std::string& options_toml) {
  write_atomically(path, [&](const std::string& tmp) { write_analysis_h5_to(r, in, tmp, path, options_toml); });
}

namespace {

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
  return std::string(buf, res.ptr);
}

std::string cells_csv_text(const analysis::Result& r, const analysis::Input& in) {
  const std::size_t n = in.data.cells;
  const bool pos = !in.x.empty();
  std::string s = pos ? "cell,x,y,z,excluded" : "cell,excluded";
  for (const auto& c : analysis_cell_columns()) s += "," + c;
  s += "\n";
  const auto& a = r.activity;
  const auto& m = r.measures;
  const auto& w = r.waves;
  for (std::size_t c = 0; c < n; ++c) {
    s += std::to_string(c);
    // Each field appended on its own: "," + num(...) trips GCC 12's
    // -Wrestrict false positive (inlined operator+(const char*, string&&)).
    const auto field = [&s](const std::string& f) {
      s += ',';
      s += f;
    };
    if (pos)
      for (const double* xyz : {in.x.data(), in.y.data(), in.z.data()}) field(num(xyz[c]));
    field(std::to_string(int(r.pre.excluded[c])));
    for (double v : {a.relative_active_time[c], a.frequency_hz[c], a.mean_duration_s[c], a.mean_interval_s[c],
                     a.interval_cv[c], double(a.n_oscillations[c]), a.first_onset_s[c], a.response_latency_s[c],
                     a.time_to_plateau_s[c], m.degree[c], m.normalized_degree[c], m.clustering[c], m.betweenness[c],
                     m.closeness[c], double(m.hub[c]), double(m.community[c]), double(w.initiated[c]),
                     double(w.participated[c]), w.mean_rank[c], w.rank_sd[c]})
      field(num(v));
    s += "\n";
  }
  return s;
}

std::string summary_csv_text(const analysis::Result& r) {
  std::string head, row;
  for (const auto& [name, v] : r.metrics()) {
    if (!head.empty()) {
      head += ',';
      row += ',';
    }
    head += name;
    row += num(v);
  }
  return head + "\n" + row + "\n";
}

}  // namespace

void write_cells_csv(const analysis::Result& r, const analysis::Input& in, const std::string& path) {
  const std::string text = cells_csv_text(r, in);
  write_atomically(path, [&](const std::string& tmp) { write_text(tmp, path, text); });
}

void write_summary_csv(const analysis::Result& r, const std::string& path) {
  const std::string text = summary_csv_text(r);
  write_atomically(path, [&](const std::string& tmp) { write_text(tmp, path, text); });
}

analysis::Options resolve_analysis_options(const std::string& config_text, const std::string& origin,
                                           const Overrides& sets) {
  return parse_config(config_text, origin, sets).analysis;
}

std::string stored_config(const std::string& run_path) { return read_run(run_path, false).attr("config"); }

std::vector<std::string> write_analysis_outputs(const analysis::Result& r, const analysis::Input& in,
                                                const std::string& stem, const std::string& input_path) {
  const std::vector<std::string> out = {stem + ".analysis.h5", stem + ".cells.csv", stem + ".summary.csv"};
  std::error_code ec;
  for (const auto& p : out)
    if (std::filesystem::equivalent(p, input_path, ec))
      throw InputError("the analysis output '" + p + "' would replace its input; choose another name with -o");
  // All three or none: a CSV that cannot be written leaves no analysis file
  // behind, and the files of an earlier analysis as they were.
  const std::string cells = cells_csv_text(r, in), summary = summary_csv_text(r);
  io::write_atomically(
      {{out[0], [&](const std::string& tmp) { write_analysis_h5_to(r, in, tmp, out[0], analysis_to_toml(r.options)); }},
       {out[1], [&](const std::string& tmp) { write_text(tmp, out[1], cells); }},
       {out[2], [&](const std::string& tmp) { write_text(tmp, out[2], summary); }}});
  return out;
}

}  // namespace isletsim
