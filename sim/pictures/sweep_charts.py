"""Figures comparing a sweep's arms: fan charts, lever ranking, Sobol indices.

Each function returns a matplotlib :class:`~matplotlib.figure.Figure` (no pyplot, no GUI), drawn from
the tables of :mod:`sim.experiments.compare`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sim.pictures import style

MAX_PANELS = 12
BAND = style.BAND
REFERENCE = style.REFERENCE
POSITIVE, NEGATIVE = "#444444", "#AAAAAA"
"""Bars of effects above and below zero: greys, so they are not read as delivery modes."""
PAIRED = (
    "bars: median of the paired differences (arm minus baseline, same seed); "
    "whiskers: their 5th-95th percentile"
)


def arm_title(res: Any, name: str, width: int = 34) -> str:
    """An arm's name in words and, below it, its lever values (``support funding £10m a year``)."""
    changes = res.sweep["arms"].get(name) if res.grouping() and res.grouping()[0] == "arm" else None
    title = str(name).replace("_", " ")
    if changes is None:
        return title
    return title + "\n" + textwrap.fill(style.describe_changes(changes), width)


def unit(column: str) -> str:
    """The unit of a national column in words, for an axis: ``staff``, ``mutuals``, ``£m``..."""
    if column.endswith("_gbp_m"):
        return "£m"
    if column.startswith("mutual_staff") or column.endswith("_staff"):
        return "staff"
    if column.startswith("n_mutuals"):
        return "mutuals"
    if column == "share_of_target":
        return "share of the ambition"
    return style.measure_label(column)


def spread_text(res: Any, key: str) -> str:
    """What a panel's bands are taken across: replications, or design points and their replications."""
    design = res.sweep.get("design") or {}
    n_points = int(design.get("n_points") or 1)
    n_rep = int(res.runs["replication"].nunique())
    if key == "label" or n_points <= 1:
        return f"across {n_rep} replications"
    kind = {"sobol": "Sobol", "morris": "Morris", "lhs": "Latin hypercube"}.get(design.get("kind"), "design")
    return f"across {n_points} {kind} design points ({n_rep} replication{'s' * (n_rep > 1)} each)"


def fan_figure(res: Any, column: str = "mutual_staff", year: int | None = None) -> Figure:
    """Fan chart of ``column`` per arm: median, 50% and 90% bands across replications and design points.

    Each panel names its arm and lever values; the baseline arm's median is drawn dashed in every other
    panel. The axis starts at zero, so effects look their size. At most 12 panels (the first arms).
    """
    grouping = res.grouping()
    runs = res.runs if year is None else res.runs[res.runs["year"] <= year]
    key, reference = (grouping[0], grouping[1]) if grouping else ("arm", None)
    names = list(dict.fromkeys(runs[key]))
    shown = names[:MAX_PANELS]
    ncols = min(len(shown), 4)
    nrows = -(-len(shown) // ncols)
    width = max(3.6 * ncols, 7.5)
    fig = style.ChartFigure(figsize=(width, 3.3 * nrows + 1.0), constrained_layout=True)
    axes = np.atleast_1d(fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False)).ravel()
    ref_median = runs[runs[key] == reference].groupby("year")[column].median() if reference else None
    for ax, name in zip(axes, shown, strict=False):
        g = runs[runs[key] == name].groupby("year")[column]
        years = np.array(sorted(g.groups))
        q = g.quantile([0.05, 0.25, 0.5, 0.75, 0.95]).unstack()
        ax.fill_between(years, q[0.05], q[0.95], color=BAND, alpha=0.18, lw=0, label="90% band")
        ax.fill_between(years, q[0.25], q[0.75], color=BAND, alpha=0.35, lw=0, label="50% band")
        ax.plot(years, q[0.5], color=BAND, lw=2, label="median")
        if ref_median is not None and name != reference:
            ax.plot(
                ref_median.index,
                ref_median.to_numpy(),
                color=REFERENCE,
                ls="--",
                lw=1.2,
                label=f"{str(reference).replace('_', ' ')} arm median",
            )
        ax.set_title(arm_title(res, name), fontsize=8)
        ax.grid(alpha=0.3)
        ax.yaxis.set_major_formatter(style.THOUSANDS)
        style.year_axis(ax)
    axes[0].autoscale_view()  # over every panel's data (the axes share y), then from zero
    axes[0].set_ylim(bottom=0)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    handles, labels = {}, {}
    for ax in axes[: len(shown)]:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
            labels.setdefault(lab, lab)
    fig.legend(
        handles.values(), labels.values(), loc="outside lower center", ncols=4, fontsize=8, frameon=False
    )
    for ax in axes[max(len(shown) - ncols, 0) : len(shown)]:
        ax.set_xlabel("financial year (start)", fontsize=8)
    fig.supylabel(style.measure_label(column))
    more = f" (first {MAX_PANELS} of {len(names)})" if len(names) > len(shown) else ""
    dashed = f"; dashed: the {str(reference).replace('_', ' ')} arm's median" if reference else ""
    fig.suptitle(
        textwrap.fill(
            f"{style.measure_label(column).capitalize()} by arm{more}: median, 50% and 90% bands "
            f"{spread_text(res, key)}{dashed}",
            int(width * 11),
        ),
        fontsize=10,
    )
    return fig


