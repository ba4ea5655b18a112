"""A run from the state of 2010-11: the starting state, the 2010-2014 history and the year checks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.inputs.councils import load_england
from sim.inputs.scenario import ScenarioError, load_scenario
from sim.model import DivestmentModel, prices
from sim.model.slots import ASC, LIBRARIES
from sim.model.stages import appraisal, outside

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def history():
    return load_scenario(SCENARIOS / "history_2010.toml")


@pytest.fixture(scope="module")
def run_2010(history):
    sc = history.with_changes({}, replications=6, end_year=2016)
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    return m, m.national()


def test_the_history_scenario_starts_in_2010_and_the_baseline_in_2014(history):
    assert history.start_year == 2010
    assert load_scenario(SCENARIOS / "baseline.toml").start_year == 2014


def test_the_2010_state_has_the_2010_mutuals_and_nothing_of_2011_to_2014(run_2010):
    m, n = run_2010
    first = n[n.year == 2010]
    assert (first.n_mutuals == 9).all() and (first.n_mutuals_lg == 0).all() and (first.n_latcs == 0).all()
    assert (first.n_pending == 0).all()
    assert (first.mutual_staff == 9 * m.p["init.staff_per_mutual_2010"]).all()
    legacy = first.units_leisure_legacy_trust / first.filter(like="units_leisure_").sum(axis=1)
    assert legacy.mean() == pytest.approx(m.p["init.share_leisure_legacy_trust_2010"], abs=0.06)


def test_2010_spend_is_each_councils_outturn_of_2010_11():
    """Real files: a part's 2010 spend is its 2014 spend times its council's outturn ratio for the service."""
    sc = load_scenario(SCENARIOS / "history_2010.toml").with_changes({}, replications=1)
    m = DivestmentModel(sc, seed=0)
    s, eng = m.slots, load_england().councils
    council_2010 = pd.Series(m.spend[0]).groupby([s.council, s.service]).sum()
    council_2014 = pd.Series(s.spend).groupby([s.council, s.service]).sum()
    ratio = council_2010 / council_2014
    for i in eng.index[eng.asc_spend_gbp_m > 0][:5]:
        expected = eng.asc_spend_2010_gbp_m[i] / eng.asc_spend_gbp_m[i]
        assert ratio[(i, ASC)] == pytest.approx(expected)
    total = pd.Series(m.spend[0]).groupby(s.service).sum()
    # adult social care was protected in cash (about flat), culture cut by about a fifth, 2010-11 to 2014-15
    assert total[ASC] / s.spend[s.service == ASC].sum() == pytest.approx(1.0, abs=0.05)
    assert s.spend[s.service == LIBRARIES].sum() / total[LIBRARIES] == pytest.approx(0.82, abs=0.05)


def test_the_right_to_request_wave_is_live_by_2012_and_then_nothing_is_pending(history):
    sc = history.with_changes(
        {
            "outside.fail_rate_per_year": 0.0,
            "outside.p_lose_retender": 0.0,
            "outside.p_merge_per_year": 0.0,
            "outside.right_to_provide": False,
            "outside.central_programme": False,
        },
        replications=4,
        end_year=2014,
    )
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    n = m.national()
    wave = sc.params["outside.rtr_pending_2010"]
    by_year = n.groupby("year").n_mutuals_outside
    assert (by_year.min().loc[2012:] == 9 + wave).all() and (by_year.max().loc[2012:] == 9 + wave).all()
    assert len(by_year.min().loc[2012:]) == 3
    assert 9 < by_year.mean()[2011] < 9 + wave  # a share in 2011, the rest in 2012
    assert m.o_alive[:, m.o_origin == outside.RIGHT_TO_REQUEST].all()


def test_no_support_is_funded_before_the_programme_began(history):
    p = history.params
    assert appraisal.support_budget(p, 2010) == 0 and appraisal.support_budget(p, 2011) == 0
    assert appraisal.support_budget(p, 2012) == p["support.budget_gbp_m_per_year"]
    assert outside.birth_rate(p, 2011) == p["outside.new_mutuals_per_year_unsupported"]


def test_2010_has_no_budget_pressure_and_no_reviews(history):
    sc = history.with_changes({"proposals.rate_per_year": 0.0}, replications=3, end_year=2011)
    m = DivestmentModel(sc, seeds=sc.seeds()).run()
    assert len(m.decisions_frame()) == 0


def test_a_2010_batch_gives_each_replication_as_it_runs_alone(history):
    sc = history.with_changes({}, replications=3, end_year=2015)
    batch = DivestmentModel(sc, seeds=sc.seeds()).run()
    for r, seed in enumerate(sc.seeds()):
        alone = DivestmentModel(sc, seed=seed).run().national()
        pd.testing.assert_frame_equal(batch.national(r=r), alone)


def test_the_2010_history_grows_mutuals_and_cuts_council_staff(run_2010):
    _, n = run_2010
    mean = n.groupby("year").mean(numeric_only=True)
    assert mean.n_mutuals[2014] > mean.n_mutuals[2010]
    assert mean.n_mutuals_lg[2016] > 0
    assert mean.council_staff_libraries[2014] < mean.council_staff_libraries[2010]
    assert (mean.new_mutual_decisions.loc[2012:] > 0).any()


@pytest.mark.parametrize(
    ("run", "message"),
    [
        ("start_year = 2012", "run.start_year: 2012 is not a starting state; allowed: [2010, 2014]"),
        ("start_year = 2014\nend_year = 2014", "run.end_year: 2014 must be after run.start_year 2014"),
        ("start_year = 2009", "run.start_year: 2009 is outside [2010, 2014]"),
        ('start_year = "2010"', "run.start_year: expected int, got str '2010'"),
    ],
)
def test_bad_start_years_are_refused_naming_the_file_and_key(tmp_path, run, message):
    f = tmp_path / "bad.toml"
    f.write_text(f"[run]\n{run}\n")
    with pytest.raises(ScenarioError) as e:
        load_scenario(f)
    assert e.value.problems == [f"{f.resolve()}: {message}"]


def test_support_places_are_taken_only_while_a_programme_runs(history):
    sc = history.with_changes({}, replications=6, end_year=2018)
    n = DivestmentModel(sc, seeds=sc.seeds()).run().national()
    by_year = n.groupby("year").new_supported.sum()  # the flows of year y are recorded in the row of y + 1
    assert (by_year.loc[:2012] == 0).all(), "no support before the programme began in 2012"
    assert by_year.loc[2013:2017].sum() > 0
    assert (by_year.loc[2018:] == 0).all(), "none once it ended (support.end_year = 2016)"
    assert (n.new_supported <= n.new_mutual_decisions).all()
    never = sc.with_changes(
        {"support.budget_gbp_m_per_year": 0.0, "support.delivering_differently_gbp_m": 0.0}
    )
    assert (DivestmentModel(never, seeds=never.seeds()).run().national().new_supported == 0).all()


def test_run_start_year_flag_starts_from_2010_and_a_bad_one_writes_nothing(tmp_path, capsys):
    from sim.cli.main import main

    out = tmp_path / "from2010"
    root = Path(__file__).resolve().parent.parent
    args = ["run", str(root / "scenarios" / "baseline.toml"), "--replications", "2", "--quiet"]
    assert main([*args, "--start-year", "2010", "--end-year", "2014", "--out", str(out)]) == 0
    national = pd.read_csv(out / "national.csv")
    assert national.year.min() == 2010 and national.year.max() == 2014
    assert (national[national.year == 2010].n_mutuals_lg == 0).all()  # nothing of 2011-2014 written in
    bad = tmp_path / "bad"
    assert main([*args, "--start-year", "2012", "--out", str(bad)]) == 2
    assert "--start-year: 2012 is not a starting state" in capsys.readouterr().err
    assert not bad.exists()


@pytest.mark.parametrize("start", [2010, 2014])
def test_what_a_post_costs_follows_the_price_index_not_budget_pressure(start):
    """Outside spend per staff, held contracts unchanged, moves with the pay and price index alone."""
    sc = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml")
    quiet = {
        "outside.fail_rate_per_year": 0.0,
        "outside.p_lose_retender": 0.0,
        "outside.p_merge_per_year": 0.0,
        "outside.staff_growth_per_year": 0.0,
        "outside.right_to_provide": False,
        "outside.central_programme": False,
        "outside.rtr_pending_2010": 0,
        "outside.commissioner_change_per_year": 0.0,
    }
    ratios = []
    for growth in (0.03, 0.0):
        changes = {**quiet, "funding.cost_growth_per_year": growth}
        m = DivestmentModel(sc.with_changes(changes, start_year=start, end_year=start + 4), seeds=[3]).run()
        nat = m.national()
        ratio = (nat.mutual_spend_outside_gbp_m / nat.mutual_staff_outside).to_numpy()
        index = np.array([prices.index(m.p, y) for y in nat.year])
        np.testing.assert_allclose(ratio[1:] / ratio[:-1], index[1:] / index[:-1], rtol=1e-9)
        ratios.append(ratio)
    np.testing.assert_allclose(ratios[0], ratios[1], rtol=1e-12)  # budget pressure is not a price
