"""Service parts ("slots") and funding paths: the fixed inputs every run of a parameter set shares.

A slot is one part of one council's adult social care, libraries or leisure service: a divisible part of
adult social care (day services, say), one library service point (a library of 2010) or one leisure
centre. Slots come in a fixed order (by service, then council, then point: each service one block), so
every array of the model indexed by slot lines up with :class:`Slots`. Decisions apply to parts, so a
council can divest its day services and keep the rest, hand its small branches to volunteers one by one
and keep its main library, or put some centres in a trust and keep others.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from sim.inputs.councils import FUNDING_YEARS, LEISURE_TYPES, REGIONS, UPPER_TIER_TYPES, England, load_england
from sim.inputs.funding import read_funding_file
from sim.inputs.scenario import START_YEAR

SERVICES = ("adult_social_care", "libraries", "leisure")
ASC, LIBRARIES, LEISURE = range(3)
PARTS = (
    (ASC, "day_services"),
    (ASC, "learning_disability"),
    (ASC, "home_care_reablement"),
    (LIBRARIES, "main_libraries"),
    (LIBRARIES, "branch_libraries"),
    (LEISURE, "leisure_centres"),
)
"""The kinds of part of each service: (service, part name). Adult social care's statutory core
(assessment and care management, commissioning) stays with the council and is not a part. A library
service has one main library (point 0) and its branches (points 1 to n - 1), one slot each, as many as the
authority's statutory libraries of 2010 (``library_points_2010_by_authority.csv``); a leisure service has
its centres, one slot each (their number an assumption: ``leisure.residents_per_centre``)."""
PART_NAMES = tuple(name for _, name in PARTS)
MAIN_LIBRARY, BRANCH_LIBRARY, LEISURE_CENTRE = 3, 4, 5


@dataclass(frozen=True)
class Slots:
    """The service parts of England ("slots"): one per council, service it runs and part, in a fixed order.

    Attributes:
        council: council index of each slot.
        service: service index (ASC, LIBRARIES, LEISURE).
        part: part index (into :data:`PARTS`).
        region: region index of the council (into `sim.inputs.councils.REGIONS`).
        staff: staff in 2014 (headcount).
        spend: spend in 2014-15, GBP million.
        units: units of provision (1 for an open library point or leisure centre, or a part of adult
            social care).
        point: the slot's number within its council's service (0 the main library or first centre; 1 to
            n - 1 the branches or other centres, largest first; the part's index for adult social care).
        founder: the service's first slot for libraries and leisure (a provider taking the whole service
            is keyed and drawn by it); the slot itself for adult social care.
        size: the slot's share of its council's service spend (library points by a rank-size rule).
        n_points: the number of slots of the slot's council and service.
        cost_per_post: GBP million per post, so staff = spend / cost_per_post.
        by_council: the slots of each council.
        index: the first slot of each (ONS code, service, part name).
        by_service: the slots of each (ONS code, service), its parts in order.
    """

    council: np.ndarray
    service: np.ndarray
    part: np.ndarray
    region: np.ndarray
    staff: np.ndarray
    spend: np.ndarray
    units: np.ndarray
    point: np.ndarray
    founder: np.ndarray
    size: np.ndarray
    n_points: np.ndarray
    cost_per_post: np.ndarray
    by_council: tuple[np.ndarray, ...]
    index: dict[tuple[str, int, str], int]
    by_service: dict[tuple[str, int], tuple[int, ...]]

    @property
    def n(self) -> int:
        """Number of slots."""
        return len(self.council)


def points_per_council(eng: England, residents_per_centre: float) -> tuple[np.ndarray, np.ndarray]:
    """Library points (2010 statutory libraries) and leisure centres of each council; 0 where it runs none.

    Leisure centres: one per ``residents_per_centre`` residents, rounded, at least one (an assumption: no
    count by council known by 2014 was found).
    """
    c = eng.councils
    types = c["type"].to_numpy()
    libraries = np.where(np.isin(types, list(UPPER_TIER_TYPES)), c["library_points_2010"].to_numpy(), 0)
    centres = np.maximum(np.rint(c["population"].to_numpy() / residents_per_centre), 1.0)
    centres = np.where(np.isin(types, list(LEISURE_TYPES)), centres, 0)
    return libraries.astype(np.int64), centres.astype(np.int64)


def rank_size(n: int, exponent: float) -> np.ndarray:
    """Shares of a service's spend of its ``n`` points by rank (the main library first): k ** -exponent."""
    w = np.arange(1, n + 1, dtype=float) ** -exponent
    return w / w.sum()


