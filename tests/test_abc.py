"""ABC-SMC calibration, the posterior file, projections with parameter uncertainty, and the backtest."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from sim.cli.main import main
from sim.evidence import abc_mcmc, posterior_file, targets
from sim.evidence import backtest as bt
from sim.evidence.abc import SPEND_RESPONSES, candidates, run_abc
from sim.evidence.settings import DEFAULT_SCENARIO
from sim.experiments import posterior as post
from sim.inputs import params
from sim.inputs.scenario import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parent.parent
FIT2 = ["review.rate_per_pressure", "appraisal.high_jump"]


@pytest.fixture(scope="module")
def tiny():
    return load_scenario(DEFAULT_SCENARIO).with_changes({}, replications=1)


@pytest.fixture(scope="module")
def shipped_targets():
    return targets.load_targets()


def _abc(tiny, shipped_targets, seed=3, workers=1):
    return run_abc(
        tiny,
        shipped_targets,
        seed=seed,
        population=6,
        generations=2,
        min_epsilon=0.0,
        replications=1,
        workers=workers,
        fitted=FIT2,
    )


# ------------------------------------------------------------------ targets
def test_targets_before_the_start_year_are_skipped_with_a_note(shipped_targets):
    ok, skipped = targets.split_computable(shipped_targets, 2014, 2016)
    names = {t.name for t in ok}
    assert {"lg_mutual_decisions_per_year", "appraisals_per_year"} <= names
    assert "precedes the run's start year 2014" in skipped["n_mutuals_2012"]
    assert "starting state" in skipped["n_mutuals_2014"]
    ok10, skipped10 = targets.split_computable(shipped_targets, 2010, 2016)  # the 2010 start, when it lands
    assert {"n_mutuals_2012", "n_mutuals_2014", "council_asc_staff_change_2011_2013"} <= {
        t.name for t in ok10
    }
    assert not any("precedes" in note for note in skipped10.values())


def test_every_shipped_target_is_dated_by_2014_and_cites_a_source(shipped_targets):
    assert all(t.year <= 2014 and t.source.startswith("CALIBRATION.md") for t in shipped_targets)


def test_target_statistics_reproduce_the_optuna_calibrations(tiny, shipped_targets):
    from sim.evidence import calibrate as cal
    from sim.model import DivestmentModel

    sc = tiny.with_changes({}, replications=2)
    ok, _ = targets.split_computable(shipped_targets, 2014, sc.end_year)
    model = DivestmentModel(sc, seeds=sc.seeds(), record_councils=True).run()
    mine = {k: float(np.mean(v)) for k, v in targets.statistics(model, ok).items()}
    theirs = cal.simulate(sc)
    for name in mine:
        assert mine[name] == pytest.approx(theirs[name])


def test_a_bad_targets_file_names_the_file_line_and_column(tmp_path):
    text = (ROOT / "sim" / "data" / "targets.csv").read_text().splitlines()
    bad = text[1].replace(",2014,12,", ",2016,12,").replace("equal", "equl", 1)
    path = tmp_path / "t.csv"
    path.write_text("\n".join([text[0], bad]) + "\n")
    with pytest.raises(ScenarioError) as exc:
        targets.load_targets(path)
    text = " ".join(exc.value.problems)
    assert f"{path}: line 2: column kind" in text and "did you mean" in text


def test_distance_scales_by_tolerance_with_discrepancy_in_quadrature(shipped_targets):
    ok, _ = targets.split_computable(shipped_targets, 2014, 2016)
    upper = next(t for t in ok if t.kind == "upper")
    equal = next(t for t in ok if t.name == "appraisals_per_year")
    z = targets.z_scores(
        {upper.name: upper.value * 0.5, equal.name: np.expm1(np.log1p(74) + 0.5)}, (upper, equal), 0.1
    )
    assert z[0] == 0.0  # below an upper bound: no penalty
    assert z[1] == pytest.approx(0.5 / np.hypot(0.5, 0.1))


# ------------------------------------------------------------------ ABC
def test_abc_same_seed_same_posterior_any_workers(tiny, shipped_targets):
    a = _abc(tiny, shipped_targets)
    b = _abc(tiny, shipped_targets, workers=2)
    pd.testing.assert_frame_equal(a["posterior"], b["posterior"])
    c = _abc(tiny, shipped_targets, seed=4)
    assert not a["posterior"].equals(c["posterior"])
    assert list(a["posterior"].columns) == [*FIT2, "weight"]
    assert a["posterior"]["weight"].sum() == pytest.approx(1.0)
    reg = params.registry()
    for k in FIT2:
        lo, hi = reg[k].plausible
        assert a["posterior"][k].between(lo, hi).all()
    assert [g["t"] for g in a["generations"]] == [0, 1]


def test_candidates_are_behavioural_uncertainties_with_ranges():
    reg = params.registry()
    found = candidates()
    assert "review.rate_per_pressure" in found and "appraisal.high_jump" in found
    assert all(reg[k].tag in ("uncertainty", "calibrated") for k in found)
    # the funding path and services' sizes are inputs; the spend responses are fitted to the councils' spend
    assert not any(k.startswith(("funding.", "services.")) for k in found if k not in SPEND_RESPONSES)
    assert set(SPEND_RESPONSES) <= set(found)
    assert "init.staff_per_mutual_2010" in found  # an uncertain part of the 2010 starting state


def _mcmc(tiny, shipped_targets, seed=3, workers=1, **kw):
    return abc_mcmc.run_abc_mcmc(
        tiny, shipped_targets, seed=seed, population=8, generations=2, min_epsilon=0.0, replications=1,
        workers=workers, fitted=FIT2, **kw,
    )  # fmt: skip


def test_mcmc_abc_same_seed_same_posterior_any_workers_equal_weights(tiny, shipped_targets):
    a = _mcmc(tiny, shipped_targets)
    b = _mcmc(tiny, shipped_targets, workers=2)
    pd.testing.assert_frame_equal(a["posterior"], b["posterior"])
    assert not a["posterior"].equals(_mcmc(tiny, shipped_targets, seed=4)["posterior"])
    assert list(a["posterior"].columns) == [*FIT2, "weight"]
    assert (a["posterior"]["weight"] == 1 / 8).all()
    eps = [g["epsilon"] for g in a["generations"]]
    assert eps == sorted(eps, reverse=True) and len(eps) == 2
    assert all(d <= eps[-1] for d in a["distances"])  # every particle within the last epsilon
    reg = params.registry()
    for k in FIT2:
        lo, hi = reg[k].plausible
        assert a["posterior"][k].between(lo, hi).all()


def test_mcmc_abc_recovers_a_known_parameter(tiny, monkeypatch):
    """A constructed case: the statistic is the high jump plus noise, observed at 1.2 (prior 0 to 2)."""
    target = targets.Target(
        "jump", "level:n_mutuals", 2015, 2015, 2014, 1.2, "equal", "absolute", 0.05, "fit", "p", "s"
    )

    def fake(scenario, fit, values, seeds):
        noise = np.random.default_rng(seeds).normal(0.0, 0.02)
        return {"jump": values["appraisal.high_jump"] + noise}

    monkeypatch.setattr(abc_mcmc, "simulate_stats", fake)
    result = abc_mcmc.run_abc_mcmc(
        tiny, (target,), seed=1, population=200, generations=12, min_epsilon=0.5, replications=1,
        discrepancy=0.0, fitted=["appraisal.high_jump"],
    )  # fmt: skip
    jump = result["posterior"]["appraisal.high_jump"]
    lo, hi = params.registry()["appraisal.high_jump"].plausible
    assert abs(jump.mean() - 1.2) < 0.03  # the prior's mean is about 1
    assert jump.std() < 0.1 * (hi - lo)  # the prior's sd is 0.29 of the range
    assert result["generations"][-1]["distinct_particles"] > 100
    assert result["generations"][-1]["acceptance_rate"] > 0.05


def _unread_widths(tiny, monkeypatch, n_unread=40, generations=14, min_epsilon=0.0):
    """A constructed case: one parameter sets the statistic, ``n_unread`` others are read by nothing."""
    target = targets.Target(
        "jump", "level:n_mutuals", 2015, 2015, 2014, 1.2, "equal", "absolute", 0.05, "fit", "p", "s"
    )

    def fake(scenario, fit, values, seeds):
        return {"jump": values["appraisal.high_jump"] + np.random.default_rng(seeds).normal(0.0, 0.02)}

    monkeypatch.setattr(abc_mcmc, "simulate_stats", fake)
    unread = [k for k in sorted(candidates()) if k != "appraisal.high_jump"][:n_unread]
    result = abc_mcmc.run_abc_mcmc(
        tiny, (target,), seed=5, population=200, generations=generations, min_epsilon=min_epsilon,
        replications=1, discrepancy=0.0, fitted=["appraisal.high_jump", *unread],
    )  # fmt: skip
    reg = params.registry()

    def width(k: str) -> float:
        lo, hi = reg[k].plausible
        p05, p95 = result["posterior"][k].quantile([0.05, 0.95])
        return (p95 - p05) / (hi - lo)

    return width("appraisal.high_jump"), np.array([width(k) for k in unread]), result


def test_mcmc_abc_keeps_most_of_the_prior_spread_of_unread_parameters(tiny, monkeypatch):
    """What the data do not inform should keep its prior spread (5-95%: 0.90 of the range).

    Measured here: a median of 0.80 of the range for the 40 unread parameters after 8 generations (the
    one read is pinned to 0.03), so this guards against worse, not for the ideal. The loss is the
    sampler's (docs/calibration.md): a copy that does not move keeps its parent's lucky distance, so
    lineages of lucky particles spread through the population.
    """
    informed, unread, result = _unread_widths(tiny, monkeypatch, generations=20, min_epsilon=0.1)
    assert informed < 0.15  # the target pins it down
    assert np.median(unread) > 0.72 and unread.min() > 0.55
    assert len(result["generations"]) >= 6


def _jump(monkeypatch):
    target = targets.Target(
        "jump", "level:n_mutuals", 2015, 2015, 2014, 1.2, "equal", "absolute", 0.05, "fit", "p", "s"
    )

    def fake(scenario, fit, values, seeds):
        return {"jump": values["appraisal.high_jump"] + np.random.default_rng(seeds).normal(0.0, 0.02)}

    monkeypatch.setattr(abc_mcmc, "simulate_stats", fake)
    return target


class _Stop(Exception):
    pass


def test_mcmc_abc_interrupted_then_resumed_is_the_uninterrupted_run(tiny, monkeypatch, tmp_path):
    target = _jump(monkeypatch)
    kw = dict(seed=4, population=60, generations=6, min_epsilon=0.0, replications=1, discrepancy=0.0,
              fitted=["appraisal.high_jump", "review.rate_per_pressure"])  # fmt: skip
    whole = abc_mcmc.run_abc_mcmc(tiny, (target,), **kw)
    state = tmp_path / "fit.checkpoint.npz"

    def stop_after_third(t, *_):
        if t == 3:
            raise _Stop

    with pytest.raises(_Stop):
        abc_mcmc.run_abc_mcmc(tiny, (target,), checkpoint=state, progress=stop_after_third, **kw)
    assert state.exists()  # three generations kept
    seen = []
    resumed = abc_mcmc.run_abc_mcmc(
        tiny, (target,), checkpoint=state, progress=lambda t, *_: seen.append(t), **kw
    )
    assert seen == [-1, 4, 5, 6]  # only the missing generations were run
    pd.testing.assert_frame_equal(resumed["posterior"], whole["posterior"])
    assert resumed["generations"] == whole["generations"]
    assert resumed["simulations"] == whole["simulations"]
    np.testing.assert_array_equal(resumed["distances"], whole["distances"])
    assert not state.exists()  # the run is complete: its checkpoint is gone


def test_mcmc_abc_refuses_another_runs_checkpoint(tiny, monkeypatch, tmp_path):
    target = _jump(monkeypatch)
    kw = dict(population=20, generations=2, min_epsilon=0.0, replications=1, discrepancy=0.0,
              fitted=["appraisal.high_jump"])  # fmt: skip
    state = tmp_path / "fit.checkpoint.npz"

    def stop(t, *_):
        if t == 1:
            raise _Stop

    with pytest.raises(_Stop):
        abc_mcmc.run_abc_mcmc(tiny, (target,), seed=1, checkpoint=state, progress=stop, **kw)
    before = state.read_bytes()
    with pytest.raises(abc_mcmc.CheckpointError, match="another calibration"):
        abc_mcmc.run_abc_mcmc(tiny, (target,), seed=2, checkpoint=state, **kw)
    assert state.read_bytes() == before  # kept as it was
    state.write_bytes(b"not a checkpoint")
    with pytest.raises(abc_mcmc.CheckpointError, match="not a checkpoint"):
        abc_mcmc.run_abc_mcmc(tiny, (target,), seed=1, checkpoint=state, **kw)


def test_mcmc_abc_drops_a_generation_the_budget_cuts_short(tiny, monkeypatch):
    target = targets.Target(
        "jump", "level:n_mutuals", 2015, 2015, 2014, 1.2, "equal", "absolute", 0.05, "fit", "p", "s"
    )
    monkeypatch.setattr(
        abc_mcmc, "simulate_stats", lambda sc, fit, values, seeds: {"jump": values["appraisal.high_jump"]}
    )
    kw = dict(seed=2, population=40, generations=20, min_epsilon=0.0, replications=1, discrepancy=0.0,
              fitted=["appraisal.high_jump"])  # fmt: skip
    full = abc_mcmc.run_abc_mcmc(tiny, (target,), max_simulations=10_000, **kw)
    spent = full["generations"][2]["evaluations"] + 5  # a few simulations into the fourth generation
    cut = abc_mcmc.run_abc_mcmc(tiny, (target,), max_simulations=spent, **kw)
    assert len(cut["generations"]) == 3 and "budget" in cut["stopped"]
    assert cut["generations"] == full["generations"][:3]
    assert all(d <= cut["generations"][-1]["epsilon"] for d in cut["distances"])
    assert (
        len(np.unique(cut["posterior"]["appraisal.high_jump"]))
        == cut["generations"][-1]["distinct_particles"]
    )


def _calibrate(out: Path, *extra: str) -> int:
    return main(
        ["calibrate", "--method", "abc", "--population", "5", "--generations", "1", "--replications", "1",
         "--seed", "9", "--out", str(out), "--quiet", *extra]
    )  # fmt: skip


def test_calibrate_with_a_foreign_checkpoint_stops_with_one_message(tmp_path, capsys):
    out = tmp_path / "posterior.parquet"
    foreign = tmp_path / "posterior.parquet.checkpoint.npz"
    foreign.write_bytes(b"something else")
    assert _calibrate(out, "--fit", "screened", "--include", "appraisal.high_jump") == 2
    err = capsys.readouterr().err
    assert str(foreign) in err and err.count("\n") == 1
    assert foreign.read_bytes() == b"something else" and not out.exists()


@pytest.fixture(scope="module")
def posterior_path(tmp_path_factory):
    out = tmp_path_factory.mktemp("abc") / "posterior.parquet"
    assert _calibrate(out) == 0
    return out


def test_calibrate_abc_writes_posterior_and_provenance(posterior_path):
    frame = posterior_file.read(posterior_path)
    assert "weight" in frame and len(frame) == 5
    meta = json.loads(posterior_file.provenance_path(posterior_path).read_text())
    for key in ("seed", "git", "command", "targets", "skipped_targets", "population_size", "generations",
                "wall_seconds", "created_utc", "fitted", "screen", "discrepancy"):  # fmt: skip
        assert key in meta, key
    assert meta["seed"] == 9 and meta["population_size"] == 5
    assert all(t["source"] for t in meta["targets"])
    # the default runs start in 2010: the 2012-2014 stock and the council staff trends are fitted
    assert {"n_mutuals_2012", "council_asc_staff_change_2011_2013"} <= {t["name"] for t in meta["targets"]}
    assert meta["skipped_targets"] == {}
    assert sorted(frame.columns[:-1]) == sorted(meta["fitted"])


def test_calibrate_never_overwrites_a_file_it_did_not_make(tmp_path, capsys):
    out = tmp_path / "mine.parquet"
    pd.DataFrame({"a": [1.0]}).to_parquet(out)
    before = out.read_bytes()
    assert _calibrate(out) == 2
    assert out.read_bytes() == before
    assert f"{out}: exists and was not written by python -m sim calibrate" in capsys.readouterr().err


def test_posterior_file_round_trip(tmp_path):
    frame = pd.DataFrame({"review.rate_per_pressure": [0.1, 0.5], "appraisal.high_jump": [0.2, 1.0]})
    frame["weight"] = [0.25, 0.75]
    path = tmp_path / "p.parquet"
    pq.write_table(posterior_file.table(frame), path)
    pd.testing.assert_frame_equal(posterior_file.read(path), frame)
    assert posterior_file.check_out(path) is None  # ours: may be replaced


@pytest.mark.parametrize(
    "frame, fragment",
    [
        (pd.DataFrame({"review.rate_per_pressure": [0.1]}), "column weight: missing"),
        (pd.DataFrame({"review.rate_per_presure": [0.1], "weight": [1.0]}), "not a model parameter"),
        (pd.DataFrame({"review.rate_per_pressure": [-5.0], "weight": [1.0]}), "leave the allowed range"),
        (pd.DataFrame({"review.rate_per_pressure": [0.1], "weight": [-1.0]}), "column weight"),
        (None, "not a readable Parquet"),
    ],
)
def test_bad_posterior_exits_2_naming_the_file_and_writes_nothing(tmp_path, capsys, frame, fragment):
    path = tmp_path / "bad.parquet"
    if frame is None:
        path.write_text("not parquet")
    else:
        frame.to_parquet(path)
    out = tmp_path / "run"
    assert main(["run", "baseline", "--replications", "2", "--posterior", str(path), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {path}: ") and fragment in err[0]
    assert not out.exists()


# ------------------------------------------------------------------ projections
@pytest.fixture(scope="module")
def two_particles(tmp_path_factory):
    """A posterior of two very different particles, equally weighted."""
    frame = pd.DataFrame({"review.rate_per_pressure": [0.001, 0.68], "weight": [0.5, 0.5]})
    path = tmp_path_factory.mktemp("post") / "two.parquet"
    pq.write_table(posterior_file.table(frame), path)
    return path


def test_draws_are_seeded_and_do_not_depend_on_how_many():
    w = np.full(50, 1 / 50)
    assert list(post.draw_rows(w, 1, 5)) == list(post.draw_rows(w, 1, 12)[:5])
    assert list(post.draw_rows(w, 1, 12)) != list(post.draw_rows(w, 2, 12))


def test_posterior_changes_the_spread_and_reproduces(tiny, two_particles):
    sc = tiny.with_changes({}, replications=16)
    draws = post.load_draws(two_particles, sc.seed, sc.replications, per_draw=4)
    assert len(set(draws.rows)) == 2  # both particles drawn
    a = post.run_with_draws(sc, draws, record_councils=False)
    b = post.run_with_draws(sc, post.load_draws(two_particles, sc.seed, 16, 4), record_councils=False)
    pd.testing.assert_frame_equal(a.national, b.national)
    from sim.experiments.run import run_scenario

    plain = run_scenario(sc, record_councils=False)
    assert list(plain.national["seed"]) == list(a.national["seed"])  # the same seeds, other parameters
    m = "new_divestments"  # the review rate drives divestments directly (mutuals come from proposals too)
    with_post = post.spread(a.national, 4, (m,)).iloc[-1]
    without = post.spread(plain.national, 4, (m,)).iloc[-1]
    assert with_post["total_variance"] > 2 * without["total_variance"]
    assert with_post["parameter_share"] > 0.5


def test_spread_splits_a_constructed_case():
    # two draws of three replications: draw means 0 and 10, within-draw variance 1 in each
    values = [-1.0, 0.0, 1.0, 9.0, 10.0, 11.0]
    national = pd.DataFrame({"year": 2020, "replication": range(6), "y": values})
    row = post.spread(national, 3, ("y",)).iloc[0]
    assert row["chance_variance"] == pytest.approx(1.0)
    assert row["parameter_variance"] == pytest.approx(50.0 - 1.0 / 3)
    assert list(post.spread(national, 3, ("y",)).columns) == post.SPREAD_COLUMNS


def test_sweep_arms_share_each_replications_draw_and_arms_override(tiny, two_particles):
    draws = post.load_draws(two_particles, 5, 8, per_draw=2)
    runs = [(r, 0, r, 5 + r) for r in range(8)]
    groups = post.case_groups(tiny, {"review.rate_per_pressure": 0.3}, runs, draws)
    assert all(sc.params["review.rate_per_pressure"] == 0.3 for sc, _ in groups)  # the arm wins
    groups = post.case_groups(tiny, {"support.end_year": 2015}, runs, draws)
    for sc, rs in groups:
        for run in rs:
            assert sc.params["review.rate_per_pressure"] == draws.changes(run[2])["review.rate_per_pressure"]


def test_sweep_with_posterior_records_it_and_writes_the_spread(tmp_path, two_particles, capsys):
    out = tmp_path / "sweep"
    code = main(["sweep", "sweeps/levers", "--replications", "4", "--posterior", str(two_particles),
                 "--per-draw", "2", "--out", str(out), "--workers", "1"])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["sweep"]["posterior"]["per_draw"] == 2
    table = pd.read_csv(out / "posterior_spread.csv")
    assert set(table["arm"]) == set(manifest["sweep"]["arms"])
    assert "parameters" in capsys.readouterr().out


def test_run_with_posterior_writes_draws_and_spread(tmp_path, two_particles):
    out = tmp_path / "run"
    assert main(["run", "baseline", "--replications", "8", "--end-year", "2016", "--posterior",
                 str(two_particles), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    draws = pd.read_csv(out / "posterior_draws.csv")
    assert list(draws["draw"]) == [0, 0, 0, 0, 1, 1, 1, 1]
    assert json.loads((out / "manifest.json").read_text())["posterior"]["per_draw"] == 4
    assert list(pd.read_csv(out / "posterior_spread.csv").columns) == post.SPREAD_COLUMNS


# ------------------------------------------------------------------ backtest
def _target(name, value, year, kind="equal", statistic="level:n_mutuals", scale="log", tolerance=0.2):
    return targets.Target(name, statistic, year, year, year, value, kind, scale, tolerance, "fit", "p", "s")


def test_backtest_coverage_naive_forecast_and_skill_on_a_constructed_case():
    known = (_target("a10", 10.0, 2010), _target("a12", 30.0, 2012))
    t14 = _target("a14", 60.0, 2014)
    up = _target("u14", 100.0, 2014, kind="upper", statistic="level:mutual_staff")
    low = _target("l14", 100.0, 2014, kind="lower", statistic="level:n_latcs")
    assert bt.naive_forecast(t14, known + (t14,))[0] == pytest.approx(50.0)  # trend 10 a year carried on
    assert bt.naive_forecast(known[1], known)[0] == pytest.approx(10.0)  # never its own forecast
    value, method = bt.naive_forecast(up, known)
    assert np.isnan(value) and method.startswith("none")
    pred = {
        "a14": np.linspace(40, 70, 101),
        "u14": np.linspace(110, 200, 101),
        "l14": np.linspace(50, 120, 101),
    }
    rows = pd.DataFrame(bt.rows("split", "x", (t14, up, low), pred, known + (t14,)))
    assert list(rows.columns) == bt.COLUMNS
    assert rows.set_index("name")["covered"].to_dict() == {"a14": True, "u14": False, "l14": True}
    a = rows.set_index("name").loc["a14"]
    assert a["pred_median"] == pytest.approx(55.0)
    assert a["naive"] == pytest.approx(50.0)  # 10 a year from 30 in 2012
    expected = 1 - abs(np.log1p(55) - np.log1p(60)) / abs(np.log1p(50) - np.log1p(60))
    assert a["skill"] == pytest.approx(expected) and a["skill"] > 0
    missed = pd.DataFrame(bt.rows("s", "x", (t14,), {"a14": np.linspace(60, 70, 11)}, known + (t14,)))
    assert not missed["covered"].iloc[0]


def test_backtest_plan_fits_up_to_2012_once_the_2010_start_lands(shipped_targets):
    plan = bt.plan(shipped_targets, 2010, 2016)
    split = dict((name, (fit, pred)) for name, fit, pred in plan["tests"])["split"]
    assert split[0] and all(t.year <= 2012 for t in split[0])
    assert split[1] and all(2013 <= t.year <= 2014 for t in split[1])
    today = dict((name, (fit, pred)) for name, fit, pred in bt.plan(shipped_targets, 2014, 2016)["tests"])
    assert today["split"][0] == ()  # nothing dated up to 2012 is computable from 2014
    assert len([k for k in today if k.startswith("lopo:")]) == 4


def test_backtest_command_writes_table_and_figure(tmp_path, capsys):
    scenario = tmp_path / "tiny.toml"
    scenario.write_text(
        f'[scenario]\nname = "tiny"\nextends = "{DEFAULT_SCENARIO}"\n\n[run]\nreplications = 1\n'
    )
    subset = tmp_path / "targets.csv"
    lines = (ROOT / "sim" / "data" / "targets.csv").read_text().splitlines()
    subset.write_text("\n".join([lines[0], lines[1], lines[2], lines[5]]) + "\n")  # two patterns, one skipped
    out = tmp_path / "bt"
    code = main(["backtest", "--out", str(out), "--population", "4", "--generations", "1", "--replications",
                 "1", "--draws", "4", "--scenario", str(scenario), "--targets", str(subset)])  # fmt: skip
    assert code == 0
    table = pd.read_csv(out / "backtest.csv")
    assert list(table.columns) == bt.COLUMNS
    assert set(table["test"]) == {"split", "lopo:mutual decisions", "lopo:appraisals"}
    assert (out / "backtest.png").read_bytes()[:4] == b"\x89PNG"
    assert "precedes the run's start year" in capsys.readouterr().err
    assert "n_mutuals_2012" in json.loads((out / "manifest.json").read_text())["skipped_targets"]


# ------------------------------------------------------------------ targets added for the 2010 start
@pytest.fixture(scope="module")
def run_2010():
    from sim.model import DivestmentModel

    sc = load_scenario(ROOT / "scenarios" / "calibration" / "calibration_2010.toml")
    return DivestmentModel(sc, seeds=[5, 6], record_councils=True).run()


def test_new_statistics_agree_with_the_national_table_and_the_spend_check(run_2010, shipped_targets):
    from sim.evidence.spend_pattern import spend_pattern

    by_name = {t.name: t for t in shipped_targets}
    wanted = ("leisure_trust_share_2013", "lg_share_of_mutuals_2014", "msp_supported_most_2012_2013",
              "council_asc_spend_change_2010_2014", "council_culture_spend_change_2010_2014")  # fmt: skip
    stats = targets.statistics(run_2010, tuple(by_name[n] for n in wanted))
    nat = run_2010.national()
    y13, y14 = nat[nat.year == 2013], nat[nat.year == 2014]
    units = [c for c in nat if c.startswith("units_leisure_")]
    trust = [f"units_leisure_{m}" for m in ("legacy_trust", "trust", "mutual", "joint_mutual")]
    share = (y13[trust].sum(axis=1) / y13[units].sum(axis=1)).to_numpy()
    np.testing.assert_allclose(stats["leisure_trust_share_2013"], share)
    assert 0.0 < share.min() and share.max() < 1.0
    np.testing.assert_allclose(
        stats["lg_share_of_mutuals_2014"], (y14.n_mutuals_lg / y14.n_mutuals).to_numpy()
    )
    # the flows of 2012-13 and 2013-14 are on the rows of 2013 and 2014
    supported = nat[nat.year.isin([2013, 2014])].groupby("batch_index").new_supported.sum().to_numpy()
    np.testing.assert_allclose(stats["msp_supported_most_2012_2013"], supported)
    pattern = spend_pattern(run_2010).set_index("service")
    for name, service in (("asc", "adult_social_care"), ("culture", "culture")):
        mean = stats[f"council_{name}_spend_change_2010_2014"].mean()  # mean over replications
        assert mean == pytest.approx(pattern.loc[service, "simulated_mean_log_change"], rel=1e-9)


def test_council_spend_targets_need_a_2010_start_and_a_total_needs_a_flow(shipped_targets, tmp_path):
    spend = next(t for t in shipped_targets if t.name == "council_asc_spend_change_2010_2014")
    assert targets.split_computable((spend,), 2010, 2016)[0] == (spend,)
    _, skipped = targets.split_computable((spend,), 2014, 2016)
    assert "precedes the run's start year 2014" in skipped[spend.name]
    text = (ROOT / "sim" / "data" / "targets.csv").read_text().splitlines()
    row = next(r for r in text if r.startswith("msp_supported_most")).replace(
        "total:new_supported", "total:n_mutuals"
    )
    path = tmp_path / "t.csv"
    path.write_text(text[0] + "\n" + row + "\n")
    with pytest.raises(ScenarioError, match="line 2.*new_ column"):
        targets.load_targets(path)


# ------------------------------------------------------------------ the defaults from the posterior
def test_the_point_is_the_particle_closest_to_the_targets_on_common_seeds(shipped_targets):
    from sim.evidence import point
    from sim.evidence.abc import simulate_stats

    sc = load_scenario(ROOT / "scenarios" / "calibration" / "calibration_2010.toml").with_changes(
        {}, replications=2
    )
    frame = pd.DataFrame(
        {
            "review.rate_per_pressure": [0.05, 0.3, 0.6],
            "appraisal.high_jump": [1.5, 0.4, 0.2],
            "weight": 1 / 3,
        }
    )
    chosen = point.choose(frame, sc, shipped_targets, 0.1)
    fit = chosen["targets"]
    d = [
        targets.distance(simulate_stats(sc, fit, dict(zip(FIT2, row, strict=True)), sc.seeds()), fit, 0.1)
        for row in frame[FIT2].itertuples(index=False)
    ]
    assert chosen["particle"] == int(np.argmin(d)) and chosen["distance"] == pytest.approx(min(d))
    assert chosen["values"] == dict(zip(FIT2, frame[FIT2].iloc[chosen["particle"]], strict=True))


def test_applying_a_point_changes_only_its_keys_values_tags_and_sources(tmp_path):
    import tomllib

    from sim.evidence import point

    before = tomllib.loads(point.REGISTRY.read_text())
    years = 3 if before["outside"]["contract_years"]["value"] != 3 else 4  # a value that differs
    text = point.apply({"appraisal.high_jump": 0.777, "outside.contract_years": years})
    after = tomllib.loads(text)
    for key, value in (("appraisal.high_jump", 0.777), ("outside.contract_years", years)):
        section, name = key.split(".", 1)
        entry = after[section][name]
        assert entry["value"] == value and entry["tag"] == "calibrated"
        assert entry["source"].startswith(point.CITATION)
        assert before[section][name]["source"].removeprefix("calibrated: ") in entry["source"]
    assert point.apply({"appraisal.high_jump": 0.777}, registry=_write(tmp_path, text)) == text  # idempotent
    changed = {
        (s, k)
        for s, section in before.items()
        if isinstance(section, dict)
        for k in section
        if section[k] != after[s][k]
    }
    assert changed == {("appraisal", "high_jump"), ("outside", "contract_years")}


def _write(tmp_path, text):
    path = tmp_path / "parameters.toml"
    path.write_text(text)
    return path


def _held_out_at_the_defaults(shipped_targets):
    from sim.evidence.abc import simulate_stats

    sc = load_scenario(ROOT / "scenarios" / "calibration" / "calibration_2010.toml")
    usable, _ = targets.split_computable(shipped_targets, 2010, sc.end_year)
    held = tuple(t for t in usable if t.role == "holdout")
    assert {"mutual_spend_2012", "mutual_spend_2014"} <= {t.name for t in held}
    stats = simulate_stats(sc, held, {}, sc.seeds())  # the defaults are the point
    return held, stats, targets.z_scores(stats, held, 0.1)


def test_the_shipped_point_file_states_the_held_out_fit_of_the_model_as_it_is(shipped_targets):
    """calibrated_2010.toml's held-out statistics and verdicts are those of the model now (kept current by
    ``python -m sim.evidence.point --refresh``), so docs and readers quoting it quote this model."""
    import tomllib

    from sim.inputs.councils import data_path

    held, stats, z = _held_out_at_the_defaults(shipped_targets)
    shipped = tomllib.loads(data_path("calibrated_2010.toml").read_text())["holdout"]
    for t, zi in zip(held, z, strict=True):
        assert shipped[t.name]["statistic"] == pytest.approx(stats[t.name], rel=1e-5)
        assert shipped[t.name]["within"] == bool(abs(zi) <= 1)


@pytest.mark.xfail(
    strict=True,
    reason="the outside sector (issue 18) and library points (issue 19) changed the model after the 2010 "
    "fit; the first year's adult social care staff change is at z = 1.004. The refit is issue 20; strict, "
    "so this test fails once the defaults are back within tolerance and the mark must go",
)
def test_patterns_held_out_of_the_2010_fit_are_within_tolerance_at_the_defaults(shipped_targets):
    """Out of sample within what was known: mutual spending 2012 and 2014, and the 2014-15 staff trends."""
    held, _, z = _held_out_at_the_defaults(shipped_targets)
    assert (np.abs(z) <= 1).all(), dict(zip([t.name for t in held], z, strict=True))


def test_calibrate_without_a_method_writes_a_posterior_and_optunas_options_choose_optuna(tmp_path):
    out = tmp_path / "p.parquet"
    args = ["--population", "4", "--generations", "1", "--replications", "1", "--quiet"]
    assert main(["calibrate", *args, "--max-simulations", "12", "--out", str(out)]) == 0
    frame = posterior_file.read(out)
    meta = json.loads(posterior_file.provenance_path(out).read_text())
    assert len(frame) == 4 and meta["sampler"] == "mcmc" and meta["fit"] == "all"
    assert sorted(frame.columns[:-1]) == sorted(candidates())  # every candidate, not only the screened
    informed = {k for k, e in meta["screen"].items() if e >= 1.0}
    assert set(meta["informed"]) == informed and informed < set(meta["fitted"])
    toml = tmp_path / "fit.toml"
    assert main(["calibrate", "--trials", "1", "--replications", "1", "--quiet", "--out", str(toml)]) == 0
    assert toml.read_text().startswith("# Written by `python -m sim calibrate`")


def test_unfitted_parameters_are_drawn_from_their_priors_within_the_constraints(two_particles):
    reg = params.registry()
    a = post.load_draws(two_particles, 11, 40, per_draw=4)
    fewer = post.load_draws(two_particles, 11, 8, per_draw=4)
    assert a.values[:2] == fewer.values  # draw d does not depend on how many
    assert a.values == post.load_draws(two_particles, 11, 40, per_draw=4).values
    assert a.values != post.load_draws(two_particles, 12, 40, per_draw=4).values
    unfitted = set(candidates()) - {"review.rate_per_pressure"}
    assert set(a.prior_keys) == unfitted and a.describe()["unfitted"] == "prior"
    for v in a.values:
        assert set(v) == unfitted | {"review.rate_per_pressure"}
        for k in unfitted:
            lo, hi = reg[k].plausible
            assert lo <= v[k] <= hi, k
        assert not params.check_constraints({**params.defaults(), **v})
    spread = np.std([v["outside.fail_rate_per_year"] for v in a.values])
    lo, hi = reg["outside.fail_rate_per_year"].plausible
    assert spread > 0.15 * (hi - lo)  # drawn across the range, not at the default
    kept = post.load_draws(two_particles, 11, 40, per_draw=4, unfitted="defaults")
    assert all(set(v) == {"review.rate_per_pressure"} for v in kept.values) and not kept.prior_keys


def test_a_scenarios_own_changes_override_the_posterior_draws(tiny, two_particles):
    from sim.experiments.run import run_scenario

    sc = tiny.with_changes({"review.rate_per_pressure": 0.2}, replications=8)
    draws = post.load_draws(two_particles, sc.seed, sc.replications, per_draw=4, unfitted="defaults")
    with_draws = post.run_with_draws(sc, draws, record_councils=False).national
    plain = run_scenario(sc, record_councils=False).national
    pd.testing.assert_frame_equal(with_draws, plain)  # the draws' only parameter is the scenario's own


def test_the_point_command_refuses_a_missing_posterior_and_a_file_it_did_not_make(tmp_path, capsys):
    from sim.evidence import point

    out = tmp_path / "point.toml"
    assert point.main([str(tmp_path / "none.parquet"), "--out", str(out)]) == 2
    assert "none.parquet: no such posterior file" in capsys.readouterr().err and not out.exists()
    out.write_text("mine\n")
    assert point.main([str(tmp_path / "none.parquet"), "--out", str(out)]) == 2
    assert "never replaced" in capsys.readouterr().err and out.read_text() == "mine\n"
