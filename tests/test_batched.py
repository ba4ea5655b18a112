"""Replications run together in one model (``seeds=[...]``) give exactly the results of separate runs.

Replication r of a batched model must equal ``DivestmentModel(scenario, seed=seeds[r])`` bit for bit,
whatever the other seeds in the batch and however many there are: sweeps batch runs differently on one
worker and on many, and promise identical results on any number of workers.
"""

import numpy as np
import pandas as pd
import pytest

from sim.model import N_DRAW_ROWS, DivestmentModel, rules
from sim.model.draws import YearDraws
from sim.model.streams import Streams

SEEDS = [3, 20140904, 11, 0, 7, 123456]
VARIANTS = {
    "baseline": {},
    "support_ends_2015": {"support.end_year": 2015},
    "simplification": {"policy.simplification": 1.0},
    "high_churn": {
        "mutual.fail_rate_per_year": 0.2,
        "contract.p_return_in_house": 0.5,
        "contract.length_years": 2,
        "contract.p_join_existing": 0.8,
    },
}


def frames(model, r=None):
    return model.national(r), model.councils_frame(r), model.decisions_frame(r)


def assert_same(got, expected):
    for a, b in zip(got, expected, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


@pytest.fixture(scope="module", params=list(VARIANTS))
def scenario(request, baseline):
    return baseline.with_changes(VARIANTS[request.param])


@pytest.fixture(scope="module")
def single(scenario):
    """Each seed run on its own, as before batching."""
    return {seed: DivestmentModel(scenario, seed=seed).run() for seed in SEEDS}


def test_each_replication_equals_its_seed_run_alone(scenario, single):
    batched = DivestmentModel(scenario, seeds=SEEDS).run()
    assert batched.n_batch == len(SEEDS) and batched.mode.shape == (
        len(SEEDS),
        batched.slots.n,
    )
    for r, seed in enumerate(SEEDS):
        assert_same(frames(batched, r), frames(single[seed]))
        assert batched.national_rows(r) == single[seed].national_rows()
        assert batched.warnings_of(r) == single[seed].warnings
    assert batched.national()["new_live"].sum() > 0, "the runs make transitions"


def test_a_large_batch_equals_its_seeds_run_alone(baseline):
    seeds = [*SEEDS, 2**40 + 3, 2**63, 5, 8, 13, 21]  # many seeds, large ones among them
    batched = DivestmentModel(baseline.with_changes({}, end_year=2018), seeds=seeds).run()
    for r in (0, 6, 7, 11):
        alone = DivestmentModel(baseline.with_changes({}, end_year=2018), seed=seeds[r]).run()
        assert_same(frames(batched, r), frames(alone))


def test_results_do_not_depend_on_the_other_seeds_in_the_batch(scenario, single):
    a, b, c = SEEDS[1], SEEDS[4], SEEDS[5]
    three = DivestmentModel(scenario, seeds=[a, b, c], record_councils=True).run()
    two = DivestmentModel(scenario, seeds=[c, a], record_councils=True).run()
    assert_same(frames(three, 0), frames(two, 1))
    assert_same(frames(three, 2), frames(two, 0))
    assert_same(frames(three, 1), frames(single[b]))


def test_the_same_seed_twice_gives_two_identical_replications(baseline):
    m = DivestmentModel(baseline, seeds=[5, 5], record_councils=False).run()
    pd.testing.assert_frame_equal(m.national(0), m.national(1), check_exact=True)


def test_recording_councils_does_not_change_a_batched_run(scenario):
    recorded = DivestmentModel(scenario, seeds=SEEDS[:3], record_councils=True).run()
    bare = DivestmentModel(scenario, seeds=SEEDS[:3], record_councils=False).run()
    pd.testing.assert_frame_equal(recorded.national(), bare.national(), check_exact=True)
    for key, value in bare.national_columns().items():
        assert value.shape == (3, 7), key


def test_all_replications_come_with_a_batch_index(baseline):
    seeds = [4, 9, 2]
    batched = DivestmentModel(baseline.with_changes({}, end_year=2017), seeds=seeds).run()
    for table, per_seed in zip(
        frames(batched), zip(*(frames(batched, r) for r in range(3)), strict=True), strict=True
    ):
        assert table.columns[0] == "batch_index"
        expected = pd.concat(
            [f.assign(batch_index=r)[["batch_index", *f.columns]] for r, f in enumerate(per_seed)],
            ignore_index=True,
        )
        pd.testing.assert_frame_equal(table, expected, check_exact=True)
    single = DivestmentModel(baseline.with_changes({}, end_year=2017), seed=9).run()
    assert "batch_index" not in single.national().columns
    assert "batch_index" not in single.decisions_frame().columns


@pytest.mark.parametrize("seeds", [[20140904, 1], list(range(40, 50))], ids=["two", "ten"])
def test_each_replication_draws_its_own_yearly_block(baseline, seeds):
    m = DivestmentModel(baseline, seeds=seeds, record_councils=False)
    m.step()
    block = m.u.block()
    for r, seed in enumerate(seeds):
        words = Streams(seed).generator("year", 2014).bit_generator.random_raw(m.slots.n)
        np.testing.assert_array_equal(m.words[r], words)
        np.testing.assert_array_equal(block[r], YearDraws(words[None, :]).block()[0])
    assert block.shape == (len(seeds), N_DRAW_ROWS, m.slots.n)


def test_agents_are_shared_and_report_each_replication(baseline):
    m = DivestmentModel(baseline, seeds=[1, 2])
    assert len(m.agents) == 353
    suffolk = next(a for a in m.agents if a.ons_code == "E10000029")
    key = "libraries/main_libraries/0"
    assert suffolk.modes(0)[key] == suffolk.modes(1)[key] == "mutual"
    counts = [sum(mode == "legacy_trust" for a in m.agents for mode in a.modes(r).values()) for r in (0, 1)]
    alone = [DivestmentModel(baseline, seed=s) for s in (1, 2)]
    assert counts == [
        sum(mode == "legacy_trust" for a in x.agents for mode in a.modes().values()) for x in alone
    ]


def test_no_seeds_is_an_error():
    with pytest.raises(ValueError, match="seeds is empty"):
        DivestmentModel(seeds=[])


# ------------------------------------------------------------------ the batched rules
@pytest.mark.parametrize("k", [0, 1, 5, 40, 90, 200])
def test_weighted_sample_rows_draws_what_each_row_would_alone(k):
    g = np.random.default_rng(1)
    u = g.random((6, 120))
    weights = g.random((6, 120)) * (g.random((6, 120)) < 0.6)
    weights[2] = 0.0  # nothing to draw
    weights[3, 10:] = 0.0  # fewer items than k
    weights[4] = 0.001  # keys underflow to zero
    weights[5] = 0.0002  # more ties at zero than places left: each row must break them as it would alone
    drawn = rules.weighted_sample_rows(u, weights, k)
    for r in range(6):
        np.testing.assert_array_equal(np.flatnonzero(drawn[r]), rules.weighted_sample(u[r], weights[r], k))


def test_supported_mask_takes_the_candidates_of_each_entry():
    u = np.array([0.1, 0.4, 0.6, 0.3, 0.9])
    n = np.array([2, 2, 5, 5, 5])
    expected = np.r_[rules.supported_mask(u[:2], 2, 1.0), rules.supported_mask(u[2:], 5, 1.0)]
    np.testing.assert_array_equal(rules.supported_mask(u, n, 1.0), expected)
    assert rules.supported_mask(np.array([0.99]), 0, 0.0).all()


# ------------------------------------------------------------------ runners
def test_run_scenario_gives_the_same_tables_in_any_batches(baseline, monkeypatch):
    import sim.experiments.run

    scenario = baseline.with_changes({}, replications=5, end_year=2018)
    together = sim.experiments.run.run_scenario(scenario)
    monkeypatch.setattr(sim.experiments.run, "MAX_BATCH", 2)
    in_twos = sim.experiments.run.run_scenario(scenario)
    for name in ("national", "councils", "decisions"):
        pd.testing.assert_frame_equal(getattr(together, name), getattr(in_twos, name), check_exact=True)
    alone = DivestmentModel(scenario, seed=scenario.seeds()[3]).run()
    national = together.national[together.national.replication == 3].drop(columns=["replication", "seed"])
    pd.testing.assert_frame_equal(national.reset_index(drop=True), alone.national(), check_exact=True)
    decisions = together.decisions[together.decisions.replication == 3]
    assert (decisions.seed == scenario.seeds()[3]).all()
    pd.testing.assert_frame_equal(
        decisions.drop(columns=["replication", "seed"]).reset_index(drop=True),
        alone.decisions_frame(),
        check_exact=True,
    )


def test_latest_gives_the_last_national_row_of_each_replication(baseline):
    m = DivestmentModel(baseline.with_changes({}, end_year=2016), seeds=[3, 4], record_councils=False).run()
    for r in (0, 1):
        last = m.national(r).iloc[-1]
        assert {c: m.latest(c, r) for c in last.index} == last.to_dict()


def test_calibration_statistics_are_the_same_in_any_batches(baseline, monkeypatch):
    import sim.model
    from sim.evidence.calibrate import simulate

    scenario = baseline.with_changes({}, replications=3, end_year=2017)
    together = simulate(scenario, {"appraisal.high_jump": 1.2})
    monkeypatch.setattr(sim.model, "MAX_BATCH", 1)
    assert simulate(scenario, {"appraisal.high_jump": 1.2}) == together


def test_a_sweep_gives_each_run_the_rows_of_its_seed_run_alone(tmp_path):
    from pathlib import Path

    from sim.experiments.sweep import read_runs, run_sweep, simulate
    from sim.experiments.sweep_spec import load_sweep

    sweep = load_sweep(Path(__file__).parent / "data" / "sweep_arms.toml")
    run_sweep(sweep, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    cases = sweep.cases()
    for case, replication in ((0, 0), (2, 1), (3, 2)):
        got = runs[(runs.case == case) & (runs.replication == replication)]
        scenario = sweep.base.with_changes(cases[case].changes)
        alone = pd.DataFrame(simulate(scenario, sweep.seeds()[replication]))
        pd.testing.assert_frame_equal(got[alone.columns].reset_index(drop=True), alone, check_exact=True)


def test_a_released_model_is_freed_at_once(baseline):
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.disable()  # freed by reference counting, without waiting for a full garbage collection
    try:
        m = DivestmentModel(
            baseline.with_changes({}, end_year=2016), seeds=[1, 2], record_councils=False
        ).run()
        columns, ref = m.national_columns(), weakref.ref(m)
        m.release()
        del m
        assert ref() is None
        assert columns["n_mutuals"].shape == (2, 3)
    finally:
        if enabled:
            gc.enable()


@pytest.mark.parametrize("case", range(40))
def test_grouped_weighted_sample_draws_what_the_full_computation_draws(case):
    from sim.model.sampling import weighted_sample_rows_grouped

    rng = np.random.default_rng(case)
    R, n, G = 6, int(rng.integers(5, 400)), int(rng.integers(1, 4))
    groups = rng.integers(0, G, n)
    u = rng.random((R, n))
    if case % 4 == 0:  # coarse uniforms: ties among keys
        u = np.round(u, 2)
    counts = rng.integers(1, 400, (R, G))
    group_weights = rng.choice([0.0, 1.0, 0.5, 0.01], G) / np.where(rng.random((R, G)) < 0.5, counts, 1)
    mask = rng.random((R, n)) < rng.uniform(0.05, 1.0)
    k = int(rng.integers(0, n // 2 + 2))
    weights = np.where(mask, group_weights[:, groups], 0.0)
    np.testing.assert_array_equal(
        weighted_sample_rows_grouped(u, group_weights, groups, mask, k),
        rules.weighted_sample_rows(u, weights, k),
    )


@pytest.mark.parametrize("exponent", [1.0, 2.0, 3.7, 57.0, 733.3, 5000.0])
def test_keys_rise_with_the_uniform_within_a_group(exponent):
    """What the grouped sample relies on: for one exponent, NumPy's power never falls as u rises."""
    u = np.sort(np.random.default_rng(1).random(200_000))
    keys = np.full(u.shape, -1.0)
    np.power(u, np.full(u.shape, exponent), out=keys, where=np.ones(u.shape, dtype=bool))
    assert (np.diff(keys) >= 0).all()
