#!/usr/bin/python3
"""isletsim's analysis pipeline against the way it is done in Python today (issue 10).

On one run's calcium (default: a run file given on the command line; the default run's output is
1000 cells x 60,001 samples), times side by side:

  (a) the correlation matrix: isletsim (OpenBLAS dsyrk, through isl.analyze's pipeline alone is not
      separable, so correlation_matrix is timed through the sweep summary's synchrony, which is the
      same code) against np.corrcoef (NumPy's BLAS is named: it is what libblas.so.3 resolves to in
      this process), and against a Python loop over cell pairs (np.corrcoef per pair, as the
      public Python suites do; a sample of pairs, extrapolated);
  (b) the whole pipeline: `isl.analyze` (binarisation, activity, correlation, coactivity, a
      functional network at average degree 8 with every measure, 20 random reference graphs,
      communities, waves) against the same measures written with NumPy and networkx: half-amplitude
      binarisation, per-cell activity with Python loops over cells, np.corrcoef, the threshold by
      sorting, networkx for degree, clustering, betweenness, closeness, efficiency, components,
      assortativity, Louvain and the small-world references, and waves by a Python loop over onsets.

The networkx numbers are checked against isletsim's (same graph: same edges, same measures) so the
two sides compute the same thing.

  /usr/bin/python3 bench/analysis_compare.py run.h5            # PYTHONPATH=build/python
"""
import argparse
import os
import time

import numpy as np

from cpu_model import cpu_model  # same folder: /proc/cpuinfo's model name


def blas_in_use():
    """The BLAS libraries mapped into this process (after NumPy has been used)."""
    libs = set()
    with open("/proc/self/maps") as f:
        for line in f:
            p = line.split()[-1]
            if "blas" in os.path.basename(p).lower() or "lapack" in os.path.basename(p).lower():
                libs.add(os.path.realpath(p))
    return sorted(libs)


def tick():
    return time.perf_counter()


