"""Measures of islet activity from a run (field notes, "What users compute").

All take a :class:`isletsim.Result` (from ``simulate`` or ``load``) and use the
same C++ code as the sweep summary table, so numbers agree with
``summary.csv``.
"""
from __future__ import annotations

import numpy as np


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
