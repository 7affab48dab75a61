#!/usr/bin/python3
"""Plot an isletsim output file: calcium raster, mean trace, glucose.

Usage: /usr/bin/python3 examples/plot_run.py islet.h5 [out.png]
Prints summary numbers (active fraction, synchrony) for the stimulated phase.
"""
import sys

import h5py
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "islet.h5"
    out = sys.argv[2] if len(sys.argv) > 2 else path.rsplit(".", 1)[0] + ".png"
    with h5py.File(path, "r") as f:
        t = f["time"][:]
        n = len(t)
        c = f["data/c"][:n].astype(np.float64)
        g = f["glucose"][:n]
        status = f.attrs["status"]
    print(f"{path}: status {status}, {c.shape[1]} cells, {n} samples, t = {t[0]:.1f}..{t[-1]:.1f} s")

    fig, ax = plt.subplots(3, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1.3, 0.7]})
    order = np.argsort(c[n // 2 :].mean(axis=0))
    im = ax[0].imshow(c[:, order].T, aspect="auto", origin="lower", extent=[t[0], t[-1], 0, c.shape[1]],
                      cmap="magma", interpolation="nearest")
    ax[0].set_ylabel("cell (sorted by mean c)")
    cax = ax[0].inset_axes([1.005, 0.0, 0.012, 1.0])  # keeps the shared time axis aligned
    fig.colorbar(im, cax=cax, label="c (uM)")
    ax[1].plot(t, c.mean(axis=1), color="k", lw=0.8, label="islet mean")
    for k in (0, c.shape[1] // 2, c.shape[1] - 1):
        ax[1].plot(t, c[:, k], lw=0.5, alpha=0.7, label=f"cell {k}")
    ax[1].set_ylabel("c (uM)")
    ax[1].legend(fontsize=7, ncol=4, loc="upper left")
    ax[2].plot(t, g, color="tab:blue")
    ax[2].set_ylabel("glucose (mM)")
    ax[2].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")

    # Summary of the last half of the run (after the first-phase transient).
    w = c[n // 2 :]
    amp = w.max(axis=0) - w.min(axis=0)
    active = amp > 0.05
    z = (w - w.mean(axis=0)) / np.where(w.std(axis=0) > 0, w.std(axis=0), 1)
    corr = (z.T @ z) / len(w)
    iu = np.triu_indices(c.shape[1], 1)
    m = c.mean(axis=1)
    thr = m.min() + 0.5 * (m.max() - m.min())
    onsets = t[1:][(m[1:] >= thr) & (m[:-1] < thr)]
    print(f"islet-mean calcium: {len(onsets)} bursts at t = {', '.join(f'{x:.0f}' for x in onsets)} s; "
          f"active (above half amplitude) {100 * (m > thr).mean():.0f}% of the time")
    print(f"second half: {active.mean() * 100:.0f}% of cells oscillate (c amplitude > 0.05 uM); "
          f"mean c {w.mean():.3f} uM; synchrony (mean pairwise corr. of c) {corr[iu].mean():.3f}")


if __name__ == "__main__":
    main()
