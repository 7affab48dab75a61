#!/usr/bin/python3
"""isletsim against Python on one workload (issue 3, item 7).

Runs the same coupled-islet simulation through
  (a) NumPy: arrays over cells, a Python loop over time steps, coupling as a
      scipy.sparse CSR mat-vec (the seed study's style of code);
  (b) numba: structure of arrays, the whole time loop compiled (@njit),
      cells in parallel with prange, coupling as a CSR gather inside the loop;
      variants: parallel (strict IEEE) and parallel + fastmath; optionally
      serial (no parallel machinery; 1 thread only, --variants);
  (c) isletsim: the `islet run` CLI, its engine wall time taken from the
      summary line ("... simulated in X s ..."), which excludes process
      start, network set-up and output-file creation.

Workload, identical for all: one network generated once by isletsim (sphere
or lattice) and written to cells.csv / edges.csv; per-cell parameters (the
default heterogeneity: gK, gCa, gKCa, gKATP, atot, JGK) as columns of
cells.csv; effective pair weights w_ij in edges.csv; isletsim reads both back
with heterogeneity off and coupling.weights = "network", and the script
checks that the parameters and weights isletsim actually used (from its
output file) are bit-identical to the arrays Python uses. Electrical coupling
gV = 120 pS per unit weight (gc = gG6P = gADP = 0), fixed JGK (glucose.mode =
"fixed_jgk": every cell bursts), forward Euler at dt = 0.1 ms, double
precision, the spec's initial state.

Second comparison, at equal accuracy (issue 13): isletsim's default
integrator is classical RK4 at 0.5 ms; numba's RK4 (the same cell_rhs, the
coupling recomputed from each stage's V) runs at the same step, and the
timing tables and the per-core ratios (simulated s per wall s per thread,
at equal thread counts) are printed for both integrators (--skip-rk4 leaves
RK4 out). With --reference EVENTS_JSON (the single Bertram 2007 cell's
accurate spike times, key spike_upcrossing_times_ms) the script first checks
which methods reach isletsim's accuracy on that cell: the same spike count
over 60 s and every up-crossing of -40 mV within 2 ms, for isletsim's RK4
0.5 ms and numba's forward Euler (--euler-steps) and RK4 (0.5 and 1 ms).
Forward Euler fails it at every step tried, down to 0.001 ms (a spike of
69 missing), so "equal accuracy" means RK4 in numba.

Correctness: every implementation runs --check-seconds from the initial
state and its final V and c are compared with isletsim's (recorded as
float64). The model is written once (cell_rhs below) in the same algebraic
form as isletsim's kernel (src/model/kernel.hpp), so the differences come
only from exp (NumPy: its SIMD exp; numba: glibc exp; isletsim: its own
polynomial exp), the coupling sum (NumPy: V_i*sum_j w_ij - sum_j w_ij V_j
through scipy) and, for fastmath, reassociation.

Run with Debian's Python (NumPy, h5py, numba: apt-get install python3-numba):
  /usr/bin/python3 bench/compare_python.py                       # 1000 cells, threads 1 and 2
  /usr/bin/python3 bench/compare_python.py --reference EVENTS_JSON      # adds the accuracy check
  /usr/bin/python3 bench/compare_python.py --cells 100000 --skip-numpy --threads 2 \
      --numba-seconds 0.5 --islet-seconds 5
"""
import argparse
import collections
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

from cpu_model import cpu_model as _cpu_name  # same folder: /proc/cpuinfo's model name

try:
    import h5py
except ImportError:  # pragma: no cover
    sys.exit("compare_python.py needs h5py (Debian: python3-h5py; run with /usr/bin/python3)")

DT_MS = 0.1
RK4_DT_MS = 0.5  # isletsim's default for this model
ACC_SECONDS = 60.0  # the reference check: same spike count over 60 s,
ACC_TOL_MS = 2.0  # every spike up-crossing of -40 mV within 2 ms
GV = 120.0
HET = ("gK", "gCa", "gKCa", "gKATP", "atot", "JGK")  # per-cell parameters (isletsim's default heterogeneity)
STATES = ("V", "n", "G6P", "FBP", "NADHm", "Psim", "Cam", "ADPm", "ADP", "c", "cer")
Y0 = (-60.0, 0.0, 301.0, 2.16, 0.4, 164.0, 0.2, 11.1, 1137.0, 0.17, 345.0)  # spec initial state
TARGETS = {1000: 15.0, 100000: 10.0}  # issue 3: isletsim >= this x the best numba version


# --------------------------------------------------------------------------- model
# Uniform parameters and the derived values isletsim precomputes per parameter
# set (kernel.hpp, ISLET_DERIVED). `lambda` is a Python keyword: field `lam`.
QFIELDS = (
    "VK VCa kGPDH VmaxPFK lam kappa NADmtot Amtot p1 p2 p3 JGPDHbas p4 p5 p6 p8 p9 p10 p13 p14 p17 p18 "
    "p19 p20 p21 p22 p23 p24 gamma fmito delta khyd khydbas alpha kPMCA Cbas pleak kSERCA fcyt "
    "invCm inv_tau_n kD2 a_amp inv_k2 inv_k3 inv_k4 inv_f41 inv_f42 inv_f41f42 inv_f13 inv_f23 "
    "inv_f13f23 inv_f43 inv_f13f41f43 inv_f23f42f43 inv_fall inv_p7 inv_p11 inv_p15 inv_Cmito "
    "half_FRT fer_Vc p16p13"
).split()
Q = collections.namedtuple("Q", QFIELDS)


