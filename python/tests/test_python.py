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


from _support import SMALL  # noqa: E402  (the 27-cell islet the tests share)


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
    assert cfg.to_toml(every_key=True) == r.stdout
    assert cfg.dt_ms == 0.1  # the integrator's default step, as on the command line


def test_every_key_shows_the_models_defaults():
    """as_dict/get and to_toml(every_key=True) show the model's defaults (gV, the integrator and its
    tolerance, heterogeneity, recorded variables); to_toml() leaves them out, and both read back
    as the same run."""
    cfg = isl.Config.default()
    assert cfg.get("coupling.gV") == 120.0 and cfg.get("coupling.gc") == 0.0
    assert cfg.get("sim.integrator") == "dopri5" and cfg.get("sim.tolerance") == 1e-8
    assert cfg.get("record.vars") == ["c", "V"]
    assert cfg.get("heterogeneity.JGK") == {"cv": 0.25, "dist": "normal"}
    assert "gV" not in cfg.to_toml() and "gV = 120.0" in cfg.to_toml(every_key=True)
    for text in (cfg.to_toml(), cfg.to_toml(every_key=True)):
        assert isl.Config.from_toml(text).to_toml(every_key=True) == cfg.to_toml(every_key=True)
    cha = isl.Config.default().set("model.name", "cha2011")
    assert "gc" not in cha.as_dict()["coupling"]  # another model: its own coupling keys
    with pytest.raises(KeyError):
        cfg.get("coupling.nothing")


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


def test_from_arrays_refuses_fractional_and_negative_ids():
    pos = np.array([[0.0, 0, 0], [10, 0, 0], [20, 0, 0]])
    # a float id is refused, not truncated (0.5, 1.9 once made edge 0-1)
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 0: cell id 0.5 is not a whole number"):
        isl.Network.from_arrays(pos, [[0.5, 1.9]])
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 1: cell id 2.5 is not a whole number"):
        isl.Network.from_arrays(pos, np.array([[0, 1], [1, 2.5]]))
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 0: cell id nan is not a whole number"):
        isl.Network.from_arrays(pos, [[0, float("nan")]])
    # out of range below 0 or above uint32: worded as the other edge errors, with the value
    rng = r"out of range \(the network has 3 cells, ids 0..2\)$"
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 0: cell id -1 " + rng):
        isl.Network.from_arrays(pos, [[-1, 1]])
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 1: cell id 1099511627776 " + rng):
        isl.Network.from_arrays(pos, [[0, 1], [2, 2**40]])
    with pytest.raises(isl.InputError, match=r"^Network.from_arrays: edge 0: cell id 3 " + rng):
        isl.Network.from_arrays(pos, [[0, 3]])
    # whole numbers stored as floats are ids like any other
    net = isl.Network.from_arrays(pos, [[0.0, 1.0], [1.0, 2.0]])
    assert net.edges.tolist() == [[0, 1], [1, 2]]


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
    for provenance in ("command_line", "start_time", "end_time"):  # of each run / save
        cli_attrs.pop(provenance, None), back_attrs.pop(provenance, None)
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

    # a loaded file is stored again as it was stored
    again = tmp_path / "again.h5"
    back.save(str(again))
    with h5py.File(again, "r") as f:
        assert f["data/c"].dtype == np.float32


def test_float32_output_result_is_the_file(tmp_path):
    # simulate(output=) writes through run_to_file (the CLI's path) and keeps the samples in
    # memory: the Result holds what the file holds, float32-rounded, with or without a callback.
    cfg = isl.Config.from_toml(SMALL).set("sim.duration_s", 0.2)
    memory = isl.simulate(cfg, threads=1)
    rounded = memory["c"].astype(np.float32).astype(np.float64)
    assert not np.array_equal(memory["c"], rounded)
    for cb in (None, lambda t, d: None):
        p = tmp_path / f"out{cb is None}.h5"
        res = isl.simulate(cfg, threads=1, output=str(p), callback=cb)
        back = isl.load(str(p))
        assert np.array_equal(res["c"], back["c"]) and np.array_equal(res["c"], rounded)
        assert np.array_equal(res.time, back.time) and res.n_samples == back.n_samples == 41
        assert res.params.keys() == back.params.keys()


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


# ---------------------------------------------------------------- per-cell arrays


