"""isletsim: simulate islets of coupled pancreatic beta cells (Bertram et al. 2007).

The C++ engine of the ``islet`` tool, from Python::

    import isletsim as isl
    cfg = isl.Config.default().set("sim.duration_s", 60)  # same keys as `islet run --set`
    cfg.heterogeneity("gKATP", cv=0.1)
    net = isl.Network.sphere(200, seed=1)                # or Network.lattice / from_csv / from_arrays
    res = isl.simulate(cfg, network=net, threads=2)
    t, c = res.time, res["c"]                            # s; (samples, cells) uM, float64
    res.save("run.h5"); again = isl.load("run.h5")       # the same files as `islet run`
    part = isl.load("run.h5", vars="c", window=(30, None), cells=slice(0, 50))  # reads only that
    ds = res.to_xarray(); df = res.to_pandas("c")        # xarray.Dataset (time, cell); DataFrame time x cell

    res = isl.simulate(cfg, network=net, params={"gKATP": g},   # per-cell arrays (final values)
                       initial={"V": v0}, callback=f)           # f(t, data) per block of samples
    tab = isl.sweep(cfg, grid={"coupling.gV": [0, 60, 120]}, out_dir="scan")  # as `islet sweep`
    tab["synchrony"], tab.load(2)                        # columns as NumPy arrays; task 2's Result
    a = isl.analyze(res, window=(200, 600), k_avg=8)     # the calcium analysis (docs/analysis.md)
    a.activity["relative_active_time"], a.network.edges, a.metrics["global_efficiency"], a.waves
    isl.plot.binary_raster(a); isl.plot.network(a); isl.plot.waves(a)

Units: time s, glucose mM, V mV, c uM, positions um, conductances pS (see params()).
"""
from __future__ import annotations

from collections import namedtuple as _namedtuple

from ._isletsim import (  # noqa: F401
    Config,
    InputError,
    Network,
    Result,
    SimulationError,
    __version__,
    config_keys,
    core_report,
    detect_cores,
)
from . import _isletsim, _jupyter, _signatures
from . import analysis, plot  # noqa: F401  (isl.analysis.duty_cycle(res), isl.plot.raster(res))
from ._jupyter import simulate  # noqa: F401
from ._load import load  # noqa: F401
from .analysis import Analysis, analyze, load_analysis  # noqa: F401

__all__ = [
    "Config", "Network", "Result", "InputError", "SimulationError", "simulate", "load", "sweep", "SweepTable",
    "analyze", "load_analysis", "Analysis", "models", "params", "states", "config_keys", "detect_cores", "core_report", "__version__",
]

for _cls in (Config, Network, Result, InputError, SimulationError):
    _cls.__module__ = "isletsim"  # isletsim.Config, not isletsim._isletsim.Config, in reprs and help()

# Signatures inspect reads (Jupyter's f?, help(), IDEs) for the compiled methods and functions.
for _cls in (Config, Network, Result):
    _signatures.wrap_class(_cls)
_signatures.wrap_functions(globals(), ["config_keys", "core_report", "detect_cores"])

Result.to_xarray = _jupyter.to_xarray
Result.to_pandas = _jupyter.to_pandas
Result._repr_html_ = _jupyter.result_html
Config._repr_html_ = _jupyter.config_html
Network._repr_html_ = _jupyter.network_html
Analysis._repr_html_ = _jupyter.analysis_html

Param = _namedtuple("Param", ["name", "unit", "default", "description"])
Param.__doc__ = "A model parameter: name, unit, default value, description."
State = _namedtuple("State", ["name", "unit", "initial", "description"])
State.__doc__ = "A state variable: name, unit, initial value, description."


def params(model: str = "bertram2007") -> list[Param]:
    """A model's parameter table (as `islet params --model NAME`): Param(name, unit, default, description)."""
    return [Param(*p) for p in _isletsim._params(model)]


def states(model: str = "bertram2007") -> list[State]:
    """A model's state variables: State(name, unit, initial, description); names usable in record.vars."""
    return [State(*s) for s in _isletsim._states(model)]


def models() -> list[dict]:
    """The cell models (as `islet models`): one dict each with name, title, citation, doi, n_states,
    n_params, coupling [(key, state, unit, default, description)], spike_state, spike_threshold,
    calcium, stimulus, dt_ms_rk4, dt_ms_euler. Pick one with Config.set("model.name", name)."""
    return list(_isletsim._models())