def make_q(P):
    """P: dict name -> uniform value (float)."""
    d = {k: P[k] for k in QFIELDS if k in P}
    d["lam"] = P["lambda"]
    d.update(
        invCm=1.0 / P["Cm"], inv_tau_n=1.0 / P["tau_n"], kD2=P["kD"] * P["kD"], a_amp=P["AMP"] / P["k1"],
        inv_k2=1.0 / P["k2"], inv_k3=1.0 / P["k3"], inv_k4=1.0 / P["k4"], inv_f41=1.0 / P["f41"],
        inv_f42=1.0 / P["f42"], inv_f41f42=1.0 / (P["f41"] * P["f42"]), inv_f13=1.0 / P["f13"],
        inv_f23=1.0 / P["f23"], inv_f13f23=1.0 / (P["f13"] * P["f23"]), inv_f43=1.0 / P["f43"],
        inv_f13f41f43=1.0 / (P["f13"] * P["f41"] * P["f43"]),
        inv_f23f42f43=1.0 / (P["f23"] * P["f42"] * P["f43"]),
        inv_fall=1.0 / (P["f13"] * P["f23"] * P["f41"] * P["f42"] * P["f43"]),
        inv_p7=1.0 / P["p7"], inv_p11=1.0 / P["p11"], inv_p15=1.0 / P["p15"], inv_Cmito=1.0 / P["Cmito"],
        half_FRT=0.5 * P["FRT"], fer_Vc=P["fer"] * P["Vc_Ver"], p16p13=P["p16"] * P["p13"],
    )
    return Q(**{k: float(d[k]) for k in QFIELDS})


def cell_rhs(V, nn, G6P, FBP, NADHm, Psim, Cam, ADPm, ADP, c, cer, igj, gK, gCa, gKCa, gKATP, atot, JGK, q):
    """Bertram 2007 right-hand side (units per ms), spec's equations in the
    algebraic form of isletsim's kernel. Works on NumPy arrays (NumPy
    version) and on scalars (compiled by numba)."""
    exp = np.exp
    n_inf = 1.0 / (1.0 + exp((16.0 + V) * -0.2))
    m_inf = 1.0 / (1.0 + exp((20.0 + V) * (-1.0 / 12.0)))
    VK = q.VK
    IK = gK * nn * (V - VK)
    ICa = gCa * m_inf * (V - q.VCa)
    c2 = c * c
    IKCa = gKCa * c2 / (c2 + q.kD2) * (V - VK)
    ATP = atot - ADP
    mg = ADP * (0.165 / 17.0)
    o_inf = (0.08 * (1.0 + 2.0 * mg) + 0.89 * (mg * mg)) / (
        (1.0 + mg) * (1.0 + mg) * (1.0 + ADP * (0.135 / 26.0) + 0.05 * ATP))
    IKATP = gKATP * o_inf * (V - VK)
    dV = -(IK + ICa + IKCa + IKATP + igj) * q.invCm
    dn = (n_inf - nn) * q.inv_tau_n
    # glycolysis (PFK, Smolen 1995)
    F6P = 0.3 * G6P
    JGPDH = q.kGPDH * np.sqrt(FBP)
    a = q.a_amp
    b = FBP * q.inv_k2
    f = F6P * F6P * q.inv_k3
    t = ATP * ATP * q.inv_k4
    ab = a * b
    ft = f * t
    w1001 = a * t * q.inv_f41
    w0101 = b * t * q.inv_f42
    w1101 = ab * t * q.inv_f41f42
    w1010 = a * f * q.inv_f13
    w0110 = b * f * q.inv_f23
    w1110 = ab * f * q.inv_f13f23
    w0011 = ft * q.inv_f43
    w1011 = a * ft * q.inv_f13f41f43
    w0111 = b * ft * q.inv_f23f42f43
    w1111 = ab * ft * q.inv_fall
    topa = f + w1010 + w0110 + w0011 + w1011 + w0111 + w1111
    bottom = 1.0 + a + b + ab + t + w1001 + w0101 + w1101 + topa + w1110
    JPFK = q.VmaxPFK * (q.lam * topa + w1110) / bottom
    kappa = q.kappa
    dG6P = kappa * (JGK - JPFK)
    dFBP = kappa * JPFK - 0.5 * JGPDH
    # mitochondria
    NADm = q.NADmtot - NADHm
    ATPm = q.Amtot - ADPm
    JPDH = q.p1 * NADm * Cam * (JGPDH + q.JGPDHbas) / ((q.p2 * NADm + NADHm) * (q.p3 + Cam))
    JO = q.p4 * NADHm / ((q.p5 + NADHm) * (1.0 + exp((Psim - q.p6) * q.inv_p7)))
    JHres = q.p8 * NADHm / ((q.p9 + NADHm) * (1.0 + exp((Psim - q.p10) * q.inv_p11)))
    JF1F0 = q.p16p13 / ((q.p13 + ATPm) * (1.0 + exp((q.p14 - Psim) * q.inv_p15)))
    JHatp = 3.0 * JF1F0
    JHleak = q.p17 * Psim + q.p18
    JANT = q.p19 * ATPm / (ATPm + q.p20 * ADPm) * exp(q.half_FRT * Psim)
    Juni = (q.p21 * Psim - q.p22) * c2
    JNaCa = q.p23 * (Cam / c) * exp(q.p24 * Psim)
    Jmito = JNaCa - Juni
    gam = q.gamma
    dNADHm = gam * (JPDH - JO)
    dPsim = (JHres - JHatp - JANT - JHleak - JNaCa - 2.0 * Juni) * q.inv_Cmito
    dCam = -q.fmito * Jmito
    dADPm = gam * (JANT - JF1F0)
    delta = q.delta
    dADP = -delta * JANT + (q.khyd * c + q.khydbas) * ATP
    # calcium
    Jmem = -(q.alpha * ICa + q.kPMCA * (c - q.Cbas))
    Jer = q.pleak * (cer - c) - q.kSERCA * c
    dc = q.fcyt * (Jmem + Jer + delta * Jmito)
    dcer = -q.fer_Vc * Jer
    return dV, dn, dG6P, dFBP, dNADHm, dPsim, dCam, dADPm, dADP, dc, dcer