def _lattice_csv(tmp_path, net, column=None):
    cells, edges = tmp_path / "cells.csv", tmp_path / "edges.csv"
    head = "id,x,y,z" + (f",{column[0]}" if column else "")
    rows = []
    for i, (x, y, z) in enumerate(net.positions.tolist()):
        rows.append(f"{i},{x!r},{y!r},{z!r}" + (f",{column[1][i]!r}" if column else ""))
    cells.write_text(head + "\n" + "\n".join(rows) + "\n")
    edges.write_text("i,j,weight\n" + "".join(f"{i},{j},{w!r}\n" for (i, j), w in
                                              zip(net.edges.tolist(), net.weights.tolist())))
    return str(cells), str(edges)


def test_per_cell_params_equal_cells_csv_column(tmp_path):
    lat = isl.Network.lattice(3, 3, 3)
    g = 25000.0 + 250.0 * np.arange(27) + 0.1  # pS, one per cell
    cfg = isl.Config.from_toml(SMALL)
    cfg.heterogeneity("gKATP", cv=0)  # the CSV column as it is (the default config has cv = 0.1)
    cfg.heterogeneity("gCa", cv=0.2)  # other parameters still get their factors
    via_csv = isl.simulate(cfg, network=isl.Network.from_csv(*_lattice_csv(tmp_path, lat, ("gKATP", g.tolist()))),
                           threads=1)
    via_array = isl.simulate(cfg, network=lat, threads=2, params={"gKATP": g})
    assert np.array_equal(via_array.params["gKATP"], g)
    assert np.array_equal(via_array.params["gCa"], via_csv.params["gCa"])
    for v in via_csv.vars:
        assert np.array_equal(via_csv[v], via_array[v]), v
    # The arrays are the final values: heterogeneity of that parameter does not apply to them.
    het = cfg.copy()
    het.heterogeneity("gKATP", cv=0.3)
    r = isl.simulate(het, network=lat, threads=1, params={"gKATP": list(g)})  # any sequence of numbers
    assert np.array_equal(r.params["gKATP"], g)
    for v in r.vars:
        assert np.array_equal(r[v], via_array[v]), v
    # A per-cell array of the global value gives the bits of the global value.
    base = isl.simulate(isl.Config.from_toml(SMALL), threads=1)
    same = isl.simulate(isl.Config.from_toml(SMALL), threads=1,
                        params={"gKATP": base.params["gKATP"].copy()},
                        initial={"V": np.full(27, base["V"][0, 0])})
    for v in base.vars:
        assert np.array_equal(base[v], same[v]), v


def test_per_cell_initial_states():
    v0 = np.linspace(-70.0, -50.0, 27)
    c0 = np.full(27, 0.15, dtype=np.float32)  # converted to float64
    res = isl.simulate(isl.Config.from_toml(SMALL), threads=1, initial={"V": v0, "c": c0})
    assert res.time[0] == 0
    assert np.array_equal(res["V"][0], v0)
    assert np.array_equal(res["c"][0], c0.astype(np.float64))


def test_per_cell_errors():
    cfg = isl.Config.from_toml(SMALL)
    with pytest.raises(ValueError, match=r"params\['gKATP'\]: 26 values, but the network has 27 cells"):
        isl.simulate(cfg, threads=1, params={"gKATP": np.ones(26)})
    with pytest.raises(ValueError, match=r"initial\['V'\]: 30 values, but the network has 27 cells"):
        isl.simulate(cfg, threads=1, initial={"V": np.ones(30)})
    with pytest.raises(KeyError, match="gKATP"):  # did you mean
        isl.simulate(cfg, threads=1, params={"gkatp": np.ones(27)})
    with pytest.raises(KeyError, match="no state variable"):
        isl.simulate(cfg, threads=1, initial={"gKATP": np.ones(27)})
    with pytest.raises(ValueError, match="1-D"):
        isl.simulate(cfg, threads=1, params={"gKATP": np.ones((27, 1))})
    with pytest.raises(ValueError, match="not finite"):
        isl.simulate(cfg, threads=1, params={"gKATP": np.full(27, np.nan)})
    with pytest.raises(TypeError):
        isl.simulate(cfg, threads=1, params=[("gKATP", np.ones(27))])


