// _isletsim: the pybind11 bindings behind the `isletsim` Python package. This
// file puts the module together and maps C++ exceptions to Python ones; each
// concept has its own file (binding.hpp lists them).
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <string>

#include "binding.hpp"
#include "isletsim/env.hpp"

namespace isletsim::binding {

PyObject* g_simulation_error = nullptr;
PyObject* g_input_error = nullptr;

void rethrow_input(const InputError& e, std::initializer_list<std::string> paths) {
  for (const auto& p : paths) {
    std::error_code ec;
    if (!p.empty() && !std::filesystem::exists(p, ec)) throw MissingFile(e.what());
  }
  throw;
}

void fetch_into(PendingError& pe) { PyErr_Fetch(&pe.type, &pe.value, &pe.tb); }
void discard(PendingError& pe) {
  Py_XDECREF(pe.type), Py_XDECREF(pe.value), Py_XDECREF(pe.tb);
  pe = {};
}

}  // namespace isletsim::binding

using namespace isletsim;
using namespace isletsim::binding;

PYBIND11_MODULE(_isletsim, m) {
  m.doc() = "isletsim: coupled pancreatic beta-cell islets (Bertram et al. 2007). Use the `isletsim` package.";
  // A damaged file that crashes libhdf5 while this module reads it: the
  // interpreter still ends (its state is not to be trusted after that), but
  // first stderr names the file (env::ReadingFile).
  env::install_crash_report(env::CrashReport::report_then_crash, "isletsim");

  // Leaked on purpose: nothing may be released after the interpreter is gone.
  auto& input_error = *new py::exception<InputError>(m, "InputError", PyExc_ValueError);
  input_error.doc() = "Bad input (config key or value, file content); a ValueError. The message is the CLI's.";
  auto& sim_error = *new py::exception<SimulationError>(m, "SimulationError", PyExc_RuntimeError);
  sim_error.doc() =
      "The simulation failed (e.g. a non-finite state); a RuntimeError. .result holds the data recorded so far.";
  g_simulation_error = sim_error.ptr();
  g_input_error = input_error.ptr();
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const MissingFile& e) {
      PyErr_SetString(PyExc_FileNotFoundError, e.what());
    } catch (const OutputExists& e) {
      PyErr_SetString(PyExc_FileExistsError, e.what());
    } catch (const InputError& e) {
      PyErr_SetString(g_input_error, e.what());
    } catch (const SimulationError& e) {
      PyErr_SetString(g_simulation_error, e.what());
    }
  });

  m.attr("__version__") = version();
  bind_analysis(m);
  // Classes before the functions that take them, so signatures name them.
  bind_config(m);
  bind_network(m);
  bind_result(m);
  bind_simulate(m);
  bind_sweep(m);
  bind_models(m);

  m.def(
      "detect_cores", [] { return env::detect_cores().cores; },
      "Cores this process may use (affinity, cgroup quota, OMP_NUM_THREADS, batch allocations).");
  m.def(
      "core_report", [] { return env::format_core_report(env::detect_cores()); }, "The `islet info` table.");
}