def _arm_label(row: pd.Series) -> str:
    name = str(row["arm"]).replace("_", " ")
    changes = style.parse_changes(row.get("changes", ""))
    return f"{name}\n({style.describe_changes(changes)})" if changes else name


def ranking_figure(effects: pd.DataFrame, year: int) -> Figure:
    """Horizontal bars of each arm's median paired effect, with its 90% interval, one panel per metric.

    Arms are sorted by their median effect on the first metric and named with their lever values. The
    whiskers are the 5th-95th percentiles of the paired differences (arm minus baseline, same seed).
    """
    metrics = list(dict.fromkeys(effects["metric"]))
    first = effects[effects["metric"] == metrics[0]].sort_values("median")
    order = list(first["arm"])
    labels = [_arm_label(r) for _, r in first.iterrows()]
    reference = str(effects["reference"].iloc[0]).replace("_", " ") if "reference" in effects else "baseline"
    fig = style.ChartFigure(
        figsize=(3.8 * len(metrics) + 3.2, 0.6 * len(order) + 2.0), constrained_layout=True
    )
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(order))
    for ax, metric in zip(axes, metrics, strict=True):
        part = effects[effects["metric"] == metric].set_index("arm").loc[order]
        med = part["median"].to_numpy()
        err = np.vstack([med - part["p05"].to_numpy(), part["p95"].to_numpy() - med])
        colours = np.where(med >= 0, POSITIVE, NEGATIVE)
        ax.barh(ypos, med, color=colours, alpha=0.8)
        ax.errorbar(med, ypos, xerr=np.abs(err), fmt="none", ecolor="black", capsize=3, lw=1)
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(style.measure_label(metric).capitalize(), fontsize=10)
        ax.set_xlabel(f"difference from the {reference} arm ({unit(metric)})", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(style.THOUSANDS)
        ax.tick_params(axis="x", labelsize=8)
    axes[0].set_yticks(ypos, labels, fontsize=8)
    fig.suptitle(f"Effect of each arm against the {reference} arm in {style.year_label(year)}", fontsize=11)
    fig.supxlabel(PAIRED, fontsize=8, color="#444444")
    return fig


def sobol_figure(indices: pd.DataFrame, year: int) -> Figure:
    """First (S1) and total (ST) order Sobol indices with confidence intervals, one panel per metric.

    Drawn for the first arm in the table; parameters by their readable names. A note explains that an estimate
    or whisker below 0 or above 1 is sampling noise (true indices are between 0 and 1).
    """
    arm = indices["arm"].iloc[0]
    part = indices[indices["arm"] == arm]
    metrics = list(dict.fromkeys(part["metric"]))
    params = list(dict.fromkeys(part["parameter"]))
    fig = style.ChartFigure(
        figsize=(3.8 * len(metrics) + 3.0, 0.5 * len(params) + 2.2), constrained_layout=True
    )
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(params))
    for ax, metric in zip(axes, metrics, strict=True):
        m = part[part["metric"] == metric].set_index("parameter").loc[params]
        for offset, (key, colour, name) in zip(
            (-0.2, 0.2),
            (("S1", "#0072B2", "first order (S1)"), ("ST", "#E69F00", "total order (ST)")),
            strict=True,
        ):
            ax.barh(ypos + offset, m[key], height=0.38, color=colour, label=name)
            ax.errorbar(
                m[key], ypos + offset, xerr=m[f"{key}_conf"], fmt="none", ecolor="black", capsize=2, lw=0.8
            )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_title(style.measure_label(metric).capitalize(), fontsize=10)
        ax.set_xlabel("share of the output's variance", fontsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, [style.param_label(p) for p in params], fontsize=8)
    axes[0].invert_yaxis()
    axes[-1].legend(frameon=False, fontsize=8)
    low = (part["S1"] - part["S1_conf"] < 0) | (part["S1"] < 0)
    high = (part[["S1", "ST"]].to_numpy() + part[["S1_conf", "ST_conf"]].to_numpy() > 1).any(axis=1)
    note = "whiskers: 95% confidence (bootstrap)"
    if low.any() or high.any():
        note += "; true indices lie between 0 and 1: an estimate or whisker past them is sampling noise"
    arm_name = "" if len(indices["arm"].unique()) == 1 else f", arm {str(arm).replace('_', ' ')}"
    fig.suptitle(
        f"Which uncertainties matter in {style.year_label(year)}: Sobol indices{arm_name}", fontsize=11
    )
    fig.supxlabel(note, fontsize=8, color="#444444")
    return fig


