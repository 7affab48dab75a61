"""Continue and re-run from Python: the same bits as one uninterrupted run, and
a run made with its own arrays re-runs from its file (CLI or Python)."""
import os
import subprocess
import sys

import h5py
import numpy as np
import pytest

import isletsim as isl
from _support import assert_same_bits, step_islet

CLI = os.environ.get("ISLET_CLI", "islet")

TOML = step_islet('duration_s = 3\nintegrator = "rk4"')


def config(duration):
    return isl.Config.from_toml(TOML).set("sim.duration_s", duration)


assert_same = assert_same_bits


@pytest.mark.parametrize("threads", [1, 2])
def test_continue_from_equals_uninterrupted(threads):
    full = isl.simulate(config(3), threads=1)
    half = isl.simulate(config(1.5), threads=threads)
    cont = isl.simulate(config(3), threads=3 - threads, continue_from=half)
    assert cont.status == "complete"
    assert_same(full, cont)
    # Continued again, in two more pieces.
    a = isl.simulate(config(1), threads=threads)
    b = isl.simulate(config(2), continue_from=a, threads=threads)
    c = isl.simulate(config(3), continue_from=b, threads=threads)
    assert_same(full, c)


def test_continue_from_a_file_and_into_a_file(tmp_path):
    full = isl.simulate(config(3), threads=1)
    isl.simulate(config(1.5), output=str(tmp_path / "half.h5"), threads=2)
    loaded = isl.load(str(tmp_path / "half.h5"))
    cont = isl.simulate(config(3), continue_from=loaded, output=str(tmp_path / "all.h5"), threads=1)
    assert_same(full, cont)
    assert_same(full, isl.load(str(tmp_path / "all.h5")))
    # The result's own file: extended in place.
    isl.simulate(config(3), continue_from=loaded, output=str(tmp_path / "half.h5"))
    assert_same(full, isl.load(str(tmp_path / "half.h5")))


def test_continue_from_a_path(tmp_path):
    full = isl.simulate(config(3), threads=1)
    isl.simulate(config(1.5), output=str(tmp_path / "half.h5"), threads=1)
    assert_same(full, isl.simulate(config(3), continue_from=str(tmp_path / "half.h5"), threads=1))
    assert_same(full, isl.simulate(config(3), continue_from=tmp_path / "half.h5", threads=1))  # a pathlib.Path
    with pytest.raises(FileNotFoundError, match="nope.h5"):
        isl.simulate(config(3), continue_from=str(tmp_path / "nope.h5"))
    with pytest.raises(TypeError, match=r"^continue_from: expected a Result \(of simulate or isletsim.load\) or the "
                                        r"path of a run file, got int$"):
        isl.simulate(config(3), continue_from=3)


def test_continue_from_refuses_a_different_run():
    half = isl.simulate(config(1.5), threads=1)
    with pytest.raises(ValueError, match="sim.duration_s"):
        isl.simulate(config(3).set("coupling.gV", 10.0), continue_from=half)
    with pytest.raises(ValueError, match="ends before"):
        isl.simulate(config(1), continue_from=half)


def test_run_with_own_arrays_reruns_from_its_file(tmp_path):
    rng = np.random.default_rng(3)
    n = 12
    pos = rng.uniform(0, 60, size=(n, 3))
    edges = np.array([(i, (i + 1) % n) for i in range(n)] + [(0, 6), (3, 9)], dtype=np.uint32)
    weights = rng.uniform(0.5, 1.5, size=len(edges))
    net = isl.Network.from_arrays(pos, edges, weights)
    params = {"gKATP": rng.uniform(100, 200, size=n)}
    initial = {"V": rng.uniform(-70, -60, size=n)}
    cfg = config(1)
    first = tmp_path / "arrays.h5"
    res = isl.simulate(cfg, network=net, params=params, initial=initial, output=str(first), threads=2)
    assert res.status == "complete"
    with h5py.File(first) as f:
        assert f.attrs["external_inputs"] == "network,params,initial"
        assert np.array_equal(f["initial/V"][()], initial["V"])
    # The CLI re-runs the file: the same islet, the same bits.
    again = tmp_path / "again.h5"
    r = subprocess.run([CLI, "run", str(first), "-o", str(again), "-q", "-j", "1"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(res, isl.load(str(again)))
    # And so does Python, from the loaded config.
    py = isl.simulate(isl.Config.load(str(first)), threads=1)
    assert_same(res, py)
    # A re-run of the re-run still knows where its arrays came from.
    third = tmp_path / "third.h5"
    r = subprocess.run([CLI, "run", str(again), "-o", str(third), "-q"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same(res, isl.load(str(third)))


def test_damaged_file_that_crashes_hdf5_names_the_file():
    """A file that crashes libhdf5 itself (tests/data/damaged_run.h5, found by the fuzzer): the
    interpreter cannot go on, but stderr names the file before it ends; or, with an HDF5 that does
    not crash on it, load() raises a clear error."""
    path = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "data", "damaged_run.h5")
    assert os.path.exists(path)
    script = ("import sys, isletsim\n"
              "try:\n"
              f"    isletsim.load({path!r})\n"
              "except (ValueError, OSError, RuntimeError) as e:\n"
              "    print('raised:', e, file=sys.stderr)\n"
              "    sys.exit(3)\n")
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=os.environ)
    if r.returncode == 3:
        assert "damaged_run.h5" in r.stderr, r.stderr
        return
    assert r.returncode < 0, (r.returncode, r.stderr)  # ended by the crash's signal
    assert (f"isletsim: error: '{path}': the HDF5 library crashed reading this file" in r.stderr
            and "this process cannot go on" in r.stderr), r.stderr


def test_simulate_keeps_an_existing_output_unless_overwrite(tmp_path):
    """simulate(output=) as islet run -o: an existing file is kept (FileExistsError, the file
    untouched) unless overwrite=True; a continued run still extends its own file."""
    cfg = isl.Config.from_toml(TOML)
    out = tmp_path / "run.h5"
    first = isl.simulate(cfg, threads=1, output=str(out))
    before = out.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        isl.simulate(cfg, threads=1, output=str(out))
    assert out.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    with pytest.raises(FileExistsError):
        isl.simulate(cfg, threads=1, output=notes)
    assert notes.read_text() == "mine"
    longer = cfg.copy().set("sim.duration_s", 4)
    isl.simulate(longer, threads=1, output=str(out), continue_from=first)  # its own file: extended in place
    assert isl.load(str(out)).time[-1] == pytest.approx(4.0)
    again = isl.simulate(cfg, threads=1, output=str(out), overwrite=True)
    assert again.status == "complete" and isl.load(str(out)).time[-1] == pytest.approx(3.0)
