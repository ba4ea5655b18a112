"""Projections with parameter uncertainty: runs and sweeps drawing parameter sets from a posterior.

``python -m sim run SCENARIO --posterior FILE`` and ``python -m sim sweep SWEEP --posterior FILE``.
Replications come in groups of ``per_draw`` (default 4): group d (replications d*K .. d*K + K - 1) runs
with posterior draw d, a particle drawn by weight with a Philox stream keyed by the run's base seed
(:func:`draw_rows`), so the same seed gives the same draws, draw d does not depend on how many draws
there are, and in a sweep every arm and design point uses the same draw for the same replication
(common random numbers). A design, arm or scenario that sets a parameter overrides the draw.

The parameters the calibration did not fit (candidates the targets do not inform, :func:`sim.evidence.abc.
candidates`) have the prior as their posterior: with ``unfitted="prior"`` (the default) each draw also
takes them from their priors, uniform over their plausible ranges, from a Philox stream keyed by the seed
and the draw (:func:`prior_values`, redrawn until the constraints between parameters hold), so the range
of a projection carries what the targets leave unknown as well as what they narrow; ``unfitted="defaults"``
keeps them at the registry's defaults.

The spread of a result then has two parts, separated by the law of total variance,
Var(Y) = Var(E[Y | θ]) + E[Var(Y | θ)], estimated as a one-way random-effects analysis of variance
(:func:`spread`): ``chance`` is the mean within-draw variance (ddof 1) and ``parameters`` the variance
of the draw means (ddof 1) less chance / K (at least 0).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.posterior_file import PosteriorError, read
from sim.inputs import params
from sim.inputs.scenario import Scenario

DEFAULT_PER_DRAW = 4
"""Replications per posterior draw: enough to separate chance from parameter uncertainty."""
SPREAD_COLUMNS = [
    "year",
    "measure",
    "n_draws",
    "per_draw",
    "mean",
    "total_variance",
    "parameter_variance",
    "chance_variance",
    "parameter_share",
]


@dataclass(frozen=True)
class Draws:
    """Posterior draws for a run or sweep.

    Attributes:
        path: the posterior file.
        sha256: its SHA-256 (a sweep resumed with another posterior is refused).
        per_draw: replications per draw.
        rows: the posterior row of each draw.
        values: each draw's parameter values.
    """

    path: str
    sha256: str
    per_draw: int
    rows: tuple[int, ...]
    values: tuple[dict[str, Any], ...]
    unfitted: str = "prior"
    prior_keys: tuple[str, ...] = ()

    def changes(self, replication: int) -> dict[str, Any]:
        """The parameter values of a replication's draw."""
        return self.values[replication // self.per_draw]

    def describe(self) -> dict[str, Any]:
        """What a manifest records (the draws follow from it and the seed)."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "per_draw": self.per_draw,
            "rows": list(self.rows),
            "unfitted": self.unfitted,
            "prior_parameters": list(self.prior_keys),
        }


def draw_rows(weights: np.ndarray, seed: int, n: int) -> np.ndarray:
    """``n`` particle indices drawn by weight; draw d is the same whatever ``n`` (one uniform per draw)."""
    key = int.from_bytes(hashlib.blake2b(f"{seed}:posterior".encode(), digest_size=8).digest(), "little")
    u = np.random.Generator(np.random.Philox(key=key)).random(n)
    cdf = np.cumsum(weights)
    return np.minimum(np.searchsorted(cdf / cdf[-1], u, side="right"), len(weights) - 1)


UNFITTED = ("prior", "defaults")
MAX_PRIOR_TRIES = 1000


def prior_values(keys: list[str], fixed: dict[str, Any], seed: int, draw: int) -> dict[str, Any]:
    """Draw ``draw``'s values of ``keys``, uniform over their plausible ranges, meeting every constraint.

    ``fixed`` are the draw's other values (the posterior's); the rest are the defaults. The stream is keyed
    by the seed and the draw, so a draw's values do not depend on how many draws there are.
    """
    reg = params.registry()
    key = int.from_bytes(hashlib.blake2b(f"{seed}:prior:{draw}".encode(), digest_size=8).digest(), "little")
    g = np.random.Generator(np.random.Philox(key=key))
    base = {**params.defaults(), **fixed}
    for _ in range(MAX_PRIOR_TRIES):
        out = {}
        for k in keys:
            lo, hi = reg[k].plausible
            x = lo + (hi - lo) * g.random()
            out[k] = int(np.floor(x + 0.5)) if reg[k].kind is int else float(x)
        if not params.check_constraints({**base, **out}):
            return out
    raise PosteriorError(f"no draw of the unfitted parameters met the constraints in {MAX_PRIOR_TRIES} tries")


def load_draws(
    path: str | Path,
    seed: int,
    replications: int,
    per_draw: int = DEFAULT_PER_DRAW,
    unfitted: str = "prior",
) -> Draws:
    """Draws for ``replications`` replications from the posterior file ``path``.

    ``unfitted``: ``prior`` draws the candidates the posterior does not hold from their priors (the module
    docstring), ``defaults`` keeps them at the registry's defaults.

    Raises:
        PosteriorError: the file is missing or not a posterior (one message naming it), ``per_draw`` is
            below 1, or ``unfitted`` is not one of :data:`UNFITTED`.
    """
    from sim.inputs.files import file_sha256

    if per_draw < 1:
        raise PosteriorError(f"--per-draw: must be at least 1, got {per_draw}")
    if unfitted not in UNFITTED:
        raise PosteriorError(f"--unfitted: {unfitted!r} is not one of {list(UNFITTED)}")
    frame = read(path)
    reg = params.registry()
    names = [c for c in frame.columns if c != "weight"]
    n_draws = -(-replications // per_draw)
    rows = draw_rows(frame["weight"].to_numpy(), seed, n_draws)
    prior_keys: list[str] = []
    if unfitted == "prior":
        from sim.evidence.abc import candidates

        prior_keys = [k for k in candidates() if k not in names]
    values = []
    for d, i in enumerate(rows):
        v = {k: frame[k].iloc[i].item() for k in names}
        v = {k: (round(x) if reg[k].kind is int else float(x)) for k, x in v.items()}
        values.append({**v, **prior_values(prior_keys, v, seed, d)} if prior_keys else v)
    return Draws(
        str(Path(path).resolve()),
        file_sha256(path),
        per_draw,
        tuple(int(i) for i in rows),
        tuple(values),
        unfitted,
        tuple(prior_keys),
    )


def run_with_draws(scenario: Scenario, draws: Draws, record_councils: bool = True, progress=None):
    """Run every replication of ``scenario`` with its posterior draw (one batched model per draw).

    Returns a :class:`sim.experiments.run.ScenarioResults`; replication r has the seed it has
    without a posterior (``scenario.seeds()[r]``), and its draw is ``r // draws.per_draw``.
    """
    from sim.experiments.run import gather

    K, n = draws.per_draw, scenario.replications
    parts = [slice(first, min(first + K, n)) for first in range(0, n, K)]

    def with_draw(first: int) -> Scenario:  # the scenario's own changes override the draw's values
        return scenario.with_changes({**draws.changes(first), **scenario.changes})

    return gather(scenario, parts, with_draw, record_councils, progress)


def case_groups(base: Scenario, changes: dict[str, Any], runs: list, draws: Draws | None):
    """(scenario, runs) for a sweep case's runs: one group without a posterior, else one per draw.

    ``runs`` are (run_id, case, replication, seed); the case's own changes override the draw's values.
    """
    if draws is None:
        return [(base.with_changes(changes), runs)]
    by_draw: dict[int, list] = {}
    for run in runs:
        by_draw.setdefault(run[2] // draws.per_draw, []).append(run)
    own = {**base.changes, **changes}  # the sweep's base scenario's and the case's own changes win
    return [(base.with_changes({**draws.values[d], **own}), rs) for d, rs in by_draw.items()]


def spread(national: pd.DataFrame, per_draw: int, measures: tuple[str, ...], group: str | None = None):
    """Variance of each measure by year split into parameter and chance parts (module docstring).

    Args:
        national: one row per replication and year (``replication`` and ``year`` columns).
        per_draw: replications per draw (replication r has draw r // per_draw).
        measures: columns to split.
        group: a further column to split by (a sweep's ``arm``), or None.
    """
    keys = ["year"] if group is None else [group, "year"]
    df = national[[*keys, "replication", *measures]].copy()
    df["draw"] = df["replication"] // per_draw
    rows = []
    for key, part in df.groupby(keys, sort=True):
        for m in measures:
            g = part.groupby("draw")[m]
            n = g.count()
            means, variances = g.mean(), g.var(ddof=1)
            full = n == per_draw
            chance = float(variances[full].mean()) if full.sum() and per_draw > 1 else float("nan")
            between = float(means.var(ddof=1)) if len(means) > 1 else float("nan")
            parameter = max(0.0, between - chance / per_draw) if np.isfinite(chance) else float("nan")
            total = parameter + chance
            row = dict(zip(keys, key if isinstance(key, tuple) else (key,), strict=True))
            rows.append(
                {
                    **row,
                    "measure": m,
                    "n_draws": len(means),
                    "per_draw": per_draw,
                    "mean": float(part[m].mean()),
                    "total_variance": total,
                    "parameter_variance": parameter,
                    "chance_variance": chance,
                    "parameter_share": parameter / total if total > 0 else float("nan"),
                }
            )
    cols = ([] if group is None else [group]) + SPREAD_COLUMNS
    return pd.DataFrame(rows, columns=cols)


def format_spread(table: pd.DataFrame) -> str:
    """The last year's split, one line per measure (and arm)."""
    last = table[table["year"] == table["year"].max()]
    lines = [f"spread in {int(last['year'].iloc[0])}: standard deviation from parameters and from chance"]
    for r in last.itertuples():
        arm = f"{r.arm}: " if "arm" in table else ""
        lines.append(
            f"  {arm}{r.measure}: mean {r.mean:,.0f}, sd {np.sqrt(r.total_variance):,.0f} = parameters "
            f"{np.sqrt(r.parameter_variance):,.0f} (share of variance {r.parameter_share:.0%}) and chance "
            f"{np.sqrt(r.chance_variance):,.0f}"
        )
    return "\n".join(lines)


HEADLINE = ("n_mutuals", "mutual_staff", "mutual_spend_gbp_m", "n_mutuals_lg", "mutual_staff_lg")


def write_posterior_tables(folder: Path, national: pd.DataFrame, draws: Draws) -> dict[str, Path]:
    """``posterior_draws.csv`` (each replication's draw and values) and ``posterior_spread.csv``."""
    reps = sorted(national["replication"].unique())
    table = pd.DataFrame(
        [
            {"replication": r, "draw": r // draws.per_draw, "posterior_row": draws.rows[r // draws.per_draw]}
            | draws.changes(r)
            for r in reps
        ]
    )
    files = {
        "posterior_draws": folder / "posterior_draws.csv",
        "posterior_spread": folder / "posterior_spread.csv",
    }
    table.to_csv(files["posterior_draws"], index=False)
    spread(national, draws.per_draw, HEADLINE).to_csv(files["posterior_spread"], index=False)
    return files
