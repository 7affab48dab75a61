// The compressed bytes of one chunk of /data/<var>, made here instead of by
// HDF5's filter pipeline (issue 13, item 2). The writer thread spent ~48 ns
// of CPU per recorded float32 value, nearly all in zlib's deflate at level 1
// inside HDF5's deflate filter; libdeflate writes the same zlib stream
// format 2.2-2.5x faster at the same ratio (BENCHMARKS.md), and HDF5 offers
// no other encoder for its deflate filter (its predefined filters cannot be
// replaced: H5Zregister refuses id 1). So the writer shuffles and compresses
// whole chunks itself and stores them with H5Dwrite_chunk, with the
// dataset's own filter pipeline (shuffle, deflate) recorded as applied:
// every HDF5 reader (h5py, netCDF, HDFView) decodes them with its own
// filters. Hand-written: the byte shuffle, a 10-line loop (HDF5 does not
// export its filter functions).
#include <libdeflate.h>

#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "io/h5_handle.hpp"

namespace isletsim::h5 {
namespace {

struct CompressorFree {
  void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
};

// One compressor per level and thread (a compressor holds its own tables
// and is not shared between threads).
libdeflate_compressor* compressor(int level) {
  thread_local std::array<std::unique_ptr<libdeflate_compressor, CompressorFree>, 10> by_level;
  auto& c = by_level.at(static_cast<std::size_t>(level));
  if (!c) c.reset(libdeflate_alloc_compressor(level));
  if (!c) throw std::bad_alloc();
  return c.get();
}

}  // namespace

void shuffle_deflate(const void* raw, std::size_t nbytes, std::size_t elem, int level,
                     std::vector<unsigned char>& scratch, std::vector<unsigned char>& out) {
  if (level < 1 || level > 9) throw std::invalid_argument("shuffle_deflate: level must be 1..9");
  // HDF5's shuffle: byte b of element i goes to b * count + i (whole
  // elements only; any remainder bytes stay at the end, as they are).
  const auto* in = static_cast<const unsigned char*>(raw);
  const std::size_t count = nbytes / elem;
  scratch.resize(nbytes);
  for (std::size_t b = 0; b < elem; ++b) {
    unsigned char* plane = scratch.data() + b * count;
    for (std::size_t i = 0; i < count; ++i) plane[i] = in[i * elem + b];
  }
  std::memcpy(scratch.data() + count * elem, in + count * elem, nbytes - count * elem);
  libdeflate_compressor* c = compressor(level);
  out.resize(libdeflate_zlib_compress_bound(c, nbytes));
  const std::size_t n = libdeflate_zlib_compress(c, scratch.data(), nbytes, out.data(), out.size());
  if (n == 0) throw std::runtime_error("libdeflate: output larger than its bound");
  out.resize(n);
}

}  // namespace isletsim::h5
