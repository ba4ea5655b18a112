"""Streams: the fast way of making a stream's generator gives exactly NumPy's SeedSequence stream."""

import numpy as np
import pytest

from sim.model.streams import Streams, stable_hash

SEEDS = [0, 1, 7, 20140904, 2**32 - 1, 2**32, 2**40 + 7, 2**64 - 1, 2**64, 2**70 + 3]
YEARS = [0, 1, 2014, 2020, 2**32 - 1, 2**32 + 5]


def reference(seed, name, year):
    entropy = [seed & 0xFFFFFFFF, seed >> 32, stable_hash(name), year]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


@pytest.mark.parametrize("seed", SEEDS)
def test_generator_is_the_seed_sequence_stream(seed):
    streams = Streams(seed)
    for name in ("year", "init", "a", "another decision"):
        for year in YEARS:
            got, expected = streams.generator(name, year), reference(seed, name, year)
            assert got.bit_generator.state == expected.bit_generator.state, (name, year)
            np.testing.assert_array_equal(got.random(5), expected.random(5))
            assert got.binomial(50, 0.1) == expected.binomial(50, 0.1)


def test_random_seeds_and_years():
    g = np.random.default_rng(3)
    for seed, year in zip(
        g.integers(0, 2**63, 200).tolist(), g.integers(1990, 2100, 200).tolist(), strict=True
    ):
        np.testing.assert_array_equal(
            Streams(seed).uniform("year", year, 4), reference(seed, "year", year).random(4)
        )


def test_negative_seeds_and_years_are_refused():
    with pytest.raises(ValueError, match="non-negative"):
        Streams(-1)
    with pytest.raises(ValueError):
        Streams(1).generator("year", -1)


def test_a_name_with_a_short_hash_takes_the_full_seed_sequence(monkeypatch):
    import sim.model.streams

    monkeypatch.setattr(
        sim.model.streams, "stable_hash", lambda name: 12345
    )  # one word: the year is mixed in the pool
    got = Streams(9).generator("short", 2016)
    expected = np.random.Generator(np.random.PCG64(np.random.SeedSequence([9, 0, 12345, 2016])))
    assert got.bit_generator.state == expected.bit_generator.state


@pytest.mark.parametrize(
    "seeds", [SEEDS[:8], list(range(100, 140)), [3, 2**64 + 1]], ids=["edges", "many", "huge"]
)
def test_prepared_generators_are_the_same(seeds):
    streams = [Streams(s) for s in seeds]
    Streams.prepare(streams, "year", [2014, 2015, 2**32 - 1])
    Streams.prepare(streams, "init", [2014])
    prepared = all(len(st._prepared) == 4 for st in streams)
    assert prepared == (max(seeds) < 2**64), "seeds of 2**64 and more are left to generator()"
    for st in streams:
        for name, year in (("year", 2014), ("year", 2015), ("year", 2**32 - 1), ("init", 2014)):
            assert (
                st.generator(name, year).bit_generator.state
                == reference(st.seed, name, year).bit_generator.state
            )
        assert not st._prepared, "a prepared generator is handed out once"
