"""What makes isletsim fit notebooks: simulate's progress bar, Result.to_xarray /
to_pandas, and the HTML summaries Jupyter shows for Config, Network, Result and
Analysis. xarray, pandas and tqdm are imported when used."""
from __future__ import annotations

import html
import os
import sys

from . import _isletsim

# ---------------------------------------------------------------- progress


def _progress_wanted(progress) -> bool:
    if progress is None:  # a terminal or a notebook: on; a pipe, a file, a test: off
        try:
            tty = sys.stderr is not None and sys.stderr.isatty()
        except (AttributeError, ValueError):
            tty = False
        return tty or "ipykernel" in sys.modules
    if not isinstance(progress, bool):
        raise TypeError(f"progress: expected True, False or None (automatic), got {progress!r}")
    return progress


class _Bar:
    """A tqdm bar in simulated seconds, fed by the engine's (step, n_steps)."""

    def __init__(self, duration_s: float, desc: str):
        from tqdm.auto import tqdm

        self.duration_s = float(duration_s)
        self.bar = tqdm(total=self.duration_s, desc=desc, unit="s", unit_scale=False, dynamic_ncols=True,
                        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} s simulated "
                                   "[{elapsed}<{remaining}, {rate_fmt}]")

    def __call__(self, step: int, n_steps: int) -> None:
        done = self.duration_s * step / n_steps if n_steps else self.duration_s
        self.bar.update(done - self.bar.n)

    def close(self, complete: bool) -> None:
        if complete:
            self.bar.update(self.duration_s - self.bar.n)
        self.bar.close()


def _make_bar(progress, config, desc: str = "isletsim"):
    if not _progress_wanted(progress):
        return None
    try:
        return _Bar(getattr(config, "duration_s", 0.0), desc)
    except ImportError:
        if progress:
            raise ImportError("simulate(progress=True) needs tqdm (Debian: python3-tqdm)") from None
        return None


# ---------------------------------------------------------------- simulate


def threads_arg(threads, name: str = "threads"):
    """threads= of simulate, sweep and analyze: None or a whole number (an int, a NumPy integer);
    the compiled code checks its range (ValueError below 1, InputError above the limit)."""
    if threads is None:
        return None
    import operator

    try:
        return operator.index(threads)
    except TypeError:
        raise TypeError(f"{name}: expected a whole number of threads (int) or None, got {threads!r}") from None


def simulate(config, network=None, threads=None, output=None, *, params=None, initial=None, callback=None,
             callback_interval_s=None, progress=None, continue_from=None, overwrite=False):
    """Run a simulation; returns a Result.

    config: a Config. network: a Network to use instead of the config's [network] section
    (None = build it from the config). threads: None = the count predicted
    fastest from the islet's size, the idle cores and the recording, at most the cores
    this process may use (as ``islet run`` without -j). output: also write the HDF5 file there, as ``islet run -o``:
    a file that exists is kept and the run refused (FileExistsError) unless overwrite=True.

    params: {parameter name: (n_cells,) array} per-cell parameter values (units of
    isletsim.params()): the final values, replacing whatever the config gives that parameter
    (global value, cells.csv column, heterogeneity factors). initial: {state name: (n_cells,)
    array} per-cell initial states (isletsim.states()). Arrays are read as float64 and need one
    finite value per cell (ValueError naming the entry and both lengths otherwise; KeyError for
    an unknown name).

    callback: f(t, data) once per block of recorded samples, for online analysis: t the block's
    times, (n,) float64 s; data {var: (n, n_cells) float64}, fresh copies. callback_interval_s
    sets the block length (None = the engine's block, up to 1024 samples). It runs with the GIL
    held on the engine's writer thread while the simulation goes on. Returning True stops the run
    (status 'interrupted'); an exception stops it and propagates with .result.

    progress: a progress bar (tqdm.auto: a text bar on a terminal, a widget in a notebook) in
    simulated seconds. None (default): on when stderr is a terminal or in a Jupyter kernel, off
    otherwise (pipes, files, tests); True / False: always / never.

    continue_from: a Result (of simulate, or isletsim.load of a whole run file), or the path of a
    run file (loaded with isletsim.load), to go on from;
    config is that run's config with a longer sim.duration_s (record.checkpoint_s may differ too;
    anything else: ValueError). The run starts from the result's end state (a loaded file: its
    last saved state) with its network and per-cell parameters; the returned Result holds the
    samples of both, the same bits as one run of the whole duration. With output= they all go to
    that file (the result's own file: extended in place). See docs/guarantees.md.

    The GIL is released while it runs. Ctrl-C stops it at the next sample and raises
    KeyboardInterrupt with .result holding the data so far; a failed run (non-finite state)
    raises SimulationError (a RuntimeError) with .result.
    """
    threads = threads_arg(threads)
    if isinstance(continue_from, (str, os.PathLike)):  # a run file: its Result, as isletsim.load reads it
        from ._load import load

        continue_from = load(continue_from)
    elif continue_from is not None and not isinstance(continue_from, _isletsim.Result):
        raise TypeError("continue_from: expected a Result (of simulate or isletsim.load) or the path of a run file, "
                        f"got {type(continue_from).__name__}")
    bar = _make_bar(progress, config)
    complete = False
    try:
        res = _isletsim.simulate(config, network, threads, None if output is None else os.fspath(output),
                                 params=params, initial=initial, callback=callback,
                                 callback_interval_s=callback_interval_s, progress=bar,
                                 continue_from=continue_from, overwrite=overwrite)
        complete = res.status == "complete"
        return res
    finally:
        if bar is not None:
            bar.close(complete)


