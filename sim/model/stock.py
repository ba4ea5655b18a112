"""The library and leisure stock known by 2014, placed on councils by what made it likely.

CIPFA's 2013-14 returns count 174 community managed or supported and 138 commissioned libraries in
England; Sporta counted 30% of leisure centres in trusts in 2013 (CALIBRATION.md). A 2014 start places
them here, with the propensities of :mod:`sim.model.points` that also drive later decisions: community
libraries on small branches of rural authorities with many branches, commissioned libraries as whole
services where a leisure trust already runs the council's (or its region's) leisure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import points, rules
from sim.model.arrays import entries
from sim.model.rules import COMMUNITY, IN_HOUSE, IS_COUNCIL, LEGACY, TRUST
from sim.model.slots import LIBRARIES
from sim.model.stages.transitions import go_live

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel


def leisure_trust_presence(m: DivestmentModel, regional: bool = False) -> np.ndarray:
    """(R, n_councils): share of each council's leisure centres run by a trust (LEGACY or TRUST).

    A council without leisure (a county) takes its region's share of centres in trusts, as the trusts
    near it that could bid for its services; with ``regional`` every council takes its region's share
    (the incumbents that could bid for a leisure service).
    """
    s, R, n_councils = m.slots, m.n_batch, m.england.n
    lei = m.leisure_slots
    mode = m.mode[:, lei]
    in_trust = (mode == LEGACY) | (mode == TRUST)
    council, region = s.council[lei], s.region[lei]
    own = np.bincount(
        (np.arange(R)[:, None] * n_councils + council)[in_trust], minlength=R * n_councils
    ).reshape(R, n_councils)
    total = np.bincount(council, minlength=n_councils)
    n_regions = int(s.region.max()) + 1
    in_region = np.bincount(
        (np.arange(R)[:, None] * n_regions + region)[in_trust], minlength=R * n_regions
    ).reshape(R, n_regions)
    region_total = np.maximum(np.bincount(region, minlength=n_regions), 1)
    council_region = np.zeros(n_councils, dtype=np.int64)
    council_region[s.council] = s.region
    if regional:
        return (in_region / region_total)[:, council_region]
    return np.where(total > 0, own / np.maximum(total, 1), (in_region / region_total)[:, council_region])


def members(m: DivestmentModel, r: np.ndarray, j: np.ndarray, council_run: bool = True) -> tuple:
    """Entries (r, founder) expanded to the slots of their services, the council-run ones only if asked."""
    rr, jj = points.expand_to_service(m.slots, r, j)
    if council_run:
        keep = IS_COUNCIL[m.mode[rr, jj]]
        rr, jj = rr[keep], jj[keep]
    return rr, jj


def expand_with(m: DivestmentModel, picked: tuple, values: np.ndarray) -> tuple[tuple, np.ndarray]:
    """:func:`members` of ``picked`` (council-run), each with its founder's value (``values``, last axis)."""
    r, j = picked
    rr, jj = points.expand_to_service(m.slots, r, j)
    vv = np.repeat(values, m.slots.n_points[j], axis=-1)
    keep = IS_COUNCIL[m.mode[rr, jj]]
    return (rr[keep], jj[keep]), vv[..., keep]


def go_live_whole(m: DivestmentModel, picked: tuple, mode: int, y: int) -> None:
    """Services picked by their first slot go to ``mode`` whole in the starting state (one provider)."""
    r, j = members(m, *picked)
    go_live(m, r, j, np.full(len(j), mode), y, "initial", join=False)


def place_commissioned_libraries(m: DivestmentModel, u: np.ndarray, fixed: np.ndarray) -> None:
    """Whole library services commissioned to trusts by 2014, to about ``init.n_commissioned_*`` points.

    The named mutuals (Suffolk, York) count first. The rest are drawn service by service without
    replacement (Efraimidis-Spirakis keys from the first slot's draw) with weight
    :func:`sim.model.points.trust_propensity` (a leisure trust at home or in the region makes it
    likelier), each taken in key order if it brings the points nearer the target.
    """
    s, p, y = m.slots, m.p, m.start_year
    lib_first = np.flatnonzero((s.service == LIBRARIES) & (s.founder == np.arange(s.n)))
    named = (~IS_COUNCIL[m.mode[0]]) & (s.service == LIBRARIES) & fixed
    target = p["init.n_commissioned_library_points_2014"] - int(named.sum())
    weight = points.trust_propensity(s, leisure_trust_presence(m)[:, s.council], p)
    picked_r, picked_j = [], []
    for r in range(m.n_batch):
        cand = lib_first[(m.mode[r, lib_first] == IN_HOUSE) & ~fixed[lib_first]]
        keys = u[r, cand] ** (1.0 / weight[r, cand])
        order = cand[np.argsort(-keys, kind="stable")]
        taken, total = [], 0
        for j, n in zip(order.tolist(), s.n_points[order].tolist(), strict=True):
            if abs(total + n - target) < abs(total - target):  # in key order, if it brings the total nearer
                taken.append(j)
                total += n
        picked_j.append(np.array(taken, dtype=np.int64))
        picked_r.append(np.full(len(taken), r))
    go_live_whole(m, (np.concatenate(picked_r), np.concatenate(picked_j)), TRUST, y)


def place_community_libraries(m: DivestmentModel, u: np.ndarray, fixed: np.ndarray) -> None:
    """``init.n_community_library_points_2014`` council-run points handed to community groups by 2014.

    Drawn without replacement with weight :func:`sim.model.points.community_propensity` (small branches
    of rural authorities with many branches; never a main library unless allowed).
    """
    s, p = m.slots, m.p
    weight = points.community_propensity(s, m.relative_density, p)
    weights = np.where((m.mode == IN_HOUSE) & ~fixed & (s.service == LIBRARIES), weight[None, :], 0.0)
    picked = entries(rules.weighted_sample_rows(u, weights, int(p["init.n_community_library_points_2014"])))
    go_live(m, *picked, np.full(len(picked[0]), COMMUNITY), m.start_year, "initial", join=False)
