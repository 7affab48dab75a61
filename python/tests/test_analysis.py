"""Tests of the analysis pipeline from Python and from `islet analyze` (CTest: python_analysis_tests).

Each measure is checked against an independent computation: NumPy's corrcoef, networkx on the same
graph, or synthetic traces whose onsets, frequencies, latencies and waves are known by construction.
Run by hand:  PYTHONPATH=build/python ISLET_CLI=build/islet /usr/bin/python3 -m pytest -q python/tests/test_analysis.py
"""
import csv
import math
import os
import pathlib
import subprocess

import networkx as nx
import numpy as np
import pytest

import isletsim as isl


def _cli():
    path = os.environ.get("ISLET_CLI")
    if not path:
        path = str(pathlib.Path(isl.__file__).resolve().parents[2] / "islet")
    if not os.access(path, os.X_OK):
        pytest.skip(f"islet CLI not found ({path}); set ISLET_CLI")
    return os.path.abspath(path)


def _run(*args, cwd=None):
    return subprocess.run([_cli(), *map(str, args)], capture_output=True, text=True, timeout=600, cwd=cwd)


def pulses(n_cells=30, rate=10.0, duration=120.0, period=10.0, width=3.0, lag_per_cell=0.0, seed=0):
    """Smooth pulses: cell c rises at k*period + c*lag_per_cell + 2 s, stays up `width` s."""
    t = np.arange(int(duration * rate)) / rate
    rng = np.random.default_rng(seed)
    x = np.zeros((len(t), n_cells))
    for c in range(n_cells):
        start = 2.0 + c * lag_per_cell
        phase = np.mod(t - start, period)
        up = (t >= start) & (phase < width)
        x[:, c] = 0.1 + 0.5 * up + 0.002 * rng.standard_normal(len(t))
    return t, x


# ---------------------------------------------------------------- similarity


def test_correlation_matrix_equals_numpy_corrcoef():
    rng = np.random.default_rng(3)
    t = np.arange(3000) / 10.0
    base = np.sin(t[:, None] * np.linspace(0.1, 1.0, 25)[None, :])
    x = 1e3 + base + 0.3 * rng.standard_normal((3000, 25))  # an offset stresses cancellation
    a = isl.analyze(x, time=t, k_avg=4)
    ref = np.corrcoef(x.T)
    assert np.max(np.abs(a.corr - ref)) < 1e-12
    assert a.metrics["mean_correlation"] == pytest.approx(ref[np.triu_indices(25, 1)].mean(), abs=1e-12)
    # Coactivity: N_ij / sqrt(N_i N_j) of the binary traces, computed here by hand.
    b = a.binary.astype(float)
    nij = b.T @ b
    d = np.sqrt(np.outer(np.diag(nij), np.diag(nij)))
    ref_co = np.where(d > 0, nij / np.where(d > 0, d, 1), 0.0)
    np.fill_diagonal(ref_co, (np.diag(nij) > 0).astype(float))
    assert np.max(np.abs(a.coactivity - ref_co)) < 1e-12


# ---------------------------------------------------------------- network against networkx


def _nx_graph(a):
    keep = np.flatnonzero(~a.excluded)
    g = nx.Graph()
    g.add_nodes_from(keep.tolist())
    g.add_edges_from(map(tuple, a.network.edges.astype(int).tolist()))
    return g


