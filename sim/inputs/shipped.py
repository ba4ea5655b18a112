"""The scenarios shipped with the package, and finding a scenario or sweep file by path or by name.

In a checkout they are the files under ``scenarios/``; in an installed wheel the same files are package
data under ``sim/scenarios`` (pyproject's ``force-include``), so ``run baseline`` works anywhere.
"""

from __future__ import annotations

from pathlib import Path


def scenarios_dir() -> Path:
    """The folder of the scenarios shipped with the package.

    ``sim/scenarios`` in an installed wheel (package data, from the checkout's ``scenarios/``), else the
    checkout's ``scenarios/``.
    """
    from importlib import resources

    shipped = Path(str(resources.files("sim") / "scenarios"))
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[2] / "scenarios"


def find_scenario(path_or_name: str | Path) -> Path:
    """A scenario or sweep file: ``path_or_name`` if it exists, else the shipped one of that name.

    ``baseline``, ``sweeps/levers`` (or ``sweeps/levers.toml``) work from any folder, installed or not.
    A path that is neither is returned as it is, for the loader to report as not found.
    """
    path = Path(path_or_name)
    if path.exists():
        return path
    shipped = scenarios_dir() / (path if path.suffix == ".toml" else path.with_suffix(".toml"))
    return shipped if shipped.is_file() and not path.is_absolute() else path
