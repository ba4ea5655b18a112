"""Calibration: runs on a tiny budget, stays in range, is reproducible, and the loss means something."""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

import pytest

from sim.cli import calibrate as cal_cli
from sim.evidence import calibrate as cal
from sim.inputs import params
from sim.inputs.scenario import ScenarioError, load_scenario, replication_seeds

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def tiny():
    """The calibration scenario with two model seeds."""
    return load_scenario(cal.DEFAULT_SCENARIO).with_changes({}, replications=2)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m sim")
    cal_cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser


def _run(out: Path, *extra: str) -> dict:
    args = _parser().parse_args(
        ["calibrate", "--trials", "8", "--replications", "2", "--out", str(out), *extra]
    )
    assert cal_cli.command(args) == 0
    return tomllib.loads(out.read_text())


@pytest.fixture(scope="module")
def two_files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("calibrate")
    _run(tmp / "a.toml", "--seed", "7", "--quiet")
    _run(tmp / "b.toml", "--seed", "7", "--quiet")
    return tmp / "a.toml", tmp / "b.toml"


@pytest.fixture(scope="module")
def two_runs(two_files):
    return tuple(tomllib.loads(f.read_text()) for f in two_files)


def test_fitted_parameters_are_uncertain_registry_entries():
    reg = params.registry()
    for key in cal.FITTED:
        assert reg[key].tag in ("uncertainty", "calibrated")
        assert reg[key].min is not None and reg[key].max is not None


def test_tiny_calibration_stays_within_registry_ranges(two_runs):
    result, _ = two_runs
    reg = params.registry()
    assert set(result["parameters"]) == set(cal.FITTED)
    for key, fit in result["parameters"].items():
        for q in ("value", "p05", "p95"):
            assert reg[key].min <= fit[q] <= reg[key].max, (key, q, fit[q])
        assert fit["p05"] <= fit["p95"]
    assert result["calibration"]["trials"] == 8
    assert result["calibration"]["seed"] == 7
    assert result["calibration"]["model_seeds"] == replication_seeds(20140904, 2)
    assert set(result["targets"]) == {t.name for t in cal.TARGETS}
    for check in result["checks_2014_stock"].values():
        assert check["simulated"] == pytest.approx(check["target"], rel=0.1)  # the local placement varies


def test_same_trials_and_seed_give_the_same_file_but_the_date(two_runs, two_files):
    assert "created_utc" in two_runs[0]["provenance"]
    first, second = (
        [line for line in f.read_text().splitlines() if "created_utc" not in line] for f in two_files
    )
    assert first == second
    assert two_runs[0]["parameters"] == two_runs[1]["parameters"]


def test_another_seed_samples_other_points(two_runs, tmp_path):
    other = _run(tmp_path / "c.toml", "--seed", "8", "--quiet")
    assert other["parameters"] != two_runs[0]["parameters"]


def test_loss_is_lower_at_the_fitted_point_than_at_a_bad_point(two_runs, tiny):
    fitted = {k: v["value"] for k, v in two_runs[0]["parameters"].items()}
    at_fit = cal.loss(cal.simulate(tiny, fitted))
    reg = params.registry()
    # no reviews at all: no decisions, no appraisals, no closures, far from every target
    bad = {**fitted, "review.rate_per_pressure": reg["review.rate_per_pressure"].min}
    assert at_fit < cal.loss(cal.simulate(tiny, bad))
    assert at_fit == pytest.approx(two_runs[0]["calibration"]["loss"], rel=1e-3)