# --------------------------------------------------------------------------- workload
class Workload:
    def __init__(self, pos, edges, weights, params):
        self.n = pos.shape[0]
        self.pos, self.edges, self.weights, self.params = pos, edges, weights, params
        for k, v in params.items():
            if k not in HET and not np.all(v == v[0]):
                sys.exit(f"parameter {k} varies across cells; this benchmark handles per-cell {HET} only")
        self.q = make_q({k: float(v[0]) for k, v in params.items()})
        self.het = np.ascontiguousarray(np.stack([params[k] for k in HET]))  # (6, n)
        # symmetric CSR, rows sorted by column (isletsim's order)
        i, j = edges[:, 0].astype(np.int64), edges[:, 1].astype(np.int64)
        rows = np.concatenate([i, j])
        cols = np.concatenate([j, i])
        w = np.concatenate([weights, weights])
        order = np.lexsort((cols, rows))
        rows, cols, w = rows[order], cols[order], w[order]
        self.rowptr = np.zeros(self.n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=self.n), out=self.rowptr[1:])
        self.col = cols.astype(np.int32)
        self.w = w.astype(np.float64)
        self.rows = rows

    def y0(self):
        return np.ascontiguousarray(np.repeat(np.array(Y0)[:, None], self.n, axis=1))


def run_islet(islet, toml, out_h5, duration_s, threads, extra=()):
    cmd = [islet, "run", toml, "-q", "--overwrite", "-j", str(threads), "-o", out_h5, "--set", f"sim.duration_s={duration_s!r}",
           "--set", f"record.interval_ms={duration_s * 1000.0!r}", *extra]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    m = re.search(r"([0-9.]+) s simulated in ([0-9.]+) s \(([0-9.]+) sim-s/s, (\d+) thread", r.stdout)
    if not m:
        sys.exit(f"cannot parse the islet summary line:\n{r.stdout}")
    if int(m.group(4)) != threads:
        sys.exit(f"islet ran with {m.group(4)} threads, asked for {threads}")
    return float(m.group(2)), r.stdout.strip()


def make_workload(args, wd):
    """Generate the network once with isletsim, write cells.csv/edges.csv and
    the config every isletsim run uses."""
    gen = os.path.join(wd, "gen.h5")
    if args.network == "lattice":
        nx, ny, nz = args.lattice
        net = ["--set", "network.kind=lattice", "--set", f"network.nx={nx}", "--set", f"network.ny={ny}",
               "--set", f"network.nz={nz}"]
    else:
        net = ["--set", f"network.n_cells={args.cells}"]
    cmd = [args.islet, "run", "-q", "--overwrite", "-j", "1", "-o", gen, "--set", "sim.integrator=euler", "--set", "sim.dt_ms=0.1",
           "--set", "sim.duration_s=0.0001", "--set", "record.interval_ms=0.1", "--set", "glucose.mode=fixed_jgk",
           "--set", f"sim.seed={args.seed}", *net]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    tgen = time.perf_counter() - t0
    with h5py.File(gen, "r") as f:
        pos = f["cells/position"][:]
        edges = f["network/edges"][:]
        weights = f["network/weight"][:]
        params = {k: f["params"][k][:] for k in f["params"]}
        args.islet_version = f.attrs["version"]
    wl = Workload(pos, edges, weights, params)
    with open(os.path.join(wd, "cells.csv"), "w") as fh:
        fh.write("id,x,y,z," + ",".join(HET) + "\n")
        for c in range(wl.n):
            fh.write(f"{c},{pos[c, 0]!r},{pos[c, 1]!r},{pos[c, 2]!r}," +
                     ",".join(repr(float(params[k][c])) for k in HET) + "\n")
    with open(os.path.join(wd, "edges.csv"), "w") as fh:
        fh.write("i,j,weight\n")
        for (a, b), w in zip(edges.tolist(), weights.tolist()):
            fh.write(f"{a},{b},{w!r}\n")
    toml = os.path.join(wd, "bench.toml")
    with open(toml, "w") as fh:
        fh.write(f"""[sim]
integrator = "euler"
dt_ms = 0.1
seed = {args.seed}
[network]
kind = "csv"
cells = "cells.csv"
edges = "edges.csv"
[coupling]
gV = {GV!r}
gc = 0.0
gG6P = 0.0
gADP = 0.0
weights = "network"
[heterogeneity]
""" + "".join(f"{k} = {{cv = 0.0}}\n" for k in HET) + """[glucose]
mode = "fixed_jgk"
[record]
vars = ["V", "c"]
dtype = "float64"
""")
    return wl, toml, tgen


def check_islet_inputs(wl, h5):
    """The parameters and weights isletsim used must be the arrays Python uses, bit for bit."""
    with h5py.File(h5, "r") as f:
        for k, v in wl.params.items():
            if not np.array_equal(f["params"][k][:], v):
                sys.exit(f"isletsim's per-cell {k} differs from the generated one")
        e = f["network/edges"][:]
        w = f["network/weight"][:]
    a = {(min(x, y), max(x, y)): ww for (x, y), ww in zip(e.tolist(), w.tolist())}
    b = {(min(x, y), max(x, y)): ww for (x, y), ww in zip(wl.edges.tolist(), wl.weights.tolist())}
    if a != b:
        sys.exit("isletsim's network (edges/weights) differs from the generated one")


def islet_final(h5):
    with h5py.File(h5, "r") as f:
        t = f["time"][:]
        return float(t[-1]), f["data/V"][len(t) - 1].astype(np.float64), f["data/c"][len(t) - 1].astype(np.float64)


