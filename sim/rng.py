"""Random numbers for common random numbers (CRN) across policy arms.

Every random decision draws one block of uniforms per year, indexed by service slot (or council, or
provider), from a stream keyed by ``(seed, decision name, year)``. The block is drawn whole whether or not
a slot uses it, so a slot's draw for a given decision and year does not depend on what other councils
did or which arm is running. Names are hashed with BLAKE2b, never Python's ``hash()``, so streams are the
same on every machine and in every process.
"""

from __future__ import annotations

import hashlib

import numpy as np


def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """Per-decision, per-year random streams derived from one run seed.

    Args:
        seed: the run's seed (a non-negative integer).
    """

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.seed = int(seed)

    def generator(self, name: str, year: int) -> np.random.Generator:
        """A generator for one decision in one year."""
        entropy = [self.seed & 0xFFFFFFFF, self.seed >> 32, stable_hash(name), int(year)]
        return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))

    def uniform(self, name: str, year: int, shape: int | tuple[int, ...]) -> np.ndarray:
        """A block of uniforms on [0, 1) for one decision in one year."""
        return self.generator(name, year).random(shape)
