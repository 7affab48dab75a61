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
