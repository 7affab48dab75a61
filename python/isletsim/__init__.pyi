"""Type stubs for isletsim (the pybind11 module _isletsim plus the pure-Python helpers).

Units: time s, glucose mM, V mV, c uM, positions um, conductances pS, weights dimensionless.
"""
from os import PathLike
from typing import Any, Callable, Iterator, Mapping, NamedTuple, Optional, Sequence, Union

import numpy as np
import numpy.typing as npt

# The analysis pipeline, its pictures and the figures of `islet analyze`: typed in their own modules.
from . import analysis as analysis
from . import figures as figures
from . import plot as plot
from .analysis import Analysis as Analysis
from .analysis import analyze as analyze
from .analysis import load_analysis as load_analysis

__version__: str

class InputError(ValueError):
    """Bad input (config key or value, file content). The message is the CLI's (`islet: error: ...`)."""

class SimulationError(RuntimeError):
    """The simulation failed (non-finite state). ``result`` holds the data recorded so far."""
    result: Result

class Param(NamedTuple):
    """A model parameter (as `islet params`)."""
    name: str
    unit: str
    default: float
    description: str

class State(NamedTuple):
    """A state variable; names usable in record.vars and [initial]."""
    name: str
    unit: str
    initial: float
    description: str

def models() -> list[dict[str, Any]]:
    """The cell models (name, title, citation, doi, coupling, ...)."""

def params(model: str = "bertram2007") -> list[Param]:
    """The model parameter table: name, unit, default, description."""

def states(model: str = "bertram2007") -> list[State]:
    """The state variables: name, unit, initial value, description."""

def config_keys() -> list[str]:
    """Every accepted config key, 'section.key'."""

def detect_cores() -> int:
    """Cores this process may use (affinity, cgroup quota, OMP_NUM_THREADS, batch allocations)."""

def core_report() -> str:
    """The `islet info` table: each source of the core limit and the result."""

class Config:
    """A run configuration: the TOML of `islet run` (docs/config.md).

    set() behaves exactly like the CLI's ``--set key=value`` (same checks, same messages).
    """
    @staticmethod
    def default() -> Config:
        """The built-in default run: 1000-cell sphere, 600 s, glucose 2 -> 11 mM at 180 s."""
    @staticmethod
    def load(path: str) -> Config:
        """A TOML file, or the config attribute of an earlier output .h5.

        Raises FileNotFoundError (missing file) or InputError/ValueError (invalid)."""
    @staticmethod
    def from_toml(text: str, origin: str = "<string>", base_dir: str = "") -> Config:
        """A config from TOML text; origin names it in messages, base_dir resolves relative paths."""
    def set(self, key: str, value: Any) -> Config:
        """Override 'section.key' (e.g. 'coupling.gV', pS) with a number, bool, str, list or dict. Returns self."""
    def heterogeneity(self, name: str, cv: float, dist: str = "normal") -> Config:
        """Per-cell factor (mean 1, coefficient of variation cv) on parameter `name`;
        dist 'normal' (truncated > 0), 'lognormal' or 'gamma'; cv = 0 removes it. Returns self."""
    def to_toml(self, *, every_key: bool = False) -> str:
        """The resolved config as TOML; keys whose defaults come from the model only where set,
        unless every_key=True (as `islet run --print-config` prints it)."""
    def _repr_html_(self) -> str:
        """Jupyter's summary table: model, network, duration, integrator/dt, glucose, recorded vars, seed."""
    def as_dict(self) -> dict[str, Any]:
        """The resolved config as nested dicts, every key explicit."""
    def get(self, key: str) -> Any:
        """The resolved value of 'section.key'; KeyError if absent."""
    def copy(self) -> Config: ...
    @property
    def origin(self) -> str: ...
    @property
    def overrides(self) -> list[str]:
        """The set() calls so far as --set texts 'key=value'."""
    @property
    def base_dir(self) -> str: ...
    @property
    def duration_s(self) -> float:
        """Simulated time (s)."""
    @property
    def dt_ms(self) -> float:
        """Time step (ms); for dopri5 its grid, the record interval."""
    @property
    def integrator(self) -> str:
        """The integrator: 'dopri5', 'rk4' or 'euler' (the model's default unless set)."""
    @property
    def tolerance(self) -> float:
        """dopri5's relative tolerance."""
    @property
    def seed(self) -> int: ...
    @property
    def record_vars(self) -> list[str]: ...
    @property
    def output(self) -> str:
        """record.file."""

