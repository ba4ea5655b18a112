"""Global sensitivity of a sweep's metrics from SALib: Sobol indices and Morris screening.

Both read the design the sweep ran (recorded in its manifest) and the mean of each design point's
replications in the compared year, per arm.

- Sobol (``design.kind = "sobol"``): first order ``S1``, total order ``ST`` with their 95% bootstrap
  half-widths, and, with ``second_order``, the pairwise ``S2``. Convergence: the indices are computed
  again from the first half of the base samples (N/2; a Saltelli design's first N/2 blocks are the
  design for N/2); ``S1_half``/``ST_half`` and ``ST_change`` (ST at N minus at N/2) beside the bootstrap
  width show whether N was enough (``converged``: ``ST_change`` within the bootstrap half-width, or
  within 0.05).
- Morris (``design.kind = "morris"``): ``mu_star`` (mean absolute elementary effect), its confidence
  half-width, ``mu`` and ``sigma`` (interactions and non-linearity) per parameter.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

CONVERGED_TOLERANCE = 0.05
"""``ST`` may move by this much from N/2 to N (or by the bootstrap half-width, if larger) to count as
converged."""
SOBOL_COLUMNS = [
    "arm",
    "metric",
    "parameter",
    "tag",
    "S1",
    "S1_conf",
    "ST",
    "ST_conf",
    "S1_half",
    "ST_half",
    "ST_change",
    "converged",
]
S2_COLUMNS = ["arm", "metric", "parameter", "parameter_2", "S2", "S2_conf"]
MORRIS_COLUMNS = ["arm", "metric", "parameter", "tag", "mu_star", "mu_star_conf", "mu", "sigma"]


def _point_means(res: Any, year: int, metrics: list[str]) -> dict[str, pd.DataFrame]:
    """Per arm, the mean over replications of each metric at each design point, in point order."""
    design = res.sweep["design"]
    final = res.runs[res.runs["year"] == year]
    out = {}
    for arm, part in final.groupby("arm", sort=False):
        means = part.groupby("point")[metrics].mean().sort_index()
        if len(means) != design["n_points"]:
            missing = design["n_points"] - len(means)
            raise ValueError(
                f"arm {arm}: {missing} of {design['n_points']} {design['kind'].capitalize()} design points "
                "have no runs"
            )
        out[arm] = means
    return out


def _quiet(function, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return function(*args, **kwargs)


def sobol(res: Any, year: int, metrics: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(first and total order indices with the N/2 check, second-order indices) of a Sobol sweep.

    Both are empty unless the design is ``sobol``; the second is empty without ``second_order``.

    Raises:
        ValueError: design points are missing (runs failed or not done).
    """
    design = res.sweep["design"]
    if not design or design["kind"] != "sobol":
        return pd.DataFrame(columns=SOBOL_COLUMNS), pd.DataFrame(columns=S2_COLUMNS)
    from SALib.analyze import sobol as analyze

    problem, second = design["problem"], design["second_order"]
    k = problem["num_vars"]
    block = 2 * k + 2 if second else k + 2
    n = design["n_points"] // block
    rows, pairs = [], []
    for arm, means in _point_means(res, year, metrics).items():
        for metric in metrics:
            y = means[metric].to_numpy(dtype=float)
            si = _quiet(analyze.analyze, problem, y, calc_second_order=second, seed=design["seed"] or 0)
            half = (
                _quiet(analyze.analyze, problem, y[: (n // 2) * block], calc_second_order=second, seed=0)
                if n >= 4
                else None
            )
            for i, name in enumerate(problem["names"]):
                st, st_half = float(si["ST"][i]), float(half["ST"][i]) if half else np.nan
                change = st - st_half
                rows.append(
                    {
                        "arm": arm,
                        "metric": metric,
                        "parameter": name,
                        "tag": res.sweep["varied"][name]["tag"],
                        **{key: float(si[key][i]) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                        "S1_half": float(half["S1"][i]) if half else np.nan,
                        "ST_half": st_half,
                        "ST_change": change,
                        "converged": bool(abs(change) <= max(CONVERGED_TOLERANCE, float(si["ST_conf"][i]))),
                    }
                )
            if second:
                for i in range(k):
                    for j in range(i + 1, k):
                        pairs.append(
                            {
                                "arm": arm,
                                "metric": metric,
                                "parameter": problem["names"][i],
                                "parameter_2": problem["names"][j],
                                "S2": float(si["S2"][i, j]),
                                "S2_conf": float(si["S2_conf"][i, j]),
                            }
                        )
    return pd.DataFrame(rows, columns=SOBOL_COLUMNS), pd.DataFrame(pairs, columns=S2_COLUMNS)


def morris(res: Any, year: int, metrics: list[str]) -> pd.DataFrame:
    """Morris elementary effects of a Morris sweep (empty unless the design is ``morris``).

    The sample is drawn again from the design's recorded problem, trajectories, levels and seed (the
    same sample the sweep ran).

    Raises:
        ValueError: design points are missing (runs failed or not done).
    """
    design = res.sweep["design"]
    if not design or design["kind"] != "morris":
        return pd.DataFrame(columns=MORRIS_COLUMNS)
    from SALib.analyze import morris as analyze
    from SALib.sample import morris as sample

    problem = design["problem"]
    x = sample.sample(problem, design["samples"], num_levels=design["levels"], seed=design["seed"] or 0)
    rows = []
    for arm, means in _point_means(res, year, metrics).items():
        for metric in metrics:
            y = means[metric].to_numpy(dtype=float)
            si = _quiet(analyze.analyze, problem, x, y, num_levels=design["levels"], seed=design["seed"] or 0)
            for i, name in enumerate(problem["names"]):
                rows.append(
                    {
                        "arm": arm,
                        "metric": metric,
                        "parameter": name,
                        "tag": res.sweep["varied"][name]["tag"],
                        **{key: float(si[key][i]) for key in ("mu_star", "mu_star_conf", "mu", "sigma")},
                    }
                )
    return pd.DataFrame(rows, columns=MORRIS_COLUMNS)
