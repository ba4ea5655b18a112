"""A sweep's results folder: chunk files written atomically, the manifest, and reading them back.

Layout (columns in ``docs/sweeps.md``)::

    manifest.json               the sweep file, its resolved design, seeds, commit, versions, sessions
    design.parquet              one row per case (arm x design point) with the varied parameters' values
    runs/chunk-*.parquet        national rows, one per run and year, of the runs in one chunk
    failures/chunk-*.parquet    runs that raised: ids, varied values, error, traceback

Each chunk file is written under a temporary name (starting with a dot) and renamed when complete, so a
chunk file is only ever whole, and the runs done are exactly those in the chunk files. A folder is locked
while a sweep writes to it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from sim.experiments.output import provenance, write_json
from sim.experiments.sweep_spec import Sweep

FORMAT = 1
ID_COLUMNS = ("run_id", "case", "arm_index", "arm", "point", "replication", "seed")


class SweepError(Exception):
    """A sweep cannot run in the folder given (another sweep's results, or one already running there)."""


def chunk_files(out: str | Path, kind: str) -> list[Path]:
    """Complete chunk files of ``kind`` ("runs" or "failures"), in name order (temporary files excluded)."""
    return sorted((Path(out) / kind).glob("chunk-*.parquet"))


def write_atomic(table: pa.Table, path: Path) -> None:
    """Write a Parquet file under a temporary name, flush it to disk, and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{os.urandom(4).hex()}")
    pq.write_table(table, tmp)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def write_chunk(
    out: Path, run_ids: tuple[int, ...], runs: pa.Table | None, failures: pa.Table | None
) -> None:
    """Failures first, then runs: each file is atomic and each run is recorded in exactly one of them."""
    ids = np.array(run_ids, dtype=np.int64)
    name = f"chunk-{ids.min():012d}-{hashlib.sha256(ids.tobytes()).hexdigest()[:10]}.parquet"
    for kind, table in (("failures", failures), ("runs", runs)):
        if table is not None:
            write_atomic(table, out / kind / name)


def _read_ids(files: list[Path]) -> set[int]:
    ids: set[int] = set()
    for f in files:
        try:
            ids.update(pq.read_table(f, columns=["run_id"]).column(0).to_pylist())
        except (OSError, pa.ArrowException) as exc:
            raise SweepError(f"{f}: cannot read a chunk file ({exc}); remove it and run again") from None
    return ids


def completed_run_ids(out: str | Path, include_failed: bool = True) -> set[int]:
    """run_ids stored in a results folder (those that finished and, optionally, those that failed)."""
    ids = _read_ids(chunk_files(out, "runs"))
    return ids | _read_ids(chunk_files(out, "failures")) if include_failed else ids


def read_manifest(out: str | Path) -> dict[str, Any]:
    """The manifest of a sweep's results folder."""
    path = Path(out) / "manifest.json"
    if not path.is_file():
        raise SweepError(f"{out}: not a sweep results folder (no manifest.json)")
    return json.loads(path.read_text())


def _read_tables(files: list[Path], columns: list[str] | None, replications: int) -> pd.DataFrame:
    tables = [pq.read_table(f, columns=columns) for f in files]
    if not tables:
        return pd.DataFrame(columns=columns or list(ID_COLUMNS))
    df = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    df = df[df["replication"] < replications] if "replication" in df else df
    keys = ["run_id", "year"] if "year" in df else ["run_id"]
    return df.sort_values(keys, kind="stable").drop_duplicates(keys, keep="last").reset_index(drop=True)


def read_runs(out: str | Path, columns: list[str] | None = None) -> pd.DataFrame:
    """National rows of every run done, one per run and year, sorted by run_id and year.

    Args:
        out: the sweep's results folder.
        columns: columns to read (None: all); include ``run_id``, ``replication`` and ``year``.
    """
    reps = read_manifest(out)["sweep"]["run"]["replications"]
    return _read_tables(chunk_files(out, "runs"), columns, reps)


def read_failures(out: str | Path) -> pd.DataFrame:
    """Runs that raised and have not since finished (a run retried with --retry-failed may have)."""
    reps = read_manifest(out)["sweep"]["run"]["replications"]
    df = _read_tables(chunk_files(out, "failures"), None, reps)
    return df[~df["run_id"].isin(completed_run_ids(out, include_failed=False))].reset_index(drop=True)


def read_design(out: str | Path) -> pd.DataFrame:
    """One row per case (arm x design point): case, arm_index, arm, point, label and varied values."""
    return pd.read_parquet(Path(out) / "design.parquet")


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """Hold an exclusive lock on the folder, so two sweeps never write to it at once."""
    out.mkdir(parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # not POSIX: no lock
        yield
        return
    with open(out / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"{out}: another sweep is writing to this folder") from None
        yield


def _differences(old: dict, new: dict) -> list[str]:
    diffs = []
    old_p, new_p = old.get("base_params", {}), new["base_params"]
    changed = sorted(k for k in set(old_p) | set(new_p) if old_p.get(k) != new_p.get(k))
    if changed:
        diffs.append(
            "base scenario parameters " + ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else "")
        )
    for key, label in (
        ("end_year", "run.end_year"),
        ("seed", "run.seed"),
        ("arms", "arms"),
        ("design", "design"),
    ):
        if old.get(key) != new[key]:
            diffs.append(label)
    return diffs


def prepare(sweep: Sweep, out: Path, stream: TextIO | None) -> dict[str, Any]:
    """Check the folder against the sweep (or start it): the manifest and design are written first."""
    path = out / "manifest.json"
    sweep_file = {"path": str(sweep.path), "text": sweep.path.read_text() if sweep.path else None}
    if path.is_file():
        manifest = json.loads(path.read_text())
        diffs = [] if manifest.get("format") == FORMAT else ["results format"]
        diffs += _differences(manifest.get("compat", {}), sweep.compat())
        if diffs:
            raise SweepError(
                f"{out}: holds results of a different sweep (changed: {'; '.join(diffs)}). "
                "Use another --out folder, or remove this one to start again."
            )
        then, now = manifest["provenance"]["git"], provenance()["git"]
        if stream and (then["commit"] != now["commit"] or then["dirty"] or now["dirty"]):
            print(
                f"warning: {out} was started at commit {then['commit']}"
                f"{' with uncommitted changes' if then['dirty'] else ''}; the code is now at {now['commit']}"
                f"{' with uncommitted changes' if now['dirty'] else ''}: results may mix model versions",
                file=stream,
            )
    else:
        if any(p.name != ".lock" and ".tmp-" not in p.name for p in out.iterdir()):
            raise SweepError(f"{out}: folder is not empty and has no manifest.json; choose another --out")
        manifest = {"format": FORMAT, "compat": sweep.compat(), "provenance": provenance(), "sessions": []}
    manifest.update(sweep=sweep.to_dict(), sweep_file=sweep_file, seeds=sweep.seeds())
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
            **c.values,
        }
        for c in sweep.cases()
    ]
    return pd.DataFrame(rows)


def write_manifest(out: Path, manifest: dict) -> None:
    """Replace manifest.json atomically."""
    tmp = out / f".manifest.json.tmp-{os.getpid()}"
    write_json(tmp, manifest)
    os.replace(tmp, out / "manifest.json")
