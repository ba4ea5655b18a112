"""Random numbers for common random numbers (CRN) across policy arms.

Every random decision draws one block of uniforms per year, indexed by service slot (or council, or
provider), from a stream keyed by ``(seed, decision name, year)``. The block is drawn whole whether or not
a slot uses it, so a slot's draw for a given decision and year does not depend on what other councils
did or which arm is running. Names are hashed with BLAKE2b, never Python's ``hash()``, so streams are the
same on every machine and in every process.

A stream is ``Generator(PCG64(SeedSequence([seed & 0xFFFFFFFF, seed >> 32, stable_hash(name), year])))``.
Making a ``SeedSequence`` costs more than a yearly block of draws, so :class:`Streams` mixes the words
that do not change with the year once per name and only the year's word each year, with NumPy's own
``SeedSequence`` algorithm (tested against it), then seeds ``PCG64`` from the resulting state.
"""

from __future__ import annotations

import hashlib
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


def _hashmix(value: int, hash_const: int) -> tuple[int, int]:
    value ^= hash_const
    hash_const = (hash_const * _MULT_A) & _MASK32
    value = (value * hash_const) & _MASK32
    return value ^ (value >> _XSHIFT), hash_const


def _mix(x: int, y: int) -> int:
    result = (_MIX_MULT_L * x - _MIX_MULT_R * y) & _MASK32
    return result ^ (result >> _XSHIFT)


def _mix_first(entropy: list[int]) -> tuple[list[int], int]:
    """SeedSequence's pool and hash constant after the first ``_POOL_SIZE`` words (or fewer) of entropy."""
    pool, hc = [], _INIT_A
    for i in range(_POOL_SIZE):
        pool_word, hc = _hashmix(entropy[i] if i < len(entropy) else 0, hc)
        pool.append(pool_word)
    for i_src in range(_POOL_SIZE):
        for i_dst in range(_POOL_SIZE):
            if i_src != i_dst:
                mixed, hc = _hashmix(pool[i_src], hc)
                pool[i_dst] = _mix(pool[i_dst], mixed)
    return pool, hc


def _mix_more(pool: list[int], hc: int, entropy: list[int]) -> tuple[list[int], int]:
    """SeedSequence's pool and hash constant after mixing in further words of entropy."""
    pool = list(pool)
    for word in entropy:
        for i_dst in range(_POOL_SIZE):
            mixed, hc = _hashmix(word, hc)
            pool[i_dst] = _mix(pool[i_dst], mixed)
    return pool, hc


def _generate_constants() -> tuple[tuple[int, int], ...]:
    """The (xor, multiplier) pairs of ``SeedSequence.generate_state``: the same for every pool."""
    pairs, hc = [], _INIT_B
    for _ in range(2 * _POOL_SIZE):
        nxt = (hc * _MULT_B) & _MASK32
        pairs.append((hc, nxt))
        hc = nxt
    return tuple(pairs)


_GENERATE = _generate_constants()


def _pcg64_state(pool: list[int]) -> np.ndarray:
    """``SeedSequence.generate_state(4, np.uint64)`` from the pool: the seed PCG64 takes."""
    words = []
    for i, (xor, mult) in enumerate(_GENERATE):
        value = ((pool[i % _POOL_SIZE] ^ xor) * mult) & _MASK32
        words.append(value ^ (value >> _XSHIFT))
    return np.array(words, dtype="<u4").view("<u8").astype(np.uint64)  # as SeedSequence, any endianness


def _hash_constants(hc: int, n: int) -> tuple[tuple[int, int], ...]:
    """The (xor, multiplier) pairs of the next ``n`` calls of SeedSequence's hashmix, from ``hc``."""
    pairs = []
    for _ in range(n):
        nxt = (hc * _MULT_A) & _MASK32
        pairs.append((hc, nxt))
        hc = nxt
    return tuple(pairs)


def _mix_word(pool: list[int], pairs: tuple[tuple[int, int], ...], word: int) -> list[int]:
    """``_mix_more(pool, hc, [word])[0]``, with the hash constants from ``hc`` given as ``pairs``."""
    out = []
    for p, (xor, mult) in zip(pool, pairs, strict=True):
        value = ((word ^ xor) * mult) & _MASK32
        value ^= value >> _XSHIFT
        result = (_MIX_MULT_L * p - _MIX_MULT_R * value) & _MASK32
        out.append(result ^ (result >> _XSHIFT))
    return out


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
        self._mixed: dict[str, tuple[list[int], tuple] | None] = {}

    def entropy(self, name: str, year: int) -> list[int]:
        """The entropy of the ``SeedSequence`` of one decision in one year."""
        return [self.seed & 0xFFFFFFFF, self.seed >> 32, stable_hash(name), int(year)]

    def generator(self, name: str, year: int) -> np.random.Generator:
        """A generator for one decision in one year.

        The same as ``Generator(PCG64(SeedSequence(self.entropy(name, year))))``, made faster.
        """
        if name not in self._mixed:
            head = [w for v in self.entropy(name, 0)[:-1] for w in _words(v)]
            mixed = None
            if len(head) >= _POOL_SIZE:  # the year's word comes after the pool's first fill
                pool, hc = _mix_more(*_mix_first(head), head[_POOL_SIZE:])
                mixed = pool, _hash_constants(hc, _POOL_SIZE)
            self._mixed[name] = mixed
        mixed = self._mixed[name]
        if mixed is None or not 0 <= year <= _MASK32:  # not one word after the others: mix all of it
            return np.random.Generator(np.random.PCG64(np.random.SeedSequence(self.entropy(name, year))))
        pool = _mix_word(mixed[0], mixed[1], int(year))
        return np.random.Generator(np.random.PCG64(_MixedSeed(_pcg64_state(pool))))

    def uniform(self, name: str, year: int, shape: int | tuple[int, ...]) -> np.ndarray:
        """A block of uniforms on [0, 1) for one decision in one year."""
        return self.generator(name, year).random(shape)
