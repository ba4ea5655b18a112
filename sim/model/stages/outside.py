"""Stage 6, the outside sector: mutuals outside local government as a population of providers.

Every provider that exists or may be born is a column of (R, P) arrays (``o_alive``, ``o_staff``,
``o_value`` the contracts it holds in GBP m a year, ``o_trading`` its trading income, ``o_end`` the year
its contract ends, ``o_units`` its contracts in units of the commissioner's budget when each was let);
``o_origin`` (P,) names its origin (:data:`sim.model.spinouts.ORIGINS`): the stock of the start year, or
the dated programme that may give it birth. Births come only from these finite pools, each open only in
its programme's years: none when every programme is off. ``out_n``, ``out_staff`` and ``out_spend`` are
the (R,) totals.

Money: a provider's spend is the value of its contracts plus its trading income. A contract's value is set
when it is let (at the year's cost of the posts it carries); at renewal it is re-priced with the
commissioner's budget (``outside.commissioner_change_per_year``). Staff follow spend at the year's cost
per post (:mod:`sim.model.prices`), and move with a contract that changes hands.

Draws: each replication draws ``(N_ROWS, P)`` uniforms a year from its year generator, after the slots'
fixed block of words (:mod:`sim.model.stages.pressure`), so these draws never shift council draws.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.spinouts import CENTRAL, RIGHT_TO_PROVIDE, RIGHT_TO_REQUEST
from sim.model.stages.appraisal import support_budget

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year

RTR_STEPS = (2010, 2011)
"""The years whose step brings the pending Right to Request spin-outs live: at the start of 2011-12 (when
the Transforming Community Services programme separated commissioners from providers, a share) and of
2012-13 (the rest). Only a 2010 start has any pending."""
RIGHT_TO_PROVIDE_FROM = 2011
"""The Right to Provide (2011): its spin-outs go live from the start of 2012-13."""
CENTRAL_FROM = 2011
"""Central-government spin-outs: MyCSP live in 2012-13, others after."""
U_FAIL, U_RETENDER, U_BIRTH, U_MERGE = range(4)
N_ROWS = 4


def birth_rate(p: dict, y: int) -> float:
    """Expected new spin-outs in year ``y`` from the Right to Provide pool; 0 while it is closed.

    Linear in the year's support budget between the unsupported rate and the rate at the reference
    budget; never negative, whatever the combination of allowed values.
    """
    if not p["outside.right_to_provide"] or y < RIGHT_TO_PROVIDE_FROM:
        return 0.0
    base = p["outside.new_mutuals_per_year_unsupported"]
    budget = support_budget(p, y)
    rate = base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
    return max(rate, 0.0)


def hazards(m: DivestmentModel, y: int) -> np.ndarray:
    """(P,) chance each provider not yet born is born in year ``y``'s step (live from ``y + 1``)."""
    p, origin = m.p, m.o_origin
    h = np.zeros(len(origin))
    if y in RTR_STEPS:
        h[origin == RIGHT_TO_REQUEST] = p["outside.rtr_share_live_2011"] if y == RTR_STEPS[0] else 1.0
    pool = m.o_pool_start
    if pool[RIGHT_TO_PROVIDE]:
        h[origin == RIGHT_TO_PROVIDE] = min(birth_rate(p, y) / pool[RIGHT_TO_PROVIDE], 1.0)
    if p["outside.central_programme"] and y >= CENTRAL_FROM:
        central = origin == CENTRAL
        if pool[CENTRAL]:
            h[central] = min(p["outside.central_per_year"] / pool[CENTRAL], 1.0)
        h[central & (m.o_live_year == y + 1)] = 1.0  # a dated birth (MyCSP, 2012)
    h[(m.o_live_year > 0) & (m.o_live_year != y + 1)] = 0.0
    return h


def commissioner_index(m: DivestmentModel, y: int) -> float:
    """The commissioners' budget in year ``y`` over their budget in the start year (cash)."""
    return (1.0 + m.p["outside.commissioner_change_per_year"]) ** (y - m.start_year)


def _largest(alive: np.ndarray, spend: np.ndarray) -> np.ndarray:
    """(R,) the provider with the largest spend among those alive in each replication (-1 if none)."""
    if alive.shape[1] == 0:  # no providers at all (an empty stock and every programme off)
        return np.full(alive.shape[0], -1, dtype=np.int64)
    best = np.argmax(np.where(alive, spend, -np.inf), axis=1)
    return np.where(alive.any(axis=1), best, -1)


def _move(m: DivestmentModel, r: np.ndarray, src: np.ndarray, dst: np.ndarray) -> None:
    """Contracts, trading income and staff of providers (r, src) go to (r, dst); (r, src) leave the count.

    A contract keeps its terms: its cash value and its units of the budget it was let in move together.
    """
    for a in (m.o_value, m.o_units, m.o_trading, m.o_staff):
        np.add.at(a, (r, dst), a[r, src])
        a[r, src] = 0.0
    m.o_alive[r, src] = False


