"""Chunk files of a sweep: written atomically, read back checked.

Each chunk file is written under a temporary name (starting with a dot) and renamed when complete, so a
chunk file is only ever whole, and the runs done are exactly those in the chunk files. Each chunk records
in its Parquet metadata its own file name, the identity of every input that made it (the manifest's
``inputs_digest``: the resolved scenario and arms, start and end years, seed, the contents of every file
read and the package's version; :func:`inputs_digest`) and a checksum of each of its columns, so a chunk
copied under another name, a chunk made from other inputs, a chunk whose values were changed since it
was written and a run stored twice are errors naming the chunk, never silently read (nor silently
dropped as duplicates).
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


def inputs_digest(compat: dict, inputs: list[dict], version: str | None) -> str:
    """The identity of every input of a sweep's runs.

    That is ``compat`` (the scenario and arms as resolved, years, seed, design), each data file's contents
    (funding paths) and the package version.
    """
    data = [item for item in inputs if item.get("role") in ("funding", "observed")]
    files = sorted((str(item.get("path")), str(item.get("sha256"))) for item in data)
    return sweep_digest({"compat": compat, "files": files, "version": version})


def changed_inputs(old: list[dict[str, str]], new: list[dict[str, str]]) -> list[str]:
    """Data files (funding paths) whose contents differ from when the sweep started (``old``)."""
    now = {item["path"]: item["sha256"] for item in new}
    return [
        f"{item['path']} (sha256 {str(item['sha256'])[:12]} then, {str(now.get(item['path']))[:12]} now)"
        for item in old
        if item.get("role") == "funding" and now.get(item["path"]) != item.get("sha256")
    ]


def column_digest(column: pa.ChunkedArray | pa.Array) -> str:
    """A checksum of a column's values (the same however the column is chunked or read back)."""
    values = column.to_numpy(zero_copy_only=False) if isinstance(column, pa.Array) else column.to_numpy()
    if values.dtype == object:
        data = "\x1f".join(map(repr, values.tolist())).encode()
    else:
        data = str(values.dtype).encode() + np.ascontiguousarray(values).tobytes()
    return hashlib.sha256(data).hexdigest()[:16]


def write_chunk(
    out: Path,
    run_ids: tuple[int, ...],
    runs: pa.Table | None,
    failures: pa.Table | None,
    sweep_id: str | None = None,
) -> None:
    """Failures first, then runs: each file is atomic and each run is recorded in exactly one of them.

    Each file records its name, ``sweep_id`` (:func:`inputs_digest`) and its columns' checksums
    (:func:`column_digest`) in its metadata.
    """
    ids = np.array(run_ids, dtype=np.int64)
    name = f"chunk-{ids.min():012d}-{hashlib.sha256(ids.tobytes()).hexdigest()[:10]}.parquet"
    meta = {b"mutuals_sim_chunk": name.encode(), b"mutuals_sim_sweep": (sweep_id or "").encode()}
    for kind, table in (("failures", failures), ("runs", runs)):
        if table is not None:
            sums = {c: column_digest(table.column(c)) for c in table.column_names}
            meta[b"mutuals_sim_checksums"] = json.dumps(sums).encode()
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})
            write_atomic(table, out / kind / name)


def _expected_sweep(out: Path) -> str | None:
    try:
        return json.loads((out / "manifest.json").read_text())["inputs_digest"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _check_contents(f: Path, table: pa.Table, meta: dict) -> None:
    """Refuse a chunk whose columns do not match the checksums it was written with."""
    try:
        sums = json.loads(meta.get(b"mutuals_sim_checksums", b"{}"))
    except ValueError:
        sums = {}
    for column in table.column_names:
        if sums.get(column) != column_digest(table.column(column)):
            raise SweepError(
                f"{f}: its values do not match the checksum it was written with (column {column!r}: changed "
                "since, or not written by this program); remove it and run the same sweep command to redo "
                "its runs"
            )


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
        if name != f.name:
            raise SweepError(
                f"{f}: a copy of chunk {name} under another name (its runs would count twice); remove it"
                if name
                else f"{f}: not a chunk this program wrote (no name in its metadata); remove it"
            )
        if sweep != expected:
            raise SweepError(
                f"{f}: made from other inputs than {f.parent.parent}/manifest.json records (another sweep, "
                "or a changed scenario, data file or package version); remove it"
            )
        _check_contents(f, table, meta)
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


def verify_chunks(out: str | Path) -> None:
    """Read every chunk whole and check it (name, inputs, every column's checksum), as a resume does.

    Raises:
        SweepError: naming the first chunk that does not match.
    """
    _read_checked(chunk_files(out, "runs"), None, unique=True)
    _read_checked(chunk_files(out, "failures"), None, unique=False)


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
