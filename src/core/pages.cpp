#include "core/pages.hpp"

#include <sys/mman.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <utility>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23  // Linux >= 5.14
#endif

namespace isletsim {

namespace {
constexpr std::size_t kPage = 4096, kHuge = std::size_t{2} << 20;

// Whether the kernel gives transparent huge pages to regions that ask
// (/sys/kernel/mm/transparent_hugepage/enabled is "[always]" or "[madvise]").
bool thp_on_request() {
  static const bool on = [] {
    std::FILE* f = std::fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f) return false;
    char buf[128] = {};
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    return std::strstr(buf, "[always]") || std::strstr(buf, "[madvise]");
  }();
  return on;
}
}  // namespace

PageBuffer::PageBuffer(std::size_t bytes) {
  if (bytes == 0) return;
  // Huge pages only for large buffers: zeroing a whole 2 MB page for a few
  // hundred KB costs more than populating those 4 KB pages, and a huge page
  // is not always at hand (the kernel may have to compact memory first).
  const bool huge = thp_on_request() && bytes >= kHuge / 2;
  const std::size_t align = huge ? kHuge : kPage;
  size_ = (bytes + align - 1) / align * align;
  map_size_ = size_ + (huge ? kHuge : 0);
  map_ = mmap(nullptr, map_size_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map_ == MAP_FAILED) {
    map_ = nullptr;
    throw std::bad_alloc();
  }
  const auto base = reinterpret_cast<std::uintptr_t>(map_);
  data_ = reinterpret_cast<void*>((base + align - 1) / align * align);
  if (huge) madvise(data_, size_, MADV_HUGEPAGE);
  // Make the pages present in one call (failure is harmless: they fault in later).
  madvise(data_, size_, MADV_POPULATE_WRITE);
}

PageBuffer::~PageBuffer() {
  if (map_) munmap(map_, map_size_);
}

PageBuffer::PageBuffer(PageBuffer&& o) noexcept { *this = std::move(o); }

PageBuffer& PageBuffer::operator=(PageBuffer&& o) noexcept {
  if (this != &o) {
    if (map_) munmap(map_, map_size_);
    map_ = std::exchange(o.map_, nullptr);
    map_size_ = std::exchange(o.map_size_, 0);
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
  }
  return *this;
}

}  // namespace isletsim
