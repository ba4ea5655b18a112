"""Stage 6, grow or fail: spend follows funding; providers fail; contracts end and may return in-house."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import entries, group
from sim.model.draws import U_CONTRACT, U_FAIL
from sim.model.rules import IN_HOUSE, IS_DIVESTED
from sim.model.stages.transitions import NO_CONTRACT

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def grow_or_fail(m: DivestmentModel, year: Year) -> None:
    """Next year's spend and staff; then provider failures and contract ends (effective next year)."""
    p, s, nxt = m.p, m.slots, year.y + 1
    growth = m.growth_by_mode[m.mode]
    m.spend = rules.grow_spend(
        m.spend, m.funding[s.council, year.col + 1], p["funding.spend_passthrough"], growth
    )
    # staff at the cost per post of the year: 2014 pay grows with the cost of services, so cash growth is
    # not counted as more staff
    m.staff = m.spend / (s.cost_per_post * (1.0 + p["funding.cost_growth_per_year"]) ** (nxt - m.start_year))
    year.new["failures"] = fail(m, nxt)
    year.new["returns"] = contract_ends(m, nxt)


def fail(m: DivestmentModel, y: int) -> np.ndarray:
    """Providers fail at their yearly rate; all their services return in-house.

    Returns:
        (R,) number of providers failed in each replication.
    """
    R = m.n_batch
    r, j = entries(IS_DIVESTED[m.mode])
    if len(j) == 0:
        return np.zeros(R, dtype=np.int64)
    u = m.u[:, U_FAIL:].reshape(R, -1)  # by provider id
    provider = m.provider[r, j]
    fails = u[r, provider] < m.fail_by_mode[m.mode[r, j]]
    representative, is_provider = group(r * m.n_provider_ids + provider, m.scratch)
    failed = np.zeros(len(j), dtype=bool)
    failed[representative[fails]] = True  # a provider fails if a draw of its own says so
    hit = failed[representative]
    return_in_house(m, r[hit], j[hit], y, "failure")
    return np.bincount(r[failed & is_provider], minlength=R)


def contract_ends(m: DivestmentModel, y: int) -> np.ndarray:
    """Contracts ending in ``y`` return in-house or are renewed. Returns (R,) the numbers returned."""
    p = m.p
    ending = IS_DIVESTED[m.mode] & (m.contract_end == y)
    is_back = ending & (m.u[:, U_CONTRACT] < p["contract.p_return_in_house"])
    r, j = entries(is_back)
    return_in_house(m, r, j, y, "contract_end")
    m.contract_end[ending & ~is_back] = y + p["contract.length_years"]
    return np.bincount(r, minlength=m.n_batch)


def return_in_house(m: DivestmentModel, r: np.ndarray, j: np.ndarray, y: int, reason: str) -> None:
    """Services ``j`` of replications ``r`` come back in-house in year ``y``."""
    if len(j) == 0:
        return
    m.log_events(r, j, y, m.mode[r, j], IN_HOUSE, reason)
    m.mode[r, j] = IN_HOUSE
    m.provider[r, j] = -1
    m.contract_end[r, j] = NO_CONTRACT
    m.last_review[r, j] = y