def test_network_measures_equal_networkx():
    rng = np.random.default_rng(5)
    t = np.arange(4000) / 10.0
    groups = rng.integers(0, 3, size=60)
    drivers = rng.standard_normal((4000, 3))
    x = drivers[:, groups] + 0.8 * rng.standard_normal((4000, 60))
    pos = rng.uniform(0, 100, size=(60, 3))
    a = isl.analyze(x, time=t, positions=pos, k_avg=6, k_tolerance=0.5)
    g = _nx_graph(a)
    n = g.number_of_nodes()
    # The threshold gives the requested average degree (within tolerance).
    assert abs(2 * g.number_of_edges() / n - 6) <= 0.5
    assert a.metrics["average_degree"] == pytest.approx(2 * g.number_of_edges() / n, abs=1e-12)
    cells = a.network.cells
    deg = dict(g.degree())
    clus = nx.clustering(g)
    betw = nx.betweenness_centrality(g)
    clos = nx.closeness_centrality(g)
    for c in g.nodes:
        assert cells["degree"][c] == deg[c]
        assert cells["clustering"][c] == pytest.approx(clus[c], abs=1e-12)
        assert cells["betweenness"][c] == pytest.approx(betw[c], abs=1e-12)
        assert cells["closeness"][c] == pytest.approx(clos[c], abs=1e-12)
    kmax = max(deg.values())
    assert cells["normalized_degree"] == pytest.approx(np.array([deg[c] / kmax for c in range(60)]), abs=1e-12)
    hubs = {c for c in g.nodes if deg[c] > 0.6 * kmax}
    assert set(np.flatnonzero(cells["hub"]).tolist()) == hubs
    m = a.metrics
    assert m["average_clustering"] == pytest.approx(nx.average_clustering(g), abs=1e-12)
    assert m["transitivity"] == pytest.approx(nx.transitivity(g), abs=1e-12)
    assert m["global_efficiency"] == pytest.approx(nx.global_efficiency(g), abs=1e-12)
    assert m["largest_component"] == pytest.approx(len(max(nx.connected_components(g), key=len)) / n, abs=1e-12)
    assert m["assortativity"] == pytest.approx(nx.degree_assortativity_coefficient(g), abs=1e-10)
    # Modularity of the partition found, recomputed by networkx; three planted groups are found.
    parts = {}
    for c in g.nodes:
        parts.setdefault(cells["community"][c], set()).add(c)
    assert m["modularity"] == pytest.approx(nx.algorithms.community.modularity(g, parts.values()), abs=1e-12)
    assert m["n_communities"] == len(parts)
    d = np.linalg.norm(pos[a.network.edges[:, 0]] - pos[a.network.edges[:, 1]], axis=1)
    assert m["mean_edge_length_um"] == pytest.approx(d.mean(), rel=1e-12)
    # The same seed gives the same communities; the small-world coefficient is finite.
    again = isl.analyze(x, time=t, positions=pos, k_avg=6, k_tolerance=0.5)
    assert np.array_equal(again.network.cells["community"], cells["community"])
    assert math.isfinite(m["small_world_sigma"])


# ---------------------------------------------------------------- activity on synthetic traces


def test_activity_of_known_pulses():
    t, x = pulses(n_cells=12, period=10.0, width=3.0)
    a = isl.analyze(x, time=t, k_avg=4, k_tolerance=4)
    act = a.activity
    # Onsets at 2, 12, ..., 112 s: 12 episodes, frequency 12 / 120 s, 3 s long, 10 s apart, CV 0.
    assert np.all(act["n_oscillations"] == 12)
    assert act["frequency_hz"] == pytest.approx(np.full(12, 12 / 120.0), rel=1e-9)
    assert act["mean_duration_s"] == pytest.approx(np.full(12, 3.0), abs=0.21)
    assert act["mean_interval_s"] == pytest.approx(np.full(12, 10.0), abs=0.11)
    assert np.all(act["interval_cv"] < 0.02)
    assert act["relative_active_time"] == pytest.approx(np.full(12, 0.3), abs=0.01)
    for c in range(12):
        assert a.onsets[c] == pytest.approx(2.0 + 10.0 * np.arange(12), abs=0.1)