# ---------------------------------------------------------------- callback


def test_callback_blocks_equal_result():
    cfg = isl.Config.from_toml(SMALL)  # 1 s every 5 ms: 201 samples
    blocks = []

    def f(t, data):
        assert threading.current_thread() is not threading.main_thread() or True
        blocks.append((t, data))

    res = isl.simulate(cfg, threads=2, callback=f, callback_interval_s=0.1)  # 20 samples a block
    assert res.status == "complete"
    assert [len(t) for t, _ in blocks] == [20] * 10 + [1]
    for t, data in blocks:
        assert t.dtype == np.float64 and t.ndim == 1 and t.flags["C_CONTIGUOUS"]
        assert list(data) == res.vars
        for a in data.values():
            assert a.dtype == np.float64 and a.shape == (len(t), 27) and a.flags["C_CONTIGUOUS"]
            assert a.flags.writeable  # a copy the callback owns
    assert np.array_equal(np.concatenate([t for t, _ in blocks]), res.time)
    for v in res.vars:
        assert np.array_equal(np.concatenate([d[v] for _, d in blocks]), res[v])
    plain = isl.simulate(cfg, threads=1)  # the callback does not change the run
    for v in res.vars:
        assert np.array_equal(plain[v], res[v])
    # default interval: the engine's blocks (all 201 samples in one here)
    n = []
    isl.simulate(cfg, threads=1, callback=lambda t, d: n.append(len(t)))
    assert sum(n) == 201


def test_callback_with_output_file(tmp_path):
    cfg = isl.Config.from_toml(SMALL).set("record.dtype", "float64")
    seen = []
    out = tmp_path / "cb.h5"
    res = isl.simulate(cfg, threads=1, output=str(out), callback=lambda t, d: seen.append(d["c"].copy()),
                       callback_interval_s=0.25)
    plain = isl.simulate(cfg, threads=1)
    back = isl.load(str(out))
    assert back.status == "complete" and res.path == str(out)
    for v in plain.vars:
        assert np.array_equal(back[v], plain[v])
    assert np.array_equal(np.concatenate(seen), plain["c"])


def test_callback_stop_and_raise():
    cfg = isl.Config.from_toml(SMALL).set("sim.duration_s", 60)  # 12001 samples
    calls = []

    def stop_after_three(t, data):
        calls.append(t[-1])
        return len(calls) >= 3

    res = isl.simulate(cfg, threads=1, callback=stop_after_three, callback_interval_s=0.5)
    assert res.status == "interrupted" and res.message.startswith("stopped by the callback")
    assert len(calls) == 3 and res.n_samples < 12001

    class Boom(Exception):
        pass

    def boom(t, data):
        if t[0] > 1.0:
            raise Boom("online analysis failed")

    with pytest.raises(Boom, match="online analysis failed") as ei:
        isl.simulate(cfg, threads=2, callback=boom, callback_interval_s=0.5)
    res = ei.value.result
    assert res.status == "interrupted" and 0 < res.n_samples < 12001
    assert np.isfinite(res["c"]).all()
    with pytest.raises(ValueError, match="needs a callback"):
        isl.simulate(cfg, threads=1, callback_interval_s=0.5)
    with pytest.raises(TypeError, match="callable"):
        isl.simulate(cfg, threads=1, callback=3)
    # the interpreter goes on
    assert isl.simulate(cfg.copy().set("sim.duration_s", 0.1), threads=1).status == "complete"


# ---------------------------------------------------------------- sweep

GRID = {"coupling.gV": [0, 60, 120], "glucose.level": [8, 11]}


