#pragma once
// A run's configuration: everything a user can set, in one TOML file (see
// docs/config.md). Parsing checks every key and value and names the file,
// line and key in its errors.
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "isletsim/analysis.hpp"
#include "isletsim/glucose.hpp"
#include "isletsim/integrator.hpp"

namespace isletsim {

// Ranges the config checker enforces besides each key's sign (docs/config.md,
// "Ranges"); a value beyond them is refused with the key and the range.
// Cells: about 1 KB of memory each (states, integrator stages, parameters,
// edges), so 10^8 cells need ~100 GB; ids are 32-bit (network.hpp).
inline constexpr std::uint64_t kMaxConfigCells = 100'000'000;
// Steps (sim.duration_s / sim.dt_ms) and steps per sample: at most 2^53, the
// largest count a double (the step times) holds exactly.
inline constexpr double kMaxSteps = 9007199254740992.0;
// Glucose, mM: 1 M is beyond any experiment (physiological: 0-30 mM).
inline constexpr double kMaxGlucose_mM = 1000;
// Heterogeneity and coupling-conductance coefficients of variation: cv <= 10.
inline constexpr double kMaxCv = 10;

// The config's choices. The names the TOML uses are to_string's; *_from_string
// throws InputError listing them.
enum class DistKind { normal, lognormal, gamma };
enum class NetworkKind { sphere, lattice, csv };
enum class WeightMode { network, per_cell };
enum class GlucoseMode { constant, step, protocol, fixed_jgk };
enum class RecordType { float32, float64 };
const char* to_string(DistKind);
const char* to_string(NetworkKind);
const char* to_string(WeightMode);
const char* to_string(GlucoseMode);
const char* to_string(RecordType);
DistKind dist_from_string(const std::string& s);

// Multiplicative heterogeneity: a per-cell factor with mean 1 and the given
// coefficient of variation. normal: truncated to positive values (redrawn);
// lognormal; gamma (shape 1/cv^2).
struct Distribution {
  DistKind dist = DistKind::normal;
  double cv = 0;
  // A constructor rather than aggregate initialization: GCC 12 gives a
  // false -Wmaybe-uninitialized for aggregates of this shape in RunConfig.
  Distribution() = default;
  Distribution(DistKind d, double c) : dist(d), cv(c) {}
};

struct RunConfig {
  // [model]
  std::string model = "bertram2007";
  // [sim]
  double duration_s = 600;
  Integrator integrator = Integrator::rk4;
  // The step of the fixed-step integrators (euler, rk4). For dopri5 it is
  // set to record_interval_ms: the grid its samples and its end lie on.
  double dt_ms = 0.5;
  // dopri5 only: the relative tolerance (each state's error weight is
  // tolerance x (the model's error scale + |value|)), and the largest step
  // (0: no limit).
  double tolerance = 1e-8;
  double max_step_ms = 0;
  std::uint64_t seed = 1;
  // [network]
  NetworkKind network = NetworkKind::sphere;
  std::size_t n_cells = 1000;      // sphere
  double cell_diameter_um = 0, contact_factor = 0, oversample = 0;  // sphere; 0 = generator default
  std::size_t nx = 10, ny = 10, nz = 10;  // lattice
  double spacing_um = 10;                 // lattice
  std::string cells_csv, edges_csv;       // csv (relative paths: to the config file)
  // [coupling]: coefficients given by the config, by key of the model's
  // coupled variables (the others take the model's defaults)
  std::vector<std::pair<std::string, double>> coupling;
  WeightMode weights = WeightMode::per_cell;
  Distribution cell_conductance{DistKind::gamma, 0.5};
  // [params], [heterogeneity], [initial]
  std::vector<std::pair<std::string, double>> params;
  std::vector<std::pair<std::string, Distribution>> heterogeneity;
  std::vector<std::pair<std::string, double>> initial;
  // [initial] from: start from the end state of this run file (relative:
  // to the config file); `initial` values then override single states.
  std::string initial_from;
  // [glucose]
  GlucoseMode glucose_mode = GlucoseMode::step;
  double basal_mM = 2, level_mM = 11, t_step_s = 180, tau_s = 0;  // step 2 -> 11 mM at 3 min (field notes)
  std::vector<GlucoseEvent> events;  // protocol mode, starting from basal_mM
  // [record]
  std::vector<std::string> record_vars{"c", "V"};  // default: the model's calcium and spike states
  double record_interval_ms = 10;
  std::string output = "islet.h5";
  RecordType record_dtype = RecordType::float32;
  // [record] checkpoint_s: the complete state is saved in the file every
  // this many simulated seconds (and at the end); 0: only at the end.
  double checkpoint_s = 60;
  // [analysis]: the options of `islet analyze` for this run's output (docs/analysis.md)
  analysis::Options analysis;
  // [summary]: the window (s) of a sweep's summary metrics (docs/sweeps.md);
  // NaN = unset: from half the duration to the end of the run.
  double summary_from_s = NAN, summary_to_s = NAN;

  std::string base_dir;  // directory relative paths are resolved against
  // Not in TOML. The file this config was read from (a .toml, or the .h5 of
  // a run being re-run): a run refuses to write its output there.
  std::string source_path;
  // Not in TOML. Re-running the run file `rerun_file`: what that run took
  // from arrays rather than from its config (a Python network=, params=,
  // initial=) is read back from the file (see build_setup).
  std::string rerun_file;
  GlucoseProtocol glucose() const;
  // The coefficient of coupling key `key` (the config's, else the model's default).
  double coupling_value(const std::string& key) const;
};

// The built-in default run (what `islet run` does with no file).
RunConfig default_config();

// `--set key=value` overrides, applied in order on top of the file.
using Overrides = std::vector<std::string>;

// InputError "'path' is a directory; expected a TOML config file or an isletsim
// .h5 file" when `path` is a directory (which would read as an empty config).
void check_not_directory(const std::string& path);
RunConfig load_config(const std::string& path, const Overrides& sets = {});
RunConfig parse_config(const std::string& toml_text, const std::string& origin, const Overrides& sets = {});

// The resolved configuration as TOML: parse_config of this text gives back
// the same RunConfig. Keys whose defaults come from the model (integrator,
// time step or tolerance, coupling coefficients, heterogeneity, recorded and
// analysed variables) are written only where the config departs from the
// model's defaults, so that another model.name gets its own (the text runs
// store, and the base of a sweep); with every_key, they are written too (what
// `islet run --print-config` prints, for reading: it gives the same run for
// this model).
std::string to_toml(const RunConfig& cfg, bool every_key = false);

// The [analysis] table alone, as TOML (every key explicit; unset window,
// stimulus and threshold left out). Stored with analysis results.
std::string analysis_to_toml(const analysis::Options& o);

// Every accepted key as "table.key", for messages and docs.
std::vector<std::string> config_keys();

}  // namespace isletsim