def test_first_response_latency_of_known_rises():
    rate = 10.0
    t = np.arange(int(300 * rate)) / rate
    stim = 100.0
    delays = np.array([5.0, 10.0, 20.0, 40.0])
    # A logistic rise centred stim + d: its half-maximum is at stim + d.
    x = np.stack([0.1 + 0.4 / (1 + np.exp(-(t - stim - d) / 2.0)) for d in delays], axis=1)
    a = isl.analyze(x, time=t, stimulus_s=stim, k_avg=1, k_tolerance=1)
    assert a.stimulus_s == stim
    assert a.activity["response_latency_s"] == pytest.approx(delays, abs=0.15)
    # Time to plateau (90% of the rise of the smoothed trace) lies after the half-maximum.
    assert np.all(a.activity["time_to_plateau_s"] > delays)


# ---------------------------------------------------------------- waves


def test_wave_from_a_known_cell_at_a_known_speed():
    # Cells on a 6x6x6 lattice (10 um); a wave starts at an interior cell and spreads at 40 um/s.
    g = np.stack(np.meshgrid(*[np.arange(6) * 10.0] * 3, indexing="ij"), axis=-1).reshape(-1, 3)
    origin = 3 * 36 + 2 * 6 + 3
    dist = np.linalg.norm(g - g[origin], axis=1)
    rate = 100.0
    t = np.arange(int(60 * rate)) / rate
    x = np.zeros((len(t), len(g)))
    for start in (10.0, 35.0):
        onset = start + dist / 40.0
        for c in range(len(g)):
            x[:, c] += ((t >= onset[c]) & (t < onset[c] + 4.0)).astype(float)
    a = isl.analyze(x, time=t, positions=g, k_avg=6, k_tolerance=6, wave_dt_s=0.5, wave_dist_um=15)
    assert len(a.waves) == 2
    for w in a.waves:
        assert w.origin == origin
        assert w.speed_um_s == pytest.approx(40.0, rel=0.05)
        assert w.relative_size == 1.0
    assert a.wave_cells["initiated"][origin] == 2
    assert a.metrics["leader_consistency"] == pytest.approx(1.0, abs=0.05)


# ---------------------------------------------------------------- bad input


def test_bad_input_errors(tmp_path):
    t, x = pulses(n_cells=10)
    with pytest.raises(isl.InputError, match="positions"):
        isl.analyze(x, time=t, positions=np.zeros((9, 3)))
    y = x.copy()
    y[50, 3] = np.nan
    with pytest.raises(isl.InputError, match="cell 3"):
        isl.analyze(y, time=t)
    with pytest.raises(isl.InputError, match="window|outside|recording"):
        isl.analyze(x, time=t, window=(500, 600))
    with pytest.raises(isl.InputError, match="Nyquist"):
        isl.analyze(x, time=t, band="fast", fast_band=[0.03, 8.0])
    # The library's message, as islet analyze gives it: the key and the degrees 10 cells allow.
    with pytest.raises(isl.InputError, match=r"analysis\.k_avg = 20 cannot be reached with 10 analysed cells: "
                                             r"expected an average degree from 0\.2 \(a single edge\) to 9"):
        isl.analyze(x, time=t, k_avg=20)
    with pytest.raises(isl.InputError, match="analysis.binarize"):
        isl.analyze(x, time=t, binarize="slopes")
    res = isl.simulate(isl.Config.default().set("sim.duration_s", 2).set("network.kind", "lattice")
                       .set("network.nx", 2).set("network.ny", 2).set("network.nz", 2), threads=1)
    with pytest.raises(isl.InputError, match="not recorded|no variable"):
        isl.analyze(res, variable="ADP")


def test_analyze_window_error_is_worded_as_load(tmp_path):
    res = isl.simulate(isl.Config.default().set("sim.duration_s", 2).set("network.kind", "lattice")
                       .set("network.nx", 2).set("network.ny", 2).set("network.nz", 2), threads=1)
    # window as isl.load words it
    load_words = r"^window: expected \(t0, t1\) in seconds \(None for an open end\), got 100$"
    with pytest.raises(ValueError, match=load_words):
        isl.load(_a_run(tmp_path), window=100)
    with pytest.raises(isl.InputError, match=load_words):
        isl.analyze(res, window=100)


