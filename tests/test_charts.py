"""Every chart and map that ``run``, ``compare`` and ``map`` write: opened, sized, not blank, read right.

Each PNG a command writes is read back as pixels: a size at least that of a readable figure, more than one
colour in quantity (not blank), and the mode colours of the style module where modes are drawn. The
figures' text is checked where it carries what the reader needs: scenario, headline, what bands mean.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_rgb

from sim.cli import main
from sim.pictures import charts, style, sweep_charts

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"


def _open(path: Path, min_width: int = 900, min_height: int = 500) -> np.ndarray:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    pixels = matplotlib.image.imread(path)[..., :3]
    height, width = pixels.shape[:2]
    assert width >= min_width and height >= min_height, (path.name, width, height)
    colours = np.unique((pixels.reshape(-1, 3) * 255).round().astype(int), axis=0)
    assert len(colours) > 50, f"{path.name} looks blank"
    non_white = (pixels < 0.95).any(axis=-1).mean()
    assert non_white > 0.05, f"{path.name}: {non_white:.1%} of it is drawn"
    return pixels


def _has_colour(pixels: np.ndarray, colour: str, share: float = 0.002) -> bool:
    target = np.array(to_rgb(colour))
    return (np.abs(pixels - target).max(axis=-1) < 0.02).mean() > share


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("charts") / "run"
    code = main(
        [
            "run",
            str(ROOT / "scenarios" / "baseline.toml"),
            "--replications",
            "4",
            "--out",
            str(out),
            "--observed",
            str(ROOT / "sim" / "data" / "observed_2014.csv"),
            "--quiet",
        ]
    )
    assert code == 0
    return out


def test_run_writes_readable_workforce_modes_and_observed_charts(run_dir):
    pixels = _open(run_dir / "workforce.png")
    assert _has_colour(pixels, style.SECTOR_COLOURS["local government"], share=0.0005)  # its line
    pixels = _open(run_dir / "modes.png")
    for mode in ("in_house", "mutual", "legacy_trust"):
        assert _has_colour(pixels, style.MODE_COLOURS[mode]), mode
    _open(run_dir / "observed.png")


def test_map_command_writes_a_share_map_beside_one_named_replication(run_dir, tmp_path):
    for service in ("libraries", "leisure"):
        out = tmp_path / f"{service}.png"
        assert main(["map", str(run_dir), "--service", service, "--year", "2020", "--out", str(out)]) == 0
        pixels = _open(out, 1500, 1000)
        assert _has_colour(pixels, style.MODE_COLOURS["in_house"]), service  # the named replication


def test_compare_writes_readable_fan_ranking_and_sobol(tmp_path):
    from sim.experiments.sweep import run_sweep
    from sim.experiments.sweep_spec import load_sweep

    sweep = tmp_path / "arms"
    run_sweep(load_sweep(DATA / "sweep_arms.toml"), sweep, workers=1)
    assert main(["compare", str(sweep)]) == 0
    _open(sweep / "compare" / "fan.png")
    _open(sweep / "compare" / "ranking.png", 700, 300)
    sobol = tmp_path / "sobol"
    run_sweep(load_sweep(DATA / "sweep_sobol.toml"), sobol, workers=1)
    assert main(["compare", str(sobol)]) == 0
    _open(sobol / "compare" / "sobol.png", 700, 300)
    _open(sobol / "compare" / "fan.png", 700, 300)  # one arm: the title must still fit


def test_compare_draws_a_morris_figure_for_a_morris_sweep(tmp_path):
    from sim.experiments.sweep import run_sweep
    from sim.experiments.sweep_spec import load_sweep

    morris = tmp_path / "morris"
    run_sweep(load_sweep(DATA / "sweep_morris.toml"), morris, workers=1)
    assert main(["compare", str(morris)]) == 0
    _open(morris / "compare" / "morris.png", 700, 300)
    assert "![Morris screening](morris.png)" in (morris / "compare" / "report.md").read_text()


def test_workforce_figure_carries_its_headline_and_scenario():
    national = pd.DataFrame(
        {
            "year": [2014, 2014, 2020, 2020],
            "replication": [0, 1, 0, 1],
            "mutual_staff": [35_000, 35_000, 60_000, 70_000],
            "mutual_staff_lg": [10_000, 10_000, 20_000, 25_000],
            "mutual_staff_outside": [25_000, 25_000, 40_000, 45_000],
        }
    )
    fig = charts.workforce_figure(national, 1_000_000, scenario="my scenario")
    title = fig.get_suptitle()
    assert title.startswith("Scenario: my scenario\n2020-21: 6.5% of the one-million ambition (5-95%: 6.0-")
    assert "5th-95th percentile" in fig.get_supxlabel()
    assert fig.axes[1].get_ylim()[1] < 100  # a scale on which the growth reads, not pinned at one million
    assert fig._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"  # shows itself in Jupyter


def test_mode_shares_add_up_and_the_stack_puts_mutuals_on_top():
    modes = ("in_house", "latc", "mutual")
    national = pd.DataFrame(
        {
            "year": [2014, 2014],
            "replication": [0, 1],
            "n_libraries_in_house": [140, 150],
            "n_libraries_latc": [10, 0],
            "n_libraries_mutual": [2, 2],
        }
    )
    shares = charts.mode_shares(national, "libraries", modes)
    assert np.allclose(shares[list(modes)].sum(axis=1), 100)
    fig = charts.modes_figure(national, ("libraries",), modes, scenario="s")
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels == ["mutual", "council company (LATC)", "in-house"]  # top of the stack first
    assert "Scenario: s." in fig.get_suptitle() and "add up to 100%" in fig.get_suptitle()


def test_ranking_names_arms_with_lever_values_and_says_what_whiskers_are():
    effects = pd.DataFrame(
        {
            "arm": ["support_doubled", "no_support_after_2015"],
            "reference": "baseline",
            "changes": ["support.budget_gbp_m_per_year=10.0", "support.end_year=2015"],
            "metric": "mutual_staff",
            "median": [5000.0, -2000.0],
            "p05": [3000.0, -3000.0],
            "p95": [7000.0, -1000.0],
        }
    )
    fig = sweep_charts.ranking_figure(effects, 2020)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == [
        "no support after 2015\n(support funded until 2015-16)",
        "support doubled\n(support funding £10m a year)",
    ]
    assert fig.axes[0].get_xlabel() == "difference from the baseline arm (staff)"
    assert "whiskers: their 5th-95th percentile" in fig.get_supxlabel()


def test_sobol_keys_are_readable_and_negative_s1_explained():
    indices = pd.DataFrame(
        {
            "arm": "base",
            "metric": "mutual_staff",
            "parameter": ["review.rate_per_pressure", "mutual.trading_growth_per_year"],
            "S1": [-0.02, 0.4],
            "S1_conf": [0.05, 0.1],
            "ST": [0.05, 0.5],
            "ST_conf": [0.02, 0.1],
        }
    )
    fig = sweep_charts.sobol_figure(indices, 2020)
    keys = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert keys == ["review: rate per pressure", "mutual: trading growth"]
    assert "true indices lie between 0 and 1" in fig.get_supxlabel()


def test_no_chart_module_chooses_a_backend_or_uses_pyplot():
    for path in (ROOT / "sim" / "pictures").glob("*.py"):
        text = path.read_text()
        assert "matplotlib.use(" not in text and "import matplotlib.pyplot" not in text, path.name
