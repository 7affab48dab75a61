// Reading a run's HDF5 output back (see include/isletsim/h5io.hpp and docs/hdf5-layout.md).
//
// Every HDF5 call is checked; a failure becomes an exception that names the
// file, the operation and the innermost message of HDF5's error stack (whose
// automatic printing is switched off). hid_t values live in Handle, which
// closes them.
#include "isletsim/h5io.hpp"

#include <hdf5.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <utility>

#include "isletsim/env.hpp"
#include "isletsim/error.hpp"

#include "io/h5_handle.hpp"

namespace isletsim {

using namespace h5;

// ---------------------------------------------------------------- reader ---

namespace {

[[noreturn]] void not_a_run(const std::string& path, const std::string& why) {
  throw InputError("cannot open '" + path + "' as an isletsim output file: " + why);
}

struct Dataset {
  Handle id;
  std::vector<hsize_t> dims;
};

// Opens name (relative to loc, full name `full` for messages); InputError if
// it is missing or its rank is not `rank`.
Dataset open_dataset(const Ctx& ctx, hid_t loc, const std::string& name, const std::string& full,
                     int rank) {
  if (!link_exists(ctx, loc, name)) not_a_run(ctx.path, "missing dataset '" + full + "'");
  Dataset d;
  d.id = ctx.own(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, "open '" + full + "'");
  Handle space = ctx.own(H5Dget_space(d.id.get()), H5Sclose, "get space of '" + full + "'");
  const int r = H5Sget_simple_extent_ndims(space.get());
  if (r < 0) ctx.fail("get rank of '" + full + "'");
  if (r != rank)
    not_a_run(ctx.path, "'" + full + "' has rank " + std::to_string(r) + ", expected " +
                            std::to_string(rank));
  d.dims.resize(static_cast<std::size_t>(r));
  if (H5Sget_simple_extent_dims(space.get(), d.dims.data(), nullptr) < 0)
    ctx.fail("get shape of '" + full + "'");
  return d;
}

// The first `rows` rows of d (all columns), converted to T (memory type mem_type).
template <class T>
std::vector<T> read_rows(const Ctx& ctx, const Dataset& d, const std::string& full, hsize_t rows,
                         hid_t mem_type) {
  std::vector<hsize_t> start(d.dims.size(), 0), count = d.dims;
  count[0] = rows;
  hsize_t total = 1;
  for (hsize_t c : count) {
    if (c != 0 && total > std::numeric_limits<hsize_t>::max() / c)
      not_a_run(ctx.path, "'" + full + "' claims more values than can be counted (a damaged file)");
    total *= c;
  }
  if (total == 0) return {};
  // A damaged file can claim any shape: allocate no more than its stored
  // bytes can hold (deflate packs at most ~1032:1; the writer stores every
  // row /time counts).
  {
    Handle type = ctx.own(H5Dget_type(d.id.get()), H5Tclose, "get type of '" + full + "'");
    const double claimed = static_cast<double>(total) * static_cast<double>(H5Tget_size(type.get()));
    const hsize_t stored = H5Dget_storage_size(d.id.get());
    if (claimed > 2048.0 * static_cast<double>(stored))
      not_a_run(ctx.path, "'" + full + "' claims " + std::to_string(total) + " values but stores only " +
                              std::to_string(stored) + " bytes (a damaged file)");
  }
  std::vector<T> out(total);
  Handle file_space = ctx.own(H5Dget_space(d.id.get()), H5Sclose, "get space of '" + full + "'");
  ctx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                             nullptr),
         "select rows of '" + full + "'");
  Handle mem_space = ctx.space(count);
  ctx.ok(H5Dread(d.id.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out.data()),
         "read '" + full + "'");
  return out;
}

template <class T>
std::vector<T> read_all(const Ctx& ctx, const Dataset& d, const std::string& full, hid_t mem_type) {
  return read_rows<T>(ctx, d, full, d.dims[0], mem_type);
}

