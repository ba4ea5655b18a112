"""Plots of run results. Each function draws on a matplotlib Axes (or makes a Figure) and returns it."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

SECTOR_COLUMNS = {
    "all sectors": "mutual_staff",
    "local government": "mutual_staff_lg",
    "NHS and central government": "mutual_staff_outside",
}
SECTOR_COLOURS = {
    "all sectors": "#000000",
    "local government": "#D55E00",
    "NHS and central government": "#0072B2",
}


def fan(ax: Axes, national: pd.DataFrame, column: str, label: str, colour: str) -> Axes:
    """Median line and 5-95% band across replications of one column of national.csv."""
    g = national.groupby("year")[column]
    years = np.array(sorted(national["year"].unique()))
    ax.fill_between(years, g.quantile(0.05), g.quantile(0.95), color=colour, alpha=0.2, lw=0)
    ax.plot(years, g.median(), color=colour, label=label, lw=2)
    return ax


def workforce_figure(national: pd.DataFrame, target: float = 1_000_000, title: str = "") -> Figure:
    """Mutual workforce by sector (left) and against the one-million ambition on a log scale (right)."""
    fig = Figure(figsize=(11, 4.5), constrained_layout=True)
    left, right = fig.subplots(1, 2)
    for label, column in SECTOR_COLUMNS.items():
        fan(left, national, column, label, SECTOR_COLOURS[label])
        fan(right, national, column, label, SECTOR_COLOURS[label])
    left.set_ylabel("staff in public service mutuals")
    left.set_title("Mutual workforce (median, 5-95% across replications)")
    left.legend(loc="upper left", frameon=False)
    left.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    right.axhline(target, color="#CC79A7", ls="--", lw=1.5, label=f"ambition: {target:,.0f}")
    right.set_yscale("log")
    right.set_ylim(1_000, target * 2)
    right.set_title("Against the one-million ambition (log scale)")
    right.legend(loc="lower right", frameon=False, fontsize=8)
    right.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    for ax in (left, right):
        ax.set_xlabel("financial year (start)")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def modes_figure(national: pd.DataFrame, services: tuple[str, ...], modes: tuple[str, ...]) -> Figure:
    """Median number of services in each delivery mode, one panel per service."""
    fig = Figure(figsize=(4 * len(services), 3.8), constrained_layout=True)
    axes = fig.subplots(1, len(services), squeeze=False)[0]
    for ax, service in zip(axes, services, strict=True):
        med = national.groupby("year")[[f"n_{service}_{m}" for m in modes]].median()
        med.columns = list(modes)
        ax.stackplot(med.index, med.T.to_numpy(), labels=modes, alpha=0.85)
        ax.set_title(service.replace("_", " "))
        ax.set_xlabel("financial year (start)")
        ax.set_ylabel("services (median across replications)")
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=8)
    return fig


def save(fig: Figure, path) -> None:
    """Write a figure as PNG at 150 dpi."""
    fig.savefig(path, dpi=150)
    plt.close("all")
