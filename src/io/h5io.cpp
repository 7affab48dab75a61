// HDF5 output of a run (see include/isletsim/h5io.hpp and docs/hdf5-layout.md).
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

namespace isletsim {

namespace {

constexpr hsize_t kMaxChunkBytes = 4u << 20;  // cap on one chunk of /data/<var>
constexpr hsize_t kMinSeriesChunk = 1024;    // samples per chunk of /time, /glucose

// ---------------------------------------------------------------- errors ---

// Innermost entry of HDF5's error stack, e.g. "No such file or directory" or
// "unable to locate file signature". Must be called right after the failure.
std::string hdf5_reason() {
  std::string desc;
  H5Ewalk2(
      H5E_DEFAULT, H5E_WALK_UPWARD,
      [](unsigned, const H5E_error2_t* e, void* out) -> herr_t {
        if (e->desc) *static_cast<std::string*>(out) = e->desc;
        return 1;  // stop after the innermost entry
      },
      &desc);
  // System errors look like "... errno = 2, error message = 'No such file ...', ...".
  const std::string key = "error message = '";
  if (const auto at = desc.find(key); at != std::string::npos) {
    const auto begin = at + key.size();
    const auto end = desc.find('\'', begin);
    if (end != std::string::npos) return desc.substr(begin, end - begin);
  }
  return desc.empty() ? "unknown HDF5 error" : desc;
}

void silence_hdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

// An owned hid_t, closed with the function it was opened for.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle() = default;
  Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
  Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), closer_(o.closer_) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      closer_ = o.closer_;
    }
    return *this;
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t get() const { return id_; }
  // Closes and reports the result (for close paths that must not fail silently).
  herr_t close() noexcept {
    const herr_t r = id_ >= 0 ? closer_(id_) : 0;
    id_ = H5I_INVALID_HID;
    return r;
  }
  void reset() noexcept { close(); }

 private:
  hid_t id_ = H5I_INVALID_HID;
  Closer closer_ = nullptr;
};

// The file a group of calls works on, for error messages.
struct Ctx {
  std::string path;

  [[noreturn]] void fail(const std::string& op) const {
    const std::string reason = hdf5_reason();
    throw std::runtime_error("HDF5 error in '" + path + "': " + op + ": " + reason);
  }
  void ok(herr_t r, const std::string& op) const {
    if (r < 0) fail(op);
  }
  bool yes(htri_t r, const std::string& op) const {
    if (r < 0) fail(op);
    return r > 0;
  }
  Handle own(hid_t id, Handle::Closer closer, const std::string& op) const {
    if (id < 0) fail(op);
    return {id, closer};
  }
  Handle space(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims = {}) const {
    return own(H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                maxdims.empty() ? nullptr : maxdims.data()),
               H5Sclose, "create dataspace");
  }
  Handle plist(hid_t cls, const std::string& what) const {
    return own(H5Pcreate(cls), H5Pclose, "create " + what + " property list");
  }
};

// ------------------------------------------------------------ structure ---

Handle file_access_plist(const Ctx& ctx) {
  Handle fapl = ctx.plist(H5P_FILE_ACCESS, "file access");
  // No file lock: h5py may open the file read-only while a run writes it.
  ctx.ok(H5Pset_file_locking(fapl.get(), false, true), "disable file locking");
  return fapl;
}

// Link `a/b/c` exists below loc (checking each step, as H5Lexists requires).
bool link_exists(const Ctx& ctx, hid_t loc, const std::string& path) {
  for (std::size_t end = path.find('/');; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (!ctx.yes(H5Lexists(loc, prefix.c_str(), H5P_DEFAULT), "look up '" + prefix + "'"))
      return false;
    if (end == std::string::npos) return true;
  }
}