def test_sweep_matches_cli(tmp_path, small_toml):
    import h5py

    cfg = isl.Config.load(str(small_toml)).set("coupling.gc", 0.01)
    (tmp_path / "base.toml").write_text(cfg.to_toml())
    (tmp_path / "sweep.toml").write_text(
        'base = "base.toml"\nout_dir = "cli"\n[grid]\n"coupling.gV" = [0, 60, 120]\n"glucose.level" = [8, 11]\n')
    r = _run_cli("sweep", str(tmp_path / "sweep.toml"), "-j", "2")
    assert r.returncode == 0, r.stderr
    tab = isl.sweep(cfg, grid=GRID, out_dir=tmp_path / "py", threads=2)
    assert isinstance(tab, dict) and isinstance(tab, isl.SweepTable)
    assert tab.counts["ok"] == 6 and tab.n_tasks == 6 and tab.keys_swept == list(GRID)
    assert list(tab) == ["task", "coupling.gV", "glucose.level", "status", "wall_s", "duty_cycle",
                         "frequency_hz", "synchrony", "window_from_s", "window_to_s", "file", "message"]
    assert tab["task"].dtype == np.int64 and np.array_equal(tab["task"], np.arange(6))
    assert tab["coupling.gV"].dtype == np.int64 and tab["coupling.gV"].tolist() == [0, 0, 60, 60, 120, 120]
    assert tab["glucose.level"].tolist() == [8, 11] * 3
    assert tab["status"].tolist() == ["ok"] * 6 and tab["status"].dtype.kind == "U"
    for k in ("wall_s", "duty_cycle", "frequency_hz", "synchrony"):
        assert tab[k].dtype == np.float64 and tab[k].shape == (6,) and tab[k].flags["C_CONTIGUOUS"]
    # the same table (but wall time and file paths) and the same bits in every file
    import csv

    with open(tmp_path / "cli" / "summary.csv") as f:
        cli_rows = list(csv.DictReader(f))
    for i, row in enumerate(cli_rows):
        for k in ("duty_cycle", "frequency_hz", "synchrony"):
            assert float(row[k]) == tab[k][i] or (np.isnan(tab[k][i]) and row[k] == "nan"), (i, k)
        with h5py.File(tmp_path / "cli" / f"task_{i}.h5", "r") as a, h5py.File(tab["file"][i], "r") as b:
            names = []
            a.visititems(lambda name, obj: names.append(name) if isinstance(obj, h5py.Dataset) else None)
            assert {"data/c", "data/V", "data/ADP"} <= set(names)
            for name in names:  # every dataset (data, time, cells, edges, parameters), bit for bit
                x, y = a[name][()], b[name][()]
                assert x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes(), (i, name)
    res = tab.load(3)
    assert isinstance(res, isl.Result) and res.config.get("coupling.gV") == 60
    assert res.config.get("glucose.level") == 11 and res.status == "complete"
    assert [t for t, _ in tab.results()] == list(range(6))
    # resume: nothing left to run
    again = isl.sweep(cfg, grid=GRID, out_dir=tmp_path / "py", threads=2, resume=True)
    assert again.counts["skipped"] == 6 and again.n_tasks == 6
    assert np.array_equal(again["synchrony"], tab["synchrony"])


def test_sweep_zip_sample_serial(tmp_path):
    cfg = isl.Config.from_toml(SMALL).set("sim.duration_s", 0.2)
    tab = isl.sweep(cfg, zip={"sim.seed": np.array([1, 2]), "heterogeneity.gKATP.cv": [0.1, 0.2]},
                    sample={"n": 2, "seed": 3, "coupling.gV": [0.0, 100.0]},
                    out_dir=str(tmp_path / "s"), executor="serial")
    assert tab.n_tasks == 4 and tab.counts["ok"] == 4
    assert tab["sim.seed"].tolist() == [1, 1, 2, 2]
    assert tab["heterogeneity.gKATP.cv"].dtype == np.float64
    assert tab["coupling.gV"].dtype == np.float64 and ((tab["coupling.gV"] >= 0) & (tab["coupling.gV"] <= 100)).all()
    r = tab.load(2)  # zip slowest: its second point, the first sample
    assert r.config.get("sim.seed") == 2 and r.config.as_dict()["heterogeneity"]["gKATP"]["cv"] == 0.2
    assert r.config.get("coupling.gV") == tab["coupling.gV"][0]


