#include "isletsim/error.hpp"

#include <algorithm>
#include <cctype>

namespace isletsim {

namespace {
std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}
}  // namespace

std::string closest_name(const std::string& name, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  // Accept up to a third of the name's length in edits (at least 2) ...
  const std::size_t limit = std::max<std::size_t>(2, name.size() / 3);
  if (best_d <= limit) return best;
  // ... or a candidate that starts the name or that the name starts
  // ("simulation" -> "sim", "gKATP_max" -> "gKATP").
  const auto lower = [](std::string s) {
    for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    return s;
  };
  const std::string n = lower(name);
  std::string found;  // the longest such candidate
  for (const auto& c : candidates) {
    const std::string l = lower(c);
    if (l.size() >= 2 && n.size() >= 2 && (n.rfind(l, 0) == 0 || l.rfind(n, 0) == 0) && c.size() > found.size())
      found = c;
  }
  return found;
}

std::string did_you_mean(const std::string& name, const std::vector<std::string>& candidates) {
  const std::string c = closest_name(name, candidates);
  return c.empty() ? std::string() : " (did you mean '" + c + "'?)";
}

}  // namespace isletsim