@lru_cache(maxsize=32)
def build_slots(
    library_share_county: float,
    library_share_single_tier: float,
    leisure_share: float,
    asc_staff: float,
    asc_shares: tuple[float, float, float],
    asc_cost_k: float,
    library_cost_k: float,
    leisure_cost_k: float,
    library_size_exponent: float,
    residents_per_centre: float,
) -> Slots:
    """Service parts with spend, staff and units from 2014-15 outturn (cached by the parameters used).

    Adult social care: a council's in-house staff are the national HSCIC total shared by its adult social
    care spend; each divestible part is a share of them (``asc_shares``: day services, learning
    disability, home care and reablement), costed per post. Libraries: a share of 'cultural and related'
    spend, shared among the authority's 2010 library points by rank and size (``library_size_exponent``:
    point k of n has k ** -exponent of the weight, the main library first). Leisure: a share of 'cultural
    and related' spend, shared equally among its centres. Staff are spend over the cost per post.
    """
    eng = load_england()
    c = eng.councils
    types = c["type"].to_numpy()
    region = pd.Categorical(c["region"], categories=REGIONS).codes.astype(np.int64)
    asc_spend = c["asc_spend_gbp_m"].to_numpy()
    cultural = c["cultural_spend_gbp_m"].to_numpy()
    upper = np.isin(types, list(UPPER_TIER_TYPES))
    n_lib, n_lei = points_per_council(eng, residents_per_centre)
    library_share = np.where(types == "CTY", library_share_county, library_share_single_tier)
    library_spend = library_share * cultural  # by council
    asc_total = asc_spend[upper].sum()
    rows: list[tuple] = []  # (council, part, point, share of the service's spend)
    # by service, then council, then point: each service's slots are one contiguous block (a slice)
    for i in np.flatnonzero(upper):
        rows += [(i, k, k, share) for k, share in enumerate(asc_shares)]
    for i in np.flatnonzero(upper):
        sizes = rank_size(int(n_lib[i]), library_size_exponent)
        rows += [(i, MAIN_LIBRARY if q == 0 else BRANCH_LIBRARY, q, sizes[q]) for q in range(n_lib[i])]
    for i in range(eng.n):
        rows += [(i, LEISURE_CENTRE, q, 1.0 / n_lei[i]) for q in range(n_lei[i])]
    council = np.array([r[0] for r in rows], dtype=np.int64)
    part = np.array([r[1] for r in rows], dtype=np.int64)
    point = np.array([r[2] for r in rows], dtype=np.int64)
    size = np.array([r[3] for r in rows])
    service = np.array([PARTS[k][0] for k in part], dtype=np.int64)
    is_asc, is_lib, is_lei = service == ASC, service == LIBRARIES, service == LEISURE
    staff = np.empty(len(rows))
    cost = np.empty(len(rows))
    spend = np.empty(len(rows))
    staff[is_asc] = asc_staff * size[is_asc] * asc_spend[council[is_asc]] / asc_total
    cost[is_asc] = asc_cost_k / 1000.0
    spend[is_asc] = staff[is_asc] * cost[is_asc]
    spend[is_lib] = size[is_lib] * library_spend[council[is_lib]]
    cost[is_lib] = library_cost_k / 1000.0
    spend[is_lei] = size[is_lei] * leisure_share * cultural[council[is_lei]]
    cost[is_lei] = leisure_cost_k / 1000.0
    staff[~is_asc] = spend[~is_asc] / cost[~is_asc]
    units = np.ones(len(rows))
    by_council = tuple(np.flatnonzero(council == i) for i in range(eng.n))
    by_service: dict[tuple[str, int], list[int]] = {}
    for j, (i, k) in enumerate(zip(council, service, strict=True)):
        by_service.setdefault((eng.codes[i], int(k)), []).append(j)
    index: dict[tuple[str, int, str], int] = {}  # a part's first slot (the main library, the first branch)
    for j, (i, k) in enumerate(zip(council, part, strict=True)):
        index.setdefault((eng.codes[i], int(PARTS[k][0]), PARTS[k][1]), j)
    founder = np.arange(len(rows))
    n_points = np.ones(len(rows), dtype=np.int64)
    for (_, k), slots in by_service.items():
        if k != ASC:
            founder[slots] = slots[0]
            n_points[slots] = len(slots)
    for a in (council, service, part, point, founder, size, n_points, staff, spend, units, cost, *by_council):
        a.setflags(write=False)
    return Slots(
        council,
        service,
        part,
        region[council],
        staff,
        spend,
        units,
        point,
        founder,
        size,
        n_points,
        cost,
        by_council,
        index,
        {key: tuple(v) for key, v in by_service.items()},
    )


COST_BASE_YEAR = START_YEAR
"""The year of the parts' spend, staff and cost per post: the 2014-15 outturn, in 2014-15 cash."""


def slots_for(p: dict) -> Slots:
    """Service parts for a parameter set."""
    return build_slots(
        p["services.library_share_of_cultural_county"],
        p["services.library_share_of_cultural_single_tier"],
        p["services.leisure_share_of_cultural"],
        float(p["services.asc_staff_2014"]),
        (
            p["services.asc_share_day_services"],
            p["services.asc_share_learning_disability"],
            p["services.asc_share_home_care_reablement"],
        ),
        p["services.asc_cost_per_post_gbp_k"],
        p["services.library_cost_per_post_gbp_k"],
        p["services.leisure_cost_per_post_gbp_k"],
        p["libraries.size_exponent"],
        p["leisure.residents_per_centre"],
    )


def funding_path(eng: England, p: dict, end_year: int) -> np.ndarray:
    """Yearly cash change of each council's funding, years 2011 to ``end_year``.

    Returns:
        (n_councils, end_year - 2010) array; column j is financial year 2011 + j.
    """
    years = np.arange(FUNDING_YEARS[0], end_year + 1)
    path = np.full((eng.n, len(years)), p["funding.cash_change_after_2019"])
    n_data = min(len(FUNDING_YEARS), len(years))
    path[:, :n_data] = eng.funding_change[:, :n_data]
    projected = years > START_YEAR
    if p["funding.path"] == "flat":
        path[:, projected] = p["funding.flat_cash_change_per_year"]
    elif p["funding.path"] == "file":
        df = read_funding_file(p["funding.path_file"])  # checked: sim.inputs.funding
        codes = eng.councils["ons_code"].to_numpy()
        row = pd.Series(np.arange(eng.n), index=codes).reindex(df["ons_code"]).to_numpy()
        col = df["year"].to_numpy() - years[0]
        ok = ~np.isnan(row) & (col >= 0) & (col < len(years))
        path[row[ok].astype(int), col[ok].astype(int)] = df["cash_change"].to_numpy()[ok]
    path[:, years >= p["funding.extra_cut_from_year"]] -= p["funding.extra_cut_per_year"]
    return path
