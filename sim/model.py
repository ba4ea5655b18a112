"""The Mesa model: every English council of 2014 deciding each year how to run its services.

Councils are Mesa agents. Their services' state lives in the model as columns (one entry per service
slot: a council's adult social care, libraries or leisure), so that one yearly step does its arithmetic in
numpy across all councils; the rules themselves are the pure functions of :mod:`sim.rules`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import mesa
import numpy as np
import pandas as pd

from sim import rules
from sim.councils import (
    FUNDING_YEARS,
    LEISURE_TYPES,
    REGIONS,
    UPPER_TIER_TYPES,
    England,
    load_england,
)
from sim.rng import Streams
from sim.rules import (
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
from sim.scenario import START_YEAR, Scenario

SERVICES = ("adult_social_care", "libraries", "leisure")
ASC, LIBRARIES, LEISURE = range(3)

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
_FLOWS = ("divestments", "mutual_decisions", "live", "abandoned", "returns", "failures")

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


@dataclass(frozen=True)
class Slots:
    """The service slots of England: one per council and service it runs, in a fixed order.

    Attributes:
        council: council index of each slot.
        service: service index (ASC, LIBRARIES, LEISURE).
        region: region index of the council (into `sim.councils.REGIONS`).
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


@lru_cache(maxsize=8)
def _read_funding_file(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    missing = {"ons_code", "year", "cash_change"} - set(df.columns)
    if missing:
        raise ValueError(f"{path}: funding path file lacks columns {sorted(missing)}")
    return df


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
        df = _read_funding_file(p["funding.path_file"])
        codes = eng.councils["ons_code"].to_numpy()
        row = pd.Series(np.arange(eng.n), index=codes).reindex(df["ons_code"]).to_numpy()
        col = df["year"].to_numpy() - years[0]
        ok = ~np.isnan(row) & (col >= 0) & (col < len(years))
        path[row[ok].astype(int), col[ok].astype(int)] = df["cash_change"].to_numpy()[ok]
    path[:, years >= p["funding.extra_cut_from_year"]] -= p["funding.extra_cut_per_year"]
    return path


class CouncilAgent(mesa.Agent):
    """An English council of 1 April 2014.

    Its services' modes, staff and spend are kept by the model in columns indexed by ``slots``; the
    agent is the handle users and notebooks hold (``agent.modes()``, ``agent.ons_code``).
    """

    def __init__(self, model: DivestmentModel, index: int, ons_code: str, name: str, slots: np.ndarray):
        super().__init__(model)
        self.index = index
        self.ons_code = ons_code
        self.name = name
        self.slots = slots

    def modes(self) -> dict[str, str]:
        """Delivery mode of each of the council's services this year."""
        m = self.model
        return {SERVICES[m.slots.service[s]]: rules.MODES[m.mode[s]] for s in self.slots}


class DivestmentModel(mesa.Model):
    """English councils divesting leisure, adult social care and libraries, one step per financial year.

    Args:
        scenario: the resolved scenario (parameters and end year); the baseline defaults if None.
        seed: the run's seed; all randomness flows from it.
        record_councils: keep the per-slot history (needed for councils.csv; sweeps switch it off).
    """

    def __init__(self, scenario: Scenario | None = None, seed: int = 0, record_councils: bool = True):
        super().__init__(rng=seed)
        self.spec = scenario if scenario is not None else Scenario(name="baseline")
        self.seed = seed
        self.p = p = self.spec.params
        self.streams = Streams(seed)
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
        self.mode = np.full(n, IN_HOUSE, dtype=np.int64)
        self.staff = s.staff.copy()
        self.spend = s.spend.copy()
        self.provider = np.full(n, -1, dtype=np.int64)
        self.contract_end = np.full(n, 10_000, dtype=np.int64)
        self.pending = np.full(n, -1, dtype=np.int64)
        self.pending_live = np.zeros(n, dtype=np.int64)
        self.pending_supported = np.zeros(n, dtype=bool)
        self.pending_decided = np.zeros(n, dtype=np.int64)
        self.last_review = np.full(n, -10_000, dtype=np.int64)
        self.cum_savings = 0.0
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
        self._u = np.zeros((N_DRAW_ROWS, n))
        self._weights_cache: dict[tuple, rules.AppraisalWeights] = {}
        self._cell = s.region * 3 + s.service
        self._log: list[tuple] = []
        self._national: list[dict] = []
        years = self.end_year - START_YEAR + 1
        if record_councils:
            self.history = {
                "mode": np.empty((years, n), dtype=np.int8),
                "staff": np.empty((years, n)),
                "spend": np.empty((years, n)),
                "provider": np.empty((years, n), dtype=np.int64),
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
        p, s, st = self.p, self.slots, self.streams
        y = START_YEAR
        resistance_mean = p["appraisal.resistance_mean"]
        k = p["appraisal.resistance_concentration"]
        g = st.generator("init", y)
        u_legacy, u_mutuals, u_latc, u_contract, u_pipeline, u_pipeline_year = g.random((6, s.n))  # first
        self.resistance = g.beta(resistance_mean * k, (1 - resistance_mean) * k, size=self.england.n)
        fixed = np.zeros(s.n, dtype=bool)
        for code, service, mode, _ in NAMED_CASES:
            j = self.slot_of(code, service)
            self._go_live(np.array([j]), np.array([mode]), y, "initial", join=False)
            fixed[j] = True
        for code, service, mode, live, _ in PIPELINE_CASES:
            j = self.slot_of(code, service)
            self.pending[j], self.pending_live[j], self.pending_decided[j] = mode, live, y
            self._log_events(np.array([j]), y, IN_HOUSE, mode, "pipeline")
            fixed[j] = True
        legacy = (s.service == LEISURE) & (u_legacy < p["init.share_leisure_legacy_trust"]) & ~fixed
        self.mode[legacy] = LEGACY
        named_mutuals = sum(1 for c in NAMED_CASES if c[2] in rules.MUTUAL_MODES)
        n_lg = round(p["init.n_mutuals_2014"] * p["init.share_lg"]) - named_mutuals
        weights = np.array([p["init.lg_share_asc"], p["init.lg_share_libraries"], p["init.lg_share_leisure"]])
        free = (self.mode == IN_HOUSE) & ~fixed
        per_service = np.bincount(s.service[free], minlength=3).clip(min=1)
        w = np.where(free, weights[s.service] / per_service[s.service], 0.0)
        picked = rules.weighted_sample(u_mutuals, w, n_lg)
        self._go_live(picked, np.full(len(picked), MUTUAL), y, "initial", join=False)
        free[picked] = False
        n_latc = p["init.n_latc_2014"] - sum(1 for c in NAMED_CASES if c[2] == LATC)
        picked = rules.weighted_sample(u_latc, free.astype(float), n_latc)
        self._go_live(picked, np.full(len(picked), LATC), y, "initial", join=False)
        free[picked] = False
        # Spin-outs decided by 2014 (Mutuals Support Programme pipeline), live in 2015 or 2016.
        picked = rules.weighted_sample(u_pipeline, np.where(free, w, 0.0), p["init.n_lg_pipeline_2014"])
        self.pending[picked] = MUTUAL
        self.pending_live[picked] = np.where(u_pipeline_year[picked] < 0.5, y + 1, y + 2)
        self.pending_decided[picked] = y - 1
        self.pending_supported[picked] = True
        self._log_events(picked, y, IN_HOUSE, MUTUAL, "pipeline")
        divested = IS_DIVESTED[self.mode]
        length = p["contract.length_years"]
        self.contract_end[divested] = y + 1 + (u_contract[divested] * length).astype(np.int64)
        self._setup_outside()

    def _setup_outside(self) -> None:
        """Mutuals outside local government: the 2014 national figures less the local-government stock."""
        p = self.p
        lg = self._lg_totals()
        self.out_n = max(p["init.n_mutuals_2014"] - lg["n"], 0)
        self.out_staff = max(p["init.mutual_staff_2014"] - lg["staff"], 0.0)
        self.out_spend = max(p["init.mutual_spend_2014_gbp_m"] - lg["spend"], 0.0)
        self.warnings = []
        if self.out_n == 0 or self.out_staff == 0 or self.out_spend == 0:
            self.warnings.append("local-government mutuals in 2014 exceed a national 2014 figure")
        self.out_spend_per_staff = self.out_spend / self.out_staff if self.out_staff else 0.0

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """Advance one financial year, in these stages and this order.

        1. Assess pressure: each council's budget pressure this year from its funding path.
        2. Review: services under pressure are reviewed; staff may propose a mutual (bottom-up).
        3. Appraise: each reviewed service's options are scored (:func:`sim.rules.appraise`).
        4. Decide: a change of mode becomes a pending transition, live after a lag.
        5. Transfer: pending transitions may be abandoned (a chance each year of the lag); those due go
           live at the start of next year; staff and spend move with the service.
        6. Grow or fail: next year's spend follows the council's funding plus trading growth; providers
           fail and contracts end (services return in-house next year); mutuals outside local
           government follow their own path.
        7. Record: the state at the start of next year (national totals, and the council table when
           recording); flows (``new_*``) are those of the year just simulated.

        Decisions are logged with the year they are made (``y``); transitions with the year they take
        effect (``y + 1``). The first step simulates 2014-15 and records the state of 2015-16.
        """
        y, p, s, st = self.year, self.p, self.slots, self.streams
        nxt = y + 1
        new = dict.fromkeys(
            ("divestments", "mutual_decisions", "live", "abandoned", "returns", "failures"), 0
        )
        # 1. pressure
        col = y - FUNDING_YEARS[0]
        pressure = self._pressure[s.council, col]
        # 2. review
        peers_region, peers_national = self._peers()
        self._gen = st.generator("year", y)
        self._u = u = self._gen.random((N_DRAW_ROWS, s.n))  # fixed size, drawn first
        eligible = IS_REVIEWABLE[self.mode] & (self.pending < 0)
        cooled = (y - self.last_review) >= p["review.min_years_between"]
        mult = np.where(self.mode == REBOOTED, p["review.rebooted_multiplier"], 1.0)
        u_review, u_proposal = u[U_REVIEW], u[U_PROPOSAL]
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
        reviewed = np.flatnonzero(is_review | is_proposal)
        # 3. appraise
        if len(reviewed):
            u_noise = u[U_NOISE : U_NOISE + 5, reviewed].T
            u_support = u[U_SUPPORT, reviewed]
            capacity = 0.0
            if y <= p["support.end_year"]:
                capacity = p["support.budget_gbp_m_per_year"] / p["support.cost_per_mutual_gbp_m"]
            supported = rules.supported_mask(u_support, len(reviewed), capacity)
            util = rules.appraise(
                pressure=pressure[reviewed],
                resistance=self.resistance[s.council[reviewed]],
                is_proposal=is_proposal[reviewed],
                is_supported=supported,
                is_rebooted=self.mode[reviewed] == REBOOTED,
                peers_region=peers_region[reviewed],
                peers_national=peers_national[reviewed],
                u_noise=u_noise,
                w=self._weights(y, duty),
            )
            choice = rules.choose(util)
            # 4. decide
            target = np.where(choice == rules.KEEP, self.mode[reviewed], rules.OPTION_MODE[choice])
            self.last_review[reviewed] = y
            reason = np.where(is_proposal[reviewed], "proposal", "review")
            self._log_events(reviewed, y, self.mode[reviewed], target, reason, util)
            change = target != self.mode[reviewed]
            j = reviewed[change]
            lag = self._lag_by_mode[target[change]]
            self.pending[j], self.pending_live[j] = target[change], y + lag
            self.pending_supported[j] = supported[change] & IS_MUTUAL[target[change]]
            self.pending_decided[j] = y
            new["divestments"] = int(IS_DIVESTED[target[change]].sum())
            new["mutual_decisions"] = int(IS_MUTUAL[target[change]].sum())
        # 5. transfer
        waiting = np.flatnonzero(self.pending >= 0)
        if len(waiting):
            rate = self._abandon_by_mode[self.pending[waiting]]
            rate = rate * (1.0 - p["support.abandon_reduction"] * self.pending_supported[waiting])
            u_abandon = u[U_ABANDON, waiting]
            abandon = u_abandon < rate
            gone = waiting[abandon]
            self._log_events(gone, y, self.mode[gone], self.pending[gone], "abandoned")
            self.pending[gone] = -1
            new["abandoned"] = len(gone)
            live = waiting[~abandon & (self.pending_live[waiting] == nxt)]
            if len(live):
                self._go_live(live, self.pending[live], nxt, "live", join=True)
                self.pending[live] = -1
                new["live"] = len(live)
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
        """Mutual services in each slot's region and service, and in its service nationally."""
        s = self.slots
        is_mutual = IS_MUTUAL[self.mode]
        cell = s.region * 3 + s.service
        by_cell = np.bincount(cell[is_mutual], minlength=self._n_regions * 3)
        by_service = np.bincount(s.service[is_mutual], minlength=3)
        return by_cell[cell].astype(float), by_service[s.service].astype(float)

    def _go_live(self, j: np.ndarray, mode: np.ndarray, y: int, reason: str, join: bool) -> None:
        """Services ``j`` change to ``mode``; staff and spend move with them unchanged."""
        if len(j) == 0:
            return
        p, s = self.p, self.slots
        self._log_events(j, y, self.mode[j], mode, reason)
        old = self.mode[j].copy()
        self.mode[j] = mode
        divested = IS_DIVESTED[mode]
        provider = np.where(divested, mode * s.n + j, -1)
        if join:
            # A divestment may go to an existing provider of the same kind in the region and service.
            joining = np.flatnonzero(divested & (self._u[U_JOIN, j] < p["contract.p_join_existing"]))
            if len(joining):
                best = self._largest_provider_by_kind(exclude=j)
                found = best.get  # (mode, cell) -> provider id
                for k in joining:
                    provider[k] = found((int(mode[k]), int(self._cell[j[k]])), provider[k])
        self.provider[j] = provider
        self.contract_end[j] = np.where(divested, y + p["contract.length_years"], 10_000)
        savings = self._saving_by_mode[mode]
        if reason != "initial":
            self.cum_savings += float((savings * self.spend[j] * (old != mode)).sum())

    def _largest_provider_by_kind(self, exclude: np.ndarray) -> dict[tuple[int, int], int]:
        """The largest provider (by staff) of each (mode, region-service cell), ignoring slots ``exclude``."""
        existing = IS_DIVESTED[self.mode]
        existing[exclude] = False
        idx = np.flatnonzero(existing)
        if len(idx) == 0:
            return {}
        prov = self.provider[idx]
        staff = np.bincount(prov, weights=self.staff[idx])
        ids = np.unique(prov)  # a provider has one mode and one cell
        slot_of = np.full(staff.shape[0], -1)
        slot_of[prov] = idx
        kinds = self.mode[slot_of[ids]] * 1000 + self._cell[slot_of[ids]]
        order = np.lexsort((-staff[ids], kinds))
        kinds, ids = kinds[order], ids[order]
        keep = np.r_[True, kinds[1:] != kinds[:-1]]
        return {(int(k // 1000), int(k % 1000)): int(i) for k, i in zip(kinds[keep], ids[keep], strict=True)}

    def _fail(self, y: int) -> int:
        """Providers fail at their yearly rate; their services return in-house. Returns the number failed."""
        divested = np.flatnonzero(IS_DIVESTED[self.mode])
        if len(divested) == 0:
            return 0
        u = self._u[U_FAIL:].ravel()
        rate = self._fail_by_mode[self.mode[divested]]
        failed_providers = np.unique(self.provider[divested][u[self.provider[divested]] < rate])
        hit = divested[np.isin(self.provider[divested], failed_providers)]
        self._return_in_house(hit, y, "failure")
        return len(failed_providers)

    def _contract_ends(self, y: int) -> int:
        p = self.p
        ending = IS_DIVESTED[self.mode] & (self.contract_end == y)
        is_back = ending & (self._u[U_CONTRACT] < p["contract.p_return_in_house"])
        back = np.flatnonzero(is_back)
        self._return_in_house(back, y, "contract_end")
        self.contract_end[ending & ~is_back] = y + p["contract.length_years"]
        return len(back)

    def _return_in_house(self, j: np.ndarray, y: int, reason: str) -> None:
        if len(j) == 0:
            return
        self._log_events(j, y, self.mode[j], np.full(len(j), IN_HOUSE), reason)
        self.mode[j] = IN_HOUSE
        self.provider[j] = -1
        self.contract_end[j] = 10_000
        self.last_review[j] = y

    def _step_outside(self, y: int) -> None:
        """NHS and central-government mutuals: failures, new spin-outs and growth of the rest."""
        p = self.p
        g = self._gen  # after the slots' fixed block, so outside draws never shift council draws
        failed = g.binomial(self.out_n, p["outside.fail_rate_per_year"]) if self.out_n else 0
        budget = p["support.budget_gbp_m_per_year"] if y <= p["support.end_year"] else 0.0
        base = p["outside.new_mutuals_per_year_unsupported"]
        rate = base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
        born = g.poisson(rate)
        kept = 1.0 - (failed / self.out_n if self.out_n else 0.0)
        self.out_staff = (
            self.out_staff * kept * (1 + p["outside.staff_growth_per_year"])
            + born * p["outside.staff_per_new_mutual"]
        )
        self.out_n = self.out_n - failed + born
        self.out_spend = self.out_staff * self.out_spend_per_staff

    # ------------------------------------------------------------------ books
    def _lg_totals(self) -> dict[str, float]:
        is_mutual = IS_MUTUAL[self.mode]
        return {
            "n": int(len(np.unique(self.provider[is_mutual]))),
            "staff": float(self.staff[is_mutual].sum()),
            "spend": float(self.spend[is_mutual].sum()),
        }

    def _log_events(self, j, y, old, new, reason, util=None) -> None:
        if len(j) and self.record_councils:
            self._log.append(
                (
                    y,
                    j.copy(),
                    np.broadcast_to(old, j.shape).copy(),
                    np.broadcast_to(new, j.shape).copy(),
                    np.broadcast_to(reason, j.shape),
                    None if util is None else util.copy(),
                    self.staff[j].copy(),
                    self.spend[j].copy(),
                )
            )

    def _record(self, new: dict) -> None:
        s, p = self.slots, self.p
        lg = self._lg_totals()
        row = {
            "year": self.year,
            "n_mutuals": lg["n"] + self.out_n,
            "mutual_staff": lg["staff"] + self.out_staff,
            "mutual_spend_gbp_m": lg["spend"] + self.out_spend,
            "n_mutuals_lg": lg["n"],
            "mutual_staff_lg": lg["staff"],
            "mutual_spend_lg_gbp_m": lg["spend"],
            "n_mutuals_outside": self.out_n,
            "mutual_staff_outside": self.out_staff,
            "mutual_spend_outside_gbp_m": self.out_spend,
        }
        row["share_of_target"] = row["mutual_staff"] / p["report.target_staff"]
        is_latc = self.mode == LATC
        row["n_latcs"] = len(np.unique(self.provider[is_latc]))
        counts = np.bincount(s.service * 6 + self.mode, minlength=18).reshape(3, 6)
        staff = np.bincount(self.mode, weights=self.staff, minlength=6)
        staff_list, counts_list = staff.tolist(), counts.T.tolist()  # counts stay integers
        values = [v for m in range(len(rules.MODES)) for v in (staff_list[m], *counts_list[m])]
        row.update(zip(_MODE_COLUMNS, values, strict=True))
        row["n_pending"] = int((self.pending >= 0).sum())
        row.update({f"new_{key}": new.get(key, 0) for key in _FLOWS})
        row["cum_savings_gbp_m"] = self.cum_savings
        self._national.append(row)
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

    def national(self) -> pd.DataFrame:
        """National totals, one row per year."""
        return pd.DataFrame(self._national)

    def councils_frame(self) -> pd.DataFrame:
        """One row per council, service and year: mode, staff, spend (requires record_councils)."""
        if not self.record_councils:
            raise RuntimeError("this model was run with record_councils=False")
        s, h = self.slots, self.history
        n_years, n = h["mode"].shape
        codes = self.england.codes[s.council]
        return pd.DataFrame(
            {
                "year": np.repeat(np.arange(START_YEAR, START_YEAR + n_years), n),
                "ons_code": np.tile(codes, n_years),
                "service": np.tile(np.array(SERVICES)[s.service], n_years),
                "mode": np.array(rules.MODES)[h["mode"].ravel()],
                "staff": h["staff"].ravel(),
                "spend_gbp_m": h["spend"].ravel(),
                "provider_id": h["provider"].ravel(),
            }
        )

    def decisions_frame(self) -> pd.DataFrame:
        """The decision log: one row per appraisal or transition, with the appraisal scores."""
        cols = [
            "year",
            "ons_code",
            "service",
            "from_mode",
            "to_mode",
            "reason",
            "staff",
            "spend_gbp_m",
        ]
        cols += [f"score_{o}" for o in rules.OPTIONS]
        if not self._log:
            return pd.DataFrame(columns=cols)
        s = self.slots
        codes = self.england.codes
        parts = []
        for y, j, old, new, reason, util, staff, spend in self._log:
            scores = util if util is not None else np.full((len(j), 5), np.nan)
            part = {
                "year": np.full(len(j), y),
                "ons_code": codes[s.council[j]],
                "service": np.array(SERVICES)[s.service[j]],
                "from_mode": np.array(rules.MODES)[old],
                "to_mode": np.array(rules.MODES)[new],
                "reason": reason,
                "staff": staff,
                "spend_gbp_m": spend,
            }
            for k, o in enumerate(rules.OPTIONS):
                part[f"score_{o}"] = scores[:, k]
            parts.append(pd.DataFrame(part))
        return pd.concat(parts, ignore_index=True)[cols]
