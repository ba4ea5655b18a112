"""Lever schedules: a lever given as [[year, value], ...] takes each value from its year."""

from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.inputs.scenario import ScenarioError, load_scenario
from sim.inputs.schedules import resolve, value_at
from sim.model import DivestmentModel

ROOT = Path(__file__).resolve().parents[1]
BUDGET = "support.budget_gbp_m_per_year"


@pytest.mark.parametrize(
    ("year", "expected"), [(2012, 5.0), (2014, 5.0), (2015, 5.0), (2016, 10.0), (2030, 0.0)]
)
def test_the_value_in_force_is_the_last_entry_at_or_before_the_year(year, expected):
    schedule = [[2014, 5.0], [2016, 10.0], [2018, 0.0]]
    assert value_at(schedule, year) == expected
    assert resolve({BUDGET: schedule, "other": 1}, year) == {BUDGET: expected, "other": 1}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (BUDGET, [], "an empty schedule"),
        (BUDGET, [[2016, 5.0], [2014, 1.0]], "does not come after"),
        (BUDGET, [[2014, 5.0], [2014, 6.0]], "does not come after"),
        (BUDGET, [[2014.5, 5.0]], "is not a financial year"),
        (BUDGET, [[1999, 5.0]], "is not a financial year"),
        (BUDGET, [[2014, -1.0]], "below the minimum"),
        (BUDGET, [[2014, float("nan")]], "not a finite number"),
        (BUDGET, [2014, 5.0], "give [year, value] pairs"),
        ("policy.duty_to_consider", [[2014, 1]], "expected bool"),
        ("outside.fail_rate_per_year", [[2014, 0.1]], "only a lever can follow a schedule"),
    ],
    ids=[
        "empty",
        "out of order",
        "repeated year",
        "fractional year",
        "too early",
        "below min",
        "nan",
        "not pairs",
        "wrong type",
        "not a lever",
    ],
)
def test_bad_schedules_are_refused_naming_the_key(baseline, key, value, message):
    with pytest.raises(ScenarioError) as info:
        baseline.with_changes({key: value})
    assert any(key in p and message in p for p in info.value.problems), info.value.problems


def test_a_schedule_is_the_same_as_the_scenario_it_spells_out(baseline):
    """Support of 5 until 2015 and none after is support ending with 2015-16: identical results."""
    ended = DivestmentModel(baseline.with_changes({"support.end_year": 2015}), seed=4).run().national()
    scheduled = baseline.with_changes({BUDGET: [[2014, 5.0], [2016, 0.0]]})
    pd.testing.assert_frame_equal(ended, DivestmentModel(scheduled, seed=4).run().national())


def test_a_later_change_leaves_the_years_before_it_untouched(baseline):
    later = baseline.with_changes({"policy.publicity": [[2014, 1.0], [2017, 3.0]]})
    a = DivestmentModel(baseline, seed=4).run().national()
    b = DivestmentModel(later, seed=4).run().national()
    early = a.year <= 2017  # decisions of 2017-18 show from the 2018 row
    pd.testing.assert_frame_equal(a[early], b[early])
    assert b.n_mutuals.iloc[-1] > a.n_mutuals.iloc[-1]


def test_a_scenario_file_and_a_sweep_arm_take_a_schedule(tmp_path):
    scenario = tmp_path / "later.toml"
    scenario.write_text(
        f'[scenario]\nname = "later"\nextends = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        f"[run]\nreplications = 2\nend_year = 2017\n"
        f'[parameters]\n"{BUDGET}" = [[2014, 5.0], [2016, 15.0]]\n'
    )
    assert load_scenario(scenario).params[BUDGET] == [[2014, 5.0], [2016, 15.0]]
    assert main(["run", str(scenario), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'[sweep]\nname = "sched"\nbase = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        'baseline_arm = "baseline"\n'
        "[run]\nend_year = 2017\nreplications = 2\nseed = 1\n[arms.baseline]\n"
        f'[arms.late_support]\n"{BUDGET}" = [[2014, 5.0], [2016, 15.0]]\n'
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sw"), "--quiet"]) == 0
    assert main(["compare", str(tmp_path / "sw")]) == 0
    effects = pd.read_csv(tmp_path / "sw" / "compare" / "effects.csv")
    staff = effects[(effects.arm == "late_support") & (effects.metric == "mutual_staff")]
    assert (staff["median"] > 0).all(), "more support from 2016 adds mutual staff by 2017"


@pytest.mark.parametrize("value", ["[false]", '[""]', "[[2014]]"])
def test_a_sweep_arm_with_a_malformed_list_is_refused_naming_the_key(tmp_path, capsys, value):
    """Found by the hostile-input test: a list that is not a schedule was coerced before being refused."""
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(
        f'[sweep]\nname = "bad"\nbase = "{ROOT / "scenarios" / "baseline.toml"}"\n'
        "[run]\nend_year = 2015\nreplications = 1\n[arms.baseline]\n"
        f'[arms.other]\n"appraisal.commercial_ramp_start" = {value}\n'
    )
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "sw"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "arms.other.appraisal.commercial_ramp_start" in err and str(sweep) in err
    assert not (tmp_path / "sw").exists()