Handle create_group(const Ctx& ctx, hid_t loc, const std::string& name) {
  Handle gcpl = ctx.plist(H5P_GROUP_CREATE, "group creation");
  ctx.ok(H5Pset_link_creation_order(gcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
         "track link creation order");
  return ctx.own(H5Gcreate2(loc, name.c_str(), H5P_DEFAULT, gcpl.get(), H5P_DEFAULT), H5Gclose,
                 "create group '" + name + "'");
}

Handle open_or_create_group(const Ctx& ctx, hid_t loc, const std::string& name) {
  if (link_exists(ctx, loc, name))
    return ctx.own(H5Gopen2(loc, name.c_str(), H5P_DEFAULT), H5Gclose,
                   "open group '" + name + "'");
  return create_group(ctx, loc, name);
}

// Variable-length UTF-8 string type (h5py reads it as str).
Handle utf8_string_type(const Ctx& ctx) {
  Handle t = ctx.own(H5Tcopy(H5T_C_S1), H5Tclose, "copy string type");
  ctx.ok(H5Tset_size(t.get(), H5T_VARIABLE), "make string type variable-length");
  ctx.ok(H5Tset_cset(t.get(), H5T_CSET_UTF8), "set string type to UTF-8");
  return t;
}

// Scalar attribute `name` on obj with file type `type`, written from `buf`
// (in memory type `type` too). An existing attribute of the same type is
// overwritten in place, one of another type replaced.
void write_attr(const Ctx& ctx, hid_t obj, const std::string& name, hid_t type, const void* buf) {
  const std::string what = "attribute '" + name + "'";
  if (ctx.yes(H5Aexists(obj, name.c_str()), "look up " + what)) {
    Handle attr = ctx.own(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open " + what);
    Handle old_type = ctx.own(H5Aget_type(attr.get()), H5Tclose, "get type of " + what);
    Handle old_space = ctx.own(H5Aget_space(attr.get()), H5Sclose, "get space of " + what);
    const auto kind = H5Sget_simple_extent_type(old_space.get());
    if (kind == H5S_NO_CLASS) ctx.fail("get space class of " + what);
    if (kind == H5S_SCALAR && ctx.yes(H5Tequal(old_type.get(), type), "compare type of " + what)) {
      ctx.ok(H5Awrite(attr.get(), type, buf), "write " + what);
      return;
    }
    attr.reset();
    ctx.ok(H5Adelete(obj, name.c_str()), "delete " + what);
  }
  Handle space = ctx.own(H5Screate(H5S_SCALAR), H5Sclose, "create scalar dataspace");
  Handle attr = ctx.own(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                        H5Aclose, "create " + what);
  ctx.ok(H5Awrite(attr.get(), type, buf), "write " + what);
}

void write_string_attr(const Ctx& ctx, hid_t obj, const std::string& name,
                       const std::string& value) {
  Handle type = utf8_string_type(ctx);
  const char* p = value.c_str();
  write_attr(ctx, obj, name, type.get(), &p);
}

void write_number_attr(const Ctx& ctx, hid_t obj, const std::string& name, double v) {
  write_attr(ctx, obj, name, H5T_NATIVE_DOUBLE, &v);
}

void write_number_attr(const Ctx& ctx, hid_t obj, const std::string& name, std::int64_t v) {
  write_attr(ctx, obj, name, H5T_NATIVE_INT64, &v);
}

void describe(const Ctx& ctx, hid_t obj, const std::string& units, const std::string& description) {
  write_string_attr(ctx, obj, "units", units);
  write_string_attr(ctx, obj, "description", description);
}

// An empty dataset, extendible along its first (time) axis: shape [0] when
// cols == 0, else [0 x cols]. Chunked by chunk_rows, shuffle + deflate when
// deflate > 0, and a chunk cache that holds the chunk being filled.
Handle create_extendible(const Ctx& ctx, hid_t loc, const std::string& name, hid_t file_type,
                         hsize_t cols, hsize_t chunk_rows, int deflate) {
  const bool two_d = cols > 0;
  std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{chunk_rows};
  if (two_d) {
    dims.push_back(cols);
    maxdims.push_back(cols);
    chunk.push_back(cols);
  }
  Handle space = ctx.space(dims, maxdims);
  Handle dcpl = ctx.plist(H5P_DATASET_CREATE, "dataset creation");
  ctx.ok(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()),
         "set chunking of '" + name + "'");
  if (deflate > 0) {
    ctx.ok(H5Pset_shuffle(dcpl.get()), "set shuffle filter of '" + name + "'");
    ctx.ok(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)),
           "set deflate filter of '" + name + "'");
  }
  const std::size_t chunk_bytes = chunk_rows * std::max<hsize_t>(cols, 1) * H5Tget_size(file_type);
  Handle dapl = ctx.plist(H5P_DATASET_ACCESS, "dataset access");
  ctx.ok(H5Pset_chunk_cache(dapl.get(), 521, chunk_bytes + (1u << 20), 1.0),
         "set chunk cache of '" + name + "'");
  return ctx.own(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, dcpl.get(),
                            dapl.get()),
                 H5Dclose, "create dataset '" + name + "'");
}

