// HDF5 output of a run, written as it goes (see include/isletsim/h5io.hpp and docs/hdf5-layout.md).
//
// Every HDF5 call is checked; a failure becomes an exception that names the
// file, the operation and the innermost message of HDF5's error stack (whose
// automatic printing is switched off). hid_t values live in Handle, which
// closes them.
#include "isletsim/h5io.hpp"

#include <hdf5.h>
#include <hdf5_hl.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <utility>

#include "isletsim/error.hpp"

#include "io/file_lock.hpp"
#include "io/h5_handle.hpp"

namespace isletsim {

using namespace h5;

namespace {

constexpr hsize_t kMaxChunkBytes = 4u << 20;  // cap on one chunk of /data/<var>

// How the writer stores whole chunks of a /data/<var> dataset: compressed
// here (shuffle_deflate) and written with H5Dwrite_chunk when the dataset's
// filter pipeline is exactly HDF5's shuffle then deflate (what
// create_extendible makes; a file being continued is read for it, so a
// pipeline the writer does not make itself goes through HDF5's filters).
struct DirectChunks {
  bool on = false;
  hsize_t rows = 0;  // chunk rows (a chunk holds every cell)
  int level = 0;     // deflate level
};

DirectChunks direct_chunks_of(const Ctx& ctx, hid_t dset, hsize_t cells) {
  DirectChunks d;
  if constexpr (std::endian::native != std::endian::little) return d;  // chunks hold the file's LE bytes
  Handle dcpl = ctx.own(H5Dget_create_plist(dset), H5Pclose, "get a dataset's creation properties");
  hsize_t chunk[2] = {0, 0};
  if (H5Pget_layout(dcpl.get()) != H5D_CHUNKED || H5Pget_chunk(dcpl.get(), 2, chunk) != 2 || chunk[1] != cells)
    return d;
  if (H5Pget_nfilters(dcpl.get()) != 2) return d;
  unsigned flags = 0, cd[4] = {0, 0, 0, 0};
  std::size_t ncd = 4;
  if (H5Pget_filter2(dcpl.get(), 0, &flags, &ncd, cd, 0, nullptr, nullptr) != H5Z_FILTER_SHUFFLE) return d;
  ncd = 4;
  if (H5Pget_filter2(dcpl.get(), 1, &flags, &ncd, cd, 0, nullptr, nullptr) != H5Z_FILTER_DEFLATE || ncd < 1 ||
      cd[0] < 1 || cd[0] > 9)
    return d;
  d.on = true;
  d.rows = chunk[0];
  d.level = static_cast<int>(cd[0]);
  return d;
}

}  // namespace

// ---------------------------------------------------------------- writer ---

struct H5Writer::Impl {
  H5WriterOptions opt;
  Ctx ctx;
  io::OutputLock lock;  // held until the file is closed (declared first: released last)
  // Declaration order = reverse closing order: the file is closed last.
  Handle file, data_group, time, glucose;
  std::vector<Handle> vars;
  std::size_t samples = 0;
  bool finished = false;
  // Set while the file this writer created is new: from its creation (the
  // lock's open where the file did not exist, else H5Fcreate) until the
  // first flush after its layout that succeeds (flush(), as open_run_file
  // does once the static part is written, append(), write_state() or
  // finish()). Such a file holds nothing simulated yet and, cut short, can
  // be neither read nor continued: a writer that goes away while it is set
  // (after a write error while the file is made, thrown in the constructor
  // or by the caller's writes of the static part) closes and removes it
  // (~Impl). Never set for a file being continued.
  bool fresh = false;
  // opt.new_until_settled: a flush does not end `fresh` until settle() or
  // finish() clears this.
  bool hold = false;
  std::vector<DirectChunks> direct;  // per /data variable
  // Per /data variable: one block's float32 rows (float32 files) and its
  // compressed whole chunks (direct chunks), made by encode() on whichever
  // thread calls it, or by append() itself, for the append() of the same
  // samples.
  struct Encoded {
    std::size_t first = 0, n = 0;
    bool valid = false;
    std::vector<float> narrow;
    std::vector<unsigned char> shuffled;
    std::vector<std::vector<unsigned char>> chunks;  // the block's whole chunks, in order
  };
  std::vector<Encoded> encoded;

