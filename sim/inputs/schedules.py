"""Lever schedules: a lever may follow a schedule over years, a list of ``[year, value]`` pairs.

``"support.budget_gbp_m_per_year" = [[2014, 5.0], [2016, 10.0], [2018, 0.0]]`` is 5 from 2014-15, 10
from 2016-17 and 0 from 2018-19; years before the first pair take its value. Only levers (what a policy
maker sets, year by year) may be scheduled; the model reads each lever's value for the year it simulates
(:func:`resolve`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

FIRST_YEAR, LAST_YEAR = 2010, 2100
"""Years a schedule may name (financial years, their start)."""


def is_schedule(value: Any) -> bool:
    """Whether ``value`` is given as a schedule (a list) rather than one value."""
    return isinstance(value, list | tuple)


def check_schedule(value: Any, check_one: Callable[[Any], str | None]) -> str | None:
    """A message if ``value`` is not a valid schedule of values that ``check_one`` accepts, else None."""
    if not value:
        return "an empty schedule: give [[year, value], ...] or one value"
    previous = None
    for k, pair in enumerate(value):
        if not is_schedule(pair) or len(pair) != 2:
            example = "[[2014, 5], [2016, 0]]"
            return f"schedule entry {k + 1} is {pair!r}: give [year, value] pairs, e.g. {example}"
        year, one = pair
        if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= LAST_YEAR:
            return (
                f"schedule entry {k + 1}: year {year!r} is not a financial year in {FIRST_YEAR}-{LAST_YEAR}"
            )
        if previous is not None and year <= previous:
            return (
                f"schedule entry {k + 1}: year {year} does not come after {previous}; give the years in order"
            )
        problem = check_one(one)
        if problem:
            return f"schedule entry {k + 1} ({year}): {problem}"
        previous = year
    return None


def value_at(value: Any, year: int) -> Any:
    """The value in force in ``year``: a schedule's last entry at or before it (its first before them all)."""
    if not is_schedule(value):
        return value
    current = value[0][1]
    for start, one in value:
        if start > year:
            break
        current = one
    return current


def resolve(params: dict[str, Any], year: int) -> dict[str, Any]:
    """``params`` with every scheduled lever replaced by its value in ``year`` (the same dict if none)."""
    scheduled = [k for k, v in params.items() if is_schedule(v)]
    if not scheduled:
        return params
    return {**params, **{k: value_at(params[k], year) for k in scheduled}}
