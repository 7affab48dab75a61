#pragma once
// Internals of the MPI executor shared by executor.cpp and runner.cpp
// (src/sweep/mpi.cpp; without MPI they throw std::logic_error).
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "isletsim/sweep.hpp"

namespace isletsim::sweep::detail {

void execute_mpi(const std::vector<Task*>& tasks, const std::function<void(std::size_t, TaskResult&&)>& done,
                 const ExecutorOptions& opt);
int mpi_world_rank();                  // of MPI_COMM_WORLD
void mpi_broadcast(std::string& bytes);  // from rank 0 to every rank

}  // namespace isletsim::sweep::detail
