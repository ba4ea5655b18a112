"""``run --xlsx``: a results folder as one Excel workbook, a sheet per table and one describing the columns.

Needs the optional ``openpyxl`` (``pip install "mutuals-sim[xlsx]"``), with which pandas writes Excel. The
sheets hold the tables' values as the CSV files do (numbers to
:data:`~sim.experiments.tables.CSV_SIGNIFICANT` significant digits); the ``columns`` sheet gives each
column's type, unit and description from the data package, and ``about`` what the workbook is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.tables import CSV_SIGNIFICANT, rounded

NAME = "results.xlsx"
MAX_ROWS = 1_048_575
"""Excel's rows in a sheet, less the header: a longer table is left out of the workbook (and named)."""
SHEETS = ("national", "national_long", "summary", "councils", "parts", "decisions")
"""The resources of the data package given a sheet, in order (the Parquet twins of CSVs are the same data)."""


def available() -> bool:
    """Whether openpyxl, which pandas writes Excel with, is installed."""
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        return False
    return True


MISSING = 'writing an Excel workbook (--xlsx) needs openpyxl: pip install "mutuals-sim[xlsx]"'


def _beyond_doubles(frame: pd.DataFrame) -> list[str]:
    """Integer columns holding a value a double (Excel's only number) cannot hold exactly."""
    return [
        c
        for c in frame.columns
        if pd.api.types.is_integer_dtype(frame[c].dtype) and len(frame) and frame[c].abs().max() > 2**53
    ]


def write_workbook(path: Path, package: dict[str, Any], frames: dict[str, pd.DataFrame]) -> list[str]:
    """Write the workbook; returns the tables left out because they have more rows than a sheet holds.

    Args:
        path: the ``.xlsx`` file to write.
        package: the folder's data package (:func:`sim.experiments.package.datapackage`): its resources'
            fields describe the columns.
        frames: each table by its resource name (``national``, ``summary``, ...).
    """
    resources = {r["name"]: r for r in package["resources"]}
    sheets = [name for name in SHEETS if name in frames and name in resources]
    too_long = [name for name in sheets if len(frames[name]) > MAX_ROWS]
    sheets = [name for name in sheets if name not in too_long]
    columns = pd.DataFrame(
        [
            {
                "sheet": name,
                "file": resources[name]["path"],
                **{k: f.get(k, "") for k in ("name", "type", "unit", "description")},
            }
            for name in sheets
            for f in resources[name]["schema"]["fields"]
        ]
    ).rename(columns={"name": "column"})
    about = [
        ("title", package.get("title", "")),
        ("description", package.get("description", "")),
        ("model version", package.get("version", "")),
        ("created", package.get("created", "")),
        ("licence", "; ".join(lic["title"] for lic in package.get("licenses", []))),
        ("sources", "; ".join(s["title"] for s in package.get("sources", []))),
        ("sheets", ", ".join(sheets) + " (one per table), and columns (what every column means)"),
        (
            "precision",
            f"numbers to {CSV_SIGNIFICANT} significant digits; full precision in the Parquet files; whole "
            "numbers beyond 2**53 (the replication seeds) as text, which Excel's numbers cannot hold exactly",
        ),
        (
            "left out",
            ", ".join(f"{n} ({len(frames[n]):,} rows: more than a sheet holds)" for n in too_long) or "none",
        ),
    ]
    from openpyxl import Workbook

    book = Workbook(write_only=True)  # rows streamed out: pandas' to_excel builds every cell first, 5x slower
    _sheet(book, "about", pd.DataFrame(about, columns=["item", "value"]))
    _sheet(book, "columns", columns)
    for name in sheets:
        frame = rounded(frames[name])
        _sheet(book, name, frame.astype({c: str for c in _beyond_doubles(frame)}))  # seeds exactly, as text
    book.save(path)
    return too_long


def _sheet(book: Any, name: str, frame: pd.DataFrame) -> None:
    """Append ``frame`` as a sheet: a header row, then its rows (NaN blank, infinities as text)."""
    sheet = book.create_sheet(name)
    sheet.freeze_panes = "A2"
    sheet.append([str(c) for c in frame.columns])
    columns = []
    for c in frame.columns:
        values = frame[c].to_numpy(dtype=object)
        if frame[c].dtype.kind == "f":
            x = frame[c].to_numpy()
            values[np.isnan(x)] = None
            values[np.isposinf(x)] = "inf"
            values[np.isneginf(x)] = "-inf"
        columns.append(values.tolist() if hasattr(values, "tolist") else list(values))
    for row in zip(*columns, strict=True):
        sheet.append(row)
