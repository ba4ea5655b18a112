"""Mesa's conventions: ``rng=`` as Mesa takes it, parameters by name, batch_run, a user's DataCollector."""

import multiprocessing

import mesa
import numpy as np
import pandas as pd
import pytest

from sim.inputs.scenario import Scenario, ScenarioError
from sim.model import DivestmentModel

SHORT = Scenario(name="baseline", end_year=2016)
"""Two years: enough to see every convention at work, quickly."""


def staff(model: DivestmentModel) -> list[float]:
    return model.run().national()["mutual_staff"].tolist()


def test_rng_takes_an_int_a_generator_or_none_and_records_the_seed_used():
    assert DivestmentModel(SHORT, rng=7).seed == 7
    assert staff(DivestmentModel(SHORT, rng=7)) == staff(DivestmentModel(SHORT, seed=7))
    drawn = DivestmentModel(SHORT, rng=np.random.default_rng(42))
    assert (
        drawn.seed == DivestmentModel(SHORT, rng=np.random.default_rng(42)).seed
    )  # the same generator state
    assert staff(drawn) == staff(DivestmentModel(SHORT, rng=drawn.seed))  # reproducible from the model
    fresh = [DivestmentModel(SHORT, rng=None) for _ in range(2)]
    assert fresh[0].seed != fresh[1].seed  # None: fresh randomness, as Mesa means it
    assert staff(fresh[0]) == staff(DivestmentModel(SHORT, rng=fresh[0].seed))
    assert DivestmentModel(SHORT).seed == 0  # nothing given: the documented default seed
    for bad in (1.5, "7", True):
        with pytest.raises(TypeError, match="rng must be"):
            DivestmentModel(SHORT, rng=bad)


def test_registry_parameters_by_their_ema_names_or_dotted_keys():
    m = DivestmentModel(SHORT, policy__simplification=0.5, **{"support.budget_gbp_m_per_year": 9.0})
    assert m.p["policy.simplification"] == 0.5 and m.p["support.budget_gbp_m_per_year"] == 9.0
    assert m.spec.changes["policy.simplification"] == 0.5
    assert DivestmentModel(policy__duty_to_consider=True).end_year == Scenario(name="baseline").end_year
    with pytest.raises(TypeError, match="policy__simplificaton.*did you mean policy__simplification"):
        DivestmentModel(SHORT, policy__simplificaton=0.5)
    with pytest.raises(ScenarioError, match="policy.simplification"):
        DivestmentModel(SHORT, policy__simplification=2.0)  # allowed 0 to 1


@pytest.fixture
def batch_run():
    """``mesa.batch_run`` in this process; it forces the "spawn" start method on the process: put it back."""
    method = multiprocessing.get_start_method(allow_none=True)

    def run(**kwargs):
        return pd.DataFrame(mesa.batch_run(DivestmentModel, display_progress=False, **kwargs))

    yield run
    multiprocessing.set_start_method(method, force=True)


def test_batch_run_varies_a_registry_parameter(batch_run):
    table = batch_run(parameters={"scenario": SHORT, "policy__publicity": [0.0, 3.0]}, rng=[11])
    assert len(table) == 2 and set(table["seed"]) == {11}
    for publicity, row in table.set_index("policy__publicity").iterrows():
        alone = DivestmentModel(SHORT, seed=11, policy__publicity=publicity)
        assert row["mutual_staff"] == pytest.approx(staff(alone)[-1], rel=1e-12)
    assert table["mutual_staff"].nunique() == 2  # the parameter reached the model


def test_batch_run_s_seeding_forms(batch_run):
    with pytest.warns(DeprecationWarning, match="iterations"):
        iterations = batch_run(parameters={"scenario": SHORT}, iterations=2)
    fresh = batch_run(parameters={"scenario": SHORT}, rng=[None, None])
    for table in (iterations, fresh):
        assert len(table) == 2 and table["seed"].nunique() == 2  # fresh seeds, each recorded
        seed = int(table["seed"].iloc[0])
        assert table["mutual_staff"].iloc[0] == pytest.approx(
            staff(DivestmentModel(SHORT, rng=seed))[-1], rel=1e-12
        )
    listed = batch_run(parameters={"scenario": SHORT}, rng=[3, np.random.default_rng(1)])
    assert len(listed) == 2 and listed["seed"].iloc[0] == 3


def test_a_datacollector_set_after_construction_collects_as_the_model_steps():
    m = DivestmentModel(SHORT, seed=2)
    m.datacollector = mesa.DataCollector(
        model_reporters={"year": lambda m: m.year, "staff": lambda m: m.latest("mutual_staff")}
    )
    m.run()
    got = m.datacollector.get_model_vars_dataframe()
    national = m.national()
    assert got["year"].tolist() == national["year"].tolist()[1:]  # one row per step, after it
    assert got["staff"].tolist() == pytest.approx(national["mutual_staff"].tolist()[1:], rel=1e-12)
