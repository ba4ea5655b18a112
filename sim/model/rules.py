"""Decision rules as pure, vectorised functions.

Each rule takes arrays of inputs (one entry per service slot or council), the parameters it needs and its
random draws, and returns arrays. No rule reads model state or draws random numbers itself, so each can
be tested with a table of cases and every policy arm sees the same draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Delivery modes of a service.
IN_HOUSE, REBOOTED, LATC, MUTUAL, JOINT, LEGACY = range(6)
MODES = ("in_house", "rebooted", "latc", "mutual", "joint_mutual", "legacy_trust")
MUTUAL_MODES = (MUTUAL, JOINT)
DIVESTED_MODES = (LATC, MUTUAL, JOINT)
"""Modes run by a provider outside the council (a provider can fail or lose its contract)."""
IS_MUTUAL = np.isin(np.arange(6), MUTUAL_MODES)
IS_DIVESTED = np.isin(np.arange(6), DIVESTED_MODES)
IS_REVIEWABLE = np.isin(np.arange(6), (IN_HOUSE, REBOOTED))
"""Lookup tables by mode: ``IS_MUTUAL[mode_array]`` is a fast ``np.isin``."""

# Options of the appraisal, in column order. KEEP keeps the current mode.
KEEP, OPT_REBOOT, OPT_LATC, OPT_MUTUAL, OPT_JOINT = range(5)
OPTIONS = ("keep", "reboot", "latc", "mutual", "joint_mutual")
OPTION_MODE = np.array([-1, REBOOTED, LATC, MUTUAL, JOINT])

ALLOWED_TRANSITIONS = frozenset(
    {
        (IN_HOUSE, REBOOTED),
        (IN_HOUSE, LATC),
        (IN_HOUSE, MUTUAL),
        (IN_HOUSE, JOINT),
        (REBOOTED, LATC),
        (REBOOTED, MUTUAL),
        (REBOOTED, JOINT),
        (LATC, IN_HOUSE),
        (MUTUAL, IN_HOUSE),
        (JOINT, IN_HOUSE),
    }
)
"""Every (from, to) mode change the model may make; legacy trusts keep their mode."""


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

    Every field is in appraisal points, a fraction or a multiplier as in `sim/inputs/parameters.toml`.
    """

    weight_savings: float
    reference_pressure: float
    savings: tuple[float, float, float, float]  # reboot, latc, mutual, joint
    weight_risk: float
    risks: tuple[float, float, float, float]
    high_jump: float
    complexity_latc: float
    complexity_mutual: float  # after simplification
    weight_culture: float
    joint_culture_factor: float
    weight_peer_region: float
    weight_peer_national: float
    commercial: float  # agenda strength times weight, this year
    proposal_bonus: float
    support_barrier_reduction: float
    duty_effect: float  # 0 when there is no duty this year
    noise_scale: float
    allowed: tuple[bool, bool, bool, bool, bool]  # keep, reboot, latc, mutual, joint
    saving_keep: float = 0.0  # efficiency savings and cuts of keeping the service as it is


def appraise(
    pressure: np.ndarray,
    resistance: np.ndarray,
    is_proposal: np.ndarray,
    is_supported: np.ndarray,
    is_rebooted: np.ndarray,
    peers_region: np.ndarray,
    peers_national: np.ndarray,
    u_noise: np.ndarray,
    w: AppraisalWeights,
) -> np.ndarray:
    """Options appraisal: the utility of each option for each reviewed service.

    Options, in columns: keep (status quo: efficiency savings and cuts of its own, no risk), re-boot
    in-house, trading company (LATC), staff-led mutual, joint council-staff mutual. Savings count in
    proportion to budget pressure; risk, transition complexity (barrier 1), cultural resistance to
    staff-led ventures (barrier 2) and the 'high jump' against safer options (barrier 3) count against;
    peer evidence (diffusion), the commercialisation agenda, a staff proposal and national support
    count for.

    Args:
        pressure: (n,) budget pressure of the council.
        resistance: (n,) council's cultural resistance to staff-led ventures, 0-1.
        is_proposal: (n,) bool, the review was triggered by a staff proposal.
        is_supported: (n,) bool, the transition would get national support.
        is_rebooted: (n,) bool, the service is already re-booted (so re-booting is not an option).
        peers_region: (n,) mutuals in the council's region and the service.
        peers_national: (n,) mutuals in the service across England.
        u_noise: (n, 5) uniforms for the Gumbel noise of each option.
        w: the year's weights.

    Returns:
        (n, 5) utilities; options not allowed are -inf.
    """
    n = len(pressure)
    util = np.empty((n, 5))
    value = w.weight_savings * (pressure / w.reference_pressure)
    s_reboot, s_latc, s_mutual, s_joint = w.savings
    r_reboot, r_latc, r_mutual, r_joint = w.risks
    peer = w.weight_peer_region * np.log1p(peers_region) + w.weight_peer_national * np.log1p(peers_national)
    complexity = w.complexity_mutual * (1.0 - w.support_barrier_reduction * is_supported)
    culture = w.weight_culture * resistance * (1.0 - w.duty_effect * is_proposal)
    bonus = w.proposal_bonus * is_proposal
    util[:, KEEP] = value * w.saving_keep  # keeping and cutting: savings of its own, no risk
    util[:, OPT_REBOOT] = value * s_reboot - w.weight_risk * r_reboot
    util[:, OPT_LATC] = value * s_latc - w.weight_risk * r_latc - w.complexity_latc + w.commercial
    util[:, OPT_MUTUAL] = (
        value * s_mutual - w.weight_risk * r_mutual - complexity - w.high_jump - culture + peer + bonus
    )
    util[:, OPT_JOINT] = (
        value * s_joint
        - w.weight_risk * r_joint
        - complexity
        - 0.5 * w.high_jump
        - w.joint_culture_factor * culture
        + peer
        + w.commercial
        + 0.5 * bonus
    )
    util += w.noise_scale * gumbel(u_noise)
    util[:, ~np.asarray(w.allowed)] = -np.inf
    util[is_rebooted, OPT_REBOOT] = -np.inf
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
    keys[positive] = u[positive] ** (1.0 / weights[positive])
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
