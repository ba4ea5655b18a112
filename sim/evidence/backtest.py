"""Backtest: fit on what was known by 2012, predict 2013-2014; and leave one pattern out.

``python -m sim backtest`` (docs/calibration.md). Two kinds of test, each a row per predicted target:

- ``split``: ABC-SMC on the ``fit`` targets dated up to :data:`FIT_UNTIL` that the run can compute, then
  the posterior predictive of every computable target dated :data:`PREDICT_FROM` to 2014. With no
  computable target dated up to 2012 (a run starting in 2014) the fit is skipped and the prediction is the
  prior predictive, said so in the ``fitted_on`` column.
- ``lopo``: for each pattern of computable fit targets, ABC-SMC on all the others, then the predictive of
  the pattern left out.

The predictive of a target is the spread of its statistic over posterior draws (``replications`` model
seeds each) with the target's error model added (a normal error of sd sqrt(tolerance² + discrepancy²)
on its scale), so its 90% interval is for the observation. A target is covered if the interval holds
the observation (for ``upper``, if its low end is at most the bound; for ``lower``, if its high end is at
least the bound). The naive forecast (:func:`naive_forecast`) carries on the trend of the observations
of the same statistic dated :data:`TREND_FROM`-:data:`FIT_UNTIL` (the level if there is one); the skill
is 1 - |model error| / |naive error| on the target's scale, the model's forecast being the median.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.targets import Target, split_computable

FIT_UNTIL = 2012
PREDICT_FROM = 2013
TREND_FROM = 2010
LEVEL = 0.9
COLUMNS = [
    "test",
    "fitted_on",
    "name",
    "pattern",
    "statistic",
    "year",
    "kind",
    "observed",
    "pred_median",
    "pred_lo",
    "pred_hi",
    "covered",
    "naive",
    "naive_method",
    "error_model",
    "error_naive",
    "skill",
    "source",
]


def naive_forecast(target: Target, targets: tuple[Target, ...]) -> tuple[float, str]:
    """The naive forecast of ``target``: the 2010-12 trend of the same statistic carried on, or its level.

    Only observations dated before the target's own year count (a 2012 target is never its own forecast).
    """
    known = sorted(
        (
            t
            for t in targets
            if t.statistic == target.statistic and TREND_FROM <= t.year <= min(FIT_UNTIL, target.year - 1)
        ),
        key=lambda t: t.year,
    )
    if not known:
        return math.nan, f"none: no observation of {target.statistic} dated {TREND_FROM}-{FIT_UNTIL}"
    first, last = known[0], known[-1]
    if len(known) == 1 or first.year == last.year:
        return last.value, f"persistence of the {last.year} level ({last.name})"
    slope = (last.value - first.value) / (last.year - first.year)
    return last.value + slope * (target.year - last.year), f"trend {first.year}-{last.year} carried on"


def _scale(t: Target, discrepancy: float) -> float:
    return math.hypot(t.tolerance, discrepancy if t.scale == "log" else discrepancy * abs(t.value))


def with_error(t: Target, samples: np.ndarray, discrepancy: float, rng: np.random.Generator) -> np.ndarray:
    """Simulated statistics plus the target's observation error, back on the statistic's scale."""
    z = t.transform(samples) + rng.normal(0.0, _scale(t, discrepancy), size=len(samples))
    return np.expm1(z) if t.scale == "log" else z


def rows(
    test: str,
    fitted_on: str,
    predicted: tuple[Target, ...],
    predictive: dict[str, np.ndarray],
    targets: tuple[Target, ...],
) -> list[dict[str, Any]]:
    """One row per predicted target: its interval, coverage, naive forecast and skill (module docstring)."""
    out = []
    for t in predicted:
        s = np.asarray(predictive[t.name], dtype=float)
        lo, med, hi = np.quantile(s, [(1 - LEVEL) / 2, 0.5, (1 + LEVEL) / 2])
        if t.kind == "upper":
            covered = lo <= t.value
        elif t.kind == "lower":
            covered = hi >= t.value
        else:
            covered = lo <= t.value <= hi
        naive, method = naive_forecast(t, targets)
        y = float(t.transform(t.value))
        e_model = float(t.transform(med)) - y
        e_naive = float(t.transform(naive)) - y if math.isfinite(naive) else math.nan
        skill = 1 - abs(e_model) / abs(e_naive) if math.isfinite(e_naive) and e_naive != 0 else math.nan
        out.append(
            {
                "test": test,
                "fitted_on": fitted_on,
                "name": t.name,
                "pattern": t.pattern,
                "statistic": t.statistic,
                "year": t.year,
                "kind": t.kind,
                "observed": t.value,
                "pred_median": float(med),
                "pred_lo": float(lo),
                "pred_hi": float(hi),
                "covered": bool(covered),
                "naive": naive,
                "naive_method": method,
                "error_model": e_model,
                "error_naive": e_naive,
                "skill": skill,
                "source": t.source,
            }
        )
    return out


def predictive(
    scenario,
    targets: tuple[Target, ...],
    posterior: pd.DataFrame,
    *,
    seed: int,
    draws: int,
    replications: int,
    discrepancy: float,
) -> dict[str, np.ndarray]:
    """Each target's predictive sample: ``draws`` posterior particles by weight, ``replications`` each."""
    from sim.evidence.abc import simulate_stats_each

    rng = np.random.default_rng([seed, 7])
    w = posterior["weight"].to_numpy()
    names = [c for c in posterior.columns if c != "weight"]
    picks = rng.choice(len(w), size=draws, p=w / w.sum())
    samples: dict[str, list] = {t.name: [] for t in targets}
    for i in picks:
        seeds = [int(s) for s in rng.integers(0, 2**62, size=replications)]
        stats = simulate_stats_each(scenario, targets, {k: posterior[k].iloc[i] for k in names}, seeds)
        for t in targets:
            samples[t.name].extend(stats[t.name])
    return {t.name: with_error(t, np.asarray(samples[t.name]), discrepancy, rng) for t in targets}


