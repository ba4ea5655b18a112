"""A sweep's results folder: chunk files written atomically, the manifest, and reading them back.

Layout (columns in ``docs/sweeps.md``)::

    manifest.json               the sweep file, its resolved design, seeds, commit, versions, sessions
    design.parquet              one row per case (arm x design point) with the varied parameters' values
    runs/chunk-*.parquet        national rows, one per run and year, of the runs in one chunk
    failures/chunk-*.parquet    runs that raised: ids, varied values, error, traceback

Chunk files are written atomically and checked when read back (:mod:`sim.experiments.chunks`). A folder
is locked while a sweep writes to it, and carries the program's marker
(:data:`sim.experiments.safety.MARKER`), so only folders the program made are ever written to. The
manifest records every input file with its SHA-256; a sweep whose funding file has changed since it
started is refused, so runs from different inputs are never mixed.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import pyarrow as pa

from sim.experiments.chunks import (  # noqa: F401  (chunk names re-exported)
    ID_COLUMNS,
    SweepError,
    _read_tables,
    changed_inputs,
    chunk_files,
    completed_run_ids,
    inputs_digest,
    sweep_digest,
    write_atomic,
    write_chunk,
)
from sim.experiments.locks import holder, mark, try_lock
from sim.experiments.output import provenance, write_json
from sim.experiments.safety import MARKER, marker_kind, protected_reason, write_marker
from sim.experiments.sweep_spec import Sweep
from sim.inputs.files import file_sha256

if TYPE_CHECKING:
    import pandas as pd

FORMAT = 2
"""2: replication seeds from a keyed hash (not seed + r); chunks carry checksums and the inputs' digest."""


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of a sweep's results folder.

    Raises:
        SweepError: ``out`` is not a sweep's results folder (a run's, or not the program's at all).
    """
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise SweepError(f"{out}: not a sweep results folder (no manifest.json)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise SweepError(f"{path}: cannot be read as a sweep manifest ({exc})") from None
    if not isinstance(manifest, dict) or "sweep" not in manifest or "compat" not in manifest:
        if isinstance(manifest, dict) and "scenario" in manifest:
            raise SweepError(
                f"{out}: a run's results folder (from `run`), not a sweep's; give a sweep folder"
            )
        raise SweepError(f"{out}: not a sweep results folder; give a folder written by `sweep`")
    return manifest


def read_runs(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """National rows of every run done, one per run and year, sorted by run_id and year.

    Args:
        out: the sweep's results folder.
        columns: columns to read (None: all); include ``run_id``, ``replication`` and ``year``.
    """
    reps = read_manifest(out)["sweep"]["run"]["replications"]
    return _read_tables(chunk_files(out, "runs"), columns, reps, unique=True)


def read_failures(out: str | Path) -> pd.DataFrame:
    """Runs that raised and have not since finished (a run retried with --retry-failed may have)."""
    reps = read_manifest(out)["sweep"]["run"]["replications"]
    df = _read_tables(chunk_files(out, "failures"), None, reps, unique=False)
    return df[~df["run_id"].isin(completed_run_ids(out, include_failed=False))].reset_index(drop=True)


def read_design(out: str | Path) -> pd.DataFrame:
    """One row per case (arm x design point): case, arm_index, arm, point, label and varied values.

    Raises:
        SweepError: ``design.parquet`` is missing or unreadable (the folder is damaged).
    """
    import pandas as pd

    path = Path(out) / "design.parquet"
    try:
        return pd.read_parquet(path)
    except (OSError, pa.ArrowException) as exc:
        raise SweepError(
            f"{path}: missing or unreadable ({exc}); run the same sweep command again to write it"
        ) from None


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder, so two sweeps never write to it at once.

    The folder (and its parents) are made if missing; the lock file is removed on leaving, and a folder
    made here that holds no finished chunk is removed again, so a sweep that fails before finishing a
    chunk leaves nothing behind.

    Raises:
        SweepError: the folder may not be used (a file, the working folder, home, another program's
            folder), or another sweep is writing to it.
    """
    out = Path(out)
    why = protected_reason(out)
    if why:
        raise SweepError(f"{out}: {why}; give a new folder for the sweep, e.g. --out results/sweep-x")
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise SweepError(f"{out}: exists and is not a folder; give a new folder for the sweep")
    made: list[Path] = []
    folder = out.absolute()
    while not folder.exists():
        made.append(folder)
        folder = folder.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SweepError(f"{out}: cannot make the folder: {exc.strerror or exc}") from None
    lock = out / ".lock"
    try:
        fh = try_lock(lock)
        if fh is None:
            raise SweepError(
                f"{out}: another sweep ({holder(lock)}) is writing to this folder; wait for it to end, or "
                "give another --out"
            )
        with fh:
            mark(fh)
            try:
                yield
            finally:
                lock.unlink(missing_ok=True)  # still holding the lock: nobody else has it
    finally:
        if made and not chunk_files(out, "runs") and not chunk_files(out, "failures"):
            import shutil

            shutil.rmtree(out, ignore_errors=True)
            for parent in made[1:]:
                with contextlib.suppress(OSError):
                    parent.rmdir()


def _differences(old: dict, new: dict) -> list[str]:
    diffs = []
    old_p, new_p = old.get("base_params", {}), new["base_params"]
    changed = sorted(k for k in set(old_p) | set(new_p) if old_p.get(k) != new_p.get(k))
    if changed:
        diffs.append(
            "base scenario parameters " + ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else "")
        )
    for key, label in (
        ("start_year", "run.start_year"),
        ("end_year", "run.end_year"),
        ("seed", "run.seed"),
        ("arms", "arms"),
        ("design", "design"),
    ):
        if old.get(key) != new[key]:
            diffs.append(label)
    return diffs


