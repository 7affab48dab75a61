#pragma once
// CSV fields as RFC 4180 writes them (quoted when they hold a comma, a quote
// or a line break), shared by the sweep table and the analysis tables.
#include <charconv>
#include <cstddef>
#include <string>
#include <vector>

namespace isletsim::csv {

inline std::string field(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

inline std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (c == '"') quoted = false;
      else out.back() += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

// A task number as the sweep tables write it (0, 1, 2, ...: digits only,
// the whole field): false for anything else ("3abc", "-1", "", too large).
inline bool task_number(const std::string& s, std::size_t& task) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), task);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size();
}

}  // namespace isletsim::csv
