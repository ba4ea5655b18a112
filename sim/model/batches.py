"""How runs are cut into batched models: light (no Mesa), so that a sweep's parent can plan its tasks."""

from __future__ import annotations

MAX_BATCH = 64
"""Replications a runner puts in one model at most: larger batches gain little and hold more memory."""


def batch_slices(n: int, max_size: int | None = None) -> list[slice]:
    """Slices cutting ``n`` runs into as few batches of at most ``max_size`` (default MAX_BATCH) as can be.

    The batches are of even size (100 runs: two of 50, not 64 and 36).
    """
    size = max_size or MAX_BATCH
    n_batches = -(-n // size)
    bounds = [n * k // n_batches for k in range(n_batches + 1)] if n else [0]
    return [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
