"""Adding up a table of millions of rows by its label columns, with NumPy rather than a pandas group-by.

The council table (``councils.parquet``) is the per-part table (``parts.parquet``) added up by council,
service, mode, year and replication: about 1.5 million rows for 200 replications of the baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def by_mode(parts: pd.DataFrame) -> pd.DataFrame:
    """The per-part table added up by council, service, mode, year and replication (``councils.parquet``).

    Rows come in the order each group first appears (as ``groupby(sort=False)``); sums are made with
    NumPy from integer group codes, not by a pandas group-by over millions of rows of labels.
    """
    keys = [
        c
        for c in (
            "year",
            "replication",
            "seed",
            "ons_code",
            "council",
            "council_type",
            "council_type_name",
            "region",
            "service",
            "mode",
        )
        if c in parts.columns
    ]
    group = _group_codes(parts, keys)
    n_groups = int(group.max()) + 1 if len(group) else 0
    seen = np.maximum.accumulate(group)  # a group's first row is where the highest code so far rises
    first = np.flatnonzero(np.diff(seen, prepend=-1) > 0)
    out = parts[keys].iloc[first].reset_index(drop=True)
    out["n_parts"] = np.bincount(group, minlength=n_groups).astype(np.int64)
    for column in ("units", "staff", "spend_gbp_m"):
        values = parts[column].to_numpy()
        total = np.bincount(group, weights=values, minlength=n_groups)
        out[column] = total.astype(values.dtype) if values.dtype.kind in "iu" else total
    return out


def _group_codes(frame: pd.DataFrame, keys: list[str]) -> np.ndarray:
    """One code per distinct row of ``frame[keys]``, numbered in order of first appearance.

    Each key becomes small integer codes without hashing where it can (a categorical's codes, an
    integer column's offset from its minimum), by factorizing otherwise; missing values are a code of
    their own. The keys' codes are combined into one integer (mixed radix, in place: a table of
    millions of rows makes no temporaries per key) and factorized once; where that integer could
    overflow they are combined a key at a time, factorizing each step.
    """
    columns = [_key_codes(frame[key]) for key in keys]
    span = 1
    for _, _, n in columns:
        span *= n
    group = np.zeros(len(frame), dtype=np.int64)
    for codes, offset, n in columns:
        group *= n
        group += codes
        if offset:
            group += offset
        if span >= 2**62:  # kept below len(frame) at each step
            group, _ = pd.factorize(group, sort=False)
    return group if span >= 2**62 else pd.factorize(group, sort=False)[0]


def _key_codes(column: pd.Series) -> tuple[np.ndarray, int, int]:
    """(codes, offset, n) of one key: ``codes + offset`` runs over ``0..n-1``, equal for equal values.

    Missing values (a categorical's or factorized code -1) are a code of their own.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.cat.codes.to_numpy(), 1, len(column.cat.categories) + 1
    values = column.to_numpy()
    if values.dtype.kind in "iu" and len(values):
        low, high = int(values.min()), int(values.max())
        if high - low < max(len(values), 1024):  # a dense range: no hashing
            return values, -low, high - low + 1
    codes, uniques = pd.factorize(column, sort=False)
    return codes, 1, len(uniques) + 1
