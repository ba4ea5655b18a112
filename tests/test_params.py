"""The parameter registry: every default carries a unit, a range, a tag and a source."""

import re

import pytest

from sim.inputs.params import TAGS, registry

SPECS = list(registry().values())


@pytest.mark.parametrize("spec", SPECS, ids=[s.key for s in SPECS])
def test_every_parameter_has_unit_source_tag_and_valid_default(spec):
    assert spec.unit.strip()
    assert spec.description.strip()
    assert spec.tag in TAGS
    source = spec.source.lower()
    assert re.search(
        r"calibration\.md|assumption|calibrated|nao|cabinet office|hscic|cipfa|sporta|source article|data",
        source,
    ), spec.source
    assert spec.check(spec.default) is None
    if spec.kind in (int, float):
        assert spec.min is not None and spec.max is not None and spec.min <= spec.default <= spec.max


def test_levers_and_uncertainties_both_exist():
    tags = {s.tag for s in SPECS}
    assert {"lever", "uncertainty", "constant"} <= tags


@pytest.mark.parametrize(
    ("key", "value", "ok"),
    [
        ("support.budget_gbp_m_per_year", 5, True),
        ("support.budget_gbp_m_per_year", -1.0, False),
        ("support.budget_gbp_m_per_year", "5", False),
        ("policy.duty_to_consider", True, True),
        ("policy.duty_to_consider", 1, False),
        ("contract.length_years", 5.5, False),
        ("funding.path", "flat", True),
        ("funding.path", "steep", False),
    ],
    ids=[
        "int for float",
        "below min",
        "string for float",
        "bool",
        "int for bool",
        "float for int",
        "choice",
        "bad choice",
    ],
)
def test_value_checks(key, value, ok):
    assert (registry()[key].check(value) is None) == ok


def test_no_default_is_calibrated_from_a_start_that_never_reads_it():
    """A default taken from the 2010 posterior's point is read by a 2010 start; the state of 2014 is not.

    A 2010 start never reads ``outside.cohort_2014``, ``init.n_lg_pipeline_2014`` and the rest of the
    state of 2014: a particle's value for them is a draw from the prior. They keep their own sources.
    """
    import tomllib

    from sim.evidence.point import unread
    from sim.evidence.settings import ABC_SCENARIO
    from sim.inputs.councils import data_path
    from sim.inputs.scenario import load_scenario

    point = tomllib.loads(data_path("calibrated_2010.toml").read_text())
    listed = point["unread"]["parameters"]
    scenario = load_scenario(ABC_SCENARIO)
    assert unread(scenario, [*point["parameters"], *listed]) == listed
    assert {"outside.cohort_2014", "init.n_lg_pipeline_2014", "init.n_latc_2014"} <= set(listed)
    reg = registry()
    for key in listed:
        assert reg[key].tag != "calibrated" and not reg[key].source.startswith("calibrated"), key


def test_calibrated_defaults_agree_with_the_calibration_files():
    """Each default citing a calibration file carries that file's value; the ABC point supersedes Optuna's."""
    import tomllib

    from sim.inputs.councils import data_path

    optuna = tomllib.loads(data_path("calibrated.toml").read_text())["parameters"]
    point = tomllib.loads(data_path("calibrated_2010.toml").read_text())["parameters"]
    reg = registry()
    cites_point = {s.key for s in SPECS if s.source.startswith("calibrated: ABC-SMC from 2010")}
    assert cites_point == set(point)
    for key, value in point.items():
        assert reg[key].tag == "calibrated"
        assert reg[key].default == pytest.approx(value, rel=1e-12)
    cites_optuna = {s.key for s in SPECS if "calibrated.toml" in s.source.split(";")[0]}
    assert cites_optuna <= set(optuna)
    for key in cites_optuna:
        assert reg[key].tag == "calibrated"
        assert reg[key].default == pytest.approx(optuna[key]["value"])
    assert set(optuna) <= cites_optuna | set(point)  # every Optuna fit is a default or superseded