class Network:
    """Cells (positions in um) and undirected gap-junction edges (weights >= 0)."""
    @staticmethod
    def sphere(n_cells: int = 1000, seed: int = 1, cell_diameter_um: float = 12.0,
               contact_factor: float = 1.07, oversample: float = 4.0) -> Network:
        """Random packing of non-overlapping spheres; edges between centres closer than contact_factor diameters."""
    @staticmethod
    def lattice(nx: int, ny: int, nz: int, spacing_um: float = 10.0) -> Network:
        """Cubic lattice, 6 neighbours, weight 1; id = x + nx*(y + ny*z)."""
    @staticmethod
    def from_csv(cells: str, edges: str) -> Network:
        """cells.csv (id,x,y,z[,parameter columns]) and edges.csv (i,j,weight)."""
    @staticmethod
    def from_arrays(positions: npt.ArrayLike, edges: npt.ArrayLike,
                    weights: Optional[npt.ArrayLike] = None) -> Network:
        """positions (n, 3) um, edges (m, 2) cell ids, weights (m,) (default 1)."""
    def to_csv(self, cells: Union[str, PathLike[str]], edges: Union[str, PathLike[str]]) -> None:
        """Writes cells.csv and edges.csv (this network's weights) as from_csv reads them back."""
    @property
    def n_cells(self) -> int: ...
    @property
    def n_edges(self) -> int: ...
    @property
    def mean_degree(self) -> float: ...
    @property
    def positions(self) -> npt.NDArray[np.float64]:
        """(n_cells, 3), um."""
    @property
    def edges(self) -> npt.NDArray[np.uint32]:
        """(n_edges, 2), each undirected edge once."""
    @property
    def weights(self) -> npt.NDArray[np.float64]:
        """(n_edges,), dimensionless."""
    @property
    def cell_params(self) -> dict[str, npt.NDArray[np.float64]]:
        """Per-cell parameter columns from cells.csv."""
    def _repr_html_(self) -> str: ...

class Result:
    """A finished (or stopped) run: the content of its HDF5 output, in memory."""
    @property
    def time(self) -> npt.NDArray[np.float64]:
        """(samples,), s."""
    @property
    def glucose(self) -> npt.NDArray[np.float64]:
        """(samples,), mM (NaN when JGK is fixed)."""
    @property
    def vars(self) -> list[str]: ...
    def keys(self) -> list[str]: ...
    def __contains__(self, var: str) -> bool: ...
    def __getitem__(self, var: str) -> npt.NDArray[np.floating]:
        """(samples, cells), C-contiguous, read-only view (c in uM, V in mV, ...): float64, or float32 when
        loaded so (load(dtype=None) of a float32 file). A lazily loaded Result reads it now. KeyError if absent."""
    @property
    def dtype(self) -> np.dtype:
        """dtype of res[var]: float64 or float32."""
    @property
    def cells(self) -> npt.NDArray[np.int64]:
        """The run's index of each cell held (0..n-1 unless loaded with cells=)."""
    @property
    def first_sample(self) -> int:
        """The run's index of the first sample held (0 unless loaded with window=)."""
    @property
    def in_memory(self) -> list[str]:
        """Variables whose samples are in memory (a lazily loaded Result reads each on first use)."""
    def __len__(self) -> int: ...
    @property
    def n_samples(self) -> int: ...
    @property
    def n_cells(self) -> int: ...
    @property
    def status(self) -> str:
        """'complete', 'interrupted' or 'failed'."""
    @property
    def message(self) -> str: ...
    @property
    def steps_done(self) -> int: ...
    @property
    def wall_s(self) -> float: ...
    @property
    def path(self) -> Optional[str]: ...
    @property
    def final_state(self) -> dict[str, npt.NDArray[np.float64]]:
        """{state: (cells,)} at the end; empty for a loaded file."""
    @property
    def positions(self) -> npt.NDArray[np.float64]: ...
    @property
    def edges(self) -> npt.NDArray[np.uint32]: ...
    @property
    def weights(self) -> npt.NDArray[np.float64]:
        """Effective coupling weights w_ij."""
    @property
    def params(self) -> dict[str, npt.NDArray[np.float64]]:
        """Per-cell parameter values (heterogeneity applied)."""
    @property
    def attrs(self) -> dict[str, Any]:
        """Root attributes of the output file: strings as str, integer attributes (counts, seeds, ...) as
        int, exactly (those beyond the int64 range as float), floating-point ones as float."""
    @property
    def config_toml(self) -> str: ...
    @property
    def config(self) -> Config: ...
    def synchrony(self, var: str = "c", from_s: float = 0.0) -> float:
        """Mean pairwise Pearson correlation of `var` over samples with t >= from_s.
        ValueError when from_s is not finite or no sample has t >= from_s."""
    def duty_cycle(self, var: str = "c", from_s: float = 0.0) -> npt.NDArray[np.float64]:
        """Per-cell fraction of samples (t >= from_s) above half the cell's own amplitude.
        ValueError when from_s is not finite or no sample has t >= from_s."""
    def save(self, path: str) -> None:
        """Write the HDF5 file `islet run` writes (docs/hdf5-layout.md). ValueError for a cells= selection."""
    def to_xarray(self, vars: Optional[Union[str, Sequence[str]]] = None, params: bool = False) -> Any:
        """xarray.Dataset: dims (time, cell); coords time (s), cell, x/y/z (um); each variable with units;
        glucose (mM) along time; params=True adds per-cell parameters; root attributes as attrs."""
    def to_pandas(self, var: str = "c", form: str = "wide") -> Any:
        """pandas.DataFrame: "wide" time x cell (index time, columns cell), or "long" (time, cell, var) rows."""
    def _repr_html_(self) -> str: ...