def test_sweep_errors(tmp_path):
    cfg = isl.Config.from_toml(SMALL)
    with pytest.raises(isl.InputError, match=r"^isl.sweep: coupling.gv: unknown key \(did you mean 'gV'\?\)"):
        isl.sweep(cfg, grid={"coupling.gv": [1, 2]}, out_dir=tmp_path / "e")
    with pytest.raises(isl.InputError, match="zipped lists need the same length"):
        isl.sweep(cfg, zip={"coupling.gV": [1, 2], "sim.seed": [1]}, out_dir=tmp_path / "e")
    with pytest.raises(ValueError, match="nothing to sweep"):
        isl.sweep(cfg, out_dir=tmp_path / "e")
    with pytest.raises(ValueError, match="executor"):
        isl.sweep(cfg, grid=GRID, executor="mpi", out_dir=tmp_path / "e")
    with pytest.raises(ValueError):
        isl.sweep(cfg, grid=GRID, threads=0, out_dir=tmp_path / "e")
    assert not (tmp_path / "e").exists()  # nothing ran
    # a failing task is reported in the table; the others run
    bad = cfg.copy().set("record.interval_ms", 50).set("sim.integrator", "euler").set("sim.dt_ms", 50)
    tab = isl.sweep(bad, grid={"sim.dt_ms": [0.05, 50]}, out_dir=tmp_path / "f", threads=2)
    assert tab["status"].tolist() == ["ok", "failed"] and "blew up" in tab["message"][1]
    assert tab["file"][1].endswith("task_1.h5.failed")
    assert np.isnan(tab["synchrony"][1])


def test_sweep_keyboard_interrupt(tmp_path):
    cfg = isl.Config.default().set("sim.duration_s", 120).set("network.kind", "lattice")
    cfg.set("network.nx", 4).set("network.ny", 4).set("network.nz", 4)
    timer = threading.Timer(0.5, _thread.interrupt_main)
    t0 = time.perf_counter()
    timer.start()
    with pytest.raises(KeyboardInterrupt) as ei:
        isl.sweep(cfg, grid={"sim.seed": list(range(1, 9))}, out_dir=tmp_path / "k", threads=1)
    timer.join()
    assert time.perf_counter() - t0 < 30
    tab = ei.value.result
    assert isinstance(tab, isl.SweepTable) and tab.counts["interrupted"] >= 1
    assert not list((tmp_path / "k").glob("*.part"))


# ---------------------------------------------------------------- analysis, plot


def test_analysis_and_plot_helpers():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = isl.simulate(isl.Config.from_toml(SMALL), threads=1)
    dc = isl.analysis.duty_cycle(res, "c", from_s=0.5)
    assert dc.dtype == np.float64 and dc.shape == (27,)
    assert np.array_equal(dc, res.duty_cycle("c", 0.5))
    assert ((dc >= 0) & (dc <= 1)).all()
    s = isl.analysis.synchrony(res, "c", from_s=0.5)
    assert -1.0 <= s <= 1.0 and s == res.synchrony("c", 0.5)
    t, m = isl.analysis.mean_trace(res, "c")
    assert np.array_equal(m, np.asarray(res["c"]).mean(axis=1)) and t.shape == m.shape
    fig, ax = plt.subplots(2, 1, sharex=True)
    im = isl.plot.raster(res, "c", ax=ax[0])
    assert im.get_array().shape == (27, len(res.time))
    line = isl.plot.mean_trace(res, "c", ax=ax[1])
    assert np.array_equal(line.get_ydata(), m)
    plt.close(fig)


def test_measures_refuse_a_from_s_that_leaves_no_samples(tmp_path):
    path = tmp_path / "small.h5"
    isl.simulate(isl.Config.from_toml(SMALL), threads=1, output=str(path))  # samples at t = 0 .. 1 s
    for res in (isl.load(path), isl.load(path, dtype="float64")):
        for measure in (res.synchrony, res.duty_cycle, lambda v, f: isl.analysis.synchrony(res, v, f)):
            with pytest.raises(ValueError, match=r"^from_s = 1000000.0 s leaves no samples: the recording ends at "
                                                 r"t = 1.0 s$"):
                measure("c", 1e6)
            for bad in (float("nan"), float("inf"), float("-inf")):
                with pytest.raises(ValueError, match=r"^from_s must be a finite number of seconds, got "):
                    measure("c", bad)
        # the last sample alone is still a measure (one sample: no variation, duty cycle 0)
        assert res.duty_cycle("c", 1.0).shape == (27,)
    empty = isl.load(path, window=(5, None))
    assert empty.n_samples == 0
    with pytest.raises(ValueError, match="leaves no samples: this Result holds none"):
        empty.synchrony("c", 0.0)


