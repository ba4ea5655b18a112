"""Library points and leisure centres: what makes a council likely to hand over, commission or close one.

Pure functions of the councils' attributes known by 2014 (points of 2010, residents per km2, the size of
each point) and of the year's court record, shared by the starting state of 2014 (which places the stock
known by 2014 with them) and by the branch decisions of later years (:mod:`sim.model.stages.branches`),
so both starts follow one mechanism. Parameters are ``libraries.*`` and ``leisure.*`` in
`sim/inputs/parameters.toml`.
"""

from __future__ import annotations

import numpy as np

from sim.model.slots import ASC, LEISURE, LIBRARIES, Slots

MEDIAN_LIBRARY_POINTS = 13.0
"""The median library authority's statutory libraries of 2010 (``library_points_2010_by_authority.csv``)."""
GLOUCESTERSHIRE_SOMERSET_YEAR = 2012
"""The first financial year decided after Gloucestershire's and Somerset's closures were quashed (16 Nov
2011, [2011] EWHC 2687 (Admin)): decisions of 2012-13 on know the court record."""
LINCOLNSHIRE_YEAR = 2014
"""The first financial year whose decisions know that a large hand-over can be unlawful too (Lincolnshire's
hand-over of 30 of 45 libraries, Jul 2014, [2014] EWHC 2388 (Admin))."""


def density(slots: Slots, population: np.ndarray, area_km2: np.ndarray) -> np.ndarray:
    """Residents per km2 of each slot's council, relative to the median library authority's."""
    d = population / np.maximum(area_km2, 1e-6)
    upper = np.unique(slots.council[slots.service == LIBRARIES])
    return d[slots.council] / np.median(d[upper])


def community_propensity(slots: Slots, relative_density: np.ndarray, p: dict) -> np.ndarray:
    """Relative readiness of each point to pass to a community group (0 where it may not), by slot.

    A product of the council's points of 2010 over the median's (``libraries.community_branch_elasticity``),
    its residents per km2 over the median's (``libraries.community_rural_elasticity``, negative: rural
    councils more) and, for a library, the point's size over its service's mean
    (``libraries.community_size_elasticity``, negative: small branches more). A main library (the only
    library of a one-library authority among them) never passes to volunteers unless
    ``libraries.volunteers_may_run_main_library``; adult social care never does.
    """
    lib, lei = slots.service == LIBRARIES, slots.service == LEISURE
    n_lib = np.where(lib, slots.n_points, MEDIAN_LIBRARY_POINTS)
    out = (n_lib / MEDIAN_LIBRARY_POINTS) ** p["libraries.community_branch_elasticity"]
    out = out * relative_density ** -p["libraries.community_rural_elasticity"]
    mean_size = 1.0 / slots.n_points
    out = out * np.where(lib, (slots.size / mean_size) ** -p["libraries.community_size_elasticity"], 1.0)
    out[slots.service == ASC] = 0.0
    if not p["libraries.volunteers_may_run_main_library"]:
        out[lib & (slots.point == 0)] = 0.0
    out[lei & (slots.point == 0)] = 0.0  # a leisure service's first centre stays with the service
    return out


def trust_propensity(slots: Slots, presence: np.ndarray, p: dict) -> np.ndarray:
    """Relative readiness of each slot's service to go to a trust ((R, n) for an (R, n) ``presence``).

    Leisure: (centres / median centres) ** ``leisure.trust_weight_per_centre`` (rate relief and VAT
    savings and a trust's overheads favour larger estates). Libraries: 1 + (w - 1) times ``presence``,
    w = ``libraries.trust_weight_leisure_trust``, ``presence`` the share of the council's (or, for a
    county, its region's) leisure centres already run by a trust
    (:func:`sim.model.stock.leisure_trust_presence`). Adult social care: 1.
    """
    lei, lib = slots.service == LEISURE, slots.service == LIBRARIES
    median = np.median(slots.n_points[lei]) if lei.any() else 1.0
    base = np.where(lei, (slots.n_points / median) ** p["leisure.trust_weight_per_centre"], 1.0)
    return base * np.where(lib, 1.0 + (p["libraries.trust_weight_leisure_trust"] - 1.0) * presence, 1.0)


def court_factor(year: int, p: dict) -> tuple[float, float]:
    """How much the court record known in ``year`` raises the legal risk of closing and of handing over.

    Returns (closing, handing over) multipliers of ``libraries.duty_weight``: closing carries the 1964
    Act's risk throughout and more once Gloucestershire and Somerset were quashed; handing over carries
    risk only once Lincolnshire's hand-over was found unlawful.
    """
    closing = 1.0 + (p["libraries.court_record_effect"] if year >= GLOUCESTERSHIRE_SOMERSET_YEAR else 0.0)
    handing = p["libraries.handover_risk_share"] if year >= LINCOLNSHIRE_YEAR else 0.0
    return closing, handing


def duty_risk(share_lost_after: np.ndarray, weight: float, factor: float) -> np.ndarray:
    """Legal risk of the statutory duty (appraisal points): rises with the share of the service lost.

    Convex in the share (its square): closing a few small branches of a large service risks little, closing
    a third of the service (Gloucestershire 10 of 38, Somerset 11 of 34, quashed in 2011) a lot.
    """
    return weight * factor * np.clip(share_lost_after, 0.0, 1.0) ** 2


def expand_to_service(slots: Slots, r: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Entries (r, founder slot) expanded to every slot of the founder's service (contiguous slots)."""
    n = slots.n_points[j]
    rr = np.repeat(r, n)
    start = np.repeat(j, n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    return rr, start + offset
