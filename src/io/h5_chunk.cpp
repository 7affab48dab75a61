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
// filters.
//
// The shuffle's low planes (the low mantissa bytes of a simulated variable)
// are noise that deflate cannot shrink (0.98 of their size) but spends half
// its time on; those planes go into the stream as stored deflate blocks and
// only the rest is deflated: 2.0-2.6x less CPU per value again, and files no
// larger (BENCHMARKS.md, "Recording cost"). Hand-written: the byte shuffle,
// a 10-line loop (HDF5 does not export its filter functions), and the
// stored blocks' 5-byte headers with the zlib header and trailer
// (RFC 1950/1951), because libdeflate compresses whole buffers only and
// zlib, which can switch to stored blocks mid-stream (deflateParams), is
// the 2x slower encoder this replaces.
#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cstdint>
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

// Whether deflate leaves a byte plane (`count` bytes, rows of `row` bytes)
// within 3% of its size, judged on a 4 KiB sample: four pairs of 512-byte
// pieces spread over the plane, each piece followed by the same columns of
// the next row, so that the sample holds the repeats deflate finds between
// consecutive samples of a cell (a 4 KiB run of one row would miss them).
// Rows too long for deflate's 32 KiB window are sampled as four 1 KiB runs.
// Planes under 16 KiB are always deflated.
constexpr std::size_t kMinPlaneToStore = 16384;
constexpr std::size_t kPiece = 512, kPairs = 4, kSample = 2 * kPiece * kPairs;
constexpr std::size_t kWindow = 32768;
// The largest stored deflate block.
constexpr std::size_t kStoredMax = 65535;

bool incompressible(libdeflate_compressor* c, const unsigned char* plane, std::size_t count, std::size_t row) {
  std::array<unsigned char, kSample> sample;
  if (row > 0 && row + kPiece <= kWindow && row + kPiece <= count) {
    const std::size_t step = (count - row - kPiece) / (kPairs - 1);
    for (std::size_t k = 0; k < kPairs; ++k) {
      std::memcpy(sample.data() + 2 * k * kPiece, plane + k * step, kPiece);
      std::memcpy(sample.data() + (2 * k + 1) * kPiece, plane + k * step + row, kPiece);
    }
  } else {
    const std::size_t step = (count - 2 * kPiece) / (kPairs - 1);
    for (std::size_t k = 0; k < kPairs; ++k)
      std::memcpy(sample.data() + 2 * k * kPiece, plane + k * step, 2 * kPiece);
  }
  std::array<unsigned char, kSample> packed;
  // 0: it did not fit in the sample's own size.
  const std::size_t n = libdeflate_deflate_compress(c, sample.data(), sample.size(), packed.data(), packed.size());
  return n == 0 || n * 100 >= sample.size() * 97;
}

}  // namespace

void shuffle_deflate(const void* raw, std::size_t nbytes, std::size_t elem, std::size_t row, int level,
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

  // The leading planes (the low mantissa bytes) that deflate cannot shrink
  // are stored as they are; the rest is deflated. Never the last plane
  // (sign and exponent), and only planes large enough to judge.
  std::size_t plain_planes = 0;
  if (count >= kMinPlaneToStore)
    while (plain_planes + 1 < elem && incompressible(c, scratch.data() + plain_planes * count, count, row))
      ++plain_planes;
  if (plain_planes == 0) {
    out.resize(libdeflate_zlib_compress_bound(c, nbytes));
    const std::size_t n = libdeflate_zlib_compress(c, scratch.data(), nbytes, out.data(), out.size());
    if (n == 0) throw std::runtime_error("libdeflate: output larger than its bound");
    out.resize(n);
    return;
  }

  // One zlib stream (RFC 1950): header, the plain bytes as stored deflate
  // blocks (RFC 1951 3.2.4: a byte holding BFINAL = 0 and BTYPE = 00, then
  // LEN and its complement, little-endian, then LEN bytes), the rest as the
  // deflate blocks libdeflate makes (the last of them final), then the
  // Adler-32 of all the bytes, big-endian.
  const std::size_t plain = plain_planes * count, rest = nbytes - plain;
  const std::size_t blocks = (plain + kStoredMax - 1) / kStoredMax;
  out.resize(2 + blocks * 5 + plain + libdeflate_deflate_compress_bound(c, rest) + 4);
  unsigned char* o = out.data();
  *o++ = 0x78;  // deflate, 32 KiB window
  *o++ = 0x01;  // fastest compression, no dictionary: 0x7801 is a multiple of 31
  for (std::size_t at = 0; at < plain; at += kStoredMax) {
    const std::size_t len = std::min(kStoredMax, plain - at);
    *o++ = 0x00;
    *o++ = static_cast<unsigned char>(len & 0xff);
    *o++ = static_cast<unsigned char>(len >> 8);
    *o++ = static_cast<unsigned char>(~len & 0xff);
    *o++ = static_cast<unsigned char>((~len >> 8) & 0xff);
    std::memcpy(o, scratch.data() + at, len);
    o += len;
  }
  const std::size_t n = libdeflate_deflate_compress(c, scratch.data() + plain, rest, o,
                                                    static_cast<std::size_t>(out.data() + out.size() - o));
  if (n == 0) throw std::runtime_error("libdeflate: output larger than its bound");
  o += n;
  const std::uint32_t sum = libdeflate_adler32(1, scratch.data(), nbytes);
  for (int shift = 24; shift >= 0; shift -= 8) *o++ = static_cast<unsigned char>(sum >> shift);
  out.resize(static_cast<std::size_t>(o - out.data()));
}

}  // namespace isletsim::h5
