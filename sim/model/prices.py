"""The pay and price index: what a post costs each year, in every sector, apart from budget pressure.

A post's cost moves with public sector pay awards (its pay share) and with general inflation (the rest):
``index(y + 1) = index(y) * (1 + s * pay(y) + (1 - s) * cpi(y))``, with ``index(2014) = 1`` and ``s`` =
``prices.pay_share``. Councils' budget pressure is another thing (``funding.cost_growth_per_year``: costs
and demand a council must meet, against its funding); it never sets what a post costs.

Known by 2014 and fixed here (CALIBRATION.md "Pay and prices"): no pay award for council staff in
2010-11, then the two-year public sector pay freeze from 2011-12 (June 2010 Budget), then 1% awards for
2013-14 and 2014-15 (Autumn Statement 2011), extended to 2015-16 (Spending Round 2013); CPI inflation as
published for the years to 2013 (ONS, calendar years: 3.3%, 4.5%, 2.8%, 2.6%). Later years take
``prices.pay_award_after_2015`` and ``prices.cpi_per_year`` (the OBR's March 2014 forecast of about 2%).
"""

from __future__ import annotations

BASE_YEAR = 2014
"""The year whose cost per post the data give (the 2014-15 outturn): index 1."""

PAY_AWARDS = {2010: 0.0, 2011: 0.0, 2012: 0.0, 2013: 0.01, 2014: 0.01, 2015: 0.01}
"""Public sector pay awards by financial year (its start), known by 2014."""

CPI = {2010: 0.033, 2011: 0.045, 2012: 0.028, 2013: 0.026}
"""CPI inflation as published by 2014 (ONS annual rates of the calendar year the financial year starts in)."""


def yearly(p: dict, y: int) -> float:
    """Growth of the cost of a post from financial year ``y`` to ``y + 1``, fraction."""
    pay = PAY_AWARDS.get(y, p["prices.pay_award_after_2015"] if y > 2015 else 0.0)
    cpi = CPI.get(y, p["prices.cpi_per_year"])
    share = p["prices.pay_share"]
    return share * pay + (1.0 - share) * cpi


def index(p: dict, y: int) -> float:
    """The cost of a post in financial year ``y`` over its cost in 2014-15."""
    out = 1.0
    for t in range(BASE_YEAR, y):
        out *= 1.0 + yearly(p, t)
    for t in range(y, BASE_YEAR):
        out /= 1.0 + yearly(p, t)
    return out


def path(p: dict, first: int, last: int) -> dict[int, float]:
    """:func:`index` for every year from ``first`` to ``last`` inclusive."""
    return {y: index(p, y) for y in range(first, last + 1)}