def prior_sample(names: list[str], n: int, seed: int) -> pd.DataFrame:
    """``n`` equally weighted draws from the uniform priors over the plausible ranges."""
    from sim.inputs import params

    reg = params.registry()
    rng = np.random.default_rng([seed, 8])
    frame = pd.DataFrame({k: rng.uniform(*reg[k].plausible, size=n) for k in names})
    frame["weight"] = 1.0 / n
    return frame


def plan(targets: tuple[Target, ...], start_year: int, end_year: int) -> dict[str, Any]:
    """Which targets each test fits and predicts, and which are skipped (with the reason)."""
    usable, skipped = split_computable(targets, start_year, end_year)
    fit = tuple(t for t in usable if t.role == "fit")
    tests = [
        (
            "split",
            tuple(t for t in fit if t.year <= FIT_UNTIL),
            tuple(t for t in usable if PREDICT_FROM <= t.year <= 2014),
        )
    ]
    for pattern in dict.fromkeys(t.pattern for t in fit):
        tests.append(
            (
                f"lopo:{pattern}",
                tuple(t for t in fit if t.pattern != pattern),
                tuple(t for t in fit if t.pattern == pattern),
            )
        )
    return {"tests": tests, "fit": fit, "skipped": skipped}


WORDS = {
    "lg": "local-government",
    "asc": "adult social care",
    "msp": "support programme",
    "n": "",
    "per": "a",
    "points": "service points",
}


def target_words(name: str) -> str:
    """A target's name in words, e.g. ``council_asc_staff_change_2011_2013``.

    That one reads ``council adult social care staff change 2011-2013``.
    """
    words = [WORDS.get(w, w) for w in name.split("_")]
    text = " ".join(w for w in words if w)
    for _ in range(2):  # year ranges: "2010 2013" -> "2010-2013"
        text = re.sub(r"(\d{4}) (\d{4})", r"\1-\2", text)
    return text.replace("first year", "in the first year")


def figure(table: pd.DataFrame, targets: tuple[Target, ...], discrepancy: float):
    """Each prediction on the error scale of its target (0 = observed): 90% interval, median, naive.

    Two panels on one scale: the split test (fitted to 2010-2012, predicting 2013-2014) and the
    leave-one-pattern-out tests; targets named in words with their year.
    """
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    by_name = {t.name: t for t in targets}
    kinds = [
        ("split", "fitted to 2010-2012, predicting 2013-2014"),
        ("lopo", "each pattern left out in turn"),
    ]
    groups = [(title, table[table["test"].str.split(":").str[0] == k]) for k, title in kinds]
    groups = [(title, g) for title, g in groups if len(g)] or [("", table)]
    rows = max(len(g) for _, g in groups)
    fig = Figure(figsize=(6.8 * len(groups), 1.9 + 0.24 * max(rows, 1)), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(groups), sharex=True, squeeze=False)[0])
    for ax, (title, part) in zip(axes, groups, strict=True):
        labels = []
        for i, r in enumerate(part.itertuples()):
            t = by_name[r.name]
            y, s = float(t.transform(t.value)), _scale(t, discrepancy)

            def z(v: float, t: Target = t, y: float = y, s: float = s) -> float:
                return (float(t.transform(v)) - y) / s

            colour = "#1b7837" if r.covered else "#b2182b"
            ax.plot([z(r.pred_lo), z(r.pred_hi)], [i, i], color=colour, lw=3, solid_capstyle="butt")
            ax.plot([z(r.pred_median)], [i], "o", color="black", ms=4)
            if math.isfinite(r.naive):
                ax.plot([z(r.naive)], [i], "^", color="grey", ms=6)
            words = target_words(r.name)
            labels.append(words if re.search(r"\d{4}", words) else f"{words}, {r.year}")
        ax.axvline(0, color="black", lw=0.8)
        ax.set_yticks(range(len(part)), labels, fontsize=7.5)
        ax.set_ylim(len(part) - 0.5, -0.5)
        ax.set_xlabel("error in scaled tolerances (0 = observed)", fontsize=8)
        ax.tick_params(axis="x", labelsize=8)
        ax.grid(axis="x", alpha=0.3)
        covered = int(part["covered"].sum())
        ax.set_title(f"{title}\n{covered} of {len(part)} covered", fontsize=9)
    handles = [
        Line2D([], [], color="#1b7837", lw=3, label="90% interval covers the observation"),
        Line2D([], [], color="#b2182b", lw=3, label="90% interval misses it"),
        Line2D([], [], color="black", marker="o", ls="", ms=4, label="median prediction"),
        Line2D([], [], color="grey", marker="^", ls="", ms=6, label="naive forecast (2012 level carried on)"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=8, frameon=False)
    fig.suptitle("Backtest: the 90% predictive interval of each target not fitted", fontsize=10)
    return fig
