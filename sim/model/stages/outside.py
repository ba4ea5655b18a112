"""Stage 7, the outside sector: NHS and central-government mutuals follow their own path."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def step(m: DivestmentModel, year: Year) -> None:
    """Failures, new spin-outs and growth of the rest, each replication from its year generator.

    The draws come after the slots' fixed block, so outside draws never shift council draws.
    """
    p, y = m.p, year.y
    budget = p["support.budget_gbp_m_per_year"] if y <= p["support.end_year"] else 0.0
    base = p["outside.new_mutuals_per_year_unsupported"]
    rate = base + (p["outside.new_mutuals_per_year"] - base) * budget / p["outside.support_reference_gbp_m"]
    rate = max(rate, 0.0)  # a rate is never negative, whatever the combination of allowed values
    fail_rate = p["outside.fail_rate_per_year"]
    growth = 1 + p["outside.staff_growth_per_year"]
    per_new = p["outside.staff_per_new_mutual"]
    out_n, out_staff = m.out_n.tolist(), m.out_staff.tolist()
    for r, g in enumerate(m.gens):  # each replication on its own, in Python numbers
        n = out_n[r]
        failed = g.binomial(n, fail_rate) if n else 0
        born = g.poisson(rate)
        kept = 1.0 - (failed / n if n else 0.0)
        out_staff[r] = out_staff[r] * kept * growth + born * per_new
        out_n[r] = n - failed + born
    m.out_n, m.out_staff = np.array(out_n), np.array(out_staff)
    m.out_spend = m.out_staff * m.out_spend_per_staff
