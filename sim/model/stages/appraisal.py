"""Stages 3 and 4, appraise and decide: score each reviewed service's options; a change becomes pending.

The scores are the pure function :func:`sim.model.rules.appraise`; this stage gathers its inputs (the
year's weights, support places, peers, resistance) and keeps the books of the decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import points, rules, stock
from sim.model.arrays import flat
from sim.model.draws import U_NOISE, U_SUPPORT
from sim.model.rules import IS_DIVESTED, IS_MUTUAL
from sim.model.slots import ASC, LEISURE, LIBRARIES
from sim.model.stages import branches, providers

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def weights(m: DivestmentModel, y: int, duty: bool) -> rules.AppraisalWeights:
    """The appraisal weights in force in year ``y`` (built once per policy state and cached)."""
    p = m.p
    simplification = p["policy.simplification"] if y >= p["policy.simplification_from_year"] else 0.0
    agenda = rules.commercial_agenda(
        y, p["appraisal.commercial_ramp_start"], p["appraisal.commercial_ramp_years"]
    )
    # every lever the weights read, so a scheduled lever (sim.inputs.schedules) gets its own weights
    levers = (p["policy.publicity"], p["policy.commercialisation"], p["policy.duty_effect"])
    key = (simplification, agenda, duty, levers, tuple(p[f"policy.allow_{o}"] for o in _ALLOW_KEYS))
    cached = m.weights_cache.get(key)
    if cached is None:
        cached = m.weights_cache[key] = build_weights(p, simplification, agenda, duty)
    return cached


def build_weights(p: dict, simplification: float, agenda: float, duty: bool) -> rules.AppraisalWeights:
    """The appraisal's weights from the parameters and this year's policy state.

    Per-option values are in the order of :data:`sim.model.rules.OPTIONS`; simplification lowers the
    mutual options' transition cost (barrier 1).
    """
    a = "appraisal."
    mutual_complexity = p[a + "complexity_mutual"] * (1.0 - simplification)
    return rules.AppraisalWeights(
        weight_savings=p[a + "weight_savings"],
        reference_pressure=p[a + "reference_pressure"],
        # a trust's saving includes its charitable rate relief and VAT (trust.charitable_relief_share)
        savings=tuple(
            p[a + f"saving_{o}"] + (p["trust.charitable_relief_share"] if o == "trust" else 0.0)
            for o in _OPTION_KEYS
        ),
        weight_risk=p[a + "weight_risk"],
        risks=(0.0, *(p[a + f"risk_{o}"] for o in _OPTION_KEYS[1:])),
        complexity=(
            0.0,  # keep
            0.0,  # reboot: within the council
            p[a + "complexity_reduce"],
            p[a + "complexity_community"],
            p[a + "complexity_outsource"],
            p[a + "complexity_share"],
            p[a + "complexity_latc"],
            p[a + "complexity_trust"],
            mutual_complexity,
            mutual_complexity,
        ),
        service_loss=(0.0, 0.0, p[a + "saving_reduce"], p[a + "service_loss_community"], *(0.0,) * 6),
        weight_service_loss=p[a + "weight_service_loss"],
        high_jump=p[a + "high_jump"],
        weight_culture=p[a + "weight_culture"],
        joint_culture_factor=p[a + "joint_culture_factor"],
        weight_peer_region=p[a + "weight_peer_region"] * p["policy.publicity"],
        weight_peer_national=p[a + "weight_peer_national"] * p["policy.publicity"],
        commercial=agenda * p[a + "weight_commercial"] * p["policy.commercialisation"],
        proposal_bonus=p["proposals.bonus"],
        support_barrier_reduction=p["support.barrier_reduction"],
        duty_effect=p["policy.duty_effect"] if duty else 0.0,
        noise_scale=p[a + "noise_scale"],
        allowed=(True, *(p[f"policy.allow_{o}"] for o in _ALLOW_KEYS)),
    )


_OPTION_KEYS = tuple(rules.OPTION_KEY[o] for o in rules.OPTIONS)
"""The registry's names of the options (``appraisal.saving_<name>``), in the order of ``rules.OPTIONS``."""
_ALLOW_KEYS = _OPTION_KEYS[1:]


