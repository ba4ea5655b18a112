"""Stage 6, the outside sector: NHS and central-government mutuals follow their own path.

The sector is held as contract cohorts: mutuals are grouped by the year of their contract cycle
(``outside.contract_years`` groups; a mutual that went live in year ``y`` is in group ``y mod L``), so
contracts come up for re-tender together, as the Right to Request spin-outs of 2011-2012 did. Arrays
``out_cohort_n`` and ``out_cohort_staff`` are (R, L); ``out_n`` and ``out_staff`` are their row sums.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.stages.appraisal import support_budget

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def birth_rate(p: dict, y: int) -> float:
    """Expected new NHS and central-government spin-outs in year ``y`` from the general pool.

    Linear in the year's support budget between the unsupported rate and the rate at the reference
    budget; never negative, whatever the combination of allowed values.
    """
    base = p["outside.new_mutuals_per_year_unsupported"]
    budget = support_budget(p, y)
    rate = base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
    return max(rate, 0.0)


def step(m: DivestmentModel, year: Year) -> None:
    """Failures, re-tenders, new spin-outs and growth, each replication from its year generator.

    In order, for each replication: mutuals fail at ``outside.fail_rate_per_year``; the cohort whose
    contracts end this year is re-tendered, and each of its mutuals loses its contract (and leaves the
    count) with ``outside.p_lose_retender``; the Right to Request spin-outs still pending go live (a
    share ``outside.rtr_share_live_2011`` of them in 2011, the rest in 2012); and new spin-outs come from
    the finite general pool (each candidate left spins out with the yearly rate over the starting pool, so
    the wave runs down). New mutuals join the cohort of this year. Staff of the mutuals kept grow at
    ``outside.staff_growth_per_year``.

    The draws come after the slots' fixed block, so outside draws never shift council draws.
    """
    p, y = m.p, year.y
    L = m.out_cohort_n.shape[1]
    renewing = y % L
    fail_rate, lose = p["outside.fail_rate_per_year"], p["outside.p_lose_retender"]
    growth = 1 + p["outside.staff_growth_per_year"]
    per_new, per_rtr = p["outside.staff_per_new_mutual"], p["outside.staff_per_rtr_spinout"]
    start_pool = m.out_pool_start
    p_birth = min(birth_rate(p, y) / start_pool, 1.0) if start_pool else 0.0
    rtr_due = y in RTR_STEPS  # live at the start of 2011-12 (a share) or of 2012-13 (the rest)
    p_rtr = p["outside.rtr_share_live_2011"] if y == RTR_STEPS[0] else 1.0
    cohort_n, cohort_staff = m.out_cohort_n, m.out_cohort_staff
    R = m.n_batch
    rows, pool, rtr = cohort_n.tolist(), m.out_pool.tolist(), m.out_rtr.tolist()
    failed, drawn = [], []  # per replication: failures by cohort; (lost, RTR live, born)
    for r, g in enumerate(m.gens):  # each replication from its own generator, its draws in this order
        binomial, n = g.binomial, rows[r]
        # a cohort's failures, one scalar draw per cohort in order: the draws of g.binomial(n, fail_rate)
        # (an empty cohort draws nothing either way), at a tenth of the cost of the call on an array
        f = [binomial(k, fail_rate) if k else 0 for k in n]
        failed.append(f)
        left = n[renewing] - f[renewing]
        drawn.append(
            (
                binomial(left, lose) if left > 0 else 0,
                binomial(rtr[r], p_rtr) if rtr_due and rtr[r] else 0,
                binomial(pool[r], p_birth) if pool[r] else 0,
            )
        )
    failed = np.array(failed, dtype=np.int64).reshape(R, L)
    lost, rtr_live, born = np.array(drawn, dtype=np.int64).reshape(R, 3).T
    kept = cohort_n - failed
    kept[:, renewing] -= lost
    share = np.divide(kept, cohort_n, out=np.zeros((R, L)), where=cohort_n > 0)
    cohort_staff *= share * growth
    cohort_n[:] = kept
    lost_total = failed.sum(axis=1) + lost
    cohort_n[:, renewing] += born + rtr_live
    cohort_staff[:, renewing] += born * per_new + rtr_live * per_rtr
    m.out_pool, m.out_rtr = np.array(pool, dtype=np.int64) - born, np.array(rtr, dtype=np.int64) - rtr_live
    year.new["outside_lost"] = lost_total
    sync(m, year.y + 1)


RTR_STEPS = (2010, 2011)
"""The years whose step brings the pending Right to Request spin-outs live: at the start of 2011-12 (when
the Transforming Community Services programme separated commissioners from providers, a share) and of
2012-13 (the rest). Only a 2010 start has any pending."""


def sync(m: DivestmentModel, year: int | None = None) -> None:
    """Totals of the outside sector from its contract cohorts, at the start of ``year`` (default: the start).

    Spend is staff times the starting spend per staff grown with ``funding.cost_growth_per_year`` (the
    cost per post, as for councils' staff), so the outside sector's cash spend per staff keeps pace.
    """
    m.out_n = m.out_cohort_n.sum(axis=1)
    m.out_staff = m.out_cohort_staff.sum(axis=1)
    years = 0 if year is None else year - m.start_year
    m.out_spend = m.out_staff * m.out_spend_per_staff * (1.0 + m.p["funding.cost_growth_per_year"]) ** years


def place_stock(m: DivestmentModel, n: int, staff: float, first_year: int) -> None:
    """The starting stock of ``n`` mutuals and ``staff`` staff, spread evenly over the contract cohorts.

    The stock went live over the years before the start, so its contracts end in turn: the mutuals are
    dealt to the cohorts of the years ``first_year``, ``first_year + 1``, ... in order (the same in every
    replication), each with an equal share of the staff.
    """
    L = int(m.p["outside.contract_years"])
    groups = (first_year + np.arange(n)) % L
    per_group = np.bincount(groups, minlength=L)
    m.out_cohort_n = np.tile(per_group, (m.n_batch, 1)).astype(np.int64)
    m.out_cohort_staff = m.out_cohort_n * (staff / n if n else 0.0)
