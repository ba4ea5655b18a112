"""Funding path files: each council's yearly cash change, read from CSV and checked strictly.

A funding path file (``funding.path = "file"``, ``funding.path_file = "path.csv"``) has one row per council
and year::

    ons_code,year,cash_change
    E10000029,2016,-0.05

``year`` is the financial year's start, a whole year the model simulates or draws pressure from
(2011 to 2040); ``cash_change`` is a fraction per year (-0.05 is a 5% cash cut). Councils and years not in
the file keep the scenario's funding path. Every problem is reported at once, naming the file, the line
and the column; nothing is guessed (a duplicate council-year, a fractional year or a percentage given
for a fraction is an error, not a value silently used or dropped).
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from sim.inputs.councils import FUNDING_YEARS, load_england

COLUMNS = ("ons_code", "year", "cash_change")
FIRST_YEAR = FUNDING_YEARS[0]
"""The first year of the funding arrays the model builds (2011-12)."""
LAST_YEAR = 2040
"""The last year a scenario may simulate (``sim.inputs.scenario.MAX_END_YEAR``)."""
MAX_ABS_CHANGE = 0.5
"""Largest plausible yearly cash change, as a fraction: halving or raising by half in one year. Real
spending-power changes, 2011-12 to 2019-20, were within about 15% a year (CALIBRATION.md)."""
_SHOWN = 5


class FundingFileError(ValueError):
    """A funding path file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _lines(lines: list[int]) -> str:
    more = f" and {len(lines) - _SHOWN} more" if len(lines) > _SHOWN else ""
    return f"line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines[:_SHOWN]))}{more}"


def _parse(path: Path) -> tuple[pd.DataFrame | None, list[str]]:
    """(table, problems): the checked table (ons_code str, year int, cash_change float) if no problems."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [f"{path}: cannot be read: {exc.strerror or exc}"]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        byte = f"byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        return None, [f"{path}: not a text (UTF-8 CSV) file: {byte}"]
    if not text.strip():
        header = ",".join(COLUMNS)
        return None, [f"{path}: empty file; expected a header {header} and one row per council and year"]
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except (ValueError, pd.errors.ParserError) as exc:
        return None, [f"{path}: cannot be read as CSV: {exc}"]
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        return None, [f"{path}: line 1: missing columns {missing}; required: {list(COLUMNS)}"]
    if df.empty:
        return None, [f"{path}: no rows after the header"]
    line = pd.Series(df.index + 2, index=df.index)
    problems: list[str] = []
    codes = df["ons_code"].str.strip()
    known = set(load_england().codes)
    unknown = ~codes.isin(known)
    if unknown.any():
        shown = sorted(set(codes[unknown]))[:_SHOWN]
        problems.append(
            f"{path}: column ons_code: unknown ONS codes {shown} on {_lines(line[unknown].tolist())}; "
            "councils are those of 1 April 2014 (sim/data/councils_2014.csv)"
        )
    years = pd.to_numeric(df["year"].str.strip(), errors="coerce")
    not_whole = years.isna() | (years.notna() & (years != years.round()))
    if not_whole.any():
        problems.append(
            f"{path}: column year: not a whole year (the financial year's start, e.g. 2016) on "
            f"{_lines(line[not_whole].tolist())}"
        )
    outside = ~not_whole & ~years.between(FIRST_YEAR, LAST_YEAR)
    if outside.any():
        problems.append(
            f"{path}: column year: outside the model's years {FIRST_YEAR}-{LAST_YEAR} on "
            f"{_lines(line[outside].tolist())} (e.g. {df['year'][outside].iloc[0]})"
        )
    change = pd.to_numeric(df["cash_change"].str.strip(), errors="coerce")
    bad = pd.Series(~np.isfinite(change.to_numpy(dtype=float)), index=df.index)
    if bad.any():
        problems.append(
            f"{path}: column cash_change: non-numeric or not finite on {_lines(line[bad].tolist())} "
            f"(e.g. {df['cash_change'][bad].iloc[0]!r})"
        )
    implausible = ~bad & (change.abs() > MAX_ABS_CHANGE)
    if implausible.any():
        problems.append(
            f"{path}: column cash_change: {df['cash_change'][implausible].iloc[0].strip()} on "
            f"{_lines(line[implausible].tolist())} is not a plausible yearly change: give fractions in "
            f"[-{MAX_ABS_CHANGE}, {MAX_ABS_CHANGE}] (-0.05 is a 5% cut), not percentages"
        )
    key_ok = ~unknown & ~not_whole & ~outside
    keys = pd.DataFrame({"ons_code": codes, "year": years})[key_ok]
    dup = keys.duplicated(keep=False)
    if dup.any():
        first = keys[dup].groupby(["ons_code", "year"]).head(1).iloc[0]
        problems.append(
            f"{path}: columns ons_code, year: the same council and year more than once on "
            f"{_lines(line[dup[dup].index].tolist())} (e.g. {first['ons_code']}, {int(first['year'])}); "
            "give one cash change per council and year"
        )
    if problems:
        return None, problems
    table = pd.DataFrame({"ons_code": codes, "year": years.astype("int64"), "cash_change": change})
    return table.reset_index(drop=True), []


def check_funding_file(path: str | Path) -> list[str]:
    """Problems with a funding path file (empty if none), each naming the file, line and column."""
    return _parse(Path(path))[1]


def read_funding_file(path: str | Path) -> pd.DataFrame:
    """The checked funding path file: columns ``ons_code``, ``year`` (int), ``cash_change`` (float).

    Read again whenever the file's contents change (cached by path, size and modification time).

    Raises:
        FundingFileError: listing every problem found.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise FundingFileError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    return _read_cached(str(path), st.st_size, st.st_mtime_ns).copy()


@lru_cache(maxsize=8)
def _read_cached(path: str, size: int, mtime_ns: int) -> pd.DataFrame:
    table, problems = _parse(Path(path))
    if problems:
        raise FundingFileError(problems)
    return table