// Rows [first, first + count) of a rank-1 dataset, converted to T.
template <class T>
std::vector<T> read_range(const Ctx& ctx, const Dataset& d, const std::string& full, hsize_t first, hsize_t count,
                          hid_t mem_type) {
  std::vector<T> out(count);
  if (count == 0) return out;
  Handle file_space = ctx.own(H5Dget_space(d.id.get()), H5Sclose, "get space of '" + full + "'");
  ctx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, &first, nullptr, &count, nullptr),
         "select rows of '" + full + "'");
  Handle mem_space = ctx.space({count});
  ctx.ok(H5Dread(d.id.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, out.data()),
         "read '" + full + "'");
  return out;
}

// Rows [first, first + count) x columns [c0, c0 + width) of a rank-2 dataset into buf (count x width).
template <class T>
void read_slab(const Ctx& ctx, const Dataset& d, const std::string& full, hsize_t first, hsize_t count, hsize_t c0,
               hsize_t width, hid_t mem_type, T* buf) {
  Handle file_space = ctx.own(H5Dget_space(d.id.get()), H5Sclose, "get space of '" + full + "'");
  const hsize_t start[2] = {first, c0}, size[2] = {count, width};
  ctx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, size, nullptr),
         "select samples of '" + full + "'");
  Handle mem_space = ctx.space({count, width});
  ctx.ok(H5Dread(d.id.get(), mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buf), "read '" + full + "'");
}

// Samples [first, first + count) of the cells `cells` (all: every column) of
// /data/<var> `d`, sample-major. A contiguous increasing run of cells is one
// hyperslab read straight into `out`; any other list is read in blocks of
// whole chunks of rows, bounded by its smallest and largest index, and
// gathered, so the memory used is the result plus one block (~4 MiB).
template <class T>
void read_cells(const Ctx& ctx, const Dataset& d, const std::string& full, hsize_t first, hsize_t count,
                bool all, const std::vector<std::size_t>& cells, hid_t mem_type, std::vector<T>& out) {
  const hsize_t n_cols = d.dims[1];
  const std::size_t n_sel = all ? static_cast<std::size_t>(n_cols) : cells.size();
  out.assign(static_cast<std::size_t>(count) * n_sel, T{});
  if (count == 0 || n_sel == 0) return;
  if (all) return read_slab(ctx, d, full, first, count, 0, n_cols, mem_type, out.data());
  const auto [lo, hi] = std::minmax_element(cells.begin(), cells.end());
  const hsize_t c0 = *lo, width = *hi - *lo + 1;
  bool contiguous = width == n_sel;
  for (std::size_t k = 1; contiguous && k < n_sel; ++k) contiguous = cells[k] == cells[k - 1] + 1;
  if (contiguous) return read_slab(ctx, d, full, first, count, c0, width, mem_type, out.data());
  hsize_t chunk_rows = 64;
  {
    Handle plist = ctx.own(H5Dget_create_plist(d.id.get()), H5Pclose, "get creation properties of '" + full + "'");
    hsize_t chunk[2] = {0, 0};
    if (H5Pget_layout(plist.get()) == H5D_CHUNKED && H5Pget_chunk(plist.get(), 2, chunk) == 2 && chunk[0] > 0)
      chunk_rows = chunk[0];
  }
  const hsize_t want = std::max<hsize_t>(1, (hsize_t{4} << 20) / (width * sizeof(T)));
  const hsize_t block = std::max<hsize_t>(chunk_rows, want / chunk_rows * chunk_rows);
  std::vector<T> buf(static_cast<std::size_t>(std::min(block, count) * width));
  for (hsize_t r = 0; r < count; r += block) {
    const hsize_t n = std::min(block, count - r);
    read_slab(ctx, d, full, first + r, n, c0, width, mem_type, buf.data());
    for (hsize_t i = 0; i < n; ++i) {
      T* row = out.data() + (r + i) * n_sel;
      const T* src = buf.data() + i * width;
      for (std::size_t k = 0; k < n_sel; ++k) row[k] = src[cells[k] - c0];
    }
  }
}

