"""isletsim in notebooks (CTest: python_jupyter_tests): signatures inspect reads, selective
and lazy isl.load, Result.to_xarray / to_pandas, simulate's progress bar, the HTML summaries,
and docs/python.md run as written."""
import ast
import importlib
import inspect
import os
import pathlib
import re
import subprocess
import sys
import types

import numpy as np
import pytest

import isletsim as isl

ROOT = pathlib.Path(__file__).resolve().parents[2]

from _support import SMALL  # noqa: E402  (the 27-cell islet the tests share)


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    """A 27-cell run written as float32 (the default record.dtype): 201 samples of c, V, ADP."""
    p = tmp_path_factory.mktemp("run") / "small.h5"
    res = isl.simulate(isl.Config.from_toml(SMALL), threads=1, output=str(p))
    assert res.status == "complete" and res.n_samples == 201
    return p


@pytest.fixture(scope="module")
def full(run_file):
    return isl.load(run_file, dtype="float64", lazy=False)


# ---------------------------------------------------------------- signatures


def _public_callables():
    """(qualified name, callable) of every public function and method of the package."""
    mods = [isl, isl.analysis, isl.plot, isl.figures]
    out = []
    for mod in mods:
        names = mod.__all__ if hasattr(mod, "__all__") else [n for n in vars(mod) if not n.startswith("_")]
        for name in names:
            obj = getattr(mod, name)
            if inspect.ismodule(obj) or not callable(obj):
                continue
            if inspect.isclass(obj):
                if issubclass(obj, BaseException):
                    continue
                if not (obj.__module__ or "").startswith("isletsim"):
                    continue  # imported helpers (dataclass, namedtuple, ...)
                for klass in obj.__mro__:
                    if not (klass.__module__ or "").startswith("isletsim"):
                        continue
                    for attr, raw in vars(klass).items():
                        if attr.startswith("_") and attr not in ("__getitem__", "__contains__", "_repr_html_"):
                            continue
                        if isinstance(raw, property):
                            continue
                        member = getattr(obj, attr)
                        if callable(member):
                            out.append((f"{mod.__name__}.{name}.{attr}", member))
            elif getattr(obj, "__module__", "").startswith("isletsim") or type(obj).__name__ == "builtin_function_or_method":
                out.append((f"{mod.__name__}.{name}", obj))
    return out


def test_every_public_callable_has_a_signature():
    found = _public_callables()
    names = {n for n, _ in found}
    # the walk reaches what it should
    for must in ("isletsim.simulate", "isletsim.load", "isletsim.sweep", "isletsim.analyze", "isletsim.load_analysis",
                 "isletsim.models", "isletsim.params", "isletsim.states", "isletsim.Config.set",
                 "isletsim.Config.default", "isletsim.Network.sphere", "isletsim.Result.synchrony",
                 "isletsim.Result.to_xarray", "isletsim.plot.raster", "isletsim.config_keys"):
        assert must in names, must
    bad = []
    for name, obj in found:
        try:
            inspect.signature(obj)
        except (ValueError, TypeError) as e:
            bad.append(f"{name}: {e}")
    assert not bad, "\n".join(bad)


def _params(f):
    return {p.name: p for p in inspect.signature(f).parameters.values()}


