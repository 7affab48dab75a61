"""The adaptive integrator (dopri5) from Python: samples on the record grid,
the same bits for 1 and 2 threads, continued runs equal uninterrupted ones,
and its keys are checked."""
import numpy as np
import pytest

import isletsim as isl
from _support import assert_same_bits, step_islet

TOML = step_islet('duration_s = 2\nintegrator = "dopri5"\ntolerance = 1e-7')


def config(duration):
    return isl.Config.from_toml(TOML).set("sim.duration_s", duration)


assert_same = assert_same_bits


def test_samples_on_the_grid_and_same_bits_for_any_threads():
    one = isl.simulate(config(2), threads=1)
    two = isl.simulate(config(2), threads=2)
    assert one.status == "complete"
    assert np.array_equal(one.time, np.arange(101) * 0.02)
    assert_same(one, two)


@pytest.mark.parametrize("threads", [1, 2])
def test_continue_from_equals_uninterrupted(threads):
    full = isl.simulate(config(3), threads=1)
    half = isl.simulate(config(1), threads=threads)
    cont = isl.simulate(config(3), threads=3 - threads, continue_from=half)
    assert cont.status == "complete"
    assert_same(full, cont)


def test_continue_from_a_file(tmp_path):
    isl.simulate(config(1), output=str(tmp_path / "half.h5"), threads=1)
    loaded = isl.load(str(tmp_path / "half.h5"))
    cont = isl.simulate(config(3), continue_from=loaded, threads=2)
    assert_same(isl.simulate(config(3), threads=1), cont)


def test_keys_are_checked():
    with pytest.raises(isl.InputError, match="sim.dt_ms"):
        isl.simulate(config(1).set("sim.dt_ms", 0.5))
    with pytest.raises(isl.InputError, match="record intervals"):
        isl.simulate(config(1.01))
    with pytest.raises(isl.InputError, match="dopri5"):
        isl.simulate(config(1).set("sim.integrator", "rk4"))  # tolerance without dopri5