// InputError unless every index of `cells` is below n_cells and appears once.
void check_cells(const std::string& path, const std::vector<std::size_t>& cells, std::size_t n_cells) {
  std::vector<char> seen(n_cells, 0);
  for (std::size_t c : cells) {
    if (c >= n_cells)
      throw InputError("cells: index " + std::to_string(c) + " is out of range: '" + path + "' has " +
                       std::to_string(n_cells) + " cells (0.." + std::to_string(n_cells == 0 ? 0 : n_cells - 1) +
                       ")");
    if (seen[c]++) throw InputError("cells: index " + std::to_string(c) + " appears twice (each cell at most once)");
  }
}

// Names of the links in group loc, in creation order where the group tracks
// it, else in name order.
std::vector<std::string> link_names(const Ctx& ctx, hid_t loc, const std::string& full) {
  std::vector<std::string> names;
  const H5L_iterate_t collect = [](hid_t, const char* name, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  if (H5Literate(loc, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
    names.clear();
    ctx.ok(H5Literate(loc, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
           "list group '" + full + "'");
  }
  return names;
}

std::vector<std::string> attr_names(const Ctx& ctx, hid_t obj) {
  std::vector<std::string> names;
  const H5A_operator2_t collect = [](hid_t, const char* name, const H5A_info_t*,
                                     void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(name);
    return 0;
  };
  if (H5Aiterate2(obj, H5_INDEX_CRT_ORDER, H5_ITER_INC, nullptr, collect, &names) < 0) {
    names.clear();
    ctx.ok(H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names),
           "list root attributes");
  }
  return names;
}

// Root attributes with one element: strings (variable or fixed length) into
// run.string_attrs, integers and floats into run.number_attrs; others skipped.
void read_root_attrs(const Ctx& ctx, hid_t root, H5Run& run) {
  for (const std::string& name : attr_names(ctx, root)) {
    const std::string what = "attribute '" + name + "'";
    Handle attr = ctx.own(H5Aopen(root, name.c_str(), H5P_DEFAULT), H5Aclose, "open " + what);
    Handle type = ctx.own(H5Aget_type(attr.get()), H5Tclose, "get type of " + what);
    Handle space = ctx.own(H5Aget_space(attr.get()), H5Sclose, "get space of " + what);
    if (H5Sget_simple_extent_npoints(space.get()) != 1) continue;
    switch (H5Tget_class(type.get())) {
      case H5T_STRING: {
        std::string value;
        if (ctx.yes(H5Tis_variable_str(type.get()), "inspect " + what)) {
          char* p = nullptr;
          ctx.ok(H5Aread(attr.get(), type.get(), &p), "read " + what);
          if (p) value = p;
          H5free_memory(p);
        } else {
          const std::size_t size = H5Tget_size(type.get());
          if (size == 0) ctx.fail("get size of " + what);
          std::string buf(size, '\0');
          ctx.ok(H5Aread(attr.get(), type.get(), buf.data()), "read " + what);
          value = buf.substr(0, buf.find('\0'));
        }
        run.string_attrs.emplace_back(name, std::move(value));
        break;
      }
      case H5T_INTEGER: {
        // Exactly, as an int64 (through a double, a seed above 2^53 would change).
        if (H5Tget_sign(type.get()) == H5T_SGN_NONE && H5Tget_size(type.get()) >= sizeof(std::uint64_t)) {
          std::uint64_t u = 0;
          ctx.ok(H5Aread(attr.get(), H5T_NATIVE_UINT64, &u), "read " + what);
          run.number_attrs.emplace_back(name, static_cast<double>(u));
          if (u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            run.integer_attrs.emplace_back(name, static_cast<std::int64_t>(u));
        } else {
          std::int64_t v = 0;
          ctx.ok(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), "read " + what);
          run.number_attrs.emplace_back(name, static_cast<double>(v));
          run.integer_attrs.emplace_back(name, v);
        }
        break;
      }
      case H5T_FLOAT: {
        double v = 0;
        ctx.ok(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &v), "read " + what);
        run.number_attrs.emplace_back(name, v);
        break;
      }
      case H5T_NO_CLASS:
        ctx.fail("get type class of " + what);
      default:
        break;
    }
  }
}


Handle open_run(const Ctx& ctx) {
  silence_hdf5();
  const std::string& path = ctx.path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) not_a_run(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) not_a_run(path, "it is a directory");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) not_a_run(path, hdf5_reason());
  if (is_hdf5 == 0) not_a_run(path, "not an HDF5 file");
  Handle fapl = file_access_plist(ctx);
  const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (f < 0) not_a_run(path, hdf5_reason());
  return Handle(f, H5Fclose);
}

