"""No combination inside the registry's allowed bounds crashes the model or gives non-finite results.

Every numeric parameter at once, each at its minimum, its maximum or a uniform draw between (the corners
are where rates turn negative or divisions meet zero); combinations the declared constraints refuse are
refused with a message, never run.
"""

import numpy as np
import pytest

from sim.inputs import params
from sim.inputs.scenario import Scenario, ScenarioError
from sim.model import DivestmentModel

REG = params.registry()
NUMERIC = [
    k
    for k, s in REG.items()
    if isinstance(s.default, int | float) and not isinstance(s.default, bool) and s.min is not None
]


def _corner_or_inside(g: np.random.Generator, key: str):
    s = REG[key]
    u = g.random()
    value = s.min if u < 0.25 else s.max if u < 0.5 else g.uniform(s.min, s.max)
    return int(round(value)) if isinstance(s.default, int) else float(value)


@pytest.mark.parametrize("draw", range(40))
def test_any_allowed_combination_runs_or_is_refused_with_a_message(draw):
    g = np.random.default_rng(20140904 + draw)
    changes = {k: _corner_or_inside(g, k) for k in NUMERIC}
    try:
        scenario = Scenario(name="bounds").with_changes(changes, end_year=2016)
    except ScenarioError as exc:
        assert exc.problems and all("does not hold" in p for p in exc.problems), exc.problems
        return  # refused by a declared constraint (sim.inputs.constraints), with the keys it names
    national = DivestmentModel(scenario, seeds=[draw, draw + 1]).run().national()
    values = national.select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(values).all()
    assert (national.drop(columns=["batch_index"]).select_dtypes("number") >= 0).all().all()


def test_the_draws_cover_both_runs_and_refusals():
    outcomes = set()
    for draw in range(40):
        g = np.random.default_rng(20140904 + draw)
        try:
            Scenario(name="bounds").with_changes({k: _corner_or_inside(g, k) for k in NUMERIC})
            outcomes.add("runs")
        except ScenarioError:
            outcomes.add("refused")
    assert len(NUMERIC) > 100 and outcomes == {"runs", "refused"}
