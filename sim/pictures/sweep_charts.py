"""Figures comparing a sweep's arms: fan charts, lever ranking, Sobol indices.

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` (no pyplot, no GUI), drawn from
the tables of :mod:`sim.experiments.compare`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import StrMethodFormatter

from sim.model.outcomes import METRICS

MAX_PANELS = 12
BAND = "#0072B2"
REFERENCE = "#555555"


def fan_figure(res: Any, column: str = "mutual_staff", year: int | None = None) -> Figure:
    """Fan chart of ``column`` per arm: median, 50% and 90% bands across replications and design points.

    The baseline arm's median is drawn dashed in every panel. At most 12 panels (the first arms).
    """
    grouping = res.grouping()
    runs = res.runs if year is None else res.runs[res.runs["year"] <= year]
    key, reference = (grouping[0], grouping[1]) if grouping else ("arm", None)
    names = list(dict.fromkeys(runs[key]))
    shown = names[:MAX_PANELS]
    ncols = min(len(shown), 4)
    nrows = -(-len(shown) // ncols)
    fig = Figure(figsize=(3.6 * ncols, 2.9 * nrows + 0.6), constrained_layout=True)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
    ref_median = runs[runs[key] == reference].groupby("year")[column].median() if reference else None
    for ax, name in zip(axes, shown, strict=False):
        g = runs[runs[key] == name].groupby("year")[column]
        years = np.array(sorted(g.groups))
        q = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        ax.fill_between(years, q[0.05], q[0.95], color=BAND, alpha=0.18, lw=0, label="90%")
        ax.fill_between(years, q[0.25], q[0.75], color=BAND, alpha=0.35, lw=0, label="50%")
        ax.plot(years, q[0.5], color=BAND, lw=2, label="median")
        if ref_median is not None and name != reference:
            ax.plot(
                ref_median.index,
                ref_median.to_numpy(),
                color=REFERENCE,
                ls="--",
                lw=1.2,
                label=str(reference),
            )
        ax.set_title(str(name), fontsize=9)
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    axes[0].legend(fontsize=7, frameon=False, loc="upper left")
    fig.supxlabel("financial year (start)")
    fig.supylabel(METRICS.get(column, column))
    more = f" (first {MAX_PANELS} of {len(names)})" if len(names) > len(shown) else ""
    fig.suptitle(f"{METRICS.get(column, column).capitalize()} by arm: median, 50% and 90% bands{more}")
    return fig


def ranking_figure(effects: pd.DataFrame, year: int) -> Figure:
    """Horizontal bars of each arm's median paired effect, with its 90% interval, one panel per metric.

    Arms are sorted by their median effect on the first metric.
    """
    metrics = list(dict.fromkeys(effects["metric"]))
    first = effects[effects["metric"] == metrics[0]].sort_values("median")
    order = list(first["arm"])
    fig = Figure(figsize=(4.2 * len(metrics) + 1.5, 0.45 * len(order) + 1.6), constrained_layout=True)
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(order))
    for ax, metric in zip(axes, metrics, strict=True):
        part = effects[effects["metric"] == metric].set_index("arm").loc[order]
        med = part["median"].to_numpy()
        err = np.vstack([med - part["p05"].to_numpy(), part["p95"].to_numpy() - med])
        colours = np.where(med >= 0, "#009E73", "#D55E00")
        ax.barh(ypos, med, color=colours, alpha=0.8)
        ax.errorbar(med, ypos, xerr=np.abs(err), fmt="none", ecolor="black", capsize=3, lw=1)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(f"{METRICS.get(metric, metric)}", fontsize=10)
        ax.grid(axis="x", alpha=0.3)
        ax.xaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes[0].set_yticks(ypos, [str(a) for a in order])
    fig.suptitle(f"Effect against the baseline in {year}: median of paired differences, 90% interval")
    return fig


def sobol_figure(indices: pd.DataFrame, year: int) -> Figure:
    """First (S1) and total (ST) order Sobol indices with confidence intervals, one panel per metric.

    Drawn for the first arm in the table.
    """
    arm = indices["arm"].iloc[0]
    part = indices[indices["arm"] == arm]
    metrics = list(dict.fromkeys(part["metric"]))
    params = list(dict.fromkeys(part["parameter"]))
    fig = Figure(figsize=(4.2 * len(metrics) + 2.5, 0.5 * len(params) + 1.8), constrained_layout=True)
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(params))
    for ax, metric in zip(axes, metrics, strict=True):
        m = part[part["metric"] == metric].set_index("parameter").loc[params]
        for offset, (key, colour) in zip((-0.2, 0.2), (("S1", "#0072B2"), ("ST", "#E69F00")), strict=True):
            ax.barh(ypos + offset, m[key], height=0.38, color=colour, label=key)
            ax.errorbar(
                m[key], ypos + offset, xerr=m[f"{key}_conf"], fmt="none", ecolor="black", capsize=2, lw=0.8
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(METRICS.get(metric, metric), fontsize=10)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, params)
    axes[0].invert_yaxis()
    axes[-1].legend(frameon=False, fontsize=8)
    fig.suptitle(f"Sobol indices in {year} (arm {arm}): first and total order, 95% confidence")
    return fig


def save(fig: Figure, path: str | Path) -> None:
    """Write a figure as PNG at 150 dpi."""
    fig.savefig(path, dpi=150)