def test_documented_parameters_and_defaults():
    P = inspect.Parameter
    s = _params(isl.simulate)
    assert list(s) == ["config", "network", "threads", "output", "params", "initial", "callback",
                       "callback_interval_s", "progress", "continue_from", "overwrite"]
    assert s["overwrite"].default is False and s["overwrite"].kind is P.KEYWORD_ONLY
    assert s["network"].default is None and s["threads"].default is None and s["output"].default is None
    assert s["progress"].default is None and s["progress"].kind is P.KEYWORD_ONLY
    assert s["callback"].kind is P.KEYWORD_ONLY
    ld = _params(isl.load)
    assert list(ld) == ["path", "vars", "window", "cells", "dtype", "lazy"]
    assert ld["vars"].default is None and ld["window"].default is None and ld["cells"].default is None
    assert ld["dtype"].default is None and ld["lazy"].default is True and ld["dtype"].kind is P.KEYWORD_ONLY
    sph = _params(isl.Network.sphere)
    assert [(n, p.default) for n, p in sph.items()] == [
        ("n_cells", 1000), ("seed", 1), ("cell_diameter_um", 12.0), ("contact_factor", 1.07), ("oversample", 4.0)]
    assert list(_params(isl.Network.lattice)) == ["nx", "ny", "nz", "spacing_um"]
    assert _params(isl.Network.from_arrays)["weights"].default is None
    assert _params(isl.Config.from_toml)["origin"].default == "<string>"
    assert list(_params(isl.Config.set)) == ["self", "key", "value"]
    assert _params(isl.Config.heterogeneity)["dist"].default == "normal"
    syn = _params(isl.Result.synchrony)
    assert syn["var"].default == "c" and syn["from_s"].default == 0.0
    assert list(_params(isl.Result.save)) == ["self", "path"]
    assert _params(isl.Result.to_pandas)["form"].default == "wide"
    assert _params(isl.sweep)["out_dir"].default == "sweep_out"
    assert _params(isl.params)["model"].default == "bertram2007"
    # docstrings come along, and the wrappers call the compiled code
    assert "cv" in isl.Config.heterogeneity.__doc__ and "spheres" in isl.Network.sphere.__doc__
    assert isl.Network.sphere(20, seed=2).n_cells == 20
    assert isl.Config.default().set("coupling.gV", 60).get("coupling.gV") == 60


def _stub_tree():
    return ast.parse(pathlib.Path(isl.__file__).with_name("__init__.pyi").read_text())


def _stub_signature(node):
    """[(name, kind, default)] of a stub's def, as inspect names them."""
    P = inspect.Parameter
    a = node.args
    pos = a.posonlyargs + a.args
    defaults = [P.empty] * (len(pos) - len(a.defaults)) + [ast.literal_eval(d) for d in a.defaults]
    out = [(x.arg, P.POSITIONAL_ONLY if x in a.posonlyargs else P.POSITIONAL_OR_KEYWORD, d)
           for x, d in zip(pos, defaults)]
    if a.vararg:
        out.append((a.vararg.arg, P.VAR_POSITIONAL, P.empty))
    out += [(x.arg, P.KEYWORD_ONLY, P.empty if d is None else ast.literal_eval(d))
            for x, d in zip(a.kwonlyargs, a.kw_defaults)]
    if a.kwarg:
        out.append((a.kwarg.arg, P.VAR_KEYWORD, P.empty))
    return out


def _real_signature(f):
    return [(p.name, p.kind, p.default) for p in inspect.signature(f).parameters.values()]


def _stub_names(body) -> dict:
    """{name: node} of what a stub module or class body defines (def, class, annotated or assigned
    name, `from . import x as x`); properties are defs too."""
    out = {}
    for n in body:
        if isinstance(n, (ast.FunctionDef, ast.ClassDef)):
            out[n.name] = n
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name):
            out[n.target.id] = n
        elif isinstance(n, ast.Assign):
            out.update({t.id: n for t in n.targets if isinstance(t, ast.Name)})
        elif isinstance(n, ast.ImportFrom) and n.level == 1:
            for alias in n.names:
                assert alias.asname == alias.name, f"stub: 'from .{n.module or ''} import {alias.name}' needs " \
                                                   f"'as {alias.name}' to re-export it"
                out[alias.name] = n
    return out


def _public_members(cls) -> set:
    """The public names of a class of the package (its own, not those of dict or object)."""
    import dataclasses

    base = set()
    for b in cls.__mro__[1:]:
        if not (b.__module__ or "").startswith("isletsim"):
            base |= set(dir(b))
    names = {n for n in dir(cls) if not n.startswith("_") and n not in base}
    if dataclasses.is_dataclass(cls):
        names |= {f.name for f in dataclasses.fields(cls)}
    names |= {n for n in getattr(cls, "__annotations__", {}) if not n.startswith("_")}
    return names


