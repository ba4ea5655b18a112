"""A council-level pattern known by 2014: how each council's service spending moved, 2010-11 to 2014-15.

The revenue outturn by council (``sim/data/revenue_outturn_by_council.csv``, CALIBRATION.md "Councils,
spending and staff") gives each council's net current expenditure on adult social care and on cultural
and related services in 2010-11 and 2014-15. A run started in 2010 (``[run] start_year = 2010``) begins
from the 2010-11 figures (:func:`sim.model.setup.setup_2010`) and generates 2010-2014 from each council's
funding path, the services' spend responses and its own decisions. Set beside the outturn, council by
council, this tests what the national responses (``funding.response_asc``, ``funding.response_culture``,
fitted to the national means) do not see: whether the spread across councils follows from their funding.

:func:`spend_pattern` returns one row per service with the mean log change observed and simulated, their
difference, and the correlation across councils of the simulated with the observed log change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.model.slots import ASC, LEISURE, LIBRARIES

SERVICES = {"adult_social_care": (ASC,), "culture": (LIBRARIES, LEISURE)}
"""The outturn lines and the model's services they cover (culture is libraries and leisure together)."""
OBSERVED = {"adult_social_care": "asc_spend", "culture": "cultural_spend"}
FIRST, LAST = 2010, 2014
COLUMNS = [
    "service",
    "n_councils",
    "observed_mean_log_change",
    "simulated_mean_log_change",
    "difference",
    "correlation",
]


def spend_pattern(model) -> pd.DataFrame:
    """Observed against simulated log change of each council's spend, 2010-11 to 2014-15, per service.

    Args:
        model: a :class:`sim.model.DivestmentModel` started in 2010, run to at least 2014, with
            ``record_councils=True``; the simulated change is the mean over its replications.

    Raises:
        ValueError: the model did not start in 2010, has not reached 2014, or kept no council history.
    """
    if model.start_year != FIRST or model.year < LAST or not model.record_councils:
        raise ValueError(
            "spend_pattern needs a model started in 2010 ([run] start_year = 2010), run to 2014 or later, "
            "with record_councils=True"
        )
    s, eng = model.slots, model.england.councils
    spend = model.history["spend"]  # (years, R, n_slots), the state at the start of each year
    first, last = spend[0], spend[LAST - FIRST]
    rows = []
    for name, services in SERVICES.items():
        in_service = np.isin(s.service, services)
        by_council = np.zeros((2, model.n_batch, len(eng)))
        for k, year_spend in enumerate((first, last)):
            for r in range(model.n_batch):
                by_council[k, r] = np.bincount(
                    s.council[in_service], weights=year_spend[r, in_service], minlength=len(eng)
                )
        observed_2010 = eng[f"{OBSERVED[name]}_2010_gbp_m"].to_numpy(dtype=float)
        observed_2014 = eng[f"{OBSERVED[name]}_gbp_m"].to_numpy(dtype=float)
        ok = (observed_2010 > 0) & (observed_2014 > 0) & (by_council[0] > 0).all(axis=0)
        observed = np.log(observed_2014[ok] / observed_2010[ok])
        simulated = np.log(by_council[1][:, ok] / by_council[0][:, ok]).mean(axis=0)
        rows.append(
            {
                "service": name,
                "n_councils": int(ok.sum()),
                "observed_mean_log_change": float(observed.mean()),
                "simulated_mean_log_change": float(simulated.mean()),
                "difference": float(simulated.mean() - observed.mean()),
                "correlation": float(np.corrcoef(observed, simulated)[0, 1]),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def council_spend_change(model, service: str, first: int, last: int) -> np.ndarray:
    """Mean over councils of the log change of each council's spend on ``service`` (per replication).

    ``service`` is ``adult_social_care`` or ``culture`` (libraries and leisure); spend is the state at the
    start of ``first`` and of ``last`` from the council history; councils with no spend in either year in
    the observed outturn or in the model are left out, as :mod:`sim.evidence.spend_pattern` does.
    """
    s, eng = model.slots, model.england.councils
    spend = model.history["spend"]
    a, b = spend[first - model.start_year], spend[last - model.start_year]  # (R, n_slots)
    in_service = np.isin(s.service, SERVICES[service])
    n = len(eng)
    keys = (np.arange(model.n_batch)[:, None] * n + s.council[in_service][None, :]).ravel()
    by_council = [
        np.bincount(keys, weights=x[:, in_service].ravel(), minlength=model.n_batch * n).reshape(-1, n)
        for x in (a, b)
    ]
    observed = [eng[f"{OBSERVED[service]}{suffix}_gbp_m"].to_numpy(dtype=float) for suffix in ("_2010", "")]
    ok = (
        (observed[0] > 0)
        & (observed[1] > 0)
        & (by_council[0] > 0).all(axis=0)
        & (by_council[1] > 0).all(axis=0)
    )
    return np.log(by_council[1][:, ok] / by_council[0][:, ok]).mean(axis=1)


def service_spend(model, service: int, year: int) -> np.ndarray:
    """Each replication's total spend on a service (all its parts, however run) at the start of ``year``."""
    in_service = model.slots.service == service
    return model.history["spend"][year - model.start_year][:, in_service].sum(axis=1)
