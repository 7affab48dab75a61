"""Every picture of an analysis (or of a sweep) written to files.

    python3 -m isletsim.figures run.analysis.h5 -o figs            # 8 pictures, PNG + SVG
    python3 -m isletsim.figures --sweep scan/analysis.csv -o figs  # a heatmap per metric

From Python: ``make_all(a, "figs")`` for an :class:`isletsim.analysis.Analysis`,
``make_sweep(table, "figs")`` for a sweep's table (a dict of columns). Each figure is
closed once written, so many runs in one process do not accumulate figures. The
command line draws with matplotlib's non-interactive Agg backend; the functions use
whatever backend is chosen (they only create, save and close figures).
"""
from __future__ import annotations

import os
import re
import sys

import numpy as np

from . import plot

# (file stem, plot function, needs positions) in the order make_all draws them.
PICTURES = (
    ("binary_raster", plot.binary_raster, False),
    ("correlation_matrix", plot.correlation_matrix, False),
    ("network", plot.network, True),
    ("degree_distribution", plot.degree_distribution, False),
    ("waves", plot.waves, True),
    ("leaders", plot.leaders, True),
    ("latency", plot.latency_histogram, False),
    ("correlation_distance", plot.correlation_distance, False),
)

# Sweep-table columns that are never metrics.
_NOT_METRICS = ("task", "status", "file", "message", "wall_s", "window_from_s", "window_to_s", "source", "error")


def _note(text: str) -> None:
    print(f"isletsim.figures: {text}", file=sys.stderr)


def _save(fig, out_dir: str, stem: str, formats, dpi: float) -> list[str]:
    """Writes ``fig`` as out_dir/stem.<format> for each format and closes it; returns the paths."""
    import matplotlib.pyplot as plt

    written = []
    try:
        for fmt in formats:
            path = os.path.join(out_dir, f"{stem}.{fmt}")
            fig.savefig(path, dpi=dpi)
            written.append(path)
    finally:
        plt.close(fig)
    return written


def _figure_of(obj):
    """The Figure of what a plot function returned (a Figure, SubFigure, Axes or artist)."""
    fig = obj if hasattr(obj, "savefig") else getattr(obj, "figure", None)
    while fig is not None and not hasattr(fig, "savefig"):  # a SubFigure: its parent figure
        fig = fig.figure
    return fig


def _formats(formats) -> tuple[str, ...]:
    if isinstance(formats, str):
        formats = formats.split(",")
    out = tuple(f.strip().lstrip(".").lower() for f in formats if f.strip())
    if not out:
        raise ValueError("formats: give at least one, e.g. ('png', 'svg')")
    return out


def _draw_one(a, stem, draw, out_dir, formats, dpi) -> list[str]:
    import matplotlib.pyplot as plt

    before = set(plt.get_fignums())
    try:
        fig = _figure_of(draw(a))
    except BaseException:
        for n in set(plt.get_fignums()) - before:  # a half-drawn figure
            plt.close(n)
        raise
    return _save(fig, out_dir, stem, formats, dpi)


_FORKED = None  # (a, out_dir, formats, dpi) for the worker processes of make_all(jobs > 1)


def _draw_in_worker(k: int) -> list[str]:
    a, out_dir, formats, dpi = _FORKED
    stem, draw, _ = PICTURES[k]
    return _draw_one(a, stem, draw, out_dir, formats, dpi)


def make_all(a, out_dir, formats=("png", "svg"), dpi: float = 150, jobs: int = 1) -> list[str]:
    """Writes every analysis picture of ``a`` (an Analysis) into ``out_dir`` (created):
    binary_raster, correlation_matrix, network, degree_distribution, waves, leaders,
    latency and correlation_distance, each as ``<name>.<format>`` for every format
    (PNG at ``dpi`` dots per inch). The pictures needing positions (network, waves,
    leaders) are skipped, with a note on stderr, when ``a.positions`` is None. Every
    figure is closed after saving. ``jobs`` > 1 draws in that many forked processes
    (Linux; the pictures are the same). Returns the paths written, in drawing order."""
    global _FORKED
    formats = _formats(formats)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    todo = []
    for k, (stem, draw, needs_positions) in enumerate(PICTURES):
        if needs_positions and a.positions is None:
            _note(f"{stem}: skipped (the analysis has no cell positions)")
            continue
        todo.append(k)
    if jobs > 1 and len(todo) > 1:
        import multiprocessing

        _FORKED = (a, out_dir, formats, dpi)
        try:
            with multiprocessing.get_context("fork").Pool(min(jobs, len(todo))) as pool:
                return [p for paths in pool.map(_draw_in_worker, todo, chunksize=1) for p in paths]
        finally:
            _FORKED = None
    written = []
    for k in todo:
        stem, draw, _ = PICTURES[k]
        written += _draw_one(a, stem, draw, out_dir, formats, dpi)
    return written


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_") or "metric"


def sweep_keys(table) -> list[str]:
    """The swept keys of a sweep table: ``table.keys_swept`` when it has them (a
    SweepTable), else the columns before "status" other than "task" (the layout of
    summary.csv and of a sweep's analysis table)."""
    keys = getattr(table, "keys_swept", None)
    if keys is not None:
        return list(keys)
    cols = list(table.keys()) if hasattr(table, "keys") else list(table.columns)
    before = cols[:cols.index("status")] if "status" in cols else []
    return [c for c in before if c != "task"]