def test_stub_covers_all_and_matches_the_signatures():
    """__init__.pyi declares every name of isletsim.__all__ and the submodules, with the parameters
    (names, kinds, defaults) of the real functions and methods, and every public member of each class."""
    stub = _stub_names(_stub_tree().body)
    missing = [n for n in list(isl.__all__) + ["analysis", "plot", "figures"] if n not in stub]
    assert not missing, f"not in __init__.pyi: {missing}"
    checked = 0
    for name, node in stub.items():
        if isinstance(node, ast.ImportFrom):  # a re-export: it must be that module's object
            real = importlib.import_module(f"isletsim.{node.module}") if node.module else None
            expect = getattr(real, name) if real else importlib.import_module(f"isletsim.{name}")
            assert getattr(isl, name) is expect, f"stub re-exports {name} from .{node.module or ''}"
            checked += 1
        elif isinstance(node, ast.FunctionDef):
            assert _stub_signature(node) == _real_signature(getattr(isl, name)), name
            checked += 1
        elif isinstance(node, ast.ClassDef) and hasattr(isl, name) and name not in ("Param", "State"):
            cls = getattr(isl, name)
            members = _stub_names(node.body)
            extra = [m for m in members if not m.startswith("_") and m not in _public_members(cls)
                     and not issubclass(cls, BaseException)]  # an error's .result is set when raised
            assert not extra, f"{name}: the stub declares {extra}, which the class does not have"
            absent = [m for m in _public_members(cls) if m not in members]
            assert not absent, f"{name}: not in the stub: {absent}"
            for m, mnode in members.items():
                if not isinstance(mnode, ast.FunctionDef) or any(
                        isinstance(d, ast.Name) and d.id == "property" for d in mnode.decorator_list):
                    continue
                assert hasattr(cls, m), f"{name}.{m}: in the stub, not in the class"
                assert _stub_signature(mnode) == _real_signature(getattr(cls, m)), f"{name}.{m}"
                checked += 1
    assert checked >= 40  # the check ran over the whole stub


def test_stub_check_catches_a_wrong_parameter_name():
    """The check above fails for a stub parameter named differently from the real one."""
    node = ast.parse("def __contains__(self, key: str) -> bool: ...").body[0]
    assert _stub_signature(node) != _real_signature(isl.Result.__contains__)
    assert _real_signature(isl.Result.__contains__)[1][0] == "var"


# ---------------------------------------------------------------- load


def test_load_keeps_the_stored_dtype_and_is_lazy(run_file, full):
    res = isl.load(run_file)
    assert res.dtype == np.float32 and res.in_memory == []
    assert res.vars == ["c", "V", "ADP"] and res.n_cells == 27 and res.n_samples == 201
    c = res["c"]
    assert c.dtype == np.float32 and c.shape == (201, 27) and res.in_memory == ["c"]
    assert np.array_equal(c, full["c"].astype(np.float32))
    assert np.array_equal(full["c"], c.astype(np.float64))  # float64 holds the stored values exactly
    assert full.dtype == np.float64 and full.in_memory == ["c", "V", "ADP"]
    assert np.array_equal(res.cells, np.arange(27)) and res.first_sample == 0
    # the C++ measures see the same values whatever the dtype
    assert res.synchrony("c", from_s=0.2) == full.synchrony("c", from_s=0.2)
    assert np.array_equal(res.duty_cycle("V"), full.duty_cycle("V"))
    assert np.array_equal(res.duty_cycle("c", from_s=0.3), full.duty_cycle("c", from_s=0.3))
    assert res.synchrony("V") == full.synchrony("V")
    eager = isl.load(run_file, lazy=False)
    assert eager.in_memory == ["c", "V", "ADP"] and eager["V"].dtype == np.float32


