"""Stage 7, the outside sector: NHS and central-government mutuals follow their own path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.stages.appraisal import support_budget

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def step(m: DivestmentModel, year: Year) -> None:
    """Failures, new spin-outs and growth of the rest, each replication from its year generator.

    Spin-outs come from a finite pool (``outside.cohort_2014``): each candidate left spins out with the
    yearly rate over the 2014 pool, so the wave of NHS and central-government spin-outs runs down.

    The draws come after the slots' fixed block, so outside draws never shift council draws.
    """
    p, y = m.p, year.y
    budget = support_budget(p, y)
    base = p["outside.new_mutuals_per_year_unsupported"]
    rate = base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
    rate = max(rate, 0.0)  # a rate is never negative, whatever the combination of allowed values
    fail_rate = p["outside.fail_rate_per_year"]
    growth = 1 + p["outside.staff_growth_per_year"]
    per_new = p["outside.staff_per_new_mutual"]
    cohort = p["outside.cohort_2014"]
    p_birth = min(rate / cohort, 1.0) if cohort else 0.0  # the yearly rate is of the 2014 pool
    out_n, out_staff, pool = m.out_n.tolist(), m.out_staff.tolist(), m.out_pool.tolist()
    for r, g in enumerate(m.gens):  # each replication on its own, in Python numbers
        n = out_n[r]
        failed = g.binomial(n, fail_rate) if n else 0
        born = g.binomial(pool[r], p_birth) if pool[r] else 0
        pool[r] -= born
        kept = 1.0 - (failed / n if n else 0.0)
        out_staff[r] = out_staff[r] * kept * growth + born * per_new
        out_n[r] = n - failed + born
    m.out_n, m.out_staff, m.out_pool = np.array(out_n), np.array(out_staff), np.array(pool)
    m.out_spend = m.out_staff * m.out_spend_per_staff
