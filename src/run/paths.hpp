#pragma once
// Whether two paths name the same file (src/run: a run's output against its
// inputs, a continued run's file against its output).
#include <filesystem>
#include <string>

namespace isletsim::run {

// The same file: the same inode when both exist, else the same normalised
// absolute path (an output not created yet).
inline bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  std::error_code ec;
  if (std::filesystem::equivalent(a, b, ec)) return true;
  const auto ca = std::filesystem::weakly_canonical(a, ec);
  if (ec) return false;
  const auto cb = std::filesystem::weakly_canonical(b, ec);
  return !ec && ca == cb;
}

}  // namespace isletsim::run
