"""Shared by the Python tests: a small 27-cell islet (1 s, c, V and ADP every 5 ms)."""

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


def step_islet(sim):
    """An 18-cell lattice with a glucose step at 1 s, c and V every 20 ms in float64 (the continue
    tests); `sim`: the [sim] lines."""
    return f"""
[sim]
{sim}
[network]
kind = "lattice"
nx = 3
ny = 3
nz = 2
[glucose]
mode = "step"
t_step_s = 1
[record]
vars = ["c", "V"]
interval_ms = 20
dtype = "float64"
"""


def assert_same_bits(a, b):
    """Two results hold the same variables, times and samples, bit for bit."""
    import numpy as np
    assert a.vars == b.vars
    assert np.array_equal(a.time, b.time)
    for v in a.vars:
        assert a[v].tobytes() == b[v].tobytes(), v
