#!/usr/bin/python3
"""Simulate a small islet from Python and plot it (calcium raster + islet-mean trace).

Usage (after building):
    PYTHONPATH=build/python /usr/bin/python3 examples/python_demo.py [out.png]

Runs 200 cells for 120 s of 11 mM glucose (~10-30 s wall on 2 cores), saves
the run to python_demo.h5 (the same file `islet run` writes) and the figure to
python_demo.png, and prints a summary. Parameter sweeps (isl.sweep) are not
part of the module yet (TODO: separate issue).
"""
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import isletsim as isl


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "python_demo.png"
    cfg = isl.Config.default()
    cfg.set("sim.duration_s", 120)
    cfg.set("glucose.mode", "constant").set("glucose.level", 11.0)  # mM
    cfg.set("coupling.gV", 120.0)                                   # pS
    cfg.heterogeneity("gKATP", cv=0.1)
    cfg.set("record.interval_ms", 20)
    net = isl.Network.sphere(200, seed=1)
    print(f"{net}; threads: {isl.detect_cores()}")

    res = isl.simulate(cfg, network=net)  # Ctrl-C stops it; the data so far is in the exception's .result
    res.save("python_demo.h5")
    t, c = res.time, res["c"]  # s, (samples, cells) uM

    late = t >= 60
    print(f"{res}: {res.wall_s:.1f} s wall, {t[-1] / res.wall_s:.1f} sim-s/s")
    print(f"last 60 s: mean c {c[late].mean():.3f} uM, synchrony {res.synchrony('c', from_s=60):.3f}, "
          f"mean duty cycle {res.duty_cycle('c', from_s=60).mean():.2f}")

    fig, ax = plt.subplots(2, 1, figsize=(9, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    order = np.argsort(np.linalg.norm(res.positions, axis=1))  # centre to surface
    im = ax[0].imshow(c[:, order].T, aspect="auto", origin="lower", extent=[t[0], t[-1], 0, c.shape[1]],
                      cmap="viridis", interpolation="nearest")
    ax[0].set_ylabel("cell (centre -> surface)")
    fig.colorbar(im, ax=ax[0], label="c (uM)", pad=0.01)
    ax[1].plot(t, c.mean(axis=1), color="k", lw=1)
    ax[1].set_ylabel("mean c (uM)")
    ax[1].set_xlabel("time (s)")
    ax[0].set_title(f"isletsim {isl.__version__}: {res.n_cells} cells, 11 mM glucose")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out} and python_demo.h5")


if __name__ == "__main__":
    main()
