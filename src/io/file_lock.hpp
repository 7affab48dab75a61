#pragma once
// An exclusive lock on an output file while a run writes it, so that a second
// writer of the same file fails before it touches it (two `islet run -o x.h5`
// at once would otherwise both succeed and leave a file mixing the two).
//
// Linux open-file-description locks (fcntl F_OFD_SETLK): they conflict
// between processes and between two writers in one process (two Python
// threads), are released by the kernel when the process dies (SIGKILL
// included), and are independent of the flock() locks that HDF5 and h5py
// take, so a reader may open the file while the run goes on.
#include <cstdint>
#include <string>

namespace isletsim::io {

class OutputLock {
 public:
  OutputLock() = default;
  // Opens (creating it if needed, never truncating) and locks `path`; throws
  // InputError naming it when another writer holds the lock.
  explicit OutputLock(const std::string& path);
  ~OutputLock();
  OutputLock(OutputLock&& o) noexcept : fd_(o.fd_), created_(o.created_) { o.fd_ = -1; }
  OutputLock& operator=(OutputLock&& o) noexcept;
  OutputLock(const OutputLock&) = delete;
  OutputLock& operator=(const OutputLock&) = delete;
  void release();
  int fd() const { return fd_; }  // -1 when not held
  bool created() const { return created_; }  // `path` did not exist: the lock made it (empty)

  // Makes sure that `bytes` more can be written to the file (and a margin
  // for finishing it) by reserving the space beyond its end (fallocate,
  // keeping its size), so that a full disk or a file-size limit is found
  // here, before HDF5 writes anything, and never half-way through a write
  // (which leaves an HDF5 file unreadable). Throws std::runtime_error naming
  // the file and the reason, and with `kept` that the samples before are
  // kept (not for a new file, which its writer removes); does nothing where
  // the file system cannot reserve space.
  void reserve(std::uint64_t bytes, const std::string& path, bool kept = true);

 private:
  int fd_ = -1;
  bool created_ = false;
  std::uint64_t reserved_to_ = 0;  // bytes of the file reserved so far
  bool can_reserve_ = true;
};

}  // namespace isletsim::io
