"""Decision rules as pure, vectorised functions.

Each rule takes arrays of inputs (one entry per service slot or council), the parameters it needs and its
random draws, and returns arrays. No rule reads model state or draws random numbers itself, so each can
be tested with a table of cases and every policy arm sees the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.modes import (  # noqa: F401  (the vocabulary of modes and options, re-exported)
    ALLOWED_TRANSITIONS,
    COMMUNITY,
    COUNCIL_MODES,
    DIVESTED_MODES,
    IN_HOUSE,
    IS_COUNCIL,
    IS_DIVESTED,
    IS_MUTUAL,
    IS_REVIEWABLE,
    JOINT,
    KEEP,
    LATC,
    LEGACY,
    MODES,
    MUTUAL,
    MUTUAL_MODES,
    MUTUAL_OPTIONS,
    N_MODES,
    N_OPTIONS,
    OPT_COMMUNITY,
    OPT_JOINT,
    OPT_LATC,
    OPT_MUTUAL,
    OPT_OUTSOURCE,
    OPT_REBOOT,
    OPT_REDUCE,
    OPT_SHARE,
    OPT_TRUST,
    OPTION_KEY,
    OPTION_MODE,
    OPTIONS,
    OUTSOURCED,
    REBOOTED,
    REDUCED,
    SERVICE_OPTIONS,
    SHARED,
    TRUST,
)


def real_funding_index(cash_change: np.ndarray, cost_growth: float) -> np.ndarray:
    """Funding relative to 2010-11 against the cost of services, year by year.

    Args:
        cash_change: (n_councils, n_years) yearly cash change of funding, fraction.
        cost_growth: yearly growth of the cost of services, fraction.

    Returns:
        (n_councils, n_years) cumulative product of (1 + change - cost_growth); 0.75 means funding covers
        75% of what the 2010-11 services now cost.
    """
    return np.cumprod(1.0 + cash_change - cost_growth, axis=1)


def budget_pressure(real_index: np.ndarray, scale: float) -> np.ndarray:
    """Budget pressure: the cumulative real funding gap (0 = none, 1 = all funding gone), scaled."""
    return scale * np.clip(1.0 - real_index, 0.0, 1.0)


def hazard_probability(rate: np.ndarray | float) -> np.ndarray:
    """Probability of at least one event in a year at a yearly hazard ``rate``."""
    return -np.expm1(-np.maximum(rate, 0.0))


def review_probability(
    pressure: np.ndarray, rate_per_pressure: float, multiplier: np.ndarray | float = 1.0
) -> np.ndarray:
    """Probability a council reviews a service this year under budget pressure."""
    return hazard_probability(rate_per_pressure * pressure * multiplier)


def proposal_probability(rate: float, peer_effect: float, peers: np.ndarray) -> np.ndarray:
    """Probability staff propose a mutual this year; each mutual in the region and service adds."""
    return hazard_probability(rate * (1.0 + peer_effect * np.log1p(peers)))


def commercial_agenda(year: int, ramp_start: int, ramp_years: int) -> float:
    """Strength of the commercialisation agenda in ``year``, rising from 0 to 1 over the ramp."""
    return float(np.clip((year - ramp_start) / ramp_years, 0.0, 1.0))


def gumbel(u: np.ndarray) -> np.ndarray:
    """Standard Gumbel variates from uniforms on [0, 1)."""
    return -np.log(-np.log(np.clip(u, 1e-12, 1.0 - 1e-12)))


@dataclass(frozen=True)
class AppraisalWeights:
    """The appraisal's parameters for one year (policy levers already applied).

    Per-option tuples are in the order of :data:`OPTIONS` (keep first). Every field is in appraisal
    points, a fraction or a multiplier as in `sim/inputs/parameters.toml`.
    """

    weight_savings: float
    reference_pressure: float
    savings: tuple[float, ...]  # expected saving of each option, fraction of spend (keep: cuts in-house)
    weight_risk: float
    risks: tuple[float, ...]  # delivery and political risk of each option, 0-1
    complexity: tuple[float, ...]  # transition cost of each option (barrier 1; mutuals after simplification)
    service_loss: tuple[float, ...]  # share of the part's provision each option loses (cuts, volunteers)
    weight_service_loss: float  # appraisal points per unit of provision lost (statutory duty, residents)
    high_jump: float
    weight_culture: float
    joint_culture_factor: float
    weight_peer_region: float
    weight_peer_national: float
    commercial: float  # agenda strength times weight, this year
    proposal_bonus: float
    support_barrier_reduction: float
    duty_effect: float  # 0 when there is no duty this year
    noise_scale: float
    allowed: tuple[bool, ...]  # options a scenario allows


def appraise(
    pressure: np.ndarray,
    resistance: np.ndarray,
    is_proposal: np.ndarray,
    is_supported: np.ndarray,
    mode: np.ndarray,
    service: np.ndarray,
    peers_region: np.ndarray,
    peers_national: np.ndarray,
    u_noise: np.ndarray,
    w: AppraisalWeights,
) -> np.ndarray:
    """Options appraisal: the utility of each option for each reviewed service part.

    Every option scores its saving (weighted by budget pressure) less its risk, its transition cost
    (barrier 1) and the provision it loses (cutting or closing a part, handing it to volunteers).
    Keeping is the safe option: its savings are efficiency savings and cuts within the service, with no
    risk and no transition. The mutual options also face cultural resistance to
    staff-led ventures (barrier 2) and the "high jump" against safer options (barrier 3, half for a joint
    venture), and gain from peer evidence (diffusion), a staff proposal and national support (which lowers
    their transition cost). Council-led companies (LATC, joint venture) gain from the commercialisation
    agenda. Options a service cannot take (:data:`SERVICE_OPTIONS`), the mode it is already in, and those a
    scenario switches off are -inf.

    Args:
        pressure: (n,) budget pressure of the council.
        resistance: (n,) council's cultural resistance to staff-led ventures, 0-1.
        is_proposal: (n,) bool, the review was triggered by a staff proposal.
        is_supported: (n,) bool, a mutual transition would get national support.
        mode: (n,) current mode of the part (a council mode).
        service: (n,) service index of the part.
        peers_region: (n,) mutuals in the council's region and the service.
        peers_national: (n,) mutuals in the service across England.
        u_noise: (n, N_OPTIONS) uniforms for the Gumbel noise of each option.
        w: the year's weights.

    Returns:
        (n, N_OPTIONS) utilities; options not open are -inf.
    """
    value = w.weight_savings * (pressure / w.reference_pressure)
    util = (
        value[:, None] * np.asarray(w.savings)
        - w.weight_risk * np.asarray(w.risks)
        - np.asarray(w.complexity)
        - w.weight_service_loss * np.asarray(w.service_loss)
    )
    peer = w.weight_peer_region * np.log1p(peers_region) + w.weight_peer_national * np.log1p(peers_national)
    support = w.support_barrier_reduction * w.complexity[OPT_MUTUAL] * is_supported
    culture = w.weight_culture * resistance * (1.0 - w.duty_effect * is_proposal)
    bonus = w.proposal_bonus * is_proposal
    util[:, OPT_MUTUAL] += support - w.high_jump - culture + peer + bonus
    util[:, OPT_JOINT] += (
        w.support_barrier_reduction * w.complexity[OPT_JOINT] * is_supported
        - 0.5 * w.high_jump
        - w.joint_culture_factor * culture
        + peer
        + w.commercial
        + 0.5 * bonus
    )
    util[:, OPT_LATC] += w.commercial
    util += w.noise_scale * gumbel(u_noise)
    closed = ~SERVICE_OPTIONS[service]
    closed[:, ~np.asarray(w.allowed)] = True
    closed[mode == REBOOTED, OPT_REBOOT] = True
    closed[mode == REDUCED, OPT_REDUCE] = True
    util[closed] = -np.inf
    return util


def choose(util: np.ndarray) -> np.ndarray:
    """The option with the highest utility in each row (ties go to the earlier, safer option)."""
    return np.argmax(util, axis=1)


def supported_mask(u: np.ndarray, n_candidates: int | np.ndarray, capacity: float) -> np.ndarray:
    """Which candidates get national support, when ``capacity`` transitions can be funded this year.

    Each candidate is supported with probability min(1, capacity / n_candidates), by its own draw, so
    more capacity never removes support from a candidate that had it. ``n_candidates`` may be an array
    (one entry per candidate: the candidates competing with it, for example in its own replication).
    """
    if np.ndim(n_candidates) == 0:
        share = 1.0 if n_candidates == 0 else min(1.0, capacity / n_candidates)
    else:
        n = np.asarray(n_candidates)
        share = np.where(n == 0, 1.0, np.minimum(1.0, capacity / np.maximum(n, 1)))
    return u < share


def weighted_sample(u: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Indices of ``k`` items drawn without replacement with probability proportional to ``weights``.

    Efraimidis-Spirakis keys ``u ** (1 / w)`` from a block of uniforms; items of weight 0 are never
    drawn. Returns indices sorted ascending.
    """
    keys = np.full(len(u), -1.0)
    positive = weights > 0
    keys[positive] = u[positive] ** (1.0 / weights[positive])
    k = min(k, int(positive.sum()))
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.argpartition(-keys, k - 1)[:k])


