"""Observed series beside simulated ones: a strict CSV format, a fit table and plots.

An observed series file (format in ``docs/observed.md``) has one row per observation::

    year,measure,value,source,note
    2014,n_mutuals,100,"Cabinet Office, 'mutuals reach century' (Maude), 23 Jul 2014",

``year`` is the financial year's start (2014 is 2014-15, so a figure dated July 2014 is year 2014 and one
dated February 2015 is also year 2014); ``measure`` names a column of ``national.csv``. The allowed
measures are read from the model itself (:func:`measures`), never listed by hand. The project ships only
figures known by 2014 (``sim/data/observed_2014.csv``); users add later observations in their own files.

Longer than 300 lines because the file format's checks report every problem at once, line by line,
beside the fit table and plots of the same series.
"""

from __future__ import annotations

import csv
import io
import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.inputs.keys import suggest
from sim.inputs.scenario import ScenarioError
from sim.pictures import charts as plots
from sim.pictures import style

REQUIRED_COLUMNS = ("year", "measure", "value", "source")
OPTIONAL_COLUMNS = ("note",)
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "observed_2014.csv"
"""Observations known by 2014, shipped with the model (sources from CALIBRATION.md)."""
NOT_MEASURES = frozenset({"year", "replication", "seed"})
WORKFORCE_MEASURES = {
    "mutual_staff": "all sectors",
    "mutual_staff_lg": "local government",
    "mutual_staff_outside": "NHS and central government",
}
"""Observed measures drawn on the workforce figure, by sector (keys of `charts.SECTOR_COLOURS`)."""
FIRST_YEAR, LAST_YEAR = 2000, 2040
"""Years an observation may have: the model simulates 2014 to at most 2040; earlier figures give context."""
MARKERS = ("o", "s", "D", "^", "v", "P", "X", "*")
FIT_COLUMNS = [
    "measure",
    "year",
    "kind",
    "observed",
    "sim_median",
    "sim_p05",
    "sim_p95",
    "sim_min",
    "sim_max",
    "error",
    "relative_error",
    "abs_relative_error",
    "covered_range",
    "covered_p05_p95",
    "share_covered_range",
    "share_covered_p05_p95",
    "n_observations",
    "n_replications",
    "source",
]


@lru_cache(maxsize=1)
def measures() -> tuple[str, ...]:
    """Columns of the model's national table that observations may name (every column but ``year``)."""
    from sim.model import DivestmentModel

    columns = DivestmentModel(record_councils=False).national().columns
    return tuple(c for c in columns if c not in NOT_MEASURES)


def _check_header(path: Path, header: list[str]) -> list[str]:
    problems = []
    names = [h.strip() for h in header]
    for col in REQUIRED_COLUMNS:
        if col not in names:
            problems.append(
                f"{path}: line 1: column {col}: missing; required columns: {list(REQUIRED_COLUMNS)}"
            )
    allowed = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    for col in names:
        if col not in allowed:
            problems.append(
                f"{path}: line 1: column {col!r}: unknown column{suggest(col, allowed)}; "
                f"allowed: {list(allowed)}"
            )
    for col in sorted({c for c in names if names.count(c) > 1}):
        problems.append(f"{path}: line 1: column {col}: appears more than once")
    return problems


