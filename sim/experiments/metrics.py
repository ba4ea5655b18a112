"""What a sweep compares: metrics a sweep file names, each a national column, or a difference or ratio.

A sweep file's optional ``[metrics]`` table (docs/sweeps.md)::

    [metrics]
    mutual_staff = "mutual staff"                                   # a column, at the compared year
    lg_staff_2016 = { column = "mutual_staff_lg@2016", label = "LG mutual staff, 2016" }
    lg_share = { ratio = ["mutual_staff_lg", "mutual_staff"], label = "local government's share" }
    growth = { difference = ["mutual_staff", "mutual_staff@2016"], label = "mutual staff added since 2016" }

An operand is a column of national.csv, at the compared year (``compare --year``, default the end year) or
at a year given after ``@``. Without ``[metrics]``, :data:`sim.model.outcomes.METRICS` are compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.inputs.keys import suggest
from sim.inputs.scenario import MAX_END_YEAR, START_YEARS
from sim.model.outcomes import METRICS

if TYPE_CHECKING:
    import pandas as pd

OPS = ("column", "difference", "ratio")


@dataclass(frozen=True)
class Metric:
    """One metric: ``op`` of ``operands`` (``column``: one; ``difference``, ``ratio``: two).

    Each operand is ``(column, year)``; a year of None means the compared year.
    """

    name: str
    label: str
    op: str
    operands: tuple[tuple[str, int | None], ...]

    @property
    def columns(self) -> set[str]:
        """National columns the metric reads."""
        return {c for c, _ in self.operands}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (for the manifest), read back by :func:`from_dict`."""
        texts = [c if y is None else f"{c}@{y}" for c, y in self.operands]
        return {"label": self.label, self.op: texts[0] if self.op == "column" else texts}

    def values(self, runs: pd.DataFrame) -> np.ndarray:
        """The metric on every row of ``runs`` (national rows of runs: ``run_id``, ``year``, columns)."""
        parts = []
        for column, year in self.operands:
            if year is None:
                parts.append(runs[column].to_numpy(dtype=float))
            else:
                at = runs.loc[runs["year"] == year].set_index("run_id")[column]
                parts.append(runs["run_id"].map(at).to_numpy(dtype=float))
        if self.op == "column":
            return parts[0]
        if self.op == "difference":
            return parts[0] - parts[1]
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(parts[1] != 0, parts[0] / parts[1], np.nan)


def default_metrics() -> dict[str, Metric]:
    """The headline metrics compared when a sweep file names none."""
    return {k: Metric(k, label, "column", ((k, None),)) for k, label in METRICS.items()}


def _operand(text: Any, where: str, columns: set[str], problems: list[str]) -> tuple[str, int | None] | None:
    if not isinstance(text, str):
        problems.append(f"{where}: expected a column name (optionally column@year), got {text!r}")
        return None
    column, _, year_text = text.partition("@")
    year = None
    if year_text:
        if not year_text.isdigit() or not START_YEARS[0] <= int(year_text) <= MAX_END_YEAR:
            problems.append(f"{where}: {text!r}: the year after @ must be {START_YEARS[0]}-{MAX_END_YEAR}")
            return None
        year = int(year_text)
    if column not in columns:
        problems.append(f"{where}: {column!r} is not a column of national.csv{suggest(column, columns)}")
        return None
    return column, year


def read_metrics(table: Any, path: Path | str, problems: list[str]) -> dict[str, Metric]:
    """The ``[metrics]`` table of a sweep file; problems are appended, naming the file and the key."""
    from sim.experiments.tables import dictionary

    columns = {c["name"] for c in dictionary()["national"]["columns"]} - {"year", "replication", "seed"}
    if not isinstance(table, dict) or not table:
        problems.append(f"{path}: metrics: must be a table of at least one metric")
        return {}
    out = {}
    for name, spec in table.items():
        where = f"{path}: metrics.{name}"
        if not name.isidentifier():
            problems.append(f"{where}: a metric's name must be an identifier (letters, digits, _)")
            continue
        if isinstance(spec, str):
            spec = {"column": name, "label": spec}
        if not isinstance(spec, dict):
            problems.append(
                f"{where}: expected a label (for a column) or a table with column, difference or ratio"
            )
            continue
        ops = [op for op in OPS if op in spec]
        extra = sorted(set(spec) - {*OPS, "label"})
        if len(ops) != 1 or extra:
            problems.append(
                f"{where}: needs exactly one of {list(OPS)} (and an optional label); got {sorted(spec)}"
            )
            continue
        op = ops[0]
        raw = [spec[op]] if op == "column" else spec[op]
        if op != "column" and (not isinstance(raw, list) or len(raw) != 2):
            problems.append(f'{where}.{op}: expected two operands, e.g. ["mutual_staff_lg", "mutual_staff"]')
            continue
        operands = [_operand(t, f"{where}.{op}", columns, problems) for t in raw]
        label = spec.get("label", name)
        if not isinstance(label, str):
            problems.append(f"{where}.label: expected text, got {label!r}")
            continue
        if all(o is not None for o in operands):
            out[name] = Metric(name, label, op, tuple(operands))
    return out


def from_dict(specs: dict[str, dict[str, Any]] | None) -> dict[str, Metric]:
    """Metrics as recorded in a manifest (:meth:`Metric.to_dict`); the defaults if none were."""
    if not specs:
        return default_metrics()
    problems: list[str] = []
    metrics = read_metrics(specs, "manifest.json", problems)
    if problems:
        raise ValueError("; ".join(problems))
    return metrics
