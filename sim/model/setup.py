"""The starting state of 2014: named cases, the 2014 pipeline, the stock of mutuals, LATCs and trusts.

Sources: CALIBRATION.md "Named cases by 2014" and "Public service mutuals" (the ``init.*`` parameters).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import entries, row_sums
from sim.model.rules import IN_HOUSE, IS_COUNCIL, IS_DIVESTED, JOINT, LATC, LEGACY, MUTUAL
from sim.model.slots import ASC, LEISURE, LIBRARIES
from sim.model.stages.record import lg_totals
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


def case_slots(m: DivestmentModel, code: str, service: int, parts: tuple[str, ...] | None) -> list[int]:
    """The slots of a named case: the parts named, or every part of the service."""
    return list(m.slots_of(code, service)) if parts is None else [m.slot_of(code, service, p) for p in parts]


def setup_start(m: DivestmentModel) -> None:
    """Place the 2014 stock: named cases, the pipeline, legacy leisure trusts, mutuals and LATCs.

    Draws come first from each replication's ("init", start year) stream.
    """
    p, s, R, y = m.p, m.slots, m.n_batch, m.start_year
    resistance_mean = p["appraisal.resistance_mean"]
    k = p["appraisal.resistance_concentration"]
    draws = np.empty((R, 6, s.n))
    m.resistance = np.empty((R, m.england.n))
    for r, st in enumerate(m.streams_by_replication):
        g = st.generator("init", y)
        g.random(out=draws[r])  # first
        m.resistance[r] = g.beta(resistance_mean * k, (1 - resistance_mean) * k, size=m.england.n)
        m.ready[r] = g.random(s.n) < p["proposals.ready_share_2014"]
    u_legacy, u_mutuals, u_latc, u_contract, u_pipeline, u_pipeline_year = draws.transpose(1, 0, 2)
    everyone = np.arange(R)
    fixed = np.zeros(s.n, dtype=bool)
    for code, service, mode, _, parts in NAMED_CASES:
        slots = case_slots(m, code, service, parts)
        for j in slots:
            go_live(m, everyone, np.full(R, j), np.full(R, mode), y, "initial", join=False)
            fixed[j] = True
        m.provider[:, slots] = mode * s.n + slots[0]  # one body runs all its parts
    for code, service, mode, live, _, parts in PIPELINE_CASES:
        for j in case_slots(m, code, service, parts):
            m.pending[:, j], m.pending_live[:, j], m.pending_decided[:, j] = mode, live, y
            m.log_events(everyone, np.full(R, j), y, IN_HOUSE, mode, "pipeline")
            fixed[j] = True
    legacy = (s.service == LEISURE) & (u_legacy < p["init.share_leisure_legacy_trust"]) & ~fixed
    m.mode[legacy] = LEGACY
    named_mutuals = sum(1 for c in NAMED_CASES if c[2] in rules.MUTUAL_MODES)
    n_lg = round(p["init.n_mutuals_2014"] * p["init.share_lg"]) - named_mutuals
    weights = np.array([p["init.lg_share_asc"], p["init.lg_share_libraries"], p["init.lg_share_leisure"]])
    free = (m.mode == IN_HOUSE) & ~fixed
    rows, cols = entries(free)
    per_service = np.bincount(rows * 3 + s.service[cols], minlength=R * 3).reshape(R, 3).clip(min=1)
    w = np.where(free, weights[s.service] / per_service[:, s.service], 0.0)
    picked = entries(rules.weighted_sample_rows(u_mutuals, w, n_lg))
    go_live(m, *picked, np.full(len(picked[0]), MUTUAL), y, "initial", join=False)
    free[picked] = False
    n_latc = p["init.n_latc_2014"] - sum(1 for c in NAMED_CASES if c[2] == LATC)
    picked = entries(rules.weighted_sample_rows(u_latc, free.astype(float), n_latc))
    go_live(m, *picked, np.full(len(picked[0]), LATC), y, "initial", join=False)
    free[picked] = False
    # Spin-outs decided by 2014 (Mutuals Support Programme pipeline), live in 2015 or 2016.
    picked = entries(
        rules.weighted_sample_rows(u_pipeline, np.where(free, w, 0.0), p["init.n_lg_pipeline_2014"])
    )
    m.pending[picked] = MUTUAL
    m.pending_live[picked] = np.where(u_pipeline_year[picked] < 0.5, y + 1, y + 2)
    m.pending_decided[picked] = y - 1
    m.pending_supported[picked] = True
    m.log_events(*picked, y, IN_HOUSE, MUTUAL, "pipeline")
    count_council_staff_once(m)
    divested = IS_DIVESTED[m.mode]
    m.contract_end[divested] = y + 1 + (u_contract[divested] * p["contract.length_years"]).astype(np.int64)
    setup_outside(m)


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


def setup_outside(m: DivestmentModel) -> None:
    """Mutuals outside local government: the 2014 national figures less the local-government stock."""
    p = m.p
    lg_n, lg_staff, lg_spend = lg_totals(m)
    m.out_n = np.maximum(p["init.n_mutuals_2014"] - lg_n, 0)
    m.out_staff = np.maximum(p["init.mutual_staff_2014"] - lg_staff, 0.0)
    m.out_spend = np.maximum(p["init.mutual_spend_2014_gbp_m"] - lg_spend, 0.0)
    short = (m.out_n == 0) | (m.out_staff == 0) | (m.out_spend == 0)
    message = "local-government mutuals in 2014 exceed a national 2014 figure"
    m.start_warnings = [[message] if bad else [] for bad in short.tolist()]
    has_staff = m.out_staff != 0
    m.out_pool = np.full(m.n_batch, int(p["outside.cohort_2014"]), dtype=np.int64)
    m.out_spend_per_staff = np.divide(m.out_spend, m.out_staff, out=np.zeros(m.n_batch), where=has_staff)
