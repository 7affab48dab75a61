// Runs a 2x2x2 lattice islet (8 cells) for 1 simulated second in memory with
// the installed isletsim library and prints what it recorded.
#include <cstdio>
#include <exception>

#include "isletsim/config.hpp"
#include "isletsim/engine.hpp"
#include "isletsim/simulation.hpp"

int main() {
  try {
    const isletsim::RunConfig cfg = isletsim::parse_config(
        "[sim]\nduration_s = 1\n"
        "[network]\nkind = \"lattice\"\nnx = 2\nny = 2\nnz = 2\n"
        "[record]\nvars = [\"c\", \"V\"]\ninterval_ms = 10\n",
        "<consumer>");
    const isletsim::RunSetup s = isletsim::build_setup(cfg);
    isletsim::MemorySink sink(s.problem.n_cells);
    isletsim::RunOptions opt;
    opt.threads = 1;
    const isletsim::RunResult r = isletsim::run_engine(s.problem, &sink, opt);
    if (r.status != isletsim::RunResult::Status::complete) {
      std::fprintf(stderr, "run failed: %s\n", r.message.c_str());
      return 1;
    }
    // The last sample of c (uM) and V (mV), averaged over the cells.
    const std::size_t n = s.problem.n_cells, last = sink.time_s.size() - 1;
    double c = 0, v = 0;
    for (std::size_t i = 0; i < n; ++i) {
      c += sink.data[0][last * n + i];
      v += sink.data[1][last * n + i];
    }
    std::printf("isletsim %s: %zu cells, %zu edges, %zu samples, t = %.3f s, mean c = %.17g uM, mean V = %.17g mV\n",
                isletsim::version().c_str(), n, s.network.n_edges(), sink.time_s.size(), sink.time_s[last], c / n,
                v / n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
  return 0;
}