# ---------------------------------------------------------------- xarray / pandas


def _var_info(res) -> dict:
    """{state name: (unit, description)} of the result's model (empty for a file of another program)."""
    try:
        return {s[0]: (s[1], s[3]) for s in _isletsim._states(str(res.attrs.get("model", "bertram2007")))}
    except ValueError:
        return {}


def _param_info(res) -> dict:
    try:
        return {p[0]: (p[1], p[3]) for p in _isletsim._params(str(res.attrs.get("model", "bertram2007")))}
    except ValueError:
        return {}


def to_xarray(self, vars=None, params: bool = False):
    """The result as an xarray.Dataset (needs xarray).

    Dimensions ``time`` and ``cell``; coordinates ``time`` (s), ``cell`` (the run's cell index,
    ``res.cells``) and ``x``, ``y``, ``z`` (um) along ``cell``; one data variable per recorded
    variable (``vars``: a list to take only those), (time, cell), with ``units`` and
    ``description`` attributes; ``glucose`` (mM) along ``time``. params=True adds each per-cell
    parameter along ``cell`` (named ``param_<name>`` if a recorded variable has its name). The
    Dataset's attributes are the file's root attributes (config, model, seed, status, ...).
    The arrays are the Result's, not copies (a lazily loaded Result reads them now).
    """
    import xarray as xr

    names = list(self.vars) if vars is None else ([vars] if isinstance(vars, str) else list(vars))
    info = _var_info(self)
    pos = self.positions
    coords = {
        "time": ("time", self.time, {"units": "s", "long_name": "time"}),
        "cell": ("cell", self.cells, {"long_name": "cell index in the run"}),
    }
    if len(pos) == self.n_cells:
        for k, axis in enumerate("xyz"):
            coords[axis] = ("cell", pos[:, k], {"units": "um", "long_name": f"cell centre, {axis}"})
    data = {}
    for v in names:
        unit, desc = info.get(v, ("", ""))
        data[v] = (("time", "cell"), self[v], {"units": unit, "description": desc})
    data["glucose"] = ("time", self.glucose, {"units": "mM", "description": "glucose concentration"})
    if params:
        pinfo = _param_info(self)
        for p, values in self.params.items():
            unit, desc = pinfo.get(p, ("", ""))
            data[f"param_{p}" if p in data else p] = ("cell", values, {"units": unit, "description": desc})
    attrs = dict(self.attrs)
    if self.path:
        attrs["source"] = self.path
    return xr.Dataset(data, coords=coords, attrs=attrs)


def to_pandas(self, var: str = "c", form: str = "wide"):
    """One recorded variable as a pandas.DataFrame (needs pandas).

    form="wide" (default): rows = samples, indexed by ``time`` (s); columns = cells, named by the
    run's cell index (``res.cells``); the values are the array's. form="long": the tidy form,
    one row per (sample, cell), columns ``time``, ``cell`` and the variable (for seaborn, groupby,
    ...).
    """
    import pandas as pd

    if form not in ("wide", "long"):
        raise ValueError(f"form: expected 'wide' or 'long', got {form!r}")
    a = self[var]
    index = pd.Index(self.time, name="time")
    columns = pd.Index(self.cells, name="cell")
    if form == "wide":
        return pd.DataFrame(a, index=index, columns=columns, copy=False)
    import numpy as np

    n_t, n_c = a.shape
    return pd.DataFrame({"time": np.repeat(self.time, n_c), "cell": np.tile(self.cells, n_t), var: a.reshape(-1)})


# ---------------------------------------------------------------- HTML


def _table(title: str, rows) -> str:
    body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
                   f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>" for k, v in rows)
    return f"<div><strong>{html.escape(title)}</strong><table>{body}</table></div>"


