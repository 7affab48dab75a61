"""isletsim.sweep and `islet sweep`: a network given to every task, --resume after the
config changed, warnings for swept keys that cannot change results, the summary
window and the frequency of islets with and without a common rhythm.

Run by hand:  PYTHONPATH=build/python ISLET_CLI=build/islet /usr/bin/python3 -m pytest -q python/tests/test_sweep.py
"""
import os
import subprocess
import warnings

import h5py
import numpy as np
import pytest

import isletsim as isl


def _cli():
    path = os.environ.get("ISLET_CLI")
    if not path or not os.path.exists(path):
        pytest.skip(f"islet CLI not found ({path}); set ISLET_CLI")
    return path


def _small(duration=0.2):
    """The default config, short, with a small lattice (the network= tests replace it)."""
    cfg = isl.Config.default().set("sim.duration_s", duration).set("network.kind", "lattice")
    return cfg.set("network.nx", 3).set("network.ny", 3).set("network.nz", 2).set("record.dtype", "float64")


def test_network_is_used_by_every_task_on_both_executors(tmp_path):
    net = isl.Network.sphere(20, seed=3)
    assert net.n_cells == 20
    cfg = isl.Config.default().set("sim.duration_s", 0.2).set("record.dtype", "float64")  # [network]: 1000 cells
    grid = {"coupling.gV": [0, 120]}
    tabs = {}
    for ex in ("serial", "threads"):
        tabs[ex] = isl.sweep(cfg, grid=grid, network=net, executor=ex, threads=2, out_dir=tmp_path / ex)
        assert tabs[ex].counts["ok"] == 2
        for f in tabs[ex]["file"]:
            with h5py.File(f, "r") as h:
                assert h.attrs["n_cells"] == 20
                assert h["cells/position"].shape == (20, 3)
                assert np.array_equal(h["cells/position"][()], net.positions)
                assert h["data/c"].shape[1] == 20
    for a, b in zip(tabs["serial"]["file"], tabs["threads"]["file"]):
        with h5py.File(a, "r") as x, h5py.File(b, "r") as y:
            assert x["data/c"][()].tobytes() == y["data/c"][()].tobytes()
    # the same as simulate() on that network
    res = isl.simulate(cfg.copy().set("coupling.gV", 120), network=net, threads=1)
    assert np.array_equal(tabs["serial"].load(1)["c"], res["c"])
    # the network is part of each task's hash: another network runs every task again
    other = isl.Network.sphere(20, seed=4)
    with pytest.warns(UserWarning, match=r"task 0: the network given changed; re-running"):
        again = isl.sweep(cfg, grid=grid, network=other, executor="serial", out_dir=tmp_path / "serial", resume=True)
    assert again.counts["skipped"] == 0 and again.counts["ok"] == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing changed: no warning, nothing runs
        same = isl.sweep(cfg, grid=grid, network=other, executor="serial", out_dir=tmp_path / "serial", resume=True)
    assert same.counts["skipped"] == 2
    # network.* keys cannot matter when a network is given
    with pytest.warns(UserWarning, match=r"network.n_cells cannot change the results.*network given"):
        isl.sweep(cfg, grid={"network.n_cells": [10, 30]}, network=net, executor="serial", out_dir=tmp_path / "n")


def test_resume_reruns_tasks_whose_config_changed(tmp_path):
    cfg = _small()
    tab = isl.sweep(cfg, grid={"coupling.gV": [0, 120]}, out_dir=tmp_path / "o", threads=2)
    assert tab.counts["ok"] == 2
    with pytest.warns(UserWarning) as rec:
        again = isl.sweep(cfg, grid={"coupling.gV": [0, 90]}, out_dir=tmp_path / "o", threads=2, resume=True)
    msgs = [str(w.message) for w in rec]
    assert any("task 1: config changed since it ran (coupling.gV 120 -> 90); re-running" in m for m in msgs), msgs
    assert not any("task 0:" in m for m in msgs)
    assert again.counts["skipped"] == 1 and again.counts["ok"] == 1
    assert again["coupling.gV"].tolist() == [0, 90]
    fresh = isl.sweep(cfg, grid={"coupling.gV": [0, 90]}, out_dir=tmp_path / "fresh", threads=2)
    assert np.array_equal(again.load(1)["c"], fresh.load(1)["c"])
    assert np.array_equal(again["synchrony"], fresh["synchrony"], equal_nan=True)
    assert again.load(1).config.get("coupling.gV") == 90
    # the base config changed (glucose): both run again
    with pytest.warns(UserWarning, match=r"glucose.level 11 -> 14"):
        based = isl.sweep(cfg.copy().set("glucose.level", 14), grid={"coupling.gV": [0, 90]}, out_dir=tmp_path / "o",
                          threads=2, resume=True)
    assert based.counts["ok"] == 2 and based.counts["skipped"] == 0
    with h5py.File(based["file"][0], "r") as h:
        assert h.attrs["task_hash"].startswith("fnv1a64:") and len(h.attrs["task_hash"]) == 24


