"""Service slots and funding paths: the fixed inputs every run of a parameter set shares.

A slot is one council's adult social care, libraries or leisure service; slots come in a fixed order
(by council, then service), so every array of the model indexed by slot lines up with :class:`Slots`.
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


@dataclass(frozen=True)
class Slots:
    """The service slots of England: one per council and service it runs, in a fixed order.

    Attributes:
        council: council index of each slot.
        service: service index (ASC, LIBRARIES, LEISURE).
        region: region index of the council (into `sim.inputs.councils.REGIONS`).
        staff: staff in 2014 (headcount).
        spend: spend in 2014-15, GBP million.
        cost_per_post: GBP million per post, so staff = spend / cost_per_post.
    """

    council: np.ndarray
    service: np.ndarray
    region: np.ndarray
    staff: np.ndarray
    spend: np.ndarray
    cost_per_post: np.ndarray
    by_council: tuple[np.ndarray, ...]
    index: dict[tuple[str, int], int]

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
    asc_divestible: float,
    asc_cost_k: float,
    library_cost_k: float,
    leisure_cost_k: float,
) -> Slots:
    """Service slots with spend and staff from 2014-15 outturn (cached by the parameters used).

    Adult social care: a council's in-house staff are the national HSCIC total shared by its adult social
    care spend; the divestible unit is a share of them, costed per post. Libraries and leisure: a share of
    'cultural and related' spend, staffed at a cost per post.
    """
    eng = load_england()
    c = eng.councils
    types = c["type"].to_numpy()
    region = pd.Categorical(c["region"], categories=REGIONS).codes.astype(np.int64)
    asc_spend = c["asc_spend_gbp_m"].to_numpy()
    cultural = c["cultural_spend_gbp_m"].to_numpy()
    upper = np.isin(types, list(UPPER_TIER_TYPES))
    leisure = np.isin(types, list(LEISURE_TYPES))
    rows = []
    for i in range(eng.n):
        if upper[i]:
            rows.append((i, ASC))
            rows.append((i, LIBRARIES))
        if leisure[i]:
            rows.append((i, LEISURE))
    council = np.array([r[0] for r in rows], dtype=np.int64)
    service = np.array([r[1] for r in rows], dtype=np.int64)
    asc_total = asc_spend[upper].sum()
    staff = np.empty(len(rows))
    cost = np.empty(len(rows))
    spend = np.empty(len(rows))
    is_asc, is_lib, is_lei = service == ASC, service == LIBRARIES, service == LEISURE
    staff[is_asc] = asc_staff * asc_divestible * asc_spend[council[is_asc]] / asc_total
    cost[is_asc] = asc_cost_k / 1000.0
    spend[is_asc] = staff[is_asc] * cost[is_asc]
    library_share = np.where(types == "CTY", library_share_county, library_share_single_tier)
    spend[is_lib] = library_share[council[is_lib]] * cultural[council[is_lib]]
    cost[is_lib] = library_cost_k / 1000.0
    spend[is_lei] = leisure_share * cultural[council[is_lei]]
    cost[is_lei] = leisure_cost_k / 1000.0
    staff[~is_asc] = spend[~is_asc] / cost[~is_asc]
    by_council = tuple(np.flatnonzero(council == i) for i in range(eng.n))
    index = {(eng.codes[c], int(k)): j for j, (c, k) in enumerate(zip(council, service, strict=True))}
    for a in (council, service, staff, spend, cost, *by_council):
        a.setflags(write=False)
    return Slots(council, service, region[council], staff, spend, cost, by_council, index)


def slots_for(p: dict) -> Slots:
    """Service slots for a parameter set."""
    return build_slots(
        p["services.library_share_of_cultural_county"],
        p["services.library_share_of_cultural_single_tier"],
        p["services.leisure_share_of_cultural"],
        float(p["services.asc_staff_2014"]),
        p["services.asc_divestible_share"],
        p["services.asc_cost_per_post_gbp_k"],
        p["services.library_cost_per_post_gbp_k"],
        p["services.leisure_cost_per_post_gbp_k"],
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
