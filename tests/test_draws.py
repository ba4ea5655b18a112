"""The year's draws: one word per slot from the stream, decision rows derived from it (SplitMix64)."""

import numpy as np
import pytest

from sim.model.draws import N_DRAW_ROWS, U_FAIL, U_NOISE, U_REVIEW, YearDraws
from sim.model.streams import Streams


def _draws(seed=5, n=2_000, reps=1):
    words = np.stack(
        [Streams(seed + r).generator("year", 2014).bit_generator.random_raw(n) for r in range(reps)]
    )
    return YearDraws(words)


def test_rows_are_uniform_and_independent_of_each_other():
    d = _draws(n=200_000)
    a, b = d.row(U_REVIEW)[0], d.row(U_NOISE)[0]
    for x in (a, b):
        assert 0.0 <= x.min() and x.max() < 1.0
        assert abs(x.mean() - 0.5) < 4 * np.sqrt(1 / 12 / len(x))
        counts = np.histogram(x, bins=20, range=(0, 1))[0]
        expected = len(x) / 20
        assert ((counts - expected) ** 2 / expected).sum() < 60  # chi-square, 19 df: p < 1e-5 if over
    assert abs(np.corrcoef(a, b)[0, 1]) < 4 / np.sqrt(len(a))


def test_entries_equal_the_full_row_and_depend_on_nothing_else():
    d = _draws(reps=3)
    r, j = np.array([0, 2, 1, 2]), np.array([5, 5, 1999, 0])
    for k in range(N_DRAW_ROWS):
        np.testing.assert_array_equal(d.at(k, r, j), d.row(k)[r, j])
    np.testing.assert_array_equal(
        d.rows_at(U_NOISE, U_NOISE + 3, r, j), d.block()[r, U_NOISE : U_NOISE + 3, j]
    )
    other = YearDraws(d.words[:, :10].copy())  # a slot's draws do not depend on other slots
    np.testing.assert_array_equal(other.row(U_REVIEW), d.row(U_REVIEW)[:, :10])


def test_a_salt_gives_distinct_draws_for_providers_founded_by_one_slot():
    d = _draws()
    r, j = np.zeros(1000, dtype=int), np.arange(1000)
    a, b = d.at(U_FAIL, r, j, salt=np.full(1000, 3)), d.at(U_FAIL, r, j, salt=np.full(1000, 8))
    assert not np.isin(a, b).any()
    assert abs(np.corrcoef(a, b)[0, 1]) < 0.15


@pytest.mark.parametrize("seed", [0, 1, 2**63 - 1])
def test_the_block_is_a_function_of_seed_and_year(seed):
    a, b = _draws(seed), _draws(seed)
    np.testing.assert_array_equal(a.block(), b.block())
    assert not np.array_equal(a.block(), _draws(seed + 1).block())
