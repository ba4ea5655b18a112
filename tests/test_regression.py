"""Regression against stored CURRENT MODEL OUTPUT (not evidence): flags any unintended change.

The stored table is refreshed only by `tests/regression/refresh.py`, after a deliberate model change.
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "regression"))
from refresh import COLUMNS, HERE, current  # noqa: E402

STORED = pd.read_csv(HERE / "baseline_national.csv")


def matches(frame: pd.DataFrame) -> bool:
    return frame.shape == STORED.shape and np.allclose(frame[COLUMNS], STORED[COLUMNS], rtol=1e-9, atol=1e-9)


def test_baseline_matches_stored_output():
    now = current()
    assert list(now.columns) == list(STORED.columns)
    assert matches(now), "model output changed: if deliberate, run tests/regression/refresh.py and say why"


def test_negative_control_a_small_change_is_caught(monkeypatch):
    import refresh

    from sim.inputs.scenario import Scenario

    original = Scenario.with_changes

    def nudged(self, changes, **run):
        return original(self, {**changes, "appraisal.high_jump": 1.6}, **run)

    monkeypatch.setattr(Scenario, "with_changes", nudged)
    assert not matches(refresh.current()), "the regression check must notice a 0.1 change in the high jump"


@pytest.mark.parametrize("year", [2014])
def test_stored_2014_rows_are_the_calibration_figures(year):
    first = STORED[STORED.year == year]
    assert (first.n_mutuals == 100).all() and np.allclose(first.mutual_staff.mean(), 35_000, rtol=0.05)
