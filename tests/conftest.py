"""Shared fixtures: scenarios and finished runs, computed once per test session."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

from sim.experiments.run import run_scenario  # noqa: E402
from sim.inputs.scenario import load_scenario  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="session")
def baseline():
    return load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def baseline_results(baseline):
    """Eight replications of the baseline to 2020, with the council table and decision log."""
    return run_scenario(baseline.with_changes({}, replications=8))


SLOW_MODULES = {"test_notebooks.py", "test_explorer.py"}
"""Modules marked ``slow`` here (test_wheel.py and test_lowest_versions.py mark themselves): each runs
notebooks or a browser for tens of seconds; ``pytest -m "not slow"`` leaves them out."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in SLOW_MODULES:
            item.add_marker(pytest.mark.slow)
