"""Quick pictures of a run with matplotlib (imported only when called)."""
from __future__ import annotations

import numpy as np


def raster(res, var: str = "c", ax=None, order: str = "mean", cmap: str = "magma"):
    """Cells x time image of ``var`` (one row per cell).

    order: "mean" (rows sorted by the cell's mean value), "id" (cell ids), or
    "centre" (by distance from the islet's centre, when positions are known).
    Returns the matplotlib AxesImage; a colour bar is added beside ``ax``.
    """
    import matplotlib.pyplot as plt

    t = np.asarray(res.time)
    x = np.asarray(res[var])
    if order == "mean":
        rows = np.argsort(x.mean(axis=0))
    elif order == "centre":
        rows = np.argsort(np.linalg.norm(np.asarray(res.positions), axis=1))
    else:
        rows = np.arange(x.shape[1])
    if ax is None:
        ax = plt.gca()
    im = ax.imshow(x[:, rows].T, aspect="auto", origin="lower", extent=[t[0], t[-1], 0, x.shape[1]],
                   cmap=cmap, interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"cell (by {order})")
    cax = ax.inset_axes([1.005, 0.0, 0.012, 1.0])  # keeps a shared time axis aligned
    ax.figure.colorbar(im, cax=cax, label=var)
    return im


def mean_trace(res, var: str = "c", ax=None, **kwargs):
    """Line plot of the islet-mean of ``var`` against time; returns the line."""
    import matplotlib.pyplot as plt

    t = np.asarray(res.time)
    m = np.asarray(res[var]).mean(axis=1)
    if ax is None:
        ax = plt.gca()
    (line,) = ax.plot(t, m, **kwargs)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"mean {var}")
    return line
