"""The EMA Workbench adapter: registry names and ranges, batched runs with common seeds, a tiny experiment."""

import pickle

import numpy as np
import pytest

ema_workbench = pytest.importorskip("ema_workbench")

from sim.experiments import ema  # noqa: E402
from sim.experiments.sweep import simulate_batch  # noqa: E402
from sim.inputs import params  # noqa: E402


@pytest.fixture(scope="module")
def model():
    return ema.model(
        "baseline",
        replications=2,
        end_year=2016,
        outcomes=["mutual_staff", "n_mutuals_2015"],
        series=["n_mutuals"],
    )


@pytest.fixture(scope="module")
def experiment(model):
    with ema_workbench.SequentialEvaluator(model) as evaluator:
        return ema_workbench.perform_experiments(model, scenarios=6, evaluator=evaluator)


def test_uncertainties_are_the_registry_s_at_their_plausible_ranges_with_valid_names(model):
    reg = params.registry()
    sampled = {k for k, s in reg.items() if s.tag in params.SAMPLED_TAGS and s.plausible is not None}
    assert {ema.key(u.name) for u in model.uncertainties} == sampled
    for u in model.uncertainties:
        assert u.name.isidentifier() and "." not in u.name
        spec = reg[ema.key(u.name)]
        if spec.choices is None:
            assert (u.lower_bound, u.upper_bound) == pytest.approx(spec.plausible)
    assert "funding__path_file" not in {u.name for u in model.uncertainties}
    assert not model.levers


def test_levers_range_over_their_allowed_bounds():
    m = ema.model("baseline", replications=1, end_year=2015, uncertainties=[], levers=None)
    reg = params.registry()
    assert {ema.key(lever.name) for lever in m.levers} == {k for k, s in reg.items() if s.tag == "lever"}


def test_a_tiny_experiment_runs_with_common_seeds_and_matches_the_batched_model(model, experiment):
    experiments, outcomes = experiment
    assert len(experiments) == 6
    assert outcomes["mutual_staff"].shape == (6,) and outcomes["n_mutuals_series"].shape == (6, 2, 3)
    row = experiments.iloc[3]
    changes = {ema.key(u.name): params.plain(row[u.name]) for u in model.uncertainties}
    base = model.function.scenario
    direct = simulate_batch(base.with_changes(changes), base.seeds())
    assert outcomes["mutual_staff"][3] == pytest.approx(direct["mutual_staff"][:, -1].mean(), rel=1e-12)
    assert outcomes["n_mutuals_2015"][3] == pytest.approx(direct["n_mutuals"][:, 1].mean(), rel=1e-12)
    assert np.array_equal(outcomes["n_mutuals_series"][3], direct["n_mutuals"])


def test_feature_scoring_and_prim_run_on_the_inputs(model, experiment):
    from ema_workbench.analysis import feature_scoring, prim

    experiments, outcomes = experiment
    x = ema.inputs(experiments, model)
    assert list(x.columns) == [u.name for u in model.uncertainties]
    assert all(dtype.kind == "f" for dtype in x.dtypes)
    scores = feature_scoring.get_feature_scores_all(x, {"mutual_staff": outcomes["mutual_staff"]})
    assert set(scores.index) == set(x.columns)
    y = outcomes["mutual_staff"] > np.median(outcomes["mutual_staff"])
    assert prim.Prim is not None
    assert ema.prim(x, y, mass_min=0.3).find_box() is not None  # PRIM's own pandas warning silenced


def test_the_runner_pickles_for_ema_s_process_evaluators(model):
    runner = pickle.loads(pickle.dumps(model.function))
    assert runner.seeds == model.function.seeds


def test_unknown_outcomes_and_parameters_are_named():
    with pytest.raises(ValueError, match="mutual_stuff"):
        ema.model("baseline", replications=1, end_year=2015, outcomes=["mutual_stuff"])
    with pytest.raises(ValueError, match="not.a.key"):
        ema.model("baseline", replications=1, end_year=2015, uncertainties=["not.a.key"])


def _import_warnings(code: str) -> list[str]:
    """Warnings printed by a fresh interpreter running ``code`` (every warning shown, once each)."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", code], capture_output=True, text=True, check=True
    )
    return [line for line in done.stderr.splitlines() if "Warning" in line]


def test_the_adapter_imports_ema_workbench_without_the_ipyparallel_warning_only():
    plain = _import_warnings("import ema_workbench")
    if not any(ema.IPYPARALLEL_WARNING in w for w in plain):
        pytest.skip("this EMA Workbench does not warn about ipyparallel")
    assert _import_warnings("from sim.experiments import ema; ema.workbench(); import ema_workbench") == []
    # the filter is that message only: another UserWarning raised in the same import still shows
    other = (
        "import sys, types, warnings\n"
        "class Finder:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ema_workbench': warnings.warn('something else', UserWarning)\n"
        "sys.meta_path.insert(0, Finder())\n"
        "from sim.experiments import ema; ema.workbench()"
    )
    assert any("something else" in w for w in _import_warnings(other))