def python_pipeline(t, c, pos, k_avg=8.0, n_random=20, wave_dt=0.5, wave_dist=30.0, seed=1):
    import networkx as nx

    times = {}
    t0 = tick()
    lo, hi = c.min(axis=0), c.max(axis=0)
    b = c > lo + 0.5 * (hi - lo)
    times["binarize"] = tick() - t0

    t0 = tick()
    onsets = []
    act = {"relative_active_time": [], "frequency_hz": [], "mean_duration_s": []}
    dt = t[1] - t[0]
    for i in range(c.shape[1]):  # per cell, as the Python suites loop
        bi = b[:, i].astype(np.int8)
        d = np.diff(bi)
        up = np.flatnonzero(d == 1) + 1
        down = np.flatnonzero(d == -1) + 1
        onsets.append(t[up])
        act["relative_active_time"].append(bi.mean())
        act["frequency_hz"].append(len(up) / (len(t) * dt))
        durs = [(dn - u) * dt for u in up for dn in down[down > u][:1]]
        act["mean_duration_s"].append(np.mean(durs) if durs else np.nan)
    times["activity"] = tick() - t0

    t0 = tick()
    r = np.corrcoef(c.T)
    times["correlation"] = tick() - t0

    t0 = tick()
    n = r.shape[0]
    iu = np.triu_indices(n, 1)
    vals = r[iu]
    e = int(round(k_avg * n / 2))
    thr = np.sort(vals)[::-1][e - 1]
    keep = vals >= thr
    g = nx.Graph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(iu[0][keep].tolist(), iu[1][keep].tolist()))
    deg = dict(g.degree())
    clus = nx.clustering(g)
    betw = nx.betweenness_centrality(g)
    clos = nx.closeness_centrality(g)
    glob = {
        "average_clustering": nx.average_clustering(g),
        "transitivity": nx.transitivity(g),
        "global_efficiency": nx.global_efficiency(g),
        "largest_component": len(max(nx.connected_components(g), key=len)) / n,
        "assortativity": nx.degree_assortativity_coefficient(g),
    }
    comms = nx.algorithms.community.louvain_communities(g, seed=seed)
    glob["modularity"] = nx.algorithms.community.modularity(g, comms)
    lc = g.subgraph(max(nx.connected_components(g), key=len))
    L = nx.average_shortest_path_length(lc)
    cr, lr = [], []
    for k in range(n_random):
        h = nx.gnm_random_graph(n, g.number_of_edges(), seed=seed + k)
        cr.append(nx.average_clustering(h))
        lr.append(np.mean([nx.average_shortest_path_length(h.subgraph(cc)) * 1.0
                           for cc in [max(nx.connected_components(h), key=len)]]))
    glob["small_world_sigma"] = (glob["average_clustering"] / np.mean(cr)) / (L / np.mean(lr))
    times["network"] = tick() - t0

    t0 = tick()
    ev = sorted((float(x), i) for i in range(n) for x in onsets[i])
    parent = list(range(len(ev)))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    start = 0
    for a in range(len(ev)):
        while ev[a][0] - ev[start][0] >= wave_dt:
            start += 1
        for q in range(start, a):
            if ev[q][1] != ev[a][1] and np.linalg.norm(pos[ev[q][1]] - pos[ev[a][1]]) < wave_dist:
                parent[find(a)] = find(q)
    waves = {}
    for a in range(len(ev)):
        waves.setdefault(find(a), set()).add(ev[a][1])
    n_waves = sum(1 for cells in waves.values() if len(cells) >= 0.45 * n)
    times["waves"] = tick() - t0
    return times, g, deg, clus, betw, clos, glob, n_waves


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("run", help="a run's .h5 file (e.g. the default run's output)")
    ap.add_argument("--pairs", type=int, default=2000, help="pairs timed for the pair loop")
    ap.add_argument("--skip-networkx", action="store_true", help="time only the correlation matrices")
    args = ap.parse_args()

    import h5py

    import isletsim as isl

    print(f"CPU: {cpu_model()}; {os.cpu_count()} CPUs visible")
    with h5py.File(args.run, "r") as f:
        t = np.asarray(f["time"])
        c = np.asarray(f["data"]["c"], dtype=np.float64)
        pos = np.asarray(f["cells"]["position"])
    print(f"data: {args.run}: {c.shape[1]} cells x {c.shape[0]} samples")

    t0 = tick()
    r_np = np.corrcoef(c.T)
    t_np = tick() - t0
    print(f"NumPy {np.__version__} BLAS in this process: {', '.join(blas_in_use()) or 'none found'}")

    res = isl.load(args.run, dtype="float64", lazy=False)  # read now, as float64: time the measure only
    t0 = tick()
    syn = res.synchrony("c", 0.0)
    t_isl = tick() - t0
    iu = np.triu_indices(c.shape[1], 1)
    print(f"correlation matrix: isletsim (dsyrk, via synchrony) {t_isl:.2f} s; np.corrcoef {t_np:.2f} s "
          f"({t_np / t_isl:.1f}x isletsim); synchrony {syn:.6f} vs NumPy's {r_np[iu].mean():.6f}")
    rng = np.random.default_rng(0)
    pairs = rng.integers(0, c.shape[1], size=(args.pairs, 2))
    t0 = tick()
    for a, b in pairs:
        np.corrcoef(c[:, a], c[:, b])[0, 1]
    per = (tick() - t0) / args.pairs
    total = per * len(iu[0])
    print(f"Python loop over pairs (np.corrcoef per pair): {per * 1e3:.2f} ms per pair -> {total:.0f} s for all "
          f"{len(iu[0])} pairs ({total / t_isl:.0f}x isletsim)")
    if args.skip_networkx:
        return

    t0 = tick()
    a = isl.analyze(res, threads=os.cpu_count())
    t_a = tick() - t0
    times, g, deg, clus, betw, clos, glob, n_waves = python_pipeline(t, c, pos)
    t_py = sum(times.values())
    print(f"whole pipeline: isl.analyze {t_a:.2f} s; NumPy + networkx {t_py:.1f} s ({t_py / t_a:.0f}x): "
          + ", ".join(f"{k} {v:.2f} s" for k, v in times.items()))
    # The same graph and the same measures on both sides.
    same_edges = {tuple(e) for e in a.network.edges.tolist()} == {tuple(sorted(e)) for e in g.edges}
    worst = max(abs(a.network.cells["betweenness"][i] - betw[i]) for i in g.nodes)
    print(f"check: same functional edges {same_edges}; max |betweenness difference| {worst:.1e}; global "
          f"efficiency {a.metrics['global_efficiency']:.6f} vs {glob['global_efficiency']:.6f}; clustering "
          f"{a.metrics['average_clustering']:.6f} vs {glob['average_clustering']:.6f}; waves >= 45%: "
          f"{a.metrics['n_waves']:.0f} vs {n_waves}")


if __name__ == "__main__":
    main()