def test_load_selections_equal_slices_of_a_full_read(run_file, full):
    t = full.time
    part = isl.load(run_file, vars="V", dtype="float64")
    assert part.vars == ["V"] and np.array_equal(part["V"], full["V"])
    with pytest.raises(KeyError):
        part["c"]
    part = isl.load(run_file, vars=["ADP", "c"])
    assert part.vars == ["ADP", "c"]
    # window: t0 <= t < t1
    w = isl.load(run_file, window=(0.2, 0.5), dtype="float64")
    sel = (t >= 0.2) & (t < 0.5)
    assert np.array_equal(w.time, t[sel]) and w.n_samples == sel.sum() == 60
    assert w.time[0] == t[40] and w.first_sample == 40
    assert np.array_equal(w.glucose, full.glucose[sel])
    for v in full.vars:
        assert np.array_equal(w[v], full[v][sel]), v
    assert np.array_equal(isl.load(run_file, window=(None, 0.1)).time, t[t < 0.1])
    assert np.array_equal(isl.load(run_file, window=(0.9, None)).time, t[t >= 0.9])
    assert isl.load(run_file, window=(5, 6)).n_samples == 0
    # cells: a list in any order, a slice, a mask, negative indices
    pick = [20, 2, 5]
    for cells, idx in ((pick, pick), (np.array(pick), pick), (slice(3, 12, 4), [3, 7, 11]),
                       (np.arange(27) % 9 == 0, [0, 9, 18]), ([-1, 0], [26, 0]), (4, [4]),
                       (range(10, 13), [10, 11, 12])):
        r = isl.load(run_file, cells=cells, dtype="float64")
        assert r.n_cells == len(idx) and np.array_equal(r.cells, idx), cells
        for v in full.vars:
            assert np.array_equal(r[v], full[v][:, idx]), (cells, v)
        assert np.array_equal(r.positions, full.positions[idx])
        for k in full.params:
            assert np.array_equal(r.params[k], full.params[k][idx]), k
        assert np.array_equal(r.time, t)
    # both at once, and the edges between the cells kept, numbered as r.cells
    r = isl.load(run_file, vars="c", window=(0.5, None), cells=pick, dtype="float64")
    assert np.array_equal(r["c"], full["c"][t >= 0.5][:, pick])
    want = {(min(a, b), max(a, b)): w for (a, b), w in zip(full.edges.tolist(), full.weights)
            if a in pick and b in pick}
    got = {tuple(sorted((pick[i], pick[j]))): w for (i, j), w in zip(r.edges.tolist(), r.weights)}
    assert got == want and len(want) == 1  # of 20, 2, 5 only 2 and 5 are neighbours on the 3x3x3 lattice
    line = [0, 1, 2]  # neighbours along x
    r = isl.load(run_file, cells=line)
    assert sorted(map(tuple, r.edges.tolist())) == [(0, 1), (1, 2)]


def test_load_bad_arguments(run_file, tmp_path):
    with pytest.raises(ValueError, match="window: expected t0 < t1"):
        isl.load(run_file, window=(1, 0.5))
    with pytest.raises(ValueError, match=r"window: expected \(t0, t1\)"):
        isl.load(run_file, window=3)
    with pytest.raises(ValueError, match="window: t1 must be a number"):
        isl.load(run_file, window=(0, "end"))
    with pytest.raises(ValueError, match="cells: index 27 is out of range.*27 cells"):
        isl.load(run_file, cells=[3, 27])
    with pytest.raises(ValueError, match="cells: index 3 appears twice"):
        isl.load(run_file, cells=[3, 4, 3])
    with pytest.raises(ValueError, match=r"cells: a boolean mask needs one value per cell \(27\)"):
        isl.load(run_file, cells=np.ones(5, dtype=bool))
    with pytest.raises(TypeError, match="cells: expected"):
        isl.load(run_file, cells=[0.5, 1.5])
    with pytest.raises(KeyError, match="vars: .* has no variable 'G6P'.*recorded: c, V, ADP"):
        isl.load(run_file, vars=["c", "G6P"])
    with pytest.raises(ValueError, match="dtype: expected None"):
        isl.load(run_file, dtype="int16")
    with pytest.raises(FileNotFoundError):
        isl.load(tmp_path / "missing.h5", cells=[0])
    with pytest.raises(FileNotFoundError):
        isl.load(tmp_path / "missing.h5")


def test_lazy_result_notices_a_replaced_file(tmp_path):
    p = tmp_path / "r.h5"
    cfg = isl.Config.from_toml(SMALL).set("sim.duration_s", 0.1)
    isl.simulate(cfg, threads=1, output=p)
    lazy = isl.load(p)
    eager = isl.load(p, lazy=False)
    os.utime(p, ns=(1, 1))  # as if written again
    with pytest.raises(RuntimeError, match="changed since this Result was loaded"):
        lazy["c"]
    assert eager["c"].shape == (21, 27)