def test_analyze_takes_a_list_of_rows():
    _, x = pulses(n_cells=10)
    a = isl.analyze(x.tolist(), sampling_hz=10)
    b = isl.analyze(x, sampling_hz=10)
    assert a.n_cells == 10 and np.array_equal(a.binary, b.binary) and np.array_equal(a.corr, b.corr)
    with pytest.raises(TypeError, match=r"^analyze: source must be a Result, the path of a run file"):
        isl.analyze({"c": x}, sampling_hz=10)


def test_analyze_of_a_missing_file_raises_file_not_found_as_load(tmp_path):
    for missing, times in (("nope.h5", {}), ("nope.txt", {"sampling_hz": 10})):
        with pytest.raises(FileNotFoundError, match=missing):
            isl.analyze(str(tmp_path / missing), **times)
    with pytest.raises(FileNotFoundError):
        isl.load(str(tmp_path / "nope.h5"))


def test_analyze_checks_sampling_hz_first(tmp_path):
    _, x = pulses(n_cells=10)
    np.savetxt(tmp_path / "rec.txt", x)
    for bad in (-10, float("nan"), float("inf")):
        with pytest.raises(isl.InputError, match=r"^sampling_hz: expected a positive, finite number"):
            isl.analyze(x, sampling_hz=bad)
        with pytest.raises(isl.InputError, match=r"^sampling_hz: expected a positive, finite number"):
            isl.analyze(str(tmp_path / "rec.txt"), sampling_hz=bad)


def test_load_analysis_of_a_file_that_is_not_hdf5_says_so_as_load(tmp_path):
    (tmp_path / "text.txt").write_text("not hdf5\n")
    with pytest.raises(isl.InputError, match=r"^cannot open '.*text.txt' as an isletsim output file: not an HDF5 file$"):
        isl.load(str(tmp_path / "text.txt"))
    with pytest.raises(isl.InputError, match=r"^cannot open '.*text.txt' as an isletsim analysis file: not an HDF5 "
                                             r"file$"):
        isl.load_analysis(str(tmp_path / "text.txt"))
    with pytest.raises(FileNotFoundError, match="no such file"):
        isl.load_analysis(str(tmp_path / "nope.analysis.h5"))


def _a_run(tmp_path):
    p = tmp_path / "run.h5"
    if not p.exists():
        isl.simulate(isl.Config.default().set("sim.duration_s", 0.1).set("network.n_cells", 10), threads=1,
                     output=str(p))
    return str(p)


# ---------------------------------------------------------------- the CLI and the files

RUN = """
[sim]
duration_s = 120
[network]
kind = "lattice"
nx = 4
ny = 4
nz = 4
[glucose]
mode = "step"
basal = 2
level = 11
t_step_s = 30
[record]
vars = ["c"]
interval_ms = 100
[analysis]
k_avg = 6
k_tolerance = 2
"""


