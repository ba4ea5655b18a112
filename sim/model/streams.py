"""Random numbers for common random numbers (CRN) across policy arms.

Every random decision draws one block of uniforms per year, indexed by service slot (or council, or
provider), from a stream keyed by ``(seed, decision name, year)``. The block is drawn whole whether or not
a slot uses it, so a slot's draw for a given decision and year does not depend on what other councils
did or which arm is running. Names are hashed with BLAKE2b, never Python's ``hash()``, so streams are the
same on every machine and in every process.

A stream is ``Generator(PCG64(SeedSequence([seed & 0xFFFFFFFF, seed >> 32, stable_hash(name), year])))``.
Making a ``SeedSequence`` costs about half a yearly block of draws, so :class:`Streams` runs NumPy's own
``SeedSequence`` algorithm (tested against it) itself: the words that do not change with the year are mixed
once per seed and name, and :meth:`Streams.prepare` mixes many seeds and years at once with numpy; PCG64 is
then seeded from the resulting state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
from numpy.random.bit_generator import ISeedSequence

# Constants of NumPy's SeedSequence (numpy/random/bit_generator.pyx), a fixed and documented algorithm.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A = 0x43B0D7E5, 0x931E8875
_INIT_B, _MULT_B = 0x8B51F9DD, 0x58F38DED
_MIX_MULT_L, _MIX_MULT_R = 0xCA01F9DD, 0x4973F715
_XSHIFT = 16
_POOL_SIZE = 4


@lru_cache(maxsize=64)
def stable_hash(name: str) -> int:
    """A 64-bit hash of ``name`` that is the same in every process and on every machine."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


def _words(n: int) -> list[int]:
    """The 32-bit words of a non-negative int, least significant first (NumPy's entropy coercion)."""
    if n == 0:
        return [0]
    words = []
    while n > 0:
        words.append(n & _MASK32)
        n >>= 32
    return words


def _constants(hc: int, mult: int, n: int) -> tuple[tuple[int, int], ...]:
    """The (xor, multiplier) pairs of ``n`` hashing steps from hash constant ``hc``.

    SeedSequence's hash constants do not depend on the data hashed, so they are computed once.
    """
    pairs = []
    for _ in range(n):
        nxt = (hc * mult) & _MASK32
        pairs.append((hc, nxt))
        hc = nxt
    return tuple(pairs)


_FIRST = _constants(_INIT_A, _MULT_A, _POOL_SIZE * _POOL_SIZE)  # filling the pool, then mixing it
_CROSS = [(i_src, i_dst) for i_src in range(_POOL_SIZE) for i_dst in range(_POOL_SIZE) if i_src != i_dst]
_GENERATE = _constants(_INIT_B, _MULT_B, 2 * _POOL_SIZE)  # generate_state(4, uint64): eight 32-bit words

# The functions below take Python ints or numpy uint64 arrays of 32-bit values alike (products of two
# 32-bit values fit in 64 bits, and differences wrap modulo 2**64, a multiple of 2**32).


def _hash(value, xor: int, mult: int):
    value = ((value ^ xor) * mult) & _MASK32
    return value ^ (value >> _XSHIFT)


def _mix(x, y):
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


def _fill(head: list) -> list:
    """SeedSequence's pool after its first ``_POOL_SIZE`` words of entropy (all given), mixed."""
    pool = [_hash(word, xor, mult) for word, (xor, mult) in zip(head, _FIRST, strict=False)]
    for (i_src, i_dst), (xor, mult) in zip(_CROSS, _FIRST[_POOL_SIZE:], strict=True):
        pool[i_dst] = _mix(pool[i_dst], _hash(pool[i_src], xor, mult))
    return pool


def _mix_words(pool: list, pairs: tuple[tuple[int, int], ...], words: list) -> list:
    """SeedSequence's pool after further words of entropy, hashed with ``pairs`` in turn."""
    pool, pairs_left = list(pool), iter(pairs)
    for word in words:
        for i_dst in range(_POOL_SIZE):
            pool[i_dst] = _mix(pool[i_dst], _hash(word, *next(pairs_left)))
    return pool


def _generate(pool: list) -> list:
    """The eight 32-bit words of ``SeedSequence.generate_state(4, np.uint64)``, low word first."""
    return [_hash(pool[i % _POOL_SIZE], xor, mult) for i, (xor, mult) in enumerate(_GENERATE)]


