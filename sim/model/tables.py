"""Result tables of a model: national totals, the council history and the decision log.

Pure readers of what :func:`sim.model.stages.record.record` and the decision log kept; nothing here
changes the model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.model import rules
from sim.model.slots import PART_NAMES, SERVICES

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel

MODE_COLUMNS = [
    name
    for mode in rules.MODES
    for name in (f"staff_{mode}", *(f"n_{service}_{mode}" for service in SERVICES))
]
"""National columns by mode: staff in the mode, then services in the mode for each service."""
_MODE_COLUMN_INDEX = {name: divmod(i, 4) for i, name in enumerate(MODE_COLUMNS)}
_MODE_COLUMN_INDEX = {name: (m, k - 1) for name, (m, k) in _MODE_COLUMN_INDEX.items()}  # k = -1: staff

DECISION_COLUMNS = [
    "year",
    "ons_code",
    "service",
    "part",
    "point",
    "units",
    "from_mode",
    "to_mode",
    "reason",
    "staff",
    "spend_gbp_m",
    *(f"score_{o}" for o in rules.OPTIONS),
]


def _labels(codes: np.ndarray, names) -> pd.Categorical:
    """Labels as a categorical of their codes: no string per row (a council table has millions of rows)."""
    return pd.Categorical.from_codes(codes, categories=list(names))


def national_columns(m: DivestmentModel) -> dict[str, np.ndarray]:
    """National totals as columns, each an (R, n_years) array (the fastest access, for sweeps)."""
    heads, staff, counts, tails = zip(*m.rows, strict=True)
    columns = {key: np.stack([row[key] for row in heads], axis=1) for key in heads[0]}
    staff, counts = np.stack(staff, axis=-1), np.stack(counts, axis=-1)  # (R, modes, T), (R, 3, modes, T)
    names = iter(MODE_COLUMNS)
    for mode in range(len(rules.MODES)):
        columns[next(names)] = staff[:, mode]
        for k in range(3):
            columns[next(names)] = counts[:, k, mode]
    columns.update({key: np.stack([row[key] for row in tails], axis=1) for key in tails[0]})
    return columns


def latest(m: DivestmentModel, column: str, r: int = 0) -> int | float:
    """The latest national value of ``column`` in replication ``r``."""
    totals, staff, counts, flows = m.rows[-1]
    if column in totals:
        return totals[column][r].item()
    if column in flows:
        return flows[column][r].item()
    mode, k = _MODE_COLUMN_INDEX[column]
    return (staff[r, mode] if k < 0 else counts[r, k, mode]).item()


def national(m: DivestmentModel, r: int | None = None) -> pd.DataFrame:
    """National totals, one row per year (see :meth:`DivestmentModel.national`)."""
    columns = national_columns(m)
    if r is not None or m.n_batch == 1:
        return pd.DataFrame({key: value[r or 0] for key, value in columns.items()})
    frame = pd.DataFrame({key: value.ravel() for key, value in columns.items()})
    frame.insert(0, "batch_index", np.repeat(np.arange(m.n_batch), len(m.rows)))
    return frame


def councils(m: DivestmentModel, r: int | None = None) -> pd.DataFrame:
    """One row per council, service and year (see :meth:`DivestmentModel.councils_frame`)."""
    if not m.record_councils:
        raise RuntimeError("this model was run with record_councils=False")
    s = m.slots
    n_years = len(m.rows)  # the years recorded so far (a model may be asked mid-run)
    h = {key: value[:n_years] for key, value in m.history.items()}
    n = s.n
    reps = range(m.n_batch) if r is None else [r]

    def column(key: str) -> np.ndarray:
        return h[key][:, reps].transpose(1, 0, 2).ravel()

    n_rows = len(reps) * n_years

    frame = pd.DataFrame(
        {
            "year": np.tile(np.repeat(np.arange(m.start_year, m.start_year + n_years), n), len(reps)),
            "ons_code": _labels(np.tile(s.council, n_rows), m.england.codes),
            "service": _labels(np.tile(s.service, n_rows), SERVICES),
            "part": _labels(np.tile(s.part, n_rows), PART_NAMES),
            "point": np.tile(s.point, n_rows),
            "units": column("units"),
            "mode": _labels(column("mode"), rules.MODES),
            "staff": column("staff"),
            "spend_gbp_m": column("spend"),
            "provider_id": column("provider"),
        }
    )
    if r is None and m.n_batch > 1:
        frame.insert(0, "batch_index", np.repeat(np.arange(m.n_batch), n_years * n))
    return frame


def decisions(m: DivestmentModel, r: int | None = None) -> pd.DataFrame:
    """The decision log, one row per appraisal or transition (see :meth:`DivestmentModel.decisions_frame`)."""
    batch = r is None and m.n_batch > 1
    cols = (["batch_index"] if batch else []) + DECISION_COLUMNS
    if not m.log:
        return pd.DataFrame(columns=cols)
    s = m.slots
    parts = list(zip(*m.log, strict=True))
    sizes = [len(j) for j in parts[2]]
    rep, slot = np.concatenate(parts[1]), np.concatenate(parts[2])
    no_scores = [np.full((n, len(rules.OPTIONS)), np.nan) for n in sizes]
    scores = np.concatenate(
        [u if u is not None else none for u, none in zip(parts[6], no_scores, strict=True)]
    )
    order = np.flatnonzero(rep == (r or 0)) if not batch else np.argsort(rep, kind="stable")
    rep, slot, scores = rep[order], slot[order], scores[order]
    frame = {
        "year": np.repeat(np.array(parts[0], dtype=np.int64), sizes)[order],
        "ons_code": m.england.codes[s.council[slot]],
        "service": np.array(SERVICES)[s.service[slot]],
        "part": np.array(PART_NAMES)[s.part[slot]],
        "point": s.point[slot],
        "units": np.concatenate(parts[9])[order],
        "from_mode": np.array(rules.MODES)[np.concatenate(parts[3])[order]],
        "to_mode": np.array(rules.MODES)[np.concatenate(parts[4])[order]],
        "reason": np.concatenate(parts[5])[order],
        "staff": np.concatenate(parts[7])[order],
        "spend_gbp_m": np.concatenate(parts[8])[order],
    }
    for k, o in enumerate(rules.OPTIONS):
        frame[f"score_{o}"] = scores[:, k]
    if batch:
        frame = {"batch_index": rep, **frame}
    return pd.DataFrame(frame)[cols]
