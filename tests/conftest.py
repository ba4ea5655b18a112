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