def test_load_refuses_a_variable_listed_twice(tmp_path):
    path = tmp_path / "small.h5"
    isl.simulate(isl.Config.from_toml(SMALL), threads=1, output=str(path))
    with pytest.raises(ValueError, match=r"^vars: variable 'c' is listed twice"):
        isl.load(path, vars=["c", "V", "c"])
    res = isl.load(path, vars=["V", "c"])
    assert res.vars == ["V", "c"]
    res.save(tmp_path / "again.h5")


@pytest.mark.parametrize("n, variables, integrator, interval_ms, chunk", [
    (1000, ["c", "V"], "rk4", 10, 64),           # 2^17 / 2000 = 65.5 -> 64
    (27, ["c", "V", "ADP"], "rk4", 5, 1024),     # 2^17 / 81 = 1618 -> at most 1024
    (1000, ["c"], "rk4", 10, 128),               # 2^17 / 1000 = 131 -> 128
    (1000, ["c", "V"], "dopri5", 10, 50),        # the default run: 64, and 50 divides 100 samples a second
    (27, ["c", "V"], "dopri5", 100, 10),         # 10 samples a second
])
def test_chunks_as_docs_hdf5_layout_says(tmp_path, n, variables, integrator, interval_ms, chunk):
    """docs/hdf5-layout.md: chunks of 2^17 / (cells x variables) samples as a power of two in 1..1024; with
    dopri5 the largest divisor of a second's samples up to that."""
    import h5py

    doc = " ".join((pathlib.Path(__file__).resolve().parents[2] / "docs" / "hdf5-layout.md").read_text().split())
    assert "2^17 / (cells x recorded variables) rounded down to a power of two, between 1 and 1024" in doc
    assert "50 for the default run, recording every 10 ms" in doc
    default = isl.Config.default()
    assert default.integrator == "dopri5" and default.get("record.interval_ms") == 10
    side = {1000: 10, 27: 3}[n]
    cfg = (isl.Config.default().set("sim.duration_s", 0.2).set("sim.integrator", integrator)
           .set("record.vars", variables).set("record.interval_ms", interval_ms))
    path = tmp_path / "run.h5"
    isl.simulate(cfg, network=isl.Network.lattice(side, side, side), threads=2, output=str(path))
    isl.load(path).save(tmp_path / "saved.h5")  # a saved Result is chunked as the run's file
    for p in (path, tmp_path / "saved.h5"):
        with h5py.File(p, "r") as f:
            assert f["time"].chunks == (chunk,) and f["glucose"].chunks == (chunk,)
            for v in variables:
                assert f["data"][v].chunks == (chunk, n)


def test_attrs_integers_are_ints(tmp_path):
    import h5py

    path = tmp_path / "small.h5"
    isl.simulate(isl.Config.from_toml(SMALL), threads=1, output=str(path))
    attrs = isl.load(path).attrs
    with h5py.File(path, "r") as f:
        stored = {k: v for k, v in f.attrs.items() if np.issubdtype(np.asarray(v).dtype, np.integer)}
    assert {"n_samples", "n_cells", "seed", "threads"} <= set(stored)
    for k, v in stored.items():
        assert type(attrs[k]) is int and attrs[k] == int(v), k
    assert attrs["n_samples"] == 201


def test_attrs_any_integer_attribute_is_an_int_exactly(tmp_path):
    import h5py

    path = tmp_path / "small.h5"
    isl.simulate(isl.Config.from_toml(SMALL), threads=1, output=str(path))
    with h5py.File(path, "r+") as f:
        f.attrs["steps"] = np.int64(2**60 + 1)  # not a double: 2**60 + 1 has no double
        f.attrs["count"] = np.int32(-7)
        f.attrs["flag"] = np.uint8(1)
        f.attrs["ratio"] = 2.0
    attrs = isl.load(path).attrs
    assert type(attrs["steps"]) is int and attrs["steps"] == 2**60 + 1
    assert type(attrs["count"]) is int and attrs["count"] == -7
    assert type(attrs["flag"]) is int and attrs["flag"] == 1
    assert type(attrs["ratio"]) is float and attrs["ratio"] == 2.0
    assert type(attrs["dt_ms"]) is float


