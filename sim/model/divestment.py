"""The Mesa model: every English council of 2014 deciding each year how to run its services.

Councils are Mesa agents. Their services' state lives in the model as columns (one entry per service
slot: a council's adult social care, libraries or leisure), so that one yearly step does its arithmetic in
numpy across all councils; the rules themselves are the pure functions of :mod:`sim.model.rules`.

One model can also run several replications of the same scenario at once (``seeds=[...]``): every state
column then has one row per replication (shape ``(R, n_slots)``), so the numpy calls and the 353 Mesa
agents are shared by the R runs. Each replication draws from its own streams and is computed independently
of the others, so replication r gives exactly the results of a model run alone with seed ``seeds[r]``.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np
import pandas as pd

from sim.inputs.councils import FUNDING_YEARS, REGIONS, load_england
from sim.inputs.scenario import START_YEAR, Scenario
from sim.model import rules
from sim.model.rules import (
    IN_HOUSE,
    IS_DIVESTED,
    IS_MUTUAL,
    IS_REVIEWABLE,
    JOINT,
    LATC,
    LEGACY,
    MUTUAL,
    REBOOTED,
)
from sim.model.slots import (  # noqa: F401  (Slots, build_slots and the service indices re-exported)
    ASC,
    LEISURE,
    LIBRARIES,
    SERVICES,
    Slots,
    build_slots,
    funding_path,
    slots_for,
)
from sim.model.streams import Streams

NAMED_CASES = (
    # (ONS code, service, mode, body): the 2014 starting state, CALIBRATION.md "Named cases by 2014".
    ("E10000029", LIBRARIES, MUTUAL, "Suffolk Libraries IPS"),
    ("E06000014", LIBRARIES, MUTUAL, "Explore York"),
    ("E10000020", ASC, JOINT, "Independence Matters"),
    ("E08000005", ASC, MUTUAL, "PossAbilities"),
    ("E06000041", ASC, LATC, "Optalis"),
)
PIPELINE_CASES = (
    # (ONS code, service, mode, year live, body): decided by 2014, live later.
    ("E08000035", ASC, MUTUAL, 2015, "Aspire"),
)

# Rows of the block of uniforms each year draws (shape (N_DRAW_ROWS, n_slots)), one per decision.
# Every row is drawn every year whether used or not, so a slot's draw never depends on other slots.
U_REVIEW, U_PROPOSAL, U_NOISE, U_SUPPORT, U_ABANDON, U_JOIN, U_CONTRACT, U_FAIL = (
    0,
    1,
    2,
    7,
    8,
    9,
    10,
    11,
)
N_DRAW_ROWS = U_FAIL + 6
"""Failure draws are indexed by provider id (mode * n_slots + founding slot), 6 rows."""

_MODE_COLUMNS = [
    name
    for mode in rules.MODES
    for name in (f"staff_{mode}", *(f"n_{service}_{mode}" for service in SERVICES))
]
MAX_BATCH = 64
"""Replications a runner puts in one model at most: larger batches gain little and hold more memory."""


def batch_slices(n: int, max_size: int | None = None) -> list[slice]:
    """Slices cutting ``n`` runs into as few batches of at most ``max_size`` (default MAX_BATCH) as can be.

    The batches are of even size (100 runs: two of 50, not 64 and 36).
    """
    size = max_size or MAX_BATCH
    n_batches = -(-n // size)
    bounds = [n * k // n_batches for k in range(n_batches + 1)] if n else [0]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


_MODE_COLUMN_INDEX = {name: divmod(i, 4) for i, name in enumerate(_MODE_COLUMNS)}
_MODE_COLUMN_INDEX = {name: (m, k - 1) for name, (m, k) in _MODE_COLUMN_INDEX.items()}  # k = -1: staff
_FLOWS = ("divestments", "mutual_decisions", "live", "abandoned", "returns", "failures")
_PREPARE_STREAMS = 8
"""From this many replications, their streams' generators are prepared together (:meth:`Streams.prepare`)."""
_NO_CONTRACT = 10_000
"""contract_end of a service with no contract (in-house, re-booted or a legacy trust)."""

# Reasons in the decision log.
REASONS = (
    "initial",
    "pipeline",
    "review",
    "proposal",
    "live",
    "abandoned",
    "failure",
    "contract_end",
)
_DECISION_COLUMNS = [
    "year",
    "ons_code",
    "service",
    "from_mode",
    "to_mode",
    "reason",
    "staff",
    "spend_gbp_m",
    *(f"score_{o}" for o in rules.OPTIONS),
]


