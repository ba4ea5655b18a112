"""Array helpers of the batched model: entries of (replication, slot) masks, row sums, provider groups.

State arrays have one row per replication (shape ``(R, n)``). Every helper works row by row in a way that
gives a replication the same result whatever the number of replications beside it.
"""

from __future__ import annotations

import numpy as np


def entries(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(replication, slot) index arrays where an (R, n) ``mask`` is true, row by row (a faster np.nonzero)."""
    flat = np.flatnonzero(mask)
    r = flat // mask.shape[1]
    return r, flat - r * mask.shape[1]


def entries_flat(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`entries` and the flat indices ``r * n + j`` of the same entries (for :func:`flat` gathers)."""
    f = np.flatnonzero(mask)
    r = f // mask.shape[1]
    return r, f - r * mask.shape[1], f


def flat(a: np.ndarray) -> np.ndarray:
    """A 1-D view of a C-contiguous (R, n) state array, for gathers and writes at flat indices.

    ``flat(a)[f]`` is ``a[r, j]`` at a quarter of the cost of indexing with two arrays; writes through it
    reach ``a`` (raises ValueError, never copies, if ``a`` is not contiguous). ``reshape`` of a C-contiguous
    array is always a view; the check stands in for ``reshape(copy=False)``, which needs NumPy 2.1.
    """
    if not a.flags.c_contiguous:
        raise ValueError("flat() needs a C-contiguous array; a copy would not write through")
    return a.reshape(-1)


def row_sums(mask: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` where ``mask``, row by row, of (R, n) arrays.

    Always over the full row (zeros where not masked), so a replication's sum is the same whatever the
    number of replications in the model.
    """
    return np.where(mask, values, 0.0).sum(axis=1)


def group(key: np.ndarray, scratch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group entries by ``key`` (non-negative ints below ``len(scratch)``) without sorting.

    Args:
        key: one key per entry, e.g. replication * n_provider_ids + provider id.
        scratch: a reusable int buffer (the model's is int32); only the cells written here are read.

    Returns:
        each entry's representative (the index of the last entry with its key), and a mask of the
        representatives (one entry per key).
    """
    entry = np.arange(len(key), dtype=scratch.dtype)
    scratch[key] = entry
    representative = scratch[key]
    return representative, representative == entry