ArrayLike = npt.ArrayLike

def simulate(config: Config, network: Optional[Network] = None, threads: Optional[int] = None,
             output: Optional[str] = None, *,
             params: Optional[Mapping[str, ArrayLike]] = None,
             initial: Optional[Mapping[str, ArrayLike]] = None,
             callback: Optional[Callable[[npt.NDArray[np.float64], dict[str, npt.NDArray[np.float64]]],
                                         Optional[bool]]] = None,
             callback_interval_s: Optional[float] = None,
             progress: Optional[bool] = None,
             continue_from: Optional[Union[Result, str, PathLike[str]]] = None,
             overwrite: bool = False) -> Result:
    """Run; releases the GIL. continue_from: go on from that result's end state (same run, longer);
    a path is loaded with load(). threads None = detect_cores(). output: also write the HDF5 file
    (an existing one is kept, FileExistsError, unless overwrite=True).

    params / initial: {name: (n_cells,) array}: per-cell parameter values / initial states,
    the final values (they replace the config's global value, cells.csv column and
    heterogeneity factors for that name). ValueError naming the entry and both lengths
    when the length is not n_cells; KeyError for an unknown name.
    callback(t, data): once per block of recorded samples (callback_interval_s long; None =
    the engine's block), t (n,) s, data {var: (n, n_cells)}, float64 copies; GIL held, on the
    engine's writer thread. Return True to stop the run; an exception stops it and propagates
    with .result.
    progress: a tqdm.auto bar in simulated seconds; None = on when stderr is a terminal or in a
    Jupyter kernel, off otherwise.
    Ctrl-C raises KeyboardInterrupt with .result (data so far); a blow-up raises SimulationError."""

class SweepTable(dict[str, np.ndarray]):
    """A sweep's results table (summary.csv) as NumPy columns, one row per task (sorted by task):
    task (int64), each swept key, status (str), wall_s, duty_cycle, frequency_hz, synchrony,
    window_from_s, window_to_s (float64), file (full path, str), message (str)."""
    keys_swept: list[str]
    out_dir: str
    table_path: str
    counts: dict[str, int]  # total, selected, skipped, ok, failed, interrupted
    wall_s: float
    @property
    def n_tasks(self) -> int: ...
    def load(self, task: int) -> Result:
        """The Result of task `task`, read from its file."""
    def results(self) -> Iterator[tuple[int, Result]]:
        """(task, Result) for every task with a result file."""

def sweep(config: Config, grid: Optional[Mapping[str, Sequence[Any]]] = None,
          zip: Optional[Mapping[str, Sequence[Any]]] = None, sample: Optional[Mapping[str, Any]] = None, *,
          out_dir: Union[str, PathLike[str]] = "sweep_out", executor: str = "threads",
          threads: Optional[int] = None, threads_per_task: int = 1, resume: bool = False,
          overwrite: bool = False, progress: bool = False, network: Optional[Network] = None) -> SweepTable:
    """Run a sweep with the C++ sweep engine, as `islet sweep` (bitwise identical task files).

    grid: cartesian product (first key slowest); zip: equal-length lists together;
    sample: {"method", "n", "seed", key: [low, high]}. executor "threads" or "serial";
    threads: cores in all (None = detect_cores()). network: a Network for every task instead
    of [network]. resume=True re-runs a finished task whose config changed (UserWarning
    saying why); an out_dir holding an earlier sweep's results is refused unless resume=True
    or overwrite=True (replace them); keys that cannot change results warn. Releases the GIL; Ctrl-C raises
    KeyboardInterrupt with .result (the table so far; resume=True continues)."""

def load(path: Union[str, PathLike[str]], vars: Optional[Union[str, Sequence[str]]] = None,
         window: Optional[tuple[Optional[float], Optional[float]]] = None,
         cells: Optional[Union[slice, Sequence[int], npt.ArrayLike]] = None, *,
         dtype: Optional[npt.DTypeLike] = None, lazy: bool = True) -> Result:
    """Read an isletsim HDF5 output (from `islet run` or Result.save), only the part asked for:
    vars (names), window (t0, t1) s with t0 <= t < t1, cells (slice, indices or boolean mask).
    dtype None keeps the stored type (float32 by default); lazy reads each variable on first use."""
