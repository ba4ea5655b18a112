"""The scenarios shipped with the package, and finding a scenario or sweep file by path or by name.

In a checkout they are the files under ``scenarios/``; in an installed wheel the same files are package
data under ``sim/scenarios`` (pyproject's ``force-include``), so ``run baseline``,
``load_scenario("baseline")``, ``extends = "baseline"`` and a sweep's ``base = "baseline"`` work anywhere.
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


def notebooks_dir() -> Path:
    """The shipped notebooks: ``sim/notebooks`` when installed, else the checkout's ``notebooks/``."""
    from importlib import resources

    shipped = Path(str(resources.files("sim") / "notebooks"))
    return shipped if shipped.is_dir() else Path(__file__).resolve().parents[2] / "notebooks"


def shipped_names() -> list[str]:
    """The names of the shipped scenario and sweep files (``baseline``, ``sweeps/levers``, ...)."""
    root = scenarios_dir()
    return sorted(p.relative_to(root).with_suffix("").as_posix() for p in root.rglob("*.toml"))


def shipped_file(name: str | Path) -> Path | None:
    """The shipped file of this name (``baseline``, ``baseline.toml``, ``sweeps/levers``), or None."""
    path = Path(name)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        return None
    shipped = scenarios_dir() / (path if path.suffix == ".toml" else path.with_suffix(".toml"))
    return shipped if shipped.is_file() else None


def find_scenario(path_or_name: str | Path) -> Path:
    """A scenario or sweep file: ``path_or_name`` if it exists, else the shipped one of that name.

    ``baseline``, ``sweeps/levers`` (or ``sweeps/levers.toml``) work from any folder, installed or not.
    A path that is neither is returned as it is, for the loader to report as not found.
    """
    path = Path(path_or_name)
    if path.exists():
        return path
    return shipped_file(path) or path


def find_relative(text: str, folder: Path) -> Path:
    """A file another file names (``extends``, a sweep's ``base``): relative to ``folder``, else shipped.

    ``folder / text`` if it exists, else the shipped scenario named ``text`` (``"baseline"``), else
    ``folder / text`` for the caller to report as not found.
    """
    path = folder / text
    if path.exists():
        return path
    return shipped_file(text) or path


def not_found_hint(text: str = "") -> str:
    """What to add to "file not found": the shipped scenario ``text`` may have meant, or an example."""
    import difflib

    close = (
        difflib.get_close_matches(text.strip().removesuffix(".toml"), shipped_names(), n=3) if text else []
    )
    return (
        f"; nor a shipped scenario: did you mean {', '.join(close)}?"
        if close
        else ("; nor a shipped scenario (by name, e.g. baseline)")
    )
