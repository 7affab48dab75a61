#pragma once
#include <cstddef>
#include <new>
#include <vector>

namespace isletsim {

// 64-byte aligned allocator: every per-variable array starts on a cache line
// (and an AVX-512 vector boundary).
template <class T>
struct AlignedAlloc {
  using value_type = T;
  static constexpr std::align_val_t kAlign{64};
  AlignedAlloc() = default;
  template <class U>
  AlignedAlloc(const AlignedAlloc<U>&) {}
  T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T), kAlign)); }
  void deallocate(T* p, std::size_t) { ::operator delete(p, kAlign); }
  template <class U>
  bool operator==(const AlignedAlloc<U>&) const { return true; }
};

template <class T>
using AlignedVec = std::vector<T, AlignedAlloc<T>>;

}  // namespace isletsim
