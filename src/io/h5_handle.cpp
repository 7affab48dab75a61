// HDF5 plumbing (see h5_handle.hpp).
#include "io/h5_handle.hpp"

#include <algorithm>
#include <stdexcept>

#include "isletsim/error.hpp"

namespace isletsim::h5 {

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
  H5Eclear2(H5E_DEFAULT);  // the stack is per thread: a writer thread's entries would leak
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

// Writes rows [row, row + n) of dset (cols columns; cols == 0 for 1-D),
// which must already be that long, from buf (memory type mem_type, row-major).
void write_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t row, hsize_t n, hsize_t cols,
                hid_t mem_type, const void* buf) {
  if (n == 0) return;
  std::vector<hsize_t> start{row}, count{n};
  if (cols > 0) {
    start.push_back(0);
    count.push_back(cols);
  }
  Handle file_space = ctx.own(H5Dget_space(dset), H5Sclose, "get space of '" + name + "'");
  ctx.ok(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, count.data(),
                             nullptr),
         "select new rows of '" + name + "'");
  Handle mem_space = ctx.space(count);
  ctx.ok(H5Dwrite(dset, mem_type, mem_space.get(), file_space.get(), H5P_DEFAULT, buf),
         "write new rows of '" + name + "'");
}

void extend_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t rows, hsize_t cols) {
  std::vector<hsize_t> extent{rows};
  if (cols > 0) extent.push_back(cols);
  ctx.ok(H5Dset_extent(dset, extent.data()), "extend '" + name + "'");
}

// Extends dset (of old_rows rows, cols columns; cols == 0 for 1-D) by n rows
// and writes them from buf (memory type mem_type, row-major).
void append_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t old_rows, hsize_t n,
                 hsize_t cols, hid_t mem_type, const void* buf) {
  extend_rows(ctx, dset, name, old_rows + n, cols);
  write_rows(ctx, dset, name, old_rows, n, cols, mem_type, buf);
}

// A fixed-size dataset name (relative to loc) of shape dims, replacing any
// dataset of that name. Returns it open (for attributes). Large datasets
// (>= 4096 values) are chunked and compressed when deflate > 0: per-cell
// parameters that are the same for every cell then take almost no space
// (66 uncompressed parameter columns were 528 MB for a million cells).
Handle write_fixed(const Ctx& ctx, hid_t loc, const std::string& name, hid_t file_type,
                   hid_t mem_type, const std::vector<hsize_t>& dims, const void* buf, int deflate) {
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

void overwrite_fixed(const Ctx& ctx, hid_t loc, const std::string& name, const std::vector<double>& values) {
  if (link_exists(ctx, loc, name)) {
    Handle dset = ctx.own(H5Dopen2(loc, name.c_str(), H5P_DEFAULT), H5Dclose, "open '" + name + "'");
    Handle space = ctx.own(H5Dget_space(dset.get()), H5Sclose, "get space of '" + name + "'");
    if (H5Sget_simple_extent_npoints(space.get()) == static_cast<hssize_t>(values.size())) {
      ctx.ok(H5Dwrite(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
             "write '" + name + "'");
      return;
    }
  }
  write_fixed(ctx, loc, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {values.size()}, values.data());
}

std::string read_string_attr(const Ctx& ctx, hid_t obj, const std::string& name) {
  const std::string what = "attribute '" + name + "'";
  Handle attr = ctx.own(H5Aopen(obj, name.c_str(), H5P_DEFAULT), H5Aclose, "open " + what);
  Handle type = ctx.own(H5Aget_type(attr.get()), H5Tclose, "get type of " + what);
  if (H5Tget_class(type.get()) != H5T_STRING) throw InputError(what + " is not a string");
  if (ctx.yes(H5Tis_variable_str(type.get()), "inspect " + what)) {
    char* p = nullptr;
    ctx.ok(H5Aread(attr.get(), type.get(), &p), "read " + what);
    std::string value = p ? p : "";
    H5free_memory(p);
    return value;
  }
  const std::size_t size = H5Tget_size(type.get());
  if (size == 0) ctx.fail("get size of " + what);
  std::string buf(size, '\0');
  ctx.ok(H5Aread(attr.get(), type.get(), buf.data()), "read " + what);
  return buf.substr(0, buf.find('\0'));
}

void check_name(const std::string& name, const std::string& what) {
  if (name.empty() || name == "." || name.find('/') != std::string::npos)
    throw InputError(what + " name '" + name + "' is not usable as an HDF5 name (empty, '.' or contains '/')");
}

}  // namespace isletsim::h5
