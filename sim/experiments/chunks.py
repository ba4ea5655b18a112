"""Chunk files of a sweep: written atomically, read back checked.

Each chunk file is written under a temporary name (starting with a dot) and renamed when complete, so a
chunk file is only ever whole, and the runs done are exactly those in the chunk files. Each chunk records
its own file name and the sweep it belongs to (a digest of the manifest's ``compat``) in its Parquet
metadata, so a chunk copied under another name, a chunk from another sweep and a run stored twice are
errors, never silently read (nor silently dropped as duplicates).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

if TYPE_CHECKING:
    import pandas as pd

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


def sweep_digest(compat: dict) -> str:
    """The identity of a sweep's results: a digest of what they depend on (the manifest's ``compat``)."""
    return hashlib.sha256(json.dumps(compat, sort_keys=True).encode()).hexdigest()[:16]


def write_chunk(
    out: Path,
    run_ids: tuple[int, ...],
    runs: pa.Table | None,
    failures: pa.Table | None,
    sweep_id: str | None = None,
) -> None:
    """Failures first, then runs: each file is atomic and each run is recorded in exactly one of them.

    Each file records its name and ``sweep_id`` (:func:`sweep_digest`) in its metadata.
    """
    ids = np.array(run_ids, dtype=np.int64)
    name = f"chunk-{ids.min():012d}-{hashlib.sha256(ids.tobytes()).hexdigest()[:10]}.parquet"
    meta = {b"mutuals_sim_chunk": name.encode(), b"mutuals_sim_sweep": (sweep_id or "").encode()}
    for kind, table in (("failures", failures), ("runs", runs)):
        if table is not None:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
            write_atomic(table, out / kind / name)


def _expected_sweep(out: Path) -> str | None:
    try:
        return sweep_digest(json.loads((out / "manifest.json").read_text())["compat"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _read_checked(files: list[Path], columns: list[str] | None, unique: bool) -> list[pa.Table]:
    """Chunk tables, each checked to be this sweep's, under its own name; runs at most once if ``unique``."""
    expected = _expected_sweep(files[0].parent.parent) if files else None
    owner: dict[int, Path] = {}
    tables = []
    for f in files:
        try:
            table = pq.read_table(f, columns=columns)
        except (OSError, pa.ArrowException) as exc:
            raise SweepError(f"{f}: cannot read a chunk file ({exc}); remove it and run again") from None
        meta = table.schema.metadata or {}
        name = meta.get(b"mutuals_sim_chunk", b"").decode()
        sweep = meta.get(b"mutuals_sim_sweep", b"").decode()
        if name and name != f.name:
            raise SweepError(
                f"{f}: a copy of chunk {name} under another name (its runs would count twice); remove it"
            )
        if expected and sweep and sweep != expected:
            raise SweepError(f"{f}: a chunk of another sweep (not of {f.parent.parent}); remove it")
        if unique and "run_id" in table.column_names:
            ids = np.unique(table.column("run_id").to_numpy()).tolist()
            twice = owner.keys() & set(ids)
            if twice:
                run_id = min(twice)
                raise SweepError(
                    f"{f}: run {run_id} is also in {owner[run_id].name}: a run is stored twice "
                    "(a copied chunk?); remove the copy"
                )
            owner.update(dict.fromkeys(ids, f))
        tables.append(table)
    return tables


def _read_ids(files: list[Path], unique: bool) -> set[int]:
    ids: set[int] = set()
    for table in _read_checked(files, ["run_id"], unique):
        ids.update(table.column(0).to_pylist())
    return ids


def completed_run_ids(out: str | Path, include_failed: bool = True) -> set[int]:
    """run_ids stored in a results folder (those that finished and, optionally, those that failed).

    Raises:
        SweepError: a chunk file is unreadable, a renamed copy, another sweep's, or a run is stored twice.
    """
    ids = _read_ids(chunk_files(out, "runs"), unique=True)
    return ids | _read_ids(chunk_files(out, "failures"), unique=False) if include_failed else ids


def _read_tables(
    files: list[Path], columns: list[str] | None, replications: int, unique: bool
) -> pd.DataFrame:
    import pandas as pd  # here: writing chunks (workers, the sweep loop) needs no pandas

    tables = _read_checked(files, columns, unique)
    if not tables:
        return pd.DataFrame(columns=columns or list(ID_COLUMNS))
    df = pa.concat_tables(tables, promote_options="permissive").to_pandas()
    df = df[df["replication"] < replications] if "replication" in df else df
    keys = ["run_id", "year"] if "year" in df else ["run_id"]
    return df.sort_values(keys, kind="stable").drop_duplicates(keys, keep="last").reset_index(drop=True)
