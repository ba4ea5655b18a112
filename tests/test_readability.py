"""Every chart the commands draw can be read: no text under 7 pt, nothing cut off, no overlapping labels.

Each chart-drawing function of ``sim.pictures`` and ``sim.evidence`` is run on a small real run (3
replications to 2017) or on tables of realistic size, and :func:`sim.pictures.readability.problems` measures
the drawn figure. The notebooks' figures are checked by ``tests/test_notebooks.py`` with the same helper.
The checker itself is tested on figures made to fail.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from sim.pictures import charts, maps, readability, style, sweep_charts

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run():
    from sim import load_scenario, run_scenario

    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml").with_changes(
        {}, replications=3, end_year=2017
    )
    return scenario, run_scenario(scenario)


def _readable(fig):
    found = readability.problems(fig)
    assert not found, found


# --- the checker ---------------------------------------------------------------------------------


def test_checker_finds_small_text_cut_legends_and_overlapping_ticks():
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], label="a line")
    ax.set_xticks([0, 0.01], ["10,000", "12,500"])
    ax.text(0.5, 0.5, "tiny", fontsize=5)
    ax.legend(loc="upper left", bbox_to_anchor=(0.9, 1.0))
    found = " | ".join(readability.problems(fig))
    assert "text under 7 pt" in found and "'tiny'" in found
    assert "x tick labels overlap: '10,000' and '12,500'" in found
    assert "legend cut off by the figure's edge: ['a line']" in found


def test_checker_finds_a_legend_over_data_and_overlapping_labels():
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots()
    ax.plot(np.linspace(0, 1, 50), np.full(50, 0.95), label="flat along the top")
    ax.set_ylim(0, 1)
    ax.legend(loc="upper left")
    ax.annotate("London", (0.5, 0.5))
    ax.annotate("Londonderry", (0.51, 0.5))
    found = " | ".join(readability.problems(fig))
    assert "a legend covers" in found
    assert "texts overlap: 'London' and 'Londonderry'" in found


def test_checker_passes_a_plain_chart():
    fig = Figure(figsize=(5, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot([2014, 2020], [0, 1], label="line")
    ax.legend(loc="lower right")
    ax.set_xlabel("year")
    assert readability.problems(fig) == []


def _lab(colour: str) -> np.ndarray:
    rgb = np.array(to_rgb(colour))
    lin = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ lin
    xyz /= [0.95047, 1.0, 1.08883]
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_eleven_mode_colours_are_told_apart():
    colours = {m: _lab(c) for m, c in style.MODE_COLOURS.items()}
    names = list(colours)
    distances = {
        (a, b): float(np.linalg.norm(colours[a] - colours[b]))
        for i, a in enumerate(names)
        for b in names[i + 1 :]
    }
    closest = min(distances, key=distances.get)
    assert distances[closest] > 20, (closest, distances[closest])  # CIE76: 20 is a clear difference


# --- every chart ---------------------------------------------------------------------------------


def test_run_charts_are_readable(run):
    from sim.model import SERVICES
    from sim.model.rules import MODES

    scenario, res = run
    _readable(charts.workforce_figure(res.national, 1_000_000, scenario=scenario.name))
    _readable(charts.modes_figure(res.national, SERVICES, MODES, scenario=scenario.name))
    _readable(charts.modes_figure(res.national, SERVICES, MODES, scenario=scenario.name, compact=True))


def test_observed_charts_are_readable(run):
    from sim.evidence.observed import add_observed_to_workforce, load_observed, observed_figure
    from sim.inputs.councils import data_path

    scenario, res = run
    observed = load_observed(data_path("observed_2014.csv"))
    _readable(observed_figure(res.national, observed, scenario=scenario.name))
    fig = charts.workforce_figure(res.national, 1_000_000, scenario=scenario.name)
    _readable(add_observed_to_workforce(fig, observed, 1_000_000))


@pytest.mark.parametrize("layout", ["boundaries", "hex"])
def test_maps_are_readable(run, layout):
    scenario, res = run
    for service in ("libraries", "leisure"):
        ax = maps.plot_mode_map(res.councils, service, 2017, scenario=scenario.name, layout=layout)
        _readable(ax.figure)
    fig = maps.share_maps_figure(
        res.councils, [("libraries", 2014), ("adult_social_care", 2017), ("leisure", 2017)], layout=layout
    )
    _readable(fig)


def test_map_file_is_readable(run, tmp_path):
    _, res = run
    res.councils.to_parquet(tmp_path / "councils.parquet")
    figures = []
    original = Figure.savefig

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return original(fig, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(Figure, "savefig", keep)
        maps.plot_mode_map_file(tmp_path, "adult_social_care", 2017, tmp_path / "m.png")
    (fig,) = figures
    _readable(fig)


def _sweep(kind: str, n_points: int) -> SimpleNamespace:
    rng = np.random.default_rng(1)
    arms = ["baseline", "support_doubled", "duty_to_consider"] if kind == "arms" else ["base"]
    rows = []
    for a, arm in enumerate(arms):
        for point in range(n_points):
            for rep in range(3):
                growth = 1 + 0.1 * a + rng.normal(0, 0.03)
                for year in range(2014, 2021):
                    rows.append((arm, point, rep, year, 34_000 * growth ** (year - 2014)))
    runs = pd.DataFrame(rows, columns=["arm", "point", "replication", "year", "mutual_staff"])
    changes = {
        "support_doubled": {"support.budget_gbp_m_per_year": 10.0},
        "duty_to_consider": {"policy.duty_to_consider": True},
    }
    sweep = {
        "arms": {arm: changes.get(arm, {}) for arm in arms},
        "design": None if kind == "arms" else {"kind": kind, "n_points": n_points},
    }
    grouping = ("arm", "baseline", ["point", "replication"]) if kind == "arms" else None
    return SimpleNamespace(runs=runs, sweep=sweep, grouping=lambda: grouping)


@pytest.mark.parametrize(
    ("kind", "n_points", "spread"),
    [
        ("arms", 1, "across 3 replications"),
        ("sobol", 16, "across 16 Sobol design points (3 replications each)"),
    ],
)
def test_sweep_fan_is_readable_starts_at_zero_and_says_what_it_spans(kind, n_points, spread):
    res = _sweep(kind, n_points)
    fig = sweep_charts.fan_figure(res)
    _readable(fig)
    assert all(ax.get_ylim()[0] == 0 for ax in fig.axes if ax.get_visible())
    top = res.runs.groupby(["arm", "year"])["mutual_staff"].quantile(0.95).max()
    assert fig.axes[0].get_ylim()[1] >= top  # no panel's band runs off the top
    assert spread in fig.get_suptitle().replace("\n", " ")


def test_ranking_sobol_and_morris_are_readable():
    effects = pd.DataFrame(
        {
            "arm": ["support_doubled", "duty_to_consider", "publicity"],
            "reference": "baseline",
            "changes": [
                "support.budget_gbp_m_per_year=10.0",
                "policy.duty_to_consider=True",
                "policy.publicity=2.5",
            ],
            "metric": "mutual_staff",
            "median": [12_600.0, 10_400.0, 14_900.0],
            "p05": [10_000.0, 9_000.0, 12_500.0],
            "p95": [15_000.0, 12_000.0, 17_500.0],
        }
    )
    effects = pd.concat(
        [effects, effects.assign(metric="n_mutuals", median=[12.0, 8.0, 20.0], p05=5.0, p95=25.0)]
    )
    fig = sweep_charts.ranking_figure(effects, 2020)
    _readable(fig)
    assert fig.axes[0].get_xlabel() == "difference from the baseline arm (staff)"
    params = ["review.rate_per_pressure", "outside.new_mutuals_per_year", "outside.staff_growth_per_year"]
    indices = pd.DataFrame(
        {
            "arm": "base",
            "metric": "mutual_staff",
            "parameter": params,
            "S1": [0.1, 0.6, 0.2],
            "S1_conf": 0.05,
            "ST": [0.15, 0.7, 0.25],
            "ST_conf": 0.05,
        }
    )
    _readable(sweep_charts.sobol_figure(indices, 2020))
    morris = pd.DataFrame(
        {
            "arm": "base",
            "metric": "mutual_staff",
            "parameter": params,
            "tag": "uncertainty",
            "mu_star": [3000.0, 11000.0, 5600.0],
            "mu_star_conf": 500.0,
            "mu": 1.0,
            "sigma": [600.0, 2200.0, 400.0],
        }
    )
    fig = sweep_charts.morris_figure(
        pd.concat([morris, morris.assign(metric="n_mutuals", mu_star=[16.0, 25.0, 0.1])]), 2016
    )
    _readable(fig)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()][
        -1
    ] == "outside: new mutuals"  # largest on top


def test_backtest_figure_is_readable_and_a_readable_size():
    import json

    from sim.evidence import backtest
    from sim.evidence.targets import load_targets

    folder = ROOT / "docs" / "evidence" / "backtest"
    table = pd.read_csv(folder / "backtest.csv")
    discrepancy = json.loads((folder / "manifest.json").read_text())["settings"]["discrepancy"]
    fig = backtest.figure(table, load_targets(), discrepancy)
    _readable(fig)
    width, height = fig.get_size_inches() * 150
    assert height < 1400 and width < 2400, (width, height)
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert "council adult social care staff change 2011-2013" in labels
    assert not [label for label in labels if "_" in label]  # words, not identifiers
