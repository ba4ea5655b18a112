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


def test_every_lever_by_default_over_its_allowed_bounds_yes_no_as_0_or_1(model):
    reg = params.registry()
    assert {ema.key(lever.name) for lever in model.levers} == {k for k, s in reg.items() if s.tag == "lever"}
    for lever in model.levers:
        spec = reg[ema.key(lever.name)]
        if spec.kind is bool:
            assert isinstance(lever, ema_workbench.IntegerParameter)
            assert (lever.lower_bound, lever.upper_bound) == (0, 1)
        else:
            assert (lever.lower_bound, lever.upper_bound) == pytest.approx((spec.min, spec.max))
    assert not ema.model("baseline", replications=1, end_year=2015, uncertainties=[], levers=()).levers


def test_a_yes_no_lever_given_as_0_or_1_runs_as_false_or_true(model):
    runner = model.function
    off = runner(policy__allow_outsource=0, policy__allow_trust=np.int64(0))
    on = runner(policy__allow_outsource=1, policy__allow_trust=np.int64(1))
    default = runner()
    assert on["mutual_staff"] == default["mutual_staff"]  # the baseline allows both
    assert np.array_equal(on["n_mutuals_series"], default["n_mutuals_series"])
    assert off["mutual_staff"] != on["mutual_staff"]
    # a whole number as a pandas row holds it (2016.0) is the integer it stands for; 2016.5 is refused
    assert runner(support__end_year=2016.0)["mutual_staff"] == default["mutual_staff"]
    with pytest.raises(ValueError, match="support.end_year"):
        runner(support__end_year=2016.5)


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
    seeded = ema.feature_scores(x, outcomes, seed=3, nr_trees=20)
    assert "n_mutuals_series" not in seeded.columns and "mutual_staff" in seeded.columns
    assert seeded.equals(ema.feature_scores(x, outcomes, seed=3, nr_trees=20))  # the same ranking every time
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


def test_seeded_scenarios_and_policies_are_the_same_every_time(model):
    a, b = ema.scenarios(model, 5, seed=7), ema.scenarios(model, 5, seed=7)
    assert [dict(s) for s in a] == [dict(s) for s in b]
    assert [dict(s) for s in a] != [dict(s) for s in ema.scenarios(model, 5, seed=8)]
    assert [dict(p) for p in ema.policies(model, 3, seed=1)] == [
        dict(p) for p in ema.policies(model, 3, seed=1)
    ]


def test_outcomes_carry_directions_mutual_staff_up_support_cost_down(model):
    kinds = {o.name: o.kind for o in model.outcomes}
    assert kinds["mutual_staff"] == ema_workbench.ScalarOutcome.MAXIMIZE
    assert kinds["n_mutuals_2015"] == ema_workbench.ScalarOutcome.INFO
    m = ema.model(
        "baseline",
        replications=1,
        end_year=2015,
        outcomes=["n_mutuals", "support_cost_gbp_m"],
        directions={"n_mutuals": "max", "support_cost_gbp_m": "info"},
    )
    assert [o.kind for o in m.outcomes] == [
        ema_workbench.ScalarOutcome.MAXIMIZE,
        ema_workbench.ScalarOutcome.INFO,
    ]
    for bad in ({"n_mutuals": "up"}, {"mutual_stuff": "max"}):
        with pytest.raises(ValueError, match="up|mutual_stuff"):
            ema.model("baseline", replications=1, end_year=2015, outcomes=["n_mutuals"], directions=bad)


def test_the_support_cost_is_the_programmes_budgets_over_the_years_simulated(small):
    runner = small.function
    sc = runner.scenario  # 2014 to 2016: the stages of 2014 and 2015 run
    p = sc.params
    msp = p["support.budget_gbp_m_per_year"] * sum(
        p["support.start_year"] <= y <= p["support.end_year"] for y in (2014, 2015)
    )
    expected = msp + p["support.delivering_differently_gbp_m"] + 2 * p["support.extra_budget_gbp_m_per_year"]
    assert runner()["support_cost_gbp_m"] == pytest.approx(expected)
    more = runner(support__extra_budget_gbp_m_per_year=10.0, support__extra_from_year=2015)
    assert more["support_cost_gbp_m"] == pytest.approx(expected + 10.0)
    assert more["mutual_staff"] >= runner()["mutual_staff"]  # more support never fewer staff (CRN)


