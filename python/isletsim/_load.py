"""isl.load: a run's HDF5 file, or the part of it asked for, read when used."""
from __future__ import annotations

import math
import os
from numbers import Real

from . import _isletsim


def _vars(vars) -> list | None:
    if vars is None:
        return None
    if isinstance(vars, str):
        return [vars]
    try:
        names = list(vars)
    except TypeError:
        raise TypeError(f"vars: expected a variable name or a list of names, got {type(vars).__name__}") from None
    for k, v in enumerate(names):
        if not isinstance(v, str):
            raise TypeError(f"vars: expected variable names (str), got {v!r}")
        if v in names[:k]:
            raise ValueError(f"vars: variable '{v}' is listed twice (name each variable once)")
    return names


def _window(window) -> tuple[float, float]:
    """(t0, t1) in s, None ends open; samples with t0 <= t < t1."""
    if window is None:
        return -math.inf, math.inf
    try:
        t0, t1 = window
    except (TypeError, ValueError):
        raise ValueError(f"window: expected (t0, t1) in seconds (None for an open end), got {window!r}") from None
    ends = []
    for name, t, open_end in (("t0", t0, -math.inf), ("t1", t1, math.inf)):
        if t is None:
            ends.append(open_end)
        elif isinstance(t, Real) and not isinstance(t, bool) and not math.isnan(t):
            ends.append(float(t))
        else:
            raise ValueError(f"window: {name} must be a number of seconds or None, got {t!r}")
    if not ends[0] < ends[1]:
        raise ValueError(f"window: expected t0 < t1 (s), got ({t0!r}, {t1!r})")
    return ends[0], ends[1]


def _cells(cells, path: str) -> list | None:
    """The file's cell indices for a slice, a list/array of indices or a boolean mask."""
    if cells is None:
        return None
    import numpy as np

    n = _isletsim._file_shape(path)[1]
    if isinstance(cells, (int, np.integer)) and not isinstance(cells, bool):
        cells = [cells]
    if not isinstance(cells, slice):
        cells = np.asarray(cells)
        if cells.dtype == bool:
            if cells.shape != (n,):
                raise ValueError(f"cells: a boolean mask needs one value per cell ({n}), got shape {cells.shape}")
        elif cells.size == 0:
            cells = cells.astype(np.int64)
        elif cells.ndim != 1 or not np.issubdtype(cells.dtype, np.integer):
            raise TypeError("cells: expected a slice, a 1-D list/array of cell indices or a boolean mask, "
                            f"got {cells.ndim}-D {cells.dtype} values")
        elif ((cells < -n) | (cells >= n)).any():
            bad = cells[(cells < -n) | (cells >= n)][0]
            raise ValueError(f"cells: index {bad} is out of range: '{path}' has {n} cells (0..{n - 1})")
    return np.arange(n)[cells].tolist()


def _dtype(dtype) -> bool | None:
    """True: float32, False: float64, None: as stored."""
    if dtype is None:
        return None
    import numpy as np

    try:
        d = np.dtype(dtype)
    except TypeError:
        d = None
    if d == np.float32:
        return True
    if d == np.float64:
        return False
    raise ValueError(f"dtype: expected None (as stored), 'float32' or 'float64', got {dtype!r}")


def load(path, vars=None, window=None, cells=None, *, dtype=None, lazy=True):
    """Read an isletsim HDF5 output (``islet run``, ``simulate(output=)``, ``Result.save``) into a Result.

    Only what is asked for is read, with HDF5 hyperslab selections:

    - vars: a variable name or a list of them (None: every recorded variable), in that order,
      each once. KeyError naming the recorded ones for a variable the file does not have.
    - window: (t0, t1) in seconds: the samples with ``t0 <= t < t1`` (None for an open end:
      ``(60, None)`` is everything from 60 s on). ``res.first_sample`` is the file's index of
      the first sample read.
    - cells: a slice, a list/array of cell indices (any order, each once; negative counts from
      the end) or a boolean mask with one value per cell. ``res.cells`` holds the file's index of
      each cell read; positions, per-cell parameters and the edges between the cells read (numbered
      as in ``res.cells``) follow the selection.
    - dtype: None (default) keeps the stored type (float32 for the default ``record.dtype``: half
      the memory of float64, the exact stored values); ``"float64"`` converts (as NumPy's
      ``astype``), ``"float32"`` too.
    - lazy: True (default) reads each variable's samples on first use (``res["c"]``), so loading is
      instant and unused variables cost nothing; ``res.in_memory`` lists those read.
      False reads everything now. A lazy Result whose file has been replaced or changed since
      raises RuntimeError when it reads (a file still being written only grows: the samples
      loaded, ``len(time)`` at load time, stay readable).

    Raises FileNotFoundError (no file), InputError (a ValueError: not a run file; a cell index out
    of range or repeated), ValueError or TypeError (a bad window, cells or dtype, naming it).
    """
    path = os.fspath(path)
    v = _vars(vars)
    t0, t1 = _window(window)
    f32 = _dtype(dtype)
    if cells is not None and not os.path.exists(path):
        raise FileNotFoundError(f"cannot open '{path}' as an isletsim output file: no such file")
    c = _cells(cells, path)
    return _isletsim._load(path, v, t0, t1, c, f32, bool(lazy))
