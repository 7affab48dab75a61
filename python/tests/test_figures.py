"""Tests of isletsim.plot's analysis pictures and isletsim.figures, on a synthetic Analysis.

Pure Python: the package's modules are loaded from the source tree under a stand-in
package name, so the compiled extension (_isletsim) is not needed.
"""
import importlib
import struct
import sys
import types
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import LineCollection  # noqa: E402

PKG_DIR = Path(__file__).resolve().parents[1] / "isletsim"
PKG = "_isletsim_src_for_figure_tests"  # not "isletsim": leaves a real isletsim, if imported, alone


def _load():
    if PKG not in sys.modules:
        pkg = types.ModuleType(PKG)
        pkg.__path__ = [str(PKG_DIR)]
        sys.modules[PKG] = pkg
    return (importlib.import_module(f"{PKG}.analysis"), importlib.import_module(f"{PKG}.plot"),
            importlib.import_module(f"{PKG}.figures"))


analysis, plot, figures = _load()

N, RATE, SAMPLES, PERIOD, ACTIVE_S, SPEED, STIM = 30, 10.0, 600, 10.0, 3.0, 50.0, 5.0
NEVER, EXCLUDED = 28, 29  # a kept cell that is never active; an excluded cell


def _onsets_of(col, t):
    up = np.flatnonzero(np.diff(col.astype(int)) == 1) + 1
    return list(t[up])