def _config_as_dict(self: Config) -> dict:
    """The resolved config as nested dicts ({section: {key: value}}), every key explicit
    (the model's defaults too), parsed from to_toml(every_key=True)."""
    import tomllib

    return tomllib.loads(self.to_toml(every_key=True))


def _config_get(self: Config, key: str):
    """The resolved value of 'section.key' (e.g. cfg.get('coupling.gV') -> 120.0). KeyError if absent."""
    section, _, name = key.partition(".")
    d = _config_as_dict(self)
    try:
        return d[section][name] if name else d[section]
    except KeyError:
        raise KeyError(key) from None


Config.as_dict = _config_as_dict
Config.get = _config_get


def _result_config(self: Result) -> Config:
    """The run's config as a Config (from the stored TOML)."""
    return Config.from_toml(self.config_toml, "<result config>")


Result.config = property(_result_config)


# ---------------------------------------------------------------- sweeps

_FLOAT_COLUMNS = ("wall_s", "duty_cycle", "frequency_hz", "synchrony", "window_from_s", "window_to_s")


class SweepTable(dict):
    """The results table of a sweep (out_dir/summary.csv) as a dict of NumPy columns.

    One entry per task of the table, sorted by task:

    - ``"task"``: task index, int64
    - one column per swept key (``"coupling.gV"``, ...): its values as the sweep engine
      reads them (int64, float64, bool or str arrays; a whole float such as 120.0 is
      written 120, as in summary.csv, so an all-whole column is int64)
    - ``"status"``: ``"ok"`` or ``"failed"`` (str array)
    - ``"wall_s"``, ``"duty_cycle"``, ``"frequency_hz"``, ``"synchrony"``: float64
      (metrics of c over the summary window, by default the second half of each run;
      NaN when not available; frequency_hz NaN when the islet has no common rhythm)
    - ``"window_from_s"``, ``"window_to_s"``: the summary window (times of its first
      and last samples; ``[summary] from_s, to_s`` of the config)
    - ``"file"``: the task's HDF5 file, full path (``""`` when there is none)
    - ``"message"``: why a task failed

    ``pandas.DataFrame(table)`` makes a data frame of it. Attributes: ``keys_swept``,
    ``out_dir``, ``table_path`` (the CSV), ``counts`` (total, selected, skipped, ok,
    failed, interrupted: as ``islet sweep`` reports), ``wall_s``; ``load(task)``
    reads one task's result.
    """

    keys_swept: list
    out_dir: str
    table_path: str
    counts: dict
    wall_s: float

    @property
    def n_tasks(self) -> int:
        """Rows of the table (len(table) is the number of columns, as for any dict)."""
        return len(self["task"])

    def load(self, task: int) -> Result:
        """The Result of task `task` (its index, as in the "task" column), read from its file."""
        rows = _np().flatnonzero(self["task"] == task)
        if len(rows) == 0:
            raise KeyError(f"task {task} is not in this table")
        path = self["file"][rows[0]]
        if not path:
            raise FileNotFoundError(f"task {task} has no result file (status {self['status'][rows[0]]}: "
                                    f"{self['message'][rows[0]]})")
        return load(path)

    def results(self):
        """Iterate over (task, Result) for every task with a result file."""
        for task, path in zip(self["task"], self["file"]):
            if path:
                yield int(task), load(path)

    def __repr__(self) -> str:
        c = self.counts
        return (f"<isletsim.SweepTable {self.n_tasks} task(s) over {', '.join(self.keys_swept)}: {c['ok']} ok, "
                f"{c['failed']} failed, {c['skipped']} skipped, {c['interrupted']} interrupted; {self.out_dir}>")


def _np():
    import numpy

    return numpy


def _read_table(info: dict) -> SweepTable:
    import csv
    import os

    np = _np()
    keys = list(info["keys"])
    points = info["points"]
    rows = []
    if os.path.exists(info["table"]):
        with open(info["table"], newline="") as f:
            rows = sorted(csv.DictReader(f), key=lambda r: int(r["task"]))
    t = SweepTable()
    t["task"] = np.array([int(r["task"]) for r in rows], dtype=np.int64)
    for k, key in enumerate(keys):
        values = [points[i][k] for i in t["task"]]
        t[key] = np.array(values) if values else np.array([], dtype=np.float64)
    t["status"] = np.array([r["status"] for r in rows], dtype=str)
    for name in _FLOAT_COLUMNS:
        t[name] = np.array([float(r.get(name) or "nan") for r in rows], dtype=np.float64)
    out_dir = info["out_dir"]
    t["file"] = np.array([os.path.join(out_dir, r["file"]) if r["file"] else "" for r in rows], dtype=str)
    t["message"] = np.array([r["message"] for r in rows], dtype=str)
    t.keys_swept = keys
    t.out_dir = out_dir
    t.table_path = info["table"]
    t.counts = dict(info["counts"])
    t.wall_s = info["wall_s"]
    return t


