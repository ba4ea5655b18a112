"""Common random numbers: policy arms run with the same seed draw the same random numbers.

The model draws one block of uniforms per year from a stream keyed by (seed, year), indexed by service
slot, and draws it whole. So a lever changes what councils do with their draws, never the draws.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments.sweep import read_runs, run_sweep
from sim.experiments.sweep_spec import load_sweep
from sim.inputs.scenario import load_scenario
from sim.model import SERVICES, U_NOISE, DivestmentModel, rules
from sim.model.draws import YearDraws
from sim.model.streams import Streams

SEED = 20140904
OUTSIDE = ["n_mutuals_outside", "mutual_staff_outside", "mutual_spend_outside_gbp_m"]


@pytest.fixture(scope="module")
def baseline():
    return load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml")


def run_recording(scenario, seed, log=None):
    """Run to the end year; return the model and the block of uniforms it used each year.

    The year of each block is the year the model asked its streams for ("year", y), so the test does not
    depend on how the model numbers its steps.
    """
    model = DivestmentModel(scenario, seed=seed, record_councils=True)
    years: list[int] = []
    real = model.streams.generator

    def spy(name, year, **options):
        if name == "year":
            years.append(year)
            if log is not None:
                log.append(("year", year))
        return real(name, year, **options)

    model.streams.generator = spy
    blocks = {}
    while model.year < model.end_year:
        model.step()
        blocks[years[-1]] = model.u.block()[0]  # replication 0 of (R, N_DRAW_ROWS, n_slots)
    return model, blocks


def test_yearly_blocks_depend_only_on_seed_and_year(baseline):
    arms = {
        "baseline": baseline.with_changes({}, end_year=2018),
        "more_support_no_mutuals": baseline.with_changes(
            {"support.budget_gbp_m_per_year": 20.0, "policy.allow_mutual": False}, end_year=2018
        ),
    }
    blocks = {name: run_recording(sc, SEED)[1] for name, sc in arms.items()}
    assert (
        len(blocks["baseline"]) == 4 and blocks["baseline"].keys() == blocks["more_support_no_mutuals"].keys()
    )
    n = DivestmentModel(arms["baseline"], seed=SEED).slots.n
    for year in blocks["baseline"]:
        words = Streams(SEED).generator("year", year).bit_generator.random_raw(n)
        expected = YearDraws(words[None, :]).block()[0]
        for name in arms:
            np.testing.assert_array_equal(blocks[name][year], expected, err_msg=f"{name} {year}")
    other = run_recording(arms["baseline"], SEED + 1)[1]
    year = min(other)
    assert not np.array_equal(other[year], blocks["baseline"][year])


def test_banning_mutuals_leaves_the_outside_series_and_2014_unchanged(baseline):
    allowed = DivestmentModel(baseline, seed=SEED, record_councils=False).run().national()
    banned_sc = baseline.with_changes({"policy.allow_mutual": False, "policy.allow_joint": False})
    banned = DivestmentModel(banned_sc, seed=SEED, record_councils=False).run().national()
    pd.testing.assert_frame_equal(allowed[OUTSIDE], banned[OUTSIDE], check_exact=True)
    pd.testing.assert_frame_equal(allowed.iloc[[0]], banned.iloc[[0]], check_exact=True)
    final_allowed, final_banned = allowed.iloc[-1], banned.iloc[-1]
    assert final_banned["mutual_staff_lg"] < final_allowed["mutual_staff_lg"]  # the lever does act
    assert banned["new_mutual_decisions"].sum() == 0 < allowed["new_mutual_decisions"].sum()


def test_a_service_gets_the_same_appraisal_noise_in_both_arms(baseline, monkeypatch):
    log: list = []
    real = rules.appraise

    def spy(**kwargs):
        log.append(("noise", kwargs["u_noise"].copy()))
        return real(**kwargs)

    monkeypatch.setattr(rules, "appraise", spy)
    noise_by_arm = {}
    for allow in (True, False):
        log.clear()
        sc = baseline.with_changes({"policy.allow_mutual": allow}, end_year=2018)
        model, blocks = run_recording(sc, SEED, log=log)
        decisions = model.decisions_frame()
        noise = {}
        year = None
        for kind, value in log:
            if kind == "year":
                year = value
                continue
            rows = decisions[(decisions.year == year) & decisions.reason.isin(["review", "proposal"])]
            slots = [
                model.slot_of(c, SERVICES.index(s), part)
                for c, s, part in zip(rows.ons_code, rows.service, rows.part, strict=True)
            ]
            assert len(slots) == len(value)
            for slot, draws in zip(slots, value, strict=True):
                np.testing.assert_array_equal(draws, blocks[year][U_NOISE : U_NOISE + rules.N_OPTIONS, slot])
                noise[(year, slot)] = draws
        noise_by_arm[allow] = noise
    common = set(noise_by_arm[True]) & set(noise_by_arm[False])
    assert len(common) > 50
    for key in common:
        np.testing.assert_array_equal(noise_by_arm[True][key], noise_by_arm[False][key])


def test_arms_agree_until_the_lever_acts(baseline):
    changes = {"policy.duty_to_consider": True, "policy.duty_from_year": 2017}
    a = DivestmentModel(baseline, seed=SEED).run()
    b = DivestmentModel(baseline.with_changes(changes), seed=SEED).run()
    before = slice(0, 2017 - 2014)  # rows 2014, 2015 and 2016
    pd.testing.assert_frame_equal(a.national().iloc[before], b.national().iloc[before], check_exact=True)
    for key in ("mode", "staff", "spend", "provider"):
        np.testing.assert_array_equal(a.history[key][before], b.history[key][before])


def test_sweep_arms_share_seeds_and_their_first_year(tmp_path):
    sweep = load_sweep(Path(__file__).parent / "data" / "sweep_arms.toml")
    run_sweep(sweep, tmp_path / "out", workers=1)
    runs = read_runs(tmp_path / "out")
    assert (runs.groupby("replication")["seed"].nunique() == 1).all()
    outputs = [c for c in runs.columns if c not in {"run_id", "case", "arm_index", "arm", *sweep.varied}]
    first = runs[runs.year == 2014]
    per_rep = first.groupby("replication")[outputs].nunique()
    assert (per_rep == 1).all().all(), per_rep.loc[:, (per_rep > 1).any()]
