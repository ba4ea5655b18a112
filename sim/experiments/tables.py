"""The tables of a run's results folder in tidy forms, and their data dictionary.

The data dictionary is data (``sim/experiments/columns.toml``): the Frictionless ``datapackage.json``
written into every results folder, the long national table's measure, sector and unit, and the check
against ``docs/outputs.md`` all come from it.

Notebook use::

    from sim.experiments.tables import national_long
    long = national_long(res.national)
    long.query("measure == 'services' and year == 2020").groupby(["service", "mode"]).value.median()
"""

from __future__ import annotations

import json
import re
import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.grouping import by_mode  # noqa: F401  (the council table; re-exported)

FRICTIONLESS_PROFILE = "tabular-data-package"
_FIELD_KEYS = ("name", "type", "description", "unit")
_PLACEHOLDER = re.compile(r"<(mode|service)>")


@lru_cache(maxsize=1)
def _raw() -> dict[str, Any]:
    return tomllib.loads((resources.files("sim.experiments") / "columns.toml").read_text())["tables"]


def dictionary(expand: bool = True) -> dict[str, dict[str, Any]]:
    """Every table of a results folder: path, title, and columns (name, type, unit, description).

    Args:
        expand: write out ``<mode>`` and ``<service>`` columns once per mode and service (as the files
            have them), each with its ``service`` and ``mode``; False keeps the patterns (as the docs).
    """
    tables = {name: {**t, "columns": [dict(c) for c in t["columns"]]} for name, t in _raw().items()}
    if not expand:
        return tables
    from sim.model import SERVICES
    from sim.model.rules import MODES

    for table in tables.values():
        columns = []
        for col in table["columns"]:
            if not _PLACEHOLDER.search(col["name"]):
                columns.append(col)
                continue
            services = SERVICES if "<service>" in col["name"] else ("",)
            modes = MODES if "<mode>" in col["name"] else ("",)
            for service in services:
                for mode in modes:
                    name = col["name"].replace("<service>", service).replace("<mode>", mode)
                    columns.append({**col, "name": name, "service": service, "mode": mode})
        table["columns"] = columns
    return tables


@lru_cache(maxsize=1)
def _national_meta() -> pd.DataFrame:
    cols = dictionary()["national"]["columns"]
    rows = [
        {
            "column": c["name"],
            "measure": c["measure"],
            "sector": c["sector"],
            "service": c.get("service", ""),
            "mode": c.get("mode", ""),
            "unit": c["unit"],
        }
        for c in cols
        if "measure" in c
    ]
    return pd.DataFrame(rows)


def national_long(national: pd.DataFrame) -> pd.DataFrame:
    """The wide national table as one value a row (columns in ``columns.toml``, docs/outputs.md).

    Columns: year, replication, seed, measure, sector, service, mode, value, unit, column. A column the
    dictionary does not know (a new model output) keeps its name as its measure, with sector, service,
    mode and unit empty.
    """
    ids = [c for c in ("year", "replication", "seed") if c in national]
    values = [c for c in national.columns if c not in ids]
    meta = _national_meta().set_index("column")
    known = meta.reindex(values)
    unknown = known["measure"].isna()
    known.loc[unknown, "measure"] = known.index[unknown]
    known = known.fillna("")
    # as ``national.melt`` (value columns one after another), from arrays: labels are codes, not strings
    n = len(national)
    codes = np.repeat(np.arange(len(values)), n)
    out = pd.DataFrame({key: np.tile(national[key].to_numpy(), len(values)) for key in ids})
    for key in ("measure", "sector", "service", "mode"):
        out[key] = _coded(known[key].to_numpy(), codes)
    block = national[values].to_numpy(dtype=np.float64) if values else np.empty((n, 0))
    out["value"] = block.ravel(order="F")
    out["unit"] = _coded(known["unit"].to_numpy(), codes)
    out["column"] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(values))
    return out


def _coded(labels: np.ndarray, codes: np.ndarray) -> pd.Categorical:
    """``pd.Categorical(labels[codes])`` (categories sorted, as it makes them) without a string per row."""
    categories, inverse = np.unique(labels.astype(str), return_inverse=True)
    return pd.Categorical.from_codes(inverse[codes], categories=categories)


