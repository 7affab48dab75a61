// HDF5 output of a run, written as it goes (see include/isletsim/h5io.hpp and docs/hdf5-layout.md).
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

#include "isletsim/error.hpp"

#include "io/h5_handle.hpp"

namespace isletsim {

using namespace h5;

namespace {

constexpr hsize_t kMaxChunkBytes = 4u << 20;  // cap on one chunk of /data/<var>
constexpr hsize_t kMinSeriesChunk = 1024;    // samples per chunk of /time, /glucose

}  // namespace

// ---------------------------------------------------------------- writer ---

struct H5Writer::Impl {
  H5WriterOptions opt;
  Ctx ctx;
  // Declaration order = reverse closing order: the file is closed last.
  Handle file, data_group, time, glucose;
  std::vector<Handle> vars;
  std::size_t samples = 0;
  bool finished = false;
  std::vector<float> narrow;  // float32 conversion buffer
  std::vector<double> nan_fill;  // glucose when the caller passes nullptr

  void require_open() const {
    if (finished) throw std::logic_error("H5Writer: '" + opt.path + "' is already finished");
  }
  void close_all() {
    vars.clear();
    glucose.reset();
    time.reset();
    data_group.reset();
    file.reset();
  }
};

H5Writer::H5Writer(const H5WriterOptions& opt) : impl_(std::make_unique<Impl>()) {
  silence_hdf5();
  Impl& m = *impl_;
  m.opt = opt;
  m.ctx.path = opt.path;
  const Ctx& ctx = m.ctx;

  const std::string where = "HDF5 output '" + opt.path + "'";
  if (opt.n_cells == 0) throw InputError(where + ": n_cells must be at least 1");
  if (opt.chunk_samples == 0) throw InputError(where + ": chunk_samples must be at least 1");
  if (opt.deflate_level < 0 || opt.deflate_level > 9)
    throw InputError(where + ": deflate_level must be 0..9, got " + std::to_string(opt.deflate_level));
  for (std::size_t v = 0; v < opt.vars.size(); ++v) {
    check_name(opt.vars[v].name, "variable");
    for (std::size_t u = 0; u < v; ++u)
      if (opt.vars[u].name == opt.vars[v].name)
        throw InputError(where + ": variable '" + opt.vars[v].name + "' listed twice");
  }
  if (opt.deflate_level > 0 && H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
    throw std::runtime_error(where + ": this HDF5 library has no deflate filter");

  {
    Handle fapl = file_access_plist(ctx);
    Handle fcpl = ctx.plist(H5P_FILE_CREATE, "file creation");
    ctx.ok(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
           "track attribute creation order");
    const hid_t f = H5Fcreate(opt.path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (f < 0) throw InputError("cannot create file '" + opt.path + "': " + hdf5_reason());
    m.file = Handle(f, H5Fclose);
  }
  const hid_t root = m.file.get();
  write_string_attr(ctx, root, "status", "running");
  write_string_attr(ctx, root, "status_message", "");
  write_number_attr(ctx, root, "n_cells", static_cast<std::int64_t>(opt.n_cells));
  write_number_attr(ctx, root, "n_samples", std::int64_t{0});

  const hsize_t series_chunk = std::max<hsize_t>(opt.chunk_samples, kMinSeriesChunk);
  m.time = create_extendible(ctx, root, "time", H5T_IEEE_F64LE, 0, series_chunk, opt.deflate_level);
  write_string_attr(ctx, m.time.get(), "units", "s");
  m.glucose =
      create_extendible(ctx, root, "glucose", H5T_IEEE_F64LE, 0, series_chunk, opt.deflate_level);
  write_string_attr(ctx, m.glucose.get(), "units", "mM");

  const hid_t data_type = opt.float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
  const hsize_t row_bytes = opt.n_cells * H5Tget_size(data_type);
  const hsize_t chunk_rows =
      std::clamp<hsize_t>(kMaxChunkBytes / row_bytes, 1, static_cast<hsize_t>(opt.chunk_samples));
  m.data_group = create_group(ctx, root, "data");
  for (const H5Variable& var : opt.vars) {
    m.vars.push_back(create_extendible(ctx, m.data_group.get(), var.name, data_type, opt.n_cells,
                                       chunk_rows, opt.deflate_level));
    describe(ctx, m.vars.back().get(), var.units, var.description);
  }
  ctx.ok(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
}

H5Writer::~H5Writer() {
  if (impl_) impl_->close_all();  // status stays as it is ("running" unless finished)
}

void H5Writer::write_positions(const std::vector<double>& x, const std::vector<double>& y,
                               const std::vector<double>& z) {
  Impl& m = *impl_;
  m.require_open();
  const std::size_t n = m.opt.n_cells;
  if (x.size() != n || y.size() != n || z.size() != n)
    throw std::invalid_argument("H5Writer::write_positions: need " + std::to_string(n) +
                                " values per coordinate");
  std::vector<double> xyz(3 * n);
  for (std::size_t c = 0; c < n; ++c) {
    xyz[3 * c] = x[c];
    xyz[3 * c + 1] = y[c];
    xyz[3 * c + 2] = z[c];
  }
  Handle cells = open_or_create_group(m.ctx, m.file.get(), "cells");
  Handle pos = write_fixed(m.ctx, cells.get(), "position", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                           {n, 3}, xyz.data(), m.opt.deflate_level);
  write_string_attr(m.ctx, pos.get(), "units", "um");
}

void H5Writer::write_edges(const std::vector<std::uint32_t>& i, const std::vector<std::uint32_t>& j,
                           const std::vector<double>& w) {
  Impl& m = *impl_;
  m.require_open();
  const std::size_t n = i.size();
  if (j.size() != n || w.size() != n)
    throw std::invalid_argument("H5Writer::write_edges: i, j and w differ in length");
  std::vector<std::uint32_t> ij(2 * n);
  for (std::size_t e = 0; e < n; ++e) {
    ij[2 * e] = i[e];
    ij[2 * e + 1] = j[e];
  }
  Handle net = open_or_create_group(m.ctx, m.file.get(), "network");
  write_fixed(m.ctx, net.get(), "edges", H5T_STD_U32LE, H5T_NATIVE_UINT32, {n, 2}, ij.data(), m.opt.deflate_level);
  write_fixed(m.ctx, net.get(), "weight", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n}, w.data(), m.opt.deflate_level);
}

void H5Writer::write_cell_param(const std::string& name, const std::string& units,
                                const std::string& description, const std::vector<double>& values) {
  Impl& m = *impl_;
  m.require_open();
  check_name(name, "parameter");
  if (values.size() != m.opt.n_cells)
    throw std::invalid_argument("H5Writer::write_cell_param('" + name + "'): need " +
                                std::to_string(m.opt.n_cells) + " values");
  Handle params = open_or_create_group(m.ctx, m.file.get(), "params");
  Handle ds = write_fixed(m.ctx, params.get(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE,
                          {values.size()}, values.data(), m.opt.deflate_level);
  describe(m.ctx, ds.get(), units, description);
}

void H5Writer::set_attr(const std::string& name, const std::string& value) {
  impl_->require_open();
  write_string_attr(impl_->ctx, impl_->file.get(), name, value);
}

void H5Writer::set_attr(const std::string& name, double value) {
  impl_->require_open();
  write_number_attr(impl_->ctx, impl_->file.get(), name, value);
}

void H5Writer::set_attr(const std::string& name, std::int64_t value) {
  impl_->require_open();
  write_number_attr(impl_->ctx, impl_->file.get(), name, value);
}

void H5Writer::append(std::size_t n, const double* time_s, const double* glucose_mM,
                      const std::vector<const double*>& data) {
  Impl& m = *impl_;
  m.require_open();
  if (n == 0) return;
  if (!time_s) throw std::invalid_argument("H5Writer::append: time_s is null");
  if (data.size() != m.vars.size())
    throw std::invalid_argument("H5Writer::append: got " + std::to_string(data.size()) +
                                " data pointers for " + std::to_string(m.vars.size()) +
                                " variables");
  const Ctx& ctx = m.ctx;
  const hsize_t cells = m.opt.n_cells;
  // Data first and /time last: a reader (or a crash) never sees a time
  // without its data.
  for (std::size_t v = 0; v < m.vars.size(); ++v) {
    if (!data[v]) throw std::invalid_argument("H5Writer::append: data pointer is null");
    const std::string name = "/data/" + m.opt.vars[v].name;
    if (m.opt.float32) {
      m.narrow.resize(n * cells);
      std::transform(data[v], data[v] + n * cells, m.narrow.begin(),
                     [](double x) { return static_cast<float>(x); });
      append_rows(ctx, m.vars[v].get(), name, m.samples, n, cells, H5T_NATIVE_FLOAT,
                  m.narrow.data());
    } else {
      append_rows(ctx, m.vars[v].get(), name, m.samples, n, cells, H5T_NATIVE_DOUBLE, data[v]);
    }
  }
  if (!glucose_mM) {
    m.nan_fill.assign(n, std::numeric_limits<double>::quiet_NaN());
    glucose_mM = m.nan_fill.data();
  }
  append_rows(ctx, m.glucose.get(), "/glucose", m.samples, n, 0, H5T_NATIVE_DOUBLE, glucose_mM);
  append_rows(ctx, m.time.get(), "/time", m.samples, n, 0, H5T_NATIVE_DOUBLE, time_s);
  m.samples += n;
  write_number_attr(ctx, m.file.get(), "n_samples", static_cast<std::int64_t>(m.samples));
  ctx.ok(H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL), "flush");
}

void H5Writer::finish(const std::string& status, const std::string& message) {
  Impl& m = *impl_;
  m.require_open();
  m.finished = true;
  const Ctx& ctx = m.ctx;
  const hid_t root = m.file.get();
  write_string_attr(ctx, root, "status", status);
  write_string_attr(ctx, root, "status_message", message);
  write_number_attr(ctx, root, "n_samples", static_cast<std::int64_t>(m.samples));
  ctx.ok(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
  for (Handle& v : m.vars) ctx.ok(v.close(), "close a /data dataset");
  ctx.ok(m.glucose.close(), "close '/glucose'");
  ctx.ok(m.time.close(), "close '/time'");
  ctx.ok(m.data_group.close(), "close '/data'");
  ctx.ok(m.file.close(), "close file");
}

std::size_t H5Writer::samples_written() const { return impl_->samples; }

const std::string& H5Writer::path() const { return impl_->opt.path; }

}  // namespace isletsim
