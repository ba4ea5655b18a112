"""A results folder's ``datapackage.json``: every file in it, each table's columns, and what the folder is.

A Frictionless Data Package (profile ``data-package``): each table is a ``tabular-data-resource`` whose
fields (name, type, unit, description) come from the data dictionary (``sim/experiments/columns.toml``,
:func:`sim.experiments.tables.dictionary`); ``summary.csv``'s fields are made from the national columns it
summarises; every other file (figures, the manifest, the workbook, optional tables) is a resource with a
title and a format. The package carries a title, the scenario's description, the model's version, the
time it was made, its licence and its sources.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sim.experiments.tables import CSV_SIGNIFICANT, dictionary

PROFILE = "data-package"
FIELD_KEYS = ("name", "type", "description", "unit")

LICENSES = [
    {
        "name": "MIT",
        "path": "https://opensource.org/licenses/MIT",
        "title": "MIT License: mutuals-sim, the model whose output this is; its inputs keep their own "
        "licences (sources)",
    }
]
SOURCES = [
    {"title": "mutuals-sim: agent-based simulation of English councils divesting services to mutuals"},
    {"title": "Council data: mySociety (MIT)"},
    {"title": "DCLG/MHCLG revenue outturn and spending-power settlements (Open Government Licence v3.0)"},
    {"title": "CIPFA library statistics via the House of Commons Library (Open Parliament Licence)"},
    {"title": "Hex maps of councils: ODI Leeds (MIT)"},
]
"""What the results are made from (README's "Data and licences"; sim/data/PROVENANCE.md has the detail)."""

STATISTICS = {"median": "median", "p05": "5th percentile", "p95": "95th percentile"}
"""``summary.csv``'s statistics across replications, by column suffix."""

OTHER_FILES = {
    "summary.csv": "Headline national columns by year: median and 5-95% range across replications",
    "workforce.png": "Figure: mutual staff by sector with 5-95% bands, and as a share of the ambition",
    "modes.png": "Figure: the share of each service's parts in each mode",
    "manifest.json": "The run: scenario, seeds, warnings, input files with their SHA-256, versions, command",
    "results.xlsx": "Every table of this folder as one Excel workbook, with a sheet describing the columns",
    "observed_fit.csv": "Simulated against observed series (docs/observed.md)",
    "posterior_draws.csv": "The posterior draw each replication ran with",
    "posterior_spread.csv": "Spread of the headline columns from parameters and from chance",
}
"""Titles of the files that are not tables of the data dictionary (docs/outputs.md describes them)."""

MEDIA_TYPES = {
    "png": "image/png",
    "json": "application/json",
    "csv": "text/csv",
    "parquet": "application/vnd.apache.parquet",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def slug(text: str) -> str:
    """A Frictionless name: lower case letters, digits, ``-``, ``.`` and ``_``."""
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "results"


def table_fields(table: str, columns: list[str]) -> list[dict[str, Any]]:
    """The fields of a dictionary table's columns, in order (a column it lacks says so)."""
    known = {c["name"]: c for c in dictionary()[table]["columns"]}
    missing = {"type": "any", "description": "not in the data dictionary", "unit": ""}
    return [
        {k: v for k, v in {"name": col, **missing, **known.get(col, {})}.items() if k in FIELD_KEYS}
        for col in columns
    ]


def summary_fields(columns: list[str]) -> list[dict[str, Any]]:
    """The fields of ``summary.csv``: ``year``, then ``<national column>_<statistic>``."""
    national = {c["name"]: c for c in dictionary()["national"]["columns"]}
    fields = []
    for col in columns:
        base, _, stat = col.rpartition("_")
        if col in national:
            fields.append({k: national[col][k] for k in FIELD_KEYS})
        elif stat in STATISTICS and base in national:
            source = national[base]
            fields.append(
                {
                    "name": col,
                    "type": "number",
                    "description": f"{STATISTICS[stat]} across replications of {base}: "
                    + source["description"],
                    "unit": source["unit"],
                }
            )
        else:
            fields.append(
                {"name": col, "type": "any", "description": "not in the data dictionary", "unit": ""}
            )
    return fields


def _table_resource(key: str, path: str, fields: list[dict], title: str, description: str | None) -> dict:
    fmt = path.rsplit(".", 1)[1]
    precision = f" Numbers to {CSV_SIGNIFICANT} significant digits (full precision in the Parquet files)."
    text = (description or "") + (precision if fmt == "csv" else "")
    return {
        "name": key,
        "path": path,
        "profile": "tabular-data-resource",
        "format": fmt,
        "mediatype": MEDIA_TYPES[fmt],
        "title": title,
        **({"description": text.strip()} if text.strip() else {}),
        "schema": {"fields": fields},
    }


def resources(folder: Path, tables: dict[str, tuple[str, list[str]]]) -> list[dict[str, Any]]:
    """Every file of ``folder`` (not hidden, not ``datapackage.json``) as a resource, the tables first.

    Args:
        folder: the results folder (or its staging folder), complete.
        tables: (file name, columns) of each dictionary table written, by resource name
            (:attr:`sim.experiments.tables.Written.columns`).
    """
    meta = dictionary(expand=False)
    out, listed = [], set()
    for key, (path, columns) in tables.items():
        table = key.removesuffix("_csv").removesuffix("_parquet")
        t = meta[table]
        out.append(_table_resource(key, path, table_fields(table, columns), t["title"], t.get("description")))
        listed.add(path)
    summary = folder / "summary.csv"
    if summary.exists():
        columns = summary.read_text().partition("\n")[0].split(",")
        out.append(
            _table_resource("summary", summary.name, summary_fields(columns), OTHER_FILES[summary.name], None)
        )
        listed.add(summary.name)
    names = {r["name"] for r in out}
    for path in sorted(folder.iterdir()):
        if (
            path.name in listed
            or path.name.startswith(".")
            or path.name == "datapackage.json"
            or path.is_dir()
        ):
            continue
        fmt = path.suffix.lstrip(".")
        name = slug(path.stem) if slug(path.stem) not in names else slug(path.name)
        names.add(name)
        out.append(
            {
                "name": name,
                "path": path.name,
                "format": fmt,
                **({"mediatype": MEDIA_TYPES[fmt]} if fmt in MEDIA_TYPES else {}),
                "title": OTHER_FILES.get(path.name, path.name),
                "description": "described in docs/outputs.md",
            }
        )
    return out


def datapackage(
    folder: Path, tables: dict[str, tuple[str, list[str]]], scenario: Any, created: str, version: str | None
) -> dict:
    """The data package of a complete results folder (see the module's description).

    Args:
        folder: the folder (every file already in it but the package itself).
        tables: as :func:`resources` takes them.
        scenario: the run's resolved scenario (its name and description).
        created: when the run was made, ISO 8601 (the manifest's ``created_utc``).
        version: the model's version (the installed package's).
    """
    return {
        "profile": PROFILE,
        "name": slug(scenario.name),
        "title": f"mutuals-sim results: scenario {scenario.name}",
        **({"description": scenario.description} if scenario.description else {}),
        "version": version or "unknown",
        "created": created,
        "licenses": LICENSES,
        "sources": SOURCES,
        "resources": resources(folder, tables),
    }
