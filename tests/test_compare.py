"""Comparing a sweep's arms: paired effects, outcomes, figures, Sobol indices and the report."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import compare
from sim.experiments.sweep import read_runs, run_sweep
from sim.experiments.sweep_spec import load_sweep
from sim.inputs import params

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def arms_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "arms"
    run_sweep(load_sweep(DATA / "sweep_arms.toml"), out, workers=1)
    return out


@pytest.fixture(scope="module")
def sobol_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "sobol"
    run_sweep(load_sweep(DATA / "sweep_sobol.toml"), out, workers=1)
    return out


def test_an_arm_identical_to_the_baseline_has_exactly_zero_effect(arms_dir):
    effects = compare.paired_effects(compare.load(arms_dir))
    copy = effects[effects.arm == "baseline_copy"]
    assert len(copy) == 3 and (copy.n_pairs == 3).all()
    assert (copy[["median", "p05", "p95", "mean"]] == 0.0).all().all()
    assert set(effects.arm) == {"baseline_copy", "simplification", "publicity"}  # not the baseline itself


def test_effects_are_differences_paired_by_seed(arms_dir):
    runs = read_runs(arms_dir)
    final = runs[runs.year == 2016].set_index("replication")
    diff = final[final.arm == "publicity"]["mutual_staff"] - final[final.arm == "baseline"]["mutual_staff"]
    row = compare.paired_effects(compare.load(arms_dir)).query(
        "arm == 'publicity' and metric == 'mutual_staff'"
    )
    assert row["median"].item() == pytest.approx(np.median(diff))
    assert row["p05"].item() == pytest.approx(np.quantile(diff, 0.05))
    assert row["p95"].item() == pytest.approx(np.quantile(diff, 0.95))
    assert row["changes"].item() == "policy.publicity=2.5"


def test_compare_writes_tables_figures_and_report(arms_dir):
    files = compare.write_comparison(arms_dir)
    assert files["report"].parent == arms_dir / "compare"
    for key in ("effects", "outcomes", "fan", "ranking", "report"):
        assert files[key].is_file() and files[key].stat().st_size > 0, key
    assert files["fan"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    effects = pd.read_csv(files["effects"])
    assert {"arm", "metric", "n_pairs", "median", "p05", "p95"} <= set(effects.columns)
    outcomes = pd.read_csv(files["outcomes"])
    assert outcomes.arm.tolist() == ["baseline", "baseline_copy", "simplification", "publicity"]
    report = files["report"].read_text()
    assert "](ranking.png)" in report and "](fan.png)" in report
    assert "| baseline_copy | (base scenario) | mutual_staff | 3 |" in report
    assert "lever" in report  # the varied parameters' tags


def test_factorial_points_are_compared_with_the_point_at_the_base_values(tmp_path):
    out = tmp_path / "fact"
    run_sweep(load_sweep(DATA / "sweep_factorial.toml"), out, workers=1)
    res = compare.load(out)
    column, reference, keys = res.grouping()
    assert (column, keys) == ("label", ["replication"])
    assert reference == "policy.duty_to_consider=false, policy.publicity=1.0"
    effects = compare.paired_effects(res)
    assert len(effects) == 5 * 3 and (effects.n_pairs == 2).all()


def test_sobol_indices_are_finite(sobol_dir, tmp_path):
    res = compare.load(sobol_dir)
    indices = compare.sobol_indices(res)
    assert len(indices) == 3 * len(compare.METRICS)
    values = indices[["S1", "S1_conf", "ST", "ST_conf"]].to_numpy()
    assert np.isfinite(values).all(), indices
    registry = params.registry()
    assert all(tag == registry[key].tag for key, tag in zip(indices.parameter, indices.tag, strict=True))
    count = indices[indices.metric == "n_mutuals"].set_index("parameter")
    # both factors that can change the count of mutuals rank above the one that cannot
    assert set(count["ST"].nlargest(2).index) == {"review.rate_per_pressure", "outside.new_mutuals_per_year"}
    assert (count.loc[["review.rate_per_pressure", "outside.new_mutuals_per_year"], "ST"] > 0.05).all()
    # Staff growth cannot change the number of mutuals; with common random numbers its indices are exactly 0.
    assert count.loc["outside.staff_growth_per_year", ["S1", "ST"]].tolist() == [0.0, 0.0]
    assert compare.paired_effects(res).empty  # one arm, a sampled design: nothing to pair
    assert main(["compare", str(sobol_dir), "--out", str(tmp_path / "cmp")]) == 0
    assert {"sobol.csv", "sobol.png", "report.md", "fan.png"} <= {
        p.name for p in (tmp_path / "cmp").iterdir()
    }
    assert "## Sobol indices" in (tmp_path / "cmp" / "report.md").read_text()


def test_sobol_indices_need_every_design_point(sobol_dir, tmp_path):
    res = compare.load(sobol_dir)
    partial = compare.SweepResults(
        res.out, res.manifest, res.runs[res.runs.point != 5], res.failures, res.design
    )
    with pytest.raises(ValueError, match="1 of 64 Sobol design points"):
        compare.sobol_indices(partial)


def test_compare_exits_2_on_a_folder_that_is_not_a_sweep(tmp_path, capsys):
    assert main(["compare", str(tmp_path)]) == 2
    assert "not a sweep results folder" in capsys.readouterr().err
    assert main(["compare", str(DATA.parent), "--year", "2016"]) == 2
