"""Observed series: the file format, its strict checks, the fit table and the plots."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from sim.evidence import observed as obs  # noqa: E402
from sim.experiments.run import run_scenario  # noqa: E402
from sim.inputs.scenario import ScenarioError, load_scenario  # noqa: E402
from sim.model import DivestmentModel  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def _write(tmp_path: Path, text: str, name: str = "obs.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        obs.load_observed(path)
    return info.value.problems


def _national(values_by_year: dict[int, list[float]], measure: str = "n_mutuals") -> pd.DataFrame:
    """A small synthetic national table: one row per year and replication."""
    rows = [
        {"year": year, "replication": r, measure: v}
        for year, values in values_by_year.items()
        for r, v in enumerate(values)
    ]
    return pd.DataFrame(rows)


def _observed(rows: list[tuple[int, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"year": y, "measure": m, "value": v, "source": "test", "note": ""} for y, m, v in rows]
    )


# ---------------------------------------------------------------- the format
def test_measures_are_the_models_national_columns():
    columns = list(DivestmentModel(record_councils=False).national().columns)
    assert list(obs.measures()) == [c for c in columns if c != "year"]
    for name in ("n_mutuals", "mutual_staff", "mutual_spend_gbp_m", "n_mutuals_lg"):
        assert name in obs.measures()


def test_shipped_file_loads_and_holds_only_figures_known_by_2014():
    df = obs.load_observed(obs.SHIPPED)
    assert list(df.columns) == ["year", "measure", "value", "source", "note"]
    assert df["year"].max() <= 2014
    assert (df["source"].str.len() > 0).all()
    got = {(r.year, r.measure): r.value for r in df.itertuples()}
    assert got[(2012, "n_mutuals")] == 58
    assert got[(2014, "n_mutuals")] == 100
    assert got[(2014, "mutual_staff")] == 35000
    assert got[(2014, "mutual_spend_gbp_m")] == 1500


def test_a_good_file_with_and_without_note(tmp_path):
    path = _write(tmp_path, "year,measure,value,source\n2016,n_mutuals,120,my survey\n\n")
    df = obs.load_observed(path)
    assert df.to_dict("records") == [
        {"year": 2016, "measure": "n_mutuals", "value": 120.0, "source": "my survey", "note": ""}
    ]


def test_missing_file(tmp_path):
    problems = _problems(tmp_path / "nope.csv")
    assert problems == [f"{tmp_path / 'nope.csv'}: file not found"]


def test_missing_and_unknown_columns_are_all_reported(tmp_path):
    path = _write(tmp_path, "year,measure,valeu\n2014,n_mutuals,100\n")
    problems = _problems(path)
    assert any("line 1: column value: missing" in p for p in problems)
    assert any("line 1: column source: missing" in p for p in problems)
    assert any("column 'valeu': unknown column (did you mean value?)" in p for p in problems)
    assert all(p.startswith(str(path)) for p in problems)


def test_every_row_problem_is_reported_at_once_with_file_line_and_column(tmp_path):
    text = (
        "year,measure,value,source,note\n"
        "2014,n_mutuals,100,Cabinet Office,\n"  # line 2: fine
        "2014,n_mutual,100,Cabinet Office,\n"  # line 3: unknown measure
        "2015,mutual_staff,lots,Cabinet Office,\n"  # line 4: non-numeric value
        "2015,n_mutuals,110,,\n"  # line 5: blank source
        "2014,n_mutuals,101,another count,\n"  # line 6: duplicate of line 2
        "20x6,n_mutuals,120,survey,\n"  # line 7: bad year
        "2017,n_mutuals,130\n"  # line 8: wrong number of fields
    )
    path = _write(tmp_path, text)
    problems = _problems(path)
    expected = {
        3: "column measure: unknown measure 'n_mutual' (did you mean n_mutuals",
        4: "column value: 'lots' is not a finite number",
        5: "column source: blank",
        6: "columns year, measure: duplicate of line 2",
        7: "column year: '20x6' is not a year",
        8: "expected 5 fields",
    }
    assert len(problems) == len(expected)
    for line, text in expected.items():
        assert any(p.startswith(f"{path}: line {line}: {text}") for p in problems), (line, problems)


def test_empty_file(tmp_path):
    assert "empty file" in _problems(_write(tmp_path, ""))[0]
    assert "no observations" in _problems(_write(tmp_path, "year,measure,value,source\n", "h.csv"))[0]


# ---------------------------------------------------------------- the fit table
def test_fit_table_coverage_inside_and_outside_the_simulated_range():
    national = _national({2014: [100, 100, 100], 2016: [110, 120, 130, 140, 150]})
    observed = _observed([(2016, "n_mutuals", 125), (2014, "n_mutuals", 90), (2030, "n_mutuals", 1)])
    table = obs.fit_table(national, observed)
    assert list(table.columns) == obs.FIT_COLUMNS
    rows = table[table["kind"] == "observation"].set_index("year")
    assert sorted(rows.index) == [2014, 2016]  # 2030 is not simulated
    inside, outside = rows.loc[2016], rows.loc[2014]
    assert inside["sim_median"] == 130
    assert inside["error"] == 5 and inside["relative_error"] == pytest.approx(0.04)
    assert bool(inside["covered_range"]) and bool(inside["covered_p05_p95"])
    assert outside["error"] == 10
    assert not bool(outside["covered_range"]) and not bool(outside["covered_p05_p95"])
    summary = table[table["kind"] == "summary"].iloc[0]
    assert summary["measure"] == "n_mutuals"
    assert summary["abs_relative_error"] == pytest.approx((0.04 + 10 / 90) / 2)
    assert summary["share_covered_range"] == 0.5
    assert summary["n_observations"] == 2


def test_fit_table_range_and_90_percent_band_differ_in_the_tails():
    national = _national({2016: list(range(100, 121))})  # 21 replications, p05 = 101, p95 = 119
    table = obs.fit_table(national, _observed([(2016, "n_mutuals", 100.5)]))
    row = table.iloc[0]
    assert row["sim_p05"] == pytest.approx(101) and row["sim_min"] == 100
    assert bool(row["covered_range"]) and not bool(row["covered_p05_p95"])


def test_fit_table_with_no_overlap_is_empty_with_its_columns():
    table = obs.fit_table(_national({2020: [1.0]}), _observed([(2014, "n_mutuals", 1.0)]))
    assert table.empty and list(table.columns) == obs.FIT_COLUMNS


@pytest.fixture(scope="module")
def baseline_run():
    return run_scenario(load_scenario(ROOT / "scenarios" / "baseline.toml").with_changes({}, replications=3))


def test_baseline_matches_the_shipped_2014_stock(baseline_run):
    table = obs.fit_table(baseline_run.national, obs.load_observed(obs.SHIPPED))
    rows = table[table["kind"] == "observation"].set_index("measure")
    assert set(rows["year"]) == {2014}  # the model starts in 2014: only 2014 overlaps
    assert rows.loc["n_mutuals", "sim_median"] == 100
    assert rows.loc["n_mutuals", "error"] == 0
    # staff vary with the random placement of the local-government mutuals, around the national figure
    assert rows.loc["mutual_staff", "sim_median"] == pytest.approx(35000, rel=0.1)
    assert abs(rows.loc["mutual_staff", "relative_error"]) < 0.1
    assert rows["covered_range"].all()


# ---------------------------------------------------------------- plots and files
def test_plots_and_outputs(baseline_run, tmp_path):
    from sim.pictures import charts as plots

    observed = obs.load_observed(obs.SHIPPED)
    fig = plots.workforce_figure(baseline_run.national)
    before = [len(ax.collections) for ax in fig.axes[:2]]
    obs.add_observed_to_workforce(fig, observed)
    after = [len(ax.collections) for ax in fig.axes[:2]]
    n_sources = observed[observed["measure"] == "mutual_staff"]["source"].nunique()
    assert [a - b for a, b in zip(after, before, strict=True)] == [n_sources, n_sources]
    points = np.concatenate([c.get_offsets() for c in fig.axes[0].collections[before[0] :]])
    assert {(2012.0, 20000.0), (2014.0, 35000.0)} <= {tuple(p) for p in points}

    fig = obs.observed_figure(baseline_run.national, observed)
    from sim.pictures.style import measure_label

    titles = [ax.get_title() for ax in fig.axes if ax.axison]
    assert titles == [measure_label(m).capitalize() for m in dict.fromkeys(observed["measure"])]
    assert all("_" not in t for t in titles)
    markers = {}  # a source keeps its marker in every panel
    for ax in fig.axes:
        for c in ax.collections:
            if c.get_label().startswith("observed: "):
                markers.setdefault(c.get_label(), set()).add(c.get_paths()[0].vertices.tobytes())
    assert markers and all(len(v) == 1 for v in markers.values())

    files = obs.write_observed_outputs(tmp_path, baseline_run.national, observed)
    assert files["fit"].is_file() and files["observed_plot"].stat().st_size > 1000
    assert (pd.read_csv(files["fit"])["kind"] == "summary").sum() == 4
