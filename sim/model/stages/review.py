"""Stage 2, review: which services councils review this year, and which staff propose a mutual."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import flat
from sim.model.draws import U_PROPOSAL, U_READY, U_REVIEW
from sim.model.rules import IN_HOUSE, IS_MUTUAL, IS_REVIEWABLE, REBOOTED

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def peer_counts(m: DivestmentModel) -> tuple[np.ndarray, np.ndarray]:
    """Mutual services in each (replication, region-service cell) and (replication, service): int arrays.

    A library or leisure service counts once (at its first point), however many points it has.
    """
    R, nc = m.n_batch, m.n_cells
    f = np.flatnonzero(IS_MUTUAL[m.mode] & m.is_head)  # a library or leisure service counts once
    return (
        np.bincount(flat(m.cell_key)[f], minlength=R * nc),
        np.bincount(flat(m.service_key)[f], minlength=R * 3),
    )


def peers(
    m: DivestmentModel, counts: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Mutual services in each slot's region and service, and in its service nationally.

    Returns:
        two (R, n_slots) float arrays, counted in each replication.
    """
    by_cell, by_service = peer_counts(m) if counts is None else counts
    return by_cell.astype(float)[m.cell_key], by_service.astype(float)[m.service_key]


def select(m: DivestmentModel, year: Year) -> None:
    """Services under pressure are reviewed (after a cooling-off period); staff may propose a mutual.

    A proposal needs an in-house service with a ready staff team (a finite pool that the readiest leave
    first and that replenishes slowly, ``proposals.replenish_per_year``); with the duty to consider in
    force it is heard even during the cooling-off period. Sets ``year.reviewed``, ``year.is_proposal``,
    ``year.peer_counts`` and ``year.duty``.
    """
    p, y, u = m.p, year.y, year.u
    year.peer_counts = counts = peer_counts(m)
    # a library or leisure service is reviewed as one, at its first point (stages.branches does the
    # rest): only the heads' columns are worked out (a part of adult social care, a service's first point)
    H = m.head_slots
    mode, pressure = m.mode[:, H], year.pressure[H]
    eligible = IS_REVIEWABLE[mode] & (m.pending[:, H] < 0)
    cooled = (y - m.last_review[:, H]) >= p["review.min_years_between"]
    # councils' capacity to run appraisals falls as cuts deepen
    capacity = np.maximum(0.0, 1.0 - p["review.capacity_loss_per_pressure"] * pressure)
    # a slot's chance depends on its council and on whether it is re-booted: worked out per slot for
    # both (the same arithmetic as over every replication), then picked
    chance = [
        rules.review_probability(pressure, p["review.rate_per_pressure"], mult * capacity)
        for mult in (1.0, p["review.rebooted_multiplier"])
    ]
    chance = np.where(mode == REBOOTED, chance[1], chance[0])
    is_review = eligible & cooled & (u.columns(U_REVIEW, H) < chance)
    year.duty = bool(p["policy.duty_to_consider"] and y >= p["policy.duty_from_year"])
    in_house = mode == IN_HOUSE
    ready = m.ready[:, H]
    r0, h0 = np.nonzero(in_house & ~ready)
    ready[r0, h0] = u.at(U_READY, r0, H[h0]) < p["proposals.replenish_per_year"]  # new teams, slowly
    # the chance depends only on the count of peers in the cell: worked out once per count, then looked up
    by_count = rules.proposal_probability(
        p["proposals.rate_per_year"], p["proposals.peer_effect"], np.arange(counts[0].max() + 1.0)
    )
    prob_prop = by_count[counts[0]][m.cell_key[:, H]]
    proposal = eligible & in_house & ready & (u.columns(U_PROPOSAL, H) < prob_prop) & (cooled | year.duty)
    m.ready[:, H] = ready & ~proposal  # a team that has proposed is spent, whatever the outcome
    year.is_proposal = np.zeros(m.mode.shape, dtype=bool)
    year.is_proposal[:, H] = proposal
    r, h = np.nonzero(is_review | proposal)
    year.reviewed = (r, H[h])
