"""Stage 5, transfer: pending transitions may be abandoned; those due go live, staff and spend with them."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import entries_flat, flat, group
from sim.model.draws import U_ABANDON, U_JOIN
from sim.model.rules import IS_DIVESTED, REDUCED

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year

NO_CONTRACT = 10_000
"""contract_end of a service with no contract (in-house, re-booted or a legacy trust)."""


def transfer(m: DivestmentModel, year: Year) -> None:
    """Pending transitions: abandoned at their yearly chance (less when supported), or live when due.

    A transition goes live at the start of the year after its lag is over.
    """
    r, j, f = entries_flat(m.pending >= 0)
    if not len(j):
        return
    p, R, y, nxt = m.p, m.n_batch, year.y, year.y + 1
    to = flat(m.pending)[f]
    supported = flat(m.pending_supported)[f]
    rate = m.abandon_by_mode[to] * (1.0 - p["support.abandon_reduction"] * supported)
    # a council under deeper cuts has less capacity to see a transition through
    rate = rate * (1.0 + p["review.capacity_loss_per_pressure"] * year.pressure[j])
    # one draw per service and target for libraries and leisure (its first point's), so a decision about
    # a whole service is abandoned whole; a community hand-over has its own point's draw
    fd = r * m.slots.n + np.where(to == rules.COMMUNITY, j, m.slots.founder[j])
    abandon = year.u.at_flat(U_ABANDON, fd, salt=to) < rate
    rg, jg = r[abandon], j[abandon]
    m.log_events(rg, jg, y, flat(m.mode)[f[abandon]], to[abandon], "abandoned")
    flat(m.pending)[f[abandon]] = -1
    year.new["abandoned"] = np.bincount(rg, minlength=R)
    live = ~abandon & (flat(m.pending_live)[f] == nxt)
    if live.any():
        rl, jl, fl = r[live], j[live], f[live]
        go_live(m, rl, jl, to[live], nxt, "live", join=True, f=fl)
        flat(m.pending)[fl] = -1
        year.new["live"] = np.bincount(rl, minlength=R)


def go_live(
    m: DivestmentModel,
    r: np.ndarray,
    j: np.ndarray,
    mode: np.ndarray,
    y: int,
    reason: str,
    join: bool,
    f: np.ndarray | None = None,
) -> None:
    """Services ``j`` of replications ``r`` change to ``mode`` in year ``y``; staff and spend go with them.

    With ``join``, a divestment may go to the largest existing provider of the same kind in its region
    and service (chance ``contract.p_join_existing``). The option's saving lowers the part's spend and
    staff, and is credited to ``cum_savings`` (not for the starting state): spend moved plus spend saved
    equals spend before. ``f``: the entries' flat indices ``r * n_slots + j``, if the caller has them.
    """
    if len(j) == 0:
        return
    p, s = m.p, m.slots
    f = r * s.n + j if f is None else f
    old = flat(m.mode)[f]
    m.log_events(r, j, y, old, mode, reason)
    flat(m.mode)[f] = mode
    flat(m.since)[f] = y
    divested = IS_DIVESTED[mode]
    # one provider per council and service for libraries and leisure (keyed by the service's first slot),
    # except community groups, one per point
    key = np.where(mode == rules.COMMUNITY, j, s.founder[j])
    provider = np.where(divested, mode * s.n + key, -1)
    if join:
        fj = r * s.n + np.where(mode == rules.COMMUNITY, j, s.founder[j])  # a service joins whole
        joining = divested & (m.u.at_flat(U_JOIN, fj) < p["contract.p_join_existing"])
        if joining.any():
            rj, mj, cj = r[joining], mode[joining], m.cell[j[joining]]
            kinds = (rj * len(rules.MODES) + mj) * m.n_cells + cj
            best = largest_provider_by_kind(m, exclude=(r, j), kinds=kinds)
            found = best.reshape(-1)[kinds]
            provider[joining] = np.where(found >= 0, found, provider[joining])
    flat(m.provider)[f] = provider
    flat(m.contract_end)[f] = np.where(divested, y + p["contract.length_years"], NO_CONTRACT)
    spend = flat(m.spend)
    if reason != "initial":
        # the option's saving lowers the part's spend (the contract's value) and its staff with it
        before = spend[f]
        saved = m.saving_by_mode[mode] * before * (old != mode)
        kept = 1.0 - saved / np.where(before > 0, before, 1.0)
        spend[f] = before - saved
        flat(m.staff)[f] *= kept
        cut = (mode == REDUCED) & (old != mode)
        flat(m.units)[f[cut]] *= kept[cut]  # a cut closes its share of the provision
        m.cum_savings += np.bincount(r, weights=saved, minlength=m.n_batch)
    flat(m.contract_value)[f] = np.where(divested, spend[f], 0.0)
    flat(m.budget_line)[f] = spend[f]  # the council's budget for the part from now, as let


def provider_groups(
    m: DivestmentModel, r: np.ndarray, j: np.ndarray, f: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Divested entries (r, j) grouped by their provider (:func:`sim.model.arrays.group`).

    ``f``: the entries' flat indices ``r * n_slots + j``, if the caller has them.
    """
    provider = flat(m.provider)[r * m.slots.n + j if f is None else f]
    return group(r * m.n_provider_ids + provider, m.scratch)


