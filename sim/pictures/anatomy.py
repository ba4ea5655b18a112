"""The headline's anatomy as a chart: mutual staff and spending by where the mutuals came from.

Two panels (staff, spending), each a stack of the medians across replications of the three parts
(:data:`sim.experiments.anatomy.PARTS`: the start year's mutuals, local-government mutuals formed since,
mutuals outside local government formed since), with the 5-95% band of the total.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.pictures import style

PART_COLUMNS = {
    "staff": ("mutual_staff_stock", "mutual_staff_lg_new", "mutual_staff_outside_new"),
    "spend": ("mutual_spend_stock_gbp_m", "mutual_spend_lg_new_gbp_m", "mutual_spend_outside_new_gbp_m"),
}
TOTALS = {"staff": "mutual_staff", "spend": "mutual_spend_gbp_m"}
LABELS = (
    "mutuals of the start year, as they stand",
    "local-government mutuals formed since",
    "outside local government, formed since",
)
COLOURS = ("#9e9e9e", "#1b7837", "#2166ac")


def anatomy_figure(national: pd.DataFrame, scenario: str = "") -> Figure:
    """Stacked medians of the three parts of mutual staff (left) and spending (right), by year."""
    fig = style.ChartFigure(figsize=(11, 4.8), constrained_layout=True)
    axes = fig.subplots(1, 2)
    years = np.array(sorted(national["year"].unique()))
    g = national.groupby("year")
    last = int(years[-1])
    units = ("staff (headcount)", "GBP million a year, cash")
    for ax, what, unit in zip(axes, ("staff", "spend"), units, strict=True):
        parts = [g[c].median().to_numpy() for c in PART_COLUMNS[what]]
        ax.stackplot(years, *parts, labels=LABELS, colors=COLOURS, alpha=0.85)
        total = g[TOTALS[what]]
        ax.plot(years, total.median(), color="black", lw=1.5, label="all mutuals: median")
        for q in (0.05, 0.95):
            ax.plot(years, total.quantile(q), color="black", lw=0.8, ls="--", label="all mutuals: 5% and 95%")
        shares = np.array([p[-1] for p in parts])
        shares = shares / shares.sum() if shares.sum() else shares
        words = " / ".join(f"{s:.0%}" for s in shares)
        name = "Mutual staff" if what == "staff" else "Mutual spending"
        ax.set_title(f"{name}, {style.year_label(last)}: {words}", fontsize=10)
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(style.THOUSANDS)
        style.year_axis(ax)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles[:5], labels[:5], loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    head = "What the headline rests on: where the mutuals came from (medians across replications)"
    fig.suptitle(f"{head}\nScenario: {scenario}" if scenario else head, fontsize=11)
    return fig