# --------------------------------------------------------------------------- NumPy
def numpy_run(wl, nsteps, dt=DT_MS):
    """Seed-study style: arrays over cells, Python loop over steps."""
    try:
        import scipy.sparse as sp
        W = sp.csr_matrix((wl.w, wl.col, wl.rowptr), shape=(wl.n, wl.n))
        wsum = np.asarray(W.sum(axis=1)).ravel()

        def coupling(V):
            return GV * (wsum * V - W @ V)
        how = "scipy.sparse CSR mat-vec"
    except ImportError:
        rows, col, w = wl.rows, wl.col, wl.w

        def coupling(V):
            return GV * np.bincount(rows, weights=w * (V[rows] - V[col]), minlength=wl.n)
        how = "NumPy gather + bincount"
    y = [row.copy() for row in wl.y0()]
    gK, gCa, gKCa, gKATP, atot, JGK = wl.het
    q = wl.q
    t0 = time.perf_counter()
    for _ in range(nsteps):
        igj = coupling(y[0])
        d = cell_rhs(*y, igj, gK, gCa, gKCa, gKATP, atot, JGK, q)
        y = [yk + dt * dk for yk, dk in zip(y, d)]
    return time.perf_counter() - t0, np.array(y), how


# --------------------------------------------------------------------------- numba
def make_cell_deriv(q, fastmath):
    """The derivative of cell i, shared by the numba builders: the gap-junction
    coupling sum (acc = 0.0, then w[k] (V - V_col[k]) in CSR order, passed
    on as gV * acc) and cell_rhs on column i of the state a and of het.
    deriv is inlined into the callers; cell_rhs and the uniform parameters q
    are closure constants, so numba folds q into the code (passing the
    namedtuple as an argument fails in parfor lowering)."""
    import numba

    def deriv(a, i, gV, rowptr, col, w, het):
        V = a[0, i]
        acc = 0.0
        for k in range(rowptr[i], rowptr[i + 1]):
            acc += w[k] * (V - a[0, col[k]])
        return rhs(V, a[1, i], a[2, i], a[3, i], a[4, i], a[5, i], a[6, i], a[7, i], a[8, i], a[9, i],
                   a[10, i], gV * acc, het[0, i], het[1, i], het[2, i], het[3, i], het[4, i], het[5, i], q)

    # cell_rhs is inlined where deriv lands (the builder's cell loop), not into
    # deriv's own IR: numba deep-copies each inlined IR twice, in time ~ its
    # statements x variables, and cell_rhs inlined into deriv first made every
    # builder compile ~3x longer (same code, same results).
    def not_into_deriv(expr, caller_ir, callee_ir):
        return caller_ir.func_id.func is not deriv

    rhs = numba.njit(inline=not_into_deriv, fastmath=fastmath)(cell_rhs)
    return numba.njit(inline="always", fastmath=fastmath)(deriv)


def build_numba(q, parallel, fastmath):
    """Forward Euler in numba, double-buffered between y and yn; each cell's
    derivative comes from make_cell_deriv (q a closure constant there)."""
    import numba
    deriv = make_cell_deriv(q, fastmath)
    prange = numba.prange

    def euler(nsteps, dt, gV, y, yn, rowptr, col, w, het):
        n = y.shape[1]
        for s in range(nsteps):
            if s % 2 == 0:
                a = y
                b = yn
            else:
                a = yn
                b = y
            for i in prange(n):
                d = deriv(a, i, gV, rowptr, col, w, het)
                b[0, i] = a[0, i] + dt * d[0]
                b[1, i] = a[1, i] + dt * d[1]
                b[2, i] = a[2, i] + dt * d[2]
                b[3, i] = a[3, i] + dt * d[3]
                b[4, i] = a[4, i] + dt * d[4]
                b[5, i] = a[5, i] + dt * d[5]
                b[6, i] = a[6, i] + dt * d[6]
                b[7, i] = a[7, i] + dt * d[7]
                b[8, i] = a[8, i] + dt * d[8]
                b[9, i] = a[9, i] + dt * d[9]
                b[10, i] = a[10, i] + dt * d[10]
        return nsteps % 2  # 0: result in y, 1: in yn

    return numba.njit(parallel=parallel, fastmath=fastmath)(euler)


def build_numba_rk4(q, parallel, fastmath):
    """Classical RK4 in numba, the coupling recomputed from each stage's V
    (a prange loop per stage: every stage needs all cells' previous stage).
    acc = k1 + 2 k2 + 2 k3; stage input = y + h k; y += dt/6 (acc + k4), as
    isletsim's RK4 (src/engine/stages.hpp; isletsim fuses each update into
    one fma, numba rounds the product and the sum separately). One cell loop
    serves the four stages (a branch per cell on the stage): four separate
    loops, each inlining the model, compiled 10x longer (~220 s) and ran
    slower. Each cell's derivative (coupling from the stage's V included)
    comes from make_cell_deriv, shared with build_numba."""
    import numba
    deriv = make_cell_deriv(q, fastmath)
    prange = numba.prange

    def rk4(nsteps, dt, gV, y, sa, sb, acc, rowptr, col, w, het):
        n = y.shape[1]
        h2 = 0.5 * dt
        h6 = dt / 6.0
        for s in range(nsteps):
            for stage in range(4):
                if stage == 0:
                    a = y
                    b = sa
                    h = h2
                elif stage == 1:
                    a = sa
                    b = sb
                    h = h2
                elif stage == 2:
                    a = sb
                    b = sa
                    h = dt
                else:
                    a = sa
                    b = y  # unused: the last stage updates y in place
                    h = h6
                for i in prange(n):
                    d = deriv(a, i, gV, rowptr, col, w, het)
                    if stage == 0:
                        for v in range(11):
                            acc[v, i] = d[v]
                            b[v, i] = y[v, i] + h * d[v]
                    elif stage == 3:
                        for v in range(11):
                            y[v, i] = y[v, i] + h * (acc[v, i] + d[v])
                    else:
                        for v in range(11):
                            acc[v, i] = acc[v, i] + 2.0 * d[v]
                            b[v, i] = y[v, i] + h * d[v]
        return 0

    return numba.njit(parallel=parallel, fastmath=fastmath)(rk4)


