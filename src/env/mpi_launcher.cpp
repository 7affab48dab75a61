// Was this process started by an MPI launcher? (env.hpp)
#include <cstdlib>
#include <string>

#include "isletsim/env.hpp"

namespace isletsim::env {

unsigned mpi_launcher_size(std::string (*getenv)(const char*)) {
  const auto get = [&](const char* name) -> std::string {
    if (getenv) return getenv(name);
    const char* v = std::getenv(name);
    return v ? v : "";
  };
  // Open MPI's mpirun, MPICH/Intel MPI's Hydra and srun --mpi=pmi2: the size;
  // srun --mpi=pmix: a rank (size not given: 1 will do, it's only "yes").
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS"}) {
    const std::string v = get(name);
    if (v.empty()) continue;
    char* end = nullptr;
    const unsigned long n = std::strtoul(v.c_str(), &end, 10);
    if (end != v.c_str() && *end == '\0' && n > 0) return static_cast<unsigned>(n);
  }
  return get("PMIX_RANK").empty() ? 0u : 1u;
}

}  // namespace isletsim::env