// Extends dset (of old_rows rows, cols columns; cols == 0 for 1-D) by n rows
// and writes them from buf (memory type mem_type, row-major).
void append_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t old_rows, hsize_t n,
                 hsize_t cols, hid_t mem_type, const void* buf) {
  std::vector<hsize_t> extent{old_rows + n}, start{old_rows}, count{n};
  if (cols > 0) {
    extent.push_back(cols);
    start.push_back(0);
    count.push_back(cols);
  }
  ctx.ok(H5Dset_extent(dset, extent.data()), "extend '" + name + "'");
  Handle file_space = ctx.own(H5Dget_space(dset), H5Sclose, "get space of '" + name + "'");
  ctx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                             nullptr),
         "select new rows of '" + name + "'");
  Handle mem_space = ctx.space(count);
  ctx.ok(H5Dwrite(dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buf),
         "write new rows of '" + name + "'");
}

// A fixed-size dataset name (relative to loc) of shape dims, replacing any
// dataset of that name. Returns it open (for attributes). Large datasets
// (>= 4096 values) are chunked and compressed when deflate > 0: per-cell
// parameters that are the same for every cell then take almost no space
// (66 uncompressed parameter columns were 528 MB for a million cells).
Handle write_fixed(const Ctx& ctx, hid_t loc, const std::string& name, hid_t file_type,
                   hid_t mem_type, const std::vector<hsize_t>& dims, const void* buf, int deflate = 0) {
  if (link_exists(ctx, loc, name))
    ctx.ok(H5Ldelete(loc, name.c_str(), H5P_DEFAULT), "replace '" + name + "'");
  Handle space = ctx.space(dims);
  hsize_t total = 1;
  for (hsize_t d : dims) total *= d;
  Handle dcpl = ctx.plist(H5P_DATASET_CREATE, "dataset creation");
  if (deflate > 0 && total >= 4096) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min<hsize_t>(dims[0], 65536);
    ctx.ok(H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data()), "set chunking of '" + name + "'");
    ctx.ok(H5Pset_shuffle(dcpl.get()), "set shuffle filter of '" + name + "'");
    ctx.ok(H5Pset_deflate(dcpl.get(), static_cast<unsigned>(deflate)), "set deflate filter of '" + name + "'");
  }
  Handle dset = ctx.own(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT,
                                   dcpl.get(), H5P_DEFAULT),
                        H5Dclose, "create dataset '" + name + "'");
  if (dims[0] > 0)
    ctx.ok(H5Dwrite(dset.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf),
           "write '" + name + "'");
  return dset;
}

void check_name(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw InputError(what + " name '" + name + "' is not usable as an HDF5 name (empty, '.' or contains '/')");
}

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
  for (hsize_t c : count) total *= c;
  std::vector<T> out(total);
  if (total == 0) return out;
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
      case H5T_INTEGER:
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

}  // namespace