def test_constraints_become_ema_constraints_with_a_distance_from_the_limit():
    m = ema.model(
        "baseline",
        replications=1,
        end_year=2015,
        outcomes=["mutual_staff", "support_cost_gbp_m"],
        constraints={"support_cost_gbp_m": ("<=", 40), "mutual_staff": (">=", 50_000)},
    )
    cost, staff = m.constraints
    assert isinstance(cost, ema_workbench.Constraint) and cost.outcome_names == ["support_cost_gbp_m"]
    assert (cost.process([30.0]), cost.process([45.0])) == (0.0, 5.0)
    assert (staff.process([60_000.0]), staff.process([49_000.0])) == (0.0, 1000.0)
    assert pickle.loads(pickle.dumps(cost)).process([45.0]) == 5.0
    assert ema.model("baseline", replications=1, end_year=2015, outcomes=["n_mutuals"]).constraints == []
    with pytest.raises(ValueError, match="n_mutuals_lg"):
        ema.model("baseline", replications=1, end_year=2015, constraints={"n_mutuals_lg": ("<=", 1)})
    with pytest.raises(ValueError, match="'<' , 1|give"):
        ema.model("baseline", replications=1, end_year=2015, constraints={"mutual_staff": ("<", 1)})


@pytest.fixture(scope="module")
def small():
    """Every lever (the default), the default outcomes' trade-off: mutual staff up, support cost down."""
    return ema.model(
        "baseline", replications=1, end_year=2016, outcomes=["mutual_staff", "support_cost_gbp_m"]
    )


def test_optimize_searches_the_default_levers_for_the_staff_and_cost_trade_off(small, tmp_path):
    constraints = ema.model(
        "baseline",
        replications=1,
        end_year=2016,
        outcomes=["mutual_staff", "support_cost_gbp_m"],
        constraints={"support_cost_gbp_m": ("<=", 60)},
    ).constraints
    with ema_workbench.SequentialEvaluator(small) as evaluator:
        front, convergence = evaluator.optimize(
            nfe=40,
            epsilons=[500.0, 2.0],
            rng=1,
            population_size=10,
            constraints=constraints,
            directory=str(tmp_path),
            filename="front.tar.gz",
        )
    assert len(front) >= 2 and len(convergence)
    assert set(front["policy__duty_to_consider"]) <= {0, 1}
    assert (front["support_cost_gbp_m"] <= 60 + 1e-9).all()
    ordered = front.sort_values("support_cost_gbp_m")  # a Pareto front: more cost, more staff
    assert ordered["mutual_staff"].is_monotonic_increasing


def test_robust_optimize_accepts_the_default_levers(small, tmp_path):
    robustness = [
        ema_workbench.ScalarOutcome(
            "staff_mean",
            kind=ema_workbench.ScalarOutcome.MAXIMIZE,
            variable_name="mutual_staff",
            function=np.mean,
        ),
        ema_workbench.ScalarOutcome(
            "cost_mean",
            kind=ema_workbench.ScalarOutcome.MINIMIZE,
            variable_name="support_cost_gbp_m",
            function=np.mean,
        ),
    ]
    with ema_workbench.SequentialEvaluator(small) as evaluator:
        front, _ = evaluator.robust_optimize(
            robustness,
            ema.scenarios(small, 2, seed=1),
            nfe=20,
            epsilons=[500.0, 2.0],
            rng=1,
            population_size=10,
            directory=str(tmp_path),
            filename="robust.tar.gz",
        )
    assert len(front) >= 1 and set(front["policy__allow_trust"]) <= {0, 1}
