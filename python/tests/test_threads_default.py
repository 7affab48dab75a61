"""isletsim.simulate's default thread count (threads=None): as `islet run` without -j,
1 thread for small islets, at most the usable cores; threads=N is obeyed."""
import isletsim as isl

from _support import SMALL  # the 27-cell islet the tests share


def test_small_islet_runs_on_one_thread_by_default():
    res = isl.simulate(isl.Config.from_toml(SMALL), progress=False)
    assert res.status == "complete"
    assert int(res.attrs["threads"]) == 1


def test_explicit_threads_are_obeyed():
    cfg = isl.Config.from_toml(SMALL)
    a = isl.simulate(cfg, threads=2, progress=False)
    assert int(a.attrs["threads"]) == 2
    b = isl.simulate(cfg, progress=False)
    for v in ("c", "V", "ADP"):  # the same bits for any thread count
        assert (a[v] == b[v]).all(), v
