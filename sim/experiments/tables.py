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

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.grouping import by_mode  # noqa: F401  (the council table; re-exported)

CSV_SIGNIFICANT = 6
"""Significant digits of the numbers in CSV files (and the workbook): 34219.2 staff, not 34219.22127224915.
Parquet files keep full precision (``national.parquet`` beside ``national.csv``)."""
COUNCIL_TYPES = {
    "CTY": "county",
    "NMD": "shire district",
    "UA": "unitary authority",
    "MD": "metropolitan district",
    "LBO": "London borough",
    "CC": "City of London",
}
"""The ONS codes of council types (``council_type``) in words (``council_type_name``)."""
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
    info = info.assign(type_name=info["type"].map(COUNCIL_TYPES).fillna(info["type"]))
    added = (
        ("council", "name"),
        ("council_type", "type"),
        ("council_type_name", "type_name"),
        ("region", "region"),
    )
    for offset, (name, source) in enumerate(added):
        labels, inverse = np.unique(info[source].astype(str).to_numpy()[where], return_inverse=True)
        out.insert(at + offset, name, pd.Categorical.from_codes(inverse[codes], categories=labels))
    return out


def rounded(frame: pd.DataFrame, digits: int = CSV_SIGNIFICANT) -> pd.DataFrame:
    """The table with every float column rounded to ``digits`` significant digits (for CSV and Excel).

    Driven by the columns' types, not their names: a column the model adds is rounded too. Integers,
    text, infinities and NaN are left as they are; the rounded values print as short decimals.
    """
    out = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if column.dtype.kind == "f":
            out[name] = round_significant(column.to_numpy(), digits)
    return out


def round_significant(values: np.ndarray, digits: int = CSV_SIGNIFICANT) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (numpy, vectorised; non-finite values kept)."""
    x = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(x) & (np.abs(x) >= 1e-290)  # 0 and subnormals as they are (10**d would overflow)
    decimals = np.zeros(x.shape, dtype=np.int64)
    decimals[finite] = digits - 1 - np.floor(np.log10(np.abs(x[finite]))).astype(np.int64)
    out = x.copy()
    up = finite & (decimals >= 0)  # scale up, round, divide back by an exact power of ten
    scale = 10.0 ** decimals[up]
    out[up] = np.round(x[up] * scale) / scale
    down = finite & (decimals < 0)
    scale = 10.0 ** -decimals[down]
    out[down] = np.round(x[down] / scale) * scale
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


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """A table as CSV with pyarrow's writer (about 8 times pandas' speed); NaN as an empty cell.

    Numbers are rounded to :data:`CSV_SIGNIFICANT` significant digits (:func:`rounded`).
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    table = pa.Table.from_pandas(rounded(frame), preserve_index=False)
    plain = pa.schema(
        [pa.field(f.name, pa.string() if pa.types.is_dictionary(f.type) else f.type) for f in table.schema]
    )
    pa_csv.write_csv(table.cast(plain), path)


@dataclass
class Written:
    """The tables written into a results folder: their files, (file name, columns) and frames, by key."""

    files: dict[str, Path] = field(default_factory=dict)
    columns: dict[str, tuple[str, list[str]]] = field(default_factory=dict)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


ORDER = (
    "national",
    "national_parquet",
    "national_long",
    "national_long_csv",
    "councils",
    "parts",
    "decisions",
)
"""The tables of a results folder, in the order the data package and the workbook list them."""


def write_tables(results: Any, folder: Path, csv: bool = False) -> Written:
    """Write a run's tables into ``folder``; the data package is written when the folder is complete.

    Args:
        results: a :class:`sim.experiments.run.ScenarioResults`.
        folder: where to write (a staging folder).
        csv: the council table and the decision log as CSV (for spreadsheets) instead of Parquet.
    """
    from concurrent.futures import ThreadPoolExecutor

    tables = dictionary(expand=False)
    out = Written()
    # pyarrow writes without the GIL: the large tables go to two threads while this one does pandas'
    # part (the long table, national.csv, the names and the sums by mode), so the two overlap
    with ThreadPoolExecutor(2) as pool:
        pending = []

        def put(key: str, name: str, frame: pd.DataFrame, write=None) -> None:
            out.files[key] = folder / name
            out.columns[key] = (name, list(frame.columns))
            out.frames[key] = frame
            if write is not None:
                pending.append(pool.submit(write, frame, out.files[key]))

        long = national_long(results.national)
        put("national", tables["national"]["path"], results.national)
        put("national_parquet", tables["national"]["parquet"], results.national, write_parquet)
        put("national_long", tables["national_long"]["path"], long, write_parquet)
        put("national_long_csv", tables["national_long"]["csv"], long, write_csv)
        if results.councils is not None:
            write = write_csv if csv else write_parquet
            kind = "csv" if csv else "path"
            parts = with_council_names(results.councils)
            put("parts", tables["parts"][kind], parts, write)
            put("decisions", tables["decisions"][kind], with_council_names(results.decisions), write)
        rounded(results.national).to_csv(out.files["national"], index=False)  # pandas' writer: the format
        if results.councils is not None:
            put("councils", tables["councils"][kind], by_mode(parts), write)
        for job in pending:
            job.result()
    for attr in ("files", "columns", "frames"):
        table = getattr(out, attr)
        setattr(out, attr, {k: table[k] for k in ORDER if k in table})
    return out