def _entries(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(replication, slot) index arrays where an (R, n) ``mask`` is true, row by row (a faster np.nonzero)."""
    flat = np.flatnonzero(mask)
    r = flat // mask.shape[1]
    return r, flat - r * mask.shape[1]


def _row_sums(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` where ``mask``, row by row, of (R, n) arrays.

    Always over the full row (zeros where not masked), so a replication's sum is the same whatever the
    number of replications in the model.
    """
    return np.where(mask, values, 0.0).sum(axis=1)


class CouncilAgent(mesa.Agent):
    """An English council of 1 April 2014.

    Its services' modes, staff and spend are kept by the model in columns indexed by ``slots``; the
    agent is the handle users and notebooks hold (``agent.modes()``, ``agent.ons_code``). In a model of
    several replications one agent stands for the council in all of them.
    """

    def __init__(self, model: DivestmentModel, index: int, ons_code: str, name: str, slots: np.ndarray):
        super().__init__(model)
        self.index = index
        self.ons_code = ons_code
        self.name = name
        self.slots = slots

    def modes(self, r: int = 0) -> dict[str, str]:
        """Delivery mode of each of the council's services this year, in replication ``r``."""
        m = self.model
        return {SERVICES[m.slots.service[s]]: rules.MODES[m.mode[r, s]] for s in self.slots}


class DivestmentModel(mesa.Model):
    """English councils divesting leisure, adult social care and libraries, one step per financial year.

    Args:
        scenario: the resolved scenario (parameters and end year); the baseline defaults if None.
        seed: the run's seed; all randomness flows from it (ignored when ``seeds`` is given).
        record_councils: keep the per-slot history and the decision log (needed for councils.csv and
            decisions.csv; sweeps switch it off).
        seeds: run R = len(seeds) replications of the scenario at once, one per seed. Replication r gives
            exactly the results of ``DivestmentModel(scenario, seed=seeds[r])``, whatever the other seeds.

    State columns have one row per replication: ``mode``, ``staff``, ``spend``, ``provider``,
    ``contract_end``, ``pending*`` and ``last_review`` are (R, n_slots) arrays, ``resistance`` is
    (R, n_councils), and the sector outside local government (``out_n``, ``out_staff``, ``out_spend``)
    and ``cum_savings`` are (R,) arrays. Results: :meth:`national`, :meth:`councils_frame` and
    :meth:`decisions_frame` give replication r with ``r=``; without it, a model of one replication gives its
    tables as they always were, and a model of several gives all replications with a ``batch_index``
    column first (the position of the seed in ``seeds``). :meth:`national_columns` and
    :meth:`national_rows` are the fast access for sweeps.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: int = 0,
        record_councils: bool = True,
        seeds: Sequence[int] | None = None,
    ):
        seeds = [int(seed)] if seeds is None else [int(s) for s in seeds]
        if not seeds:
            raise ValueError("seeds is empty: give at least one seed")
        super().__init__(rng=seeds[0])
        self.spec = scenario if scenario is not None else Scenario(name="baseline")
        self.seeds = seeds
        self.seed = seeds[0]
        self.n_batch = R = len(seeds)
        self.p = p = self.spec.params
        self._streams = [Streams(s) for s in seeds]
        if R >= _PREPARE_STREAMS:  # mix the generators' seeds of all replications at once
            Streams.prepare(self._streams, "init", [START_YEAR])
            Streams.prepare(self._streams, "year", range(START_YEAR, self.spec.end_year))
        self.streams = self._streams[0]  # the first replication's streams; each has its own in _streams
        self.england = eng = load_england()
        self.slots = s = slots_for(p)
        self.year = START_YEAR
        self.end_year = self.spec.end_year
        self.record_councils = record_councils
        self._funding = funding_path(eng, p, self.end_year)
        real = rules.real_funding_index(self._funding, p["funding.cost_growth_per_year"])
        self._pressure = rules.budget_pressure(real, p["funding.pressure_scale"])
        self._n_regions = len(REGIONS)

        n = s.n
        shape = (R, n)
        self.mode = np.full(shape, IN_HOUSE, dtype=np.int64)
        self.staff = np.tile(s.staff, (R, 1))
        self.spend = np.tile(s.spend, (R, 1))
        self.provider = np.full(shape, -1, dtype=np.int64)
        self.contract_end = np.full(shape, _NO_CONTRACT, dtype=np.int64)
        self.pending = np.full(shape, -1, dtype=np.int64)
        self.pending_live = np.zeros(shape, dtype=np.int64)
        self.pending_supported = np.zeros(shape, dtype=bool)
        self.pending_decided = np.zeros(shape, dtype=np.int64)
        self.last_review = np.full(shape, -10_000, dtype=np.int64)
        self.cum_savings = np.zeros(R)
        zero = 0.0
        self._lag_by_mode = np.array(
            [
                0,
                p["transition.lag_reboot"],
                p["transition.lag_latc"],
                p["transition.lag_mutual"],
                p["transition.lag_mutual"],
                0,
            ]
        )
        self._abandon_by_mode = np.array(
            [
                zero,
                zero,
                p["transition.abandon_latc"],
                p["transition.abandon_mutual"],
                p["transition.abandon_mutual"] * 2 / 3,
                zero,
            ]
        )
        self._growth_by_mode = np.array(
            [
                zero,
                zero,
                p["latc.trading_growth_per_year"],
                p["mutual.trading_growth_per_year"],
                p["mutual.trading_growth_per_year"],
                zero,
            ]
        )
        self._fail_by_mode = np.array(
            [
                zero,
                zero,
                p["latc.fail_rate_per_year"],
                p["mutual.fail_rate_per_year"],
                p["mutual.fail_rate_per_year"],
                zero,
            ]
        )
        self._saving_by_mode = np.array(
            [
                zero,
                p["appraisal.saving_reboot"],
                p["appraisal.saving_latc"],
                p["appraisal.saving_mutual"],
                p["appraisal.saving_joint"],
                zero,
            ]
        )
        self._u = np.zeros((R, N_DRAW_ROWS, n))
        self._gens: list[np.random.Generator] = []
        self._weights_cache: dict[tuple, rules.AppraisalWeights] = {}
        self._cell = s.region * 3 + s.service
        self._n_cells = self._n_regions * 3
        self._n_provider_ids = len(rules.MODES) * n
        self._scratch = np.empty(R * self._n_provider_ids, dtype=np.int64)
        first = np.arange(R)[:, None]  # keys of (replication, x) pairs: one range of bins per replication
        self._provider_base = first * self._n_provider_ids
        self._cell_key = first * self._n_cells + self._cell
        self._service_key = first * 3 + s.service
        self._mode_base = first * len(rules.MODES)
        self._zeros = np.zeros(R, dtype=np.int64)
        self._zeros.setflags(write=False)
        self._log: list[tuple] = []
        self._rows: list[tuple] = []  # per year: totals, staff by mode, counts by service and mode, flows
        years = self.end_year - START_YEAR + 1
        if record_councils:  # per year (the state at its start), replication and slot
            self.history = {
                "mode": np.empty((years, R, n), dtype=np.int8),
                "staff": np.empty((years, R, n)),
                "spend": np.empty((years, R, n)),
                "provider": np.empty((years, R, n), dtype=np.int64),
            }
        codes, names = eng.codes, eng.names
        for i in range(eng.n):
            CouncilAgent(self, i, codes[i], names[i], s.by_council[i])
        self._setup_2014()
        self._record(new={})

    # ------------------------------------------------------------------ starting state
    def slot_of(self, ons_code: str, service: int) -> int:
        """Slot index of a council's service (KeyError if the council does not run it)."""
        try:
            return self.slots.index[(ons_code, service)]
        except KeyError:
            raise KeyError(f"{ons_code} does not run {SERVICES[service]}") from None

    def _setup_2014(self) -> None:
        p, s, R = self.p, self.slots, self.n_batch
        y = START_YEAR
        resistance_mean = p["appraisal.resistance_mean"]
        k = p["appraisal.resistance_concentration"]
        draws = np.empty((R, 6, s.n))
        self.resistance = np.empty((R, self.england.n))
        for r, st in enumerate(self._streams):
            g = st.generator("init", y)
            g.random(out=draws[r])  # first
            self.resistance[r] = g.beta(resistance_mean * k, (1 - resistance_mean) * k, size=self.england.n)
        u_legacy, u_mutuals, u_latc, u_contract, u_pipeline, u_pipeline_year = draws.transpose(1, 0, 2)
        everyone = np.arange(R)
        fixed = np.zeros(s.n, dtype=bool)
        for code, service, mode, _ in NAMED_CASES:
            j = self.slot_of(code, service)
            self._go_live(everyone, np.full(R, j), np.full(R, mode), y, "initial", join=False)
            fixed[j] = True
        for code, service, mode, live, _ in PIPELINE_CASES:
            j = self.slot_of(code, service)
            self.pending[:, j], self.pending_live[:, j], self.pending_decided[:, j] = mode, live, y
            self._log_events(everyone, np.full(R, j), y, IN_HOUSE, mode, "pipeline")
            fixed[j] = True
        legacy = (s.service == LEISURE) & (u_legacy < p["init.share_leisure_legacy_trust"]) & ~fixed
        self.mode[legacy] = LEGACY
        named_mutuals = sum(1 for c in NAMED_CASES if c[2] in rules.MUTUAL_MODES)
        n_lg = round(p["init.n_mutuals_2014"] * p["init.share_lg"]) - named_mutuals
        weights = np.array([p["init.lg_share_asc"], p["init.lg_share_libraries"], p["init.lg_share_leisure"]])
        free = (self.mode == IN_HOUSE) & ~fixed
        rows, cols = _entries(free)
        per_service = np.bincount(rows * 3 + s.service[cols], minlength=R * 3).reshape(R, 3).clip(min=1)
        w = np.where(free, weights[s.service] / per_service[:, s.service], 0.0)
        picked = _entries(rules.weighted_sample_rows(u_mutuals, w, n_lg))
        self._go_live(*picked, np.full(len(picked[0]), MUTUAL), y, "initial", join=False)
        free[picked] = False
        n_latc = p["init.n_latc_2014"] - sum(1 for c in NAMED_CASES if c[2] == LATC)
        picked = _entries(rules.weighted_sample_rows(u_latc, free.astype(float), n_latc))
        self._go_live(*picked, np.full(len(picked[0]), LATC), y, "initial", join=False)
        free[picked] = False
        # Spin-outs decided by 2014 (Mutuals Support Programme pipeline), live in 2015 or 2016.
        n_pipeline = p["init.n_lg_pipeline_2014"]
        picked = _entries(rules.weighted_sample_rows(u_pipeline, np.where(free, w, 0.0), n_pipeline))
        self.pending[picked] = MUTUAL
        self.pending_live[picked] = np.where(u_pipeline_year[picked] < 0.5, y + 1, y + 2)
        self.pending_decided[picked] = y - 1
        self.pending_supported[picked] = True
        self._log_events(*picked, y, IN_HOUSE, MUTUAL, "pipeline")
        divested = IS_DIVESTED[self.mode]
        length = p["contract.length_years"]
        self.contract_end[divested] = y + 1 + (u_contract[divested] * length).astype(np.int64)
        self._setup_outside()

    def _setup_outside(self) -> None:
        """Mutuals outside local government: the 2014 national figures less the local-government stock."""
        p = self.p
        lg_n, lg_staff, lg_spend = self._lg_totals()
        self.out_n = np.maximum(p["init.n_mutuals_2014"] - lg_n, 0)
        self.out_staff = np.maximum(p["init.mutual_staff_2014"] - lg_staff, 0.0)
        self.out_spend = np.maximum(p["init.mutual_spend_2014_gbp_m"] - lg_spend, 0.0)
        short = (self.out_n == 0) | (self.out_staff == 0) | (self.out_spend == 0)
        message = "local-government mutuals in 2014 exceed a national 2014 figure"
        self._warnings = [[message] if bad else [] for bad in short.tolist()]
        has_staff = self.out_staff != 0
        self.out_spend_per_staff = np.divide(
            self.out_spend, self.out_staff, out=np.zeros(self.n_batch), where=has_staff
        )

    @property
    def warnings(self) -> list[str]:
        """Messages about the starting state (for several replications, each names its batch index)."""
        if self.n_batch == 1:
            return list(self._warnings[0])
        return [f"batch {r} (seed {s}): {w}" for r, s in enumerate(self.seeds) for w in self._warnings[r]]

    def warnings_of(self, r: int) -> list[str]:
        """Messages about replication ``r``'s starting state."""
        return list(self._warnings[r])

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """Advance one financial year, in these stages and this order.

        1. Assess pressure: each council's budget pressure this year from its funding path.
        2. Review: services under pressure are reviewed; staff may propose a mutual (bottom-up).
        3. Appraise: each reviewed service's options are scored (:func:`sim.model.rules.appraise`).
        4. Decide: a change of mode becomes a pending transition, live after a lag.
        5. Transfer: pending transitions may be abandoned (a chance each year of the lag); those due go
           live at the start of next year; staff and spend move with the service.
        6. Grow or fail: next year's spend follows the council's funding plus trading growth; providers
           fail and contracts end (services return in-house next year); mutuals outside local
           government follow their own path.
        7. Record: the state at the start of next year (national totals, and the council table when
           recording); flows (``new_*``) are those of the year just simulated.

        Decisions are logged with the year they are made (``y``); transitions with the year they take
        effect (``y + 1``). The first step simulates 2014-15 and records the state of 2015-16. Every
        stage runs over all replications at once; entries are (replication, slot) pairs ``(r, j)``.
        """
        y, p, s, R = self.year, self.p, self.slots, self.n_batch
        nxt = y + 1
        new: dict[str, np.ndarray] = {}
        # 1. pressure
        col = y - FUNDING_YEARS[0]
        pressure = self._pressure[s.council, col]  # the same in every replication
        # 2. review
        peers_region, peers_national = self._peers()
        u = self._draw_year(y)
        eligible = IS_REVIEWABLE[self.mode] & (self.pending < 0)
        cooled = (y - self.last_review) >= p["review.min_years_between"]
        mult = np.where(self.mode == REBOOTED, p["review.rebooted_multiplier"], 1.0)
        u_review, u_proposal = u[:, U_REVIEW], u[:, U_PROPOSAL]
        is_review = (
            eligible
            & cooled
            & (u_review < rules.review_probability(pressure, p["review.rate_per_pressure"], mult))
        )
        duty = p["policy.duty_to_consider"] and y >= p["policy.duty_from_year"]
        prob_prop = rules.proposal_probability(
            p["proposals.rate_per_year"], p["proposals.peer_effect"], peers_region
        )
        is_proposal = eligible & (self.mode == IN_HOUSE) & (u_proposal < prob_prop) & (cooled | duty)
        r, j = _entries(is_review | is_proposal)
        # 3. appraise
        if len(j):
            u_noise = u[r, U_NOISE : U_NOISE + 5, j]  # (n reviewed, 5)
            u_support = u[r, U_SUPPORT, j]
            capacity = 0.0
            if y <= p["support.end_year"]:
                capacity = p["support.budget_gbp_m_per_year"] / p["support.cost_per_mutual_gbp_m"]
            n_reviewed = np.bincount(r, minlength=R)  # a replication's support is shared among its own
            supported = rules.supported_mask(u_support, n_reviewed[r], capacity)
            mode = self.mode[r, j]
            proposal = is_proposal[r, j]
            util = rules.appraise(
                pressure=pressure[j],
                resistance=self.resistance[r, s.council[j]],
                is_proposal=proposal,
                is_supported=supported,
                is_rebooted=mode == REBOOTED,
                peers_region=peers_region[r, j],
                peers_national=peers_national[r, j],
                u_noise=u_noise,
                w=self._weights(y, duty),
            )
            choice = rules.choose(util)
            # 4. decide
            target = np.where(choice == rules.KEEP, mode, rules.OPTION_MODE[choice])
            self.last_review[r, j] = y
            reason = np.where(proposal, "proposal", "review")
            self._log_events(r, j, y, mode, target, reason, util)
            change = target != mode
            rc, jc, to = r[change], j[change], target[change]
            self.pending[rc, jc], self.pending_live[rc, jc] = to, y + self._lag_by_mode[to]
            self.pending_supported[rc, jc] = supported[change] & IS_MUTUAL[to]
            self.pending_decided[rc, jc] = y
            new["divestments"] = np.bincount(rc[IS_DIVESTED[to]], minlength=R)
            new["mutual_decisions"] = np.bincount(rc[IS_MUTUAL[to]], minlength=R)
        # 5. transfer
        r, j = _entries(self.pending >= 0)
        if len(j):
            to = self.pending[r, j]
            rate = self._abandon_by_mode[to]
            rate = rate * (1.0 - p["support.abandon_reduction"] * self.pending_supported[r, j])
            abandon = u[r, U_ABANDON, j] < rate
            rg, jg = r[abandon], j[abandon]
            self._log_events(rg, jg, y, self.mode[rg, jg], to[abandon], "abandoned")
            self.pending[rg, jg] = -1
            new["abandoned"] = np.bincount(rg, minlength=R)
            live = ~abandon & (self.pending_live[r, j] == nxt)
            if live.any():
                rl, jl = r[live], j[live]
                self._go_live(rl, jl, to[live], nxt, "live", join=True)
                self.pending[rl, jl] = -1
                new["live"] = np.bincount(rl, minlength=R)
        # 6. grow or fail
        growth = self._growth_by_mode[self.mode]
        self.spend = rules.grow_spend(
            self.spend, self._funding[s.council, col + 1], p["funding.spend_passthrough"], growth
        )
        self.staff = self.spend / s.cost_per_post
        new["failures"] = self._fail(nxt)
        new["returns"] = self._contract_ends(nxt)
        self._step_outside(y)
        # 7. record
        self.year = nxt
        self._record(new)

    def _draw_year(self, y: int) -> np.ndarray:
        """Each replication's block of uniforms for year ``y``, drawn first from its ("year", y) stream.

        Returns:
            (R, N_DRAW_ROWS, n_slots) array; the generators are kept for the outside sector's draws.
        """
        self._gens = []
        for r, st in enumerate(self._streams):
            g = st.generator("year", y)
            g.random(out=self._u[r])  # fixed size, drawn first
            self._gens.append(g)
        return self._u

    def _weights(self, y: int, duty: bool) -> rules.AppraisalWeights:
        p = self.p
        simplification = p["policy.simplification"] if y >= p["policy.simplification_from_year"] else 0.0
        agenda = rules.commercial_agenda(
            y, p["appraisal.commercial_ramp_start"], p["appraisal.commercial_ramp_years"]
        )
        key = (simplification, agenda, duty)
        cached = self._weights_cache.get(key)
        if cached is None:
            cached = self._weights_cache[key] = self._build_weights(simplification, agenda, duty)
        return cached

    def _build_weights(self, simplification: float, agenda: float, duty: bool) -> rules.AppraisalWeights:
        p = self.p
        return rules.AppraisalWeights(
            weight_savings=p["appraisal.weight_savings"],
            reference_pressure=p["appraisal.reference_pressure"],
            savings=(
                p["appraisal.saving_reboot"],
                p["appraisal.saving_latc"],
                p["appraisal.saving_mutual"],
                p["appraisal.saving_joint"],
            ),
            weight_risk=p["appraisal.weight_risk"],
            risks=(
                p["appraisal.risk_reboot"],
                p["appraisal.risk_latc"],
                p["appraisal.risk_mutual"],
                p["appraisal.risk_joint"],
            ),
            high_jump=p["appraisal.high_jump"],
            complexity_latc=p["appraisal.complexity_latc"],
            complexity_mutual=p["appraisal.complexity_mutual"] * (1.0 - simplification),
            weight_culture=p["appraisal.weight_culture"],
            joint_culture_factor=p["appraisal.joint_culture_factor"],
            weight_peer_region=p["appraisal.weight_peer_region"] * p["policy.publicity"],
            weight_peer_national=p["appraisal.weight_peer_national"] * p["policy.publicity"],
            commercial=agenda * p["appraisal.weight_commercial"] * p["policy.commercialisation"],
            proposal_bonus=p["proposals.bonus"],
            support_barrier_reduction=p["support.barrier_reduction"],
            duty_effect=p["policy.duty_effect"] if duty else 0.0,
            noise_scale=p["appraisal.noise_scale"],
            allowed=(
                True,
                p["policy.allow_reboot"],
                p["policy.allow_latc"],
                p["policy.allow_mutual"],
                p["policy.allow_joint"],
            ),
        )

    def _peers(self) -> tuple[np.ndarray, np.ndarray]:
        """Mutual services in each slot's region and service, and in its service nationally.

        Returns:
            two (R, n_slots) float arrays, counted in each replication.
        """
        R, nc = self.n_batch, self._n_cells
        is_mutual = IS_MUTUAL[self.mode]
        by_cell = np.bincount(self._cell_key[is_mutual], minlength=R * nc)
        by_service = np.bincount(self._service_key[is_mutual], minlength=R * 3)
        return by_cell[self._cell_key].astype(float), by_service[self._service_key].astype(float)

    def _go_live(
        self, r: np.ndarray, j: np.ndarray, mode: np.ndarray, y: int, reason: str, join: bool
    ) -> None:
        """Services ``j`` of replications ``r`` change to ``mode``; staff and spend go with them."""
        if len(j) == 0:
            return
        p, s = self.p, self.slots
        old = self.mode[r, j]
        self._log_events(r, j, y, old, mode, reason)
        self.mode[r, j] = mode
        divested = IS_DIVESTED[mode]
        provider = np.where(divested, mode * s.n + j, -1)
        if join:
            # A divestment may go to an existing provider of the same kind in the region and service.
            joining = divested & (self._u[r, U_JOIN, j] < p["contract.p_join_existing"])
            if joining.any():
                best = self._largest_provider_by_kind(exclude=(r, j))
                found = best[r[joining], mode[joining], self._cell[j[joining]]]
                provider[joining] = np.where(found >= 0, found, provider[joining])
        self.provider[r, j] = provider
        self.contract_end[r, j] = np.where(divested, y + p["contract.length_years"], _NO_CONTRACT)
        if reason != "initial":
            saved = np.zeros(self.mode.shape)
            saved[r, j] = self._saving_by_mode[mode] * self.spend[r, j] * (old != mode)
            self.cum_savings += saved.sum(axis=1)

    def _providers(self, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group entries by provider (``key``: replication * n_provider_ids + provider id), without sorting.

        Returns:
            each entry's representative (the index of the last entry of its provider), and a mask of the
            representatives (one entry per provider).
        """
        entry = np.arange(len(key))
        self._scratch[key] = entry  # a buffer reused every call: only entries written here are read
        representative = self._scratch[key]
        return representative, representative == entry

    def _largest_provider_by_kind(self, exclude: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The largest provider (by staff) of each mode and region-service cell, ignoring entries ``exclude``.

        Ties go to the lowest provider id.

        Returns:
            (R, n_modes, n_cells) provider ids, -1 where a replication has no such provider.
        """
        R, n_modes, nc = self.n_batch, len(rules.MODES), self._n_cells
        existing = IS_DIVESTED[self.mode]
        existing[exclude] = False
        r, j = _entries(existing)
        if len(j) == 0:
            return np.full((R, n_modes, nc), -1, dtype=np.int64)
        representative, is_provider = self._providers(r * self._n_provider_ids + self.provider[r, j])
        # a provider's staff: its slots' staff added in slot order
        staff = np.bincount(representative, weights=self.staff[r, j], minlength=len(j))[is_provider]
        r, j = r[is_provider], j[is_provider]
        ids = self.provider[r, j]
        kind = (r * n_modes + self.mode[r, j]) * nc + self._cell[j]  # a provider has one mode and one cell
        largest = np.full(R * n_modes * nc, -np.inf)
        np.maximum.at(largest, kind, staff)
        top = staff == largest[kind]
        best = np.full(R * n_modes * nc, np.iinfo(np.int64).max)
        np.minimum.at(best, kind[top], ids[top])
        return np.where(best == np.iinfo(np.int64).max, -1, best).reshape(R, n_modes, nc)

    def _fail(self, y: int) -> np.ndarray:
        """Providers fail at their yearly rate; their services return in-house.

        Returns:
            (R,) number of providers failed in each replication.
        """
        R = self.n_batch
        r, j = _entries(IS_DIVESTED[self.mode])
        if len(j) == 0:
            return np.zeros(R, dtype=np.int64)
        u = self._u[:, U_FAIL:].reshape(R, -1)  # by provider id
        provider = self.provider[r, j]
        fails = u[r, provider] < self._fail_by_mode[self.mode[r, j]]
        representative, is_provider = self._providers(r * self._n_provider_ids + provider)
        failed = np.zeros(len(j), dtype=bool)
        failed[representative[fails]] = True  # a provider fails if a draw of its own says so
        hit = failed[representative]
        self._return_in_house(r[hit], j[hit], y, "failure")
        return np.bincount(r[failed & is_provider], minlength=R)

    def _contract_ends(self, y: int) -> np.ndarray:
        """Contracts ending in ``y`` return in-house or are renewed. Returns (R,) the numbers returned."""
        p = self.p
        ending = IS_DIVESTED[self.mode] & (self.contract_end == y)
        is_back = ending & (self._u[:, U_CONTRACT] < p["contract.p_return_in_house"])
        r, j = _entries(is_back)
        self._return_in_house(r, j, y, "contract_end")
        self.contract_end[ending & ~is_back] = y + p["contract.length_years"]
        return np.bincount(r, minlength=self.n_batch)

    def _return_in_house(self, r: np.ndarray, j: np.ndarray, y: int, reason: str) -> None:
        if len(j) == 0:
            return
        self._log_events(r, j, y, self.mode[r, j], IN_HOUSE, reason)
        self.mode[r, j] = IN_HOUSE
        self.provider[r, j] = -1
        self.contract_end[r, j] = _NO_CONTRACT
        self.last_review[r, j] = y

    def _step_outside(self, y: int) -> None:
        """NHS and central-government mutuals: failures, new spin-outs and growth of the rest."""
        p = self.p
        budget = p["support.budget_gbp_m_per_year"] if y <= p["support.end_year"] else 0.0
        base = p["outside.new_mutuals_per_year_unsupported"]
        rate = (
            base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
        )
        fail_rate = p["outside.fail_rate_per_year"]
        growth = 1 + p["outside.staff_growth_per_year"]
        per_new = p["outside.staff_per_new_mutual"]
        out_n, out_staff = self.out_n.tolist(), self.out_staff.tolist()
        for r, g in enumerate(self._gens):  # each replication on its own, in Python numbers
            n = out_n[r]
            # after the slots' fixed block, so outside draws never shift council draws
            failed = g.binomial(n, fail_rate) if n else 0
            born = g.poisson(rate)
            kept = 1.0 - (failed / n if n else 0.0)
            out_staff[r] = out_staff[r] * kept * growth + born * per_new
            out_n[r] = n - failed + born
        self.out_n, self.out_staff = np.array(out_n), np.array(out_staff)
        self.out_spend = self.out_staff * self.out_spend_per_staff

    # ------------------------------------------------------------------ books
    def _n_providers(self, mask: np.ndarray) -> np.ndarray:
        """(R,) number of distinct providers of the entries ``mask`` in each replication."""
        key = (self.provider + self._provider_base)[mask]
        return np.bincount(key[self._providers(key)[1]] // self._n_provider_ids, minlength=self.n_batch)

    def _lg_totals(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(R,) local-government mutuals: providers, staff and spend."""
        is_mutual = IS_MUTUAL[self.mode]
        return (
            self._n_providers(is_mutual),
            _row_sums(is_mutual, self.staff),
            _row_sums(is_mutual, self.spend),
        )

    def _log_events(self, r, j, y, old, new, reason, util=None) -> None:
        if len(j) and self.record_councils:
            self._log.append(
                (
                    y,
                    r.copy(),
                    j.copy(),
                    np.broadcast_to(old, j.shape).copy(),
                    np.broadcast_to(new, j.shape).copy(),
                    np.broadcast_to(reason, j.shape),
                    None if util is None else util.copy(),
                    self.staff[r, j],
                    self.spend[r, j],
                )
            )

    def _record(self, new: dict) -> None:
        p, R = self.p, self.n_batch
        lg_n, lg_staff, lg_spend = self._lg_totals()
        row = {
            "year": np.full(R, self.year, dtype=np.int64),
            "n_mutuals": lg_n + self.out_n,
            "mutual_staff": lg_staff + self.out_staff,
            "mutual_spend_gbp_m": lg_spend + self.out_spend,
            "n_mutuals_lg": lg_n,
            "mutual_staff_lg": lg_staff,
            "mutual_spend_lg_gbp_m": lg_spend,
            "n_mutuals_outside": self.out_n,
            "mutual_staff_outside": self.out_staff,
            "mutual_spend_outside_gbp_m": self.out_spend,
        }
        row["share_of_target"] = row["mutual_staff"] / p["report.target_staff"]
        row["n_latcs"] = self._n_providers(self.mode == LATC)
        n_modes = len(rules.MODES)
        by_mode = (self._mode_base + self.mode).ravel()
        counts = np.bincount((self._service_key * n_modes + self.mode).ravel(), minlength=R * 3 * n_modes)
        staff = np.bincount(by_mode, weights=self.staff.ravel(), minlength=R * n_modes)
        tail = {"n_pending": (self.pending >= 0).sum(axis=1)}
        tail.update({f"new_{key}": new.get(key, self._zeros) for key in _FLOWS})
        tail["cum_savings_gbp_m"] = self.cum_savings.copy()
        self._rows.append((row, staff.reshape(R, n_modes), counts.reshape(R, 3, n_modes), tail))
        if self.record_councils:
            t = self.year - START_YEAR
            h = self.history
            h["mode"][t], h["staff"][t], h["spend"][t], h["provider"][t] = (
                self.mode,
                self.staff,
                self.spend,
                self.provider,
            )

    # ------------------------------------------------------------------ results
    def run(self) -> DivestmentModel:
        """Step to the scenario's end year; returns self."""
        while self.year < self.end_year:
            self.step()
        return self

    def release(self) -> None:
        """Free the model now, for a runner that has taken its results; the model is unusable afterwards.

        A Mesa model and its agents refer to each other, so a model no longer used waits for Python's full
        garbage collection, which can be dozens of models later; a batched model holds megabytes of state.
        """
        self.__dict__.clear()  # agents, Mesa's bookkeeping, state: then nothing refers back to the model

    def national_columns(self) -> dict[str, np.ndarray]:
        """National totals as columns, each an (R, n_years) array (the fastest access, for sweeps)."""
        heads, staff, counts, tails = zip(*self._rows, strict=True)
        columns = {key: np.stack([row[key] for row in heads], axis=1) for key in heads[0]}
        staff, counts = np.stack(staff, axis=-1), np.stack(counts, axis=-1)  # (R, modes, T), (R, 3, modes, T)
        names = iter(_MODE_COLUMNS)
        for m in range(len(rules.MODES)):
            columns[next(names)] = staff[:, m]
            for k in range(3):
                columns[next(names)] = counts[:, k, m]
        columns.update({key: np.stack([row[key] for row in tails], axis=1) for key in tails[0]})
        return columns

    def national_rows(self, r: int = 0) -> list[dict]:
        """Replication ``r``'s national totals, one dict of Python numbers per year."""
        columns = {key: value[r].tolist() for key, value in self.national_columns().items()}
        return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]

    def latest(self, column: str, r: int = 0) -> int | float:
        """The latest national value of ``column`` in replication ``r`` (cheap: for reporters each step)."""
        totals, staff, counts, flows = self._rows[-1]
        if column in totals:
            return totals[column][r].item()
        if column in flows:
            return flows[column][r].item()
        m, k = _MODE_COLUMN_INDEX[column]
        return (staff[r, m] if k < 0 else counts[r, k, m]).item()

    def national(self, r: int | None = None) -> pd.DataFrame:
        """National totals, one row per year.

        Args:
            r: the replication (index into ``seeds``). None: the only replication, or, for a model of
                several, all of them (a ``batch_index`` column first; rows by replication, then year).
        """
        columns = self.national_columns()
        if r is not None or self.n_batch == 1:
            return pd.DataFrame({key: value[r or 0] for key, value in columns.items()})
        frame = pd.DataFrame({key: value.ravel() for key, value in columns.items()})
        frame.insert(0, "batch_index", np.repeat(np.arange(self.n_batch), len(self._rows)))
        return frame

    def councils_frame(self, r: int | None = None) -> pd.DataFrame:
        """One row per council, service and year: mode, staff, spend (requires record_councils).

        Args:
            r: the replication; None as for :meth:`national` (rows by replication, year, council and service).
        """
        if not self.record_councils:
            raise RuntimeError("this model was run with record_councils=False")
        s, h = self.slots, self.history
        n_years, _, n = h["mode"].shape
        reps = range(self.n_batch) if r is None else [r]

        def column(key: str) -> np.ndarray:
            return h[key][:, reps].transpose(1, 0, 2).ravel()

        n_rows = len(reps) * n_years
        codes = self.england.codes[s.council]
        frame = pd.DataFrame(
            {
                "year": np.tile(np.repeat(np.arange(START_YEAR, START_YEAR + n_years), n), len(reps)),
                "ons_code": np.tile(codes, n_rows),
                "service": np.tile(np.array(SERVICES)[s.service], n_rows),
                "mode": np.array(rules.MODES)[column("mode")],
                "staff": column("staff"),
                "spend_gbp_m": column("spend"),
                "provider_id": column("provider"),
            }
        )
        if r is None and self.n_batch > 1:
            frame.insert(0, "batch_index", np.repeat(np.arange(self.n_batch), n_years * n))
        return frame

    def decisions_frame(self, r: int | None = None) -> pd.DataFrame:
        """The decision log: one row per appraisal or transition, with the appraisal scores.

        Args:
            r: the replication; None as for :meth:`national` (rows by replication, then in log order).
        """
        batch = r is None and self.n_batch > 1
        cols = (["batch_index"] if batch else []) + _DECISION_COLUMNS
        if not self._log:
            return pd.DataFrame(columns=cols)
        s = self.slots
        parts = list(zip(*self._log, strict=True))
        sizes = [len(j) for j in parts[2]]
        rep, slot = np.concatenate(parts[1]), np.concatenate(parts[2])
        no_scores = [np.full((n, len(rules.OPTIONS)), np.nan) for n in sizes]
        scores = np.concatenate(
            [u if u is not None else none for u, none in zip(parts[6], no_scores, strict=True)]
        )
        table = {
            "year": np.repeat(np.array(parts[0], dtype=np.int64), sizes),
            "from_mode": np.concatenate(parts[3]),
            "to_mode": np.concatenate(parts[4]),
            "reason": np.concatenate(parts[5]),
            "staff": np.concatenate(parts[7]),
            "spend_gbp_m": np.concatenate(parts[8]),
        }
        order = np.flatnonzero(rep == (r or 0)) if not batch else np.argsort(rep, kind="stable")
        rep, slot, scores = rep[order], slot[order], scores[order]
        frame = {
            "year": table["year"][order],
            "ons_code": self.england.codes[s.council[slot]],
            "service": np.array(SERVICES)[s.service[slot]],
            "from_mode": np.array(rules.MODES)[table["from_mode"][order]],
            "to_mode": np.array(rules.MODES)[table["to_mode"][order]],
            "reason": table["reason"][order],
            "staff": table["staff"][order],
            "spend_gbp_m": table["spend_gbp_m"][order],
        }
        for k, o in enumerate(rules.OPTIONS):
            frame[f"score_{o}"] = scores[:, k]
        if batch:
            frame = {"batch_index": rep, **frame}
        return pd.DataFrame(frame)[cols]
