"""Pictures of a run and of its analysis, with matplotlib (imported only when called).

Run pictures take a Result (``raster``, ``mean_trace``); analysis pictures take an
:class:`isletsim.analysis.Analysis` (``isl.analyze(res)``) and draw what islet papers
show: the binarised raster, the correlation matrix, the functional network on the
cells' positions, its degree distribution, waves, leader cells, first-response
latencies and correlation against distance; ``sweep_heatmap`` / ``sweep_line`` draw a
metric over a sweep's table. Each function draws into ``ax`` (or ``fig`` for the
multi-panel ones) when given, else on a new figure of its own, and returns the
Axes, the Figure or the artist as its docstring says. ``isletsim.figures.make_all``
writes them all to files.

Units: time s, positions um, calcium uM, glucose mM, correlation Pearson r.
"""
from __future__ import annotations

import numpy as np

_PROJECTIONS = {"xy": (0, 1), "xz": (0, 2), "yz": (1, 2), "yx": (1, 0), "zx": (2, 0), "zy": (2, 1)}


# ---------------------------------------------------------------- helpers


def _new_axes(ax, figsize=(6.4, 4.8)):
    """``ax``, or the Axes of a new figure (constrained layout) when it is None."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _new_figure(fig, figsize):
    if fig is not None:
        return fig
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize, layout="constrained")


def _need_positions(a, what: str) -> np.ndarray:
    if a.positions is None:
        raise ValueError(f"isletsim.plot.{what}: cell positions are needed (this analysis has none)")
    return np.asarray(a.positions, dtype=float)


def _projection(projection: str) -> tuple[int, int]:
    try:
        return _PROJECTIONS[projection]
    except KeyError:
        raise ValueError(f"projection must be one of {', '.join(_PROJECTIONS)}, got {projection!r}") from None


def _kept(a) -> np.ndarray:
    """Bool mask of the analysed (not excluded) cells."""
    return ~np.asarray(a.excluded, dtype=bool)


def _no_data(ax, text: str):
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=12, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


def _community_colors(community: np.ndarray):
    """RGBA per cell: tab20 by community (cycled), grey for -1 (excluded)."""
    import matplotlib

    cmap = matplotlib.colormaps["tab20"]
    c = np.asarray(community, dtype=np.int64)
    colors = cmap(np.mod(c, 20) / 19.999)
    colors[c < 0] = (0.7, 0.7, 0.7, 1.0)
    return colors


def _similarity_label(a) -> str:
    return "coactivity" if str(a.options.get("similarity", "correlation")) == "coactivity" else "Pearson r"


# ---------------------------------------------------------------- a run (Result)


def raster(res, var: str = "c", ax=None, order: str = "mean", cmap: str = "magma"):
    """Cells x time image of ``var`` (one row per cell; time in s, ``var`` in its unit, c in uM).

    order: "mean" (rows sorted by the cell's mean value), "id" (cell ids), or
    "centre" (by distance from the islet's centre, the mean of the cell positions,
    nearest first; ValueError when there are no positions). Another order: ValueError.
    Draws on ``ax``, or on a new figure when ax is None. Returns the matplotlib
    AxesImage; a colour bar is added beside the axes.
    """
    if order not in ("mean", "id", "centre"):
        raise ValueError(f"order must be 'mean', 'id' or 'centre', got {order!r}")
    t = np.asarray(res.time)
    x = np.asarray(res[var])
    if order == "mean":
        rows = np.argsort(x.mean(axis=0))
    elif order == "centre":
        pos = getattr(res, "positions", None)
        pos = None if pos is None else np.asarray(pos, dtype=float)
        if pos is None or pos.ndim != 2 or len(pos) != x.shape[1]:
            raise ValueError("isletsim.plot.raster: order='centre' needs the cells' positions (this result has none)")
        # the islet's centre is the mean position (not the origin of the coordinates); ties by cell id
        rows = np.argsort(np.linalg.norm(pos - pos.mean(axis=0), axis=1), kind="stable")
    else:
        rows = np.arange(x.shape[1])
    ax = _new_axes(ax)
    im = ax.imshow(x[:, rows].T, aspect="auto", origin="lower", extent=[t[0], t[-1], 0, x.shape[1]],
                   cmap=cmap, interpolation="nearest")
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"cell (by {order})")
    cax = ax.inset_axes([1.005, 0.0, 0.012, 1.0])  # keeps a shared time axis aligned
    ax.figure.colorbar(im, cax=cax, label=var)
    return im


def mean_trace(res, var: str = "c", ax=None, **kwargs):
    """Line plot of the islet-mean of ``var`` against time (s); on ``ax``, or a new
    figure when ax is None. Returns the Line2D."""
    t = np.asarray(res.time)
    m = np.asarray(res[var]).mean(axis=1)
    ax = _new_axes(ax)
    (line,) = ax.plot(t, m, **kwargs)
    ax.set_xlabel("time (s)")
    ax.set_ylabel(f"mean {var}")
    return line


# ---------------------------------------------------------------- orders


def first_onsets(a) -> np.ndarray:
    """Per cell, its first onset in the analysed window (s, the data's time): the
    earliest of ``a.onsets``, else the first active sample of ``a.binary``; inf for a
    cell never active (and for excluded cells)."""
    t = np.asarray(a.time, dtype=float)
    b = np.asarray(a.binary)
    first = np.full(a.n_cells, np.inf)
    for c in range(a.n_cells):
        on = np.asarray(a.onsets[c], dtype=float) if c < len(a.onsets) else np.empty(0)
        on = on[np.isfinite(on)]
        if on.size:
            first[c] = on.min()
        else:
            active = np.flatnonzero(b[:, c])
            if active.size:
                first[c] = t[active[0]]
    first[~_kept(a)] = np.inf
    return first


def onset_order(a) -> np.ndarray:
    """Cell ids of the analysed cells ordered by first onset in the window (ties by
    id); cells never active come last; excluded cells are left out. The row order of
    :func:`binary_raster` (first row = earliest)."""
    kept = np.flatnonzero(_kept(a))
    first = first_onsets(a)[kept]
    return kept[np.lexsort((kept, first))]


def community_order(a) -> np.ndarray:
    """All cell ids ordered by community, then by decreasing degree, then id;
    excluded cells (community -1) last. The order of :func:`correlation_matrix`."""
    cells = a.network.cells
    n = a.n_cells
    com = np.asarray(cells.get("community", np.zeros(n)), dtype=np.int64)
    deg = np.asarray(cells.get("degree", np.zeros(n)), dtype=float)
    ids = np.arange(n)
    key_com = np.where((com < 0) | ~_kept(a), np.iinfo(np.int64).max, com)
    return ids[np.lexsort((ids, -deg, key_com))]


# ---------------------------------------------------------------- analysis pictures


def binary_raster(a, fig=None, cmap: str = "Greys", **style):
    """The binarised activity (1 = active) as a raster: time (s) across, one row per
    analysed cell ordered by first onset (:func:`onset_order`: earliest at the top,
    never-active cells last, excluded cells left out). When ``a.glucose`` is known, a
    small axis above shows the glucose protocol (mM) on the same time axis; the
    stimulus time is a dashed line. ``style`` goes to imshow.

    Draws into ``fig`` (a Figure or SubFigure) or a new figure. Returns the Figure;
    its raster is ``fig.axes[-1]`` (the glucose axis, if any, ``fig.axes[0]``).
    """
    fig = _new_figure(fig, (8, 5))
    t = np.asarray(a.time, dtype=float)
    rows = onset_order(a)
    dt = float(t[1] - t[0]) if len(t) > 1 else 1.0 / float(a.rate_hz or 1.0)
    if a.glucose is not None:
        ax_g, ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 4]})
        gt, gm = (np.asarray(v, dtype=float) for v in a.glucose)
        ax_g.plot(gt, gm, color="tab:orange", lw=1.5, drawstyle="steps-post")
        ax_g.set_ylabel("glucose (mM)")
        ax_g.tick_params(labelbottom=False)
        axes = (ax_g, ax)
    else:
        ax = fig.subplots()
        ax_g = None
        axes = (ax,)
    image = np.asarray(a.binary)[:, rows].T
    kw = dict(aspect="auto", origin="upper", interpolation="nearest", cmap=cmap, vmin=0, vmax=1)
    kw.update(style)
    ax.imshow(image, extent=[t[0], t[-1] + dt, len(rows), 0], **kw)
    ax.set_xlim(t[0], t[-1] + dt)
    if np.isfinite(a.stimulus_s):
        for x in axes:
            x.axvline(a.stimulus_s, ls="--", color="tab:red", lw=1, label="stimulus")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("cell (by first onset)")
    (ax_g if ax_g is not None else ax).set_title(
        f"Binarised {a.variable}: {len(rows)} cells ({int(np.count_nonzero(~_kept(a)))} excluded)")
    return fig


def correlation_matrix(a, order: str = "community", ax=None, cmap: str = "RdBu_r", **style):
    """Heatmap of the Pearson correlation matrix ``a.corr`` (colour -1 to 1, colour bar
    "Pearson r"). order: "community" (by community, then decreasing degree, excluded
    cells last: :func:`community_order`; community boundaries drawn) or "id".
    ``style`` goes to imshow. Returns the Axes (its image is ``ax.images[0]``)."""
    if order == "community":
        rows = community_order(a)
    elif order == "id":
        rows = np.arange(a.n_cells)
    else:
        raise ValueError(f"order must be 'community' or 'id', got {order!r}")
    ax = _new_axes(ax, (6, 5))
    m = np.asarray(a.corr, dtype=float)[np.ix_(rows, rows)]
    kw = dict(cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest", origin="upper")
    kw.update(style)
    n = len(rows)
    im = ax.imshow(m, extent=[0, n, n, 0], **kw)
    ax.figure.colorbar(im, ax=ax, label="Pearson r")
    if order == "community":
        com = np.asarray(a.network.cells.get("community", np.zeros(a.n_cells)), dtype=np.int64)[rows]
        com = np.where(_kept(a)[rows], com, -1)
        for b in np.flatnonzero(com[1:] != com[:-1]) + 1:
            ax.axhline(b, color="k", lw=0.6)
            ax.axvline(b, color="k", lw=0.6)
    label = "cell (by community, degree)" if order == "community" else "cell id"
    ax.set_xlabel(label)
    ax.set_ylabel(label)
    ax.set_title(f"Correlation of {a.variable} ({n} cells)")
    return ax


def network(a, projection: str = "xy", ax=None, color: str = "community", structural: bool = False, **style):
    """The functional network on the cells' positions (um) projected on two axes
    ("xy", "xz", "yz"): edges as a thin translucent LineCollection (gid
    "functional"), nodes sized by degree and coloured by community (color="community")
    or by degree (color="degree"), hubs ringed in red, excluded cells grey crosses.
    structural=True draws the gap-junction edges (``a.structural_edges``) in light grey
    underneath (gid "structural"). ``style`` goes to the node scatter.

    Raises ValueError when ``a.positions`` is None. Returns the Axes.
    """
    from matplotlib.collections import LineCollection

    pos = _need_positions(a, "network")
    i, j = _projection(projection)
    xy = pos[:, [i, j]]
    ax = _new_axes(ax, (6, 6))
    cells = a.network.cells
    kept = _kept(a)
    deg = np.asarray(cells.get("degree", np.zeros(a.n_cells)), dtype=float)
    if structural and a.structural_edges is not None and len(a.structural_edges):
        se = np.asarray(a.structural_edges, dtype=np.int64)
        lc_s = LineCollection(xy[se], colors="0.8", linewidths=0.6, zorder=0, label="gap junctions")
        lc_s.set_gid("structural")
        ax.add_collection(lc_s)
    e = np.asarray(a.network.edges, dtype=np.int64).reshape(-1, 2)
    lc = LineCollection(xy[e], colors="0.2", linewidths=0.5, alpha=0.35, zorder=1,
                        label=f"functional ({len(e)})")
    lc.set_gid("functional")
    ax.add_collection(lc)
    sizes = 12 + 60 * deg / max(deg[kept].max() if kept.any() else 1.0, 1.0)
    kw = dict(s=sizes[kept], edgecolors="none", zorder=2)
    if color == "community":
        kw["c"] = _community_colors(cells.get("community", np.zeros(a.n_cells)))[kept]
    elif color == "degree":
        kw.update(c=deg[kept], cmap="viridis")
    else:
        raise ValueError(f"color must be 'community' or 'degree', got {color!r}")
    kw.update(style)
    sc = ax.scatter(xy[kept, 0], xy[kept, 1], **kw)
    if color == "degree":
        ax.figure.colorbar(sc, ax=ax, label="degree")
    hub = np.asarray(cells.get("hub", np.zeros(a.n_cells)), dtype=bool) & kept
    if hub.any():
        ax.scatter(xy[hub, 0], xy[hub, 1], s=sizes[hub] + 90, facecolors="none", edgecolors="red",
                   linewidths=1.5, zorder=3, label=f"hubs ({int(hub.sum())})")
    if (~kept).any():
        ax.scatter(xy[~kept, 0], xy[~kept, 1], s=15, marker="x", color="0.6", zorder=2,
                   label=f"excluded ({int((~kept).sum())})")
    ax.autoscale_view()
    ax.set_aspect("equal", adjustable="datalim")
    ax.set_xlabel(f"{projection[0]} (um)")
    ax.set_ylabel(f"{projection[1]} (um)")
    ax.legend(loc="upper right", fontsize="small", framealpha=0.8)
    ax.set_title(f"Functional network: {len(e)} edges, threshold {a.network.threshold:.3g}")
    return ax


def degree_ccdf(degrees) -> tuple[np.ndarray, np.ndarray]:
    """(k, P(K >= k)) at each distinct degree k, ascending: the empirical complementary
    CDF of ``degrees`` (starts at 1, non-increasing)."""
    d = np.sort(np.asarray(degrees, dtype=float))
    d = d[np.isfinite(d)]
    k = np.unique(d)
    p = 1.0 - np.searchsorted(d, k, side="left") / max(len(d), 1)
    return k, p


def degree_distribution(a, fig=None, **style):
    """Degree distribution of the functional network (analysed cells): a histogram of
    degree (left) and the complementary CDF P(K >= k) on log-log axes (right; cells
    of degree 0 are not drawn there), with a least-squares line on log-log through
    the tail (k at or above the median degree, when it has >= 3 points), labelled
    with its slope. ``style`` goes to the CCDF markers. Returns the Figure."""
    fig = _new_figure(fig, (9, 4))
    ax_h, ax_c = fig.subplots(1, 2)
    deg = np.asarray(a.network.cells.get("degree", np.zeros(a.n_cells)), dtype=float)[_kept(a)]
    if deg.size == 0:
        _no_data(ax_h, "no analysed cells")
        _no_data(ax_c, "no analysed cells")
        return fig
    kmax = int(np.nanmax(deg))
    ax_h.hist(deg, bins=np.arange(kmax + 2) - 0.5, color="tab:blue", edgecolor="white")
    ax_h.set_xlabel("degree k")
    ax_h.set_ylabel("cells")
    ax_h.set_title(f"Degree ({len(deg)} cells, mean {deg.mean():.2f})")
    k, p = degree_ccdf(deg)
    pos = k > 0
    kw = dict(marker="o", ls="none", color="tab:blue", label="empirical")
    kw.update(style)
    ax_c.plot(k[pos], p[pos], **kw)
    ax_c.set_xscale("log")
    ax_c.set_yscale("log")
    tail = pos & (k >= np.median(deg))
    if np.count_nonzero(tail) >= 3:
        slope, icpt = np.polyfit(np.log(k[tail]), np.log(p[tail]), 1)
        kk = np.geomspace(k[tail].min(), k[tail].max(), 20)
        ax_c.plot(kk, np.exp(icpt) * kk ** slope, "--", color="tab:red",
                  label=f"tail fit: P ~ k^{slope:.2f}")
    ax_c.set_xlabel("degree k")
    ax_c.set_ylabel("P(K >= k)")
    ax_c.set_title("Complementary CDF")
    if pos.any():
        ax_c.legend(fontsize="small")
    else:
        _no_data(ax_c, "no edges")
    return fig


def _pick_wave(a, wave):
    if wave is None:
        return max(a.waves, key=lambda w: len(w.cells))
    if isinstance(wave, (int, np.integer)):
        return a.waves[int(wave)]
    return wave


def waves(a, wave=None, projection: str = "xy", fig=None, cmap: str = "viridis", **style):
    """Calcium waves in three panels: (1) the wave map: each cell's activation delay
    (s) in one wave (``wave``: an index into ``a.waves`` or a Wave; default the
    largest) as colour at its position (um, projected), the origin a star, initiators
    ringed, cells not in the wave light grey; (2) delay (s) against distance (um)
    from the origin with the wave's fitted speed (distance = speed x delay); (3) every
    wave's start time (s) against its relative size, the one drawn highlighted.
    With no waves, a figure saying "no waves". ``style`` goes to the map's scatter.

    Raises ValueError when ``a.positions`` is None. Returns the Figure.
    """
    pos = _need_positions(a, "waves")
    i, j = _projection(projection)
    fig = _new_figure(fig, (14, 4.4))
    if not a.waves:
        ax = fig.subplots()
        _no_data(ax, "no waves")
        ax.set_title(f"Waves of {a.variable}")
        return fig
    w = _pick_wave(a, wave)
    ax_m, ax_d, ax_s = fig.subplots(1, 3, gridspec_kw={"width_ratios": [1.2, 1, 1]})
    cells = np.asarray(w.cells, dtype=np.int64)
    delays = np.asarray(w.delays_s, dtype=float)
    xy = pos[:, [i, j]]
    others = np.setdiff1d(np.flatnonzero(_kept(a)), cells)
    ax_m.scatter(xy[others, 0], xy[others, 1], s=12, color="0.85", zorder=1)
    kw = dict(s=40, cmap=cmap, edgecolors="none", zorder=2)
    kw.update(style)
    sc = ax_m.scatter(xy[cells, 0], xy[cells, 1], c=delays, **kw)
    fig.colorbar(sc, ax=ax_m, label="activation delay (s)")
    ini = np.asarray(w.initiators, dtype=np.int64)
    if ini.size:
        ax_m.scatter(xy[ini, 0], xy[ini, 1], s=110, facecolors="none", edgecolors="k", linewidths=1.2,
                     zorder=3, label="initiators")
    ax_m.plot(xy[w.origin, 0], xy[w.origin, 1], marker="*", ms=18, color="tab:red", mec="k", ls="none",
              zorder=4, label="origin")
    ax_m.set_aspect("equal", adjustable="datalim")
    ax_m.set_xlabel(f"{projection[0]} (um)")
    ax_m.set_ylabel(f"{projection[1]} (um)")
    ax_m.legend(loc="upper right", fontsize="small", framealpha=0.8)
    k = next((n for n, x in enumerate(a.waves) if x is w), None)
    ax_m.set_title(f"Wave {'' if k is None else k} at {w.start_s:.1f} s: {len(cells)} cells")

    dist = np.linalg.norm(pos[cells] - pos[w.origin], axis=1)
    ax_d.plot(dist, delays, "o", color="tab:blue", ms=4)
    if np.isfinite(w.speed_um_s) and w.speed_um_s > 0 and dist.size:
        dd = np.linspace(0, dist.max(), 2)
        ax_d.plot(dd, dd / w.speed_um_s, "--", color="tab:red", label=f"speed {w.speed_um_s:.3g} um/s")
        ax_d.legend(fontsize="small")
    ax_d.set_xlabel("distance from origin (um)")
    ax_d.set_ylabel("activation delay (s)")
    ax_d.set_title("Delay against distance")

    tab = a.waves_table()
    ax_s.vlines(tab["start_s"], 0, tab["relative_size"], color="tab:blue", lw=2)
    ax_s.plot(tab["start_s"], tab["relative_size"], "o", color="tab:blue")
    ax_s.plot([w.start_s], [w.relative_size], "o", ms=10, mfc="none", mec="tab:red", mew=2)
    if a.time is not None and len(a.time):
        ax_s.set_xlim(float(a.time[0]), float(a.time[-1]))
    ax_s.set_ylim(0, 1.05)
    ax_s.set_xlabel("wave start (s)")
    ax_s.set_ylabel("relative size (fraction of cells)")
    ax_s.set_title(f"{len(a.waves)} wave(s)")
    return fig


def leaders(a, projection: str = "xy", top: int = 10, fig=None, cmap: str = "viridis_r", **style):
    """Leader cells in two panels: (1) on the cells' positions (um, projected), marker
    size = waves initiated, colour = mean activation rank (0 first, 1 last; grey when
    the cell took part in no wave); (2) a bar chart of the ``top`` cells by waves
    initiated. ``style`` goes to the map's scatter.

    Raises ValueError when ``a.positions`` is None. Returns the Figure.
    """
    pos = _need_positions(a, "leaders")
    i, j = _projection(projection)
    fig = _new_figure(fig, (11, 4.6))
    ax_m, ax_b = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1.3, 1]})
    wc = a.wave_cells
    kept = _kept(a)
    ini = np.nan_to_num(np.asarray(wc.get("initiated", np.zeros(a.n_cells)), dtype=float))
    rank = np.asarray(wc.get("mean_rank", np.full(a.n_cells, np.nan)), dtype=float)
    xy = pos[:, [i, j]]
    sizes = 10 + 140 * ini / max(ini.max(), 1.0)
    norank = kept & ~np.isfinite(rank)
    ax_m.scatter(xy[norank, 0], xy[norank, 1], s=sizes[norank], color="0.8", zorder=1)
    has = kept & np.isfinite(rank)
    kw = dict(s=sizes[has], c=rank[has], cmap=cmap, vmin=0, vmax=1, edgecolors="k", linewidths=0.3, zorder=2)
    kw.update(style)
    sc = ax_m.scatter(xy[has, 0], xy[has, 1], **kw)
    fig.colorbar(sc, ax=ax_m, label="mean activation rank (0 first)")
    ax_m.set_aspect("equal", adjustable="datalim")
    ax_m.set_xlabel(f"{projection[0]} (um)")
    ax_m.set_ylabel(f"{projection[1]} (um)")
    ax_m.set_title(f"Leaders: size = waves initiated ({len(a.waves)} waves)")
    ids = np.flatnonzero(kept & (ini > 0))
    ids = ids[np.lexsort((ids, -ini[ids]))][:top]
    if ids.size:
        ax_b.bar(np.arange(ids.size), ini[ids], color="tab:blue")
        ax_b.set_xticks(np.arange(ids.size), [str(c) for c in ids])
    else:
        _no_data(ax_b, "no wave initiators")
    ax_b.set_xlabel("cell")
    ax_b.set_ylabel("waves initiated")
    ax_b.set_title(f"Top {ids.size} initiators")
    return fig


def latency_histogram(a, ax=None, bins="auto", **style):
    """Histogram of each analysed cell's first-response latency (s after the stimulus,
    ``activity["response_latency_s"]``), the median a dashed line. With no latency
    (no stimulus, or no cell responded), a text says so. ``style`` goes to hist.
    Returns the Axes."""
    ax = _new_axes(ax)
    lat = np.asarray(a.activity["response_latency_s"], dtype=float)[_kept(a)]
    lat = lat[np.isfinite(lat)]
    ax.set_xlabel("response latency (s after stimulus)")
    ax.set_ylabel("cells")
    if lat.size == 0:
        _no_data(ax, "no stimulus" if not np.isfinite(a.stimulus_s) else "no cell responded")
        ax.set_title("First-response latency")
        return ax
    kw = dict(bins=bins, color="tab:blue", edgecolor="white")
    kw.update(style)
    ax.hist(lat, **kw)
    med = float(np.median(lat))
    ax.axvline(med, ls="--", color="tab:red", label=f"median {med:.3g} s")
    ax.legend(fontsize="small")
    stim = f" (stimulus at {a.stimulus_s:.4g} s)" if np.isfinite(a.stimulus_s) else ""
    ax.set_title(f"First-response latency of {lat.size} cells{stim}")
    return ax


def correlation_distance(a, ax=None, **style):
    """Similarity (Pearson r, or coactivity when the network used it) against the
    distance between the two cells (um): ``a.by_distance`` mean per distance bin, at
    the bin's centre, with a +/- SD band; empty bins left out. ``style`` goes to the
    line. Returns the Axes."""
    ax = _new_axes(ax)
    bd = a.by_distance or {}
    lo = np.asarray(bd.get("bin_lo_um", []), dtype=float)
    mean = np.asarray(bd.get("mean", []), dtype=float)
    sd = np.asarray(bd.get("sd", np.full(lo.shape, np.nan)), dtype=float)
    pairs = np.asarray(bd.get("pairs", np.ones(lo.shape)), dtype=float)
    ylabel = _similarity_label(a)
    ax.set_xlabel("distance between cells (um)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{ylabel} against distance")
    ok = np.isfinite(mean) & (pairs > 0)
    if not ok.any():
        _no_data(ax, "no distance profile (needs positions)")
        return ax
    if len(lo) > 1:
        width = float(np.median(np.diff(lo)))
    else:
        width = float(a.options.get("distance_bin_um", 0.0) or 0.0)
    x = lo + width / 2
    sd = np.nan_to_num(sd)
    ax.fill_between(x[ok], (mean - sd)[ok], (mean + sd)[ok], color="tab:blue", alpha=0.2, label="+/- SD")
    kw = dict(marker="o", color="tab:blue", label="mean")
    kw.update(style)
    ax.plot(x[ok], mean[ok], **kw)
    ax.axhline(0, color="0.6", lw=0.6)
    ax.legend(fontsize="small")
    return ax


# ---------------------------------------------------------------- sweeps


def _column(table, name) -> np.ndarray:
    try:
        return np.asarray(table[name])
    except KeyError:
        raise KeyError(f"the table has no column {name!r}") from None


def _tick_label(v) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def sweep_grid(table, metric: str, x: str, y: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(xs, ys, Z): the sorted unique values of columns ``x`` and ``y`` of ``table`` (a
    dict of equal-length columns, or a pandas DataFrame), and Z[row of y, column of x]
    = the mean of ``metric`` over the table rows with those values (NaN values
    ignored); NaN where no row (or only NaN) has the combination."""
    xv, yv = _column(table, x), _column(table, y)
    mv = np.asarray(_column(table, metric), dtype=float)
    xs, xi = np.unique(xv, return_inverse=True)
    ys, yi = np.unique(yv, return_inverse=True)
    total = np.zeros((len(ys), len(xs)))
    count = np.zeros((len(ys), len(xs)))
    ok = np.isfinite(mv)
    np.add.at(total, (yi[ok], xi[ok]), mv[ok])
    np.add.at(count, (yi[ok], xi[ok]), 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return xs, ys, z


def sweep_heatmap(table, metric: str, x: str, y: str, ax=None, cmap: str = "viridis", annotate: bool = True,
                  **style):
    """Heatmap of ``metric`` over a sweep: columns = the unique values of key ``x``,
    rows = those of key ``y`` (ascending upwards), each cell the mean of the table rows
    sharing the pair (:func:`sweep_grid`); missing combinations masked (blank).
    ``table``: a dict of equal-length NumPy columns (a SweepTable, an analysis table)
    or a pandas DataFrame. annotate writes the values in the cells. ``style`` goes to
    imshow. Returns the Axes (its image is ``ax.images[0]``, a masked array)."""
    xs, ys, z = sweep_grid(table, metric, x, y)
    ax = _new_axes(ax, (max(4.5, 1.0 + 0.7 * len(xs)), max(3.5, 1.0 + 0.5 * len(ys))))
    kw = dict(cmap=cmap, origin="lower", aspect="auto", interpolation="nearest")
    kw.update(style)
    im = ax.imshow(np.ma.masked_invalid(z), **kw)
    ax.figure.colorbar(im, ax=ax, label=metric)
    ax.set_xticks(np.arange(len(xs)), [_tick_label(v) for v in xs])
    ax.set_yticks(np.arange(len(ys)), [_tick_label(v) for v in ys])
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    if annotate and z.size <= 400:
        finite = z[np.isfinite(z)]
        mid = 0.5 * (finite.min() + finite.max()) if finite.size else 0.0
        for (r, c), v in np.ndenumerate(z):
            if np.isfinite(v):
                ax.text(c, r, f"{v:.3g}", ha="center", va="center", fontsize="x-small",
                        color="white" if v < mid else "black")
    ax.set_title(f"{metric} over {x} and {y}")
    return ax


def sweep_line(table, metric: str, x: str, ax=None, **style):
    """``metric`` against one swept key ``x``: the mean over the table rows sharing each
    value of x (NaN values ignored), with the rows themselves as faint points. Numeric
    keys on a numeric axis, others as categories. Returns the Axes."""
    xv = _column(table, x)
    mv = np.asarray(_column(table, metric), dtype=float)
    xs, xi = np.unique(xv, return_inverse=True)
    sums = np.bincount(xi, weights=np.where(np.isfinite(mv), mv, 0.0), minlength=len(xs))
    counts = np.bincount(xi, weights=np.isfinite(mv).astype(float), minlength=len(xs))
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    ax = _new_axes(ax)
    numeric = np.issubdtype(xs.dtype, np.number)
    pos = xs.astype(float) if numeric else np.arange(len(xs), dtype=float)
    ax.plot(pos[xi], mv, "o", color="0.7", ms=3, zorder=1)
    kw = dict(marker="o", color="tab:blue")
    kw.update(style)
    ax.plot(pos, means, **kw)
    if not numeric:
        ax.set_xticks(pos, [_tick_label(v) for v in xs])
    ax.set_xlabel(x)
    ax.set_ylabel(metric)
    ax.set_title(f"{metric} against {x}")
    return ax