def test_earlier_results_are_kept_unless_resume_or_overwrite(tmp_path):
    """A second sweep into the same out_dir is refused (nothing there changes) unless resume=True or
    overwrite=True, named as this function's arguments; the two exclude each other."""
    cfg = _small()
    grid = {"coupling.gV": [0, 120]}
    isl.sweep(cfg, grid=grid, out_dir=tmp_path / "o", executor="serial")
    before = (tmp_path / "o" / "task_0.h5").read_bytes()
    with pytest.raises(isl.InputError) as e:
        isl.sweep(cfg, grid=grid, out_dir=tmp_path / "o", executor="serial")
    msg = str(e.value)
    assert "holds the results of an earlier sweep" in msg and "resume=True" in msg and "overwrite=True" in msg, msg
    assert "--resume" not in msg and "--overwrite" not in msg, msg
    assert (tmp_path / "o" / "task_0.h5").read_bytes() == before
    assert isl.sweep(cfg, grid=grid, out_dir=tmp_path / "o", executor="serial", resume=True).counts["skipped"] == 2
    assert isl.sweep(cfg, grid=grid, out_dir=tmp_path / "o", executor="serial", overwrite=True).counts["ok"] == 2
    with pytest.raises(ValueError, match="exclude each other"):
        isl.sweep(cfg, grid=grid, out_dir=tmp_path / "o", resume=True, overwrite=True)


