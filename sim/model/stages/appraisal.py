"""Stages 3 and 4, appraise and decide: score each reviewed service's options; a change becomes pending.

The scores are the pure function :func:`sim.model.rules.appraise`; this stage gathers its inputs (the
year's weights, support places, peers, resistance) and keeps the books of the decisions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.draws import U_NOISE, U_SUPPORT
from sim.model.rules import IS_DIVESTED, IS_MUTUAL, REBOOTED

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
    key = (simplification, agenda, duty)
    cached = m.weights_cache.get(key)
    if cached is None:
        cached = m.weights_cache[key] = build_weights(p, simplification, agenda, duty)
    return cached


def build_weights(p: dict, simplification: float, agenda: float, duty: bool) -> rules.AppraisalWeights:
    """The appraisal's weights from the parameters and this year's policy state."""
    return rules.AppraisalWeights(
        weight_savings=p["appraisal.weight_savings"],
        reference_pressure=p["appraisal.reference_pressure"],
        saving_keep=p["appraisal.saving_keep"],
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


def support_budget(p: dict, y: int) -> float:
    """National support for mutuals in year ``y``, GBP m.

    The programme known by 2014 while it runs, plus any later programme a scenario sets (``support.extra_*``).
    """
    budget = p["support.budget_gbp_m_per_year"] if y <= p["support.end_year"] else 0.0
    if p["support.extra_from_year"] <= y <= p["support.extra_end_year"]:
        budget += p["support.extra_budget_gbp_m_per_year"]
    return budget


def support_capacity(p: dict, y: int) -> float:
    """Places on the support programmes in year ``y`` (their budget over the cost of one mutual)."""
    return support_budget(p, y) / p["support.cost_per_mutual_gbp_m"]


def appraise_and_decide(m: DivestmentModel, year: Year) -> None:
    """Score the options of every service reviewed this year; a change of mode becomes pending.

    A replication's support places are shared among its own reviewed services. Decisions are logged with
    the year they are made; a pending transition goes live after the option's lag.
    """
    r, j = year.reviewed
    if not len(j):
        return
    p, s, R, y, u = m.p, m.slots, m.n_batch, year.y, year.u
    n_reviewed = np.bincount(r, minlength=R)
    supported = rules.supported_mask(u[r, U_SUPPORT, j], n_reviewed[r], support_capacity(p, y))
    mode = m.mode[r, j]
    proposal = year.is_proposal[r, j]
    util = rules.appraise(
        pressure=year.pressure[j],
        resistance=m.resistance[r, s.council[j]],
        is_proposal=proposal,
        is_supported=supported,
        is_rebooted=mode == REBOOTED,
        peers_region=year.peers_region[r, j],
        peers_national=year.peers_national[r, j],
        u_noise=u[r, U_NOISE : U_NOISE + 5, j],
        w=weights(m, y, year.duty),
    )
    choice = rules.choose(util)
    target = np.where(choice == rules.KEEP, mode, rules.OPTION_MODE[choice])
    m.last_review[r, j] = y
    m.log_events(r, j, y, mode, target, np.where(proposal, "proposal", "review"), util)
    change = target != mode
    rc, jc, to = r[change], j[change], target[change]
    m.pending[rc, jc], m.pending_live[rc, jc] = to, y + m.lag_by_mode[to]
    m.pending_supported[rc, jc] = supported[change] & IS_MUTUAL[to]
    m.pending_decided[rc, jc] = y
    year.new["divestments"] = np.bincount(rc[IS_DIVESTED[to]], minlength=R)
    year.new["mutual_decisions"] = np.bincount(rc[IS_MUTUAL[to]], minlength=R)