def largest_provider_by_kind(
    m: DivestmentModel,
    exclude: tuple[np.ndarray, np.ndarray],
    divested: tuple | None = None,
    kinds: np.ndarray | None = None,
) -> np.ndarray:
    """The largest provider (by staff) of each mode and region-service cell, ignoring entries ``exclude``.

    Ties go to the lowest provider id.

    Args:
        m: the model.
        exclude: entries (r, j) left out, e.g. the parts going live now.
        divested: the entries (r, j) of every divested part but ``exclude``, in row order, with their
            :func:`provider_groups` and their flat indices ``r * n_slots + j``, as ``(r, j,
            representative, is_provider, f)``, if the caller has them (``exclude`` is then not read).
        kinds: only these kinds ``(r * n_modes + mode) * n_cells + cell`` are wanted (others are -1): the
            parts of other kinds are left out before grouping. A provider's parts are all of one kind (one
            mode, one cell), so a wanted kind's providers and their staff are those of the full count.

    Returns:
        (R, n_modes, n_cells) provider ids, -1 where a replication has no such provider.
    """
    R, n_modes, nc = m.n_batch, len(rules.MODES), m.n_cells
    if divested is None:
        existing = IS_DIVESTED[m.mode]
        existing[exclude] = False
        r, j, f = entries_flat(existing)
        if kinds is not None:
            wanted = np.zeros(R * n_modes * nc, dtype=bool)
            wanted[kinds] = True
            keep = wanted[(r * n_modes + flat(m.mode)[f]) * nc + m.cell[j]]
            r, j, f = r[keep], j[keep], f[keep]
        representative, is_provider = provider_groups(m, r, j, f) if len(j) else (None, None)
    else:
        r, j, representative, is_provider, f = divested
    if len(j) == 0:
        return np.full((R, n_modes, nc), -1, dtype=np.int64)
    staff = np.bincount(representative, weights=flat(m.staff)[f], minlength=len(j))[is_provider]
    r, j, f = r[is_provider], j[is_provider], f[is_provider]
    ids = flat(m.provider)[f]
    kind = (r * n_modes + flat(m.mode)[f]) * nc + m.cell[j]  # a provider has one mode and one cell
    largest = np.full(R * n_modes * nc, -np.inf)
    np.maximum.at(largest, kind, staff)
    top = staff == largest[kind]
    best = np.full(R * n_modes * nc, np.iinfo(np.int64).max)
    np.minimum.at(best, kind[top], ids[top])
    return np.where(best == np.iinfo(np.int64).max, -1, best).reshape(R, n_modes, nc)