def _parse_row(
    path: Path, line: int, row: dict[str, str], allowed: tuple[str, ...], problems: list[str]
) -> dict | None:
    where = f"{path}: line {line}"
    ok = True
    year_text = row["year"]
    try:
        year = int(year_text)
    except ValueError:
        problems.append(
            f"{where}: column year: {year_text!r} is not a year (the financial year's start, e.g. 2014)"
        )
        ok = False
    else:
        if not FIRST_YEAR <= year <= LAST_YEAR:
            problems.append(f"{where}: column year: {year} is outside {FIRST_YEAR}-{LAST_YEAR}")
            ok = False
    measure = row["measure"]
    if measure not in allowed:
        problems.append(
            f"{where}: column measure: unknown measure {measure!r}{suggest(measure, allowed)}; "
            "the allowed measures are the columns of national.csv (docs/observed.md)"
        )
        ok = False
    try:
        value = float(row["value"])
        if not math.isfinite(value):
            raise ValueError
    except ValueError:
        problems.append(f"{where}: column value: {row['value']!r} is not a finite number")
        ok = False
    if not row["source"]:
        problems.append(f"{where}: column source: blank; every observation needs its source")
        ok = False
    if not ok:
        return None
    return {"year": year, "measure": measure, "value": value, "source": row["source"], "note": row["note"]}


def _read_rows(path: Path, reader, allowed: tuple[str, ...], problems: list[str], rows: list[dict]) -> None:
    """Check the header and every row, appending rows and problems (raises at once on a bad header)."""
    seen: dict[tuple[int, str], int] = {}
    header = next(reader, None)
    if header is None:
        raise ScenarioError([f"{path}: line 1: empty file; expected a header {list(REQUIRED_COLUMNS)}"])
    problems += _check_header(path, header)
    if problems:
        raise ScenarioError(problems)
    names = [h.strip() for h in header]
    for fields in reader:
        line = reader.line_num
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(names):
            problems.append(f"{path}: line {line}: expected {len(names)} fields ({names}), got {len(fields)}")
            continue
        row = {"note": ""} | {n: f.strip() for n, f in zip(names, fields, strict=True)}
        parsed = _parse_row(path, line, row, allowed, problems)
        if parsed is None:
            continue
        key = (parsed["year"], parsed["measure"])
        if key in seen:
            problems.append(
                f"{path}: line {line}: columns year, measure: duplicate of line {seen[key]} "
                f"({key[0]}, {key[1]}); give one observation per year and measure"
            )
            continue
        seen[key] = line
        rows.append(parsed)


def load_observed(path: str | Path) -> pd.DataFrame:
    """Read and check an observed series file.

    Args:
        path: a CSV file in the format of ``docs/observed.md``.

    Returns:
        One row per observation: ``year`` (int), ``measure``, ``value`` (float), ``source``, ``note``,
        in file order.

    Raises:
        ScenarioError: listing every problem found, each naming the file, the line and the column.
    """
    path = Path(path)
    if path.is_dir():
        raise ScenarioError([f"{path}: is a folder, not an observed series file"])
    if not path.is_file():
        raise ScenarioError([f"{path}: file not found"])
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise ScenarioError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    except UnicodeDecodeError as exc:
        byte = f"byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise ScenarioError([f"{path}: not a text (UTF-8 CSV) file: {byte}"]) from None
    allowed = measures()
    problems: list[str] = []
    rows: list[dict] = []
    try:
        _read_rows(path, csv.reader(io.StringIO(text, newline="")), allowed, problems, rows)
    except csv.Error as exc:
        raise ScenarioError([f"{path}: not a readable CSV file: {exc}"]) from None
    if not rows and not problems:
        problems.append(f"{path}: no observations after the header")
    if problems:
        raise ScenarioError(problems)
    df = pd.DataFrame(rows, columns=["year", "measure", "value", "source", "note"])
    df = df.astype({"year": "int64", "value": "float64"})
    df.attrs["path"] = str(path.resolve())  # recorded, with its SHA-256, in the run's manifest
    return df


