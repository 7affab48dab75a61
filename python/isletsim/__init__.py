"""isletsim: simulate islets of coupled pancreatic beta cells (Bertram et al. 2007).

The C++ engine of the ``islet`` tool, from Python::

    import isletsim as isl
    cfg = isl.Config.default().set("sim.duration_s", 60)  # same keys as `islet run --set`
    cfg.heterogeneity("gKATP", cv=0.1)
    net = isl.Network.sphere(200, seed=1)                # or Network.lattice / from_csv / from_arrays
    res = isl.simulate(cfg, network=net, threads=2)
    t, c = res.time, res["c"]                            # s; (samples, cells) uM, float64
    res.save("run.h5"); again = isl.load("run.h5")       # the same files as `islet run`

Units: time s, glucose mM, V mV, c uM, positions um, conductances pS (see params()).
Sweeps (``isl.sweep``) are not available yet (TODO: separate issue).
"""
from __future__ import annotations

from collections import namedtuple as _namedtuple

from ._isletsim import (  # noqa: F401
    Config,
    InputError,
    Network,
    Result,
    SimulationError,
    __version__,
    config_keys,
    core_report,
    detect_cores,
    load,
    simulate,
)
from . import _isletsim

__all__ = [
    "Config", "Network", "Result", "InputError", "SimulationError", "simulate", "load",
    "params", "states", "config_keys", "detect_cores", "core_report", "__version__",
]

for _cls in (Config, Network, Result, InputError, SimulationError):
    _cls.__module__ = "isletsim"  # isletsim.Config, not isletsim._isletsim.Config, in reprs and help()

Param = _namedtuple("Param", ["name", "unit", "default", "description"])
Param.__doc__ = "A model parameter: name, unit, default value, description."
State = _namedtuple("State", ["name", "unit", "initial", "description"])
State.__doc__ = "A state variable: name, unit, initial value, description."


def params() -> list[Param]:
    """The model parameter table (as `islet params`): Param(name, unit, default, description)."""
    return [Param(*p) for p in _isletsim._params()]


def states() -> list[State]:
    """The state variables: State(name, unit, initial, description); names usable in record.vars."""
    return [State(*s) for s in _isletsim._states()]


def _config_as_dict(self: Config) -> dict:
    """The resolved config as nested dicts ({section: {key: value}}), parsed from to_toml()."""
    import tomllib

    return tomllib.loads(self.to_toml())


def _config_get(self: Config, key: str):
    """The resolved value of 'section.key' (e.g. cfg.get('coupling.gV') -> 120.0). KeyError if absent."""
    section, _, name = key.partition(".")
    d = _config_as_dict(self)
    try:
        return d[section][name] if name else d[section]
    except KeyError:
        raise KeyError(key) from None


Config.as_dict = _config_as_dict
Config.get = _config_get


def _result_config(self: Result) -> Config:
    """The run's config as a Config (from the stored TOML)."""
    return Config.from_toml(self.config_toml, "<result config>")


Result.config = property(_result_config)
