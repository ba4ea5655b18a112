"""Sweeps that say what to measure ([metrics]), Morris screening, Sobol second order and convergence."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import compare
from sim.experiments.sweep import read_runs, run_sweep
from sim.experiments.sweep_spec import load_sweep
from sim.inputs.scenario import ScenarioError

ROOT = Path(__file__).resolve().parent.parent
BASE = ROOT / "scenarios" / "baseline.toml"
HEAD = f'[sweep]\nbase = "{BASE}"\n[run]\nend_year = 2016\nreplications = 2\nseed = 3\n'
METRICS = """
[metrics]
mutual_staff = "mutual staff"
lg_staff_2015 = { column = "mutual_staff_lg@2015", label = "LG mutual staff in 2015" }
lg_share = { ratio = ["mutual_staff_lg", "mutual_staff"], label = "local government's share" }
added = { difference = ["mutual_staff", "mutual_staff@2014"] }
"""
ARMS = '[arms.baseline]\n[arms.support]\n"support.budget_gbp_m_per_year" = 20.0\n'


@pytest.fixture(scope="module")
def metrics_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("metrics")
    (folder / "s.toml").write_text(HEAD + ARMS + METRICS)
    run_sweep(load_sweep(folder / "s.toml"), folder / "out", workers=1)
    return folder / "out"


def test_a_sweep_s_own_metrics_are_compared(metrics_dir):
    res = compare.load(metrics_dir)
    assert list(res.metrics) == ["mutual_staff", "lg_staff_2015", "lg_share", "added"]
    effects = compare.paired_effects(res)
    assert set(effects.metric) == set(res.metrics)
    raw = read_runs(metrics_dir).set_index(["run_id", "year"])
    run_id = res.runs.run_id.iloc[0]
    row = res.runs[(res.runs.run_id == run_id) & (res.runs.year == 2016)].iloc[0]
    assert row.lg_share == pytest.approx(
        raw.loc[(run_id, 2016), "mutual_staff_lg"] / raw.loc[(run_id, 2016), "mutual_staff"]
    )
    assert row.lg_staff_2015 == pytest.approx(raw.loc[(run_id, 2015), "mutual_staff_lg"])
    assert row.added == pytest.approx(
        raw.loc[(run_id, 2016), "mutual_staff"] - raw.loc[(run_id, 2014), "mutual_staff"]
    )
    levels = compare.outcomes(res)
    assert "lg_share_median" in levels.columns


def test_compare_writes_the_sweep_s_metrics(metrics_dir, tmp_path):
    assert main(["compare", str(metrics_dir), "--out", str(tmp_path / "c")]) == 0
    effects = pd.read_csv(tmp_path / "c" / "effects.csv")
    assert set(effects.metric) == {"mutual_staff", "lg_staff_2015", "lg_share", "added"}


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ('x = { column = "mutual_staf" }', "mutual_staff"),
        ('x = { ratio = ["mutual_staff"] }', "two operands"),
        ('x = { column = "mutual_staff@1999" }', "the year after @"),
        ('x = { column = "mutual_staff", ratio = ["a", "b"] }', "exactly one of"),
    ],
    ids=["unknown column", "one operand", "bad year", "two kinds"],
)
def test_bad_metrics_name_the_file_and_key(tmp_path, table, expected):
    (tmp_path / "s.toml").write_text(HEAD + ARMS + "[metrics]\n" + table + "\n")
    with pytest.raises(ScenarioError) as err:
        load_sweep(tmp_path / "s.toml")
    (problem,) = err.value.problems
    assert "s.toml" in problem and "metrics.x" in problem and expected in problem


MORRIS = """
[design]
kind = "morris"
samples = 6
seed = 4
[factors]
"review.rate_per_pressure" = { min = 0.1, max = 1.0 }
"appraisal.high_jump" = "plausible"
"outside.staff_growth_per_year" = { min = 0.0, max = 0.08 }
"""


def test_morris_screening(tmp_path):
    (tmp_path / "m.toml").write_text(HEAD.replace("replications = 2", "replications = 1") + MORRIS)
    sw = load_sweep(tmp_path / "m.toml")
    assert sw.n_points == 6 * (3 + 1)
    run_sweep(sw, tmp_path / "out", workers=1)
    assert main(["compare", str(tmp_path / "out"), "--out", str(tmp_path / "c")]) == 0
    morris = pd.read_csv(tmp_path / "c" / "morris.csv")
    assert len(morris) == 3 * 3 and np.isfinite(morris[["mu_star", "mu", "sigma"]].to_numpy()).all()
    count = morris[morris.metric == "n_mutuals"].set_index("parameter")
    assert count.loc["outside.staff_growth_per_year", "mu_star"] == 0.0  # staff growth cannot add mutuals
    assert (morris[morris.metric == "mutual_staff"].mu_star > 0).any()
    assert "## Morris screening" in (tmp_path / "c" / "report.md").read_text()


def test_sobol_reports_second_order_and_a_convergence_check(tmp_path):
    data = (ROOT / "tests" / "data" / "sweep_sobol.toml").read_text()
    (tmp_path / "s.toml").write_text(data.replace("../../scenarios/baseline.toml", str(BASE)))
    run_sweep(load_sweep(tmp_path / "s.toml"), tmp_path / "out", workers=1)
    res = compare.load(tmp_path / "out")
    indices = compare.sobol_indices(res)
    assert {"S1_half", "ST_half", "ST_change", "converged"} <= set(indices.columns)
    assert np.isfinite(indices[["S1_half", "ST_half", "ST_change"]].to_numpy()).all()
    assert indices.converged.dtype == bool
    count = indices[indices.metric == "n_mutuals"].set_index("parameter")
    assert count.loc["outside.staff_growth_per_year", "ST_change"] == 0.0
    assert main(["compare", str(tmp_path / "out"), "--out", str(tmp_path / "c")]) == 0
    s2 = pd.read_csv(tmp_path / "c" / "sobol_s2.csv")
    assert len(s2) == 3 * 3  # three pairs of three parameters, for three metrics
    assert np.isfinite(s2[["S2", "S2_conf"]].to_numpy()).all()
    report = (tmp_path / "c" / "report.md").read_text()
    assert "Second-order indices" in report and "N/2" in report
