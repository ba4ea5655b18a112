"""The cross-section check: whether the councils known by 2014 to have done something rank high for it.

Before the councils' attributes are relied on (:mod:`sim.model.points`), each mechanism is set against
the councils named in the record known by 2014 (CALIBRATION.md and the Public Libraries News list of
volunteer libraries, entries of 2011-2012): their rank among the 152 library authorities by the model's
propensity, and the share of replications in which the 2014 state (placed by those propensities) gives
them what they had. ``python -m sim.evidence.cross_section`` prints the table; ``tests/test_points.py``
holds what it shows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

CASES = (
    # (ONS code, what they had by 2014, year, source)
    (
        "E10000013",
        "community",
        2011,
        "CALIBRATION.md: Gloucestershire, 10 of 38 libraries withdrawn (quashed 2011)",
    ),
    ("E10000027", "community", 2011, "CALIBRATION.md: Somerset, 11 of 34 libraries withdrawn (quashed 2011)"),
    ("E10000019", "community", 2014, "CALIBRATION.md: Lincolnshire, 30 of 45 libraries to community groups"),
    (
        "E08000009",
        "community",
        2012,
        "Public Libraries News: Trafford, two libraries to volunteers, Feb 2012",
    ),
    ("E09000003", "community", 2012, "Public Libraries News: Barnet, Hampstead Garden Suburb, Jun 2012"),
    ("E08000032", "community", 2011, "Public Libraries News: Bradford, Addingham volunteer library, 2011"),
    ("E10000029", "commissioned", 2012, "CALIBRATION.md: Suffolk Libraries IPS (named case)"),
    ("E06000014", "commissioned", 2014, "CALIBRATION.md: Explore York (named case)"),
)
"""Councils named in the record known by 2014 as having community libraries or a commissioned service."""


def check(seeds: range = range(8)) -> pd.DataFrame:
    """One row per case: the council's propensity rank (1 = likeliest of the 152) and the 2014 state's share.

    Columns: ``ons_code``, ``name``, ``had``, ``propensity`` (the mean community propensity of its branches,
    or its trust propensity), ``rank`` among library authorities, ``percentile`` (0-100, high = likely),
    ``share_in_2014_state`` (share of ``seeds`` in which a 2014 start places it so), ``source``.
    """
    from sim.model import DivestmentModel
    from sim.model.points import trust_propensity
    from sim.model.rules import COMMUNITY, IS_COUNCIL
    from sim.model.slots import LIBRARIES
    from sim.model.stock import leisure_trust_presence

    m = DivestmentModel(seeds=list(seeds), record_councils=False)
    s, eng = m.slots, m.england
    lib = s.service == LIBRARIES
    councils = np.unique(s.council[lib])
    branch = lib & (s.point > 0)
    community = np.bincount(s.council[branch], weights=m.community_propensity[branch], minlength=eng.n)
    community /= np.maximum(np.bincount(s.council[branch], minlength=eng.n), 1)
    presence = leisure_trust_presence(m).mean(axis=0)[s.council]
    trust = np.zeros(eng.n)
    trust[s.council[lib]] = trust_propensity(s, presence, m.p)[lib]
    handed = (m.mode == COMMUNITY) & lib
    commissioned = ~IS_COUNCIL[m.mode] & (m.mode != COMMUNITY) & lib
    rows = []
    for code, had, year, source in CASES:
        i = eng.index_of(code)
        score = community if had == "community" else trust
        mask = handed if had == "community" else commissioned
        rank = int((score[councils] > score[i]).sum()) + 1
        rows.append(
            {
                "ons_code": code,
                "name": eng.names[i],
                "had": had,
                "year": year,
                "propensity": round(float(score[i]), 3),
                "rank": rank,
                "percentile": round(100.0 * (1 - (rank - 1) / len(councils)), 1),
                "share_in_2014_state": float(mask[:, s.council == i].any(axis=1).mean()),
                "source": source,
            }
        )
    return pd.DataFrame(rows)


if __name__ == "__main__":  # pragma: no cover - a report for the docs
    with pd.option_context("display.width", 200, "display.max_colwidth", 60):
        print(check().drop(columns="source").to_string(index=False))
