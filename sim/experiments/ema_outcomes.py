"""What the EMA Workbench adapter returns: outcomes, their directions, the support cost and constraints.

Outcomes (names of national.csv columns, docs/outputs.md): ``"mutual_staff"`` is the column at the end
year, mean across replications (a ``ScalarOutcome``); ``"mutual_staff_2018"`` the same at another year;
``series=["mutual_staff"]`` gives ``mutual_staff_series``, an ``ArrayOutcome`` of shape (replications,
years), every replication's yearly values.

An outcome is a national column at the end year or at a year, the mean across replications, or a column's
series; or ``support_cost_gbp_m``, what the national support programmes cost over the years simulated, so
that an optimisation has a trade-off to find (more mutual staff against more public money).

Directions (``MAXIMIZE``, ``MINIMIZE`` or ``INFO``) are what EMA's ``optimize`` and ``robust_optimize``
search for; :data:`DEFAULT_DIRECTIONS` gives the headline pair, ``directions=`` in
:func:`sim.experiments.ema.model` any other. Constraints (``{"support_cost_gbp_m": ("<=", 40)}``) become
EMA ``Constraint`` objects, kept on the model as ``model.constraints`` for ``optimize(constraints=...)``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

SUPPORT_COST = "support_cost_gbp_m"
"""The cost outcome: national support budgets summed over the years simulated to the outcome's year, GBP m
cash (the Mutuals Support Programme while it runs, Delivering Differently in 2014, any later programme)."""

DEFAULT_DIRECTIONS = {"mutual_staff": "max", SUPPORT_COST: "min"}
"""Directions when none are given, by column: the ambition's measure (mutual staff, the one-million target of
the source article) up, the public money spent on support down. Every other outcome is ``INFO``."""

_KINDS = {"max": "MAXIMIZE", "min": "MINIMIZE", "info": "INFO"}
_YEAR = re.compile(r"^(?P<column>[a-z0-9_]+?)_(?P<year>20[0-9]{2})$")
_OPERATORS = ("<=", ">=")


@dataclass(frozen=True)
class Outcome:
    """One outcome: a national column or the support cost at a year (mean of replications), or a series."""

    name: str
    column: str
    year: int | None = None
    series: bool = False


def parse(
    outcomes: Sequence[str], series: Sequence[str], columns: set[str], end_year: int, start_year: int
) -> list[Outcome]:
    """The outcomes named, checked against the national ``columns`` and the years simulated.

    Raises:
        ValueError: an unknown column or a year outside the run, naming the outcome.
    """
    known = columns | {SUPPORT_COST}
    out = []
    for text in outcomes:
        match = _YEAR.match(text)
        column, year = (match["column"], int(match["year"])) if match and text not in known else (text, None)
        if column not in known:
            raise ValueError(
                f"outcome {text!r}: {column!r} is not a national column or {SUPPORT_COST!r}; "
                f"known: {sorted(known)}"
            )
        if year is not None and not start_year <= year <= end_year:
            raise ValueError(f"outcome {text!r}: year {year} is outside {start_year}-{end_year}")
        out.append(Outcome(text, column, year))
    for column in series:
        if column not in columns:
            raise ValueError(f"series {column!r}: not a national column; known: {sorted(columns)}")
        out.append(Outcome(f"{column}_series", column, series=True))
    return out


def support_cost(params: Mapping[str, Any], start_year: int, year: int) -> float:
    """National support budgets of the years simulated from ``start_year`` to the state of ``year``, GBP m.

    The years whose stages run before that state: ``start_year`` to ``year - 1`` (the row of ``year`` is the
    state at its start). Scheduled levers take each year's value, as in the model.
    """
    from sim.inputs.schedules import resolve
    from sim.model.stages.appraisal import support_budget

    return float(sum(support_budget(resolve(dict(params), y), y) for y in range(start_year, year)))


def value(o: Outcome, columns: Mapping[str, np.ndarray], params: Mapping[str, Any], start: int, end: int):
    """The outcome's value for one experiment: a float, or a (replications, years) array for a series."""
    year = end if o.year is None else o.year
    if o.column == SUPPORT_COST:
        return support_cost(params, start, year)
    values = np.asarray(columns[o.column], dtype=float)
    return values if o.series else float(values[:, year - start].mean())


def kinds(wanted: Sequence[Outcome], directions: Mapping[str, str] | None) -> dict[str, str]:
    """The EMA kind (``MAXIMIZE``, ``MINIMIZE``, ``INFO``) of each scalar outcome, by outcome name.

    ``directions`` maps outcome names or columns to ``"max"``, ``"min"`` or ``"info"`` and replaces
    :data:`DEFAULT_DIRECTIONS` (pass ``{}`` for none); an outcome's own name wins over its column.

    Raises:
        ValueError: a direction that is not max, min or info, or one naming no outcome.
    """
    given = DEFAULT_DIRECTIONS if directions is None else dict(directions)
    names = {o.name for o in wanted if not o.series} | {o.column for o in wanted if not o.series}
    for k, d in given.items():
        if str(d).lower() not in _KINDS:
            raise ValueError(f"direction of {k!r} is {d!r}: give 'max', 'min' or 'info'")
        if directions is not None and k not in names:
            raise ValueError(f"direction for {k!r}: no such scalar outcome; outcomes: {sorted(names)}")
    out = {}
    for o in wanted:
        if not o.series:
            d = given.get(o.name, given.get(o.column, "info"))
            out[o.name] = _KINDS[str(d).lower()]
    return out


class Bound:
    """A constraint's distance from feasibility: 0 when ``value <op> limit`` holds (picklable for EMA)."""

    def __init__(self, operator: str, limit: float):
        self.operator, self.limit = operator, float(limit)

    def __call__(self, value: float) -> float:
        """How far ``value`` is on the wrong side of the limit (0 if on the right side)."""
        gap = value - self.limit if self.operator == "<=" else self.limit - value
        return max(0.0, float(gap))


def constraints(ema: Any, given: Mapping[str, tuple[str, float]] | None, scalars: set[str]) -> list:
    """EMA ``Constraint`` objects of ``{"outcome": ("<=", limit)}`` (or ``">="``), for ``optimize``.

    Raises:
        ValueError: an outcome that is not a scalar outcome of the model, or a malformed bound.
    """
    out = []
    for outcome, bound in (given or {}).items():
        if outcome not in scalars:
            raise ValueError(f"constraint on {outcome!r}: not a scalar outcome; outcomes: {sorted(scalars)}")
        ok = isinstance(bound, tuple | list) and len(bound) == 2 and bound[0] in _OPERATORS
        if not ok or isinstance(bound[1], bool) or not isinstance(bound[1], int | float):
            raise ValueError(f"constraint on {outcome!r} is {bound!r}: give ('<=', number) or ('>=', number)")
        op, limit = bound
        label = f"{outcome}_{'max' if op == '<=' else 'min'}"  # an identifier, as EMA 3 wants
        out.append(ema.Constraint(label, outcome_names=outcome, function=Bound(op, limit)))
    return out
