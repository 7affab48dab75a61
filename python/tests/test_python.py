"""Tests of the isletsim Python module (run by CTest as `python_tests`).

Run by hand:  PYTHONPATH=build/python ISLET_CLI=build/islet /usr/bin/python3 -m pytest -q python/tests
"""
import _thread
import os
import pathlib
import subprocess
import threading
import time

import numpy as np
import pytest

import isletsim as isl


def _cli():
    path = os.environ.get("ISLET_CLI")
    if not path:  # <build>/python/isletsim/__init__.py -> <build>/islet
        path = str(pathlib.Path(isl.__file__).resolve().parents[2] / "islet")
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        pytest.skip(f"islet CLI not found ({path}); set ISLET_CLI")
    return path


def _run_cli(*args):
    return subprocess.run([_cli(), *args], capture_output=True, text=True, timeout=300)


SMALL = """
[sim]
duration_s = 1.0
seed = 7
[network]
kind = "lattice"
nx = 3
ny = 3
nz = 3
[glucose]
mode = "constant"
level = 11
[record]
vars = ["c", "V", "ADP"]
interval_ms = 5
"""


@pytest.fixture
def small_toml(tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p


# ---------------------------------------------------------------- Config


def test_params_and_states():
    ps = isl.params()
    names = [p.name for p in ps]
    assert "gKATP" in names and "gV" not in names
    gkatp = ps[names.index("gKATP")]
    assert gkatp.unit == "pS" and gkatp.default > 0 and gkatp.description
    assert [s.name for s in isl.states()][:1] == ["V"]
    assert "coupling.gV" in isl.config_keys()
    assert isl.detect_cores() >= 1


def test_config_round_trip(tmp_path):
    cfg = isl.Config.default().set("coupling.gV", 60.0).set("sim.duration_s", 30)
    cfg.heterogeneity("JGK", cv=0.3, dist="lognormal")
    text = cfg.to_toml()
    again = isl.Config.from_toml(text)
    assert again.to_toml() == text
    f = tmp_path / "run.toml"
    f.write_text(text)
    assert isl.Config.load(str(f)).to_toml() == text
    assert cfg.get("coupling.gV") == 60.0
    assert cfg.get("heterogeneity.JGK") == {"cv": 0.3, "dist": "lognormal"}
    assert cfg.duration_s == 30.0
    assert cfg.overrides == ["coupling.gV=60.0", "sim.duration_s=30", 'heterogeneity.JGK={cv = 0.3, dist = "lognormal"}']
    assert "override" in repr(cfg)
    # copy is independent
    c2 = cfg.copy().set("coupling.gV", 1)
    assert cfg.get("coupling.gV") == 60.0 and c2.get("coupling.gV") == 1.0


def test_config_set_matches_cli_print_config(small_toml):
    sets = [("sim.integrator", "euler"), ("record.vars", ["c", "G6P"]), ("coupling.gV", 75), ("sim.seed", 3)]
    cfg = isl.Config.load(str(small_toml))
    for k, v in sets:
        cfg.set(k, v)
    cli_args = []
    for k, v in sets:
        text = "[" + ", ".join(f'"{x}"' for x in v) + "]" if isinstance(v, list) else str(v)
        cli_args += ["--set", f"{k}={text}"]
    r = _run_cli("run", str(small_toml), *cli_args, "--print-config")
    assert r.returncode == 0, r.stderr
    assert cfg.to_toml() == r.stdout
    assert cfg.dt_ms == 0.1  # the integrator's default step, as on the command line


@pytest.mark.parametrize("key,value,cli_text", [
    ("coupling.gX", 1, "coupling.gX=1"),
    ("sim.duration_s", -5, "sim.duration_s=-5"),
    ("params.gKATp", 100.0, "params.gKATp=100.0"),
    ("nosection", 1, "nosection=1"),
    ("record.vars", ["c", "Q"], 'record.vars=["c", "Q"]'),
])
def test_set_error_is_the_cli_message(key, value, cli_text):
    with pytest.raises(ValueError) as ei:
        isl.Config.default().set(key, value)
    assert isinstance(ei.value, isl.InputError)
    r = _run_cli("run", "--set", cli_text, "--print-config")
    assert r.returncode == 2
    assert r.stderr.strip() == f"islet: error: {ei.value}"


def test_failed_set_leaves_config_unchanged():
    cfg = isl.Config.default().set("coupling.gV", 50)
    before = cfg.to_toml()
    with pytest.raises(ValueError):
        cfg.set("coupling.gV", "lots")
    assert cfg.to_toml() == before and cfg.overrides == ["coupling.gV=50"]
    with pytest.raises(TypeError):
        cfg.set("coupling.gV", object())


def test_error_mapping(tmp_path):
    with pytest.raises(FileNotFoundError, match="cannot open config file"):
        isl.Config.load(str(tmp_path / "missing.toml"))
    with pytest.raises(FileNotFoundError):
        isl.load(str(tmp_path / "missing.h5"))
    with pytest.raises(FileNotFoundError):
        isl.Network.from_csv(str(tmp_path / "c.csv"), str(tmp_path / "e.csv"))
    bad = tmp_path / "bad.toml"
    bad.write_text("[sim]\nduration_s = 'long'\n")
    with pytest.raises(ValueError, match=r"bad.toml:2:\d+: sim.duration_s"):
        isl.Config.load(str(bad))
    notrun = tmp_path / "not.h5"
    notrun.write_text("not hdf5")
    with pytest.raises(ValueError):
        isl.load(str(notrun))
    with pytest.raises(ValueError):
        isl.Config.from_toml("[sim\n")
    res = isl.simulate(isl.Config.from_toml(SMALL).set("sim.duration_s", 0.05), threads=1)
    with pytest.raises(KeyError, match="no variable 'G6P'"):
        res["G6P"]
    with pytest.raises(ValueError):
        isl.simulate(isl.Config.from_toml(SMALL), threads=0)


# ---------------------------------------------------------------- Network


def test_network_generators(tmp_path):
    lat = isl.Network.lattice(3, 4, 5, spacing_um=8.0)
    assert lat.n_cells == 60 and lat.n_edges == 2 * 4 * 5 + 3 * 3 * 5 + 3 * 4 * 4
    pos = lat.positions
    assert pos.shape == (60, 3) and pos.dtype == np.float64
    assert np.allclose(pos[1] - pos[0], [8.0, 0, 0])
    assert lat.edges.shape == (lat.n_edges, 2) and lat.edges.dtype == np.uint32
    sph = isl.Network.sphere(100, seed=3)
    assert sph.n_cells == 100 and sph.mean_degree > 3
    assert np.array_equal(sph.positions, isl.Network.sphere(100, seed=3).positions)
    # CSV round trip
    cells = tmp_path / "cells.csv"
    edges = tmp_path / "edges.csv"
    cells.write_text("id,x,y,z,gKATP\n" + "".join(f"{i},{x},{y},{z},{15000 + i}\n"
                                                  for i, (x, y, z) in enumerate(sph.positions.tolist())))
    edges.write_text("i,j,weight\n" + "".join(f"{i},{j},1\n" for i, j in sph.edges.tolist()))
    csv = isl.Network.from_csv(str(cells), str(edges))
    assert csv.n_cells == 100 and csv.n_edges == sph.n_edges
    assert csv.cell_params["gKATP"][5] == 15005
    arr = isl.Network.from_arrays(sph.positions, sph.edges.astype(np.int64))
    assert arr.n_edges == sph.n_edges and np.array_equal(arr.weights, np.ones(sph.n_edges))
    with pytest.raises(ValueError):
        isl.Network.from_arrays(np.zeros((2, 3)), np.array([[0, 0]]))  # self-loop


# ---------------------------------------------------------------- simulate


def test_simulate_small_network_arrays():
    cfg = isl.Config.default().set("sim.duration_s", 0.5)
    res = isl.simulate(cfg, network=isl.Network.lattice(3, 3, 3), threads=2)
    assert res.status == "complete" and res.message == ""
    n = 51  # 0 .. 0.5 s every 10 ms
    assert res.time.shape == (n,) and res.time.dtype == np.float64
    assert res.glucose.shape == (n,)
    assert res.vars == ["c", "V"] and "c" in res
    for v in ("c", "V"):
        a = res[v]
        assert a.shape == (n, 27) and a.dtype == np.float64 and a.flags["C_CONTIGUOUS"]
        assert not a.flags.writeable
        assert np.isfinite(a).all()
    # a view: the result stays alive through the array
    c = res["c"]
    del res
    assert float(c.sum()) > 0
    res = isl.simulate(cfg, network=isl.Network.lattice(3, 3, 3), threads=1)
    assert set(res.final_state) >= {"V", "c", "ADP"} and res.final_state["V"].shape == (27,)
    assert res.params["gKATP"].shape == (27,) and res.positions.shape == (27, 3)
    assert 0 <= res.synchrony("c") <= 1 and res.duty_cycle("c").shape == (27,)


def test_network_object_equals_config_network():
    cfg = isl.Config.from_toml(SMALL)
    a = isl.simulate(cfg, threads=1)
    b = isl.simulate(cfg, network=isl.Network.lattice(3, 3, 3), threads=2)
    for v in a.vars:
        assert np.array_equal(a[v], b[v])


def test_bitwise_equal_to_cli(tmp_path, small_toml):
    out = tmp_path / "cli.h5"
    r = _run_cli("run", str(small_toml), "--set", "record.dtype=float64", "-o", str(out), "-q", "-j", "2")
    assert r.returncode == 0, r.stderr
    cli = isl.load(str(out))
    cfg = isl.Config.load(str(small_toml)).set("record.dtype", "float64")
    py = isl.simulate(cfg, threads=1)
    assert cli.status == py.status == "complete"
    assert cli.vars == py.vars == ["c", "V", "ADP"]
    assert np.array_equal(cli.time, py.time)
    assert np.array_equal(cli.glucose, py.glucose)
    for v in py.vars:
        assert cli[v].dtype == np.float64
        assert np.array_equal(cli[v], py[v]), v
    assert np.array_equal(cli.positions, py.positions)
    assert np.array_equal(cli.edges, py.edges)
    assert np.array_equal(cli.weights, py.weights)
    assert cli.params.keys() == py.params.keys()
    for k in py.params:
        assert np.array_equal(cli.params[k], py.params[k]), k

    # Result.save writes what the CLI writes (same datasets and attributes).
    saved = tmp_path / "py.h5"
    py.save(str(saved))
    back = isl.load(str(saved))
    cli_attrs, back_attrs = dict(cli.attrs), dict(back.attrs)
    cli_attrs.pop("threads"), back_attrs.pop("threads")
    cli_attrs.pop("config"), back_attrs.pop("config")  # record.file differs (-o)
    assert cli_attrs == back_attrs
    assert back.config_toml == py.config_toml
    for v in py.vars:
        assert np.array_equal(back[v], cli[v])
    # and with output= the run goes straight to a file, as `islet run -o`
    direct = tmp_path / "direct.h5"
    d = isl.simulate(cfg, threads=2, output=str(direct))
    assert d.path == str(direct)
    again = isl.load(str(direct))
    assert again.config_toml == d.config_toml and again.status == "complete"
    for v in py.vars:
        assert np.array_equal(again[v], cli[v]) and np.array_equal(d[v], cli[v])


def test_float32_save_load(tmp_path):
    res = isl.simulate(isl.Config.from_toml(SMALL).set("sim.duration_s", 0.2), threads=1)
    p = tmp_path / "f32.h5"
    res.save(str(p))
    back = isl.load(str(p))
    assert back.status == "complete" and back.attrs["seed"] == 7
    assert np.array_equal(back["c"], res["c"].astype(np.float32).astype(np.float64))
    import h5py

    with h5py.File(p, "r") as f:
        assert f["data/c"].dtype == np.float32
        assert f.attrs["status"] == "complete"
        assert f["cells/position"].shape == (27, 3)


def test_gil_released():
    cfg = isl.Config.default().set("sim.duration_s", 40)
    net = isl.Network.lattice(5, 5, 5)
    count = 0
    stop = threading.Event()

    def spin():
        nonlocal count
        while not stop.is_set():
            count += 1

    th = threading.Thread(target=spin)
    th.start()
    # The counter's rate with the main thread idle ...
    c0, t0 = count, time.perf_counter()
    time.sleep(0.3)
    free_rate = (count - c0) / (time.perf_counter() - t0)
    # ... and while a simulation runs. Holding the GIL would leave the thread at
    # most the short signal checks (<= 5 ms per 50 ms, ~10%).
    c0, t0 = count, time.perf_counter()
    res = isl.simulate(cfg, network=net, threads=1)
    wall = time.perf_counter() - t0
    run_rate = (count - c0) / wall
    stop.set()
    th.join()
    assert res.status == "complete"
    assert run_rate > 0.3 * free_rate, (wall, run_rate, free_rate)


def test_keyboard_interrupt_stops_cleanly():
    cfg = isl.Config.default().set("sim.duration_s", 600)
    net = isl.Network.lattice(5, 5, 5)
    timer = threading.Timer(0.3, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as ei:
        isl.simulate(cfg, network=net, threads=2)
    wall = time.perf_counter() - t0
    timer.join()
    res = ei.value.result
    assert res.status == "interrupted"
    assert 0 < res.n_samples < 60001 and res["c"].shape == (res.n_samples, 125)
    assert np.isfinite(res["c"]).all()
    assert wall < 30
    # the interpreter goes on
    ok = isl.simulate(cfg.copy().set("sim.duration_s", 0.1), network=net, threads=1)
    assert ok.status == "complete"


def test_failed_run_raises_runtime_error():
    # Forward Euler at a 50 ms step blows up: SimulationError (a RuntimeError) with the data so far.
    cfg = (isl.Config.from_toml(SMALL).set("sim.integrator", "euler").set("record.interval_ms", 50)
           .set("sim.dt_ms", 50).set("sim.duration_s", 1))
    with pytest.raises(RuntimeError, match="blew up") as ei:
        isl.simulate(cfg, threads=1)
    assert isinstance(ei.value, isl.SimulationError)
    assert ei.value.result.status == "failed"
    res = ei.value.result
    assert res.n_samples >= 1 and np.isfinite(res["c"]).all()
    assert str(ei.value) == res.message
