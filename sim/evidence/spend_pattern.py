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
    rows = []
    for name in SERVICES:
        observed, simulated = log_changes(model, name, FIRST, LAST)
        simulated = simulated.mean(axis=0)  # each council's mean over the replications
        rows.append(
            {
                "service": name,
                "n_councils": len(observed),
                "observed_mean_log_change": float(observed.mean()),
                "simulated_mean_log_change": float(simulated.mean()),
                "difference": float(simulated.mean() - observed.mean()),
                "correlation": float(np.corrcoef(observed, simulated)[0, 1]),
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def council_spend(model, service: str, year: int) -> np.ndarray:
    """Each council's spend on ``service`` (a key of :data:`SERVICES`) at the start of ``year``, (R, n)."""
    s, n = model.slots, len(model.england.councils)
    in_service = np.isin(s.service, SERVICES[service])
    spend = model.history["spend"][year - model.start_year][:, in_service]  # (R, parts of the service)
    keys = (np.arange(model.n_batch)[:, None] * n + s.council[in_service][None, :]).ravel()
    return np.bincount(keys, weights=spend.ravel(), minlength=model.n_batch * n).reshape(-1, n)


def log_changes(model, service: str, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """Observed (councils,) and simulated (R, councils) log change of spend from ``first`` to ``last``.

    The observed change is the outturn's 2010-11 to 2014-15. Councils with no spend in either year, in
    the outturn or in any replication, are left out.
    """
    eng = model.england.councils
    a, b = council_spend(model, service, first), council_spend(model, service, last)
    observed = [eng[f"{OBSERVED[service]}{suffix}_gbp_m"].to_numpy(dtype=float) for suffix in ("_2010", "")]
    ok = (observed[0] > 0) & (observed[1] > 0) & (a > 0).all(axis=0) & (b > 0).all(axis=0)
    return np.log(observed[1][ok] / observed[0][ok]), np.log(b[:, ok] / a[:, ok])


def council_spend_change(model, service: str, first: int, last: int) -> np.ndarray:
    """Mean over councils of the log change of each council's spend on ``service``, per replication."""
    return log_changes(model, service, first, last)[1].mean(axis=1)


def service_spend(model, service: int, year: int) -> np.ndarray:
    """Each replication's total spend on a service (all its parts, however run) at the start of ``year``."""
    in_service = model.slots.service == service
    return model.history["spend"][year - model.start_year][:, in_service].sum(axis=1)