def test_save_of_a_selection(run_file, full, tmp_path):
    part = isl.load(run_file, vars=["c"], window=(0.5, None))
    out = tmp_path / "part.h5"
    part.save(out)
    back = isl.load(out, dtype="float64")
    assert back.vars == ["c"] and np.array_equal(back.time, full.time[full.time >= 0.5])
    assert np.array_equal(back["c"], full["c"][full.time >= 0.5])
    import h5py

    with h5py.File(out, "r") as f:
        assert f["data/c"].dtype == np.float32
    with pytest.raises(ValueError, match="only some cells"):
        isl.load(run_file, cells=[1, 2]).save(tmp_path / "cells.h5")


def test_reading_one_cell_reads_one_column(tmp_path):
    """A 1000-cell file: one cell's trace costs its own size, not the whole array's (peak RSS)."""
    p = tmp_path / "big.h5"
    cfg = (isl.Config.default().set("sim.duration_s", 3).set("network.kind", "lattice").set("glucose.mode", "constant")
           .set("record.interval_ms", 1).set("record.vars", ["c"]))
    isl.simulate(cfg, threads=1, output=p)
    full = isl.load(p)
    assert full.n_cells == 1000 and full.n_samples == 3001
    assert full["c"].nbytes == 3001 * 1000 * 4  # 12 MB as stored (float32)
    one = isl.load(p, vars="c", cells=[123])
    assert one["c"].shape == (3001, 1) and one["c"].nbytes == 3001 * 4
    assert np.array_equal(one["c"][:, 0], full["c"][:, 123])
    # Peak resident memory of a fresh process (VmHWM: ru_maxrss would start at this process's, the parent's).
    code = (
        "import re, sys, isletsim as isl, numpy as np\n"
        "def peak(): return int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))\n"
        "base = peak()\n"
        "r = isl.load(sys.argv[1], vars='c', cells=eval(sys.argv[2]), dtype='float64')\n"
        "s = float(r['c'].sum())\n"
        "print((peak() - base) / 1024)\n")

    def peak_mb(cells):
        out = subprocess.run([sys.executable, "-c", code, str(p), cells], capture_output=True, text=True, check=True)
        return float(out.stdout)

    whole, column, scattered = peak_mb("None"), peak_mb("[123]"), peak_mb("[5, 500, 995]")
    assert whole > 20, (whole, column, scattered)  # 24 MB as float64
    assert column < 8 and scattered < 12, (column, scattered)  # the column, a chunk cache and one 4 MiB block


# ---------------------------------------------------------------- xarray / pandas


def test_to_xarray(run_file, full):
    xr = pytest.importorskip("xarray")
    ds = full.to_xarray()
    assert isinstance(ds, xr.Dataset)
    assert dict(ds.sizes) == {"time": 201, "cell": 27}
    assert set(ds.data_vars) == {"c", "V", "ADP", "glucose"}
    assert ds["c"].dims == ("time", "cell") and ds["glucose"].dims == ("time",)
    assert ds["c"].attrs["units"] == "uM" and ds["V"].attrs["units"] == "mV" and ds["glucose"].attrs["units"] == "mM"
    assert ds["time"].attrs["units"] == "s" and ds["x"].attrs["units"] == "um"
    assert np.array_equal(ds["c"].values, full["c"]) and np.array_equal(ds["time"].values, full.time)
    assert np.array_equal(ds["cell"].values, np.arange(27))
    assert np.array_equal(np.stack([ds[a].values for a in "xyz"], axis=1), full.positions)
    assert ds.attrs["model"] == "bertram2007" and ds.attrs["status"] == "complete"
    assert ds.attrs["seed"] == 7 and "[sim]" in ds.attrs["config"]
    # labelled selection works as xarray's
    assert float(ds["c"].sel(cell=4).isel(time=-1)) == full["c"][-1, 4]
    # a selection keeps the run's cell numbers; params on request
    part = isl.load(run_file, cells=[5, 1], window=(0.5, None)).to_xarray(vars=["c"], params=True)
    assert list(part["cell"].values) == [5, 1] and set(part.data_vars) >= {"c", "glucose", "gKATP"}
    assert "V" not in part and part["gKATP"].dims == ("cell",) and part["gKATP"].attrs["units"] == "pS"
    assert np.array_equal(part["gKATP"].values, full.params["gKATP"][[5, 1]])


