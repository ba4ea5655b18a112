"""The outside sector's starting population: the stock of the start year and the pools of each programme.

Columns, in order: the stock (alive from the start), the Right to Request spin-outs still pending (a 2010
start), the dated central-government spin-out MyCSP (a 2010 start), the pool of the Right to Provide and
the Mutuals Support Programme, and the pool of other central-government spin-outs. The stock's contracts
end in turn over the next ``outside.contract_years`` years (it went live over the years before).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.spinouts import CENTRAL, MYCSP_LIVE, NAMED_STOCK, RIGHT_TO_PROVIDE, RIGHT_TO_REQUEST, STOCK
from sim.model.stages import outside

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel


def stock_2014(n: int, staff: float, spend: float) -> tuple[np.ndarray, np.ndarray]:
    """Staff and spend of each of the ``n`` mutuals outside local government in 2014.

    The named ones (:data:`sim.model.spinouts.NAMED_STOCK`) with their published sizes; the rest share
    what the national figures leave equally. Those whose contracts' value was not published cost what the
    rest cost per post; a named one with no published size is one of the rest.
    """
    named = NAMED_STOCK[: max(n, 0)]
    s, x = np.zeros(n), np.full(n, np.nan)
    for k, (_, _, _, st, value, _) in enumerate(named):
        s[k] = st or 0.0
        x[k] = np.nan if value is None else value
    rest = s == 0
    left_staff = max(staff - s.sum(), 0.0)
    s[rest] = left_staff / rest.sum() if rest.any() else 0.0
    priced = ~np.isnan(x)
    unpriced_staff = s[~priced].sum()
    per_post = max(spend - x[priced].sum(), 0.0) / unpriced_staff if unpriced_staff else 0.0
    x[~priced] = s[~priced] * per_post
    return s, x


def place(
    m: DivestmentModel,
    stock_staff: np.ndarray,
    stock_spend: np.ndarray,
    cost_per_post: float,
    rtr: int = 0,
    mycsp: bool = False,
) -> None:
    """The (R, P) population: the stock alive, every pool's candidates waiting for their programme."""
    p, R, y0 = m.p, m.n_batch, m.start_year
    pools = {
        RIGHT_TO_PROVIDE: int(p["outside.cohort_2014" if y0 == 2014 else "outside.cohort_2010"]),
        CENTRAL: int(p["outside.central_pool"]),
    }
    n = len(stock_staff)
    origin = np.concatenate(
        [
            np.full(n, STOCK),
            np.full(rtr, RIGHT_TO_REQUEST),
            np.full(int(mycsp), CENTRAL),
            np.full(pools[RIGHT_TO_PROVIDE], RIGHT_TO_PROVIDE),
            np.full(pools[CENTRAL], CENTRAL),
        ]
    ).astype(np.int64)
    P = len(origin)
    m.o_origin = origin
    m.o_pool_start = pools
    m.o_live_year = np.zeros(P, dtype=np.int64)  # the year a dated birth goes live (0: drawn each year)
    if mycsp:
        m.o_live_year[n + rtr] = MYCSP_LIVE
    staff = np.zeros(P)
    staff[n : n + rtr] = p["outside.staff_per_rtr_spinout"]
    staff[origin == RIGHT_TO_PROVIDE] = p["outside.staff_per_new_mutual"]
    staff[origin == CENTRAL] = p["outside.staff_per_central_spinout"]
    m.o_birth_staff = staff
    m.o_cost_per_post = cost_per_post  # GBP m per post in 2014-15 prices, for the contracts let later
    stock = np.zeros(P, dtype=bool)
    stock[:n] = True
    m.o_alive = np.tile(stock, (R, 1))
    m.o_staff = np.zeros((R, P))
    m.o_staff[:, :n] = stock_staff
    m.o_value = np.zeros((R, P))
    m.o_value[:, :n] = stock_spend
    m.o_units = m.o_value.copy()  # the start's budget index is 1
    m.o_trading = np.zeros((R, P))
    L = int(p["outside.contract_years"])
    m.o_end = np.zeros((R, P), dtype=np.int64)
    m.o_end[:, :n] = y0 + 1 + np.arange(n) % L
    m.o_born = np.zeros((R, P), dtype=np.int64)
    m.o_born[:, :n] = y0
    outside.sync(m)