DELIVERING_DIFFERENTLY_YEAR = 2014
"""Delivering Differently ran in 2014 only (CALIBRATION.md: Jan-May 2014)."""


def support_budget(p: dict, y: int) -> float:
    """National support for mutuals in year ``y``, GBP m.

    The Mutuals Support Programme known by 2014 while it runs, Delivering Differently in 2014, plus any
    later programme a scenario sets (``support.extra_*``).
    """
    running = p["support.start_year"] <= y <= p["support.end_year"]
    budget = p["support.budget_gbp_m_per_year"] if running else 0.0
    if y == DELIVERING_DIFFERENTLY_YEAR:
        budget += p["support.delivering_differently_gbp_m"]
    if p["support.extra_from_year"] <= y <= p["support.extra_end_year"]:
        budget += p["support.extra_budget_gbp_m_per_year"]
    return budget


def support_capacity(p: dict, y: int) -> float:
    """Places on the support programmes in year ``y`` (their budget over the cost of one mutual)."""
    return support_budget(p, y) / p["support.cost_per_mutual_gbp_m"]


SHRINK = (rules.KEEP, rules.OPT_REDUCE, rules.OPT_COMMUNITY)
"""The options of the 'keep the service' nest: keep it and cut within, or keep it and shed points."""


def nest_keep(util: np.ndarray, rows: np.ndarray, u_noise: np.ndarray, noise_scale: float) -> None:
    """Keep's utility in ``rows`` becomes the inclusive value of the keep nest (keep, close, hand over).

    A nested logit: who runs a library or leisure service is decided first, and keeping it includes the
    savings of closing points or handing them over that :mod:`sim.model.stages.branches` then decides
    point by point. Keep's noise is kept; its deterministic part (the utility less its Gumbel noise)
    becomes ``scale * log(sum(exp(v / scale)))`` over the nest's deterministic utilities ``v``
    (``appraisal.noise_scale``), so the chance of keeping the service is that of the three options of a
    single appraisal (McFadden's nested logit with a dissimilarity of 1).
    """
    if not rows.any():
        return
    noise = noise_scale * rules.gumbel(u_noise[rows])
    det = util[rows] - noise
    scale = max(noise_scale, 1e-9)
    iv = scale * np.logaddexp.reduce(det[:, list(SHRINK)] / scale, axis=1)
    util[rows, rules.KEEP] = iv + noise[:, rules.KEEP]