def sweep_metrics(table, keys) -> list[str]:
    """The numeric columns of ``table`` that are neither keys nor bookkeeping (task,
    status, file, message, wall_s) and have at least one finite value."""
    cols = list(table.keys()) if hasattr(table, "keys") else list(table.columns)
    out = []
    for c in cols:
        if c in keys or c in _NOT_METRICS:
            continue
        v = np.asarray(table[c])
        if v.dtype.kind in "fiu" and np.isfinite(v.astype(float)).any():
            out.append(c)
    return out


def make_sweep(table, out_dir, metrics=None, keys=None, formats=("png", "svg"), dpi: float = 150) -> list[str]:
    """Pictures of a sweep's table (a dict of equal-length columns, a SweepTable or a
    pandas DataFrame) in ``out_dir`` (created), one per metric, named
    ``sweep_<metric>.<format>``. keys: the swept keys (default :func:`sweep_keys`);
    metrics: the columns to draw (default :func:`sweep_metrics`). With two or more
    keys, a heatmap over the first two (rows sharing them, whatever the other keys,
    averaged); with one, the metric against the key. Returns the paths written
    (none, with a note, when no key was swept)."""
    formats = _formats(formats)
    keys = sweep_keys(table) if keys is None else list(keys)
    for k in keys:
        if k not in table:
            raise KeyError(f"the sweep table has no column {k!r}")
    metrics = sweep_metrics(table, keys) if metrics is None else list(metrics)
    out_dir = os.fspath(out_dir)
    os.makedirs(out_dir, exist_ok=True)
    if not keys:
        _note("the sweep table has no swept key: no sweep pictures")
        return []
    written = []
    for m in metrics:
        if len(keys) >= 2:
            ax = plot.sweep_heatmap(table, m, keys[0], keys[1])
        else:
            ax = plot.sweep_line(table, m, keys[0])
        written += _save(_figure_of(ax), out_dir, f"sweep_{_safe_name(m)}", formats, dpi)
    return written


def read_table_csv(path) -> dict:
    """A CSV table (a sweep's summary or analysis table) as a dict of NumPy columns, in
    the file's column order: a column whose every value parses as a number (empty
    cells read NaN) is float64, any other str."""
    import csv

    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        names = list(reader.fieldnames or [])
        rows = list(reader)
    table = {}
    for name in names:
        raw = [(r.get(name) or "").strip() for r in rows]
        try:
            if not any(raw):
                raise ValueError
            table[name] = np.array([float(v) if v else np.nan for v in raw], dtype=np.float64)
        except ValueError:
            table[name] = np.array(raw, dtype=str)
    return table


def main(argv=None) -> int:
    """``python3 -m isletsim.figures [ANALYSIS_H5] [--sweep CSV] [-o DIR] [--formats png,svg]
    [--dpi 150] [--keys K1,K2] [--metrics M1,M2]``; prints the files written. Returns the
    exit status."""
    import argparse

    p = argparse.ArgumentParser(prog="python3 -m isletsim.figures",
                                description="Write the analysis pictures of an islet run (or of a sweep).")
    p.add_argument("analysis", nargs="?", help="an analysis file (<run>.analysis.h5, as `islet analyze` writes)")
    p.add_argument("-o", "--out-dir", default=None, help="where the pictures go (default: figures)")
    p.add_argument("--formats", default="png,svg", help="comma-separated file formats (default png,svg)")
    p.add_argument("--dpi", type=float, default=150, help="resolution of raster formats (default 150)")
    p.add_argument("--sweep", metavar="CSV", help="a sweep's analysis table (CSV): one picture per metric")
    p.add_argument("--keys", help="the swept keys, comma-separated (default: the columns before 'status' "
                                  "other than 'task'); the first two make the heatmaps' axes")
    p.add_argument("--metrics", help="the sweep columns to draw, comma-separated (default: every numeric one)")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    p.add_argument("-j", "--jobs", type=int, default=1, help="draw in this many processes (default 1)")
    args = p.parse_args(argv)
    if args.analysis is None and args.sweep is None:
        p.error("give an analysis file, --sweep CSV, or both")
    if args.dpi <= 0:
        p.error("--dpi must be positive")
    try:
        formats = _formats(args.formats)
    except ValueError as e:
        p.error(str(e))

    import matplotlib

    matplotlib.use("Agg")
    out_dir = args.out_dir or "figures"
    written = []
    try:
        if args.analysis is not None:
            from .analysis import load_analysis

            written += make_all(load_analysis(args.analysis, signal=False), out_dir, formats=formats, dpi=args.dpi,
                                jobs=args.jobs)
        if args.sweep is not None:
            table = read_table_csv(args.sweep)
            keys = [k.strip() for k in args.keys.split(",") if k.strip()] if args.keys else None
            metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
            written += make_sweep(table, out_dir, metrics=metrics, keys=keys, formats=formats, dpi=args.dpi)
    except (OSError, KeyError, ValueError) as e:
        print(f"isletsim.figures: error: {e}", file=sys.stderr)
        return 1
    if not args.quiet:
        for path in written:
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