def sweep(config: Config, grid: dict | None = None, zip: dict | None = None, sample: dict | None = None, *,
          out_dir: str = "sweep_out", executor: str = "threads", threads: int | None = None,
          threads_per_task: int = 1, resume: bool = False, overwrite: bool = False, progress: bool = False,
          network: Network | None = None) -> SweepTable:
    """Run a parameter sweep of `config` with the C++ sweep engine, as `islet sweep`; returns a SweepTable.

    grid: {"section.key": [values]}: the cartesian product, first key slowest, e.g.
    ``{"coupling.gV": [0, 60, 120], "glucose.level": [8, 11]}`` (6 tasks).
    zip: {"section.key": [values]} lists of equal length taken together (one axis).
    sample: {"method": "lhs" | "random", "n": 20, "seed": 1, "section.key": [low, high], ...}.
    Tasks are the product of grid axes, zip and samples, numbered from 0 in that order
    (the [grid]/[zip]/[sample] tables of a sweep file, docs/sweeps.md; keys as Config.set,
    plus heterogeneity.<name>.cv / .dist). Every value is checked before anything runs
    (InputError naming the key).

    out_dir: where task_<i>.h5 and summary.csv go (created). executor: "threads"
    (tasks in parallel) or "serial". threads: cores to use in all (None = detect_cores(),
    as ``islet sweep -j``); threads_per_task: threads per simulation (results do not
    depend on it). resume: skip tasks already done in out_dir (``--resume``) whose file's
    task hash is still the task's; a task whose config changed since it ran is run again
    (a UserWarning says which and why). An out_dir holding an earlier sweep's results is
    refused (InputError) unless resume=True, or overwrite=True (run every task again and
    replace them): data already simulated is never lost by accident.
    progress: progress line and failure messages on stderr.
    network: a Network every task runs on instead of the config's [network] (as simulate).
    Swept keys that cannot change some results (a glucose key the glucose mode does not
    use, record.* keys, tasks with identical configs, ...) give a UserWarning each.

    Each task's file is bitwise identical to the one ``islet sweep`` writes for the same
    base config (``config.to_toml()`` as base) and axes; failed tasks have status
    "failed" and a message (the others still run). The GIL is released while it runs;
    Ctrl-C starts no new task, stops the running ones and raises KeyboardInterrupt with
    .result holding the table of the tasks finished (``resume=True`` continues).
    """
    if executor not in ("serial", "threads"):
        raise InputError(f"isl.sweep: executor must be 'serial' or 'threads', got {executor!r} "
                         "(for MPI, write a sweep file and run `mpirun -n N islet sweep sweep.toml`)")
    threads = _jupyter.threads_arg(threads)
    threads_per_task = _jupyter.threads_arg(threads_per_task, "threads_per_task")
    if threads_per_task is None:
        raise TypeError("threads_per_task: expected a whole number of threads (int), got None")
    if resume and overwrite:
        raise ValueError("isl.sweep: resume=True (go on with the results in out_dir) and overwrite=True (replace "
                         "them) exclude each other")
    info = _isletsim._sweep(config, grid, zip, sample, str(out_dir), executor, threads, threads_per_task,
                            resume, overwrite, progress, network)
    if info["reruns"]:
        import warnings

        warnings.warn("isl.sweep(resume=True): " + "\n".join(info["reruns"]), UserWarning, stacklevel=2)
    table = _read_table(info)
    err = info["error"]
    if err is not None:
        err.result = table
        raise err
    return table


SweepTable.__module__ = "isletsim"
SweepTable._repr_html_ = _jupyter.sweep_html


def __getattr__(name):
    # isl.figures on first use (importing it here would make `python3 -m isletsim.figures`,
    # which islet analyze runs, warn that the module was imported twice).
    if name == "figures":
        import importlib

        return importlib.import_module(".figures", __name__)
    raise AttributeError(f"module 'isletsim' has no attribute {name!r}")