H5Run read_run(const std::string& path, bool with_data) {
  silence_hdf5();
  const Ctx ctx{path};
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) not_a_run(path, "no such file");
  if (std::filesystem::is_directory(path, ec)) not_a_run(path, "it is a directory");
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 < 0) not_a_run(path, hdf5_reason());
  if (is_hdf5 == 0) not_a_run(path, "not an HDF5 file");
  Handle file;
  {
    Handle fapl = file_access_plist(ctx);
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
    if (f < 0) not_a_run(path, hdf5_reason());
    file = Handle(f, H5Fclose);
  }
  const hid_t root = file.get();

  H5Run run;
  // Readers take len(time) as the number of complete samples: the writer
  // extends /time last, so every other series is at least this long.
  const Dataset time = open_dataset(ctx, root, "time", "/time", 1);
  const hsize_t n = time.dims[0];
  run.n_samples = n;
  if (with_data) run.time = read_all<double>(ctx, time, "/time", H5T_NATIVE_DOUBLE);
  const Dataset glucose = open_dataset(ctx, root, "glucose", "/glucose", 1);
  if (glucose.dims[0] < n)
    not_a_run(path, "'/glucose' has fewer samples than '/time'");
  if (with_data) run.glucose = read_rows<double>(ctx, glucose, "/glucose", n, H5T_NATIVE_DOUBLE);

  if (!link_exists(ctx, root, "data")) not_a_run(path, "missing group '/data'");
  Handle data = ctx.own(H5Gopen2(root, "data", H5P_DEFAULT), H5Gclose, "open group '/data'");
  run.var_names = link_names(ctx, data.get(), "/data");
  for (const std::string& name : run.var_names) {
    const std::string full = "/data/" + name;
    const Dataset d = open_dataset(ctx, data.get(), name, full, 2);
    if (d.dims[0] < n) not_a_run(path, "'" + full + "' has fewer samples than '/time'");
    if (&name != &run.var_names.front() && d.dims[1] != run.n_cells)
      not_a_run(path, "'" + full + "' has " + std::to_string(d.dims[1]) + " cells, '/data/" +
                          run.var_names.front() + "' " + std::to_string(run.n_cells));
    run.n_cells = d.dims[1];
    if (with_data) run.data.push_back(read_rows<double>(ctx, d, full, n, H5T_NATIVE_DOUBLE));
  }

  read_root_attrs(ctx, root, run);
  if (run.var_names.empty())
    for (const auto& [name, v] : run.number_attrs)
      if (name == "n_cells") run.n_cells = static_cast<std::size_t>(v);

  if (link_exists(ctx, root, "cells/position")) {
    const Dataset pos = open_dataset(ctx, root, "cells/position", "/cells/position", 2);
    if (pos.dims[1] != 3) not_a_run(path, "'/cells/position' is not [cells x 3]");
    const auto xyz = read_all<double>(ctx, pos, "/cells/position", H5T_NATIVE_DOUBLE);
    for (std::size_t c = 0; c < pos.dims[0]; ++c) {
      run.x.push_back(xyz[3 * c]);
      run.y.push_back(xyz[3 * c + 1]);
      run.z.push_back(xyz[3 * c + 2]);
    }
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
  }

  if (link_exists(ctx, root, "params")) {
    Handle params = ctx.own(H5Gopen2(root, "params", H5P_DEFAULT), H5Gclose, "open '/params'");
    for (const std::string& name : link_names(ctx, params.get(), "/params")) {
      const std::string full = "/params/" + name;
      const Dataset d = open_dataset(ctx, params.get(), name, full, 1);
      run.params.emplace_back(name, read_all<double>(ctx, d, full, H5T_NATIVE_DOUBLE));
    }
  }
  return run;
}

std::string H5Run::attr(const std::string& name) const {
  for (const auto& [key, value] : string_attrs)
    if (key == name) return value;
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
