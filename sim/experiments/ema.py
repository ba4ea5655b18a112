"""The model for EMA Workbench: uncertainties and levers from the registry, batched runs, common seeds.

An optional extra: ``pip install "mutuals-sim[ema]"``. See docs/ema.md. ::

    from ema_workbench import perform_experiments
    from sim.experiments import ema

    model = ema.model(scenario="baseline", replications=10, outcomes=["mutual_staff", "n_mutuals_2016"])
    experiments, outcomes = perform_experiments(model, scenarios=200)

Names: EMA Workbench wants Python identifiers, so each dotted key is given with ``__`` for the dot
(``support.budget_gbp_m_per_year`` is ``support__budget_gbp_m_per_year``); :func:`key` and
:func:`name` map between them, and ``experiments.rename(columns=ema.key)`` restores the dotted keys.

Ranges: every uncertainty and calibrated parameter with a plausible range in the registry
(``python -m sim params --tag uncertainty``) is an uncertainty over that range; levers range over their
allowed bounds. Text parameters without choices (a file path) are left at the scenario's value.

Runs: each experiment runs the scenario with the sampled values for ``replications`` replications in one
batched model, with the scenario's seeds (``scenario.seeds()``), the same in every experiment (common random
numbers), so differences between experiments come from the parameters, not the draws. Results are
those of ``python -m sim sweep`` with the same values and seeds.

Outcomes (names of national.csv columns, ``python -m sim params`` for the rest):

- ``"mutual_staff"``: the column at the end year, mean across replications (a ``ScalarOutcome``);
- ``"mutual_staff_2018"``: the same at another year;
- ``series=["mutual_staff"]``: ``mutual_staff_series``, an ``ArrayOutcome`` of shape
  (replications, years), every replication's yearly values.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.inputs import params
from sim.inputs.scenario import Scenario, load_scenario

DEFAULT_OUTCOMES = ("mutual_staff", "n_mutuals", "mutual_spend_gbp_m", "mutual_staff_lg")
"""Outcomes when none are named: the headline columns at the end year, mean across replications."""
_YEAR = re.compile(r"^(?P<column>[a-z0-9_]+?)_(?P<year>20[0-9]{2})$")


IPYPARALLEL_WARNING = "ipyparallel not installed - IpyparalleEvaluator not available"
"""What EMA Workbench 3.0 warns on import when the optional ipyparallel is missing (this adapter does not
use it): silenced here, and only it, so notebooks and tests that fail on warnings can import the extra."""


def workbench() -> Any:
    """The ``ema_workbench`` module, imported without its warning that ipyparallel is missing.

    Call it (or :func:`model`) before ``from ema_workbench import ...``: once imported, the module does not
    warn again. Any other warning comes through.

    Raises:
        ImportError: EMA Workbench is not installed (``pip install "mutuals-sim[ema]"``).
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(IPYPARALLEL_WARNING), category=UserWarning)
        try:
            import ema_workbench
        except ImportError as exc:
            raise ImportError('EMA Workbench is not installed: pip install "mutuals-sim[ema]"') from exc
    return ema_workbench


PRIM_WARNING = "The inplace keyword in DataFrame.drop is deprecated"
"""What PRIM in EMA Workbench 3.0 warns under pandas 3 on every box search (its ``drop(inplace=True)``)."""