def make_analysis(positions=True, with_waves=True, stimulus=True) -> "analysis.Analysis":
    """30 cells on a 5 x 3 x 2 grid (10 um), 600 samples at 10 Hz; pulses every 10 s
    after a glucose step at 5 s, delayed by distance from cell 0 / 50 um/s; a ring
    network (+ 4 edges of cell 0) over cells 0..27 in two communities; 2 waves."""
    g = np.stack(np.meshgrid(np.arange(5), np.arange(3), np.arange(2), indexing="ij"), -1).reshape(-1, 3)
    pos = 10.0 * g.astype(float)
    t = np.arange(SAMPLES) / RATE
    dist = np.linalg.norm(pos - pos[0], axis=1)
    delay = dist / SPEED + 0.013 * np.arange(N)  # distinct onsets, cell 0 first
    since = t[:, None] - STIM - delay[None, :]
    binary = ((since >= 0) & (np.mod(since, PERIOD) < ACTIVE_S)).astype(np.uint8)
    binary[:, [NEVER, EXCLUDED]] = 0
    excluded = np.zeros(N, bool)
    excluded[EXCLUDED] = True
    onsets = [_onsets_of(binary[:, c], t) for c in range(N)]
    signal = binary + 0.01 * np.sin(np.arange(SAMPLES) / 7.0)[:, None] * (1 + np.arange(N))[None, :] / N
    corr = np.corrcoef(signal.T)
    corr[EXCLUDED, :] = corr[:, EXCLUDED] = 0.0
    corr[EXCLUDED, EXCLUDED] = 1.0
    ring = 28
    edges = {tuple(sorted((i, (i + d) % ring))) for i in range(ring) for d in (1, 2)}
    edges |= {(0, 5), (0, 10), (0, 15), (0, 20)}
    edges = np.array(sorted(edges), dtype=np.uint32)
    deg = np.bincount(edges.ravel(), minlength=N).astype(float)
    community = np.where(np.arange(N) < 14, 0, 1)
    community[NEVER] = 2
    community[EXCLUDED] = -1
    hub = (deg > 0.6 * deg.max()).astype(np.uint8)
    cells = {"degree": deg, "normalized_degree": deg / deg.max(), "clustering": np.full(N, 0.5),
             "betweenness": np.zeros(N), "closeness": np.ones(N), "hub": hub, "community": community}
    net = analysis.FunctionalNetwork(edges=edges, threshold=0.42, cells=cells)
    kept = int((~excluded).sum())
    waves = []
    if with_waves:
        for k, size in ((0, 20), (1, 28)):
            first = np.array([[o for o in onsets[c] if k * PERIOD <= o - STIM < (k + 1) * PERIOD][0]
                              for c in range(size)])
            order = np.argsort(first, kind="stable")
            cs = np.arange(size)[order]
            start = first[order][0]
            waves.append(analysis.Wave(start_s=start, duration_s=first.max() - start, speed_um_s=SPEED,
                                       origin=int(cs[0]), cells=cs.astype(np.uint32),
                                       delays_s=first[order] - start, initiators=cs[:3].astype(np.uint32),
                                       relative_size=size / kept))
    initiated = np.zeros(N)
    participated = np.zeros(N)
    for w in waves:
        initiated[w.initiators] += 1
        participated[w.cells] += 1
    mean_rank = np.where(participated > 0, np.arange(N) / N, np.nan)
    lat = (delay + 0.5) if stimulus else np.full(N, np.nan)
    lat = np.where(excluded, np.nan, lat)
    activity = {name: np.full(N, np.nan) for name in analysis.ACTIVITY_COLUMNS}
    activity["response_latency_s"] = lat
    activity["relative_active_time"] = binary.mean(axis=0)
    d = np.linalg.norm(pos[:, None] - pos[None], axis=2)
    iu = np.triu_indices(N, 1)
    keep_pair = ~excluded[iu[0]] & ~excluded[iu[1]]
    bins = np.floor(d[iu][keep_pair] / 10).astype(int)
    vals = corr[iu][keep_pair]
    nb = bins.max() + 1
    by = {"bin_lo_um": 10.0 * np.arange(nb),
          "mean": np.array([vals[bins == b].mean() if (bins == b).any() else np.nan for b in range(nb)]),
          "sd": np.array([vals[bins == b].std() if (bins == b).any() else np.nan for b in range(nb)]),
          "pairs": np.bincount(bins, minlength=nb).astype(np.uint64)}
    gt = np.arange(0, 61.0, 1.0)
    return analysis.Analysis(
        source="<synthetic>", variable="c", options={"similarity": "correlation", "distance_bin_um": 10.0},
        time=t, rate_hz=RATE, signal=signal, binary=binary, excluded=excluded,
        positions=pos if positions else None, activity=activity, onsets=onsets,
        stimulus_s=STIM if stimulus else np.nan, corr=corr, coactivity=np.eye(N), by_distance=by, network=net,
        waves=waves, wave_cells={"initiated": initiated, "participated": participated, "mean_rank": mean_rank,
                                 "rank_sd": np.zeros(N)},
        metrics={"relative_active_time": 0.3}, glucose=(gt, np.where(gt < STIM, 3.0, 11.0)),
        structural_edges=np.array([[0, 1], [1, 2], [2, 3]], dtype=np.uint32))


@pytest.fixture(scope="module")
def a():
    return make_analysis()


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_onset_order_and_binary_raster(a):
    order = plot.onset_order(a)
    first = plot.first_onsets(a)
    assert EXCLUDED not in order and len(order) == N - 1
    assert order[-1] == NEVER and order[0] == 0
    f = first[order[:-1]]
    assert np.all(np.diff(f) >= 0) and np.all(np.diff(order[:-1])[np.diff(f) == 0] > 0)  # ties by id
    assert np.isclose(f[0], STIM) and np.isinf(first[NEVER])
    fig = plot.binary_raster(a)
    assert isinstance(fig, matplotlib.figure.Figure)
    ax_g, ax = fig.axes
    img = ax.images[0].get_array()
    assert np.array_equal(np.asarray(img), a.binary[:, order].T)
    assert np.array_equal(ax_g.lines[0].get_ydata(), a.glucose[1])  # glucose protocol above, same time axis
    assert ax_g.get_shared_x_axes().joined(ax_g, ax)
    stim = [ln for ln in ax.lines if ln.get_linestyle() == "--"]
    assert stim and stim[0].get_xdata()[0] == STIM
    assert "(s)" in ax.get_xlabel() and "mM" in ax_g.get_ylabel()
    # No glucose: a single axis.
    b = make_analysis()
    b.glucose = None
    assert len(plot.binary_raster(b).axes) == 1