def numba_rk4_run(fn, wl, nsteps, dt=RK4_DT_MS):
    y = wl.y0()
    sa, sb, acc = np.empty_like(y), np.empty_like(y), np.empty_like(y)
    t0 = time.perf_counter()
    fn(nsteps, dt, GV, y, sa, sb, acc, wl.rowptr, wl.col, wl.w, wl.het)
    return time.perf_counter() - t0, y


def numba_run(fn, wl, nsteps, dt=DT_MS):
    y = wl.y0()
    yn = np.empty_like(y)
    t0 = time.perf_counter()
    which = fn(nsteps, dt, GV, y, yn, wl.rowptr, wl.col, wl.w, wl.het)
    wall = time.perf_counter() - t0
    return wall, (yn if which else y)


# --------------------------------------------------------------------------- accuracy
def build_single(q):
    """One uncoupled cell, serial, V after every step (for spike timing)."""
    import numba
    rhs = numba.njit(inline="always")(cell_rhs)

    def single(rk4, nsteps, dt, y0, het, Vout):
        y = y0.copy()
        ys = y0.copy()
        acc = y0.copy()
        gK, gCa, gKCa, gKATP, atot, JGK = het[0], het[1], het[2], het[3], het[4], het[5]
        Vout[0] = y[0]
        for s in range(nsteps):
            if not rk4:
                d = rhs(y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7], y[8], y[9], y[10], 0.0,
                        gK, gCa, gKCa, gKATP, atot, JGK, q)
                for v in range(11):
                    y[v] = y[v] + dt * d[v]
            else:
                for stage in range(4):
                    a = y if stage == 0 else ys
                    d = rhs(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], 0.0,
                            gK, gCa, gKCa, gKATP, atot, JGK, q)
                    h = dt if stage == 2 else 0.5 * dt
                    if stage == 3:
                        for v in range(11):
                            y[v] = y[v] + dt / 6.0 * (acc[v] + d[v])
                    else:
                        for v in range(11):
                            acc[v] = d[v] if stage == 0 else acc[v] + 2.0 * d[v]
                            ys[v] = y[v] + h * d[v]
            Vout[s + 1] = y[0]
        return 0

    return numba.njit(single)


def upcrossings(t, x, level=-40.0):
    """V = level crossed upwards, linearly interpolated (src/analysis/legacy.cpp's upcrossings)."""
    i = np.nonzero((x[:-1] < level) & (x[1:] >= level))[0] + 1
    return t[i - 1] + (t[i] - t[i - 1]) * (level - x[i - 1]) / (x[i] - x[i - 1])


def spike_check(got, want, t_max_ms, tol_ms):
    """(count got, count wanted, worst |dt| over the matched pairs, pass)."""
    want = np.asarray([x for x in want if x <= t_max_ms])
    got = np.asarray([x for x in got if x <= t_max_ms])
    m = min(len(got), len(want))
    worst = float(np.max(np.abs(got[:m] - want[:m]))) if m else float("nan")
    return len(got), len(want), worst, len(got) == len(want) and worst <= tol_ms


def accuracy_section(args, wd):
    """The single reference cell (spec defaults, fixed JGK, no heterogeneity)
    over ACC_SECONDS: isletsim's RK4 at its default step, and numba's forward
    Euler and RK4 (cell_rhs) at several steps, against the reference spike
    up-crossings. Returns the rows and whether numba's RK4 at RK4_DT_MS passed."""
    import json
    with open(args.reference) as fh:
        ref = json.load(fh)["spike_upcrossing_times_ms"]
    t_max = ACC_SECONDS * 1000.0
    h5 = os.path.join(wd, "single.h5")
    cmd = [args.islet, "run", "-q", "--overwrite", "-j", "1", "-o", h5, "--set", "network.kind=lattice", "--set", "network.nx=1",
           "--set", "network.ny=1", "--set", "network.nz=1", "--set", "glucose.mode=fixed_jgk",
           "--set", "sim.integrator=rk4", "--set", f"sim.dt_ms={RK4_DT_MS!r}",
           "--set", f"sim.duration_s={ACC_SECONDS!r}", "--set", f"record.interval_ms={RK4_DT_MS!r}",
           "--set", 'record.vars=["V"]', "--set", "record.dtype=float64",
           *[a for k in HET for a in ("--set", f"heterogeneity.{k}=0.0")]]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    with h5py.File(h5, "r") as f:
        t = f["time"][:] * 1000.0
        V = f["data/V"][:, 0].astype(np.float64)
        P = {k: float(f["params"][k][0]) for k in f["params"]}
    rows = [("isletsim", "rk4", RK4_DT_MS, spike_check(upcrossings(t, V), ref, t_max, ACC_TOL_MS))]
    single = build_single(make_q(P))
    het = np.array([P[k] for k in HET])
    y0 = np.array(Y0)
    ok_rk4 = False
    for rk4, dt in [(False, x) for x in args.euler_steps] + [(True, RK4_DT_MS), (True, 1.0)]:
        n = int(round(t_max / dt))
        Vout = np.empty(n + 1)
        single(rk4, n, dt, y0, het, Vout)
        res = spike_check(upcrossings(np.arange(n + 1) * dt, Vout), ref, t_max, ACC_TOL_MS)
        rows.append(("numba", "rk4" if rk4 else "euler", dt, res))
        if rk4 and dt == RK4_DT_MS:
            ok_rk4 = res[3]
    return rows, ok_rk4