// read_run, whole (sel == nullptr) or a part.
H5Run read_impl(const std::string& path, bool with_data, const std::vector<std::string>& vars,
                const H5Select* sel) try {
  const Ctx ctx{path};
  const env::ReadingFile reading(path);
  Handle file = open_run(ctx);
  const hid_t root = file.get();
  // islet analyze's output is no run: say so (it has no /glucose).
  if (H5Aexists(root, "kind") > 0 && read_string_attr(ctx, root, "kind") == "isletsim analysis")
    not_a_run(path,
              "it is an analysis file (what islet analyze writes), not a run; analyse the run it came from "
              "(its 'source' attribute), or read it with isletsim.load_analysis");

  H5Run run;
  // Readers take len(time) as the number of complete samples: the writer
  // extends /time last, so every other series is at least this long.
  const Dataset time = open_dataset(ctx, root, "time", "/time", 1);
  hsize_t n = time.dims[0];
  hsize_t first = 0;
  if (sel) {
    // The window's rows: t0 <= t < t1 (time increases).
    std::vector<double> t = read_all<double>(ctx, time, "/time", H5T_NATIVE_DOUBLE);
    const auto b = std::lower_bound(t.begin(), t.end(), sel->t0);
    const auto e = std::max(b, std::lower_bound(t.begin(), t.end(), sel->t1));
    first = static_cast<hsize_t>(b - t.begin());
    run.time.assign(b, e);
    run.first_sample = first;
  } else if (with_data) {
    run.time = read_all<double>(ctx, time, "/time", H5T_NATIVE_DOUBLE);
  }
  const hsize_t n_file = n;
  if (sel) n = run.time.size();
  run.n_samples = n;
  const Dataset glucose = open_dataset(ctx, root, "glucose", "/glucose", 1);
  if (glucose.dims[0] < n_file)
    not_a_run(path, "'/glucose' has fewer samples than '/time'");
  if (sel) run.glucose = read_range<double>(ctx, glucose, "/glucose", first, n, H5T_NATIVE_DOUBLE);
  else if (with_data) run.glucose = read_rows<double>(ctx, glucose, "/glucose", n, H5T_NATIVE_DOUBLE);

  if (!link_exists(ctx, root, "data")) not_a_run(path, "missing group '/data'");
  Handle data = ctx.own(H5Gopen2(root, "data", H5P_DEFAULT), H5Gclose, "open group '/data'");
  run.var_names = link_names(ctx, data.get(), "/data");
  if (!vars.empty()) {
    const std::vector<std::string> recorded = run.var_names;
    for (const std::string& v : vars)
      if (std::find(recorded.begin(), recorded.end(), v) == recorded.end()) {
        std::string have;
        for (const auto& r : recorded) have += (have.empty() ? "" : ", ") + r;
        throw InputError("'" + path + "': variable '" + v + "' was not recorded" + did_you_mean(v, recorded) +
                         " (recorded: " + (have.empty() ? "none" : have) + ")");
      }
    run.var_names = vars;
  }
  std::vector<Dataset> series;
  for (const std::string& name : run.var_names) {
    const std::string full = "/data/" + name;
    series.push_back(open_dataset(ctx, data.get(), name, full, 2));
    const Dataset& d = series.back();
    if (d.dims[0] < n_file) not_a_run(path, "'" + full + "' has fewer samples than '/time'");
    if (&name != &run.var_names.front() && d.dims[1] != run.n_cells)
      not_a_run(path, "'" + full + "' has " + std::to_string(d.dims[1]) + " cells, '/data/" +
                          run.var_names.front() + "' " + std::to_string(run.n_cells));
    run.n_cells = d.dims[1];
    if (&name == &run.var_names.front()) {
      Handle type = ctx.own(H5Dget_type(d.id.get()), H5Tclose, "get type of '" + full + "'");
      run.float32 = H5Tget_class(type.get()) == H5T_FLOAT && H5Tget_size(type.get()) == sizeof(float);
    }
    if (with_data && !sel) run.data.push_back(read_rows<double>(ctx, d, full, n, H5T_NATIVE_DOUBLE));
  }

  read_root_attrs(ctx, root, run);
  if (run.var_names.empty())
    for (const auto& [name, v] : run.number_attrs)
      if (name == "n_cells") run.n_cells = static_cast<std::size_t>(v);

  // The cells read: all, or sel->cells; keep[c] = position of file cell c in them (-1: not read).
  const std::size_t n_file_cells = run.n_cells;
  std::vector<std::ptrdiff_t> keep;
  const bool all = !sel || sel->all_cells;
  if (sel) {
    if (all) {
      run.cells.resize(n_file_cells);
      for (std::size_t c = 0; c < n_file_cells; ++c) run.cells[c] = c;
    } else {
      check_cells(path, sel->cells, n_file_cells);
      run.cells = sel->cells;
      keep.assign(n_file_cells, -1);
      for (std::size_t k = 0; k < run.cells.size(); ++k) keep[run.cells[k]] = static_cast<std::ptrdiff_t>(k);
      run.n_cells = run.cells.size();
    }
    if (with_data)
      for (std::size_t v = 0; v < series.size(); ++v) {
        run.data.emplace_back();
        read_cells(ctx, series[v], "/data/" + run.var_names[v], first, n, all, run.cells, H5T_NATIVE_DOUBLE,
                   run.data.back());
      }
  }
  // A per-cell series of the file, cut to the cells read.
  const auto cut = [&](std::vector<double>&& v) {
    if (all) return std::move(v);
    std::vector<double> out;
    out.reserve(run.cells.size());
    for (std::size_t c : run.cells) out.push_back(c < v.size() ? v[c] : std::numeric_limits<double>::quiet_NaN());
    return out;
  };

  if (link_exists(ctx, root, "cells/position")) {
    const Dataset pos = open_dataset(ctx, root, "cells/position", "/cells/position", 2);
    if (pos.dims[1] != 3) not_a_run(path, "'/cells/position' is not [cells x 3]");
    const auto xyz = read_all<double>(ctx, pos, "/cells/position", H5T_NATIVE_DOUBLE);
    for (std::size_t c = 0; c < pos.dims[0]; ++c) {
      run.x.push_back(xyz[3 * c]);
      run.y.push_back(xyz[3 * c + 1]);
      run.z.push_back(xyz[3 * c + 2]);
    }
    run.x = cut(std::move(run.x)), run.y = cut(std::move(run.y)), run.z = cut(std::move(run.z));
  }

  if (link_exists(ctx, root, "network/edges")) {
    const Dataset edges = open_dataset(ctx, root, "network/edges", "/network/edges", 2);
    if (edges.dims[1] != 2) not_a_run(path, "'/network/edges' is not [edges x 2]");
    const auto ij = read_all<std::uint32_t>(ctx, edges, "/network/edges", H5T_NATIVE_UINT32);
    for (std::size_t e = 0; e < edges.dims[0]; ++e) {
      run.edge_i.push_back(ij[2 * e]);
      run.edge_j.push_back(ij[2 * e + 1]);
    }
    const Dataset w = open_dataset(ctx, root, "network/weight", "/network/weight", 1);
    if (w.dims[0] != edges.dims[0])
      not_a_run(path, "'/network/weight' and '/network/edges' differ in length");
    run.edge_w = read_all<double>(ctx, w, "/network/weight", H5T_NATIVE_DOUBLE);
    if (!all) {  // the edges between cells read, numbered as run.cells
      std::size_t m = 0;
      for (std::size_t e = 0; e < run.edge_i.size(); ++e) {
        const std::uint32_t i = run.edge_i[e], j = run.edge_j[e];
        if (i >= keep.size() || j >= keep.size() || keep[i] < 0 || keep[j] < 0) continue;
        run.edge_i[m] = static_cast<std::uint32_t>(keep[i]), run.edge_j[m] = static_cast<std::uint32_t>(keep[j]);
        run.edge_w[m++] = run.edge_w[e];
      }
      run.edge_i.resize(m), run.edge_j.resize(m), run.edge_w.resize(m);
    }
  }

  if (link_exists(ctx, root, "params")) {
    Handle params = ctx.own(H5Gopen2(root, "params", H5P_DEFAULT), H5Gclose, "open '/params'");
    for (const std::string& name : link_names(ctx, params.get(), "/params")) {
      const std::string full = "/params/" + name;
      const Dataset d = open_dataset(ctx, params.get(), name, full, 1);
      run.params.emplace_back(name, cut(read_all<double>(ctx, d, full, H5T_NATIVE_DOUBLE)));
    }
  }
  return run;
} catch (const InputError&) {
  throw;
} catch (const std::runtime_error& e) {  // an HDF5 call failed: a damaged file is bad input too
  not_a_run(path, e.what());
}