  // The first whole chunk's first row among [first, end), and the end of
  // the whole chunks (DirectChunks dc).
  static std::pair<hsize_t, hsize_t> whole_chunks(const DirectChunks& dc, hsize_t first, hsize_t end) {
    const hsize_t R = dc.rows, a = std::min(end, (first + R - 1) / R * R);
    return {a, a + (end - a) / R * R};
  }
  std::vector<double> nan_fill;  // glucose when the caller passes nullptr

  // Rows [samples, samples + n) of /data variable v from `rows` (row-major,
  // memory type mem_type: the file's type, float or double): the whole
  // chunks among them as `e` holds them compressed, written directly; the
  // rest (a block's first or last rows that fill part of a chunk) through
  // HDF5.
  void append_data(std::size_t v, const std::string& name, std::size_t n, const void* rows, hid_t mem_type,
                   const Encoded& e) {
    const hsize_t cells = opt.n_cells, first = samples, end = samples + n;
    const hid_t d = vars[v].get();
    extend_rows(ctx, d, name, end, cells);
    const DirectChunks& dc = direct[v];
    if (!dc.on) {
      write_rows(ctx, d, name, first, n, cells, mem_type, rows);
      return;
    }
    const std::size_t row_bytes = cells * H5Tget_size(mem_type);
    const auto at = [&](hsize_t r) { return static_cast<const unsigned char*>(rows) + (r - first) * row_bytes; };
    const auto [a, b] = whole_chunks(dc, first, end);
    write_rows(ctx, d, name, first, a - first, cells, mem_type, at(first));
    std::size_t c = 0;
    for (hsize_t r = a; r < b; r += dc.rows, ++c) {
      const std::vector<unsigned char>& bytes = e.chunks.at(c);
      const hsize_t offset[2] = {r, 0};
      ctx.ok(H5Dwrite_chunk(d, H5P_DEFAULT, 0, offset, bytes.size(), bytes.data()),
             "write a chunk of '" + name + "'");
    }
    write_rows(ctx, d, name, b, end - b, cells, mem_type, at(b));
  }