def test_warnings_for_keys_that_cannot_change_results(tmp_path):
    cfg = _small(1.0)  # glucose steps at 180 s: after the end of these runs
    with pytest.warns(UserWarning, match=r"isl.sweep: glucose.level cannot change the results of any of the 2 task\(s\): "
                                         r"the glucose step \(glucose.t_step_s = 180 s\) is not before the end of the "
                                         r"run \(sim.duration_s = 1 s\)"):
        isl.sweep(cfg, grid={"glucose.level": [8, 11]}, out_dir=tmp_path / "a", threads=2)
    # a sweep whose keys all matter: no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        isl.sweep(cfg.copy().set("sim.duration_s", 0.2), grid={"coupling.gV": [0, 60]}, out_dir=tmp_path / "b")

    # the CLI: once per key on stderr, at the start; nothing refused
    (tmp_path / "base.toml").write_text(cfg.to_toml())
    (tmp_path / "w.toml").write_text(
        'base = "base.toml"\nout_dir = "w"\n[grid]\n"glucose.t_step_s" = [100, 200]\n"record.interval_ms" = [10, 20]\n'
        '"heterogeneity.gKATP.dist" = ["normal", "gamma"]\n"coupling.gV" = [120, 120.0]\n')
    cfgz = cfg.copy().set("glucose.mode", "constant")
    cfgz.heterogeneity("gKATP", cv=0.0)
    (tmp_path / "base.toml").write_text(cfgz.to_toml())
    r = subprocess.run([_cli(), "sweep", str(tmp_path / "w.toml"), "-j", "2"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    err = r.stderr.splitlines()
    warn = [line for line in err if line.startswith("islet sweep: warning: ")]
    assert len(warn) == 4, err
    assert warn[0].startswith('islet sweep: warning: glucose.t_step_s cannot change the results of any of the 16 '
                              'task(s): glucose.mode = "constant" does not use it'), warn
    assert warn[1].startswith("islet sweep: warning: record.interval_ms cannot change the results"), warn
    assert "heterogeneity.gKATP.cv is 0" in warn[2]
    assert warn[3].startswith("islet sweep: warning: 8 task(s) repeat another task's swept values (e.g. tasks 0 and 1: "
                              "glucose.t_step_s=100, record.interval_ms=10, heterogeneity.gKATP.dist=normal, "
                              "coupling.gV=120)"), warn
    assert "16 ok" in r.stdout
    # -q: none
    r = subprocess.run([_cli(), "sweep", str(tmp_path / "w.toml"), "-j", "2", "-q", "--overwrite"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and "warning" not in r.stderr

    # sim.seed when nothing is random (lattice, no heterogeneity, network weights)
    flat = _small().set("coupling.weights", "network")
    for name in ("gKATP", "gKCa", "gCa", "gK", "atot", "JGK"):
        flat.heterogeneity(name, cv=0.0)
    with pytest.warns(UserWarning, match=r"sim.seed cannot change the results.*nothing in the run is random"):
        tab = isl.sweep(flat, grid={"sim.seed": [1, 2]}, out_dir=tmp_path / "seed", threads=2)
    assert np.array_equal(tab.load(0)["c"], tab.load(1)["c"])  # indeed


def test_summary_window_in_the_table(tmp_path):
    cfg = _small(0.4).set("summary.from_s", 0.1).set("summary.to_s", 0.3)
    tab = isl.sweep(cfg, grid={"coupling.gV": [0, 120]}, out_dir=tmp_path / "w", threads=2)
    assert tab["window_from_s"].tolist() == [0.1, 0.1] and tab["window_to_s"].tolist() == [0.3, 0.3]
    assert list(tab)[-4:] == ["window_from_s", "window_to_s", "file", "message"]
    default = isl.sweep(_small(0.4), grid={"coupling.gV": [0, 120]}, out_dir=tmp_path / "d", threads=2)
    assert default["window_from_s"].tolist() == [0.2, 0.2] and default["window_to_s"].tolist() == [0.4, 0.4]
    with pytest.raises(isl.InputError, match=r"summary.to_s: 0.5 s is after the end of the run"):
        _small(0.4).set("summary.to_s", 0.5)


def test_frequency_of_coupled_and_uncoupled_islets(tmp_path):
    # 27 heterogeneous cells at constant 11 mM: coupled they oscillate together (period
    # ~30 s); uncoupled each at its own pace, and their mean trace only wiggles (it
    # crosses its mid-level ~50 times a minute: the frequency is NaN, not that noise).
    cfg = (isl.Config.default().set("sim.duration_s", 200).set("network.kind", "lattice").set("network.nx", 3)
           .set("network.ny", 3).set("network.nz", 3).set("glucose.mode", "constant").set("glucose.level", 11)
           .set("record.vars", ["c"]).set("record.interval_ms", 50).set("summary.from_s", 40))
    tab = isl.sweep(cfg, grid={"coupling.gV": [0, 400]}, out_dir=tmp_path / "f", threads=2)
    assert tab.counts["ok"] == 2
    assert np.isnan(tab["frequency_hz"][0]), tab["frequency_hz"]
    assert 0.02 < tab["frequency_hz"][1] < 0.05, tab["frequency_hz"]
    assert tab["synchrony"][1] > 0.9 and abs(tab["synchrony"][0]) < 0.2, tab["synchrony"]
    assert tab["window_from_s"].tolist() == [40, 40] and tab["window_to_s"].tolist() == [200, 200]
    # the criterion, from the traces: the uncoupled mean trace keeps little of the cells' variance
    c = tab.load(0)["c"]
    t = tab.load(0).time
    w = t >= 40
    coherence = c[w].mean(axis=1).std() / np.sqrt(c[w].var(axis=0).mean())
    assert coherence < 0.5


def test_docs_sweeps_blocks_run(tmp_path):
    """docs/sweeps.md: every sh and python block runs as written, in order, in one empty folder."""
    import pathlib
    import re
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    text = (root / "docs" / "sweeps.md").read_text()
    env = dict(os.environ)
    env["PATH"] = os.path.dirname(os.path.abspath(_cli())) + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = str(pathlib.Path(isl.__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    env["MPLBACKEND"] = "Agg"
    blocks = re.findall(r"```(sh|python)\n(.*?)```", text, re.S)
    assert [lang for lang, _ in blocks].count("python") >= 2
    outputs = []
    for lang, block in blocks:
        cmd = ["bash", "-euo", "pipefail", "-c", block] if lang == "sh" else [sys.executable, "-c", block]
        r = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, f"block:\n{block}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
        outputs.append(r.stdout + r.stderr)
    # What they say happens, happens.
    (resumed,) = [o for o in outputs if "coupling.gV 120 -> 90" in o]
    assert resumed.count("re-running") == 2 and "2 ok, 0 failed, 4 skipped" in resumed
    (window,) = [o for o in outputs if "summary.from_s unset -> 1" in o]
    assert window.count("re-running") == 6
    (warned,) = [o for o in outputs if "warn.toml" in o or "warn_out" in o]
    assert warned.count("islet sweep: warning:") == 2 and "4 ok" in warned
    import csv

    with open(tmp_path / "gV_scan" / "summary.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["coupling.gV"] for r in rows] == ["0", "0", "60", "60", "90", "90"]
    assert {(r["window_from_s"], r["window_to_s"]) for r in rows} == {("1", "4")}
