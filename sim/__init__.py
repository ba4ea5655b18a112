"""Agent-based simulation of English councils divesting services to public service mutuals, 2014 on.

The public API for notebooks and scripts::

    from sim import load_scenario, run_scenario, summarise, DivestmentModel

The package is laid out by job, imports running one way (each layer imports only those below it)::

    sim.cli          the command line, one module per command
    sim.experiments  runs, sweeps, designs, results stores, comparison
    sim.evidence     observed series and calibration
    sim.pictures     charts and maps, in one style
    sim.model        the Mesa model: the yearly loop, its stages, the pure rules, random streams, slots
    sim.inputs       council data, the parameter registry, scenario files

Names are imported lazily, so ``import sim`` costs almost nothing (neither Mesa nor pandas).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

_EXPORTS = {
    "DivestmentModel": "sim.model.divestment",
    "Scenario": "sim.inputs.scenario",
    "ScenarioError": "sim.inputs.scenario",
    "load_scenario": "sim.inputs.scenario",
    "ScenarioResults": "sim.experiments.run",
    "run_scenario": "sim.experiments.run",
    "summarise": "sim.experiments.run",
}

__all__ = sorted(_EXPORTS)


def _quiet_tqdm_in_notebooks() -> None:
    """Keep Mesa's import from warning "IProgress not found" in a notebook without ipywidgets.

    Mesa's batch runner imports ``tqdm.auto``, which warns so once, when first imported, in any Jupyter
    kernel without ipywidgets (and then uses plain tqdm). Importing it here first, with that one
    warning silenced, leaves tqdm exactly as it would be. Only in a running IPython; nothing otherwise.
    """
    if "IPython" not in sys.modules or "tqdm.auto" in sys.modules:
        return
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="IProgress not found")
        import tqdm.auto  # noqa: F401


_quiet_tqdm_in_notebooks()


def lazy_exports(module: str, exports: dict[str, str], namespace: dict[str, Any]):
    """A PEP 562 ``__getattr__`` for ``module`` importing each public name of ``exports`` on first use.

    Args:
        module: the package's name, for error messages.
        exports: public name -> the module that defines it.
        namespace: the package's ``globals()``, where a loaded name is kept.
    """

    def __getattr__(name: str) -> Any:
        if name in exports:
            value = getattr(importlib.import_module(exports[name]), name)
            namespace[name] = value
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


_exports_getattr = lazy_exports("sim", _EXPORTS, globals())


def _version() -> str:
    """The installed distribution's version (``mutuals-sim``), else the checkout's pyproject.toml's."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mutuals-sim")
    except PackageNotFoundError:
        import tomllib
        from pathlib import Path

        pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
        try:
            return tomllib.loads(pyproject.read_text())["project"]["version"]
        except (OSError, KeyError, tomllib.TOMLDecodeError):
            return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":  # read from package metadata on first use (tens of ms), then kept
        globals()["__version__"] = value = _version()
        return value
    return _exports_getattr(name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS, "__version__"])