def test_correlation_matrix_orders(a):
    o = plot.community_order(a)
    com = a.network.cells["community"][o]
    assert o[-1] == EXCLUDED and sorted(o) == list(range(N))
    assert np.all(np.diff(com[:-1]) >= 0)
    deg = a.network.cells["degree"][o]
    for c in (0, 1):
        assert np.all(np.diff(deg[com == c]) <= 0)
    assert o[0] == 0  # the hub, highest degree of community 0
    ax = plot.correlation_matrix(a)
    im = ax.images[0]
    assert np.allclose(im.get_array(), a.corr[np.ix_(o, o)])
    assert im.get_clim() == (-1.0, 1.0)
    assert any(x.get_ylabel() == "Pearson r" for x in ax.figure.axes if x is not ax)
    ax2 = plot.correlation_matrix(a, order="id")
    assert np.allclose(ax2.images[0].get_array(), a.corr) and ax2.figure is not ax.figure
    with pytest.raises(ValueError):
        plot.correlation_matrix(a, order="degree")


def test_network_segments_follow_edges(a):
    ax = plot.network(a, structural=True)
    (lc,) = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "functional"]
    segs = lc.get_segments()
    assert len(segs) == a.network.n_edges == len(a.network.edges)
    e = a.network.edges.astype(int)
    assert np.allclose(np.array(segs), a.positions[e][:, :, :2])
    (ls,) = [c for c in ax.collections if isinstance(c, LineCollection) and c.get_gid() == "structural"]
    assert len(ls.get_segments()) == 3 and ls.get_zorder() < lc.get_zorder()
    assert ax.get_xlabel() == "x (um)" and ax.get_ylabel() == "y (um)"
    ax = plot.network(a, projection="xz", color="degree")
    (lc,) = [c for c in ax.collections if c.get_gid() == "functional"]
    assert np.allclose(np.array(lc.get_segments()), a.positions[e][:, :, [0, 2]])
    assert ax.get_ylabel() == "z (um)"
    # hubs ringed: one ring per hub, red, unfilled
    rings = [c for c in ax.collections if c.get_label().startswith("hubs")]
    hubs = np.flatnonzero(a.network.cells["hub"])
    assert len(rings) == 1 and np.allclose(rings[0].get_offsets(), a.positions[hubs][:, [0, 2]])
    assert list(hubs) == [0, 5, 10, 15, 20]
    with pytest.raises(ValueError, match="projection"):
        plot.network(a, projection="xw")
    b = make_analysis(positions=False)
    with pytest.raises(ValueError, match="positions"):
        plot.network(b)


def test_degree_distribution_ccdf(a):
    k, p = plot.degree_ccdf([0, 1, 1, 2, 4, 4, 4, 7])
    assert list(k) == [0, 1, 2, 4, 7] and p[0] == 1.0
    assert np.allclose(p, [1, 7 / 8, 5 / 8, 4 / 8, 1 / 8])
    fig = plot.degree_distribution(a)
    ax_h, ax_c = fig.axes
    counts = [r.get_height() for r in ax_h.patches]
    assert sum(counts) == N - 1  # every analysed cell, excluded left out
    assert ax_c.get_xscale() == "log" and ax_c.get_yscale() == "log"
    x, y = ax_c.lines[0].get_xdata(), ax_c.lines[0].get_ydata()
    assert np.all(x > 0) and np.all(np.diff(x) > 0) and np.all(np.diff(y) <= 0) and y[0] <= 1.0
    kk, pp = plot.degree_ccdf(a.network.cells["degree"][~a.excluded])
    assert pp[0] == 1.0 and np.all(np.diff(pp) <= 0)


