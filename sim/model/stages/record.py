"""Stage 8, record: the state at the start of next year (national totals, and the council history)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model import rules
from sim.model.arrays import flat, group, row_sums
from sim.model.rules import IS_COUNCIL, LATC
from sim.model.slots import SERVICES

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year

FLOWS = (
    "divestments",
    "mutual_decisions",
    "supported",
    "live",
    "abandoned",
    "returns",
    "failures",
    "takeovers",
    "retendered",
    "outside_lost",
    "outside_born",
    "outside_merged",
    "outside_staff_out",
)
"""Flows of a year, recorded as ``new_<flow>``."""


def providers_by_mode(m: DivestmentModel) -> np.ndarray:
    """(R, n_modes) number of distinct providers in each mode (a provider has one mode), in one pass."""
    f = np.flatnonzero(m.provider >= 0)
    key = flat(m.provider)[f] + (f // m.slots.n) * m.n_provider_ids  # replication * n_ids + provider
    first = key[group(key, m.scratch)[1]]
    r, provider = np.divmod(first, m.n_provider_ids)
    mode = provider // m.slots.n
    n_modes = len(rules.MODES)
    return np.bincount(r * n_modes + mode, minlength=m.n_batch * n_modes).reshape(m.n_batch, n_modes)


def lg_totals(
    m: DivestmentModel, by_mode: np.ndarray | None = None, is_mutual: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(R,) local-government mutuals: providers, staff and spend.

    Counted as the registers count them (:func:`sim.model.rules.counts_as_mutual`); ``is_mutual`` is
    that mask of the parts, if the caller has it.
    """
    is_mutual = m.counted_by_mode[m.mode] if is_mutual is None else is_mutual
    by_mode = providers_by_mode(m) if by_mode is None else by_mode
    return (
        by_mode[:, m.counted_by_mode].sum(axis=1),
        row_sums(is_mutual, m.staff),
        row_sums(is_mutual, m.spend),
    )


def anatomy(m: DivestmentModel, is_mutual: np.ndarray, lg_staff: np.ndarray, lg_spend: np.ndarray) -> dict:
    """The headline split: mutual staff and spend in the start's stock, and in mutuals formed since.

    A local-government part counts as formed since if its mutual mode began after the start year; an
    outside provider if it was born after it (:func:`sim.model.stages.outside.sync`).
    """
    new = is_mutual & (m.since > m.start_year)
    lg_new_staff, lg_new_spend = row_sums(new, m.staff), row_sums(new, m.spend)
    return {
        "mutual_staff_stock": lg_staff - lg_new_staff + m.out_staff - m.out_staff_new,
        "mutual_staff_lg_new": lg_new_staff,
        "mutual_staff_outside_new": m.out_staff_new,
        "mutual_spend_stock_gbp_m": lg_spend - lg_new_spend + m.out_spend - m.out_spend_new,
        "mutual_spend_lg_new_gbp_m": lg_new_spend,
        "mutual_spend_outside_new_gbp_m": m.out_spend_new,
    }


def record(m: DivestmentModel, year: Year | None = None) -> None:
    """Advance the model's year and store its state: totals, staff by mode, counts by service and mode.

    Flows (``new_*``) are those of the year just simulated. Called once by the model at the start (with
    no year) to record the starting state.
    """
    if year is not None:
        m.year = year.y + 1
    new = year.new if year is not None else {}
    p, R = m.p, m.n_batch
    by_mode = providers_by_mode(m)
    is_mutual = m.counted_by_mode[m.mode]
    lg_n, lg_staff, lg_spend = lg_totals(m, by_mode, is_mutual)
    row = {
        "year": np.full(R, m.year, dtype=np.int64),
        "n_mutuals": lg_n + m.out_n,
        "mutual_staff": lg_staff + m.out_staff,
        "mutual_spend_gbp_m": lg_spend + m.out_spend,
        "n_mutuals_lg": lg_n,
        "mutual_staff_lg": lg_staff,
        "mutual_spend_lg_gbp_m": lg_spend,
        "mutual_contracts_lg_gbp_m": row_sums(is_mutual, m.contract_value),
        "n_mutuals_outside": m.out_n,
        "mutual_staff_outside": m.out_staff,
        "mutual_spend_outside_gbp_m": m.out_spend,
    }
    row.update(anatomy(m, is_mutual, lg_staff, lg_spend))
    row["share_of_target"] = row["mutual_staff"] / p["report.target_staff"]
    row["n_latcs"] = by_mode[:, LATC]
    n_modes = len(rules.MODES)
    cell = (m.service_key * n_modes + m.mode).ravel()  # (replication, service, mode)
    counts = np.bincount(cell, minlength=R * 3 * n_modes)
    staff_cells = np.bincount(cell, weights=m.staff.ravel(), minlength=R * 3 * n_modes).reshape(R, 3, n_modes)
    units = np.bincount(cell, weights=m.units.ravel(), minlength=R * 3 * n_modes).reshape(R, 3, n_modes)
    council_staff = staff_cells[:, :, IS_COUNCIL].sum(axis=2)
    for k, service in enumerate(SERVICES):
        row[f"council_staff_{service}"] = council_staff[:, k]
    for mode in rules.DIVESTED_MODES:
        row[f"n_providers_{rules.MODES[mode]}"] = by_mode[:, mode]
    staff = staff_cells.sum(axis=1)
    tail = {"n_pending": (m.pending >= 0).sum(axis=1)}
    for k, service in enumerate(SERVICES):
        for mode, name in enumerate(rules.MODES):
            tail[f"units_{service}_{name}"] = units[:, k, mode]
    tail.update({f"new_{key}": new.get(key, m.zeros) for key in FLOWS})
    tail["cum_savings_gbp_m"] = m.cum_savings.copy()
    m.rows.append((row, staff.reshape(R, n_modes), counts.reshape(R, 3, n_modes), tail))
    if m.record_councils:
        t = m.year - m.start_year
        h = m.history
        h["mode"][t], h["staff"][t], h["spend"][t], h["provider"][t] = m.mode, m.staff, m.spend, m.provider
        h["units"][t] = m.units
