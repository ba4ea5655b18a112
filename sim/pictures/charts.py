"""Charts of one scenario's results: the mutual workforce against one million, services by delivery mode.

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` (no pyplot, no backend chosen), so
it renders inline in Jupyter and saves anywhere. Colours and labels come from :mod:`sim.pictures.style`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.pictures import style
from sim.pictures.style import SECTOR_COLOURS  # noqa: F401  (re-exported)

SECTOR_COLUMNS = {
    "all sectors": "mutual_staff",
    "local government": "mutual_staff_lg",
    "NHS and central government": "mutual_staff_outside",
}
BAND_TEXT = "line: median; band: 5th-95th percentile across replications"


def fan(ax: Axes, national: pd.DataFrame, column: str, label: str, colour: str, scale: float = 1.0) -> Axes:
    """Median line and 5-95% band across replications of one column of national.csv (times ``scale``)."""
    g = national.groupby("year")[column]
    years = np.array(sorted(national["year"].unique()))
    ax.fill_between(years, g.quantile(0.05) * scale, g.quantile(0.95) * scale, color=colour, alpha=0.2, lw=0)
    ax.plot(years, g.median() * scale, color=colour, label=label, lw=2)
    style.year_axis(ax)
    return ax


def headline(national: pd.DataFrame, target: float = 1_000_000, year: int | None = None) -> dict:
    """The share of ``target`` reached by all mutual staff in ``year`` (default the last): median, 5%, 95%.

    Returns:
        ``year``, ``median``, ``p05``, ``p95`` (per cent of the target) and ``staff`` (the median staff).
    """
    year = int(national["year"].max()) if year is None else year
    staff = national.loc[national["year"] == year, "mutual_staff"]
    pct = staff / target * 100
    return {
        "year": year,
        "median": float(pct.median()),
        "p05": float(pct.quantile(0.05)),
        "p95": float(pct.quantile(0.95)),
        "staff": float(staff.median()),
    }


def headline_text(h: dict, target: float = 1_000_000) -> str:
    """``2020-21: 6.6% of the one-million ambition (5-95%: 6.1-7.2%), 66,000 staff``."""
    name = "one-million" if target == 1_000_000 else f"{target:,.0f}"
    return (
        f"{style.year_label(h['year'])}: {h['median']:.1f}% of the {name} ambition "
        f"(5-95%: {h['p05']:.1f}-{h['p95']:.1f}%), {h['staff']:,.0f} staff in mutuals"
    )


def workforce_figure(
    national: pd.DataFrame, target: float = 1_000_000, title: str = "", scenario: str = ""
) -> Figure:
    """Mutual workforce by sector (left) and as a share of the one-million ambition (right), headline on top.

    Args:
        national: national.csv, one row per year and replication.
        target: the ambition (``report.target_staff``).
        title: a title; ``"Scenario: <scenario>"`` if empty and a scenario is named.
        scenario: the scenario's name, written in the title.
    """
    n_rep = national.groupby("year").size().max()
    fig = style.ChartFigure(figsize=(11, 5), constrained_layout=True)
    left, right = fig.subplots(1, 2)
    for label, column in SECTOR_COLUMNS.items():
        fan(left, national, column, label, SECTOR_COLOURS[label])
    left.set_ylabel("staff in public service mutuals")
    left.set_title("Mutual workforce by sector", fontsize=10)
    left.set_ylim(0, left.get_ylim()[1] * 1.35)  # headroom: the legend sits above the bands, never on them
    left.yaxis.set_major_formatter(style.THOUSANDS)
    left.legend(loc="upper left", frameon=False, fontsize=8)
    fan(right, national, "mutual_staff", "all sectors", SECTOR_COLOURS["all sectors"], scale=100 / target)
    h = headline(national, target)
    top = max(h["p95"] * 1.35, 1.0)
    right.set_ylim(0, top)
    right.yaxis.set_major_formatter(style.PERCENT)
    right.set_ylabel(f"% of the ambition of {target:,.0f} staff")
    right.set_title(f"Share of the ambition\n({target:,.0f} = 100%, far above this scale)", fontsize=10)
    right.annotate(
        f"{h['median']:.1f}%",
        (h["year"], h["median"]),
        xytext=(-6, 8),
        textcoords="offset points",
        ha="right",
        fontsize=11,
        fontweight="bold",
    )
    for ax in (left, right):
        ax.set_xlabel("financial year (start)")
        ax.grid(alpha=0.3)
    scenario_title = title or (f"Scenario: {scenario}" if scenario else "")
    lines = [headline_text(h, target)]
    if scenario_title:
        lines.insert(0, scenario_title)
    fig.suptitle("\n".join(lines), fontsize=12)
    fig.supxlabel(f"{BAND_TEXT} ({n_rep} replications)", fontsize=8, color="#444444")
    return fig


def mode_shares(national: pd.DataFrame, service: str, modes: tuple[str, ...]) -> pd.DataFrame:
    """Per cent of a service's parts in each mode, per replication and year (rows add up to 100).

    Returns:
        Columns ``year``, ``replication`` (if present) and one per mode.
    """
    counts = national[[f"n_{service}_{m}" for m in modes]].to_numpy(dtype=float)
    total = counts.sum(axis=1, keepdims=True)
    shares = np.divide(counts * 100, total, out=np.zeros_like(counts), where=total > 0)
    keys = [c for c in ("year", "replication") if c in national]
    return pd.concat(
        [national[keys].reset_index(drop=True), pd.DataFrame(shares, columns=list(modes))], axis=1
    )


def modes_figure(
    national: pd.DataFrame,
    services: tuple[str, ...],
    modes: tuple[str, ...],
    scenario: str = "",
    xlim: tuple[int, int] | None = None,
    compact: bool = False,
) -> Figure:
    """Share of each service's parts in each delivery mode: the mean across replications, stacked to 100%.

    Means of shares add up to 100% (medians need not). Each panel writes the final year's mutual share
    (mutual and joint mutual) with its 5-95% range across replications. ``xlim``: the years on the axis
    (default those in the table). ``compact``: a smaller figure with the legend below (the explorer's).
    """
    order = [m for m in style.STACK_ORDER if m in modes] + [m for m in modes if m not in style.STACK_ORDER]
    size = (2.4 * len(services) + 0.6, 5.4) if compact else (4 * len(services) + 2.4, 4.2)
    fig = style.ChartFigure(figsize=size, constrained_layout=True)
    axes = fig.subplots(1, len(services), squeeze=False, sharey=True)[0]
    n_rep = national.groupby("year").size().max()
    for ax, service in zip(axes, services, strict=True):
        shares = mode_shares(national, service, tuple(order))
        mean = shares.groupby("year")[order].mean()
        ax.stackplot(
            mean.index,
            mean.T.to_numpy(),
            colors=[style.MODE_COLOURS[m] for m in order],
            edgecolor="white",
            lw=0.3,
        )
        last = shares[shares["year"] == shares["year"].max()]
        mutual = last[[m for m in ("mutual", "joint_mutual") if m in order]].sum(axis=1)
        lo, hi, year = mutual.quantile(0.05), mutual.quantile(0.95), style.year_label(int(last["year"].max()))
        note = (
            f"{year}, by a mutual:\n{mutual.median():.1f}% ({lo:.1f}-{hi:.1f}%)"
            if compact
            else f"{year}: run by a mutual (incl. joint)\n{mutual.median():.1f}% (5-95%: {lo:.1f}-{hi:.1f}%)"
        )
        ax.text(
            0.03,
            0.04,
            note,
            transform=ax.transAxes,
            fontsize=7 if compact else 8,
            bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"},
        )
        ax.set_title(style.service_label(service).capitalize(), fontsize=10)
        ax.set_xlabel("financial year (start)")
        ax.set_ylim(0, 100)
        ax.set_xlim(*(xlim or (mean.index.min(), max(mean.index.max(), mean.index.min() + 1))))
        ax.yaxis.set_major_formatter(style.PERCENT)
        style.year_axis(ax)
    axes[0].set_ylabel("% of the service's parts (all councils)")
    handles = [Patch(facecolor=style.MODE_COLOURS[m], label=style.mode_label(m)) for m in reversed(order)]
    where = {"loc": "outside lower center", "ncols": 3} if compact else {"loc": "outside right center"}
    fig.legend(handles=handles, frameon=False, fontsize=7 if compact else 8, title="delivery mode", **where)
    named = f"Scenario: {scenario}. " if scenario else ""
    title = (
        f"{named}Services by delivery mode: mean share across {n_rep} replications (stacks add up to 100%)"
    )
    fig.suptitle(textwrap.fill(title, 70) if compact else title, fontsize=9 if compact else 11)
    return fig


def save(fig: Figure, path: str | Path) -> None:
    """Write a figure as PNG at 150 dpi (no pyplot: the figure is freed when no longer referenced)."""
    fig.savefig(path, dpi=150)
