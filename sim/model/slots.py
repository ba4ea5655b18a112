"""Service parts ("slots") and funding paths: the fixed inputs every run of a parameter set shares.

A slot is one part of one council's adult social care, libraries or leisure service (day services, say,
or its branch libraries); slots come in a fixed order (by council, then part), so every array of the
model indexed by slot lines up with :class:`Slots`. Decisions apply to parts, so a council can divest
its day services and keep the rest, or hand its branches to volunteers and keep its main libraries.
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
"""The divisible parts of each service: (service, part name). Adult social care's statutory core
(assessment and care management, commissioning) stays with the council and is not a part; a leisure
estate moves whole (councils transferred their centres together, as to the leisure trusts of 2014)."""
PART_NAMES = tuple(name for _, name in PARTS)


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
        units: units of provision (library service points; 1 for a part of adult social care or a
            leisure estate).
        cost_per_post: GBP million per post, so staff = spend / cost_per_post.
        by_council: the slots of each council.
        index: slot of each (ONS code, service, part name).
        by_service: the slots of each (ONS code, service), its parts in order.
    """

    council: np.ndarray
    service: np.ndarray
    part: np.ndarray
    region: np.ndarray
    staff: np.ndarray
    spend: np.ndarray
    units: np.ndarray
    cost_per_post: np.ndarray
    by_council: tuple[np.ndarray, ...]
    index: dict[tuple[str, int, str], int]
    by_service: dict[tuple[str, int], tuple[int, ...]]

    @property
    def n(self) -> int:
        """Number of slots."""
        return len(self.council)


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
    library_main: tuple[float, float],
    library_points: float,
) -> Slots:
    """Service parts with spend, staff and units from 2014-15 outturn (cached by the parameters used).

    Adult social care: a council's in-house staff are the national HSCIC total shared by its adult social
    care spend; each divestible part is a share of them (``asc_shares``: day services, learning
    disability, home care and reablement), costed per post. Libraries: a share of 'cultural and related'
    spend, split between main libraries and branches (``library_main``: main libraries' share of spend
    and of service points), with the national service points shared by library spend. Leisure: a share
    of 'cultural and related' spend, one part. Staff are spend over the cost per post.
    """
    eng = load_england()
    c = eng.councils
    types = c["type"].to_numpy()
    region = pd.Categorical(c["region"], categories=REGIONS).codes.astype(np.int64)
    asc_spend = c["asc_spend_gbp_m"].to_numpy()
    cultural = c["cultural_spend_gbp_m"].to_numpy()
    upper = np.isin(types, list(UPPER_TIER_TYPES))
    leisure = np.isin(types, list(LEISURE_TYPES))
    runs = {ASC: upper, LIBRARIES: upper, LEISURE: leisure}
    rows = [(i, k) for i in range(eng.n) for k, (service, _) in enumerate(PARTS) if runs[service][i]]
    council = np.array([r[0] for r in rows], dtype=np.int64)
    part = np.array([r[1] for r in rows], dtype=np.int64)
    service = np.array([PARTS[k][0] for k in part], dtype=np.int64)
    is_asc, is_lib, is_lei = service == ASC, service == LIBRARIES, service == LEISURE
    main_spend, main_points = library_main
    part_share = np.array([*asc_shares, main_spend, 1.0 - main_spend, 1.0])[part]
    library_share = np.where(types == "CTY", library_share_county, library_share_single_tier)
    library_spend = library_share * cultural  # by council
    staff = np.empty(len(rows))
    cost = np.empty(len(rows))
    spend = np.empty(len(rows))
    asc_total = asc_spend[upper].sum()
    staff[is_asc] = asc_staff * part_share[is_asc] * asc_spend[council[is_asc]] / asc_total
    cost[is_asc] = asc_cost_k / 1000.0
    spend[is_asc] = staff[is_asc] * cost[is_asc]
    spend[is_lib] = part_share[is_lib] * library_spend[council[is_lib]]
    cost[is_lib] = library_cost_k / 1000.0
    spend[is_lei] = leisure_share * cultural[council[is_lei]]
    cost[is_lei] = leisure_cost_k / 1000.0
    staff[~is_asc] = spend[~is_asc] / cost[~is_asc]
    units = np.ones(len(rows))
    points = library_points * library_spend / library_spend[upper].sum()
    points_share = np.array([0, 0, 0, main_points, 1.0 - main_points, 0])[part]
    units[is_lib] = points[council[is_lib]] * points_share[is_lib]
    by_council = tuple(np.flatnonzero(council == i) for i in range(eng.n))
    index = {
        (eng.codes[i], int(PARTS[k][0]), PARTS[k][1]): j
        for j, (i, k) in enumerate(zip(council, part, strict=True))
    }
    by_service: dict[tuple[str, int], list[int]] = {}
    for (code, k, _), j in index.items():
        by_service.setdefault((code, k), []).append(j)
    for a in (council, service, part, staff, spend, units, cost, *by_council):
        a.setflags(write=False)
    return Slots(
        council,
        service,
        part,
        region[council],
        staff,
        spend,
        units,
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
        (p["services.library_main_share_of_spend"], p["services.library_main_share_of_points"]),
        float(p["services.library_points_2014"]),
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