def fit_table(national: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Observed against simulated, for every observation in a year the simulation has.

    Args:
        national: the national table of a run, one row per year and replication.
        observed: observations from :func:`load_observed`.

    Returns:
        Rows of kind ``observation`` (one per measure and year: observed value, simulated median, 5% and
        95% quantiles, min and max across replications, error = median - observed, relative error =
        error / observed, ``covered_range`` = observed within [min, max], ``covered_p05_p95`` = observed
        within [p05, p95]) followed by one row of kind ``summary`` per measure (mean absolute relative
        error and the shares of observations covered). Columns are :data:`FIT_COLUMNS`.
    """
    years = set(national["year"].unique())
    obs = observed[observed["year"].isin(years) & observed["measure"].isin(national.columns)]
    rows, summaries = [], []
    for measure, group in obs.groupby("measure", sort=False):
        sim = national.groupby("year")[measure]
        stats = pd.DataFrame(
            {
                "sim_median": sim.median(),
                "sim_p05": sim.quantile(0.05),
                "sim_p95": sim.quantile(0.95),
                "sim_min": sim.min(),
                "sim_max": sim.max(),
                "n_replications": sim.size(),
            }
        )
        part = group.sort_values("year").join(stats, on="year")
        part = part.rename(columns={"value": "observed"}).assign(kind="observation", n_observations=1)
        part["error"] = part["sim_median"] - part["observed"]
        part["relative_error"] = part["error"] / part["observed"].where(part["observed"] != 0)
        part["abs_relative_error"] = part["relative_error"].abs()
        part["covered_range"] = (part["sim_min"] <= part["observed"]) & (part["observed"] <= part["sim_max"])
        part["covered_p05_p95"] = (part["sim_p05"] <= part["observed"]) & (
            part["observed"] <= part["sim_p95"]
        )
        rows.append(part)
        summaries.append(
            {
                "measure": measure,
                "kind": "summary",
                "abs_relative_error": part["abs_relative_error"].mean(),
                "share_covered_range": part["covered_range"].mean(),
                "share_covered_p05_p95": part["covered_p05_p95"].mean(),
                "n_observations": len(part),
                "n_replications": int(part["n_replications"].min()),
            }
        )
    table = pd.concat([*rows, pd.DataFrame(summaries)], ignore_index=True) if rows else pd.DataFrame()
    table = table.reindex(columns=FIT_COLUMNS)
    return table.astype(
        {
            "year": "Int64",
            "covered_range": "boolean",
            "covered_p05_p95": "boolean",
            "n_observations": "Int64",
            "n_replications": "Int64",
        }
    )


def _short(source: str) -> str:
    """A source as a legend names it, whole: who and when (``Cabinet Office, 23 Jul 2014``).

    The part before any ``;`` or ``:``, without quoted titles and parentheses (the full source is in the
    observed table and the fit table).
    """
    short = re.sub(r"\s*\([^)]*\)|\s*'[^']*'", "", source.split(";")[0].split(":")[0])
    return re.sub(r"(,\s*)+,", ",", short).strip(" ,")


def source_markers(observed: pd.DataFrame) -> dict[str, str]:
    """A marker per source, fixed over the whole table, so a source keeps its marker in every panel."""
    return {s: MARKERS[k % len(MARKERS)] for k, s in enumerate(dict.fromkeys(observed["source"]))}


def _draw_points(
    ax: Axes, observed: pd.DataFrame, colour: str, label_prefix: str = "", markers: dict | None = None
) -> None:
    """Observed points, one marker per source (``markers``, from the whole table), labelled by the source."""
    markers = markers or source_markers(observed)
    for source, group in observed.groupby("source", sort=False):
        ax.scatter(
            group["year"],
            group["value"],
            marker=markers[source],
            s=45,
            facecolor="white",
            edgecolor=colour,
            linewidth=1.5,
            zorder=5,
            label=f"{label_prefix}{_short(source)}",
        )


def plot_observed(
    ax: Axes,
    national: pd.DataFrame,
    observed: pd.DataFrame,
    measure: str,
    markers: dict | None = None,
    legend: bool = True,
) -> Axes:
    """Simulated median and 5-95% band of one measure with its observed points, labelled by source.

    ``legend``: a legend in the panel (where it covers least); off where the figure has one for all panels.
    """
    plots.fan(ax, national, measure, "simulated (median, 5-95%)", "#000000")
    markers = markers or source_markers(observed)
    _draw_points(ax, observed[observed["measure"] == measure], "#D55E00", "observed: ", markers)
    ax.set_title(style.measure_label(measure).capitalize(), fontsize=10)
    ax.set_xlabel("financial year (start)")
    ax.yaxis.set_major_formatter(style.THOUSANDS)
    ax.grid(alpha=0.3)
    if legend:
        ax.legend(loc="best", frameon=True, framealpha=0.9, edgecolor="none", fontsize=7)
    return ax


def observed_figure(national: pd.DataFrame, observed: pd.DataFrame, scenario: str = "") -> Figure:
    """One panel per observed measure that the national table has; a source keeps its marker throughout."""
    names = [m for m in dict.fromkeys(observed["measure"]) if m in national.columns]
    n = max(len(names), 1)
    cols = min(n, 3)
    rows = math.ceil(n / cols)
    fig = style.ChartFigure(figsize=(4.8 * cols, 3.9 * rows + 0.5), constrained_layout=True)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    markers = source_markers(observed[observed["measure"].isin(names)])
    entries: dict[str, Any] = {}
    for ax, measure in zip(axes, names, strict=False):
        plot_observed(ax, national, observed, measure, markers, legend=False)
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    if entries:  # one legend for every panel, below them: a source keeps its marker throughout
        fig.legend(
            entries.values(), entries.keys(), loc="outside lower center", ncols=2, frameon=False, fontsize=8
        )
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    if not names:
        axes[0].text(0.5, 0.5, "no observed measure in the results", ha="center", va="center")
    n_rep = national.groupby("year").size().max()
    named = f"Scenario: {scenario}. " if scenario else ""
    fig.suptitle(
        f"{named}Simulated (black: median, band 5-95% across {n_rep} replications) against observed "
        "(open markers, one per source)",
        fontsize=11,
    )
    return fig


def add_observed_to_workforce(fig: Figure, observed: pd.DataFrame, target: float = 1_000_000) -> Figure:
    """Put observed workforce points on the staff panel of :func:`sim.pictures.charts.workforce_figure`.

    Observed ``mutual_staff``, ``mutual_staff_lg`` and ``mutual_staff_outside`` are drawn in their
    sector's colour on ``fig.axes[0]`` (staff); observed ``mutual_staff`` also on ``fig.axes[1]`` as a
    share of ``target`` (the figure's ambition). Other measures are ignored. A source keeps one
    marker on both panels.
    """
    left, right = fig.axes[:2]
    markers = source_markers(observed)
    for measure, sector in WORKFORCE_MEASURES.items():
        points = observed[observed["measure"] == measure]
        if points.empty:
            continue
        _draw_points(left, points, plots.SECTOR_COLOURS[sector], f"observed, {sector}: ", markers)
        if measure == "mutual_staff":
            share = points.assign(value=points["value"] / target * 100)
            _draw_points(right, share, plots.SECTOR_COLOURS[sector], "observed: ", markers)
    # below the staff panel: its lines and points fill the panel, so a legend inside would cover some
    left.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=2, frameon=False, fontsize=7)
    if right.get_legend_handles_labels()[0]:
        right.legend(loc="best", frameon=True, framealpha=0.9, edgecolor="none", fontsize=7)
    return fig


def write_observed_outputs(
    out_dir: str | Path, national: pd.DataFrame, observed: pd.DataFrame, scenario: str = ""
) -> dict[str, Path]:
    """Write ``observed_fit.csv`` and ``observed.png`` into ``out_dir``; returns the files by name."""
    out_dir = Path(out_dir)
    files = {"fit": out_dir / "observed_fit.csv", "observed_plot": out_dir / "observed.png"}
    fit_table(national, observed).to_csv(files["fit"], index=False)
    plots.save(observed_figure(national, observed, scenario), files["observed_plot"])
    return files
