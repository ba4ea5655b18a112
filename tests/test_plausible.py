"""Plausible ranges, constraints between parameters, and numpy scalars in the registry."""

from pathlib import Path

import numpy as np
import pytest

from sim.experiments.sweep import read_failures, read_runs, run_sweep
from sim.experiments.sweep_spec import load_sweep
from sim.inputs import params
from sim.inputs.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent

SAMPLED = [s for s in params.registry().values() if s.tag in params.SAMPLED_TAGS]


@pytest.mark.parametrize("spec", SAMPLED, ids=[s.key for s in SAMPLED])
def test_every_uncertainty_has_a_plausible_range_within_its_bounds_with_a_reason(spec):
    if spec.kind is str and spec.choices is None:
        assert spec.plausible is None  # a free text value (a file path) is not sampled
        return
    assert spec.plausible is not None and spec.plausible_source.strip(), (
        f"{spec.key}: an {spec.tag} parameter needs plausible = [low, high] and plausible_source (a reason) "
        "in sim/inputs/parameters.toml: designs and the EMA adapter sample it over that range"
    )
    assert spec.plausible_source.startswith(("assumption", "calibrated"))
    if spec.choices is not None:
        assert set(spec.plausible) <= set(spec.choices)
        assert spec.default in spec.plausible
    else:
        lo, hi = spec.plausible
        assert spec.min <= lo < hi <= spec.max
        assert lo <= spec.default <= hi
        assert all(spec.check(v) is None for v in (lo, hi))


def test_defaults_obey_every_constraint():
    assert params.constraints()
    assert params.check_constraints(params.defaults()) == []


def test_plausible_ranges_cannot_break_a_constraint():
    reg = params.registry()
    for c in params.constraints():
        if c.op in ("<=", "<") and isinstance(c.right, str):
            worst = {**{k: reg[k].plausible[1] for k in c.left}, c.right: reg[c.right].plausible[0]}
            assert c.holds(worst), c.rule
        if c.op in (">", ">=") and not isinstance(c.right, str):
            assert c.holds({k: reg[k].plausible[0] for k in c.left}), c.rule


def test_a_scenario_breaking_a_constraint_names_the_file_and_keys(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[parameters]\n"outside.new_mutuals_per_year" = 1.0\n'
        '"outside.new_mutuals_per_year_unsupported" = 4.0\n'
    )
    with pytest.raises(ScenarioError) as err:
        load_scenario(bad)
    (problem,) = err.value.problems
    assert "bad.toml" in problem and "outside.new_mutuals_per_year_unsupported" in problem
    with pytest.raises(ScenarioError):
        load_scenario(ROOT / "scenarios/baseline.toml").with_changes({"outside.new_mutuals_per_year": 0.5})


def test_a_sweep_whose_points_break_a_constraint_is_refused(tmp_path):
    sweep = tmp_path / "s.toml"
    sweep.write_text(
        f'[sweep]\nbase = "{ROOT / "scenarios/baseline.toml"}"\n[run]\nreplications = 1\nseed = 1\n'
        '[design]\nkind = "lhs"\nsamples = 8\n'
        '[factors]\n"outside.new_mutuals_per_year" = { min = 0.0, max = 5.0 }\n'
        '"outside.new_mutuals_per_year_unsupported" = { min = 0.0, max = 5.0 }\n'
    )
    with pytest.raises(ScenarioError) as err:
        load_sweep(sweep)
    assert "does not hold" in err.value.problems[0] and "s.toml" in err.value.problems[0]


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("review.min_years_between", np.int64(4), 4),
        ("appraisal.high_jump", np.float64(3.5), 3.5),
        ("appraisal.high_jump", np.int32(3), 3.0),
        ("policy.duty_to_consider", np.bool_(True), True),
        ("funding.path", np.str_("flat"), "flat"),
    ],
    ids=["int64", "float64", "int32 for float", "bool_", "str_"],
)
def test_numpy_scalars_are_accepted_and_stored_as_python_values(key, value, expected):
    spec = params.registry()[key]
    assert spec.check(value) is None
    scenario = load_scenario(ROOT / "scenarios/baseline.toml").with_changes({key: value})
    stored = scenario.params[key]
    assert stored == expected and type(stored) is type(expected)


def test_numpy_scalars_are_still_checked():
    spec = params.registry()["review.min_years_between"]
    assert spec.check(np.float64(3.0)) is not None
    assert params.registry()["policy.duty_to_consider"].check(np.int64(1)) is not None


def test_an_lhs_over_every_uncertainty_at_its_plausible_range_runs_without_a_failure(tmp_path):
    sweep = tmp_path / "lhs.toml"
    sweep.write_text(
        f'[sweep]\nbase = "{ROOT / "scenarios/baseline.toml"}"\n[run]\nend_year = 2016\nreplications = 1\n'
        'seed = 1\n[design]\nkind = "lhs"\nsamples = 24\nseed = 5\nuncertainties = "plausible"\n'
    )
    sw = load_sweep(sweep)
    assert {s.key for s in SAMPLED if s.plausible is not None} <= set(sw.varied)
    run_sweep(sw, tmp_path / "out", workers=1)
    assert len(read_failures(tmp_path / "out")) == 0
    runs = read_runs(tmp_path / "out")
    assert runs.run_id.nunique() == 24 and (runs.mutual_staff > 0).all()


def test_a_factor_can_take_its_plausible_range(tmp_path):
    sweep = tmp_path / "f.toml"
    sweep.write_text(
        f'[sweep]\nbase = "{ROOT / "scenarios/baseline.toml"}"\n[run]\nreplications = 1\nseed = 1\n'
        '[design]\nkind = "lhs"\nsamples = 4\n[factors]\n"appraisal.high_jump" = "plausible"\n'
        '"contract.length_years" = "plausible"\n'
    )
    factors = {f.key: f for f in load_sweep(sweep).design.factors}
    reg = params.registry()
    high_jump, length = reg["appraisal.high_jump"].plausible, reg["contract.length_years"].plausible
    assert (factors["appraisal.high_jump"].low, factors["appraisal.high_jump"].high) == high_jump
    assert factors["contract.length_years"].levels == tuple(range(length[0], length[1] + 1))


def test_calibrated_ranges_follow_the_last_calibration():
    import tomllib

    from sim.inputs.councils import data_path

    fitted = tomllib.loads(data_path("calibrated.toml").read_text())["parameters"]
    reg = params.registry()
    for key, entry in fitted.items():
        lo, hi = reg[key].plausible
        assert lo == pytest.approx(min(entry["accepted_min"], reg[key].default))
        assert hi == pytest.approx(max(entry["accepted_max"], reg[key].default))
        assert reg[key].plausible_source == params.CALIBRATED_SOURCE
