"""Stage 5, grow or fail: spend follows funding; providers fail, are taken over, and re-tender.

At a contract's end the part may return in-house, go to a contractor, or be won by another provider of
its kind, which grows by winning it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import entries_flat, flat, group
from sim.model.draws import U_CONTRACT, U_FAIL, U_TAKEOVER, U_WINNER
from sim.model.rules import IN_HOUSE, IS_COUNCIL, IS_DIVESTED, OUTSOURCED
from sim.model.slots import LIBRARIES
from sim.model.stages.transitions import NO_CONTRACT, largest_provider_by_kind, provider_groups

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def grow_or_fail(m: DivestmentModel, year: Year) -> None:
    """Next year's spend and staff; then failures, takeovers and contract ends (effective next year).

    A council-run part's spend follows the council's funding. A divested part's spend is the value of its
    contract, fixed in cash from its letting until its renewal (re-priced then to what the council now
    budgets for it, ``budget_line``, which follows the funding), plus trading income, which grows by the
    mode's trading growth on the part's spend, up to ``contract.max_trading_share`` of the contract: a
    provider grows mainly by winning contracts. Staff are spend over the year's cost per post: the 2014
    cost per post grown with the pay and price index (:mod:`sim.model.prices`), so cash growth is not
    counted as more staff.
    """
    p, s, nxt = m.p, m.slots, year.y + 1
    change = m.funding[s.council, year.col + 1]
    passthrough = m.passthrough
    factor = 1.0 + passthrough * change
    m.budget_line = np.maximum(m.budget_line * factor, 0.0)  # rules.grow_spend, with no trading growth
    grown = np.maximum(m.spend * factor, 0.0)
    r, j, f = entries_flat(IS_DIVESTED[m.mode])
    if len(f):
        contract = flat(m.contract_value)[f]
        held = flat(m.spend)[f]
        growth = m.growth_by_mode[flat(m.mode)[f]] * m.price[nxt] / m.price[year.y]  # in posts
        trading = np.maximum(held - contract, 0.0) + held * growth
        flat(grown)[f] = contract + np.clip(trading, 0.0, p["contract.max_trading_share"] * contract)
    close_with_cuts(m, grown)
    m.spend = grown
    m.staff = m.spend / (s.cost_per_post * m.price[nxt])
    year.new["failures"], (r, j, f) = fail(m, nxt, (r, j, f))
    # the divested parts left after failures, grouped by provider once: shared by the three below (neither
    # takeovers nor re-tenders change which parts are divested before contract_ends reads them)
    divested = (r, j, *provider_groups(m, r, j, f), f)
    best = largest_provider_by_kind(m, exclude=(r[:0], j[:0]), divested=divested)
    year.new["takeovers"] = takeovers(m, best, divested)
    year.new["returns"], year.new["retendered"] = contract_ends(m, nxt, best, (r, j, f))


def close_with_cuts(m: DivestmentModel, new_spend: np.ndarray) -> None:
    """Council-run library service points close as the council cuts their spend.

    Units fall with spend to the power ``services.library_points_elasticity`` (never reopen); provision
    run by others keeps its units (a community library stays open on a small grant).
    """
    lib = m.library_slots
    old, new = m.spend[:, lib], new_spend[:, lib]
    council = IS_COUNCIL[m.mode[:, lib]] & (old > 0)
    ratio = np.divide(new, old, out=np.ones_like(new), where=council)
    below = ratio < 1.0  # the others keep their units (a factor of 1): only these are worked out
    np.power(ratio, m.p["services.library_points_elasticity"], out=ratio, where=below)
    units = m.units[:, lib]  # a view: the library slots are one block
    np.multiply(units, ratio, out=units, where=below)


def close_with_cuts_at(m: DivestmentModel, r: np.ndarray, j: np.ndarray, ratio: float) -> None:
    """:func:`close_with_cuts` for entries (r, j) whose spend is multiplied by ``ratio`` (a keep's cuts)."""
    library = m.slots.service[j] == LIBRARIES
    m.units[r[library], j[library]] *= min(ratio, 1.0) ** m.p["services.library_points_elasticity"]


def provider_draw(m: DivestmentModel, row: int, r: np.ndarray, provider: np.ndarray) -> np.ndarray:
    """The year's draw of each provider (replication ``r``, id ``mode * n_slots + founding slot``).

    Derived from the founding slot's word with the mode as salt, so the draw depends only on the
    provider, never on other slots.
    """
    mode, founder = np.divmod(provider, m.slots.n)
    return m.u.at_flat(row, r * m.slots.n + founder, salt=mode)


def fail(
    m: DivestmentModel, y: int, divested: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Providers fail at their yearly rate; all their services return in-house.

    ``divested``: the entries (r, j, flat index) of the divested parts in row order, if the caller has
    them.

    Returns:
        (R,) number of providers failed in each replication, and the entries (r, j) of the parts still
        divested, in row order, with their flat indices ``r * n_slots + j``.
    """
    R = m.n_batch
    r, j, f = entries_flat(IS_DIVESTED[m.mode]) if divested is None else divested
    if len(j) == 0:
        return np.zeros(R, dtype=np.int64), (r, j, f)
    provider = flat(m.provider)[f]
    fails = provider_draw(m, U_FAIL, r, provider) < m.fail_by_mode[flat(m.mode)[f]]
    fails &= flat(m.since)[f] < y  # a provider does not fail in the year it takes a part on
    representative, is_provider = group(r * m.n_provider_ids + provider, m.scratch)
    failed = np.zeros(len(j), dtype=bool)
    failed[representative[fails]] = True  # a provider fails if a draw of its own says so
    n_failed = np.bincount(r[failed & is_provider], minlength=R)
    hit = failed[representative]
    if hit.any():
        return_in_house(m, r[hit], j[hit], y, "failure", f[hit])
        kept = ~hit
        r, j, f = r[kept], j[kept], f[kept]
    return n_failed, (r, j, f)


def _kind_index(m: DivestmentModel, r: np.ndarray, mode: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Flat index into a :func:`largest_provider_by_kind` result of (replication, mode, part's cell)."""
    return (r * len(rules.MODES) + mode) * m.n_cells + m.cell[j]


def takeovers(m: DivestmentModel, best: np.ndarray, divested: tuple | None = None) -> np.ndarray:
    """Providers merge into the largest provider of their kind in their region and service.

    Each provider is taken over with chance ``contract.p_takeover_per_year`` by its own draw, if a larger
    one of its mode exists in its cell; all its parts move to the acquirer (the count of providers falls;
    modes, staff and spend are unchanged). ``best`` is :func:`largest_provider_by_kind` of this year;
    ``divested`` the divested entries with their provider groups and flat indices, if the caller has them.
    Returns (R,) the numbers taken over.
    """
    R = m.n_batch
    if divested is None:
        r, j, f = entries_flat(IS_DIVESTED[m.mode])
    else:
        r, j, f = divested[0], divested[1], divested[4]
    if len(j) == 0:
        return np.zeros(R, dtype=np.int64)
    provider = flat(m.provider)[f]
    mode = flat(m.mode)[f]
    acquirer = best.reshape(-1)[_kind_index(m, r, mode, j)]
    taken = (provider_draw(m, U_TAKEOVER, r, provider) < m.p["contract.p_takeover_per_year"]) & (
        (acquirer >= 0) & (acquirer != provider)
    )
    if not taken.any():
        return np.zeros(R, dtype=np.int64)
    is_provider = provider_groups(m, r, j, f)[1] if divested is None else divested[3]
    counted = np.bincount(r[taken & is_provider], minlength=R)
    rt, jt = r[taken], j[taken]
    m.log_events(rt, jt, m.year, mode[taken], mode[taken], "takeover")
    flat(m.provider)[f[taken]] = acquirer[taken]
    return counted


def contract_ends(
    m: DivestmentModel, y: int, best: np.ndarray, divested: tuple[np.ndarray, ...] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Contracts ending in ``y`` are re-tendered.

    With chance ``contract.p_return_in_house`` the part comes back in-house; with chance
    ``contract.p_lose_retender`` the incumbent loses, to a contractor (``contract.p_contractor_wins``) or
    else to the largest other provider of its kind in the region and service (which grows by winning it;
    a contractor if there is none, or if the largest is the incumbent itself); otherwise the incumbent
    keeps it for another term. ``best`` is :func:`largest_provider_by_kind` of this year; ``divested``
    the entries (r, j) of the divested parts in row order (and their flat indices), if the caller has
    them.

    Returns:
        (R,) parts returned in-house, and (R,) parts that changed provider.
    """
    p, R = m.p, m.n_batch
    if divested is None:
        r, j, f = entries_flat(IS_DIVESTED[m.mode])
    elif len(divested) == 2:
        r, j = divested
        f = r * m.slots.n + j
    else:
        r, j, f = divested
    ending = flat(m.contract_end)[f] == y
    re, je, fe = r[ending], j[ending], f[ending]  # in row order, as entries of the mask would be
    # one draw per provider's service (its key slot), so the points of one contract end together
    fd = re * m.slots.n + flat(m.provider)[fe] % m.slots.n
    u = m.u.at_flat(U_CONTRACT, fd)
    back = u < p["contract.p_return_in_house"]
    lost = ~back & (u < p["contract.p_return_in_house"] + p["contract.p_lose_retender"])
    r_back = re[back]
    return_in_house(m, r_back, je[back], y, "contract_end", fe[back])
    r, j, f = re[lost], je[lost], fe[lost]
    moved = np.zeros(R, dtype=np.int64)
    if len(j):
        old = flat(m.mode)[f]
        rival = best.reshape(-1)[_kind_index(m, r, old, j)]
        rival = np.where(rival == flat(m.provider)[f], -1, rival)
        fw = r * m.slots.n + flat(m.provider)[f] % m.slots.n
        contractor = (m.u.at_flat(U_WINNER, fw) < p["contract.p_contractor_wins"]) | (rival < 0)
        rc, jc, fc = r[contractor], j[contractor], f[contractor]
        m.log_events(rc, jc, y, old[contractor], OUTSOURCED, "retender")
        flat(m.mode)[fc] = OUTSOURCED
        flat(m.since)[fc] = y
        flat(m.provider)[fc] = OUTSOURCED * m.slots.n + jc
        winner = ~contractor
        m.log_events(r[winner], j[winner], y, old[winner], old[winner], "retender")
        flat(m.provider)[f[winner]] = rival[winner]
        moved = np.bincount(r, minlength=R)
    flat(m.contract_end)[fe[~back]] = y + p["contract.length_years"]  # renewed or re-tendered
    relet(m, fe[~back])
    return np.bincount(r_back, minlength=R), moved


def relet(m: DivestmentModel, f: np.ndarray) -> None:
    """Contracts at flat indices ``f`` are let again at what the council now budgets for the part.

    The part's spend changes by the change of its contract's value (its trading income stays) and its
    staff with its spend.
    """
    old, new = flat(m.contract_value)[f], flat(m.budget_line)[f]
    spend = flat(m.spend)[f]
    after = np.maximum(spend + new - old, 0.0)
    flat(m.staff)[f] *= np.divide(after, spend, out=np.ones_like(after), where=spend > 0)
    flat(m.spend)[f] = after
    flat(m.contract_value)[f] = new


def return_in_house(
    m: DivestmentModel, r: np.ndarray, j: np.ndarray, y: int, reason: str, f: np.ndarray | None = None
) -> None:
    """Parts ``j`` of replications ``r`` come back in-house in year ``y``, with their staff and spend.

    ``f``: the entries' flat indices ``r * n_slots + j``, if the caller has them.
    """
    if len(j) == 0:
        return
    f = r * m.slots.n + j if f is None else f
    m.log_events(r, j, y, flat(m.mode)[f], IN_HOUSE, reason)
    flat(m.mode)[f] = IN_HOUSE
    flat(m.since)[f] = y
    flat(m.provider)[f] = -1
    flat(m.contract_end)[f] = NO_CONTRACT
    flat(m.contract_value)[f] = 0.0
    flat(m.last_review)[f] = y
