"""Writing a run's self-describing results folder, all or nothing.

Files are written into a hidden staging folder beside the destination and moved into place only when
every file is complete, so an error or an interrupt never leaves a half-written results folder; the
folder carries the program's marker and replaces only a folder the program made
(:mod:`sim.experiments.safety`).
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import subprocess
import sys
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments.safety import (  # noqa: F401  (re-exported: where callers have found them)
    MARKER,
    OutputError,
    check_out_dir,
    safe_name,
    staged_dir,
)

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
    """The git commit of the package's source tree, and whether it has uncommitted changes.

    Both None when the package is not a git checkout (installed from a wheel: git must not report a
    repository that merely encloses the environment; the version in :func:`versions` says what ran).
    """
    root = Path(__file__).resolve().parents[2]
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return {"commit": None, "dirty": None}
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


def default_out_dir(name: str, root: str | Path = "results") -> Path:
    """A new folder name under ``root``: ``<name made safe>-<UTC timestamp>-<6 random hex digits>``.

    The random part keeps commands started in the same second apart (each also holds its folder's lock,
    :func:`sim.experiments.safety.claim_out_dir`), so no run's results ever replace another's.
    """
    import secrets

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    while True:
        out = Path(root) / f"{safe_name(name)}-{stamp}-{secrets.token_hex(3)}"
        if not out.exists() and not out.is_symlink():
            return out


def input_files(scenario, observed_path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every file a run read, with its role and SHA-256: scenario files, funding path file, observed file."""
    from sim.inputs.files import file_sha256

    found: dict[str, str] = dict.fromkeys(scenario.sources, "scenario")
    if scenario.params.get("funding.path") == "file" and scenario.params.get("funding.path_file"):
        found.setdefault(str(scenario.params["funding.path_file"]), "funding")
    if observed_path is not None:
        found.setdefault(str(Path(observed_path).resolve()), "observed")
    return [
        {"role": role, "path": path, "sha256": file_sha256(path) if Path(path).is_file() else None}
        for path, role in found.items()
    ]


def write_run(
    results, out: Path, observed=None, csv: bool = False, posterior=None, figures=None, xlsx: bool = False
) -> dict[str, Path]:
    """Write a scenario's results folder (see docs/outputs.md) and return the files written.

    Args:
        results: a :class:`sim.experiments.run.ScenarioResults`.
        out: the destination folder (replaced atomically).
        observed: optional observed series (a DataFrame from :func:`sim.evidence.observed.load_observed`).
        csv: the council table and the decision log as CSV instead of Parquet.
        posterior: the :class:`sim.experiments.posterior.Draws` the run used, if any (adds
            ``posterior_draws.csv`` and ``posterior_spread.csv``).
        figures: a :class:`sim.experiments.figures.FigureProcess` started earlier, to draw the two
            figures while the tables are written (used without observed series; closed here).
        xlsx: also write ``results.xlsx``, every table in one workbook with a sheet describing the columns
            (needs openpyxl: :func:`sim.experiments.workbook.available`).
    """
    from concurrent.futures import ThreadPoolExecutor

    from sim.experiments.run import summarise
    from sim.experiments.tables import write_tables
    from sim.model import SERVICES
    from sim.model.rules import MODES

    sc = results.scenario
    with staged_dir(out, kind="run") as stage, ThreadPoolExecutor(1) as pool:
        # the tables are written in a thread (pyarrow writes without the GIL) while this one draws the
        # figures; each reads its own view of the national table, neither changes the results
        tables = pool.submit(write_tables, results, stage, csv=csv)
        national = results.national.copy(deep=False)
        files = {
            "summary": stage / "summary.csv",
            "workforce_plot": stage / "workforce.png",
            "modes_plot": stage / "modes.png",
            "anatomy_plot": stage / "anatomy.png",
            "manifest": stage / "manifest.json",
        }
        observed_files: dict[str, Path] = {}
        target = sc.params["report.target_staff"]
        if figures is not None and figures.ready and observed is None:
            figures.draw(
                national, target, sc.name, files["workforce_plot"], files["modes_plot"], files["anatomy_plot"]
            )
        else:
            if figures is not None:
                figures.close()
                figures = None
            from sim.pictures import charts as plots  # matplotlib: imported while the tables are written

            fig = plots.workforce_figure(national, target, scenario=sc.name)
            if observed is not None:
                from sim.evidence.observed import add_observed_to_workforce, write_observed_outputs

                add_observed_to_workforce(fig, observed, target)
                observed_files = write_observed_outputs(stage, national, observed, sc.name)
            plots.save(fig, files["workforce_plot"])
            plots.save(plots.modes_figure(national, SERVICES, MODES, scenario=sc.name), files["modes_plot"])
            from sim.pictures.anatomy import anatomy_figure

            plots.save(anatomy_figure(national, scenario=sc.name), files["anatomy_plot"])
        from sim.experiments.tables import rounded

        table = summarise(national)
        table.columns = [f"{a}_{b}" for a, b in table.columns]
        table = table.reset_index()
        rounded(table).to_csv(files["summary"], index=False)
        if posterior is not None:
            from sim.experiments.posterior import write_posterior_tables

            files.update(write_posterior_tables(stage, national, posterior))
        written = tables.result()
        files = {**written.files, **files, **observed_files}
        if figures is not None:
            figures.wait()
        files["datapackage"] = stage / "datapackage.json"
        if xlsx:
            files["workbook"] = stage / "results.xlsx"
        created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        manifest = {
            "scenario": sc.to_dict(),
            "seeds": results.seeds,
            "replications": len(results.seeds),
            "warnings": results.warnings,
            "files": sorted(p.name for p in files.values()),
            "inputs": input_files(sc, None if observed is None else observed.attrs.get("path")),
            **provenance(),
        }
        manifest["created_utc"] = created
        if posterior is not None:
            manifest["posterior"] = posterior.describe()
        _write_workbook(stage, written, results.scenario, created, table, xlsx)
        write_json(files["manifest"], manifest)
        write_json(files["datapackage"], _package(stage, written, results.scenario, created))
    return {k: out / v.name for k, v in files.items()}


def _package(folder: Path, written, scenario, created: str) -> dict[str, Any]:
    from sim.experiments.package import datapackage

    return datapackage(folder, written.columns, scenario, created, versions().get("mutuals-sim"))


def _write_workbook(folder: Path, written, scenario, created: str, summary, xlsx: bool) -> None:
    """Write ``results.xlsx`` when asked, from the tables and the data package's column descriptions."""
    if not xlsx:
        return
    from sim.experiments.workbook import NAME, write_workbook

    package = _package(folder, written, scenario, created)
    left_out = write_workbook(folder / NAME, package, {**written.frames, "summary": summary})
    for name in left_out:
        print(f"warning: {NAME} leaves out {name}: more rows than an Excel sheet holds", file=sys.stderr)