@pytest.mark.parametrize(
    ("stats", "expected"),
    [
        (
            {
                "lg_mutual_decisions_per_year": 12,
                "appraisals_per_year": 74,
                "asc_staff_divested_first_year": 0,
                "library_points_closed_per_year": 35.6,
            },
            0,
        ),
        (
            {
                "lg_mutual_decisions_per_year": 12,
                "appraisals_per_year": 74,
                "asc_staff_divested_first_year": 4500,
                "library_points_closed_per_year": 35.6,
            },
            0,
        ),
        (
            {
                "lg_mutual_decisions_per_year": 25,
                "appraisals_per_year": 74,
                "asc_staff_divested_first_year": 0,
                "library_points_closed_per_year": 35.6,
            },
            1,
        ),
        (
            {
                "lg_mutual_decisions_per_year": 12,
                "appraisals_per_year": 74,
                "asc_staff_divested_first_year": 9000,
                "library_points_closed_per_year": 35.6,
            },
            1,
        ),
    ],
    ids=["on-target", "upper-bound-reached", "too-many-mutuals", "too-many-asc-staff"],
)
def test_loss_cases(stats, expected):
    value = cal.loss(stats)
    if expected == 0:
        assert value == pytest.approx(0, abs=1e-12)
    else:
        assert value > 1


def test_statistics_count_the_first_years_decisions(tiny):
    from sim.model import DivestmentModel

    model = DivestmentModel(tiny, seed=tiny.seed, record_councils=True).run()
    decisions = model.decisions_frame()
    stats = cal.statistics(decisions, 2014, tiny.end_year - 1)  # decisions are logged in 2014 and 2015
    appraisals = decisions[decisions["reason"].isin(["review", "proposal"])]
    assert stats["appraisals_per_year"] == len(appraisals) / 2 > 0
    national = model.national().set_index("year")
    # flows of a year are recorded on the next year's row
    assert stats["lg_mutual_decisions_per_year"] == national.loc[[2015, 2016], "new_mutual_decisions"].mean()


def test_bad_arguments_are_reported_together(tmp_path):
    args = _parser().parse_args(
        ["calibrate", "--trials", "0", "--seed", "-1", "--out", str(tmp_path / "x.toml")]
    )
    with pytest.raises(ScenarioError) as info:
        cal_cli.command(args)
    assert len(info.value.problems) == 2
    assert not (tmp_path / "x.toml").exists()


def test_shipped_calibration_file_matches_the_code():
    shipped = tomllib.loads(cal.SHIPPED.read_text())
    assert set(shipped["parameters"]) == set(cal.FITTED)
    assert {k: v["target"] for k, v in shipped["targets"].items()} == {t.name: t.value for t in cal.TARGETS}
    reg = params.registry()
    for key, fit in shipped["parameters"].items():
        assert reg[key].min <= fit["p05"] <= fit["p95"] <= reg[key].max


def test_the_held_out_patterns_are_never_targets_and_the_superseded_fit_lists_them():
    assert not {t.name for t in cal.HOLDOUT} & {target.name for target in cal.TARGETS}
    shipped = tomllib.loads((ROOT / "sim" / "data" / "calibrated.toml").read_text())["holdout"]
    assert set(shipped) == {t.name for t in cal.HOLDOUT}


@pytest.mark.xfail(
    strict=True,
    reason="the model changed after this (superseded) fit (issues 18 and 19): council adult social care "
    "staff fall 4.3% in the first year against 7.5% +- 3%; the refit is issue 20, and this strict mark "
    "must go when the defaults reproduce it again",
)
def test_patterns_held_out_of_the_fit_are_reproduced():
    """Out of sample: council ASC and library staff trends known by 2014, never fitted, within tolerance."""
    stats = cal.simulate(load_scenario(cal.DEFAULT_SCENARIO))
    for t in cal.HOLDOUT:
        assert abs(stats[t.name] - t.value) <= t.sd_log, (t.name, stats[t.name], t.value)


def test_an_interrupted_calibration_resumes_from_its_study_file(tmp_path, tiny):
    journal = tmp_path / "study.log"
    seen = []
    first = cal.calibrate(tiny, 3, 7, study_file=journal)
    assert first["calibration"]["trials"] == 3 and journal.is_file()
    again = cal.calibrate(tiny, 5, 7, progress=seen.append, study_file=journal)  # 2 more, 3 kept
    assert again["calibration"]["trials"] == 5 and len(seen) == 5
    kept = cal.calibrate(tiny, 5, 7, study_file=journal)  # nothing missing: no new trial
    assert kept["calibration"]["best_trial"] == again["calibration"]["best_trial"]
    assert kept["parameters"] == again["parameters"]