  void require_open() const {
    if (finished) throw std::logic_error("H5Writer: '" + opt.path + "' is already finished");
  }
  // The file to disk; the first complete flush ends its being new.
  void flush() {
    ctx.ok(H5Fflush(file.get(), H5F_SCOPE_GLOBAL), "flush");
    if (!hold) fresh = false;
  }
  void close_all() {
    vars.clear();
    glucose.reset();
    time.reset();
    data_group.reset();
    file.reset();
  }
  // The one place a file is removed: a new file (fresh) that was never
  // flushed whole, once closed, while its lock is still held (the lock,
  // declared first, is released after this).
  ~Impl() {
    close_all();
    if (fresh) {
      std::error_code ec;
      std::filesystem::remove(opt.path, ec);
    }
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

  // Locked before anything is created or truncated: a second writer of the
  // same file fails here and leaves the first one's file alone.
  m.lock = io::OutputLock(opt.path);
  if (opt.continue_at) {
    reopen(*opt.continue_at);
    return;
  }
  // New (Impl::fresh) where the lock made it: the empty file is removed
  // should H5Fcreate fail. Whatever H5Fcreate makes (or truncates) is new.
  m.fresh = m.lock.created();
  {
    Handle fapl = file_access_plist(ctx);
    Handle fcpl = ctx.plist(H5P_FILE_CREATE, "file creation");
    ctx.ok(H5Pset_attr_creation_order(fcpl.get(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED),
           "track attribute creation order");
    errno = 0;
    const hid_t f = H5Fcreate(opt.path.c_str(), H5F_ACC_TRUNC, fcpl.get(), fapl.get());
    if (f < 0) {
      const int err = errno;
      const std::string why = "cannot create file '" + opt.path + "': " + hdf5_reason();
      // A full disk or a file-size limit is a write error (exit 1), not bad input.
      if (err == EFBIG || err == ENOSPC || err == EDQUOT) throw std::runtime_error(why);
      throw InputError(why);
    }
    m.file = Handle(f, H5Fclose);
    m.fresh = true;
    m.hold = opt.new_until_settled;
  }
  {  // The layout: a write error here leaves no file (Impl::fresh).
    const hid_t root = m.file.get();
    write_string_attr(ctx, root, "status", "running");
    write_string_attr(ctx, root, "status_message", "");
    write_number_attr(ctx, root, "n_cells", static_cast<std::int64_t>(opt.n_cells));
    write_number_attr(ctx, root, "n_samples", std::int64_t{0});

    // Chunks of the blocks the run appends: no chunk is filled in two writes
    // (a chunk written again is where a killed writer leaves a file damaged).
    const hsize_t series_chunk = opt.chunk_samples;
    m.time = create_extendible(ctx, root, "time", H5T_IEEE_F64LE, 0, series_chunk, opt.deflate_level);
    write_string_attr(ctx, m.time.get(), "units", "s");
    m.glucose = create_extendible(ctx, root, "glucose", H5T_IEEE_F64LE, 0, series_chunk, opt.deflate_level);
    write_string_attr(ctx, m.glucose.get(), "units", "mM");

    const hid_t data_type = opt.float32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE;
    const hsize_t row_bytes = opt.n_cells * H5Tget_size(data_type);
    const hsize_t chunk_rows = std::clamp<hsize_t>(kMaxChunkBytes / row_bytes, 1,
                                                   static_cast<hsize_t>(opt.chunk_samples));
    m.data_group = create_group(ctx, root, "data");
    for (const H5Variable& var : opt.vars) {
      m.vars.push_back(
          create_extendible(ctx, m.data_group.get(), var.name, data_type, opt.n_cells, chunk_rows, opt.deflate_level));
      describe(ctx, m.vars.back().get(), var.units, var.description);
    }
    for (const Handle& v : m.vars) m.direct.push_back(direct_chunks_of(ctx, v.get(), opt.n_cells));
    m.encoded.resize(m.vars.size());
    attach_scales();
    ctx.ok(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");  // the layout: still new (no static part yet)
  }
}

// An existing run file, to go on writing it: its series cut back to `keep`
// samples (those before the state the run continues from).
void H5Writer::reopen(std::size_t keep) {
  Impl& m = *impl_;
  const Ctx& ctx = m.ctx;
  const H5WriterOptions& opt = m.opt;
  // Room for what is written here (the status, the attributes the caller
  // sets again) before HDF5 writes anything: a full disk or a file-size
  // limit stops the run here with the file as it was. (Found by HDF5's
  // flush instead, it left the file unreadable: its end recorded beyond
  // what could be written.)
  m.lock.reserve(65536, opt.path);
  {
    Handle fapl = file_access_plist(ctx);
    const hid_t f = H5Fopen(opt.path.c_str(), H5F_ACC_RDWR, fapl.get());
    if (f < 0) throw InputError("cannot open '" + opt.path + "' to continue it: " + hdf5_reason());
    m.file = Handle(f, H5Fclose);
  }
  const hid_t root = m.file.get();
  const auto open = [&](hid_t loc, const std::string& name) {
    if (!link_exists(ctx, loc, name))
      throw InputError("'" + opt.path + "' has no dataset '" + name + "' (not a run file of this config?)");
    return ctx.own(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, "open '" + name + "'");
  };
  m.time = open(root, "time");
  m.glucose = open(root, "glucose");
  m.data_group = ctx.own(H5Gopen2(root, "data", H5P_DEFAULT), H5Gclose, "open '/data'");
  for (const H5Variable& var : opt.vars) m.vars.push_back(open(m.data_group.get(), var.name));
  for (const Handle& v : m.vars) m.direct.push_back(direct_chunks_of(ctx, v.get(), opt.n_cells));
  m.encoded.resize(m.vars.size());
  const auto rows = [&](hid_t d) {
    Handle sp = ctx.own(H5Dget_space(d), H5Sclose, "get a dataspace");
    hsize_t dims[2] = {0, 0};
    if (H5Sget_simple_extent_dims(sp.get(), dims, nullptr) < 0) ctx.fail("get a dataset's shape");
    return static_cast<std::size_t>(dims[0]);
  };
  if (rows(m.time.get()) < keep)
    throw InputError("'" + opt.path + "' holds " + std::to_string(rows(m.time.get())) + " samples, fewer than the " +
                     std::to_string(keep) + " its checkpoint needs");
  m.samples = keep;
  truncate_series();
  write_string_attr(ctx, root, "status", "running");
  write_string_attr(ctx, root, "status_message", "");
  write_number_attr(ctx, root, "n_samples", static_cast<std::int64_t>(m.samples));
  ctx.ok(H5Fflush(root, H5F_SCOPE_GLOBAL), "flush");
}

// Every series back to m.samples rows: what lies beyond (a block whose write
// failed, samples after a checkpoint) is dropped.
void H5Writer::truncate_series() {
  Impl& m = *impl_;
  const Ctx& ctx = m.ctx;
  const auto cut = [&](hid_t d, const std::string& name) {
    // Rows to m.samples; the second extent (cells), where there is one, stays.
    const hsize_t dims[2] = {static_cast<hsize_t>(m.samples), static_cast<hsize_t>(m.opt.n_cells)};
    ctx.ok(H5Dset_extent(d, dims), "cut '" + name + "' back to " + std::to_string(m.samples) + " samples");
  };
  for (std::size_t v = 0; v < m.vars.size(); ++v) cut(m.vars[v].get(), "/data/" + m.opt.vars[v].name);
  cut(m.glucose.get(), "/glucose");
  cut(m.time.get(), "/time");
}

// Dimension scales: /time labels the first axis of /data/<var> and
// /glucose, and /cell (the cell ids 0..n-1) the second, so that netCDF
// tools and xarray see named axes.
void H5Writer::attach_scales() {
  Impl& m = *impl_;
  const Ctx& ctx = m.ctx;
  const hid_t root = m.file.get();
  std::vector<std::uint32_t> ids(m.opt.n_cells);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::uint32_t>(i);
  Handle cell = write_fixed(ctx, root, "cell", H5T_STD_U32LE, H5T_NATIVE_UINT32, {ids.size()}, ids.data(),
                            m.opt.deflate_level);
  write_string_attr(ctx, cell.get(), "description", "cell id (the index along the cell axis of /data/<var>)");
  ctx.ok(H5DSset_scale(m.time.get(), "time"), "make '/time' a dimension scale");
  ctx.ok(H5DSset_scale(cell.get(), "cell"), "make '/cell' a dimension scale");
  ctx.ok(H5DSattach_scale(m.glucose.get(), m.time.get(), 0), "attach '/time' to '/glucose'");
  for (std::size_t v = 0; v < m.vars.size(); ++v) {
    ctx.ok(H5DSattach_scale(m.vars[v].get(), m.time.get(), 0), "attach '/time' to a /data variable");
    ctx.ok(H5DSattach_scale(m.vars[v].get(), cell.get(), 1), "attach '/cell' to a /data variable");
    ctx.ok(H5DSset_label(m.vars[v].get(), 0, "time"), "label the time axis");
    ctx.ok(H5DSset_label(m.vars[v].get(), 1, "cell"), "label the cell axis");
  }
}

// Status stays as it is ("running" unless finished); a file still new is
// removed (Impl::~Impl).
H5Writer::~H5Writer() = default;

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

void H5Writer::write_cell_values(const std::string& group, const std::string& name, const std::string& units,
                                 const std::string& description, const std::vector<double>& values) {
  Impl& m = *impl_;
  m.require_open();
  check_name(group, "group");
  check_name(name, "dataset");
  if (values.size() != m.opt.n_cells)
    throw std::invalid_argument("H5Writer::write_cell_values('" + name + "'): need " +
                                std::to_string(m.opt.n_cells) + " values");
  Handle g = open_or_create_group(m.ctx, m.file.get(), group);
  Handle ds = write_fixed(m.ctx, g.get(), name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {values.size()},
                          values.data(), m.opt.deflate_level);
  describe(m.ctx, ds.get(), units, description);
}

void H5Writer::flush() {
  impl_->require_open();
  impl_->flush();
}

void H5Writer::settle() {
  Impl& m = *impl_;
  if (!m.hold) return;
  m.require_open();
  m.hold = false;
  m.flush();
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
  silence_hdf5();  // HDF5's error printing is per thread: this may be the writer thread
  const Ctx& ctx = m.ctx;
  const hsize_t cells = m.opt.n_cells;
  // Room for the block (uncompressed, the most it can take) before HDF5
  // writes any of it: a full disk stops the run here with the file intact.
  m.lock.reserve(static_cast<std::uint64_t>(n) * (cells * (m.opt.float32 ? 4 : 8) + 16) * m.vars.size() + 65536,
                 m.opt.path, !m.fresh);
  // Data first and /time last: a reader (or a crash) never sees a time
  // without its data.
  for (std::size_t v = 0; v < m.vars.size(); ++v) {
    if (!data[v]) throw std::invalid_argument("H5Writer::append: data pointer is null");
    const std::string name = "/data/" + m.opt.vars[v].name;
    // The block as encode() made it on a simulation thread, or made here.
    Impl::Encoded& e = m.encoded[v];
    if (!(e.valid && e.first == m.samples && e.n == n)) encode(v, m.samples, n, data[v]);
    e.valid = false;
    if (m.opt.float32) {
      m.append_data(v, name, n, e.narrow.data(), H5T_NATIVE_FLOAT, e);
    } else {
      m.append_data(v, name, n, data[v], H5T_NATIVE_DOUBLE, e);
    }
  }
  if (!glucose_mM) {
    m.nan_fill.assign(n, std::numeric_limits<double>::quiet_NaN());
    glucose_mM = m.nan_fill.data();
  }
  append_rows(ctx, m.glucose.get(), "/glucose", m.samples, n, 0, H5T_NATIVE_DOUBLE, glucose_mM);
  append_rows(ctx, m.time.get(), "/time", m.samples, n, 0, H5T_NATIVE_DOUBLE, time_s);
  write_number_attr(ctx, m.file.get(), "n_samples", static_cast<std::int64_t>(m.samples + n));
  m.flush();
  // Counted only once on disk: after a failure, finish() cuts the series
  // back to what was written whole.
  m.samples += n;
}

void H5Writer::encode(std::size_t v, std::size_t first, std::size_t n, const double* data) {
  Impl& m = *impl_;
  if (v >= m.encoded.size() || !data) return;
  Impl::Encoded& e = m.encoded[v];
  e.valid = false;
  const std::size_t cells = m.opt.n_cells;
  const unsigned char* base = reinterpret_cast<const unsigned char*>(data);
  if (m.opt.float32) {
    e.narrow.resize(n * cells);
    std::transform(data, data + n * cells, e.narrow.begin(), [](double x) { return static_cast<float>(x); });
    base = reinterpret_cast<const unsigned char*>(e.narrow.data());
  }
  if (const DirectChunks& dc = m.direct[v]; dc.on) {
    const auto [a, b] = Impl::whole_chunks(dc, first, first + n);
    const std::size_t es = m.opt.float32 ? 4 : 8, row_bytes = cells * es;
    e.chunks.resize((b - a) / dc.rows);  // (the buffers stay for the next block)
    std::size_t c = 0;
    for (hsize_t r = a; r < b; r += dc.rows, ++c)
      shuffle_deflate(base + (r - first) * row_bytes, dc.rows * row_bytes, es, cells, dc.level, e.shuffled, e.chunks[c]);
  }
  e.first = first;
  e.n = n;
  e.valid = true;
}

void H5Writer::write_state(std::uint64_t step, std::uint64_t samples, double time_s,
                           const std::vector<std::string>& names, const std::vector<std::vector<double>>& state,
                           double step_ms) {
  Impl& m = *impl_;
  m.require_open();
  silence_hdf5();
  const Ctx& ctx = m.ctx;
  if (names.size() != state.size()) throw std::invalid_argument("H5Writer::write_state: names and state differ");
  m.lock.reserve(static_cast<std::uint64_t>(state.size()) * m.opt.n_cells * 8 + 65536, m.opt.path, !m.fresh);
  const hid_t root = m.file.get();
  Handle group = open_or_create_group(ctx, root, "checkpoint");
  // Two slots, written in turn; "latest" names the last one written whole,
  // and is set only after it is on disk, so a crash while one is written
  // leaves the other one valid.
  std::string latest;
  if (H5Aexists(group.get(), "latest") > 0) latest = read_string_attr(ctx, group.get(), "latest");
  const std::string slot = latest == "a" ? "b" : "a";
  Handle g = open_or_create_group(ctx, group.get(), slot);
  for (std::size_t k = 0; k < names.size(); ++k) {
    if (state[k].size() != m.opt.n_cells)
      throw std::invalid_argument("H5Writer::write_state: state '" + names[k] + "' has the wrong size");
    overwrite_fixed(ctx, g.get(), names[k], state[k]);
  }
  write_number_attr(ctx, g.get(), "step", static_cast<std::int64_t>(step));
  write_number_attr(ctx, g.get(), "samples", static_cast<std::int64_t>(samples));
  write_number_attr(ctx, g.get(), "time_s", time_s);
  if (step_ms > 0) write_number_attr(ctx, g.get(), "step_ms", step_ms);
  m.flush();
  write_string_attr(ctx, group.get(), "latest", slot);
  m.flush();
}

void H5Writer::finish(const std::string& status, const std::string& message) {
  Impl& m = *impl_;
  m.require_open();
  silence_hdf5();
  m.finished = true;
  m.hold = false;  // a finished file is kept (once flushed)
  const Ctx& ctx = m.ctx;
  const hid_t root = m.file.get();
  // Best effort after a write error (a full disk): every step is tried, and
  // the first failure is reported once the file is closed. Cutting the
  // series back is a change in place (no new space), so it succeeds where
  // the data could not be written: every row up to len(time) is real data.
  std::string first_error;
  const auto attempt = [&](auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      if (first_error.empty()) first_error = e.what();
    }
  };
  attempt([&] { truncate_series(); });
  attempt([&] { write_number_attr(ctx, root, "n_samples", static_cast<std::int64_t>(m.samples)); });
  attempt([&] { write_string_attr(ctx, root, "status_message", message); });
  attempt([&] { write_string_attr(ctx, root, "status", status); });
  attempt([&] { m.flush(); });
  for (Handle& v : m.vars) attempt([&] { ctx.ok(v.close(), "close a /data dataset"); });
  attempt([&] { ctx.ok(m.glucose.close(), "close '/glucose'"); });
  attempt([&] { ctx.ok(m.time.close(), "close '/time'"); });
  attempt([&] { ctx.ok(m.data_group.close(), "close '/data'"); });
  attempt([&] { ctx.ok(m.file.close(), "close file"); });
  m.lock.release();
  if (!first_error.empty()) throw std::runtime_error(first_error);
}

std::size_t H5Writer::samples_written() const { return impl_->samples; }

const std::string& H5Writer::path() const { return impl_->opt.path; }

}  // namespace isletsim
