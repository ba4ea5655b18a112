"""The starting state, of 2014 or of 2010.

The 2014 state holds the named cases, the 2014 pipeline and the stock of mutuals, LATCs and trusts; the
2010 state the councils' 2010-11 spending, the few mutuals of 2010 and the leisure trusts already there.

Sources: CALIBRATION.md "Named cases by 2014" and "Public service mutuals" (the ``init.*`` parameters).
In a 2010 start nothing of 2011-2014 is written in: the named cases, the 2014 stock and pipeline are left
for the model's own mechanisms to produce (or not), and the Right to Request wave is pending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model import outside_start, points, prices, rules, stock
from sim.model.arrays import entries, row_sums
from sim.model.rules import IN_HOUSE, IS_COUNCIL, IS_DIVESTED, JOINT, LATC, LEGACY, MUTUAL
from sim.model.sampling import weighted_sample_rows_grouped
from sim.model.slots import ASC, LEISURE, LIBRARIES
from sim.model.stages.transitions import go_live

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel

NAMED_CASES = (
    # (ONS code, service, mode, body, parts): the 2014 starting state, CALIBRATION.md "Named cases by
    # 2014"; parts None is every part of the service (one provider runs them all).
    ("E10000029", LIBRARIES, MUTUAL, "Suffolk Libraries IPS", None),
    ("E06000014", LIBRARIES, MUTUAL, "Explore York", None),
    ("E10000020", ASC, JOINT, "Independence Matters", ("day_services",)),
    ("E08000005", ASC, MUTUAL, "PossAbilities", ("learning_disability",)),
    ("E06000041", ASC, LATC, "Optalis", None),
)
PIPELINE_CASES = (
    # (ONS code, service, mode, year live, body, parts): decided by 2014, live later.
    ("E08000035", ASC, MUTUAL, 2015, "Aspire", ("learning_disability",)),
)


def draw_council_traits(m: DivestmentModel, r: int, g: np.random.Generator) -> None:
    """Replication ``r``'s councils' resistance (a Beta draw each) and which parts have a ready team."""
    p = m.p
    mean, k = p["appraisal.resistance_mean"], p["appraisal.resistance_concentration"]
    m.resistance[r] = g.beta(mean * k, (1 - mean) * k, size=m.england.n)
    m.ready[r] = g.random(m.slots.n) < p["proposals.ready_share_2014"]


def place_leisure_trusts(m: DivestmentModel, u: np.ndarray, share: float, fixed: np.ndarray) -> None:
    """Whole leisure estates run by a trust of before 2010 (mode LEGACY), about ``share`` of the centres.

    Each council's chance is ``share`` times its trust propensity (:func:`sim.model.points.trust_propensity`:
    larger estates more), normalised so the expected share of England's centres is ``share``; the draw is
    its first centre's.
    """
    s = m.slots
    lei = (s.service == LEISURE) & (s.founder == np.arange(s.n)) & ~fixed
    weight = points.trust_propensity(s, np.zeros(s.n), m.p)
    mean = (weight[lei] * s.n_points[lei]).sum() / s.n_points[lei].sum()
    chance = np.where(lei, np.minimum(share * weight / mean, 1.0), 0.0)
    first = u < chance
    trust = first[:, s.founder] & (s.service == LEISURE) & ~fixed
    m.mode[trust] = LEGACY


def case_slots(m: DivestmentModel, code: str, service: int, parts: tuple[str, ...] | None) -> list[int]:
    """The slots of a named case: the parts named, or every part of the service."""
    return list(m.slots_of(code, service)) if parts is None else [m.slot_of(code, service, p) for p in parts]


def setup_start(m: DivestmentModel) -> None:
    """Place the 2014 stock: named cases, the pipeline, legacy leisure trusts, mutuals and LATCs.

    Draws come first from each replication's ("init", start year) stream.
    """
    p, s, R, y = m.p, m.slots, m.n_batch, m.start_year
    if y == 2010:
        setup_2010(m)
        return
    draws = np.empty((R, 8, s.n))
    m.resistance = np.empty((R, m.england.n))
    m.gens = [st.generator("init", y) for st in m.streams_by_replication]  # reused by the years' streams
    for r, g in enumerate(m.gens):
        g.random(out=draws[r])  # first
        draw_council_traits(m, r, g)
    u_legacy, u_mutuals, u_latc, u_contract, u_pipeline, u_pipeline_year, u_trust, u_community = (
        draws.transpose(1, 0, 2)
    )
    everyone = np.arange(R)
    fixed = np.zeros(s.n, dtype=bool)
    for code, service, mode, _, parts in NAMED_CASES:
        slots = case_slots(m, code, service, parts)
        rr, jj = np.repeat(everyone, len(slots)), np.tile(slots, R)
        go_live(m, rr, jj, np.full(len(jj), mode), y, "initial", join=False)
        fixed[slots] = True
        m.provider[:, slots] = mode * s.n + slots[0]  # one body runs all its parts
    for code, service, mode, live, _, parts in PIPELINE_CASES:
        for j in case_slots(m, code, service, parts):
            m.pending[:, j], m.pending_live[:, j], m.pending_decided[:, j] = mode, live, y
            m.log_events(everyone, np.full(R, j), y, IN_HOUSE, mode, "pipeline")
            fixed[j] = True
    place_leisure_trusts(m, u_legacy, p["init.share_leisure_legacy_trust"], fixed)
    m.units[:, m.library_slots] *= p["services.library_points_2014"] / s.units[m.library_slots].sum()
    stock.place_commissioned_libraries(m, u_trust, fixed)
    stock.place_community_libraries(m, u_community, fixed)
    named_mutuals = sum(1 for c in NAMED_CASES if c[2] in rules.MUTUAL_MODES)
    n_lg = round(p["init.n_mutuals_2014"] * p["init.share_lg"]) - named_mutuals
    weights = np.array([p["init.lg_share_asc"], p["init.lg_share_libraries"], p["init.lg_share_leisure"]])
    # a library or leisure service is placed whole, by its first slot (stock.whole_services)
    free = (m.mode == IN_HOUSE) & ~fixed & (s.founder == np.arange(s.n))
    rows, cols = entries(free)
    per_service = np.bincount(rows * 3 + s.service[cols], minlength=R * 3).reshape(R, 3).clip(min=1)
    group_weights = weights / per_service  # (R, 3): each free part of a service has its service's weight
    H = m.head_slots  # the candidates: only the heads' columns are sampled (the same draws and picks)

    def heads(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r, h = entries(mask)
        return r, H[h]

    picked = heads(
        weighted_sample_rows_grouped(u_mutuals[:, H], group_weights, s.service[H], free[:, H], n_lg)
    )
    stock.go_live_whole(m, picked, MUTUAL, y)
    free[picked] = False
    n_latc = p["init.n_latc_2014"] - sum(1 for c in NAMED_CASES if c[2] == LATC)
    picked = heads(rules.weighted_sample_rows(u_latc[:, H], free[:, H].astype(float), n_latc))
    stock.go_live_whole(m, picked, LATC, y)
    free[picked] = False
    # Spin-outs decided by 2014 (Mutuals Support Programme pipeline), live in 2015 or 2016.
    n_pipeline = p["init.n_lg_pipeline_2014"]
    picked = heads(
        weighted_sample_rows_grouped(u_pipeline[:, H], group_weights, s.service[H], free[:, H], n_pipeline)
    )
    year_live = np.where(u_pipeline_year[picked] < 0.5, y + 1, y + 2)
    picked, year_live = stock.expand_with(m, picked, year_live)
    m.pending[picked] = MUTUAL
    m.pending_live[picked] = year_live
    m.pending_decided[picked] = y - 1
    m.pending_supported[picked] = True
    m.log_events(*picked, y, IN_HOUSE, MUTUAL, "pipeline")
    count_council_staff_once(m)
    rows, cols = np.nonzero(IS_DIVESTED[m.mode])
    key = m.provider[rows, cols] % s.n  # one draw per provider: a service's points share their contract
    m.contract_end[rows, cols] = y + 1 + (u_contract[rows, key] * p["contract.length_years"]).astype(np.int64)
    setup_outside(m, *expected_lg_stock(m, weights, n_lg))


def count_council_staff_once(m: DivestmentModel) -> None:
    """The 2014 council adult social care workforce excludes the staff already in mutuals and companies.

    The parts' staff share the HSCIC count of council-employed staff (``services.asc_staff_2014``), which
    by September 2014 no longer held the staff of the parts already spun out. So the council-run parts are
    scaled up to hold all of it, and the staff of the divested parts are counted once, in their providers.
    """
    s = m.slots
    asc = m.is_service[ASC]
    total = s.staff[asc].sum()
    divested = row_sums(IS_DIVESTED[m.mode] & asc, m.staff)
    factor = total / np.maximum(total - divested, 1e-9)
    council = IS_COUNCIL[m.mode] & asc
    scale = np.where(council, factor[:, None], 1.0)
    m.staff *= scale
    m.spend *= scale


def expected_lg_stock(m: DivestmentModel, weights: np.ndarray, n_lg: int) -> tuple[float, float]:
    """Expected staff and spend of the 2014 local-government mutuals, the same in every replication.

    The named cases' own, plus ``n_lg`` mutuals placed by ``weights`` (per service, shared evenly among
    the service's parts): each placed mutual has the weighted mean staff and spend of the parts it may
    take (a library or leisure service whole). So the outside sector's 2014 stock is fixed, not a residual
    of the random placement.
    """
    s = m.slots
    staff, spend = 0.0, 0.0
    for code, service, mode, _, parts in NAMED_CASES:
        if mode in rules.MUTUAL_MODES:
            slots = case_slots(m, code, service, parts)
            staff += float(s.staff[slots].sum())
            spend += float(s.spend[slots].sum())
    named = np.zeros(s.n, dtype=bool)
    for code, service, _, _, parts in NAMED_CASES + tuple(c[:3] + c[4:] for c in PIPELINE_CASES):
        named[case_slots(m, code, service, parts)] = True
    # a library or leisure service is placed whole, by its first slot: its staff and spend are the service's
    first = (s.founder == np.arange(s.n)) & ~named
    per_service = np.bincount(s.service[first], minlength=3).clip(min=1)
    w = np.where(first, weights[s.service] / per_service[s.service], 0.0)
    w = w / w.sum()
    staff_whole = np.bincount(s.founder, weights=s.staff, minlength=s.n)
    spend_whole = np.bincount(s.founder, weights=s.spend, minlength=s.n)
    return staff + n_lg * float(w @ staff_whole), spend + n_lg * float(w @ spend_whole)


def setup_outside(m: DivestmentModel, lg_staff: float, lg_spend: float) -> None:
    """Mutuals outside local government in 2014: the national figures less the expected local stock.

    The named spin-outs keep their published sizes (:func:`sim.model.outside_start.stock_2014`); the
    sector's cost per post for contracts let later is its 2014 spend over its staff.
    """
    p = m.p
    n = round(p["init.n_mutuals_2014"] * (1 - p["init.share_lg"]))
    staff = max(p["init.mutual_staff_2014"] - lg_staff, 0.0)
    spend = max(p["init.mutual_spend_2014_gbp_m"] - lg_spend, 0.0)
    message = "the expected local-government mutuals of 2014 exceed a national 2014 figure"
    bad = n == 0 or staff == 0 or spend == 0
    m.start_warnings = [[message] if bad else [] for _ in range(m.n_batch)]
    outside_start.place(m, *outside_start.stock_2014(n, staff, spend), spend / staff if staff else 0.0)


def setup_2010(m: DivestmentModel) -> None:
    """Place the state of 2010-11: the councils' 2010-11 spending, legacy leisure trusts, the 2010 mutuals.

    Each part's spend is its 2014-15 spend times its council's ratio of 2010-11 to 2014-15 outturn for the
    service (:func:`sim.inputs.councils.spend_2010`); staff are that spend over the 2014 cost per post
    taken back to 2010 with the pay and price index (:mod:`sim.model.prices`); every library point of
    2010 is open; leisure trusts of before 2010 hold ``init.share_leisure_legacy_trust_2010`` of the
    centres, placed as in 2014. No local-government mutual, company, community library, commissioned
    library or pipeline exists: they are left to the model. Draws come first from each replication's
    ("init", 2010) stream.
    """
    p, s, R, y = m.p, m.slots, m.n_batch, m.start_year
    eng = m.england.councils
    ratio_asc = spend_ratio(eng["asc_spend_2010_gbp_m"], eng["asc_spend_gbp_m"])
    ratio_culture = spend_ratio(eng["cultural_spend_2010_gbp_m"], eng["cultural_spend_gbp_m"])
    ratio = np.where(s.service == ASC, ratio_asc[s.council], ratio_culture[s.council])
    deflate = prices.index(p, y)  # the cost of a post in 2010-11 over 2014-15
    m.spend[:] = s.spend * ratio
    m.staff[:] = s.staff * ratio / deflate
    m.units[:] = s.units  # every statutory library of 2010 open
    u_legacy, u_contract = np.empty((R, s.n)), np.empty((R, s.n))
    m.resistance = np.empty((R, m.england.n))
    m.gens = [st.generator("init", y) for st in m.streams_by_replication]  # reused by the years' streams
    for r, g in enumerate(m.gens):
        g.random(out=u_legacy[r])  # first
        g.random(out=u_contract[r])
        draw_council_traits(m, r, g)
    place_leisure_trusts(m, u_legacy, p["init.share_leisure_legacy_trust_2010"], np.zeros(s.n, dtype=bool))
    legacy = m.mode == LEGACY
    m.contract_end[legacy] = y + 1 + (u_contract[legacy] * p["contract.length_years"]).astype(np.int64)
    n = int(p["init.n_mutuals_2010"])
    per_post = p["outside.cost_per_post_2014_gbp_k"] / 1000.0  # GBP m a post, 2014-15 prices
    m.start_warnings = [[] for _ in range(R)]
    staff = np.full(n, p["init.staff_per_mutual_2010"])
    rtr = int(p["outside.rtr_pending_2010"])
    outside_start.place(m, staff, staff * per_post * deflate, per_post, rtr=rtr, mycsp=True)


def spend_ratio(spend_2010: pd.Series, spend_2014: pd.Series) -> np.ndarray:
    """Each council's 2010-11 over 2014-15 spend on a service; 1 where either is missing or not positive."""
    a, b = spend_2010.to_numpy(dtype=float), spend_2014.to_numpy(dtype=float)
    ok = (a > 0) & (b > 0)
    return np.where(ok, np.divide(a, b, out=np.ones_like(a), where=ok), 1.0)