@pytest.mark.parametrize("engine, module", [("h5netcdf", "h5netcdf"), ("netcdf4", "netCDF4")])
def test_xarrays_own_reader_as_docs_python_md_says(run_file, full, engine, module):
    """docs/python.md: xarray.open_dataset(engine=..., group="data") gives the variables over the dimensions
    (time, cell) without coordinates; without group, glucose over time with the coordinates time and cell."""
    xr = pytest.importorskip("xarray")
    pytest.importorskip(module)
    text = " ".join((ROOT / "docs" / "python.md").read_text().split())
    assert f'xarray.open_dataset("small.h5", engine="h5netcdf", group="data")` gives `c` and `V` over the ' \
           "dimensions `(time, cell)`, without coordinates" in text
    assert '`engine="netcdf4"` gives the same' in text
    with xr.open_dataset(run_file, engine=engine, group="data") as ds:
        assert {v: ds[v].dims for v in ds.data_vars} == {"c": ("time", "cell"), "V": ("time", "cell"),
                                                         "ADP": ("time", "cell")}
        assert list(ds.coords) == []
        assert np.array_equal(ds["c"].values, full["c"].astype(np.float32))
    with xr.open_dataset(run_file, engine=engine) as ds:
        assert {v: ds[v].dims for v in ds.data_vars} == {"glucose": ("time",)}
        assert set(ds.coords) == {"time", "cell"}
        assert np.array_equal(ds["time"].values, full.time)


def test_to_pandas(full):
    pd = pytest.importorskip("pandas")
    df = full.to_pandas("V")
    assert isinstance(df, pd.DataFrame) and df.shape == (201, 27)
    assert df.index.name == "time" and df.columns.name == "cell" and list(df.columns) == list(range(27))
    assert np.array_equal(df.to_numpy(), full["V"]) and np.array_equal(df.index.to_numpy(), full.time)
    assert df.loc[full.time[10], 3] == full["V"][10, 3]
    long = full.to_pandas("c", form="long")
    assert list(long.columns) == ["time", "cell", "c"] and len(long) == 201 * 27
    row = long[(long["time"] == full.time[7]) & (long["cell"] == 11)]
    assert len(row) == 1 and row["c"].iloc[0] == full["c"][7, 11]
    with pytest.raises(ValueError, match="form: expected 'wide' or 'long'"):
        full.to_pandas("c", form="tidy")
    with pytest.raises(KeyError):
        full.to_pandas("G6P")


# ---------------------------------------------------------------- progress


# 125 cells, 30 s: long enough (~1 s) for the engine's progress callback, called at most every 50 ms.
PROGRESS_CFG = (SMALL.replace("duration_s = 1.0", "duration_s = 30.0").replace("interval_ms = 5", "interval_ms = 100")
                .replace("nx = 3\nny = 3\nnz = 3", "nx = 5\nny = 5\nnz = 5"))


def test_progress_hook_reports_steps():
    pytest.importorskip("tqdm")
    cfg = isl.Config.from_toml(PROGRESS_CFG)
    assert cfg.as_dict()["network"]["nx"] == 5
    seen = []
    res = isl._isletsim.simulate(cfg, None, 1, None, progress=lambda s, n: seen.append((s, n)))
    assert res.status == "complete"
    assert seen, "the run took under 50 ms?"
    steps, totals = zip(*seen)
    # dopri5 (the default) counts record intervals: 30 s / 100 ms.
    assert set(totals) == {300} and list(steps) == sorted(steps) and 0 < steps[-1] <= 300

    def boom(s, n):
        raise ZeroDivisionError("from the progress callable")

    with pytest.raises(ZeroDivisionError) as e:
        isl._isletsim.simulate(cfg, None, 1, None, progress=boom)
    assert e.value.result.status == "interrupted" and e.value.result.n_samples < 301