def with_council_names(councils: pd.DataFrame) -> pd.DataFrame:
    """The council table with each council's name, type and region beside its ONS code."""
    from sim.inputs.councils import load_england

    info = load_england().councils.set_index("ons_code")
    codes, uniques = pd.factorize(councils["ons_code"])  # hash 630-odd codes once, not every row
    where = info.index.get_indexer(uniques)
    if (where < 0).any():
        raise ValueError(f"unknown ONS codes in the council table: {list(uniques[where < 0][:5])}")
    out = councils.copy(deep=False)  # the columns added are new; the table's own are not copied
    at = out.columns.get_loc("ons_code") + 1
    added = (("council", "name"), ("council_type", "type"), ("region", "region"))
    for offset, (name, source) in enumerate(added):
        labels, inverse = np.unique(info[source].astype(str).to_numpy()[where], return_inverse=True)
        out.insert(at + offset, name, pd.Categorical.from_codes(inverse[codes], categories=labels))
    return out


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """A table as Parquet: labels and integer keys dictionary-encoded, statistics on year and replication.

    pyarrow's default (a dictionary and statistics for every column) does not pay for float measures of
    millions of rows: ``parts.parquet`` is written in 40% of the time for a file a fifth larger.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    t = pa.types
    encoded = [
        f.name
        for f in table.schema
        if t.is_dictionary(f.type) or t.is_integer(f.type) or t.is_string(f.type) or t.is_large_string(f.type)
    ]
    filtered = [name for name in ("year", "replication") if name in table.column_names]
    pq.write_table(table, path, use_dictionary=encoded, write_statistics=filtered or False)


def datapackage(name: str, written: dict[str, tuple[str, list[str]]]) -> dict[str, Any]:
    """A Frictionless Data Package describing the tables written.

    Args:
        name: the package's name (the scenario's).
        written: (file name, columns in order) of each table written, by table name, e.g.
            ``{"councils": ("councils.csv", ["year", ...])}``. A column the dictionary lacks is
            described as such (a test keeps that from happening).
    """
    tables = dictionary()
    resources_ = []
    for key, (path, columns) in written.items():
        table = key.removesuffix("_csv")
        t = tables[table]
        known = {c["name"]: c for c in t["columns"]}
        missing = {"type": "any", "description": "not in the data dictionary", "unit": ""}
        fields = [
            {k: v for k, v in {"name": col, **missing, **known.get(col, {})}.items() if k in _FIELD_KEYS}
            for col in columns
        ]
        resources_.append(
            {
                "name": key,
                "path": path,
                "profile": "tabular-data-resource",
                "format": path.rsplit(".", 1)[1],
                "title": t["title"],
                **({"description": t["description"]} if "description" in t else {}),
                "schema": {"fields": fields},
            }
        )
    slug = re.sub(r"[^a-z0-9._-]+", "-", name.lower()).strip("-") or "results"
    return {"profile": FRICTIONLESS_PROFILE, "name": slug, "resources": resources_}


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A large table as CSV with pyarrow's writer (about 8 times pandas' speed); NaN as an empty cell."""
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    table = pa.Table.from_pandas(frame, preserve_index=False)
    plain = pa.schema(
        [pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]
    )
    pa_csv.write_csv(table.cast(plain), path)


def write_tables(results: Any, folder: Path, csv: bool = False) -> dict[str, Path]:
    """Write a run's tables and their ``datapackage.json`` into ``folder``; returns the files by key.

    Args:
        results: a :class:`sim.experiments.run.ScenarioResults`.
        folder: where to write (a staging folder).
        csv: the council table and the decision log as CSV (for spreadsheets) instead of Parquet.
    """
    from concurrent.futures import ThreadPoolExecutor

    tables = dictionary(expand=False)
    files: dict[str, Path] = {}
    written: dict[str, tuple[str, list[str]]] = {}
    # pyarrow writes without the GIL: the large tables go to two threads while this one does pandas'
    # part (the long table, national.csv, the names and the sums by mode), so the two overlap
    with ThreadPoolExecutor(2) as pool:
        pending = []

        def put(key: str, name: str, frame: pd.DataFrame, write=None) -> None:
            files[key] = folder / name
            written[key] = (name, list(frame.columns))
            if write is not None:
                pending.append(pool.submit(write, frame, files[key]))

        long = national_long(results.national)
        put("national", tables["national"]["path"], results.national)
        put("national_long", tables["national_long"]["path"], long, write_parquet)
        put("national_long_csv", tables["national_long"]["csv"], long, write_csv)
        if results.councils is not None:
            write = write_csv if csv else write_parquet
            kind = "csv" if csv else "path"
            parts = with_council_names(results.councils)
            put("parts", tables["parts"][kind], parts, write)
            put("decisions", tables["decisions"][kind], results.decisions, write)
        results.national.to_csv(files["national"], index=False)  # pandas' writer: the file's format
        if results.councils is not None:
            put("councils", tables["councils"][kind], by_mode(parts), write)
        for job in pending:
            job.result()
    order = ("national", "national_long", "national_long_csv", "councils", "parts", "decisions")
    written = {k: written[k] for k in order if k in written}
    files = {k: files[k] for k in order if k in files}
    package = datapackage(results.scenario.name, written)
    files["datapackage"] = folder / "datapackage.json"
    files["datapackage"].write_text(json.dumps(package, indent=1) + "\n")
    return files
