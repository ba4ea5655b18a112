"""Running a scenario: replications with explicit seeds, gathered into tidy tables.

Notebook use::

    from sim import load_scenario
    from sim import run_scenario
    res = run_scenario(load_scenario("scenarios/baseline.toml"))
    res.national.groupby("year").mutual_staff.median()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.inputs.scenario import Scenario
from sim.model import MAX_BATCH, DivestmentModel, batch_slices

PROGRESS_BATCH = 8
"""Smallest batch of replications when progress is shown (smaller batches run slower per replication)."""


@dataclass
class ScenarioResults:
    """Results of all replications of one scenario.

    Attributes:
        scenario: the resolved scenario.
        seeds: the seed of each replication, in order.
        national: one row per year and replication (columns in docs/outputs.md).
        councils: one row per council, service part, year and replication (None if not recorded); its
            labels (``ons_code``, ``service``, ``part``, ``mode``) are categoricals, as the table has
            millions of rows (``.astype(str)`` for string operations).
        decisions: the decision log, one row per appraisal or transition (None if not recorded).
        warnings: messages from the model (for example an inconsistent starting state).
    """

    scenario: Scenario
    seeds: list[int]
    national: pd.DataFrame
    councils: pd.DataFrame | None
    decisions: pd.DataFrame | None
    warnings: list[str]


def run_batch(
    scenario: Scenario,
    seeds: list[int],
    record_councils: bool = True,
    each_year: Callable[[float], None] | None = None,
) -> DivestmentModel:
    """Run replications with ``seeds`` together in one model (results identical to runs one by one).

    Args:
        scenario: the resolved scenario.
        seeds: one per replication.
        record_councils: keep the council table and the decision log.
        each_year: called after each simulated year with the share of the years done (for progress);
            the model steps as Mesa's runners step it (``step`` while ``running``), as ``run`` does.
    """
    model = DivestmentModel(scenario, seeds=seeds, record_councils=record_councils)
    if each_year is None:
        return model.run()
    years = max(scenario.end_year - model.year, 1)
    while model.running:
        model.step()
        each_year(min(1.0, 1 - (scenario.end_year - model.year) / years))
    return model


def _tag(df: pd.DataFrame, first: int, seeds: list[int]) -> pd.DataFrame:
    """Replace a batch's ``batch_index`` (absent for one replication) by replication and seed columns."""
    batch = df.pop("batch_index").to_numpy() if "batch_index" in df else np.zeros(len(df), dtype=np.int64)
    df.insert(1, "replication", first + batch)
    df.insert(2, "seed", np.asarray(seeds, dtype=np.int64)[batch])
    return df


def run_scenario(
    scenario: Scenario,
    record_councils: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ScenarioResults:
    """Run every replication of ``scenario`` (seeds ``scenario.seeds()``) in this process.

    Replications run together, up to :data:`sim.model.MAX_BATCH` in one model; each gives exactly the
    results it gives run alone.

    Args:
        scenario: the resolved scenario.
        record_councils: also gather the council table and the decision log.
        progress: called with (replications done, replications in all) as the replications run: after
            each simulated year of each batch, so ``done`` may be fractional (a batch of 8 halfway
            through its years adds 4). Batches are then smaller (about 20 of them, of 8 replications
            or more), so that progress moves. Results do not depend on batching.
    """
    seeds = scenario.seeds()
    size = MAX_BATCH if progress is None else min(MAX_BATCH, max(PROGRESS_BATCH, -(-len(seeds) // 20)))
    return gather(scenario, batch_slices(len(seeds), size), lambda first: scenario, record_councils, progress)


def gather(
    scenario: Scenario,
    parts: Iterable[slice],
    scenario_for: Callable[[int], Scenario],
    record_councils: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ScenarioResults:
    """Run ``scenario``'s replications batch by batch and gather their tables into one result.

    Args:
        scenario: the scenario the results belong to (its seeds are the replications' seeds).
        parts: consecutive slices of the replications, one batched model each.
        scenario_for: the scenario a batch runs, given its first replication (the same scenario, or one
            with a posterior draw's values: :func:`sim.experiments.posterior.run_with_draws`).
        record_councils: also gather the council table and the decision log.
        progress: as for :func:`run_scenario`, after each simulated year of each batch.
    """
    seeds = scenario.seeds()
    national, councils, decisions, warnings = [], [], [], []
    for part in parts:
        first, batch = part.start, seeds[part]

        def each_year(share: float, first: int = first, n: int = len(batch)) -> None:
            progress(first + share * n, len(seeds))

        model = run_batch(scenario_for(first), batch, record_councils, each_year if progress else None)
        national.append(_tag(model.national(), first, batch))
        if record_councils:
            councils.append(_tag(model.councils_frame(), first, batch))
            decisions.append(_tag(model.decisions_frame(), first, batch))
        warnings += [f"replication {first + r}: {w}" for r in range(len(batch)) for w in model.warnings_of(r)]
        model.release()
    return ScenarioResults(
        scenario=scenario,
        seeds=seeds,
        national=pd.concat(national, ignore_index=True),
        councils=pd.concat(councils, ignore_index=True) if record_councils else None,
        decisions=pd.concat(decisions, ignore_index=True) if record_councils else None,
        warnings=warnings,
    )


def summarise(national: pd.DataFrame, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Median and 90% range across replications, by year, of the headline columns."""
    columns = columns or (
        "n_mutuals",
        "mutual_staff",
        "mutual_spend_gbp_m",
        "n_mutuals_lg",
        "mutual_staff_lg",
        "mutual_spend_lg_gbp_m",
        "share_of_target",
        "mutual_staff_stock",
        "mutual_staff_lg_new",
        "mutual_staff_outside_new",
        "mutual_spend_stock_gbp_m",
        "mutual_spend_lg_new_gbp_m",
        "mutual_spend_outside_new_gbp_m",
    )
    g = national.groupby("year")[list(columns)]
    out = pd.concat({"median": g.median(), "p05": g.quantile(0.05), "p95": g.quantile(0.95)}, axis=1)
    return out.swaplevel(axis=1).sort_index(axis=1, level=0, sort_remaining=False)
