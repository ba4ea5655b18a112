"""The council-level spending pattern of 2010-11 to 2014-15: a 2010 run beside the revenue outturn."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.evidence.spend_pattern import COLUMNS, spend_pattern
from sim.inputs.scenario import load_scenario
from sim.model import DivestmentModel

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def history():
    sc = load_scenario(SCENARIOS / "history_2010.toml").with_changes({}, replications=10, end_year=2014)
    return sc


@pytest.fixture(scope="module")
def pattern(history):
    return spend_pattern(DivestmentModel(history, seeds=history.seeds()).run()).set_index("service")


def test_the_table_has_both_services_and_every_council_that_runs_them(pattern):
    assert list(pattern.reset_index().columns) == COLUMNS
    assert pattern.loc["adult_social_care", "n_councils"] == 152
    assert pattern.loc["culture", "n_councils"] == 353


def test_the_observed_changes_are_the_outturn_of_the_real_files(pattern):
    """Real files: adult social care protected in cash 2010-11 to 2014-15, culture cut by about a fifth."""
    assert pattern.loc["adult_social_care", "observed_mean_log_change"] == pytest.approx(-0.020, abs=0.002)
    assert pattern.loc["culture", "observed_mean_log_change"] == pytest.approx(-0.199, abs=0.002)


def test_the_figures_docs_calibration_reports(pattern):
    """docs/calibration.md quotes these (10 replications from the history scenario's seed)."""
    assert pattern.loc["adult_social_care", "simulated_mean_log_change"] == pytest.approx(-0.042, abs=0.005)
    assert pattern.loc["adult_social_care", "correlation"] == pytest.approx(0.46, abs=0.02)
    assert pattern.loc["culture", "simulated_mean_log_change"] == pytest.approx(-0.197, abs=0.005)
    assert pattern.loc["culture", "correlation"] == pytest.approx(-0.01, abs=0.02)


def test_a_stronger_asc_response_cuts_asc_spend_more(history):
    strong = history.with_changes({"funding.response_asc": 0.84})
    a = spend_pattern(DivestmentModel(history, seeds=history.seeds()[:3]).run()).set_index("service")
    b = spend_pattern(DivestmentModel(strong, seeds=strong.seeds()[:3]).run()).set_index("service")
    assert (
        b.loc["adult_social_care", "simulated_mean_log_change"]
        < a.loc["adult_social_care", "simulated_mean_log_change"]
    )
    assert b.loc["culture", "simulated_mean_log_change"] == pytest.approx(
        a.loc["culture", "simulated_mean_log_change"], abs=0.01
    )


def test_a_2014_start_is_refused_with_a_clear_message():
    m = DivestmentModel(load_scenario(SCENARIOS / "baseline.toml"), seed=0)
    with pytest.raises(ValueError, match="started in 2010"):
        spend_pattern(m)