def test_models_from_python_and_a_sweep_over_models(tmp_path):
    names = [m["name"] for m in isl.models()]
    assert names[:3] == ["bertram2007", "cha2011", "pedersen2010"]
    assert [p.name for p in isl.params("pedersen2010")][:2] == ["cm", "gNa"]
    with pytest.raises(isl.InputError, match="did you mean 'cha2011'"):
        isl.Config.default().set("model.name", "cha2O11")
    cfg = (isl.Config.default().set("sim.duration_s", 1).set("network.kind", "lattice").set("network.nx", 3)
           .set("network.ny", 3).set("network.nz", 2).set("glucose.mode", "constant").set("glucose.level", 8))
    # Each task gets its model's defaults (integrator, time step, recorded variables, heterogeneity), not
    # Bertram's.
    t = isl.sweep(cfg, grid={"model.name": ["bertram2007", "cha2011", "pedersen2010"]}, out_dir=str(tmp_path / "m"),
                  threads=2)
    assert list(t["status"]) == ["ok", "ok", "ok"]
    runs = [t.load(i) for i in range(3)]
    assert [r.vars for r in runs] == [["c", "V"], ["Cai", "V"], ["V"]]
    assert [r.attrs["model"] for r in runs] == ["bertram2007", "cha2011", "pedersen2010"]
    assert [r.attrs["integrator"] for r in runs] == ["dopri5", "rk4", "rk4"]
    assert [r.attrs["dt_ms"] for r in runs] == [10.0, 0.1, 0.1]  # dopri5: its grid, the record interval


def test_network_to_csv_round_trip(tmp_path):
    # A sphere with non-round weights and a per-cell column, written and read back: the same bits.
    net = isl.Network.sphere(60, seed=3)
    w = 1.0 / 3.0 + 0.1 * np.arange(net.n_edges)
    g = 25000.0 * (1.0 + 1e-3 * np.sqrt(np.arange(net.n_cells)))
    net = isl.Network.from_arrays(net.positions, net.edges, w)
    net.to_csv(tmp_path / "cells.csv", str(tmp_path / "edges.csv"))  # PathLike or str
    back = isl.Network.from_csv(str(tmp_path / "cells.csv"), str(tmp_path / "edges.csv"))
    assert back.n_cells == 60 and back.n_edges == net.n_edges
    assert np.array_equal(back.positions, net.positions)
    assert np.array_equal(back.edges, net.edges)
    assert np.array_equal(back.weights, w)
    # A per-cell column survives too (a cells.csv with one, through from_csv and to_csv again).
    lines = (tmp_path / "cells.csv").read_text().splitlines()
    (tmp_path / "cells_g.csv").write_text(
        "\n".join([lines[0] + ",gKATP"] + [f"{l},{x!r}" for l, x in zip(lines[1:], g)]) + "\n")
    with_g = isl.Network.from_csv(str(tmp_path / "cells_g.csv"), str(tmp_path / "edges.csv"))
    with_g.to_csv(tmp_path / "c2.csv", tmp_path / "e2.csv")
    again = isl.Network.from_csv(str(tmp_path / "c2.csv"), str(tmp_path / "e2.csv"))
    assert np.array_equal(again.cell_params["gKATP"], g)
    assert (tmp_path / "c2.csv").read_text().splitlines()[0] == "id,x,y,z,gKATP"
    # The same network as the CLI's export of the same config.
    subprocess.run([_cli(), "network", "--set", "network.n_cells=60", "--set", "sim.seed=3", "-q", "--export",
                    str(tmp_path / "cli_c.csv"), str(tmp_path / "cli_e.csv")], check=True)
    isl.Network.sphere(60, seed=3).to_csv(tmp_path / "py_c.csv", tmp_path / "py_e.csv")
    assert (tmp_path / "cli_c.csv").read_bytes() == (tmp_path / "py_c.csv").read_bytes()
    assert (tmp_path / "cli_e.csv").read_bytes() == (tmp_path / "py_e.csv").read_bytes()
    # Errors: same file twice, a missing folder; nothing written.
    with pytest.raises(isl.InputError, match="the same file"):
        net.to_csv(tmp_path / "x.csv", tmp_path / "x.csv")
    with pytest.raises(isl.InputError, match="no/such"):
        net.to_csv(tmp_path / "no/such/c.csv", tmp_path / "e3.csv")
    assert not (tmp_path / "x.csv").exists() and not (tmp_path / "e3.csv").exists()
