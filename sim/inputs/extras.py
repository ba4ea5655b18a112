"""The optional extras (``pip install "mutuals-sim[calibrate]"``) and a message naming the one to install.

Optuna, pyabc, Dask, EMA Workbench and Solara are imported only where they are used. When one is missing,
:func:`require` raises :class:`MissingExtra`, whose message names the extra that installs it; the command
line reports it as bad input (exit code 2), not as its own bug.
"""

from __future__ import annotations

import importlib
from types import ModuleType

EXTRAS = {
    "optuna": ("calibrate", "Optuna"),
    "pyabc": ("calibrate", "pyabc"),
    "dask": ("dask", "Dask"),
    "distributed": ("dask", "Dask distributed"),
    "ema_workbench": ("ema", "EMA Workbench"),
    "solara": ("explore", "Solara"),
    "solara_assets": ("explore", "solara-assets"),
    "ipyvue": ("explore", "ipyvue"),
    "ipyvuetify": ("explore", "ipyvuetify"),
}
"""Top-level module -> (the extra that installs it, its name for people)."""

PACKAGE = "mutuals-sim"


class MissingExtra(ModuleNotFoundError):
    """An optional module is not installed; the message names the extra to install.

    A :class:`ModuleNotFoundError`, so ``except ImportError`` still catches it.
    """


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install "mutuals-sim[extra]"``."""
    return f'pip install "{PACKAGE}[{extra}]"'


def message(module: str, needed_for: str = "") -> str | None:
    """What to say when ``module`` (or a submodule of it) cannot be imported; None if it is not optional.

    An extra that is installed but lacks the submodule is too old: the message says to upgrade it.
    """
    top = module.split(".")[0]
    if top not in EXTRAS:
        return None
    extra, label = EXTRAS[top]
    for_what = f"{needed_for} needs" if needed_for else "this needs"
    if module != top and _installed(top):
        return f'{for_what} a newer {label} (it has no {module}): pip install --upgrade "{PACKAGE}[{extra}]"'
    return (
        f"{for_what} {label}, which is not installed: {install_hint(extra)} "
        f"(or every extra: {install_hint('all')}; in a checkout, `uv sync` installs them)"
    )


def _installed(top: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, needed_for: str = "") -> ModuleType:
    """Import ``module`` (an optional one, e.g. ``optuna``), or raise :class:`MissingExtra` naming its extra.

    Args:
        module: the module to import (its top-level name must be in :data:`EXTRAS`).
        needed_for: what needs it, for the message (``calibrate --method optuna``).
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        missing = exc.name or module
        text = message(missing, needed_for)
        if text is None:  # a dependency of the extra itself is missing: not ours to name
            raise
        raise MissingExtra(text, name=missing) from exc


def from_error(exc: BaseException) -> str | None:
    """The message for an import error (or one caused by it) of an optional module; else None."""
    while exc is not None:
        if isinstance(exc, MissingExtra):
            return str(exc)
        if isinstance(exc, ModuleNotFoundError) and exc.name:
            return message(exc.name)
        exc = exc.__cause__
    return None
