"""Stage 8, record: the state at the start of next year (national totals, and the council history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import group, row_sums
from sim.model.rules import IS_COUNCIL, IS_MUTUAL, LATC
from sim.model.slots import SERVICES

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year

FLOWS = (
    "divestments",
    "mutual_decisions",
    "live",
    "abandoned",
    "returns",
    "failures",
    "takeovers",
    "retendered",
)
"""Flows of a year, recorded as ``new_<flow>``."""


def n_providers(m: DivestmentModel, mask: np.ndarray) -> np.ndarray:
    """(R,) number of distinct providers of the entries ``mask`` in each replication."""
    key = (m.provider + m.provider_base)[mask]
    return np.bincount(key[group(key, m.scratch)[1]] // m.n_provider_ids, minlength=m.n_batch)


def lg_totals(m: DivestmentModel) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R,) local-government mutuals: providers, staff and spend."""
    is_mutual = IS_MUTUAL[m.mode]
    return n_providers(m, is_mutual), row_sums(is_mutual, m.staff), row_sums(is_mutual, m.spend)


def record(m: DivestmentModel, year: Year | None = None) -> None:
    """Advance the model's year and store its state: totals, staff by mode, counts by service and mode.

    Flows (``new_*``) are those of the year just simulated. Called once by the model at the start (with
    no year) to record the starting state.
    """
    if year is not None:
        m.year = year.y + 1
    new = year.new if year is not None else {}
    p, R = m.p, m.n_batch
    lg_n, lg_staff, lg_spend = lg_totals(m)
    row = {
        "year": np.full(R, m.year, dtype=np.int64),
        "n_mutuals": lg_n + m.out_n,
        "mutual_staff": lg_staff + m.out_staff,
        "mutual_spend_gbp_m": lg_spend + m.out_spend,
        "n_mutuals_lg": lg_n,
        "mutual_staff_lg": lg_staff,
        "mutual_spend_lg_gbp_m": lg_spend,
        "n_mutuals_outside": m.out_n,
        "mutual_staff_outside": m.out_staff,
        "mutual_spend_outside_gbp_m": m.out_spend,
    }
    row["share_of_target"] = row["mutual_staff"] / p["report.target_staff"]
    row["n_latcs"] = n_providers(m, m.mode == LATC)
    council = IS_COUNCIL[m.mode]
    for k, service in enumerate(SERVICES):
        row[f"council_staff_{service}"] = row_sums(council & m.is_service[k], m.staff)
    for mode in rules.DIVESTED_MODES:
        row[f"n_providers_{rules.MODES[mode]}"] = n_providers(m, m.mode == mode)
    n_modes = len(rules.MODES)
    by_mode = (m.mode_base + m.mode).ravel()
    counts = np.bincount((m.service_key * n_modes + m.mode).ravel(), minlength=R * 3 * n_modes)
    staff = np.bincount(by_mode, weights=m.staff.ravel(), minlength=R * n_modes)
    tail = {"n_pending": (m.pending >= 0).sum(axis=1)}
    tail.update({f"new_{key}": new.get(key, m.zeros) for key in FLOWS})
    tail["cum_savings_gbp_m"] = m.cum_savings.copy()
    m.rows.append((row, staff.reshape(R, n_modes), counts.reshape(R, 3, n_modes), tail))
    if m.record_councils:
        t = m.year - m.start_year
        h = m.history
        h["mode"][t], h["staff"][t], h["spend"][t], h["provider"][t] = m.mode, m.staff, m.spend, m.provider
