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


def duty_cycle(res, var: str = "c", from_s: float = 0.0) -> np.ndarray:
    """Per cell, the fraction of samples (t >= from_s) in which ``var`` is above
    half of that cell's own oscillation amplitude (min + 0.5 (max - min)).
    Flat traces give 0. Returns a float64 array of length n_cells."""
    return res.duty_cycle(var, from_s)


def synchrony(res, var: str = "c", from_s: float = 0.0) -> float:
    """Synchrony index: mean Pearson correlation of ``var`` over all cell pairs,
    using samples with t >= from_s (flat traces count as 0)."""
    return res.synchrony(var, from_s)


def mean_trace(res, var: str = "c") -> tuple[np.ndarray, np.ndarray]:
    """(time in s, islet-mean of ``var`` at each sample)."""
    return np.asarray(res.time), np.asarray(res[var]).mean(axis=1)