def input_files(sweep: Sweep) -> list[dict[str, str]]:
    """Every file the sweep reads, with its role and SHA-256: sweep file, scenario files, funding files."""
    found: dict[str, str] = {}
    if sweep.path is not None:
        found[str(sweep.path)] = "sweep"
    for source in sweep.base.sources:
        found.setdefault(source, "scenario")
    funding = [sweep.base.params.get("funding.path_file", "")]
    funding += [c.changes.get("funding.path_file", "") for c in sweep.cases()]
    for path in funding:
        if path:
            found.setdefault(str(path), "funding")
    return [
        {"role": role, "path": path, "sha256": file_sha256(path) if Path(path).is_file() else None}
        for path, role in found.items()
    ]


def prepare(sweep: Sweep, out: Path, stream: TextIO | None, made_by: dict | None = None) -> dict[str, Any]:
    """Check the folder against the sweep (or start it); manifest and design first; ``made_by``: provenance.

    Raises:
        SweepError: the folder holds another sweep's results, a run's, files of the user's own, or results
            made from a data file (funding path) whose contents have changed since.
    """
    path = out / "manifest.json"
    sweep_file = {"path": str(sweep.path), "text": sweep.path.read_text() if sweep.path else None}
    inputs = input_files(sweep)
    made = marker_kind(out)
    if made not in (None, "sweep"):
        raise SweepError(f"{out}: holds {made} results, not a sweep's; give another --out folder")
    if path.is_file():
        manifest = read_manifest(out)
        diffs = [] if manifest.get("format") == FORMAT else ["results format"]
        diffs += _differences(manifest.get("compat", {}), sweep.compat())
        if diffs:
            raise SweepError(
                f"{out}: holds results of a different sweep (changed: {'; '.join(diffs)}). "
                "Use another --out folder, or remove this one to start again."
            )
        changed = changed_inputs(manifest.get("inputs", []), inputs)
        then_v, now_v = manifest.get("version"), (made_by or provenance())["versions"].get("mutuals-sim")
        if not changed and then_v != now_v:
            changed = [f"the package mutuals-sim ({then_v} then, {now_v} now)"]
        if changed:
            raise SweepError(
                f"{out}: input file(s) changed since this sweep started: {'; '.join(changed)}. "
                "Resuming would mix runs made from different inputs: restore the file, or use another "
                "--out folder."
            )
        then, now = manifest["provenance"]["git"], (made_by or provenance())["git"]
        if stream and (then["commit"] != now["commit"] or then["dirty"] or now["dirty"]):
            print(
                f"warning: {out} was started at commit {then['commit']}"
                f"{' with uncommitted changes' if then['dirty'] else ''}; the code is now at {now['commit']}"
                f"{' with uncommitted changes' if now['dirty'] else ''}: results may mix model versions",
                file=stream,
            )
    else:
        if any(p.name not in (".lock", MARKER) and ".tmp-" not in p.name for p in out.iterdir()):
            raise SweepError(f"{out}: folder is not empty and has no manifest.json; choose another --out")
        manifest = {
            "format": FORMAT,
            "compat": sweep.compat(),
            "provenance": made_by or provenance(),
            "sessions": [],
            "inputs": inputs,
            "version": (made_by or provenance())["versions"].get("mutuals-sim"),
        }
        manifest["inputs_digest"] = inputs_digest(manifest["compat"], inputs, manifest["version"])
    manifest.update(sweep=sweep.to_dict(), sweep_file=sweep_file, seeds=sweep.seeds())
    manifest.setdefault("inputs", inputs)  # a folder started before inputs were recorded
    if made is None:
        write_marker(out, "sweep")
    for folder in (out / "runs", out / "failures"):  # a link: files would be written and deleted elsewhere
        if folder.is_symlink() or folder.exists() != folder.is_dir():
            raise SweepError(
                f"{folder}: a link or a file, not the folder a sweep made; nothing is written there"
            )
    for folder in (out, out / "runs", out / "failures"):
        folder.mkdir(exist_ok=True)
        for stray in folder.glob(".*.tmp-*"):  # left by a killed writer; we hold the lock
            stray.unlink()
    write_manifest(out, manifest)
    if not (out / "design.parquet").is_file():
        write_atomic(pa.Table.from_pandas(design_table(sweep), preserve_index=False), out / "design.parquet")
    return manifest


def design_table(sweep: Sweep) -> pd.DataFrame:
    """One row per case: case, arm_index, arm, point, label and the varied parameters' values."""
    rows = [
        {
            "case": c.index,
            "arm_index": c.arm_index,
            "arm": c.arm,
            "point": c.point,
            "label": c.label,
            # a lever's schedule ([[year, value], ...]) is stored as its JSON text, one value a cell
            **{k: json.dumps(v) if isinstance(v, list | tuple) else v for k, v in c.values.items()},
        }
        for c in sweep.cases()
    ]
    import pandas as pd

    frame = pd.DataFrame(rows)
    for column in frame.columns[5:]:  # a column that mixes numbers and schedules: every cell as text
        if (
            frame[column].map(lambda v: isinstance(v, str)).any()
            and not frame[column].map(lambda v: isinstance(v, str)).all()
        ):
            frame[column] = frame[column].map(lambda v: v if isinstance(v, str) else json.dumps(v))
    return frame


def write_manifest(out: Path, manifest: dict) -> None:
    """Replace manifest.json atomically."""
    tmp = out / f".manifest.json.tmp-{os.getpid()}"
    write_json(tmp, manifest)
    os.replace(tmp, out / "manifest.json")
