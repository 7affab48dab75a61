"""The islet calcium-analysis pipeline (docs/analysis.md), and the older quick measures.

``isl.analyze(res)`` runs the whole pipeline in C++ (the same code as ``islet
analyze``) and returns an :class:`Analysis`; ``isl.plot.*`` draws it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Per-cell activity columns, in the order of the per-cell CSV.
ACTIVITY_COLUMNS = ("relative_active_time", "frequency_hz", "mean_duration_s", "mean_interval_s", "interval_cv",
                    "n_oscillations", "first_onset_s", "response_latency_s", "time_to_plateau_s")
# Per-cell functional-network columns.
NETWORK_COLUMNS = ("degree", "normalized_degree", "clustering", "betweenness", "closeness", "hub", "community")
# Per-cell wave columns.
WAVE_COLUMNS = ("initiated", "participated", "mean_rank", "rank_sd")


@dataclass
class Wave:
    """One calcium wave: onsets grouped in time and space (docs/analysis.md, "Waves")."""

    start_s: float            # first onset (s)
    duration_s: float         # last onset - first onset (s)
    speed_um_s: float         # distance from the origin against delay, least squares through 0 (um/s)
    origin: int               # the earliest cell
    cells: np.ndarray         # cell ids in activation order
    delays_s: np.ndarray      # onset - start_s, per entry of cells
    initiators: np.ndarray    # the earliest initiator_fraction of cells
    relative_size: float      # cells / analysed cells


@dataclass
class FunctionalNetwork:
    """The thresholded functional network: edges (m, 2) with i < j, and per-cell measures."""

    edges: np.ndarray                          # (m, 2) uint32
    threshold: float                           # similarity at or above which a pair is an edge
    cells: dict = field(default_factory=dict)  # NETWORK_COLUMNS -> (n,) arrays

    @property
    def n_edges(self) -> int:
        return int(len(self.edges))

    def to_networkx(self):
        """The network as a networkx.Graph (every analysed cell a node)."""
        import networkx as nx

        g = nx.Graph()
        g.add_nodes_from(range(len(next(iter(self.cells.values()))) if self.cells else 0))
        g.add_edges_from(map(tuple, np.asarray(self.edges, dtype=np.int64)))
        return g


@dataclass
class Analysis:
    """What ``isl.analyze`` computed (and what ``<run>.analysis.h5`` holds).

    Arrays are NumPy; matrices are (samples, cells) like ``Result[var]``.
    """

    source: str                      # the file or "<memory>"
    variable: str                    # the analysed variable ("c")
    options: dict                    # every option used (the [analysis] keys)
    time: np.ndarray                 # (samples,) s, the analysed window at the analysis rate
    rate_hz: float
    signal: np.ndarray               # (samples, cells) the preprocessed signal that was binarised
    binary: np.ndarray               # (samples, cells) uint8, 1 = active
    excluded: np.ndarray             # (cells,) bool: flat or broken traces, left out
    positions: np.ndarray | None     # (cells, 3) um, or None
    activity: dict                   # ACTIVITY_COLUMNS -> (cells,) arrays
    onsets: list                     # per cell, onset times (s)
    stimulus_s: float                # the glucose step (s) responses are timed from, or NaN
    corr: np.ndarray                 # (cells, cells) Pearson correlation of the signal
    coactivity: np.ndarray           # (cells, cells)
    by_distance: dict                # bin_lo_um, mean, sd, pairs: similarity against distance
    network: FunctionalNetwork
    waves: list                      # of Wave
    wave_cells: dict                 # WAVE_COLUMNS -> (cells,) arrays
    metrics: dict                    # global measures by name (the summary row)
    glucose: tuple | None = None     # (time s, glucose mM) of the whole recording, or None
    structural_edges: np.ndarray | None = None  # (k, 2) gap-junction edges, or None

    @property
    def n_cells(self) -> int:
        return int(self.binary.shape[1])

    @property
    def n_samples(self) -> int:
        return int(self.binary.shape[0])

    def cells_table(self) -> dict:
        """Per-cell columns (as the per-cell CSV): cell, x, y, z, excluded, activity, network, wave columns."""
        n = self.n_cells
        t = {"cell": np.arange(n)}
        if self.positions is not None:
            for k, axis in enumerate("xyz"):
                t[axis] = self.positions[:, k]
        t["excluded"] = self.excluded.astype(bool)
        for name in ACTIVITY_COLUMNS:
            t[name] = self.activity[name]
        for name in NETWORK_COLUMNS:
            t[name] = self.network.cells[name]
        for name in WAVE_COLUMNS:
            t[name] = self.wave_cells[name]
        return t

    def to_pandas(self):
        """Per-cell pandas.DataFrame indexed by cell (needs pandas)."""
        import pandas as pd

        return pd.DataFrame(self.cells_table()).set_index("cell")

    def waves_table(self) -> dict:
        """One row per wave: start_s, duration_s, speed_um_s, origin, size, relative_size."""
        w = self.waves
        return {
            "wave": np.arange(len(w)),
            "start_s": np.array([x.start_s for x in w], dtype=float),
            "duration_s": np.array([x.duration_s for x in w], dtype=float),
            "speed_um_s": np.array([x.speed_um_s for x in w], dtype=float),
            "origin": np.array([x.origin for x in w], dtype=np.int64),
            "size": np.array([len(x.cells) for x in w], dtype=np.int64),
            "relative_size": np.array([x.relative_size for x in w], dtype=float),
        }

    def __repr__(self) -> str:
        m = self.metrics
        return (f"<isletsim.Analysis of {self.variable} in {self.source}: {self.n_cells} cells x {self.n_samples} "
                f"samples at {self.rate_hz:g} Hz; {self.network.n_edges} functional edges (threshold "
                f"{self.network.threshold:.4g}), {len(self.waves)} wave(s); relative active time "
                f"{m.get('relative_active_time', float('nan')):.3f}>")


def _toml_value(key: str, v) -> str:
    """A Python value as the TOML of ``--set analysis.<key>=<value>``."""
    import math

    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            raise ValueError(f"analysis.{key}: expected a finite number, got {v}")
        return repr(float(v))
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(key, x) for x in v) + "]"
    raise TypeError(f"analysis.{key}: cannot use a {type(v).__name__} as an option value")


def _sets(window, options: dict) -> list:
    sets = []
    if window is not None:
        try:
            lo, hi = window
        except (TypeError, ValueError):
            raise ValueError(f"window: expected (t0, t1) in seconds (None for an open end), got {window!r}") from None
        if lo is not None:
            sets.append(f"analysis.from_s={_toml_value('from_s', lo)}")
        if hi is not None:
            sets.append(f"analysis.to_s={_toml_value('to_s', hi)}")
    for k, v in options.items():
        if v is not None:
            sets.append(f"analysis.{k}={_toml_value(k, v)}")
    return sets


def _from_dict(d: dict) -> Analysis:
    import tomllib

    waves = [Wave(w["start_s"], w["duration_s"], w["speed_um_s"], int(w["origin"]), w["cells"], w["delays_s"],
                  w["initiators"], w["relative_size"]) for w in d["waves"]]
    return Analysis(
        source=d["source"], variable=d["variable"], options=tomllib.loads(d["options_toml"])["analysis"],
        time=d["time"], rate_hz=d["rate_hz"], signal=d["signal"], binary=d["binary"],
        excluded=np.asarray(d["excluded"]).astype(bool), positions=d["positions"], activity=d["activity"],
        onsets=list(d["onsets"]), stimulus_s=d["stimulus_s"], corr=d["corr"], coactivity=d["coactivity"],
        by_distance=d["by_distance"], network=FunctionalNetwork(d["edges"], d["threshold"], d["network"]),
        waves=waves, wave_cells=d["wave_cells"], metrics=dict(d["metrics"]), glucose=d["glucose"],
        structural_edges=d["structural_edges"])


def analyze(source, *, window: tuple | None = None, k_avg: float | None = None, threshold: float | None = None,
            binarize: str | None = None, band: str | None = None, variable: str | None = None,
            stimulus_s: float | None = None, positions=None, sampling_hz: float = 0.0, time_column: bool = False,
            time=None, threads: int | None = None, **options) -> Analysis:
    """Run the analysis pipeline (docs/analysis.md) on a run or a recorded islet; returns an :class:`Analysis`.

    source: a :class:`isletsim.Result` (from ``simulate`` or ``load``), the path of a run's ``.h5``
    file, the path of a recorded islet (text: one row per time point, one column per cell), or a
    2-D array (samples, cells): a NumPy array or anything ``numpy.asarray`` makes one of (a list of
    rows), with ``time=`` (s) or ``sampling_hz=`` (a positive number).

    Options start from the run's stored ``[analysis]`` table (the defaults for other sources);
    the keywords override them: ``window=(from_s, to_s)`` (s; None ends = the whole recording),
    ``k_avg`` (average degree of the functional network, default 8), ``threshold`` (a fixed
    similarity threshold instead), ``binarize`` ("half_amplitude", "slope", "prominence"),
    ``band`` ("raw", "fast", "slow"), ``variable`` (default "c"), ``stimulus_s`` (default: the
    glucose step in the data), and any other ``[analysis]`` key as a keyword (``wave_dt_s=1``).

    positions: cell positions in um, a path to an "x y [z]" text file (one row per cell, in cell
    order) or an array (cells, 2|3). A recording has none unless given; a Result or a run file
    holds its own, which positions given replace (e.g. a 2-D projection, as an imaging plane sees
    the islet; the structural network stays the run's). Not one per cell: InputError.
    Times: a recording file's first column, or ``sampling_hz`` when it has none (``time_column=True``:
    it has one anyway); an array's ``time=`` or ``sampling_hz``. Given both (a time column and
    ``sampling_hz``, or ``time=`` and ``sampling_hz``), they must agree: a step of the times more than
    0.1% off ``1 / sampling_hz`` raises InputError. A Result or a run file holds its own times:
    ``sampling_hz``, ``time_column`` or ``time`` with one raises InputError, as does any of them with a
    source it does not apply to (none is ignored).
    threads: BLAS threads for the matrix products, 1 or more (None: the library's default); checked as
    simulate checks it (TypeError for a non-integer, ValueError below 1, InputError above the limit).

    Bad input raises isletsim.InputError (a ValueError) naming the key or the file; a file that
    does not exist raises FileNotFoundError (as ``load``), a source of another type TypeError.
    """
    import math
    import os

    from . import _isletsim
    from ._isletsim import Result
    from ._jupyter import threads_arg

    threads = threads_arg(threads)
    try:
        sets = _sets(window, dict(options, k_avg=k_avg, threshold=threshold, binarize=binarize, band=band,
                                  variable=variable, stimulus_s=stimulus_s))
    except ValueError as e:
        raise _isletsim.InputError(str(e)) from None
    if sampling_hz is not None and not isinstance(sampling_hz, bool) and sampling_hz != 0:
        try:
            hz = float(sampling_hz)
        except (TypeError, ValueError):
            hz = math.nan
        if not (math.isfinite(hz) and hz > 0):
            raise _isletsim.InputError(f"sampling_hz: expected a positive, finite number of samples per second, "
                                       f"got {sampling_hz!r}")
    # Which times each kind of source takes: a keyword it cannot use is refused, never ignored.
    if isinstance(source, Result):
        kind, times = "result", "a Result holds its own times"
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        kind = "run" if path.endswith(".h5") else "recording"
        times = (f"'{path}' is a run file, which holds its own times" if kind == "run" else
                 f"the times of the recording '{path}' are its first column, or sampling_hz=")
    else:
        kind, times = "array", "an array's times are time= or sampling_hz="
    applies = {"result": (), "run": (), "recording": ("sampling_hz=", "time_column="),
               "array": ("sampling_hz=", "time=")}[kind]
    stray = [name for name, on in (("sampling_hz=", bool(sampling_hz)), ("time_column=", bool(time_column)),
                                   ("time=", time is not None)) if on and name not in applies]
    if stray:
        raise _isletsim.InputError(f"analyze: {' and '.join(stray)} cannot be used here: {times}")
    pos_path = os.fspath(positions) if isinstance(positions, (str, os.PathLike)) else ""
    if kind == "result":
        _, var = _isletsim._analysis_options(source.config_toml, "<result config>", sets)
        if var not in source.vars:
            raise _isletsim.InputError(f"variable '{var}' was not recorded (recorded: {', '.join(source.vars)}); "
                                       "record it with record.vars")
        if pos_path:
            positions = _isletsim._read_positions(pos_path, source.n_cells, source.path or "<memory>")
        pos = positions if positions is not None else source.positions
        pos = None if pos is not None and len(pos) == 0 else pos
        edges = source.edges if len(source.edges) else None
        d = _isletsim._analyze_arrays(source.time, source[var], source.glucose, pos, edges, source.config_toml, sets,
                                      source.path or "<memory>", threads)
    elif kind == "array":  # an array (samples, cells), or a list of rows
        try:
            data = np.asarray(source, dtype=np.float64)
        except (TypeError, ValueError):
            data = None
        if data is None:
            raise TypeError("analyze: source must be a Result, the path of a run file (.h5) or of a recording, "
                            f"or a 2-D array of numbers (samples, cells); got {type(source).__name__}")
        if data.ndim != 2:
            raise ValueError(f"analyze: a source array must be 2-D (samples, cells), got {data.ndim}-D")
        if time is None:
            if not sampling_hz:
                raise ValueError("analyze: give time= (s) or sampling_hz= with an array")
            time = np.arange(data.shape[0]) / float(sampling_hz)
        else:
            time = np.asarray(time, dtype=np.float64)
            # Both: they must agree, as a recording's time column and sampling_hz must.
            if sampling_hz and time.ndim == 1 and time.size >= 2:
                dt, hz = float(time[1] - time[0]), float(sampling_hz)
                if dt > 0 and math.isfinite(dt) and abs(1 / dt - hz) > 1e-3 * hz:
                    raise _isletsim.InputError(f"analyze: the step of time= ({dt:.6g} s) is {1 / dt:.6g} Hz, but "
                                               f"sampling_hz= is {hz:.6g}; give one of them, or both alike")
        if pos_path:
            positions = _isletsim._read_positions(pos_path, data.shape[1], "<array>")
        d = _isletsim._analyze_arrays(time, data, None, positions, None, "", sets, "<array>", threads)
    else:  # a run file or a recording: positions from a file are read (and checked) in C++
        pos_arr = None if pos_path else positions
        d = _isletsim._analyze_file(path, sets, pos_path, pos_arr, float(sampling_hz or 0.0), bool(time_column),
                                    threads)
    return _from_dict(d)


def load_analysis(path: str, signal: bool = True) -> Analysis:
    """Read an analysis file (``<run>.analysis.h5``, as ``islet analyze`` writes it) into an Analysis.

    When the file does not store the signal (it was the source's raw variable), ``signal`` is read from the
    source run file if it is still there, else left None. ``signal=False`` leaves it None (faster; the
    pictures do not need it).

    Raises FileNotFoundError (no file) or InputError (a ValueError: not an HDF5 file, or not an analysis file).
    """
    import os
    import tomllib

    import h5py

    from . import _isletsim

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"cannot open '{path}' as an isletsim analysis file: no such file")
    if os.path.isdir(path) or not h5py.is_hdf5(path):
        what = "a directory" if os.path.isdir(path) else "not an HDF5 file"
        raise _isletsim.InputError(f"cannot open '{path}' as an isletsim analysis file: {what}")
    with h5py.File(path, "r") as f:
        if f.attrs.get("kind") != "isletsim analysis":
            raise _isletsim.InputError(f"'{path}' is not an isletsim analysis file (no kind = 'isletsim analysis')")
        g = lambda name: np.asarray(f[name])  # noqa: E731
        n = int(f.attrs["n_cells"])
        time = g("time")
        want_signal = signal
        signal = g("signal").astype(np.float64) if want_signal and "signal" in f else None
        source = str(f.attrs["source"])
        variable = str(f.attrs["variable"])
        if want_signal and signal is None and os.path.exists(source) and source.endswith(".h5"):
            try:
                with h5py.File(source, "r") as s:
                    t = np.asarray(s["time"])
                    i0 = int(np.searchsorted(t, time[0] - 1e-9)) if len(time) else 0
                    signal = np.asarray(s["data"][variable][i0:i0 + len(time)], dtype=np.float64)
            except (OSError, KeyError):
                signal = None
        cell_t = g("onsets/time")
        cell_c = g("onsets/cell")
        onsets = [cell_t[cell_c == c] for c in range(n)]
        off = g("waves/offsets")
        ioff = g("waves/initiator_offsets")
        cells = g("waves/cells")
        delays = g("waves/delays_s")
        inits = g("waves/initiators")
        waves = [Wave(float(s), float(d), float(v), int(o), cells[off[w]:off[w + 1]], delays[off[w]:off[w + 1]],
                      inits[ioff[w]:ioff[w + 1]], float(r))
                 for w, (s, d, v, o, r) in enumerate(zip(g("waves/start_s"), g("waves/duration_s"),
                                                          g("waves/speed_um_s"), g("waves/origin"),
                                                          g("waves/relative_size")))]
        net = {k: g(f"network/{k}") for k in NETWORK_COLUMNS}
        return Analysis(
            source=source, variable=variable, options=tomllib.loads(str(f.attrs["options"]))["analysis"],
            time=time, rate_hz=float(f.attrs["rate_hz"]), signal=signal, binary=g("binary"),
            excluded=g("cells/excluded").astype(bool),
            positions=g("cells/position") if "cells/position" in f else None,
            activity={k: g(f"activity/{k}") for k in ACTIVITY_COLUMNS}, onsets=onsets,
            stimulus_s=float(f.attrs["stimulus_s"]), corr=g("corr"), coactivity=g("coactivity"),
            by_distance={k: g(f"by_distance/{k}") for k in ("bin_lo_um", "mean", "sd", "pairs")},
            network=FunctionalNetwork(g("network/edges"), float(f["network"].attrs["threshold"]), net),
            waves=waves, wave_cells={k: g(f"wave_cells/{k}") for k in WAVE_COLUMNS},
            metrics={k: float(v) for k, v in f["metrics"].attrs.items()},
            glucose=(g("glucose/time"), g("glucose/mM")) if "glucose" in f else None,
            structural_edges=g("structural/edges") if "structural" in f else None)


def duty_cycle(res, var: str = "c", from_s: float = 0.0) -> np.ndarray:
    """Per cell, the fraction of samples (t >= from_s) in which ``var`` is above
    half of that cell's own oscillation amplitude (min + 0.5 (max - min)).
    Flat traces give 0. Returns a float64 array of length n_cells. ValueError when
    from_s is not finite or no sample has t >= from_s."""
    return res.duty_cycle(var, from_s)


def synchrony(res, var: str = "c", from_s: float = 0.0) -> float:
    """Synchrony index: mean Pearson correlation of ``var`` over all cell pairs,
    using samples with t >= from_s (flat traces count as 0). ValueError when from_s
    is not finite or no sample has t >= from_s."""
    return res.synchrony(var, from_s)


def mean_trace(res, var: str = "c") -> tuple[np.ndarray, np.ndarray]:
    """(time in s, islet-mean of ``var`` at each sample)."""
    return np.asarray(res.time), np.asarray(res[var]).mean(axis=1)