def prim(x: Any, y: Any, **kwargs: Any) -> Any:
    """``ema_workbench.analysis.prim.Prim(x, y, **kwargs)``, without PRIM's own pandas deprecation warning.

    ``x`` as :func:`inputs` gives it; any other warning comes through.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=re.escape(PRIM_WARNING))
        workbench()
        from ema_workbench.analysis import prim as ema_prim

        return ema_prim.Prim(x, y, **kwargs)


def name(key: str) -> str:
    """The EMA Workbench name of a dotted key: ``a.b`` is ``a__b``."""
    return key.replace(".", "__")


def key(ema_name: str) -> str:
    """The dotted key of an EMA Workbench name (names that are not parameters are returned as they are)."""
    dotted = ema_name.replace("__", ".")
    return dotted if dotted in params.registry() else ema_name


@dataclass(frozen=True)
class Outcome:
    """One outcome: a national column at a year (mean across replications), or its series."""

    name: str
    column: str
    year: int | None = None
    series: bool = False


def _outcomes(
    outcomes: Sequence[str], series: Sequence[str], columns: set[str], end_year: int, start_year: int
) -> list[Outcome]:
    out = []
    for text in outcomes:
        match = _YEAR.match(text)
        column, year = (
            (match["column"], int(match["year"])) if match and text not in columns else (text, None)
        )
        if column not in columns:
            raise ValueError(
                f"outcome {text!r}: {column!r} is not a national column; known: {sorted(columns)}"
            )
        if year is not None and not start_year <= year <= end_year:
            raise ValueError(f"outcome {text!r}: year {year} is outside {start_year}-{end_year}")
        out.append(Outcome(text, column, year))
    for column in series:
        if column not in columns:
            raise ValueError(f"series {column!r}: not a national column; known: {sorted(columns)}")
        out.append(Outcome(f"{column}_series", column, series=True))
    return out


class Runner:
    """The function EMA Workbench calls: sampled values in, outcomes out (picklable, for its evaluators).

    Args:
        scenario: the resolved base scenario.
        seeds: the seeds of every experiment's replications.
        outcomes: what to return.
    """

    def __init__(self, scenario: Scenario, seeds: Sequence[int], outcomes: Sequence[Outcome]):
        self.scenario, self.seeds, self.outcomes = scenario, list(seeds), list(outcomes)

    def __call__(self, **values: Any) -> dict[str, Any]:
        """Run one experiment: ``values`` by EMA name (uncertainties, levers and constants)."""
        from sim.experiments.sweep import simulate_batch

        changes = {key(k): params.plain(v) for k, v in values.items()}
        scenario = self.scenario.with_changes(changes)
        columns = simulate_batch(scenario, self.seeds)
        out: dict[str, Any] = {}
        for o in self.outcomes:
            values_ = np.asarray(columns[o.column], dtype=float)
            if o.series:
                out[o.name] = values_
            else:
                year = scenario.end_year if o.year is None else o.year
                out[o.name] = float(values_[:, year - scenario.start_year].mean())
        return out


def _parameter(spec: params.ParamSpec, use_plausible: bool) -> Any:
    ema = workbench()

    n = name(spec.key)
    if spec.kind is bool:
        return ema.BooleanParameter(n)
    if spec.choices is not None:
        choices = spec.plausible if use_plausible and spec.plausible else spec.choices
        return ema.CategoricalParameter(n, list(choices))
    lo, hi = spec.plausible if use_plausible and spec.plausible else (spec.min, spec.max)
    if spec.kind is int:
        return ema.IntegerParameter(n, int(lo), int(hi))
    return ema.RealParameter(n, float(lo), float(hi))


def model(
    scenario: str | Path | Scenario = "baseline",
    replications: int | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    series: Sequence[str] = (),
    uncertainties: Sequence[str] | None = None,
    levers: Sequence[str] | None = (),
    end_year: int | None = None,
    model_name: str = "mutuals",
) -> Any:
    """An EMA Workbench ``Model`` of a scenario.

    Args:
        scenario: a scenario file, a scenario shipped with the package by name (``"baseline"``), or a
            resolved :class:`~sim.inputs.scenario.Scenario`.
        replications: replications per experiment (default: the scenario's).
        outcomes: national columns at the end year (``"mutual_staff"``) or at a year
            (``"mutual_staff_2018"``), each the mean across replications.
        series: national columns returned as (replications, years) arrays, named ``<column>_series``.
        uncertainties: dotted keys to vary as uncertainties (default: every uncertainty and calibrated
            parameter with a plausible range), over their plausible ranges.
        levers: dotted keys of levers to vary over their allowed bounds (default none; None: every lever).
        end_year: last year simulated (default: the scenario's).
        model_name: the EMA model's name (an identifier).

    Returns:
        An ``ema_workbench.Model``; its ``uncertainties`` and ``levers`` carry EMA names (``a__b``).

    Raises:
        ImportError: EMA Workbench is not installed (``pip install "mutuals-sim[ema]"``).
    """
    ema = workbench()
    sc = scenario if isinstance(scenario, Scenario) else load_scenario(_scenario_path(scenario))
    run: dict[str, int] = {}
    if replications is not None:
        run["replications"] = replications
    if end_year is not None:
        run["end_year"] = end_year
    sc = sc.with_changes({}, **run) if run else sc
    reg = params.registry()
    if uncertainties is None:
        uncertainties = [
            k for k, s in reg.items() if s.tag in params.SAMPLED_TAGS and s.plausible is not None
        ]
    if levers is None:
        levers = [k for k, s in reg.items() if s.tag == "lever"]
    unknown = [k for k in (*uncertainties, *levers) if k not in reg]
    if unknown:
        raise ValueError(f"unknown parameters {unknown}; see `python -m sim params`")
    from sim.experiments.sweep import simulate_batch

    columns = set(simulate_batch(sc.with_changes({}, end_year=sc.start_year + 1), sc.seeds()[:1]))
    wanted = _outcomes(outcomes, series, columns, sc.end_year, sc.start_year)
    m = ema.Model(model_name, function=Runner(sc, sc.seeds(), wanted))
    m.uncertainties = [_parameter(reg[k], use_plausible=True) for k in uncertainties]
    m.levers = [_parameter(reg[k], use_plausible=False) for k in levers]
    m.outcomes = [ema.ArrayOutcome(o.name) if o.series else ema.ScalarOutcome(o.name) for o in wanted]
    return m


def _scenario_path(scenario: str | Path) -> Path:
    """A scenario file, or a scenario shipped with the package, by name."""
    from sim.inputs.shipped import find_scenario

    return find_scenario(scenario)


def inputs(experiments: Any, model: Any) -> Any:
    """The experiments' sampled uncertainties and levers as numbers, ready for feature scoring and PRIM.

    Integers become floats and a choice or a boolean its position among the parameter's categories
    (``funding__path``: 0 ``data``, 1 ``flat``): PRIM in EMA Workbench 3.0 writes fractional limits and
    sets of categories into the input table, which pandas 3 refuses ("Invalid value ... for dtype").
    """
    ema = workbench()

    x = experiments[[p.name for p in (*model.uncertainties, *model.levers)]].copy()
    for p in (*model.uncertainties, *model.levers):
        if isinstance(p, ema.CategoricalParameter | ema.BooleanParameter):
            order = {c.value if hasattr(c, "value") else c: i for i, c in enumerate(p.categories)}
            x[p.name] = x[p.name].map(lambda v, order=order: order[params.plain(v)]).astype(float)
        else:
            x[p.name] = x[p.name].astype(float)
    return x
