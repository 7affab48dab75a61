// Networks from outside: checks of in-memory networks (validate_network) and
// the CSV loader (load_network_csv). Both share the edge checks below, so a
// network is held to the same rules whichever way it comes in.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "isletsim/error.hpp"
#include "isletsim/model.hpp"
#include "isletsim/network.hpp"

namespace isletsim {

namespace {
// " (a parameter of bertram2007, not of this run's model)" when another model has it.
std::string other_models(const std::string& name) {
  std::string m;
  for (const auto& x : models_with_param(name)) m += (m.empty() ? "" : ", ") + x;
  return m.empty() ? std::string() : " (a parameter of " + m + ", not of this run's model)";
}
}  // namespace

namespace {

constexpr std::uint64_t kMaxCells = std::numeric_limits<std::uint32_t>::max();

// Shortest decimal text that reads back as `v` ("-0.5", "nan", "inf").
std::string format_number(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

std::string edge_text(std::uint64_t i, std::uint64_t j) {
  return std::to_string(i) + "-" + std::to_string(j);
}

// The rules every edge must follow. check() returns what is wrong with an
// edge ("" when nothing is), without its location.
class EdgeChecker {
 public:
  // `cells` says where the cell count comes from ("cells.csv has"); `unit`
  // names an edge's position in duplicate messages ("line", "edge").
  EdgeChecker(std::size_t n_cells, std::string cells, std::string unit, std::size_t expected_edges)
      : n_(n_cells), cells_(std::move(cells)), unit_(std::move(unit)) {
    seen_.reserve(expected_edges);
  }

  // `where` is the edge's line or index; `weight_text` the weight as the
  // user wrote it, when there is one.
  std::string check(std::uint64_t i, std::uint64_t j, double w, std::string_view weight_text,
                    std::uint64_t where) {
    for (const std::uint64_t id : {i, j})
      if (id >= n_)
        return "cell id " + std::to_string(id) + " out of range (" + cells_ + " " + std::to_string(n_) +
               " cells, ids 0.." + std::to_string(n_ - 1) + ")";
    if (i == j) return "self-loop " + edge_text(i, j) + " (a cell cannot be coupled to itself)";
    const auto wt = [&] { return weight_text.empty() ? format_number(w) : std::string(weight_text); };
    if (!std::isfinite(w)) return "weight " + wt() + " is not finite (weights must be finite numbers >= 0)";
    if (w < 0.0) return "negative weight " + wt() + " (weights must be >= 0)";
    const std::uint64_t key = std::min(i, j) * n_ + std::max(i, j);
    const auto [it, inserted] = seen_.try_emplace(key, First{i, j, where});
    if (!inserted)
      return "duplicate edge " + edge_text(i, j) + " (the same cells as " +
             edge_text(it->second.i, it->second.j) + " on " + unit_ + " " + std::to_string(it->second.where) +
             "; each edge must be listed once, in either direction)";
    return {};
  }

 private:
  struct First {
    std::uint64_t i, j, where;
  };
  std::size_t n_;
  std::string cells_, unit_;
  std::unordered_map<std::uint64_t, First> seen_;
};

// ---------------------------------------------------------------- CSV files

std::string_view trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

// A CSV file read line by line: blank lines and lines whose first non-blank
// character is '#' are skipped, CRLF and a UTF-8 byte-order mark are
// accepted, and every field is trimmed of surrounding spaces and tabs.
class CsvFile {
 public:
  explicit CsvFile(const std::string& path) : path_(path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw InputError("cannot open '" + path + "' (no such file, or it is not readable)");
    text_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) throw InputError("cannot read '" + path + "'");
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  const std::string& path() const { return path_; }
  std::size_t line() const { return line_; }

  // Fields of the next data line; false at the end of the file.
  bool next(std::vector<std::string_view>& fields) {
    while (pos_ < text_.size()) {
      std::size_t end = text_.find('\n', pos_);
      if (end == std::string::npos) end = text_.size();
      const std::string_view raw(text_.data() + pos_, end - pos_);
      pos_ = end + 1;
      ++line_;
      const std::string_view content = trim(raw);
      if (content.empty() || content.front() == '#') continue;
      fields.clear();
      for (std::size_t start = 0;;) {
        const std::size_t comma = content.find(',', start);
        fields.push_back(trim(content.substr(start, comma - start)));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
      }
      return true;
    }
    return false;
  }

  // InputError "path:line: what" for the line last returned.
  [[noreturn]] void fail(const std::string& what) const { fail_at(line_, what); }
  [[noreturn]] void fail_at(std::size_t line, const std::string& what) const {
    throw InputError(path_ + ":" + std::to_string(line) + ": " + what);
  }

 private:
  std::string path_, text_;
  std::size_t pos_ = 0, line_ = 0;
};

template <class Strings>
std::string join(const Strings& v, std::string_view sep = ",") {
  std::string s;
  for (std::size_t k = 0; k < v.size(); ++k) {
    if (k != 0) s += sep;
    s += v[k];
  }
  return s;
}

// std::from_chars over the whole field, after one optional leading '+'.
// *out_of_range (when given) tells a well-formed number too large for T.
template <class T>
bool parse_whole(std::string_view text, T& value, bool* out_of_range = nullptr) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') text.remove_prefix(1);
  const auto res = std::from_chars(text.data(), text.data() + text.size(), value);
  const bool whole = res.ptr == text.data() + text.size();
  if (out_of_range) *out_of_range = whole && res.ec == std::errc::result_out_of_range;
  return res.ec == std::errc() && whole;
}

double parse_real(const CsvFile& f, std::string_view column, std::string_view text) {
  double v = 0.0;
  bool range = false;
  if (text.empty()) f.fail(std::string(column) + " is empty (expected a number)");
  if (!parse_whole(text, v, &range))
    f.fail(std::string(column) + " '" + std::string(text) +
           (range ? "' is out of range for a double (expected 0 or a magnitude in 2.2e-308..1.8e308)"
                  : "' is not a number"));
  return v;
}

double parse_finite(const CsvFile& f, std::string_view column, std::string_view text) {
  const double v = parse_real(f, column, text);
  if (!std::isfinite(v))
    f.fail(std::string(column) + " '" + std::string(text) + "' is not a finite number");
  return v;
}

std::uint64_t parse_id(const CsvFile& f, std::string_view column, std::string_view text) {
  std::uint64_t v = 0;
  bool range = false;
  if (text.empty()) f.fail(std::string(column) + " is empty (expected a cell id)");
  if (!parse_whole(text, v, &range))
    f.fail(std::string(column) + " '" + std::string(text) +
           (range ? "' is too large for a cell id (ids are 0.." + std::to_string(kMaxCells - 1) + ")"
                  : "' is not a cell id (expected an integer 0, 1, 2, ...)"));
  return v;
}

// Reads the header line; fails when there is none or it is data.
std::vector<std::string_view> read_header(CsvFile& f, const std::string& expected) {
  std::vector<std::string_view> header;
  if (!f.next(header))
    f.fail_at(std::max<std::size_t>(f.line(), 1),
              "no header line (the file is empty, or holds only blank and '#' comment lines); expected '" + expected +
                  "'");
  double number = 0.0;
  if (parse_whole(header.front(), number))
    f.fail("missing header: this line holds data '" + join(header) + "', expected the header '" +
           expected + "' first");
  return header;
}

void check_fields(const CsvFile& f, const std::vector<std::string_view>& fields,
                  const std::vector<std::string_view>& header) {
  if (fields.size() != header.size())
    f.fail("expected " + std::to_string(header.size()) + " fields (" + join(header) + "), found " +
           std::to_string(fields.size()));
}

// cells.csv: returns a network with positions and parameter columns.
Network read_cells(const std::string& path, const std::vector<std::string>& param_names) {
  CsvFile f(path);
  const std::string expected = "id,x,y,z[,parameter...]";
  const auto header = read_header(f, expected);
  const std::vector<std::string_view> core = {"id", "x", "y", "z"};
  if (header.size() < core.size())
    f.fail("header '" + join(header) + "' has " + std::to_string(header.size()) +
           " columns, expected '" + expected + "'");
  for (std::size_t c = 0; c < header.size(); ++c) {
    const std::string name(header[c]);
    if (c < core.size() && header[c] != core[c])
      f.fail("column " + std::to_string(c + 1) + " is '" + name + "', expected '" +
             std::string(core[c]) + "' (the header must start with id,x,y,z)");
    if (name.empty()) f.fail("column " + std::to_string(c + 1) + " has an empty name");
    for (std::size_t prev = 0; prev < c; ++prev)
      if (header[prev] == header[c])
        f.fail("column '" + name + "' appears twice (columns " + std::to_string(prev + 1) + " and " +
               std::to_string(c + 1) + ")");
    if (c >= core.size() && std::find(param_names.begin(), param_names.end(), name) == param_names.end()) {
      const std::string known = join(param_names, ", ");
      f.fail("unknown parameter column '" + name + "'" + other_models(name) + did_you_mean(name, param_names) +
             "; extra columns must be model parameters" +
             (known.empty() ? " (this model has none)" : " (" + known + ")"));
    }
  }
  const std::size_t n_params = header.size() - core.size();

  // Parse every row first: the id range depends on the number of rows.
  struct Row {
    std::uint64_t id;
    std::size_t line;
  };
  std::vector<Row> rows;
  std::vector<double> values;  // x, y, z, params... per row
  std::vector<std::string_view> fields;
  while (f.next(fields)) {
    check_fields(f, fields, header);
    rows.push_back({parse_id(f, "id", fields[0]), f.line()});
    for (std::size_t c = 1; c < fields.size(); ++c) values.push_back(parse_finite(f, header[c], fields[c]));
  }
  const std::size_t n = rows.size();
  if (n == 0) f.fail_at(f.line(), "no cells (the header is not followed by any cell row)");
  if (n > kMaxCells) f.fail_at(rows[kMaxCells].line, "too many cells (at most " + std::to_string(kMaxCells) + ")");

  Network net;
  net.x.resize(n);
  net.y.resize(n);
  net.z.resize(n);
  for (std::size_t p = 0; p < n_params; ++p)
    net.cell_params.emplace_back(std::string(header[core.size() + p]), std::vector<double>(n));
  std::vector<std::size_t> line_of(n, 0);  // 0: id not seen yet
  const std::size_t stride = 3 + n_params;
  for (std::size_t r = 0; r < n; ++r) {
    const auto [id, line] = rows[r];
    if (id >= n)
      f.fail_at(line, "cell id " + std::to_string(id) + " out of range (the file has " + std::to_string(n) +
                          " cells, so ids must be 0.." + std::to_string(n - 1) + ", each once)");
    if (line_of[id] != 0)
      f.fail_at(line, "cell id " + std::to_string(id) + " appears twice (lines " +
                          std::to_string(line_of[id]) + " and " + std::to_string(line) + ")");
    line_of[id] = line;
    const double* v = &values[r * stride];
    net.x[id] = v[0];
    net.y[id] = v[1];
    net.z[id] = v[2];
    for (std::size_t p = 0; p < n_params; ++p) net.cell_params[p].second[id] = v[3 + p];
  }
  return net;
}

// edges.csv: appends the edges to `net`.
void read_edges(const std::string& path, const std::string& cells_path, Network& net) {
  CsvFile f(path);
  const std::string expected = "i,j,weight";
  const auto header = read_header(f, expected);
  if (join(header) != expected) f.fail("expected the header '" + expected + "', found '" + join(header) + "'");
  EdgeChecker checker(net.n_cells(), cells_path + " has", "line", 4 * net.n_cells());
  std::vector<std::string_view> fields;
  while (f.next(fields)) {
    check_fields(f, fields, header);
    const std::uint64_t i = parse_id(f, "i", fields[0]), j = parse_id(f, "j", fields[1]);
    const double w = parse_real(f, "weight", fields[2]);
    const std::string problem = checker.check(i, j, w, fields[2], f.line());
    if (!problem.empty()) f.fail(problem);
    net.edge_i.push_back(static_cast<std::uint32_t>(i));
    net.edge_j.push_back(static_cast<std::uint32_t>(j));
    net.edge_w.push_back(w);
  }
}

}  // namespace

Network load_network_csv(const std::string& cells_csv, const std::string& edges_csv,
                         const std::vector<std::string>& param_names) {
  Network net = read_cells(cells_csv, param_names);
  read_edges(edges_csv, cells_csv, net);
  return net;
}

void validate_network(const Network& net, const std::string& origin) {
  const auto fail = [&](const std::string& what) { throw InputError(origin + ": " + what); };
  const std::size_t n = net.n_cells(), m = net.n_edges();
  if (net.y.size() != n || net.z.size() != n)
    fail("x, y and z have different lengths (" + std::to_string(n) + ", " + std::to_string(net.y.size()) +
         ", " + std::to_string(net.z.size()) + ")");
  if (n == 0) fail("the network has no cells");
  if (n > kMaxCells) fail("too many cells: " + std::to_string(n) + " (at most " + std::to_string(kMaxCells) + ")");
  for (std::size_t c = 0; c < n; ++c)
    if (!std::isfinite(net.x[c]) || !std::isfinite(net.y[c]) || !std::isfinite(net.z[c]))
      fail("cell " + std::to_string(c) + " has a non-finite position (" + format_number(net.x[c]) + ", " +
           format_number(net.y[c]) + ", " + format_number(net.z[c]) + ")");
  for (std::size_t p = 0; p < net.cell_params.size(); ++p) {
    const auto& [name, values] = net.cell_params[p];
    if (name.empty()) fail("per-cell parameter column " + std::to_string(p) + " has an empty name");
    for (std::size_t q = 0; q < p; ++q)
      if (net.cell_params[q].first == name) fail("per-cell parameter '" + name + "' is given twice");
    if (values.size() != n)
      fail("per-cell parameter '" + name + "' has " + std::to_string(values.size()) + " values for " +
           std::to_string(n) + " cells");
    for (std::size_t c = 0; c < n; ++c)
      if (!std::isfinite(values[c]))
        fail("per-cell parameter '" + name + "' of cell " + std::to_string(c) + " is " +
             format_number(values[c]) + " (expected a finite number)");
  }
  if (net.edge_j.size() != m || net.edge_w.size() != m)
    fail("edge_i, edge_j and edge_w have different lengths (" + std::to_string(m) + ", " +
         std::to_string(net.edge_j.size()) + ", " + std::to_string(net.edge_w.size()) + ")");
  EdgeChecker checker(n, "the network has", "edge", m);
  for (std::size_t e = 0; e < m; ++e) {
    const std::string problem =
        checker.check(net.edge_i[e], net.edge_j[e], net.edge_w[e], {}, e);
    if (!problem.empty()) fail("edge " + std::to_string(e) + ": " + problem);
  }
}

}  // namespace isletsim