def _head_words(seed, name: str) -> list | None:
    """The entropy words before the year's (seeds below 2**64), or None unless they fill the pool.

    They fill it (four words) unless the name's hash fits in 32 bits; then the year's word is among the
    first four and is mixed another way, which is left to SeedSequence itself.
    """
    words = [seed & _MASK32, seed >> 32, *_words(stable_hash(name))]
    return words if len(words) == _POOL_SIZE else None


_YEAR = _constants(_FIRST[-1][1], _MULT_A, _POOL_SIZE)  # hashing the year's word into the pool


@lru_cache(maxsize=8192)
def _mixed_head(seed: int, name: str) -> list[int] | None:
    """The pool after every entropy word but the year's (None: see :func:`_head_words`)."""
    head = _head_words(seed, name) if seed < 2**64 else None
    return None if head is None else _fill(head)


class _MixedSeed(ISeedSequence):
    """A seed sequence already mixed: hands PCG64 the state SeedSequence would have generated."""

    __slots__ = ("state",)

    def __init__(self, state: np.ndarray):
        self.state = state

    def generate_state(self, n_words: int, dtype=np.uint32) -> np.ndarray:
        """The PCG64 seed (four 64-bit words); nothing else is supported."""
        if n_words != 4 or np.dtype(dtype) != np.uint64:
            raise ValueError("only the PCG64 seed (4 uint64 words) is available")
        return self.state


class Streams:
    """Per-decision, per-year random streams derived from one run seed.

    Args:
        seed: the run's seed (a non-negative integer).
    """

    def __init__(self, seed: int):
        if seed < 0:
            raise ValueError(f"seed must be non-negative, got {seed}")
        self.seed = int(seed)
        self._prepared: dict[tuple[str, int], np.ndarray] = {}

    def entropy(self, name: str, year: int) -> list[int]:
        """The entropy of the ``SeedSequence`` of one decision in one year."""
        return [self.seed & 0xFFFFFFFF, self.seed >> 32, stable_hash(name), int(year)]

    def generator(self, name: str, year: int) -> np.random.Generator:
        """A generator for one decision in one year.

        The same as ``Generator(PCG64(SeedSequence(self.entropy(name, year))))``, made faster.
        """
        state = self._prepared.pop((name, year), None)
        if state is None:
            pool = _mixed_head(self.seed, name)
            if pool is None or not 0 <= year <= _MASK32:  # the year is not one word after the others
                return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.entropy(name, year))))
            words = _generate(_mix_words(pool, _YEAR, [int(year)]))
            state = np.array(words, dtype="<u4").view("<u8").astype(np.uint64)  # as SeedSequence does
        return np.random.Generator(np.random.PCG64(_MixedSeed(state)))

    @staticmethod
    def prepare(streams: Sequence[Streams], name: str, years: Sequence[int]) -> None:
        """Mix the seeds of ``name``'s generators in ``years`` for many streams at once (numpy across seeds).

        Each stream keeps its prepared seeds until :meth:`generator` asks for them (once); results are
        the same with or without preparing.
        """
        seeds = np.array([st.seed for st in streams if st.seed < 2**64], dtype=np.uint64)
        years = [int(y) for y in years]
        if len(seeds) < len(streams) or not all(0 <= y <= _MASK32 for y in years):
            return  # left to generator(): rare seeds and years, one by one
        head = _head_words(seeds, name)
        if head is None:
            return
        pool = [np.asarray(p, dtype=np.uint64).reshape(-1, 1) for p in _fill(head)]
        words = _generate(_mix_words(pool, _YEAR, [np.array(years, dtype=np.uint64)]))  # (seeds, years)
        state = np.stack([words[i] | (words[i + 1] << np.uint64(32)) for i in range(0, 8, 2)], axis=-1)
        for st, by_year in zip(streams, state, strict=True):
            st._prepared.update({(name, y): s for y, s in zip(years, by_year, strict=True)})

    def uniform(self, name: str, year: int, shape: int | tuple[int, ...]) -> np.ndarray:
        """A block of uniforms on [0, 1) for one decision in one year."""
        return self.generator(name, year).random(shape)