def appraise_and_decide(m: DivestmentModel, year: Year) -> None:
    """Score the options of every service reviewed this year; a change of mode becomes pending.

    A replication's support places are shared among its own reviewed services. Decisions are logged with
    the year they are made; a pending transition goes live after the option's lag.
    """
    r, j = year.reviewed
    if not len(j):
        return
    p, s, R, y, u = m.p, m.slots, m.n_batch, year.y, year.u
    f = r * s.n + j  # flat indices: gathers at (r, j) cost a quarter
    n_reviewed = np.bincount(r, minlength=R)
    supported = rules.supported_mask(u.at_flat(U_SUPPORT, f), n_reviewed[r], support_capacity(p, y))
    mode = flat(m.mode)[f]
    proposal = flat(year.is_proposal)[f]
    by_cell, by_service = year.peer_counts
    inputs = dict(  # noqa: C408
        pressure=year.pressure[j],
        resistance=m.resistance.reshape(-1)[r * m.resistance.shape[1] + s.council[j]],
        is_proposal=proposal,
        is_supported=supported,
        mode=mode,
        service=s.service[j],
        peers_region=by_cell.astype(float)[r * m.n_cells + m.cell[j]],
        peers_national=by_service.astype(float)[r * 3 + s.service[j]],
        w=weights(m, y, year.duty),
    )
    u_noise = u.rows_at_flat(U_NOISE, U_NOISE + rules.N_OPTIONS, f)
    util = rules.appraise(u_noise=u_noise, **inputs)
    whole = s.service[j] != ASC  # a library or leisure service: who runs it, decided for the whole
    # nested: closing and handing over are decided point by point after a keep (stages.branches); a staff
    # proposal is weighed against keeping the part or service (with the council's own savings plan for
    # it, the keep nest's inclusive value), never against closing it outright
    nest_keep(util, whole | proposal, u_noise, inputs["w"].noise_scale)
    util[whole | proposal, rules.OPT_REDUCE] = -np.inf
    util[whole | proposal, rules.OPT_COMMUNITY] = -np.inf
    lib_heads = whole & (s.service[j] == LIBRARIES)
    lei_heads = whole & (s.service[j] == LEISURE)
    presence = np.zeros(len(j))
    if lib_heads.any():
        presence[lib_heads] = stock.leisure_trust_presence(m)[r[lib_heads], s.council[j[lib_heads]]]
    if lei_heads.any():  # leisure trusts already working in the region bid for the service
        region = stock.leisure_trust_presence(m, regional=True)[r[lei_heads], s.council[j[lei_heads]]]
        presence[lei_heads] = region
    with np.errstate(divide="ignore"):
        util[:, rules.OPT_TRUST] += np.log(points.trust_propensity(s, np.zeros(s.n), m.p)[j])
        util[lib_heads, rules.OPT_TRUST] += np.log(
            1.0 + (m.p["libraries.trust_weight_leisure_trust"] - 1.0) * presence[lib_heads]
        )
        util[lei_heads, rules.OPT_TRUST] += np.log(
            1.0 + (m.p["leisure.trust_weight_incumbent_region"] - 1.0) * presence[lei_heads]
        )
    choice = rules.choose(util)
    target = np.where(choice == rules.KEEP, mode, rules.OPTION_MODE[choice])  # keep: stay, and cut within
    flat(m.last_review)[f] = y
    if m.record_councils:
        m.log_events(r, j, y, mode, target, np.where(proposal, "proposal", "review"), util)
    kept = choice == rules.KEEP  # keeping is cutting within: its saving lowers spend and staff now
    rk, jk = stock.members(m, r[kept], j[kept])  # every council-run point of a kept service
    fk = rk * s.n + jk
    saved = m.p["appraisal.saving_keep"] * flat(m.spend)[fk]
    providers.close_with_cuts_at(m, rk, jk, 1.0 - m.p["appraisal.saving_keep"])
    flat(m.spend)[fk] -= saved
    flat(m.staff)[fk] *= 1.0 - m.p["appraisal.saving_keep"]
    m.cum_savings += np.bincount(rk, weights=saved, minlength=R)
    change = target != mode
    rc, to = r[change], target[change]
    now_supported = supported[change] & IS_MUTUAL[to]
    year.new["divestments"] = np.bincount(rc[IS_DIVESTED[to]], minlength=R)
    year.new["mutual_decisions"] = np.bincount(rc[IS_MUTUAL[to]], minlength=R)
    year.new["supported"] = np.bincount(rc[now_supported], minlength=R)
    # the change applies to every council-run point of the service not already changing
    (rc, jc), (to, now_supported) = stock.expand_with(m, (rc, j[change]), np.stack([to, now_supported]))
    fc = rc * s.n + jc
    free = flat(m.pending)[fc] < 0
    fc, to, now_supported = fc[free], to[free], now_supported[free].astype(bool)
    flat(m.pending)[fc] = to
    flat(m.pending_live)[fc] = y + m.lag_by_mode[to]
    flat(m.pending_supported)[fc] = now_supported
    flat(m.pending_decided)[fc] = y
    keep_whole = kept & whole & (year.pressure[j] > 0)  # nothing to save: the scale stays
    branches.decide_points(m, year, r[keep_whole], j[keep_whole])