@pytest.fixture(scope="module")
def run_h5(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    (d / "run.toml").write_text(RUN)
    r = _run("run", d / "run.toml", "-o", d / "run.h5", "-q", "-j", "1")
    assert r.returncode == 0, r.stderr
    return d / "run.h5"


def test_cli_analyze_run_matches_python(run_h5):
    d = run_h5.parent
    r = _run("analyze", run_h5, "--from", "40", "-j", "1")
    assert r.returncode == 0, r.stderr
    for f in ("run.analysis.h5", "run.cells.csv", "run.summary.csv"):
        assert (d / f).exists(), f
    pics = sorted(p.name for p in (d / "run_figures").iterdir())
    assert "network.png" in pics and "binary_raster.svg" in pics and len(pics) == 16, (pics, r.stderr)
    # The file holds what isl.analyze computes from the same run with the same options
    # (the stored [analysis] k_avg = 6, plus --from).
    a = isl.analyze(isl.load(str(run_h5)), window=(40, None))
    b = isl.load_analysis(str(d / "run.analysis.h5"))
    assert b.options["k_avg"] == 6 and b.options["from_s"] == 40
    assert np.array_equal(a.binary, b.binary)
    assert np.array_equal(a.corr, b.corr)
    assert np.array_equal(a.network.edges, b.network.edges)
    assert a.stimulus_s == pytest.approx(30.0, abs=0.2)  # the glucose step recorded in the file
    for k in ("relative_active_time", "global_efficiency", "modularity", "n_waves"):
        assert a.metrics[k] == b.metrics[k] or (math.isnan(a.metrics[k]) and math.isnan(b.metrics[k])), k
    with open(d / "run.cells.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 64
    assert [float(r["degree"]) for r in rows] == b.network.cells["degree"].tolist()
    with open(d / "run.summary.csv") as f:
        summary = next(csv.DictReader(f))
    assert float(summary["n_edges"]) == len(b.network.edges)
    df = b.to_pandas()
    assert list(df.index) == list(range(64)) and "betweenness" in df.columns


def test_analyze_positions_replace_those_of_a_run_file_or_result(run_h5, tmp_path):
    run = str(run_h5)
    res = isl.load(run)
    own = isl.analyze(run)
    assert np.array_equal(own.positions, res.positions)
    # The islet as an imaging plane sees it: x, y of each cell, z = 0.
    flat = res.positions.copy()
    flat[:, 2] = 0
    np.savetxt(tmp_path / "xy.txt", flat[:, :2], header="x y")
    given = [isl.analyze(run, positions=tmp_path / "xy.txt"), isl.analyze(run, positions=str(tmp_path / "xy.txt")),
             isl.analyze(run, positions=flat[:, :2]), isl.analyze(res, positions=tmp_path / "xy.txt"),
             isl.analyze(res, positions=flat)]
    for a in given:
        assert np.array_equal(a.positions, flat)
        assert a.metrics["mean_edge_length_um"] == given[0].metrics["mean_edge_length_um"]
        assert np.array_equal(a.structural_edges, own.structural_edges)  # the run's network stays
    assert given[0].metrics["mean_edge_length_um"] != own.metrics["mean_edge_length_um"]
    # One row per cell, checked; a missing file is FileNotFoundError.
    np.savetxt(tmp_path / "xy63.txt", flat[:63])
    for source in (run, res):
        with pytest.raises(isl.InputError, match=r"xy63.txt': 63 positions for the 64 cells of '.*run.h5' \(one "
                                                 r"row x y \[z\] per cell, in the order of the run's cells\)"):
            isl.analyze(source, positions=tmp_path / "xy63.txt")
        with pytest.raises(FileNotFoundError, match="nope.txt"):
            isl.analyze(source, positions=tmp_path / "nope.txt")
    with pytest.raises(isl.InputError, match="63 cell positions for 64 cells"):
        isl.analyze(run, positions=flat[:63])
    # islet analyze --positions does the same; --sampling-hz is refused for a run.
    r = _run("analyze", run, "--positions", tmp_path / "xy.txt", "-o", tmp_path / "flat", "--no-figures")
    assert r.returncode == 0, r.stderr
    assert np.array_equal(isl.load_analysis(str(tmp_path / "flat.analysis.h5")).positions, flat)
    r = _run("analyze", run, "--positions", tmp_path / "xy63.txt", "-o", tmp_path / "bad", "--no-figures")
    assert r.returncode == 2 and "63 positions for the 64 cells" in r.stderr
    r = _run("analyze", run, "--sampling-hz", 10, "-o", tmp_path / "bad", "--no-figures")
    assert r.returncode == 2 and "'" + run + "' is a run file, which holds its times" in r.stderr
    assert not list(tmp_path.glob("bad*"))


def test_analyze_refuses_times_a_source_holds_or_cannot_use(run_h5, tmp_path):
    run = str(run_h5)
    res = isl.load(run)
    t, x = pulses(n_cells=10)
    np.savetxt(tmp_path / "rec.txt", np.column_stack([t, x]))
    for kw in ({"sampling_hz": 10}, {"time_column": True}, {"time": res.time}):
        name = next(iter(kw)) + "="
        with pytest.raises(isl.InputError, match=rf"^analyze: {name} cannot be used here: '.*run.h5' is a run "
                                                 r"file, which holds its own times$"):
            isl.analyze(run, **kw)
        with pytest.raises(isl.InputError, match=rf"^analyze: {name} cannot be used here: a Result holds its own "
                                                 r"times$"):
            isl.analyze(res, **kw)
    with pytest.raises(isl.InputError, match=r"^analyze: time= cannot be used here: the times of the recording "
                                             r"'.*rec.txt' are its first column, or sampling_hz=$"):
        isl.analyze(str(tmp_path / "rec.txt"), time=t)
    with pytest.raises(isl.InputError, match=r"^analyze: time_column= cannot be used here: an array's times are "
                                             r"time= or sampling_hz=$"):
        isl.analyze(x, time=t, time_column=True)
    # What each source does take.
    assert isl.analyze(str(tmp_path / "rec.txt"), time_column=True, k_avg=4, k_tolerance=4).n_cells == 10
    assert isl.analyze(x, time=t, k_avg=4, k_tolerance=4).n_cells == 10


def test_analyze_checks_time_against_sampling_hz_for_arrays_as_for_recordings(tmp_path):
    t, x = pulses(n_cells=10)  # 10 Hz
    np.savetxt(tmp_path / "rec.txt", np.column_stack([t, x]))
    # Both given and alike: as either alone.
    a = isl.analyze(x, time=t, sampling_hz=10, k_avg=4, k_tolerance=4)
    assert np.array_equal(a.binary, isl.analyze(x, time=t, k_avg=4, k_tolerance=4).binary)
    b = isl.analyze(str(tmp_path / "rec.txt"), time_column=True, sampling_hz=10, k_avg=4, k_tolerance=4)
    assert np.array_equal(a.binary, b.binary)
    # Not alike: refused, for an array as for a recording (sampling_hz= was ignored for an array).
    with pytest.raises(isl.InputError, match=r"^analyze: the step of time= \(0.1 s\) is 10 Hz, but sampling_hz= is 20; "
                                             r"give one of them, or both alike$"):
        isl.analyze(x, time=t, sampling_hz=20, k_avg=4, k_tolerance=4)
    with pytest.raises(isl.InputError, match=r"the time column's step 0.1 s is 10 Hz, but the sampling rate given \(--sampling-hz, sampling_hz=\) is 20"):
        isl.analyze(str(tmp_path / "rec.txt"), time_column=True, sampling_hz=20, k_avg=4, k_tolerance=4)


def test_cli_analyze_recording_with_positions(tmp_path):
    t, x = pulses(n_cells=20, rate=10.0, lag_per_cell=0.05)
    np.savetxt(tmp_path / "rec.txt", x, header=" ".join(f"cell{c}" for c in range(20)), comments="")
    pos = np.stack([np.arange(20) * 10.0, np.zeros(20)], axis=1)
    np.savetxt(tmp_path / "xy.txt", pos)
    r = _run("analyze", tmp_path / "rec.txt", "--positions", tmp_path / "xy.txt", "--sampling-hz", 10,
             "--set", "analysis.k_tolerance=4", "--no-figures", "-j", "1")
    assert r.returncode == 0, r.stderr
    b = isl.load_analysis(str(tmp_path / "rec.analysis.h5"))
    assert b.rate_hz == 10.0 and b.n_cells == 20
    assert b.positions[:, 0].tolist() == pos[:, 0].tolist()
    # Cells start 0.05 s apart along x, 10 um apart: a wave from cell 0 at 200 um/s.
    assert len(b.waves) >= 10 and all(w.origin == 0 for w in b.waves)
    assert np.median([w.speed_um_s for w in b.waves]) == pytest.approx(200.0, rel=0.05)
    # Positions that do not match the cells: exit 2, a message naming both files, nothing written.
    np.savetxt(tmp_path / "xy19.txt", pos[:19])
    r = _run("analyze", tmp_path / "rec.txt", "--positions", tmp_path / "xy19.txt", "--sampling-hz", 10,
             "-o", tmp_path / "bad", "--no-figures")
    assert r.returncode == 2 and "19 positions for the 20 cells" in r.stderr
    assert not list(tmp_path.glob("bad*"))


def test_cli_analyze_errors(run_h5, tmp_path):
    r = _run("analyze", run_h5, "--var", "V", "--no-figures", "-o", tmp_path / "x")
    assert r.returncode == 2 and "'V' was not recorded" in r.stderr
    r = _run("analyze", run_h5, "--from", "500", "--no-figures", "-o", tmp_path / "x")
    assert r.returncode == 2 and "window" in r.stderr
    r = _run("analyze", run_h5, "--k-avg", "80", "--no-figures", "-o", tmp_path / "x")
    assert r.returncode == 2 and "average degree" in r.stderr
    r = _run("analyze", run_h5, "--set", "analysis.band=\"fast\"", "--set", "analysis.fast_band=[0.03, 6.0]",
             "--no-figures", "-o", tmp_path / "x")
    assert r.returncode == 2 and "Nyquist" in r.stderr
    assert not list(tmp_path.glob("x*"))


def test_cli_analyze_sweep_directory(tmp_path):
    (tmp_path / "run.toml").write_text(RUN.replace("duration_s = 120", "duration_s = 90"))
    (tmp_path / "sweep.toml").write_text('base = "run.toml"\nout_dir = "out"\n[grid]\n'
                                         '"coupling.gV" = [0, 120]\n"glucose.level" = [8, 11]\n')
    r = _run("sweep", tmp_path / "sweep.toml", "-q", "-j", "2")
    assert r.returncode == 0, r.stderr
    r = _run("analyze", tmp_path / "out", "-j", "2")
    assert r.returncode == 0, r.stderr + r.stdout
    with open(tmp_path / "out" / "analysis.csv") as f:
        rows = list(csv.DictReader(f))
    assert [row["task"] for row in rows] == ["0", "1", "2", "3"]
    assert [row["coupling.gV"] for row in rows] == ["0", "0", "120", "120"]
    assert all(row["status"] == "ok" for row in rows)
    for i, row in enumerate(rows):
        b = isl.load_analysis(str(tmp_path / "out" / f"task_{i}.analysis.h5"))
        assert float(row["n_edges"]) == len(b.network.edges)
    figs = sorted(p.name for p in (tmp_path / "out" / "figures").iterdir())
    assert "sweep_mean_correlation.png" in figs


def test_worked_example_responds_to_its_glucose_step():
    # examples/small_islet.toml, the README's worked example: the cells must
    # be silent when glucose steps up, so the analysis measures a response
    # (from the model's initial state they fire transient bursts in the first
    # ~90 s; a step then read as latency 0 in every cell).
    root = pathlib.Path(__file__).resolve().parents[2]
    cfg = isl.Config.load(str(root / "examples" / "small_islet.toml"))
    res = isl.simulate(cfg, progress=False)
    step = cfg.get("glucose.t_step_s")
    a = isl.analyze(res)
    assert a.stimulus_s == pytest.approx(step, abs=0.1)
    lat = a.activity["response_latency_s"]
    assert np.all(np.isfinite(lat))
    assert np.min(lat) > 30.0
    # No calcium rise before the step: over the last basal minute the islet
    # mean only falls (the cells still settle towards their silent level).
    c = res["c"].mean(axis=1)
    basal = c[(res.time >= step - 60) & (res.time < step)]
    assert np.all(np.diff(basal) <= 0.0)