# --------------------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cells", type=int, default=1000, help="sphere network cells (default 1000)")
    ap.add_argument("--network", choices=("sphere", "lattice"), default="sphere")
    ap.add_argument("--lattice", type=int, nargs=3, default=(50, 50, 40), metavar=("NX", "NY", "NZ"),
                    help="lattice size with --network lattice (default 50 50 40 = 100000 cells)")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--numpy-seconds", type=float, default=None,
                    help="simulated s for the NumPy timing (default: --check-seconds; that run is also its check)")
    ap.add_argument("--numba-seconds", type=float, default=3.0, help="simulated s per numba timing run (default 3)")
    ap.add_argument("--islet-seconds", type=float, default=20.0,
                    help="simulated s per isletsim timing run (default 20: the summary prints wall time to 0.01 s)")
    ap.add_argument("--sim-seconds", type=float, default=None, help="set --numba-seconds and --islet-seconds")
    ap.add_argument("--check-seconds", type=float, default=1.0, help="simulated s of the correctness check (default 1)")
    ap.add_argument("--repeats", type=int, default=3,
                    help="timing runs per configuration, interleaved; best and median reported (default 3)")
    ap.add_argument("--skip-numpy", action="store_true")
    ap.add_argument("--variants", default="parallel,fastmath",
                    help="numba variants: parallel (prange, strict IEEE), fastmath (prange, fastmath=True), "
                         "serial (no prange machinery; 1 thread only)")
    ap.add_argument("--islet", default="build/islet")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tol-V", type=float, default=1e-6, help="max |dV| (mV) allowed vs isletsim (default 1e-6)")
    ap.add_argument("--tol-c", type=float, default=1e-9, help="max |dc| (uM) allowed vs isletsim (default 1e-9)")
    ap.add_argument("--workdir", default=None, help="keep the network files and HDF5 outputs here")
    ap.add_argument("--skip-rk4", action="store_true",
                    help="skip the RK4 0.5 ms comparison (numba RK4 against isletsim's default integrator)")
    ap.add_argument("--reference", default=None, metavar="EVENTS_JSON",
                    help="reference events of the single Bertram 2007 cell (a JSON file with "
                         "spike_upcrossing_times_ms): adds the accuracy check that decides which numba "
                         "integrator and step match isletsim's accuracy (omitted without it)")
    ap.add_argument("--euler-steps", default="0.1,0.025,0.005,0.001",
                    help="forward Euler steps (ms) tried against the reference (default 0.1,0.025,0.005,0.001)")
    args = ap.parse_args()
    if args.sim_seconds is not None:
        args.numba_seconds = args.islet_seconds = args.sim_seconds
    if args.numpy_seconds is None:
        args.numpy_seconds = args.check_seconds
    args.euler_steps = [float(x) for x in args.euler_steps.split(",") if x]
    threads = [int(t) for t in args.threads.split(",")]
    variants = [v for v in args.variants.split(",") if v]
    steps = lambda s, dt=DT_MS: int(round(s * 1000.0 / dt))
    RK4 = ("--set", "sim.integrator=rk4", "--set", f"sim.dt_ms={RK4_DT_MS!r}")
    if not os.access(args.islet, os.X_OK):
        sys.exit(f"{args.islet}: not an executable (build isletsim first, or pass --islet)")
    if args.reference and not os.path.isfile(args.reference):
        sys.exit(f"{args.reference}: no such file (--reference)")

    import numba
    if max(threads) > numba.config.NUMBA_NUM_THREADS:
        sys.exit(f"numba allows at most {numba.config.NUMBA_NUM_THREADS} threads here (NUMBA_NUM_THREADS)")

    tmp = None
    if args.workdir:
        os.makedirs(args.workdir, exist_ok=True)
        wd = args.workdir
    else:
        tmp = tempfile.TemporaryDirectory(prefix="isletsim-cmp-")
        wd = tmp.name
    import platform
    import shutil
    # run a private copy: other people may rebuild build/islet while this runs
    islet_src = args.islet
    shutil.copy2(args.islet, os.path.join(wd, "islet"))
    args.islet = os.path.join(wd, "islet")
    print(f"# machine: {platform.machine()} {os.cpu_count()} CPUs ({_cpu_name()}); python {platform.python_version()}, "
          f"numpy {np.__version__}, numba {numba.__version__} (threading layer: set below), "
          f"isletsim: {islet_src}")
    print(f"# load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          "(other processes on this machine slow the runs down)")
    print("# workload: forward Euler dt = 0.1 ms" + ("" if args.skip_rk4 else f" and classical RK4 dt = {RK4_DT_MS:g} ms") +
          ", float64, gV = 120 pS (other couplings 0), fixed JGK, the spec's initial state")

    wl, toml, tgen = make_workload(args, wd)
    deg = 2 * len(wl.edges) / wl.n
    print(f"# isletsim version {args.islet_version} (a copy of the binary in {wd})")
    print(f"# network: {args.network}, {wl.n} cells, {len(wl.edges)} edges (mean degree {deg:.2f}); "
          f"generated by isletsim in {tgen:.1f} s, written to {wd}/cells.csv, edges.csv")

    # ---- accuracy of the single reference cell (which integrator/step is "equal accuracy")
    acc_rows, numba_rk4_ok = (accuracy_section(args, wd) if args.reference else (None, None))

    # ---- correctness check (all at the largest thread count)
    T = max(threads)
    nchk = steps(args.check_seconds)
    chk = os.path.join(wd, "check.h5")
    _, line = run_islet(args.islet, toml, chk, args.check_seconds, T)
    check_islet_inputs(wl, chk)
    print("# isletsim's per-cell parameters and network weights (read back from its output) are bit-identical "
          "to the arrays the Python versions use")
    t_end, V_ref, c_ref = islet_final(chk)
    assert abs(t_end - args.check_seconds) < 1e-9, t_end
    if not args.skip_rk4:
        chk4 = os.path.join(wd, "check_rk4.h5")
        run_islet(args.islet, toml, chk4, args.check_seconds, T, RK4)
        t_end4, V_ref4, c_ref4 = islet_final(chk4)
        assert abs(t_end4 - args.check_seconds) < 1e-9, t_end4
    results = []  # (impl, threads, sim_s, [walls], dt_ms)
    checks = []  # (impl, max|dV|, max|dc|, ok)

    def compare(name, y, Vr=V_ref, cr=c_ref):
        dV = float(np.max(np.abs(y[0] - Vr)))
        dc = float(np.max(np.abs(y[9] - cr)))
        ok = dV <= args.tol_V and dc <= args.tol_c and np.all(np.isfinite(y))
        checks.append((name, dV, dc, ok))

    compiled, compile_s = {}, {}
    for v in variants:
        fn = build_numba(wl.q, parallel=(v != "serial"), fastmath=(v == "fastmath"))
        numba.set_num_threads(T)
        t0 = time.perf_counter()
        numba_run(fn, wl, 10)  # compiles
        compile_s[v] = time.perf_counter() - t0
        compiled[v] = fn
    compiled4 = {}
    if not args.skip_rk4:
        for v in variants:
            fn = build_numba_rk4(wl.q, parallel=(v != "serial"), fastmath=(v == "fastmath"))
            numba.set_num_threads(T)
            t0 = time.perf_counter()
            numba_rk4_run(fn, wl, 2)  # compiles
            compile_s[f"rk4-{v}"] = time.perf_counter() - t0
            compiled4[v] = fn
    if any(v != "serial" for v in variants):
        print(f"# numba threading layer: {numba.threading_layer()}")
    for v, fn in compiled.items():
        numba.set_num_threads(T)
        _, y = numba_run(fn, wl, nchk)
        compare(f"numba-{v}", y)
    for v, fn in compiled4.items():
        numba.set_num_threads(T)
        _, y = numba_rk4_run(fn, wl, steps(args.check_seconds, RK4_DT_MS))
        compare(f"numba-rk4-{v}", y, V_ref4, c_ref4)

    if not args.skip_numpy:
        wall, y, how = numpy_run(wl, nchk)
        compare("numpy", y)
        if args.numpy_seconds == args.check_seconds:
            results.append(("numpy", 1, args.check_seconds, [wall], DT_MS))
        else:
            wall, _, _ = numpy_run(wl, steps(args.numpy_seconds))
            results.append(("numpy", 1, args.numpy_seconds, [wall], DT_MS))
        print(f"# numpy: coupling by {how}; single-threaded (NumPy ufuncs and scipy's mat-vec use one core)")

    # ---- timing: per thread count, implementations interleaved, median of repeats
    isl_lines = []
    for T in threads:
        numba.set_num_threads(T)
        walls = collections.defaultdict(list)
        for _ in range(args.repeats):
            w, line = run_islet(args.islet, toml, os.path.join(wd, "time.h5"), args.islet_seconds, T)
            walls["isletsim"].append(w)
            isl_lines.append(line)
            for v, fn in compiled.items():
                if v == "serial" and T != 1:
                    continue
                w, _ = numba_run(fn, wl, steps(args.numba_seconds))
                walls[f"numba-{v}"].append(w)
            if compiled4:
                w, line = run_islet(args.islet, toml, os.path.join(wd, "time.h5"), args.islet_seconds, T, RK4)
                walls["isletsim-rk4"].append(w)
                isl_lines.append(line)
            for v, fn in compiled4.items():
                if v == "serial" and T != 1:
                    continue
                w, _ = numba_rk4_run(fn, wl, steps(args.numba_seconds, RK4_DT_MS))
                walls[f"numba-rk4-{v}"].append(w)
        for name, ws in walls.items():
            dt = RK4_DT_MS if "rk4" in name else DT_MS
            results.append((name, T, args.islet_seconds if name.startswith("isletsim") else args.numba_seconds, ws, dt))

    # ---- report
    print()
    if acc_rows:
        print(f"Accuracy: the single reference cell (spec defaults, fixed JGK = 0.4, uncoupled), {ACC_SECONDS:g} s, "
              f"spike up-crossings of -40 mV (linearly interpolated) against {os.path.basename(args.reference)}; "
              f"pass = the same spike count and every spike within {ACC_TOL_MS:g} ms")
        print(f"  {'implementation':10s} {'integrator':10s} {'dt_ms':>6s}  {'spikes':>7s}  {'worst |dt| ms':>13s}  check")
        for name, integ, dt, (ng, nw, worst, ok) in acc_rows:
            w = f"{worst:13.3f}" if ng == nw else f"{'(count)':>13s}"
            print(f"  {name:10s} {integ:10s} {dt:6g}  {ng:3d}/{nw:<3d}  {w}  {'pass' if ok else 'FAIL'}")
        eul = [r for r in acc_rows if r[0] == "numba" and r[1] == "euler"]
        passing = [r[2] for r in eul if r[3][3]]
        if passing:
            print(f"  numba's forward Euler passes from dt = {max(passing):g} ms down")
        else:
            print(f"  numba's forward Euler fails at every step tried, down to {min(r[2] for r in eul):g} ms: "
                  f"equal accuracy needs a higher-order method, RK4 (below)")
        print()
    print(f"Correctness after {args.check_seconds:g} simulated s ({nchk} Euler steps"
          + ("" if args.skip_rk4 else f"; {steps(args.check_seconds, RK4_DT_MS)} RK4 steps") +
          f", {max(threads)} threads): final state vs isletsim's with the same integrator (float64), "
          f"tolerance |dV| <= {args.tol_V:g} mV, |dc| <= {args.tol_c:g} uM")
    for name, dV, dc, ok in checks:
        print(f"  {name:20s} max|dV| = {dV:.3e} mV   max|dc| = {dc:.3e} uM   {'ok' if ok else 'FAILED'}")
    print(f"  (V range at the end: {V_ref.min():.2f} .. {V_ref.max():.2f} mV, c: {c_ref.min():.4f} .. "
          f"{c_ref.max():.4f} uM)")
    if compile_s:
        print("numba compile time (first call, excluded from the timings): " +
              ", ".join(f"{v} {s:.1f} s" for v, s in compile_s.items()))
    print()
    print("isletsim wall time = the engine's own (\"simulated in X s\" of `islet run`): excludes process start, "
          "network set-up and output-file creation; numba excludes compilation; all exclude array set-up.")
    print(f"Timings: best and median of {args.repeats} interleaved runs (NumPy: 1 run), per simulated second; "
          "cell-steps/s and ratios from the best runs (other processes only ever slow a run down).")
    speed, med = {}, {}
    for name, T, sim_s, ws, dt in results:
        speed[(name, T)] = sim_s / min(ws)
        med[(name, T)] = statistics.median(ws) / sim_s
    tgt = TARGETS.get(wl.n)
    order = {"isletsim": 0, "numba-parallel": 1, "numba-fastmath": 2, "numba-serial": 3, "numpy": 4,
             "isletsim-rk4": 0, "numba-rk4-parallel": 1, "numba-rk4-fastmath": 2, "numba-rk4-serial": 3}
    for integ, label in (("euler", f"forward Euler, dt = {DT_MS:g} ms"), ("rk4", f"RK4, dt = {RK4_DT_MS:g} ms")):
        rows = [r for r in results if ("rk4" in r[0]) == (integ == "rk4")]
        if not rows:
            continue
        base = "isletsim-rk4" if integ == "rk4" else "isletsim"
        print()
        print(f"{label}:")
        hdr = (f"{'implementation':20s} {'threads':>7s} {'cells':>7s} {'sim_s':>6s} {'wall_s/sim_s':>13s} "
               f"{'(median)':>9s} {'cell-steps/s':>13s} {'isletsim/this':>14s}")
        print(hdr)
        print("-" * len(hdr))
        for name, T, sim_s, ws, dt in sorted(rows, key=lambda r: (r[1], order.get(r[0], 9))):
            sp = speed[(name, T)]
            cs = sp * 1000.0 / dt * wl.n
            isl = speed.get((base, T))
            ratio = f"{isl / sp:13.1f}x" if isl else f"{'-':>14s}"
            print(f"{name:20s} {T:7d} {wl.n:7d} {sim_s:6g} {1.0 / sp:13.4f} {med[(name, T)]:9.4f} {cs:13.3e} {ratio}")
    print()
    for T in threads:
        nb = [(speed[(n, TT)], n) for (n, TT) in speed if TT == T and n.startswith("numba") and "rk4" not in n]
        if not nb or ("isletsim", T) not in speed:
            continue
        best, bname = max(nb)
        r = speed[("isletsim", T)] / best
        tg = f"target >= {tgt:g}x ({'met' if r >= tgt else 'MISSED'})" if tgt else "no target for this size"
        print(f"{T} thread(s): isletsim / best numba ({bname}) = {r:.1f}x   [{tg}]")
    if tgt is None:
        print("issue 3 targets: >= 15x the best numba version at 1000 cells, >= 10x at 100000 cells")
    # per core: sim-s/s per thread, at equal thread counts (issue 13)
    print()
    print("Per core (simulated s per wall s per thread, best runs; equal thread counts):")
    for integ, base in (("euler", "isletsim"), ("rk4", "isletsim-rk4")):
        for T in threads:
            nb = [(speed[(n, TT)], n) for (n, TT) in speed
                  if TT == T and n.startswith("numba") and ("rk4" in n) == (integ == "rk4")]
            if not nb or (base, T) not in speed:
                continue
            best, bname = max(nb)
            i_pc, n_pc = speed[(base, T)] / T, best / T
            print(f"  {integ:5s} {T} thread(s): isletsim {i_pc:7.3f}, {bname} {n_pc:7.3f} sim-s/s per thread: "
                  f"{i_pc / n_pc:.1f}x per core")
    if compiled4:
        print()
        if acc_rows:
            isl_ok = acc_rows[0][3][3]
            print(f"At equal accuracy (the reference check above: isletsim RK4 {RK4_DT_MS:g} ms "
                  f"{'passes' if isl_ok else 'FAILS'}, numba RK4 {RK4_DT_MS:g} ms "
                  f"{'passes' if numba_rk4_ok else 'FAILS'}; numba's forward Euler "
                  f"{'fails at every step tried' if not any(r[3][3] for r in acc_rows if r[1] == 'euler') else 'passes at small steps only'}):")
        else:
            print(f"At equal accuracy (both RK4 {RK4_DT_MS:g} ms; pass --reference to check that against the "
                  "reference spike times):")
        for T in threads:
            nb = [(speed[(n, TT)], n) for (n, TT) in speed if TT == T and n.startswith("numba-rk4")]
            if not nb or ("isletsim-rk4", T) not in speed:
                continue
            best, bname = max(nb)
            print(f"  {T} thread(s): isletsim RK4 {speed[('isletsim-rk4', T)]:.2f} sim-s/s, {bname} {best:.2f} "
                  f"sim-s/s: isletsim / numba = {speed[('isletsim-rk4', T)] / best:.1f}x")
            if ("isletsim", T) in speed:
                print(f"    (isletsim's own RK4 {RK4_DT_MS:g} ms / Euler {DT_MS:g} ms speed: "
                      f"{speed[('isletsim-rk4', T)] / speed[('isletsim', T)]:.2f}; numba's: "
                      + ", ".join(f"{v} {speed[(f'numba-rk4-{v}', T)] / speed[(f'numba-{v}', T)]:.2f}"
                                  for v in variants if (f'numba-{v}', T) in speed and (f'numba-rk4-{v}', T) in speed)
                      + ")")
    print(f"# load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    bad = [c for c in checks if not c[3]]
    if acc_rows and not acc_rows[0][3][3]:
        bad.append(("isletsim RK4 reference check",))
    if bad:
        print("CORRECTNESS CHECK FAILED for: " + ", ".join(c[0] for c in bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