def _g(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def result_html(self) -> str:
    a = self.attrs
    t = self.time
    n_run = a.get("n_cells", self.n_cells)
    rows = [("model", a.get("model", "?")),
            ("cells", self.n_cells if n_run == self.n_cells else f"{self.n_cells} of {n_run}")]
    if len(t):
        rows.append(("samples", f"{self.n_samples}, t = {t[0]:.6g} .. {t[-1]:.6g} s"))
    else:
        rows.append(("samples", "0"))
    if "tolerance" in a:
        rows.append(("integrator", f"{a.get('integrator', '?')}, tolerance {_g(a['tolerance'])}"))
    elif "dt_ms" in a:
        rows.append(("integrator", f"{a.get('integrator', '?')}, dt {_g(a['dt_ms'])} ms"))
    if "record_interval_ms" in a:
        rows.append(("recorded every", f"{_g(a['record_interval_ms'])} ms"))
    info = _var_info(self)
    lazy = [v for v in self.vars if v not in self.in_memory]
    rows.append(("variables", ", ".join(f"{v} ({info[v][0]})" if info.get(v, ("",))[0] else v for v in self.vars)
                 + f"; {self.dtype}" + (f"; not read yet: {', '.join(lazy)}" if lazy else "")))
    rows.append(("status", self.status + (f": {self.message}" if self.message else "")))
    if self.wall_s:
        rows.append(("wall time", f"{self.wall_s:.3g} s"))
    rows.append(("file", self.path or "(memory only)"))
    return _table("isletsim.Result", rows)


def config_html(self) -> str:
    d = self.as_dict()
    sim, net, rec, glu = d.get("sim", {}), d.get("network", {}), d.get("record", {}), d.get("glucose", {})
    kind = net.get("kind", "?")
    if kind == "sphere":
        network = f"sphere of {net.get('n_cells', '?')} cells"
    elif kind == "lattice":
        network = f"lattice {net.get('nx')} x {net.get('ny')} x {net.get('nz')}"
    else:
        network = f"{kind}: {net.get('cells', '')}, {net.get('edges', '')}"
    mode = glu.get("mode", "?")
    if mode == "constant":
        glucose = f"constant {_g(glu.get('level'))} mM"
    elif mode == "step":
        glucose = f"step {_g(glu.get('basal'))} -> {_g(glu.get('level'))} mM at {_g(glu.get('t_step_s'))} s"
    elif mode == "protocol":
        glucose = f"protocol from {_g(glu.get('basal'))} mM, {len(glu.get('events', []))} event(s)"
    else:
        glucose = str(mode)
    rows = [("model", d.get("model", {}).get("name", "?")), ("network", network),
            ("duration", f"{_g(self.duration_s)} s"),
            ("integrator", f"dopri5, tolerance {_g(self.tolerance)}" if self.integrator == "dopri5"
                           else f"{self.integrator}, dt {_g(self.dt_ms)} ms"),
            ("glucose", glucose),
            ("recorded", f"{', '.join(self.record_vars)} every {_g(rec.get('interval_ms', '?'))} ms, "
                         f"{rec.get('dtype', '?')}"),
            ("seed", self.seed), ("output", self.output), ("from", self.origin)]
    if self.overrides:
        rows.append(("overrides", "; ".join(self.overrides)))
    return _table("isletsim.Config", rows)


def network_html(self) -> str:
    rows = [("cells", self.n_cells), ("edges", self.n_edges), ("mean degree", f"{self.mean_degree:.3g}")]
    if self.n_cells:
        p = self.positions
        ext = p.max(axis=0) - p.min(axis=0)
        rows.append(("extent", " x ".join(f"{e:.4g}" for e in ext) + " um"))
    if self.cell_params:
        rows.append(("per-cell parameters", ", ".join(self.cell_params)))
    return _table("isletsim.Network", rows)


def analysis_html(self) -> str:
    m = self.metrics
    rows = [("source", self.source), ("variable", self.variable),
            ("cells x samples", f"{self.n_cells} x {self.n_samples} at {self.rate_hz:g} Hz"),
            ("functional edges", f"{self.network.n_edges} (threshold {self.network.threshold:.4g})"),
            ("waves", len(self.waves))]
    for k in ("relative_active_time", "frequency_hz", "global_efficiency"):
        if k in m:
            rows.append((k, f"{m[k]:.4g}"))
    return _table("isletsim.Analysis", rows)


def sweep_html(self) -> str:
    c = self.counts
    head = _table("isletsim.SweepTable", [
        ("tasks", f"{self.n_tasks}: {c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped, "
                  f"{c['interrupted']} interrupted"),
        ("swept", ", ".join(self.keys_swept)), ("folder", self.out_dir)])
    try:
        import pandas as pd
    except ImportError:
        return head
    return head + pd.DataFrame({k: v for k, v in self.items() if k not in ("file", "message")})._repr_html_()
