"""The model's state columns, per-mode rates and bin keys, made once when a model is built.

Per-mode arrays are looked up by mode index, in the order of :data:`sim.model.rules.MODES`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.inputs.councils import REGIONS
from sim.model import points, rules
from sim.model.rules import IN_HOUSE
from sim.model.slots import LEISURE, LIBRARIES
from sim.model.stages import transitions

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel


def init_state(m: DivestmentModel, R: int) -> None:
    """The state columns, and the per-mode rates looked up by mode index."""
    p, s = m.p, m.slots
    shape = (R, s.n)
    m.mode = np.full(shape, IN_HOUSE, dtype=np.int64)
    m.staff = np.tile(s.staff, (R, 1))
    m.spend = np.tile(s.spend, (R, 1))
    m.units = np.tile(s.units, (R, 1))  # units of provision open (library service points), cut by closures
    m.provider = np.full(shape, -1, dtype=np.int64)
    m.contract_end = np.full(shape, transitions.NO_CONTRACT, dtype=np.int64)
    m.pending = np.full(shape, -1, dtype=np.int64)
    m.pending_live = np.zeros(shape, dtype=np.int64)
    m.pending_supported = np.zeros(shape, dtype=bool)
    m.pending_decided = np.zeros(shape, dtype=np.int64)
    m.last_review = np.full(shape, -10_000, dtype=np.int64)
    m.ready = np.zeros(shape, dtype=bool)  # a staff team ready to propose a mutual (set up in setup.py)
    m.cum_savings = np.zeros(R)
    m.since = np.zeros(shape, dtype=np.int64)  # the year a part's current mode began
    m.contract_value = np.zeros(shape)  # a provider's contract, GBP m a year: spend less trading income
    m.budget_line = m.spend.copy()  # what the council budgets for each part, following its funding
    rates = mode_rates(p)
    m.lag_by_mode, m.abandon_by_mode = rates["lag"], rates["abandon"]
    m.growth_by_mode, m.fail_by_mode, m.saving_by_mode = rates["growth"], rates["fail"], rates["saving"]


def mode_rates(p: dict) -> dict[str, np.ndarray]:
    """Per-mode rates, each an array indexed by mode (:data:`rules.MODES`).

    Lags in years, abandonment and failure chances per year, trading growth as a fraction a year and
    savings as a fraction of spend.
    """
    lag_other, abandon_other = p["transition.lag_other"], p["transition.abandon_other"]
    lag_mutual, abandon_mutual = p["transition.lag_mutual"], p["transition.abandon_mutual"]
    growth_mutual, fail_mutual = p["mutual.trading_growth_per_year"], p["mutual.fail_rate_per_year"]
    by_mode = {
        # mode: (lag, abandon, trading growth, failure, saving)
        rules.IN_HOUSE: (0, 0.0, 0.0, 0.0, 0.0),
        rules.REBOOTED: (p["transition.lag_reboot"], 0.0, 0.0, 0.0, p["appraisal.saving_reboot"]),
        rules.REDUCED: (lag_other, abandon_other, 0.0, 0.0, p["appraisal.saving_reduce"]),
        rules.COMMUNITY: (
            p["libraries.handover_lag_years"],
            abandon_other,
            0.0,
            p["community.fail_rate_per_year"],
            p["appraisal.saving_community"],
        ),
        rules.OUTSOURCED: (
            lag_other,
            abandon_other,
            0.0,
            p["outsourced.fail_rate_per_year"],
            p["appraisal.saving_outsource"],
        ),
        rules.SHARED: (
            lag_other,
            abandon_other,
            0.0,
            p["shared.fail_rate_per_year"],
            p["appraisal.saving_share"],
        ),
        rules.LATC: (
            p["transition.lag_latc"],
            p["transition.abandon_latc"],
            p["latc.trading_growth_per_year"],
            p["latc.fail_rate_per_year"],
            p["appraisal.saving_latc"],
        ),
        rules.TRUST: (
            lag_other,
            abandon_other,
            0.0,
            p["trust.fail_rate_per_year"],
            p["appraisal.saving_trust"] + p["trust.charitable_relief_share"],
        ),
        rules.MUTUAL: (lag_mutual, abandon_mutual, growth_mutual, fail_mutual, p["appraisal.saving_mutual"]),
        rules.JOINT: (
            lag_mutual,
            abandon_mutual * 2 / 3,
            growth_mutual,
            fail_mutual,
            p["appraisal.saving_joint"],
        ),
        rules.LEGACY: (0, 0.0, 0.0, 0.0, 0.0),
    }
    table = np.array([by_mode[k] for k in range(rules.N_MODES)], dtype=float)
    return {
        "lag": table[:, 0].astype(np.int64),
        "abandon": table[:, 1],
        "growth": table[:, 2],
        "fail": table[:, 3],
        "saving": table[:, 4],
    }


def init_keys(m: DivestmentModel, R: int) -> None:
    """Buffers and bin keys of (replication, x) pairs: one range of bins per replication."""
    p, s = m.p, m.slots
    m.words = np.zeros((R, s.n), dtype=np.uint64)
    m.u = None  # the year's draws (sim.model.draws.YearDraws), set by the pressure stage
    m.gens: list[np.random.Generator] = []
    m.weights_cache: dict[tuple, rules.AppraisalWeights] = {}
    m.cell = s.region * 3 + s.service
    m.n_cells = len(REGIONS) * 3
    m.n_provider_ids = len(rules.MODES) * s.n
    # int32: entries are counted in the tens of thousands; half the memory scattered into by arrays.group
    m.scratch = np.empty(R * m.n_provider_ids, dtype=np.int32)
    first = np.arange(R)[:, None]
    m.provider_base = first * m.n_provider_ids
    m.cell_key = first * m.n_cells + m.cell
    m.service_key = first * 3 + s.service
    m.mode_base = first * len(rules.MODES)
    m.is_service = [s.service == k for k in range(3)]
    lib = np.flatnonzero(s.service == LIBRARIES)
    m.library_slots = slice(int(lib[0]), int(lib[-1]) + 1)  # one block (sim.model.slots): views, not copies
    lei = np.flatnonzero(s.service == LEISURE)
    m.leisure_slots = slice(int(lei[0]), int(lei[-1]) + 1)
    c = m.england.councils
    m.relative_density = points.density(s, c["population"].to_numpy(), c["area_km2"].to_numpy())
    m.community_propensity = points.community_propensity(s, m.relative_density, p)
    # the slots that stand for their service in reviews and in counts of peers: a part of adult social
    # care, the first point of a library or leisure service
    m.is_head = s.founder == np.arange(s.n)
    m.head_slots = np.flatnonzero(m.is_head)
    response = np.array(
        [p["funding.response_asc"], p["funding.response_culture"], p["funding.response_culture"]]
    )
    m.passthrough = p["funding.spend_passthrough"] * response[s.service]  # by slot
    m.counted_by_mode = rules.counted_modes(p["joint.staff_share"], p["count.min_staff_share"])

    m.zeros = np.zeros(R, dtype=np.int64)
    m.zeros.setflags(write=False)
