#pragma once
// HDF5 plumbing shared by the run writer, the run reader and the analysis
// writer: owned handles, checked calls whose failures name the file and the
// operation, and the dataset/attribute helpers. Internal (not installed).
#include <hdf5.h>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace isletsim::h5 {

// ---------------------------------------------------------------- errors ---

// Innermost entry of HDF5's error stack, e.g. "No such file or directory" or
// "unable to locate file signature". Must be called right after the failure.
std::string hdf5_reason();

void silence_hdf5();

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

Handle file_access_plist(const Ctx& ctx);

// Link `a/b/c` exists below loc (checking each step, as H5Lexists requires).
bool link_exists(const Ctx& ctx, hid_t loc, const std::string& path);

Handle create_group(const Ctx& ctx, hid_t loc, const std::string& name);

Handle open_or_create_group(const Ctx& ctx, hid_t loc, const std::string& name);

// Variable-length UTF-8 string type (h5py reads it as str).
Handle utf8_string_type(const Ctx& ctx);

// Scalar attribute `name` on obj with file type `type`, written from `buf`
// (in memory type `type` too). An existing attribute of the same type is
// overwritten in place, one of another type replaced.
void write_attr(const Ctx& ctx, hid_t obj, const std::string& name, hid_t type, const void* buf);

void write_string_attr(const Ctx& ctx, hid_t obj, const std::string& name,
                       const std::string& value);

void write_number_attr(const Ctx& ctx, hid_t obj, const std::string& name, double v);

void write_number_attr(const Ctx& ctx, hid_t obj, const std::string& name, std::int64_t v);

void describe(const Ctx& ctx, hid_t obj, const std::string& units, const std::string& description);

// An empty dataset, extendible along its first (time) axis: shape [0] when
// cols == 0, else [0 x cols]. Chunked by chunk_rows, shuffle + deflate when
// deflate > 0, and a chunk cache that holds the chunk being filled.
Handle create_extendible(const Ctx& ctx, hid_t loc, const std::string& name, hid_t file_type,
                         hsize_t cols, hsize_t chunk_rows, int deflate);

// Extends dset (of old_rows rows, cols columns; cols == 0 for 1-D) by n rows
// and writes them from buf (memory type mem_type, row-major).
// The bytes HDF5's filter pipeline "shuffle, then deflate at `level`"
// stores for one chunk of `nbytes` bytes of elements of `elem` bytes, into
// `out` (resized to them): the shuffle's byte planes, then one zlib stream,
// encoded by libdeflate, with the leading planes that deflate cannot shrink
// as stored blocks (h5_chunk.cpp; `row`: elements per row of the chunk, the
// distance at which a cell's next sample lies). Readers decode it with
// HDF5's own filters.
void shuffle_deflate(const void* raw, std::size_t nbytes, std::size_t elem, std::size_t row, int level,
                     std::vector<unsigned char>& scratch, std::vector<unsigned char>& out);

void append_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t old_rows, hsize_t n,
                 hsize_t cols, hid_t mem_type, const void* buf);
// The two halves of append_rows: the new extent (rows in all), then rows
// [row, row + n) written from buf.
void extend_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t rows, hsize_t cols);
void write_rows(const Ctx& ctx, hid_t dset, const std::string& name, hsize_t row, hsize_t n, hsize_t cols,
                hid_t mem_type, const void* buf);

// A fixed-size dataset name (relative to loc) of shape dims, replacing any
// dataset of that name. Returns it open (for attributes). Large datasets
// (>= 4096 values) are chunked and compressed when deflate > 0: per-cell
// parameters that are the same for every cell then take almost no space
// (66 uncompressed parameter columns were 528 MB for a million cells).
Handle write_fixed(const Ctx& ctx, hid_t loc, const std::string& name, hid_t file_type,
                   hid_t mem_type, const std::vector<hsize_t>& dims, const void* buf, int deflate = 0);

// A 1-D float64 dataset `name` holding `values`, written in place when one of
// that size exists (no new space: a checkpoint rewritten on a full disk).
void overwrite_fixed(const Ctx& ctx, hid_t loc, const std::string& name, const std::vector<double>& values);

// A scalar string attribute (variable or fixed length); InputError otherwise.
std::string read_string_attr(const Ctx& ctx, hid_t obj, const std::string& name);

void check_name(const std::string& name, const std::string& what);

}  // namespace isletsim::h5