def test_waves_map(a):
    fig = plot.waves(a)
    ax_m, _cbar, ax_d, ax_s = fig.axes[0], fig.axes[-1], fig.axes[1], fig.axes[2]
    w = a.waves[1]  # the largest
    sc = [c for c in ax_m.collections if c.get_array() is not None][0]
    assert np.allclose(sc.get_array(), w.delays_s)
    assert np.allclose(sc.get_offsets(), a.positions[w.cells.astype(int)][:, :2])
    star = [ln for ln in ax_m.lines if ln.get_marker() == "*"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == tuple(a.positions[w.origin, :2])
    ini = [c for c in ax_m.collections if c.get_label() == "initiators"][0]
    assert len(ini.get_offsets()) == len(w.initiators)
    fit = [ln for ln in ax_d.lines if ln.get_linestyle() == "--"][0]
    xd, yd = fit.get_xdata(), fit.get_ydata()
    assert np.isclose((yd[1] - yd[0]) / (xd[1] - xd[0]), 1 / SPEED)
    assert ax_d.get_xlabel() == "distance from origin (um)" and "(s)" in ax_d.get_ylabel()
    assert "(s)" in ax_s.get_xlabel()
    fig0 = plot.waves(a, wave=0)
    sc0 = [c for c in fig0.axes[0].collections if c.get_array() is not None][0]
    assert len(sc0.get_array()) == len(a.waves[0].cells) == 20
    empty = plot.waves(make_analysis(with_waves=False))
    assert any("no waves" in t.get_text() for x in empty.axes for t in x.texts)


def test_leaders_latency_distance(a):
    fig = plot.leaders(a)
    ax_m, ax_b = fig.axes[0], fig.axes[1]
    heights = [r.get_height() for r in ax_b.patches]
    ini = a.wave_cells["initiated"]
    assert heights == sorted(heights, reverse=True) and heights[0] == ini.max() == 2
    assert [t.get_text() for t in ax_b.get_xticklabels()][:3] == ["0", "1", "2"]
    ax = plot.latency_histogram(a)
    lat = a.activity["response_latency_s"][~a.excluded]
    assert sum(r.get_height() for r in ax.patches) == len(lat)
    med = [ln for ln in ax.lines if ln.get_linestyle() == "--"][0]
    assert np.isclose(med.get_xdata()[0], np.median(lat))
    ax = plot.latency_histogram(make_analysis(stimulus=False))
    assert [t.get_text() for t in ax.texts] == ["no stimulus"] and not ax.patches
    ax = plot.correlation_distance(a)
    line = [ln for ln in ax.lines if ln.get_marker() == "o"][0]
    ok = a.by_distance["pairs"] > 0
    assert np.allclose(line.get_ydata(), a.by_distance["mean"][ok])
    assert np.allclose(line.get_xdata(), a.by_distance["bin_lo_um"][ok] + 5.0)
    assert ax.get_xlabel() == "distance between cells (um)" and ax.get_ylabel() == "Pearson r"


def _sweep_table():
    # gV x level, (120, 11) missing, (0, 8) twice (mean 0.3), a NaN row ignored, a third key averaged.
    return {"task": np.arange(7.0),
            "coupling.gV": np.array([0, 0, 60, 60, 120, 0, 60.0]),
            "glucose.level": np.array([8, 11, 8, 11, 8, 8, 11.0]),
            "seed": np.array([1, 1, 1, 1, 1, 2, 2.0]),
            "status": np.array(["ok"] * 7),
            "synchrony": np.array([0.2, 0.5, 0.6, 0.7, 0.9, 0.4, np.nan])}


def test_sweep_heatmap_grid():
    tab = _sweep_table()
    xs, ys, z = plot.sweep_grid(tab, "synchrony", "coupling.gV", "glucose.level")
    assert list(xs) == [0, 60, 120] and list(ys) == [8, 11]
    assert np.isclose(z[0, 0], 0.3) and np.isnan(z[1, 2]) and np.isclose(z[1, 1], 0.7)
    ax = plot.sweep_heatmap(tab, "synchrony", "coupling.gV", "glucose.level")
    arr = ax.images[0].get_array()
    assert arr.shape == (2, 3) and arr.mask[1, 2] and not arr.mask[0, 0] and np.isclose(arr[0, 0], 0.3)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "60", "120"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["8", "11"]
    assert ax.get_xlabel() == "coupling.gV" and ax.get_ylabel() == "glucose.level"
    assert any(x.get_ylabel() == "synchrony" for x in ax.figure.axes if x is not ax)
    pd = pytest.importorskip("pandas")
    ax2 = plot.sweep_heatmap(pd.DataFrame(tab), "synchrony", "coupling.gV", "glucose.level")
    assert np.ma.allequal(ax2.images[0].get_array(), arr)


def _png_info(path):
    data = Path(path).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    i = data.find(b"pHYs")
    ppm = struct.unpack(">I", data[i + 4:i + 8])[0] if i > 0 else None
    return w, h, ppm


def test_make_all_writes_every_picture(a, tmp_path):
    out = tmp_path / "figs" / "deep"
    files = figures.make_all(a, out, dpi=150)
    names = sorted(Path(f).name for f in files)
    stems = ["binary_raster", "correlation_matrix", "network", "degree_distribution", "waves", "leaders",
             "latency", "correlation_distance"]
    assert names == sorted(f"{s}.{e}" for s in stems for e in ("png", "svg"))
    assert all(Path(f).stat().st_size > 1000 for f in files)
    assert plt.get_fignums() == []
    for s, figsize in (("binary_raster", (8, 5)), ("latency", (6.4, 4.8))):
        w, h, ppm = _png_info(out / f"{s}.png")
        assert (w, h) == (round(figsize[0] * 150), round(figsize[1] * 150))
        assert ppm is not None and abs(ppm * 0.0254 - 150) < 1
    assert "<svg" in (out / "network.svg").read_text()[:2000]


def test_make_all_without_positions(tmp_path, capsys):
    b = make_analysis(positions=False)
    for f in (plot.waves, plot.leaders):
        with pytest.raises(ValueError, match="positions"):
            f(b)
    plt.close("all")
    files = figures.make_all(b, tmp_path, formats=("png",), dpi=100)
    assert sorted(Path(f).stem for f in files) == sorted(
        ["binary_raster", "correlation_matrix", "degree_distribution", "latency", "correlation_distance"])
    err = capsys.readouterr().err
    assert all(f"{s}: skipped" in err for s in ("network", "waves", "leaders"))
    assert plt.get_fignums() == []


def test_make_sweep_and_csv_main(tmp_path, capsys):
    tab = _sweep_table()
    files = figures.make_sweep(tab, tmp_path / "two", formats=("png",))
    assert [Path(f).name for f in files] == ["sweep_synchrony.png"]  # "seed" is a key, not a metric
    assert figures.sweep_keys(tab) == ["coupling.gV", "glucose.level", "seed"]
    one = {k: v for k, v in tab.items() if k not in ("glucose.level", "seed")}
    files = figures.make_sweep(one, tmp_path / "one", formats=("svg",), keys=["coupling.gV"])
    assert [Path(f).name for f in files] == ["sweep_synchrony.svg"]
    assert plt.get_fignums() == []
    # The command line reads a CSV (numeric columns float, others str).
    csv_path = tmp_path / "analysis.csv"
    cols = list(tab)
    rows = [",".join("" if (isinstance(tab[c][r], float) and np.isnan(tab[c][r])) else str(tab[c][r])
                     for c in cols) for r in range(7)]
    csv_path.write_text(",".join(cols) + "\n" + "\n".join(rows) + "\n")
    t = figures.read_table_csv(csv_path)
    assert t["coupling.gV"].dtype == np.float64 and t["status"].dtype.kind == "U" and np.isnan(t["synchrony"][6])
    assert figures.main(["--sweep", str(csv_path), "-o", str(tmp_path / "cli"), "--formats", "png",
                         "--keys", "glucose.level,coupling.gV", "--metrics", "synchrony", "--dpi", "80"]) == 0
    printed = capsys.readouterr().out.split()
    assert printed == [str(tmp_path / "cli" / "sweep_synchrony.png")]
    w, h, _ = _png_info(printed[0])
    assert w > 100 and h > 100
    assert figures.main(["--sweep", str(csv_path), "-o", str(tmp_path / "x"), "--keys", "nope"]) == 1
    # Explicit keys leave "seed" a numeric non-key column: drawn as a metric too.
    assert figures.main(["--sweep", str(csv_path), "-o", str(tmp_path / "y"), "--formats", "png",
                         "--keys", "coupling.gV,glucose.level"]) == 0
    assert sorted(p.name for p in (tmp_path / "y").iterdir()) == ["sweep_seed.png", "sweep_synchrony.png"]


def test_main_with_analysis_file(a, tmp_path, monkeypatch, capsys):
    seen = []
    monkeypatch.setattr(analysis, "load_analysis", lambda p, signal=True: seen.append(p) or a, raising=False)
    assert figures.main(["run.analysis.h5", "-o", str(tmp_path), "--formats", "png", "--dpi", "60"]) == 0
    assert seen == ["run.analysis.h5"]
    assert len(capsys.readouterr().out.split()) == 8 and len(list(tmp_path.glob("*.png"))) == 8
    assert plt.get_fignums() == []
    with pytest.raises(SystemExit):
        figures.main([])


class _FakeResult:
    def __init__(self):
        self.time = np.arange(50) / 10.0
        self.positions = np.random.default_rng(0).normal(size=(6, 3))
        self._c = np.random.default_rng(1).random((50, 6))

    def __getitem__(self, var):
        return self._c


def test_raster_and_mean_trace_draw_on_separate_figures():
    res = _FakeResult()
    im = plot.raster(res)
    line = plot.mean_trace(res)
    assert im.axes.figure is not line.axes.figure and im.axes is not line.axes
    assert len(line.axes.images) == 0 and len(im.axes.lines) == 0
    assert np.allclose(line.get_ydata(), res["c"].mean(axis=1))
    fig, ax = plt.subplots()
    assert plot.mean_trace(res, ax=ax).axes is ax


def test_raster_centre_order_starts_at_the_islets_centre():
    res = _FakeResult()
    # a 3 x 3 lattice far from the origin (corner 0 nearest to it): cell 4 is in the middle,
    # 1, 3, 5, 7 next to it, the corners 0, 2, 6, 8 last
    g = np.stack(np.meshgrid(np.arange(3), np.arange(3), indexing="ij"), -1).reshape(-1, 2)[:, ::-1]
    res.positions = np.column_stack([100.0 + 10 * g, np.zeros(9)])
    res._c = np.tile(np.arange(9.0), (50, 1))  # each cell's trace is its id
    im = plot.raster(res, order="centre")
    rows = np.asarray(im.get_array())[:, 0]
    assert rows.tolist() == [4, 1, 3, 5, 7, 0, 2, 6, 8]
    assert np.asarray(plot.raster(res, order="id").get_array())[:, 0].tolist() == list(range(9))
    with pytest.raises(ValueError, match=r"order must be 'mean', 'id' or 'centre', got 'bogus'"):
        plot.raster(res, order="bogus")
    res.positions = np.zeros((0, 3))
    with pytest.raises(ValueError, match="order='centre' needs the cells' positions"):
        plot.raster(res, order="centre")
    plt.close("all")


def test_import_is_cheap():
    import subprocess

    code = (f"import sys, types, importlib; p = types.ModuleType('{PKG}'); p.__path__ = [{str(PKG_DIR)!r}]; "
            f"sys.modules['{PKG}'] = p; importlib.import_module('{PKG}.figures'); "
            "print('matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