template <class T>
void read_var_as(const std::string& path, const std::string& var, std::size_t first, std::size_t count,
                 bool all_cells, const std::vector<std::size_t>& cells, hid_t mem_type, std::vector<T>& out) {
  const Ctx ctx{path};
  const env::ReadingFile reading(path);
  Handle file = open_run(ctx);
  const std::string full = "/data/" + var;
  if (!link_exists(ctx, file.get(), "data/" + var)) not_a_run(path, "missing dataset '" + full + "'");
  const Dataset d = open_dataset(ctx, file.get(), "data/" + var, full, 2);
  if (first + count > d.dims[0])
    throw InputError("'" + path + "': '" + full + "' has " + std::to_string(d.dims[0]) + " samples, fewer than " +
                     std::to_string(first + count));
  if (!all_cells) check_cells(path, cells, d.dims[1]);
  read_cells(ctx, d, full, first, count, all_cells, cells, mem_type, out);
}

}  // namespace

H5Run read_run(const std::string& path, bool with_data, const std::vector<std::string>& vars) {
  return read_impl(path, with_data, vars, nullptr);
}

H5Run read_run(const std::string& path, const H5Select& sel, bool with_data, const std::vector<std::string>& vars) {
  return read_impl(path, with_data, vars, &sel);
}

