"""``run --xlsx``: a results folder as one Excel workbook, a sheet per table and one describing the columns.

Needs the optional ``openpyxl`` (``pip install "mutuals-sim[xlsx]"``), with which pandas writes Excel. The
sheets hold the tables' values as the CSV files do (numbers to
:data:`~sim.experiments.tables.CSV_SIGNIFICANT` significant digits); the ``columns`` sheet gives each
column's type, unit and description from the data package, and ``about`` what the workbook is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame(about, columns=["item", "value"]).to_excel(writer, sheet_name="about", index=False)
        columns.to_excel(writer, sheet_name="columns", index=False)
        for name in sheets:
            frame = rounded(frames[name])
            frame = frame.astype(
                {c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)}
            )
            frame = frame.astype({c: str for c in _beyond_doubles(frame)})  # the seeds, exactly, as text
            frame.to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 0))
    return too_long
