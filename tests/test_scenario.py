"""Scenario files: variants resolve against the baseline; bad input is rejected with every problem named."""

from pathlib import Path

import pytest

from sim.inputs.scenario import ScenarioError, load_scenario, replication_seeds

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def write(tmp_path: Path, text: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value.problems


def test_baseline_has_no_changes(baseline):
    assert baseline.changes == {}
    assert baseline.end_year == 2020
    assert baseline.seeds()[:2] == replication_seeds(baseline.seed, 2)
    assert len(set(baseline.seeds())) == baseline.replications


def test_variant_is_a_small_difference_from_the_baseline(baseline):
    variant = load_scenario(SCENARIOS / "no_support_after_2015.toml")
    assert variant.changes == {"support.end_year": 2015}
    differing = {k for k in baseline.params if baseline.params[k] != variant.params[k]}
    assert differing == {"support.end_year"}
    assert variant.seed == baseline.seed and variant.replications == baseline.replications


def test_nested_parameter_tables_are_flattened():
    variant = load_scenario(SCENARIOS / "mutual_friendly_government.toml")
    assert variant.params["support.extra_budget_gbp_m_per_year"] == 5.0
    assert variant.params["policy.duty_to_consider"] is True


def test_all_problems_reported_at_once_naming_file_and_key(tmp_path):
    path = write(
        tmp_path,
        """
[scenario]
name = "bad"
colour = "red"
[run]
replications = 0
seeds = 3
[parameters]
"support.budget_gbp_m_per_yer" = 5.0
"policy.simplification" = 1.5
"policy.duty_to_consider" = "yes"
[extra]
x = 1
""",
    )
    problems = problems_of(path)
    text = "\n".join(problems)
    assert len(problems) == 7, text
    assert all(str(path) in p for p in problems)
    for key in (
        "scenario.colour",
        "run.replications",
        "run.seeds",
        "support.budget_gbp_m_per_yer",
        "policy.simplification",
        "policy.duty_to_consider",
        "extra",
    ):
        assert key in text
    assert "did you mean support.budget_gbp_m_per_year" in text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[parameters]\n"contract.length_years" = 2.5\n', "expected int"),
        ('[parameters]\n"funding.path" = "steep"\n', "not one of"),
        ("[run]\nend_year = 2014\n", "run.end_year"),
        ("[parameters\n", "not valid TOML"),
        ('[scenario]\nextends = "missing.toml"\n', "file not found"),
        ('[parameters]\n"funding.path" = "file"\n', "funding.path_file: required"),
        ('[parameters]\n"funding.path" = "file"\n"funding.path_file" = "nope.csv"\n', "file not found"),
    ],
    ids=[
        "float for int",
        "bad choice",
        "end year too early",
        "malformed",
        "missing extends",
        "file path needed",
        "missing path file",
    ],
)
def test_bad_input_is_rejected(tmp_path, text, fragment):
    problems = problems_of(write(tmp_path, text))
    assert any(fragment in p for p in problems), problems


def test_missing_file(tmp_path):
    problems = problems_of(tmp_path / "nope.toml")
    assert problems == [f"{(tmp_path / 'nope.toml')}: file not found"]


def test_extends_cycle_is_an_error(tmp_path):
    write(tmp_path, '[scenario]\nextends = "b.toml"\n', "a.toml")
    write(tmp_path, '[scenario]\nextends = "a.toml"\n', "b.toml")
    assert any("cycle" in p for p in problems_of(tmp_path / "a.toml"))


def test_with_changes_is_checked(baseline):
    with pytest.raises(ScenarioError, match="unknown parameter"):
        baseline.with_changes({"nope.nope": 1})
    with pytest.raises(ScenarioError, match="run.replications"):
        baseline.with_changes({}, replications=-1)


def test_funding_path_file_is_used_and_checked(tmp_path):
    import numpy as np

    from sim.model import DivestmentModel

    (tmp_path / "path.csv").write_text(
        "ons_code,year,cash_change\nE10000029,2016,-0.5\nE10000029,2017,-0.5\n"
    )
    path = write(tmp_path, '[parameters]\n"funding.path" = "file"\n"funding.path_file" = "path.csv"\n')
    scenario = load_scenario(path)
    m = DivestmentModel(scenario, seed=0)
    i = m.england.index_of("E10000029")
    assert m.funding[i, 2016 - 2011] == -0.5 and m.funding[i, 2017 - 2011] == -0.5
    other = m.england.index_of("E10000020")
    np.testing.assert_allclose(m.funding[other, :9], m.england.funding_change[other])

    (tmp_path / "path.csv").write_text("ons_code,year,cash_change\nE99999999,2016,x\n")
    problems = problems_of(path)
    assert any("unknown ONS codes" in p for p in problems) and any("non-numeric" in p for p in problems)
    assert all("parameters.funding.path_file" in p for p in problems)