void read_var(const std::string& path, const std::string& var, std::size_t first, std::size_t count, bool all_cells,
              const std::vector<std::size_t>& cells, std::vector<double>& out) {
  read_var_as(path, var, first, count, all_cells, cells, H5T_NATIVE_DOUBLE, out);
}

void read_var(const std::string& path, const std::string& var, std::size_t first, std::size_t count, bool all_cells,
              const std::vector<std::size_t>& cells, std::vector<float>& out) {
  read_var_as(path, var, first, count, all_cells, cells, H5T_NATIVE_FLOAT, out);
}

std::string H5Run::attr(const std::string& name) const {
  for (const auto& [key, value] : string_attrs)
    if (key == name) return value;
  for (const auto& [key, value] : integer_attrs)
    if (key == name) return std::to_string(value);
  for (const auto& [key, value] : number_attrs) {
    if (key != name) continue;
    char buf[32];
    const auto res = std::to_chars(buf, buf + sizeof buf, value);  // shortest round trip
    return std::string(buf, res.ptr);
  }
  return "";
}

const std::vector<double>& H5Run::var(const std::string& name) const {
  for (std::size_t v = 0; v < var_names.size(); ++v)
    if (var_names[v] == name) return data[v];
  std::string have;
  for (const auto& v : var_names) have += (have.empty() ? "" : ", ") + v;
  throw InputError("no variable '" + name + "' in this output" + did_you_mean(name, var_names) +
                   " (have: " + (have.empty() ? "none" : have) + ")");
}

}  // namespace isletsim

