"""The year's random draws: one 64-bit word per replication and slot, and a uniform per decision from it.

Each year every replication draws one word per slot, first, from its ("year", y) Philox stream
(:mod:`sim.model.streams`); the uniform of decision row k for a slot is derived from the slot's word by
SplitMix64 (Steele, Lea and Flood 2014), ``mix(word + (k + 1) * GAMMA)``. So a slot's draw for a decision
depends only on the seed, the year, the slot and the decision, never on other slots, on the policy arm
or on the batch (common random numbers), and a decision costs only the draws of the entries that need it.
The rows (``U_*``) name the decisions.
"""

from __future__ import annotations

import numpy as np

from sim.model.rules import N_OPTIONS

_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SALT = np.uint64(0xD1B54A32D192ED03)
_TO_UNIT = 2.0**-53
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)

U_REVIEW = 0
"""Whether a service part is reviewed this year."""
U_PROPOSAL = 1
"""Whether staff propose a mutual."""
U_NOISE = 2
"""N_OPTIONS rows: the appraisal's noise, one per option."""
U_SUPPORT = U_NOISE + N_OPTIONS
"""Whether a reviewed part gets a place on the support programme."""
U_ABANDON = U_SUPPORT + 1
"""Whether a pending transition is abandoned this year."""
U_JOIN = U_ABANDON + 1
"""Whether a divestment joins an existing provider."""
U_CONTRACT = U_JOIN + 1
"""What happens at a contract's end: back in-house, lost at re-tender, or renewed."""
U_WINNER = U_CONTRACT + 1
"""Who wins a lost re-tender: a contractor or the largest other provider of the incumbent's kind."""
U_READY = U_WINNER + 1
"""Whether an in-house part without a ready staff team gains one (the pool of ready teams)."""
U_FAIL = U_READY + 1
"""Failure of the provider founded by the slot (indexed by founding slot; shifted by mode, see
:func:`sim.model.stages.providers.provider_draw`)."""
U_TAKEOVER = U_FAIL + 1
"""Takeover of the provider founded by the slot (indexed as U_FAIL)."""
U_BRANCH = U_TAKEOVER + 1
"""N_BRANCH_OPTIONS rows: the noise of a library point's or leisure centre's own decision (keep, close,
hand over, trust: :mod:`sim.model.stages.branches`); after the rows above, so they keep their places."""
N_BRANCH_OPTIONS = 4
N_DRAW_ROWS = U_BRANCH + N_BRANCH_OPTIONS
_OFFSETS = np.arange(1, N_DRAW_ROWS + 1, dtype=np.uint64) * _GAMMA  # wraps modulo 2**64, as SplitMix64 does
"""Offset of each row's key from the slot's word: (k + 1) * GAMMA."""


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser of uint64 words, as uniforms on [0, 1) with 53 bits.

    Worked in place on one copy of ``z``; the 53-bit result is converted to float through int64 (the same
    values: below 2**53 every integer is exact either way), as NumPy converts uint64 to float64 several
    times slower than int64.
    """
    z = z ^ (z >> _S30)
    z *= _MIX1
    z ^= z >> _S27
    z *= _MIX2
    z ^= z >> _S31
    z >>= _S11
    return z.view(np.int64) * _TO_UNIT


class YearDraws:
    """The draws of one year: decision rows derived on demand from one word per replication and slot.

    Args:
        words: (R, n_slots) uint64, each replication's first draws of the year from its stream.
    """

    def __init__(self, words: np.ndarray):
        self.words = words
        self._rows: dict[int, np.ndarray] = {}

    def row(self, k: int) -> np.ndarray:
        """Row ``k`` for every replication and slot, (R, n_slots) uniforms (kept for the year)."""
        out = self._rows.get(k)
        if out is None:
            out = self._rows[k] = _mix(self.words + _OFFSETS[k])
        return out

    def columns(self, k: int, cols: np.ndarray) -> np.ndarray:
        """Row ``k`` at slots ``cols`` for every replication, (R, len(cols)): the same draws as ``row``."""
        return _mix(self.words[:, cols] + _OFFSETS[k])

    def at(self, k: int, r: np.ndarray, j: np.ndarray, salt: np.ndarray | None = None) -> np.ndarray:
        """Row ``k`` at entries (r, j) only; ``salt`` (small ints, e.g. a mode) gives distinct draws."""
        z = self.words[r, j] + _OFFSETS[k]
        if salt is not None:
            z = z + _SALT * np.asarray(salt).astype(np.uint64)
        return _mix(z)

    def at_flat(self, k: int, f: np.ndarray, salt: np.ndarray | None = None) -> np.ndarray:
        """:meth:`at` at flat indices ``f = r * n_slots + j`` (the same draws)."""
        z = self.words.reshape(-1)[f] + _OFFSETS[k]
        if salt is not None:
            z = z + _SALT * np.asarray(salt).astype(np.uint64)
        return _mix(z)

    def rows_at(self, k0: int, k1: int, r: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Rows ``k0`` to ``k1 - 1`` at entries (r, j): (len(j), k1 - k0) uniforms."""
        return _mix(self.words[r, j][:, None] + _OFFSETS[None, k0:k1])

    def rows_at_flat(self, k0: int, k1: int, f: np.ndarray) -> np.ndarray:
        """:meth:`rows_at` at flat indices ``f = r * n_slots + j`` (the same draws)."""
        return _mix(self.words.reshape(-1)[f][:, None] + _OFFSETS[None, k0:k1])

    def block(self) -> np.ndarray:
        """Every row for every replication and slot, (R, N_DRAW_ROWS, n_slots): for tests and inspection."""
        return np.stack([self.row(k) for k in range(N_DRAW_ROWS)], axis=1)
