"""Bad input from Python is refused with an InputError (a ValueError) naming
the key, the value and what was expected, never a crash of the interpreter
(run by CTest as `python_validation_tests`)."""
import re

import numpy as np
import pytest

import isletsim as isl


def small():
    return isl.Config.default().set("sim.duration_s", 0.01).set("network.n_cells", 10)


def test_directory_as_config(tmp_path):
    with pytest.raises(isl.InputError, match="is a directory; expected a TOML config file or an isletsim .h5 file"):
        isl.Config.load(str(tmp_path))
    with pytest.raises(isl.InputError, match="is a directory"):
        isl.Config.load(str(tmp_path) + "/")


def test_absurd_thread_counts_are_refused():
    with pytest.raises(isl.InputError, match=r"threads=100000: too many threads \(at most 1024"):
        isl.simulate(small(), threads=100000)
    with pytest.raises(ValueError):
        isl.simulate(small(), threads=0)
    assert isl.simulate(small(), threads=3).status == "complete"


def test_self_referencing_list_is_refused():
    lst = ["c"]
    lst.append(lst)
    with pytest.raises(isl.InputError, match=r"Config.set\('record.vars'\): lists or dicts nested more than 32"):
        small().set("record.vars", lst)
    d = {}
    d["cv"] = d
    with pytest.raises(isl.InputError, match=r"Config.set\('heterogeneity.gK'\)"):
        small().set("heterogeneity.gK", d)


def test_deeply_nested_list_is_refused():
    deep = []
    for _ in range(100000):
        deep = [deep]
    cfg = small()
    with pytest.raises(isl.InputError, match=r"Config.set\('record.vars'\): lists or dicts nested"):
        cfg.set("record.vars", deep)
    assert cfg.record_vars == ["c", "V"]  # unchanged
    cfg.set("record.vars", ["V"])  # a plain list still works
    assert cfg.record_vars == ["V"]


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("params.Cm", 0, r"params.Cm: 0 is not allowed: expected a number > 0 \(membrane capacitance, fF\)"),
        ("params.Cm", -1.0, "expected a number > 0"),
        ("params.gK", -5, "params.gK: -5 is not allowed: expected a number >= 0"),
        ("initial.c", -0.1, "initial.c: -0.1 is not allowed: expected a number > 0"),
        ("initial.n", 2.0, r"expected a number in \[0, 1\]"),
        ("sim.duration_s", 1e300, "expected at most 2"),
        ("network.n_cells", 10**9, "expected 1..100000000 cells"),
        ("sim.seed", 2**70, r"sim.seed: expected an integer 0..9223372036854775807"),
        ("glucose.level", 1e6, r"expected a glucose level in \[0, 1000\] mM"),
    ],
)
def test_config_values_out_of_range(key, value, expected):
    cfg = small()
    with pytest.raises(isl.InputError, match=expected):
        cfg.set(key, value)


def test_per_cell_params_are_checked():
    cfg = small()
    with pytest.raises(isl.InputError, match=r"params\['Cm'\]: cell 3: Cm = 0 is not allowed: expected a number > 0"):
        isl.simulate(cfg, params={"Cm": np.where(np.arange(10) == 3, 0.0, 5300.0)})
    with pytest.raises(isl.InputError, match=r"initial\['n'\]: cell 0: n = -1 is not allowed"):
        isl.simulate(cfg, initial={"n": np.full(10, -1.0)})


def test_cells_csv_columns_are_checked(tmp_path):
    (tmp_path / "cells.csv").write_text("id,x,y,z,gCa\n0,0,0,0,1000\n1,10,0,0,-3\n")
    (tmp_path / "edges.csv").write_text("i,j,weight\n0,1,1\n")
    (tmp_path / "run.toml").write_text(
        '[sim]\nduration_s = 0.01\n[network]\nkind = "csv"\ncells = "cells.csv"\nedges = "edges.csv"\n'
        "[heterogeneity]\ngCa = 0\n"
    )
    cfg = isl.Config.load(str(tmp_path / "run.toml"))
    with pytest.raises(isl.InputError, match=r"cells.csv: column 'gCa': cell 1: gCa = -3 is not allowed"):
        isl.simulate(cfg)


def test_sweep_thread_counts_are_refused(tmp_path):
    cfg = small()
    with pytest.raises(isl.InputError, match=r"threads_per_task=100000: too many threads \(at most 1024"):
        isl.sweep(cfg, grid={"coupling.gV": [0, 60]}, out_dir=str(tmp_path / "a"), threads_per_task=100000)
    with pytest.raises(isl.InputError, match=r"threads=100000: too many threads"):
        isl.sweep(cfg, grid={"coupling.gV": [0, 60]}, out_dir=str(tmp_path / "b"), threads=100000)


def test_bad_value_type_names_the_key():
    with pytest.raises(TypeError, match=r"Config.set\('coupling.gV'\): cannot use a value of type object"):
        small().set("coupling.gV", object())


ANALYZE_THREADS = """
import numpy as np
import isletsim as isl

x = np.random.default_rng(0).random((600, 6))
try:
    isl.analyze(x, sampling_hz=10, k_avg=2, threads={threads})
except Exception as e:
    print(type(e).__name__ + ": " + str(e))
"""


@pytest.mark.parametrize("threads, expected", [
    ("-1", r"^ValueError: threads must be at least 1, got -1$"),
    ("0", r"^ValueError: threads must be at least 1, got 0$"),
    ("'2'", r"^TypeError: threads: expected a whole number of threads \(int\) or None, got '2'$"),
    ("2.5", r"^TypeError: threads: expected a whole number of threads \(int\) or None, got 2.5$"),
    ("100000", r"^InputError: threads=100000: too many threads \(at most 1024"),
])
def test_analyze_thread_counts_are_refused_as_simulate_refuses_them(tmp_path, threads, expected):
    # Checked before the GIL is released: a bad value once crashed the interpreter (a subprocess here,
    # so that a crash fails this test and not the whole file).
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-c", ANALYZE_THREADS.format(threads=threads)], capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert re.search(expected, r.stdout.strip()), r.stdout
    # the same rules and words from simulate and sweep
    if threads in ("-1", "'2'", "2.5"):
        err = expected.split(": ", 1)[1]
        kind = {"V": ValueError, "T": TypeError}[expected[1]]
        with pytest.raises(kind, match=err):
            isl.simulate(small(), threads=eval(threads))
        with pytest.raises(kind, match=err):
            isl.sweep(small(), grid={"coupling.gV": [0]}, out_dir=str(tmp_path / "s"), threads=eval(threads))


def test_analyze_takes_a_valid_thread_count():
    x = np.random.default_rng(0).random((600, 6))
    assert isl.analyze(x, sampling_hz=10, k_avg=2, threads=np.int64(2)).n_cells == 6
    assert isl.analyze(x, sampling_hz=10, k_avg=2, threads=None).n_cells == 6


def test_analyze_checks_threads_for_every_source(tmp_path):
    x = np.random.default_rng(0).random((600, 6))
    np.savetxt(tmp_path / "rec.txt", x)
    res = isl.simulate(small(), threads=1, output=str(tmp_path / "run.h5"))
    for source, kw in ((res, {}), (str(tmp_path / "run.h5"), {}), (str(tmp_path / "rec.txt"), {"sampling_hz": 10})):
        with pytest.raises(ValueError, match=r"^threads must be at least 1, got -1$"):
            isl.analyze(source, threads=-1, **kw)
        with pytest.raises(TypeError, match=r"^threads: expected a whole number of threads \(int\) or None, got '2'$"):
            isl.analyze(source, threads="2", **kw)