def morris_figure(morris: pd.DataFrame, year: int) -> Figure:
    """Morris screening, one panel per metric: each parameter's mu* as a bar and sigma as a diamond.

    mu* is the mean absolute elementary effect (how far one step of the parameter moves the output), with
    its 95% confidence as a whisker; sigma the spread of those effects (non-linearity, interactions).
    Drawn for the first arm in the table, parameters by name, the largest mu* of the first metric on top.
    """
    arm = morris["arm"].iloc[0]
    part = morris[morris["arm"] == arm]
    metrics = list(dict.fromkeys(part["metric"]))
    first = part[part["metric"] == metrics[0]].sort_values("mu_star")
    params = list(first["parameter"])
    fig = style.ChartFigure(
        figsize=(3.8 * len(metrics) + 3.0, 0.45 * len(params) + 2.2), constrained_layout=True
    )
    axes = fig.subplots(1, len(metrics), sharey=True, squeeze=False)[0]
    ypos = np.arange(len(params))
    for ax, metric in zip(axes, metrics, strict=True):
        m = part[part["metric"] == metric].set_index("parameter").loc[params]
        ax.barh(
            ypos,
            m["mu_star"],
            height=0.55,
            color=BAND,
            alpha=0.85,
            label="mu*: how far one step moves the output (whisker: 95% confidence)",
        )
        ax.errorbar(m["mu_star"], ypos, xerr=m["mu_star_conf"], fmt="none", ecolor="black", capsize=2, lw=0.8)
        ax.plot(
            m["sigma"],
            ypos,
            "D",
            color="#E69F00",
            ms=5,
            label="sigma: spread of those effects (large: non-linear or interacting)",
        )
        ax.set_xlim(left=0)
        ax.set_title(style.measure_label(metric).capitalize(), fontsize=10)
        ax.set_xlabel(f"effect of one step of the parameter ({unit(metric)})", fontsize=8)
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4))
        ax.xaxis.set_major_formatter(style.THOUSANDS)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(ypos, [style.param_label(p) for p in params], fontsize=8)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, frameon=False, fontsize=8)
    arm_name = "" if len(morris["arm"].unique()) == 1 else f", arm {str(arm).replace('_', ' ')}"
    fig.suptitle(
        f"Which uncertainties matter in {style.year_label(year)}: Morris screening{arm_name}", fontsize=11
    )
    return fig


def save(fig: Figure, path: str | Path) -> None:
    """Write a figure as PNG at 150 dpi."""
    fig.savefig(path, dpi=150)
