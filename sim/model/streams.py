"""Random streams for common random numbers (CRN) across policy arms, from NumPy's counter-based Philox.

Every random decision draws one block of uniforms per year, indexed by service slot (or council, or
provider), from a stream named by ``(seed, decision name, year)``. The block is drawn whole whether or not
a slot uses it, so a slot's draw for a given decision and year does not depend on what other councils did
or which arm is running, nor on how many worker processes run the sweep.

A stream is ``Generator(Philox(key=k, counter=year << 192))`` where the 128-bit key ``k`` is the BLAKE2b
hash of the seed and the decision's name (never Python's ``hash()``, so the same on every machine and in
every process). Philox is a counter-based generator (Salmon et al. 2011, "Parallel random numbers: as easy
as 1, 2, 3"): distinct keys give independent streams, and a year's counter sits in the top 64 bits of the
256-bit counter, so one year's draws (which advance the low words) can never run into the next year's.
Making a stream costs a few microseconds; nothing needs to be prepared or cached.
"""

from __future__ import annotations

import hashlib

import numpy as np

MAX_SEED = 2**64 - 1
"""Largest seed: seeds are unsigned 64-bit integers, as in the results' ``seed`` columns."""
_WORD = 2**64 - 1
_EMPTY_BUFFER = np.zeros(4, dtype=np.uint64)


def stream_key(seed: int, name: str) -> int:
    """The 128-bit Philox key of decision ``name`` under ``seed``: BLAKE2b of both, the same everywhere."""
    data = seed.to_bytes(8, "little") + name.encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=16, person=b"mutuals-sim").digest(), "little")


class Streams:
    """The named random streams of one replication.

    Args:
        seed: the replication's seed, ``0 <= seed <= 2**64 - 1``.
    """

    def __init__(self, seed: int):
        seed = int(seed)
        if not 0 <= seed <= MAX_SEED:
            raise ValueError(f"seed must be a non-negative integer below 2**64, got {seed}")
        self.seed = seed
        self._keys: dict[str, tuple[int, np.ndarray]] = {}  # name: key, and as two 64-bit words

    def generator(
        self, name: str, year: int, reuse: np.random.Generator | None = None
    ) -> np.random.Generator:
        """A generator for decision ``name`` in ``year`` (a non-negative integer below 2**64), at its start.

        Args:
            name: the decision's name.
            year: the year, the counter's top word.
            reuse: a Philox generator to set to the stream's start and return, instead of a new one (a
                Philox costs a dozen microseconds to build; setting its state, a third of that). Its
                draws are then exactly those of a new generator: the state set is the key, the counter,
                an empty buffer and no cached 32-bit half, as ``Philox(key=..., counter=...)`` leaves them.
        """
        year = int(year)
        if not 0 <= year <= MAX_SEED:
            raise ValueError(f"year must be a non-negative integer below 2**64, got {year}")
        key = self._keys.get(name)
        if key is None:
            k = stream_key(self.seed, name)
            key = self._keys[name] = (k, np.array([k & _WORD, k >> 64], dtype=np.uint64))
        if reuse is None:
            return np.random.Generator(np.random.Philox(key=key[0], counter=year << 192))
        reuse.bit_generator.state = {
            "bit_generator": "Philox",
            "state": {"counter": np.array([0, 0, 0, year], dtype=np.uint64), "key": key[1]},
            "buffer": _EMPTY_BUFFER,
            "buffer_pos": 4,  # the buffer is used up: the next draw computes a new block
            "has_uint32": 0,
            "uinteger": 0,
        }
        return reuse

    def uniform(self, name: str, year: int, size: int | tuple[int, ...]) -> np.ndarray:
        """Uniforms on [0, 1) of decision ``name`` in ``year``: the first ``size`` draws of its stream."""
        return self.generator(name, year).random(size)


FRESH_SEEDS = 2**63
"""Seeds drawn for ``rng=None`` or from a Generator lie below this (room for ``seed + replication``)."""


def seed_from(rng: object) -> int:
    """The run's seed from what Mesa's ``rng=`` takes, so the run can be repeated with ``rng=model.seed``.

    An int is the seed; a numpy ``Generator`` or ``SeedSequence`` gives one (drawing from the generator);
    None draws one from the operating system's entropy (fresh randomness, as Mesa means it).

    Raises:
        TypeError: anything else (a float, a string, a bool).
    """
    if rng is None:
        rng = np.random.SeedSequence()
    if isinstance(rng, np.random.SeedSequence):
        return int(rng.generate_state(1, np.uint64)[0]) % FRESH_SEEDS
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(0, FRESH_SEEDS, dtype=np.uint64))
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool | np.bool_):
        return int(rng)
    raise TypeError(
        "rng must be an int seed, a numpy Generator or SeedSequence, or None (fresh randomness), "
        f"got {type(rng).__name__}"
    )
