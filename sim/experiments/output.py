"""Writing a run's self-describing results folder, all or nothing.

Files are written into a hidden staging folder beside the destination and moved into place only when
every file is complete, so an error or an interrupt never leaves a half-written results folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

PACKAGES = (
    "mutuals-sim",
    "mesa",
    "numpy",
    "pandas",
    "matplotlib",
    "pyarrow",
    "scipy",
    "SALib",
    "dask",
    "distributed",
)


def git_commit() -> dict[str, Any]:
    """The git commit of the package's source tree, and whether it has uncommitted changes."""
    root = Path(__file__).resolve().parents[2]
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "sim", "pyproject.toml"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        return {"commit": commit, "dirty": bool(dirty)}
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}


def versions() -> dict[str, str | None]:
    """Installed versions of Python and the packages results depend on."""
    return dict(_versions())


@lru_cache(maxsize=1)
def _versions() -> dict[str, str | None]:
    """Versions looked up once per process (package metadata takes milliseconds to read)."""
    out: dict[str, str | None] = {"python": platform.python_version(), "platform": platform.platform()}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def provenance() -> dict[str, Any]:
    """Commit, versions, command line and time, for a manifest."""
    return {
        "git": git_commit(),
        "versions": versions(),
        "command": sys.argv,
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer | np.floating | np.bool_):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def write_json(path: Path, data: Any) -> None:
    """Write JSON with numpy scalars converted."""
    path.write_text(json.dumps(data, indent=2, default=_json_default, allow_nan=False) + "\n")


MARKER = ".mutuals-sim"
"""A file in every folder the program writes (run results, sweeps, comparisons); it names the kind.

The program replaces or deletes only folders that carry it, so it never removes a user's own files."""
KINDS = ("run", "sweep", "compare")


class OutputError(Exception):
    """An output path the program must not write to; the message names the path and why."""


def safe_name(name: str) -> str:
    """``name`` made safe as one folder name: no separators, no ``..``, no leading dot, no control codes."""
    text = "".join(c if c.isalnum() or c in "-_." else "-" for c in str(name))
    text = "-".join(part for part in text.split("-") if part)  # runs of "-" collapsed
    text = text.replace("..", "-").lstrip(".-")
    return text[:80] or "scenario"