def weighted_sample_rows(u: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """:func:`weighted_sample` in each row of (R, n) arrays at once: a boolean (R, n) mask of the items drawn.

    Row r's items are exactly ``weighted_sample(u[r], weights[r], k)``: the same keys, and the same
    partition of each row (rows with fewer than ``k`` items of positive weight draw all of them).
    """
    keys = np.full(u.shape, -1.0)
    positive = weights > 0
    ones = weights == 1.0  # u ** (1 / 1.0) is u itself: copied, not raised to a power
    other = positive & ~ones
    np.copyto(keys, u, where=ones)
    np.power(u, np.divide(1.0, weights, out=np.ones(u.shape), where=other), out=keys, where=other)
    drawn = np.zeros(u.shape, dtype=bool)
    if k <= 0:
        return drawn
    short = positive.sum(axis=1) <= k
    drawn[short] = positive[short]
    full = np.flatnonzero(~short)
    if len(full):
        top = np.argpartition(-keys[full], k - 1, axis=1)[:, :k]
        drawn[full[:, None], top] = True
    return drawn


def grow_spend(
    spend: np.ndarray, cash_change: np.ndarray, passthrough: float, growth: np.ndarray
) -> np.ndarray:
    """Next year's spend of each service: the council's funding change passed through, plus trading growth."""
    return np.maximum(spend * (1.0 + passthrough * cash_change) * (1.0 + growth), 0.0)


def counts_as_mutual(
    mode: int, staff_share: float, min_staff_share: float, founded_before_2010: bool = False
) -> bool:
    """Whether a provider counts as a public service mutual, as the registers count them.

    A public service mutual has left the public sector, still delivers public services, and has
    significant staff ownership or control. So: a staff-led mutual counts; a joint council-staff venture
    counts if its staff share reaches ``min_staff_share``; trusts that existed before 2010 (leisure
    trusts), trading companies (council-owned), new non-mutual trusts, contractors, community groups and
    other councils never count. A body running several councils' services or several services is one
    provider, so it counts once (the caller counts providers, not services).

    Args:
        mode: the provider's mode (:data:`MODES`).
        staff_share: the staff's share of ownership or control, 0-1.
        min_staff_share: the least share that is "significant".
        founded_before_2010: the body existed before 2010.
    """
    if founded_before_2010 or mode not in MUTUAL_MODES:
        return False
    return mode == MUTUAL or staff_share >= min_staff_share


def counted_modes(joint_staff_share: float, min_staff_share: float) -> np.ndarray:
    """Lookup by mode of :func:`counts_as_mutual` for the model's providers (founded from 2010 on)."""
    shares = {MUTUAL: 1.0, JOINT: joint_staff_share}
    return np.array(
        [
            counts_as_mutual(k, shares.get(k, 0.0), min_staff_share, founded_before_2010=k == LEGACY)
            for k in range(N_MODES)
        ]
    )
