"""Stage 3b, the second level of a library or leisure review: which points to close, hand over or place.

A council that reviews its library or leisure service first decides who runs the service
(:mod:`sim.model.stages.appraisal`: keep it and cut within, or commission, spin out, share or re-boot it
whole). If it keeps it, it then goes through its branches and other centres one by one: keep each, close
it (cut its provision: ``appraisal.saving_reduce`` of its spend and provision), hand it to a community
group, or (a leisure centre) put it in a trust. The main library and a leisure service's first centre
stay with the service. For libraries the statutory duty weighs against closing, more as the share of the
service closed grows and once the courts had quashed closures (2011), and from 2014 against handing
over a large share (Lincolnshire). The utilities are :func:`branch_utilities`, pure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import points, rules
from sim.model.arrays import flat
from sim.model.draws import N_BRANCH_OPTIONS, U_BRANCH
from sim.model.rules import COMMUNITY, IS_COUNCIL, IS_DIVESTED, REDUCED, TRUST
from sim.model.slots import LIBRARIES

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year

BRANCH_OPTIONS = (rules.KEEP, rules.OPT_REDUCE, rules.OPT_COMMUNITY, rules.OPT_TRUST)
"""The options of a point's own decision, as columns of the appraisal's options (for the decision log)."""
BRANCH_MODES = np.array([-1, REDUCED, COMMUNITY, TRUST])


def branch_utilities(
    pressure: np.ndarray,
    is_library: np.ndarray,
    is_reduced: np.ndarray,
    community_propensity: np.ndarray,
    trust_propensity: np.ndarray,
    share_closed_after: np.ndarray,
    share_handed_after: np.ndarray,
    court: tuple[float, float],
    u_noise: np.ndarray,
    p: dict,
) -> np.ndarray:
    """Utilities of keep, close, hand over and trust for each point (n, 4); options not open are -inf.

    Keep is 0. Closing saves ``appraisal.saving_reduce`` of the point's spend, weighted by pressure, and
    loses that share of its provision; handing over saves ``appraisal.saving_community`` and loses
    ``appraisal.service_loss_community``, with the log of the point's community propensity added (small,
    rural, many branches: :func:`sim.model.points.community_propensity`); a trust (leisure centres only)
    saves ``appraisal.saving_trust`` plus ``trust.charitable_relief_share`` (rate relief and VAT), with
    the log of its trust propensity added. Each carries its risk and
    transition cost. A library's closing carries the statutory duty's legal risk
    (:func:`sim.model.points.duty_risk` of the share of the service closed after it, times the court
    record's factor); its hand-over the share ``libraries.handover_risk_share`` of it from 2014, on the
    share handed over.
    """
    a = "appraisal."
    value = p[a + "weight_savings"] * pressure / p[a + "reference_pressure"]
    loss, risk = p[a + "weight_service_loss"], p[a + "weight_risk"]
    n = len(pressure)
    util = np.zeros((n, N_BRANCH_OPTIONS))
    close_risk, hand_risk = court
    duty = points.duty_risk(share_closed_after, p["libraries.duty_weight"], close_risk)
    hand = points.duty_risk(share_handed_after, p["libraries.duty_weight"], hand_risk)
    util[:, 1] = (
        value * p[a + "saving_reduce"]
        - loss * p[a + "saving_reduce"]
        - risk * p[a + "risk_reduce"]
        - p[a + "complexity_reduce"]
        - np.where(is_library, duty, 0.0)
    )
    with np.errstate(divide="ignore"):
        log_community = np.log(community_propensity)
        log_trust = np.log(trust_propensity)
    util[:, 2] = (
        value * p[a + "saving_community"]
        - loss * p[a + "service_loss_community"]
        - risk * p[a + "risk_community"]
        - p[a + "complexity_community"]
        + log_community
        + np.where(is_library, p["libraries.handover_preference"], 0.0)
        - np.where(is_library, hand, 0.0)
    )
    util[:, 3] = (
        value * (p[a + "saving_trust"] + p["trust.charitable_relief_share"])
        - risk * p[a + "risk_trust"]
        - p[a + "complexity_trust"]
        + log_trust
    )
    util += p[a + "noise_scale"] * rules.gumbel(u_noise)
    util[is_reduced, 1] = -np.inf
    util[is_library, 3] = -np.inf
    if not p["policy.allow_reduce"]:
        util[:, 1] = -np.inf
    if not p["policy.allow_community"]:
        util[:, 2] = -np.inf
    if not p["policy.allow_trust"]:
        util[:, 3] = -np.inf
    return util


def within_need(group: np.ndarray, advantage: np.ndarray, saving: np.ndarray, need: np.ndarray) -> np.ndarray:
    """Which points change: in each service, those that gain most first, until the saving needed is met.

    Args:
        group: (n,) the service of each point (index into ``need``).
        advantage: (n,) utility of the point's best option over keeping it (changes only if positive).
        saving: (n,) GBP m a year the point's best option saves.
        need: (n_services,) GBP m a year each service must save.

    Returns:
        (n,) bool: a point changes if its advantage is positive and the savings of the points of its
        service ahead of it (by advantage, larger first) fall short of the need.
    """
    order = np.lexsort((-advantage, group))
    g, gain, save = group[order], advantage[order] > 0, np.where(advantage[order] > 0, saving[order], 0.0)
    total = np.cumsum(save)
    start = np.r_[0.0, total][np.searchsorted(g, g, side="left")]
    before = total - save - start  # savings of the same service's points ahead of this one
    out = np.zeros(len(group), dtype=bool)
    out[order] = gain & (before < need[g])
    return out


def decide_points(m: DivestmentModel, year: Year, r: np.ndarray, j: np.ndarray) -> None:
    """The second level for the kept services whose first slots are (r, j): each other point decides.

    Each point's best option is chosen by :func:`branch_utilities`; the points that gain most change
    first, until the service's saving need (``libraries.saving_need_per_pressure`` times its council's
    pressure times its council-run spend) is met (:func:`within_need`). Points already changing
    (pending) or not council-run are left out. Changes become pending and are
    logged with reason ``branch``, naming the point, with the scores of the four options.
    """
    if not len(j):
        return
    s, p, y, R = m.slots, m.p, year.y, m.n_batch
    rr, jj = points.expand_to_service(s, r, j)
    f = rr * s.n + jj
    mode = flat(m.mode)[f]
    # the share of each service closed and handed over, before this year's decisions (its points summed)
    group = np.repeat(np.arange(len(j)), s.n_points[j])
    units = np.bincount(group, weights=flat(m.units)[f], minlength=len(j))[group]
    handed = np.bincount(group, weights=mode == COMMUNITY, minlength=len(j))[group]
    # how much the service must save: its council's pressure times its spend (the first level's question)
    council_run = IS_COUNCIL[mode]
    spend_run = np.bincount(group, weights=flat(m.spend)[f] * council_run, minlength=len(j))
    need = p["libraries.saving_need_per_pressure"] * year.pressure[j] * spend_run
    keep = council_run & (flat(m.pending)[f] < 0) & (s.point[jj] > 0)
    rr, jj, f, mode, units, handed = rr[keep], jj[keep], f[keep], mode[keep], units[keep], handed[keep]
    group = group[keep]
    if not len(jj):
        return
    n_points = s.n_points[jj].astype(float)
    closed_after = (n_points - units + flat(m.units)[f] * p["appraisal.saving_reduce"]) / n_points
    handed_after = (handed + 1.0) / n_points
    util = branch_utilities(
        pressure=year.pressure[jj],
        is_library=s.service[jj] == LIBRARIES,
        is_reduced=mode == REDUCED,
        community_propensity=m.community_propensity[jj],
        trust_propensity=points.trust_propensity(s, np.zeros(s.n), p)[jj],
        share_closed_after=closed_after,
        share_handed_after=handed_after,
        court=points.court_factor(y, p),
        u_noise=year.u.rows_at_flat(U_BRANCH, U_BRANCH + N_BRANCH_OPTIONS, f),
        p=p,
    )
    choice = np.argmax(util, axis=1)
    change = within_need(
        group,
        util[np.arange(len(jj)), choice] - util[:, 0],
        flat(m.spend)[f] * m.saving_by_mode[BRANCH_MODES[choice]],
        need,
    ) & (choice > 0)
    rc, jc, fc, to = rr[change], jj[change], f[change], BRANCH_MODES[choice[change]]
    if m.record_councils and len(jc):
        scores = np.full((len(jc), rules.N_OPTIONS), -np.inf)
        scores[:, list(BRANCH_OPTIONS)] = util[change]
        m.log_events(rc, jc, y, mode[change], to, "branch", scores)
    flat(m.pending)[fc] = to
    flat(m.pending_live)[fc] = y + m.lag_by_mode[to]
    flat(m.pending_supported)[fc] = False
    flat(m.pending_decided)[fc] = y
    year.new["divestments"] = year.new["divestments"] + np.bincount(rc[IS_DIVESTED[to]], minlength=R)
