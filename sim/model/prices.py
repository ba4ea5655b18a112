"""The pay and price index: what a post costs each year, in every sector, apart from budget pressure.

A post's cost moves with public sector pay awards (its pay share) and with general inflation (the rest):
``index(y + 1) = index(y) * (1 + s * pay(y) + (1 - s) * cpi(y))``, with ``index(2014) = 1`` and ``s`` =
``prices.pay_share``. Councils' budget pressure is another thing (``funding.cost_growth_per_year``: costs
and demand a council must meet, against its funding); it never sets what a post costs.

Known by 2014 and fixed here (CALIBRATION.md "Pay and prices", each figure checked with the search tool on
2026-12-08 against a page dated before 2015):

- pay: no national award for council (NJC) staff in 2010-11, 2011-12 and 2012-13, "a 3-year pay freeze"
  (GMB, "Local government pay talks", 25 Feb 2013); 1% on all pay points from 1 April 2013, the final
  offer (LGE to the NJC trade unions, 25 Apr 2013; GMB, "Final NJC pay offer", 2013), within the 1% cap of
  the Autumn Statement 2011 for 2013-14 and 2014-15, extended to 2015-16 by the Spending Round 2013. The
  freeze's own exemption (staff under GBP 21,000 a year) and the 2013 deletion of the lowest spine point
  are not modelled: an average award, not the award of the lowest paid.
- CPI inflation as published for the calendar years 2010-2013 (ONS: 3.3%, 4.5%, 2.8%, 2.6%; the 12-month
  rates of June to December 2011 in the ONS bulletin of 17 Jan 2012 run 4.2-5.2%, consistent with 4.5%). A
  financial year takes the rate of the calendar year it starts in.
- later years: ``prices.cpi_per_year`` (default 2%: the Bank of England's target; the forecast of record in
  2014 is the OBR's Economic and fiscal outlook of 19 March 2014, whose yearly CPI figures were not
  found with the search tool, so the default is an assumption at the target) and
  ``prices.pay_award_after_2015`` (the 1% cap continued). Both are assumptions beyond what the 2014
  forecasts said, with plausible ranges in the parameter registry.
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