def _follow(m: DivestmentModel, which: np.ndarray, before: np.ndarray) -> None:
    """Staff of providers ``which`` change in proportion to their spend, from ``before`` to now."""
    now = m.o_value + m.o_trading
    m.o_staff *= np.divide(now, before, out=np.ones_like(now), where=which & (before > 0))


def _drop(m: DivestmentModel, gone: np.ndarray) -> np.ndarray:
    """Providers ``gone`` (R, P) leave the sector with their staff and contracts; returns (R,) staff out."""
    out = np.where(gone, m.o_staff, 0.0).sum(axis=1)
    for a in (m.o_value, m.o_units, m.o_trading, m.o_staff):
        a[gone] = 0.0
    m.o_alive &= ~gone
    return out


def step(m: DivestmentModel, year: Year) -> None:
    """Failures, re-procurement, mergers, trading growth and births: next year's outside sector.

    In order: a provider fails with ``outside.fail_rate_per_year`` (its staff and contracts leave the
    sector). A contract ending next year is re-procured: the incumbent loses it with
    ``outside.p_lose_retender`` (to the largest other mutual outside local government with
    ``outside.p_rival_mutual_wins``, else to a provider that is not a mutual; the loser leaves the count),
    or keeps it for another ``outside.contract_years``, re-priced to the commissioner's budget. A provider
    merges into the largest with ``outside.p_merge_per_year`` (count falls; staff and spend move). Trading
    income grows by ``outside.staff_growth_per_year`` of spend, up to ``outside.max_trading_share`` of the
    contracts held. Staff follow spend at the year's cost per post. Then the year's births.
    """
    p, y, nxt = m.p, year.y, year.y + 1
    R, P = m.o_alive.shape
    u = np.empty((R, N_ROWS, P))
    for r, g in enumerate(m.gens):
        g.random(out=u[r])
    budget = commissioner_index(m, nxt)
    failed = m.o_alive & (u[:, U_FAIL] < p["outside.fail_rate_per_year"])
    staff_out = _drop(m, failed)
    ending = m.o_alive & (m.o_end == nxt)
    lose = ending & (u[:, U_RETENDER] < p["outside.p_lose_retender"])
    to_rival = lose & (u[:, U_RETENDER] < p["outside.p_lose_retender"] * p["outside.p_rival_mutual_wins"])
    old = m.o_value + m.o_trading
    m.o_value[ending] = m.o_units[ending] * budget  # re-let, or renewed, at the commissioner's budget
    _follow(m, ending, old)
    m.o_end[ending & ~lose] += int(p["outside.contract_years"])
    best = _largest(m.o_alive & ~lose, m.o_value + m.o_trading)
    r, src = np.nonzero(to_rival & (best[:, None] >= 0))
    _move(m, r, src, best[r])
    staff_out += _drop(m, lose & m.o_alive)
    alive = m.o_alive
    best = _largest(alive, m.o_value + m.o_trading)
    merging = alive & (u[:, U_MERGE] < p["outside.p_merge_per_year"])
    merging &= np.arange(P)[None, :] != best[:, None]
    r, src = np.nonzero(merging)
    _move(m, r, src, best[r])
    spend = m.o_value + m.o_trading
    grown = m.o_trading + p["outside.staff_growth_per_year"] * spend * m.price[nxt] / m.price[y]  # posts
    m.o_trading = np.where(alive, np.clip(grown, 0.0, p["outside.max_trading_share"] * m.o_value), 0.0)
    _follow(m, alive, spend)
    m.o_staff *= m.price[y] / m.price[nxt]  # staff follow spend at the year's cost per post
    born = ~alive & (m.o_born == 0) & (u[:, U_BIRTH] < hazards(m, y)[None, :])
    r, j = np.nonzero(born)
    m.o_alive[r, j] = True
    m.o_born[r, j] = nxt
    m.o_staff[r, j] = m.o_birth_staff[j]
    m.o_value[r, j] = m.o_birth_staff[j] * m.o_cost_per_post * m.price[nxt]
    m.o_units[r, j] = m.o_value[r, j] / budget
    m.o_end[r, j] = nxt + int(p["outside.contract_years"])
    year.new["outside_lost"] = failed.sum(axis=1) + lose.sum(axis=1)
    year.new["outside_merged"] = merging.sum(axis=1)
    year.new["outside_born"] = born.sum(axis=1)
    year.new["outside_staff_out"] = staff_out
    sync(m)


def sync(m: DivestmentModel) -> None:
    """The (R,) totals of the outside sector, and its split into the start's stock and the births since.

    Providers not alive hold no staff, contracts or trading (a failure, a loss or a merger empties them).
    """
    m.out_n = m.o_alive.sum(axis=1)
    m.o_spend = m.o_value + m.o_trading
    m.out_staff = m.o_staff.sum(axis=1)
    m.out_spend = m.o_spend.sum(axis=1)
    new = m.o_born > m.start_year
    m.out_staff_new = (m.o_staff * new).sum(axis=1)
    m.out_spend_new = (m.o_spend * new).sum(axis=1)
