"""Weighted sampling without replacement, row by row, when the weights come in groups.

:func:`sim.model.rules.weighted_sample_rows` draws the ``k`` items of largest Efraimidis-Spirakis key
``u ** (1 / w)`` in each row; the power is most of its cost. The starting state draws its stock with
weights that are one value per (replication, service): :func:`weighted_sample_rows_grouped` then works
out the keys of only the items that can be drawn, and gives exactly the items the full computation
gives.
"""

from __future__ import annotations

import numpy as np

from sim.model.rules import weighted_sample_rows

SPARE = 2.0
"""Items whose key is worked out, in expectation, per group and row: SPARE times (k + 1)."""


def weighted_sample_rows_grouped(
    u: np.ndarray, group_weights: np.ndarray, groups: np.ndarray, mask: np.ndarray, k: int
) -> np.ndarray:
    """``weighted_sample_rows(u, where(mask, group_weights[:, groups], 0), k)``, computing fewer keys.

    Args:
        u: (R, n) uniforms.
        group_weights: (R, G) the weight of each group in each row.
        groups: (n,) each item's group (0 to G - 1).
        mask: (R, n) the items that may be drawn (the others have weight 0).
        k: items to draw in each row.

    Returns:
        (R, n) boolean mask of the items drawn, equal to :func:`weighted_sample_rows`'s.

    Within a row and group every item has the same weight, so the keys rise with ``u``: only a group's
    items of largest ``u`` can be drawn. Keys are worked out (by the same NumPy power, item by item, as
    the full computation) for the items above a threshold that keeps about :data:`SPARE` times k + 1 of
    each group. The row's draw is the k largest of those keys if every group kept at least k + 1 items
    (or all of its items) and the k-th largest key is above the (k + 1)-th: every item left out then has a
    key below the k-th largest (it is below a kept item of its own group that is not drawn), so the k
    drawn are the only k largest keys of the row, the items any partition finds. Rows where either check
    fails are drawn by :func:`weighted_sample_rows` itself.
    """
    R, n = u.shape
    G = group_weights.shape[1]
    drawn = np.zeros(u.shape, dtype=bool)
    if k <= 0:
        return drawn
    positive = mask & (group_weights > 0)[:, groups]
    onehot = (groups[:, None] == np.arange(G)).astype(float)  # counts per group by a product: exact
    per_group = positive.astype(float) @ onehot
    short = per_group.sum(axis=1) <= k
    drawn[short] = positive[short]
    threshold = 1.0 - SPARE * (k + 1) / np.maximum(per_group, 1.0)
    kept = positive & (u >= threshold[:, groups]) & ~short[:, None]
    kept_per_group = kept.astype(float) @ onehot
    fast = ~short & ((kept_per_group >= k + 1) | (kept_per_group == per_group)).all(axis=1)
    ones = (group_weights == 1.0)[:, groups]  # u ** (1 / 1.0) is u itself, as weighted_sample_rows copies it
    keys = np.full(u.shape, -1.0)
    np.copyto(keys, u, where=kept & ones)
    other = kept & ~ones
    with np.errstate(divide="ignore"):  # a group of weight 0 has no item kept
        inverse = (1.0 / group_weights)[:, groups]  # the same quotient as 1.0 / each item's weight
    np.power(u, inverse, out=keys, where=other)
    rows = np.flatnonzero(fast)
    if len(rows):
        # the kept keys of each fast row, packed to the left of a (rows, width) block padded with -inf
        counts = kept[rows].sum(axis=1)
        flat_kept = np.flatnonzero(kept[rows])
        rr = np.repeat(np.arange(len(rows)), counts)
        cc = flat_kept - rr * n
        slot = np.arange(len(cc)) - np.repeat(np.cumsum(counts) - counts, counts)
        packed = np.full((len(rows), int(counts.max())), -np.inf)
        column = np.zeros(packed.shape, dtype=np.int64)
        packed[rr, slot] = keys[rows[rr], cc]
        column[rr, slot] = cc
        order = np.argpartition(-packed, [k - 1, k], axis=1)
        kth = np.take_along_axis(packed, order[:, k - 1 : k + 1], axis=1)
        strict = kth[:, 0] > kth[:, 1]  # no tie at the edge: the k largest keys are the only k largest
        top = np.take_along_axis(column[strict], order[strict, :k], axis=1)
        drawn[rows[strict][:, None], top] = True
        fast[rows[~strict]] = False
    slow = np.flatnonzero(~short & ~fast)
    if len(slow):
        weights = np.where(mask[slow], group_weights[slow][:, groups], 0.0)
        drawn[slow] = weighted_sample_rows(u[slow], weights, k)
    return drawn
