"""The model for EMA Workbench: uncertainties and levers from the registry, batched runs, common seeds.

An optional extra: ``pip install "mutuals-sim[ema]"``. See docs/ema.md. ::

    from ema_workbench import perform_experiments
    from sim.experiments import ema

    model = ema.model(scenario="baseline", replications=10, outcomes=["mutual_staff", "n_mutuals_2016"])
    experiments, outcomes = perform_experiments(model, scenarios=ema.scenarios(model, 200, seed=1))

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

Outcomes, their directions (mutual staff up, support cost down) and constraints:
:mod:`sim.experiments.ema_outcomes`. Seeded scenarios, policies and feature scores: :func:`scenarios`,
:func:`policies`, :func:`feature_scores`.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from sim.experiments import ema_outcomes
from sim.experiments.ema_outcomes import SUPPORT_COST, Outcome
from sim.inputs import params
from sim.inputs.scenario import Scenario, load_scenario

DEFAULT_OUTCOMES = ("mutual_staff", "n_mutuals", "mutual_spend_gbp_m", "mutual_staff_lg", SUPPORT_COST)
"""Outcomes when none are named: the headline columns at the end year, mean across replications, and the
support programmes' cost (:data:`~sim.experiments.ema_outcomes.SUPPORT_COST`); by default mutual staff is
maximised and the cost minimised (:data:`~sim.experiments.ema_outcomes.DEFAULT_DIRECTIONS`)."""


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

        changes = {key(k): _registry_value(key(k), params.plain(v)) for k, v in values.items()}
        sc = self.scenario.with_changes(changes)
        columns = simulate_batch(sc, self.seeds)
        return {
            o.name: ema_outcomes.value(o, columns, sc.params, sc.start_year, sc.end_year)
            for o in self.outcomes
        }


def _registry_value(dotted: str, value: Any) -> Any:
    """A value as the registry takes it: a yes/no lever's 0/1 a bool, a whole float (``2018.0``) an int.

    Anything else is passed on as it is, for the registry to check.
    """
    spec = params.registry().get(dotted)
    if spec is None or isinstance(value, bool) or not isinstance(value, int | float):
        return value
    if spec.kind is bool and value in (0, 1):
        return bool(value)
    if spec.kind is int and float(value).is_integer():
        return int(value)
    return value


def _parameter(spec: params.ParamSpec, use_plausible: bool) -> Any:
    ema = workbench()

    n = name(spec.key)
    if spec.kind is bool:  # 0/1: EMA 3.0's optimize cannot encode a BooleanParameter (its Subset type)
        return ema.IntegerParameter(n, 0, 1)
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
    levers: Sequence[str] | None = None,
    end_year: int | None = None,
    model_name: str = "mutuals",
    directions: Mapping[str, str] | None = None,
    constraints: Mapping[str, tuple[str, float]] | None = None,
) -> Any:
    """An EMA Workbench ``Model`` of a scenario.

    Args:
        scenario: a scenario file, a scenario shipped with the package by name (``"baseline"``), or a
            resolved :class:`~sim.inputs.scenario.Scenario`.
        replications: replications per experiment (default: the scenario's).
        outcomes: national columns at the end year (``"mutual_staff"``) or at a year
            (``"mutual_staff_2018"``), each the mean across replications, and ``"support_cost_gbp_m"``
            (the support programmes' budgets over the years simulated, GBP m).
        series: national columns returned as (replications, years) arrays, named ``<column>_series``.
        uncertainties: dotted keys to vary as uncertainties (default: every uncertainty and calibrated
            parameter with a plausible range), over their plausible ranges.
        levers: dotted keys of levers to vary over their allowed bounds (default, None: every lever; ``()``
            none). A yes/no lever is an ``IntegerParameter`` 0 (no) to 1 (yes), which ``optimize`` and
            ``robust_optimize`` can search; ``perform_experiments`` without ``policies`` leaves every
            lever at the scenario's value.
        end_year: last year simulated (default: the scenario's).
        model_name: the EMA model's name (an identifier).
        directions: ``{"outcome or column": "max" | "min" | "info"}``, the outcomes an optimisation
            searches; replaces the default (mutual staff up, support cost down; every other outcome
            ``INFO``).
        constraints: ``{"outcome": ("<=", limit)}`` or ``(">=", limit)``: EMA ``Constraint`` objects kept
            as ``model.constraints``, to pass as ``optimize(..., constraints=model.constraints)``.

    Returns:
        An ``ema_workbench.Model``; its ``uncertainties`` and ``levers`` carry EMA names (``a__b``), its
        outcomes their directions, and ``model.constraints`` the constraints (a list, maybe empty).

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
    wanted = ema_outcomes.parse(outcomes, series, columns, sc.end_year, sc.start_year)
    kinds = ema_outcomes.kinds(wanted, directions)
    m = ema.Model(model_name, function=Runner(sc, sc.seeds(), wanted))
    m.uncertainties = [_parameter(reg[k], use_plausible=True) for k in uncertainties]
    m.levers = [_parameter(reg[k], use_plausible=False) for k in levers]
    m.outcomes = [
        ema.ArrayOutcome(o.name)
        if o.series
        else ema.ScalarOutcome(o.name, kind=getattr(ema.ScalarOutcome, kinds[o.name]))
        for o in wanted
    ]
    m.constraints = ema_outcomes.constraints(ema, constraints, set(kinds))
    return m


def _scenario_path(scenario: str | Path) -> Path:
    """A scenario file, or a scenario shipped with the package, by name."""
    from sim.inputs.shipped import find_scenario

    return find_scenario(scenario)


def inputs(experiments: Any, model: Any) -> Any:
    """The experiments' sampled uncertainties and levers as numbers, ready for feature scoring and PRIM.

    Levers that were not sampled (experiments without ``policies``) are left out.

    Integers become floats and a choice or a boolean its position among the parameter's categories
    (``funding__path``: 0 ``data``, 1 ``flat``): PRIM in EMA Workbench 3.0 writes fractional limits and
    sets of categories into the input table, which pandas 3 refuses ("Invalid value ... for dtype").
    """
    ema = workbench()

    sampled = [
        p
        for p in (*model.uncertainties, *model.levers)
        if p.name in experiments.columns and experiments[p.name].notna().any()
    ]
    x = experiments[[p.name for p in sampled]].copy()
    for p in sampled:
        if isinstance(p, ema.CategoricalParameter | ema.BooleanParameter):
            order = {c.value if hasattr(c, "value") else c: i for i, c in enumerate(p.categories)}
            x[p.name] = x[p.name].map(lambda v, order=order: order[params.plain(v)]).astype(float)
        else:
            x[p.name] = x[p.name].astype(float)
    return x


def scenarios(model: Any, n: int, seed: int = 0) -> Any:
    """``n`` scenarios, a Latin hypercube over the model's uncertainties from ``seed``: the same every time.

    For ``perform_experiments(model, scenarios=ema.scenarios(model, 100))`` and ``robust_optimize``
    (given a number, EMA 3.0 draws new unseeded scenarios for every generation).
    """
    return _lhs(model.uncertainties, n, seed)


def policies(model: Any, n: int, seed: int = 0) -> Any:
    """``n`` policies, a Latin hypercube over the model's levers from ``seed``: the same every time."""
    return _lhs(model.levers, n, seed)


def _lhs(parameters: Any, n: int, seed: int) -> Any:
    workbench()
    from ema_workbench.em_framework.samplers import LHSSampler

    return LHSSampler().generate_samples(parameters, n, rng=seed)


def feature_scores(x: Any, outcomes: Mapping[str, Any], seed: int = 0, **kwargs: Any) -> Any:
    """EMA's extra-trees feature scores of every scalar outcome, seeded: the same ranking every time.

    ``x`` as :func:`inputs` gives it; ``kwargs`` go to ``get_feature_scores_all`` (e.g. ``nr_trees``).
    """
    workbench()
    from ema_workbench.analysis import feature_scoring

    scalars = {k: np.asarray(v) for k, v in outcomes.items() if np.ndim(v) == 1}
    return feature_scoring.get_feature_scores_all(x, scalars, random_state=seed, **kwargs)