def default_out_dir(name: str, root: str | Path = "results") -> Path:
    """A new folder name under ``root``: ``<name made safe>-<UTC timestamp>``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{safe_name(name)}-{stamp}"
    out, k = base, 1
    while out.exists():
        out, k = Path(f"{base}-{k}"), k + 1
    return out


def marker_kind(folder: Path) -> str | None:
    """The kind of output a folder holds if the program made it (its marker file), else None."""
    try:
        return json.loads((Path(folder) / MARKER).read_text()).get("kind")
    except (OSError, ValueError, AttributeError):
        return None


def write_marker(folder: Path, kind: str) -> None:
    """Mark ``folder`` as made by the program, holding output of ``kind``."""
    (Path(folder) / MARKER).write_text(json.dumps({"kind": kind, "program": "mutuals-sim"}) + "\n")


def protected_reason(out: Path) -> str | None:
    """Why ``out`` may never be replaced (the working folder or one holding it, home, a root), or None."""
    resolved = out.resolve()
    cwd = Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        return "is the working folder or one of its parents"
    if resolved == Path.home().resolve():
        return "is the home folder"
    if resolved.parent == resolved:
        return "is the root of a file system"
    return None


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def check_out_dir(out: Path, force: bool, kind: str = "run") -> str | None:
    """A message if the program may not write its ``kind`` of results folder at ``out``, else None.

    Writing is allowed to a new folder, an empty folder, or (with ``force``) a folder the program made
    for the same kind of output (it carries :data:`MARKER`). Never to a file, the working folder or a
    parent of it, the home folder, or a folder without the marker. The nearest existing parent must be
    a folder in which a folder can be made (tried, and removed at once), so a bad path fails before any
    simulation.
    """
    out = Path(out)
    why = protected_reason(out)
    if why:
        return f"{out}: {why}; give a new folder for the results, e.g. --out results/my-run"
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_dir():
            return f"{out}: exists and is not a folder; give a new folder for the results"
        if any(out.iterdir()):
            made = marker_kind(out)
            if made is None:
                return (
                    f"{out}: folder exists, is not empty and was not made by this program "
                    f"(no {MARKER} marker); it is never replaced: give a new folder"
                )
            if made != kind:
                return f"{out}: holds {made} results, not {kind} results; give another folder"
            if not force:
                return f"{out}: output folder exists and is not empty (use --force to replace it)"
    parent = _nearest_existing(out.parent)
    if not parent.is_dir():
        return f"{out}: {parent} is not a folder"
    try:
        Path(tempfile.mkdtemp(prefix=".mutuals-sim-check-", dir=parent)).rmdir()
    except OSError as exc:
        return f"{out}: cannot write in {parent}: {exc.strerror or exc}"
    return None


@contextlib.contextmanager
def staged_dir(out: Path, kind: str = "run") -> Iterator[Path]:
    """Yield a staging folder; on success it replaces ``out``; on any error nothing is left behind.

    ``out`` is replaced only if it is empty or carries this program's marker for the same ``kind``
    (:func:`check_out_dir`, checked again here); the staging folder gets the marker. Parent folders
    made for ``out`` are removed again if writing fails.

    Raises:
        OutputError: ``out`` may not be written (see :func:`check_out_dir`).
    """
    out = Path(out)
    problem = check_out_dir(out, force=True, kind=kind)
    if problem:
        raise OutputError(problem)
    made: list[Path] = []
    parent = out.parent.absolute()
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    stage = old = None
    try:
        stage = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
        yield stage
        write_marker(stage, kind)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}-{os.urandom(4).hex()}")
            out.rename(old)
        stage.rename(out)
        stage = None
    except BaseException:
        if stage is not None:
            shutil.rmtree(stage, ignore_errors=True)
        if old is not None and not out.exists():
            old.rename(out)
            old = None
        for folder in made:  # innermost first; only those still empty
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def check_out_file(out: Path, force: bool, signature: bytes = PNG_SIGNATURE) -> str | None:
    """A message if the program may not write the file ``out`` (a picture), else None.

    A new file may be written; an existing one only with ``force`` and only if it is a regular file
    starting with ``signature`` (a PNG: one this or another program drew, never a user's document).
    """
    out = Path(out)
    if out.is_dir():
        return f"{out}: is a folder; give a file name, e.g. {out / 'map.png'}"
    if out.exists() or out.is_symlink():
        if out.is_symlink() or not out.is_file():
            return f"{out}: exists and is not a regular file; give a new file name"
        if not force:
            return f"{out}: file exists (use --force to replace it)"
        with open(out, "rb") as fh:
            if fh.read(len(signature)) != signature:
                return f"{out}: exists and is not a PNG picture; it is never replaced: give a new file name"
    parent = _nearest_existing(out.parent)
    if not parent.is_dir():
        return f"{out}: {parent} is not a folder"
    try:
        Path(tempfile.mkdtemp(prefix=".mutuals-sim-check-", dir=parent)).rmdir()
    except OSError as exc:
        return f"{out}: cannot write in {parent}: {exc.strerror or exc}"
    return None


@contextlib.contextmanager
def staged_file(out: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``out``; on success it replaces ``out``, on error it is removed.

    Parent folders made for ``out`` are removed again if writing fails.
    """
    out = Path(out)
    made: list[Path] = []
    parent = out.parent.absolute()
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}-{os.urandom(4).hex()}{out.suffix}")
    try:
        yield tmp
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        for folder in made:
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def input_files(scenario, observed_path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every file a run read, with its role and SHA-256: scenario files, funding path file, observed file."""
    from sim.inputs.scenario import file_sha256

    found: dict[str, str] = dict.fromkeys(scenario.sources, "scenario")
    if scenario.params.get("funding.path") == "file" and scenario.params.get("funding.path_file"):
        found.setdefault(str(scenario.params["funding.path_file"]), "funding")
    if observed_path is not None:
        found.setdefault(str(Path(observed_path).resolve()), "observed")
    return [
        {"role": role, "path": path, "sha256": file_sha256(path) if Path(path).is_file() else None}
        for path, role in found.items()
    ]


def write_run(results, out: Path, observed=None) -> dict[str, Path]:
    """Write a scenario's results folder (see docs/outputs.md) and return the files written.

    Args:
        results: a :class:`sim.experiments.run.ScenarioResults`.
        out: the destination folder (replaced atomically).
        observed: optional observed series (a DataFrame from :func:`sim.evidence.observed.load_observed`).
    """
    from sim.experiments.run import summarise
    from sim.model import SERVICES
    from sim.model.rules import MODES
    from sim.pictures import charts as plots

    sc = results.scenario
    with staged_dir(out, kind="run") as stage:
        files = {
            "national": stage / "national.csv",
            "councils": stage / "councils.parquet",
            "decisions": stage / "decisions.csv",
            "summary": stage / "summary.csv",
            "workforce_plot": stage / "workforce.png",
            "modes_plot": stage / "modes.png",
            "manifest": stage / "manifest.json",
        }
        results.national.to_csv(files["national"], index=False)
        if results.councils is not None:
            results.councils.to_parquet(files["councils"], index=False)
            results.decisions.to_csv(files["decisions"], index=False)
        else:
            del files["councils"], files["decisions"]
        table = summarise(results.national)
        table.columns = [f"{a}_{b}" for a, b in table.columns]
        table.to_csv(files["summary"])
        target = sc.params["report.target_staff"]
        fig = plots.workforce_figure(results.national, target, title=f"Scenario: {sc.name}")
        if observed is not None:
            from sim.evidence.observed import add_observed_to_workforce, write_observed_outputs

            add_observed_to_workforce(fig, observed)
            files.update(write_observed_outputs(stage, results.national, observed))
        plots.save(fig, files["workforce_plot"])
        plots.save(plots.modes_figure(results.national, SERVICES, MODES), files["modes_plot"])
        manifest = {
            "scenario": sc.to_dict(),
            "seeds": results.seeds,
            "replications": len(results.seeds),
            "warnings": results.warnings,
            "files": sorted(p.name for p in files.values()),
            "inputs": input_files(sc, None if observed is None else observed.attrs.get("path")),
            **provenance(),
        }
        write_json(files["manifest"], manifest)
    return {k: out / v.name for k, v in files.items()}