def test_progress_bar_on_off(capfd, monkeypatch):
    pytest.importorskip("tqdm")
    cfg = isl.Config.from_toml(PROGRESS_CFG)
    res = isl.simulate(cfg, threads=1, progress=True)
    err = capfd.readouterr().err
    assert "isletsim: 100%" in err and "30.0/30.0 s simulated" in err
    assert np.array_equal(res["c"], isl.simulate(cfg, threads=1, progress=False)["c"])  # no effect on results
    assert capfd.readouterr().err == ""
    isl.simulate(cfg, threads=1)  # default: stderr is not a terminal here -> off
    assert capfd.readouterr().err == ""
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # as in a notebook
    isl.simulate(cfg, threads=1)
    assert "s simulated" in capfd.readouterr().err
    with pytest.raises(TypeError, match="progress: expected True, False or None"):
        isl.simulate(cfg, progress="yes")


def test_import_stays_light():
    code = ("import sys, isletsim; print(sorted(m for m in ('xarray', 'pandas', 'tqdm', 'h5py', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# ---------------------------------------------------------------- HTML


def test_html_summaries(run_file):
    cfg = isl.Config.from_toml(SMALL).set("coupling.gV", 60)
    h = cfg._repr_html_()
    assert h.startswith("<div>") and "<table>" in h
    for fact in ("bertram2007", "lattice 3 x 3 x 3", "1 s", "dopri5, tolerance 1e-08", "c, V, ADP every 5 ms",
                 "constant 11 mM", "coupling.gV=60"):
        assert fact in h, fact
    res = isl.load(run_file, window=(0.5, None), cells=[1, 2, 3])
    h = res._repr_html_()
    for fact in ("bertram2007", "3 of 27", "101, t = 0.5 .. 1 s", "dopri5, tolerance 1e-08", "c (uM), V (mV)",
                 "float32", "not read yet: c, V, ADP", "complete", str(run_file)):
        assert fact in h, fact
    res["c"]
    assert "not read yet: V, ADP" in res._repr_html_()
    h = isl.simulate(cfg, threads=1)._repr_html_()
    assert "27</td>" in h and "(memory only)" in h and "float64" in h
    h = isl.Network.lattice(2, 3, 4)._repr_html_()
    assert "24</td>" in h and "mean degree" in h
    assert "&lt;" in isl.Config.from_toml(SMALL, origin="<x>")._repr_html_()  # escaped
    assert "step 2 -&gt; 11 mM at 180 s" in isl.Config.default()._repr_html_()
    t = np.arange(400) / 10.0
    rng = np.random.default_rng(0)
    trace = np.sin(2 * np.pi * t / 8)[:, None] + 0.3 * rng.random((400, 6))
    a = isl.analyze(trace, time=t, positions=rng.random((6, 3)) * 50, threshold=0.5)
    h = a._repr_html_()
    assert "isletsim.Analysis" in h and "6 x 400" in h
    assert "Result" in repr(res) and "<isletsim.Config" in repr(cfg)


def test_sweep_table_html(tmp_path):
    cfg = isl.Config.from_toml(SMALL).set("sim.duration_s", 0.2)
    tab = isl.sweep(cfg, grid={"coupling.gV": [0, 60]}, out_dir=tmp_path / "s", executor="serial", threads=1)
    h = tab._repr_html_()
    assert "2: 2 ok, 0 failed" in h and "coupling.gV" in h and str(tmp_path / "s") in h
    pytest.importorskip("pandas")
    assert h.count("</tr>") == 3 + 1 + 2  # the summary rows, then pandas' column header and one row per task
    assert "synchrony" in h and "message" not in h


# ---------------------------------------------------------------- docs/python.md


def test_docs_python_blocks_run(tmp_path):
    text = (ROOT / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 4
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = str(pathlib.Path(isl.__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    for block in blocks:
        r = subprocess.run([sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True,
                           timeout=120)
        assert r.returncode == 0, f"block:\n{block}\nstdout:\n{r.stdout}\nstderr:\n{r.stderr}"
