"""Sweeps: file validation, design sizes, identical results on any workers, resume, failures."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import sweep as sweep_mod
from sim.experiments.store import ID_COLUMNS, SweepError, chunk_files, locked
from sim.experiments.sweep import completed_run_ids, read_failures, read_manifest, read_runs, run_sweep
from sim.experiments.sweep_spec import RUN_ID_STRIDE, load_sweep
from sim.inputs import params
from sim.inputs.scenario import ScenarioError, replication_seeds

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
BASELINE = ROOT / "scenarios" / "baseline.toml"


def write_sweep(tmp_path: Path, body: str, name: str = "sweep.toml") -> Path:
    path = tmp_path / name
    path.write_text(body.replace("BASE", str(BASELINE)))
    return path


@pytest.fixture(scope="module")
def arms_run(tmp_path_factory):
    """The small arms sweep run once in this process: (sweep, folder, runs)."""
    out = tmp_path_factory.mktemp("arms") / "out"
    sweep = load_sweep(DATA / "sweep_arms.toml")
    summary = run_sweep(sweep, out, workers=1)
    assert summary.n_executed == sweep.n_runs == 12
    return sweep, out, read_runs(out)


# ------------------------------------------------------------------ validation
def doc(sweep: str = "", run: str = "", rest: str = "") -> str:
    """A sweep file: a valid head with extra lines in [sweep] and [run], then more tables."""
    return f'[sweep]\nbase = "BASE"\n{sweep}\n[run]\nreplications = 2\nseed = 1\n{run}\n{rest}\n'


LHS = "[design]\nkind = 'lhs'\nsamples = 4\n[factors]\n"
INVALID = [
    ("unknown-table", doc(rest="[sweeep]\nname = 'x'"), "sweeep: unknown table"),
    ("unknown-sweep-key", doc(sweep="nmae = 'x'"), "sweep.nmae: unknown key"),
    ("sweep-wrong-type", doc(sweep="name = 3"), "sweep.name: expected str"),
    ("unknown-run-key", doc(run="replicatoins = 2"), "run.replicatoins: unknown key"),
    ("run-wrong-type", doc(run="end_year = '2016'"), "run.end_year: expected int"),
    ("run-out-of-range", doc(run="end_year = 2050"), "run.end_year: 2050 is outside"),
    ("missing-base", doc().replace('"BASE"', '"nowhere.toml"'), "sweep.base: file not found"),
    (
        "arm-unknown-parameter",
        doc(rest="[arms.a]\n'policy.publicty' = 2.0"),
        "arms.a.policy.publicty: unknown",
    ),
    (
        "arm-wrong-type",
        doc(rest="[arms.a]\n'policy.publicity' = 'lots'"),
        "arms.a.policy.publicity: expected float",
    ),
    (
        "arm-out-of-range",
        doc(rest="[arms.a]\n'policy.publicity' = 9.0"),
        "arms.a.policy.publicity: 9.0 is above",
    ),
    (
        "arm-nested-out-of-range",
        doc(rest="[arms.a.support]\nend_year = 1990"),
        "arms.a.support.end_year: 1990",
    ),
    ("fixed-out-of-range", doc(rest="[parameters]\n'policy.simplification' = 1.5"), "parameters.policy.simp"),
    (
        "baseline-arm-missing",
        doc(sweep="baseline_arm = 'base'", rest="[arms.a]\n[arms.b]"),
        "sweep.baseline_arm",
    ),
    ("design-kind", doc(rest="[design]\nkind = 'grid'"), "design.kind: 'grid' is not one of"),
    ("design-unknown-key", doc(rest=LHS.replace("samples = 4", "sedd = 1")), "design.sedd: unknown key"),
    (
        "factors-without-design",
        doc(rest="[factors]\n'policy.publicity' = [1.0, 2.0]"),
        "design.kind: required",
    ),
    (
        "lhs-needs-samples",
        doc(rest="[design]\nkind = 'lhs'\n[factors]\n'policy.publicity' = [1.0]"),
        "samples: required",
    ),
    (
        "sobol-power-of-2",
        doc(rest="[design]\nkind = 'sobol'\nsamples = 6\n[factors]\n'policy.publicity' = {min = 0, max = 2}"),
        "design.samples: Saltelli sampling needs a power of 2",
    ),
    (
        "factorial-needs-levels",
        doc(rest="[design]\nkind = 'factorial'\n[factors]\n'policy.publicity' = {min = 0, max = 2}"),
        "factors.policy.publicity: a factorial design needs levels",
    ),
    (
        "factor-range-outside-registry",
        doc(rest=LHS + "'review.rate_per_pressure' = {min = -1.0, max = 1.0}"),
        "factors.review.rate_per_pressure.min: -1.0 is below",
    ),
    (
        "factor-level-wrong-type",
        doc(rest="[design]\nkind = 'factorial'\n[factors]\n'policy.duty_to_consider' = [true, 1]"),
        "factors.policy.duty_to_consider: level 1: expected bool",
    ),
    ("factor-range-on-bool", doc(rest=LHS + "'policy.duty_to_consider' = {min = 0, max = 1}"), "not a range"),
    (
        "factor-min-above-max",
        doc(rest=LHS + "'policy.publicity' = {min = 2.0, max = 1.0}"),
        "min 2.0 must be below",
    ),
    (
        "factor-unknown",
        doc(rest=LHS + "'policy.nope' = [1.0, 2.0]"),
        "factors.policy.nope: unknown parameter",
    ),
    (
        "factor-also-an-arm",
        doc(rest="[arms.a]\n'policy.publicity' = 2.0\n" + LHS + "'policy.publicity' = [1.0, 3.0]"),
        "arms.a.policy.publicity: also a factor",
    ),
]


@pytest.mark.parametrize("text, expected", [(t, e) for _, t, e in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_sweep_names_file_and_key(tmp_path, text, expected):
    path = write_sweep(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert all(p.startswith(str(path)) for p in info.value.problems), info.value.problems
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_every_problem_is_reported_at_once(tmp_path):
    path = write_sweep(
        tmp_path,
        """
[sweep]
base = "missing_base.toml"
colour = "red"
[run]
replications = 0
[arms.a]
"policy.publicity" = 9.0
"policy.nope" = 1
[design]
kind = "sobol"
samples = 5
[factors]
"review.rate_per_pressure" = { min = 0.0, max = 99.0 }
""",
    )
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    problems = info.value.problems
    expected = [
        "sweep.base: file not found",
        "sweep.colour: unknown key",
        "run.replications: 0 is outside",
        "run.seed: required",
        "arms.a.policy.publicity: 9.0 is above",
        "arms.a.policy.nope: unknown parameter",
        "design.samples: Saltelli sampling needs a power of 2",
        "factors.review.rate_per_pressure.max: 99.0 is above",
    ]
    for text in expected:
        assert any(text in p for p in problems), (text, problems)
    assert all(p.startswith(str(path)) for p in problems)


def test_problems_in_the_base_scenario_are_reported(tmp_path):
    (tmp_path / "base.toml").write_text('[parameters]\n"policy.publicity" = -1.0\n')
    path = write_sweep(tmp_path, doc().replace("BASE", "base.toml"))
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    assert any("sweep.base" in p and "parameters.policy.publicity" in p for p in info.value.problems)


def test_missing_sweep_file():
    with pytest.raises(ScenarioError, match="file not found"):
        load_sweep(DATA / "no_such_sweep.toml")


def test_shipped_sweeps_load_and_record_tags():
    levers = load_sweep(ROOT / "scenarios" / "sweeps" / "levers.toml")
    assert levers.baseline_arm == "baseline" and levers.arms["baseline"] == {}
    assert {v["tag"] for v in levers.varied.values()} == {"lever"}
    assert levers.arms["support_doubled"] == {"support.budget_gbp_m_per_year": 10.0}
    sens = load_sweep(ROOT / "scenarios" / "sweeps" / "sensitivity.toml")
    assert sens.design.kind == "sobol" and {v["tag"] for v in sens.varied.values()} <= {
        "uncertainty",
        "calibrated",
    }
    registry = params.registry()
    assert all(v["tag"] == registry[k].tag for k, v in sens.varied.items())
    for factor in sens.design.factors:  # over the registry's plausible ranges, defaults inside them
        spec = registry[factor.key]
        assert factor.bounds == pytest.approx(spec.plausible), factor.key
        assert spec.plausible[0] <= spec.default <= spec.plausible[1]


# ------------------------------------------------------------------ designs
def test_factorial_size_is_the_product_of_levels():
    sweep = load_sweep(DATA / "sweep_factorial.toml")
    assert sweep.n_points == 2 * 3 and sweep.n_runs == 6 * 2
    combos = {(p["policy.duty_to_consider"], p["policy.publicity"]) for p in sweep.design.points}
    assert combos == {(d, x) for d in (False, True) for x in (1.0, 2.0, 3.0)}


def test_latin_hypercube_has_n_points_one_per_stratum():
    sweep = load_sweep(DATA / "sweep_lhs.toml")
    n = 7
    assert sweep.n_points == n and sweep.n_cases == 2 * n
    rates = np.array([p["review.rate_per_pressure"] for p in sweep.design.points])
    strata = np.floor((rates - 0.1) / 0.9 * n).astype(int)
    assert sorted(strata) == list(range(n))
    assert {p["transition.lag_mutual"] for p in sweep.design.points} <= {1, 2, 3}
    assert all(isinstance(p["transition.lag_mutual"], int) for p in sweep.design.points)
    assert {p["funding.path"] for p in sweep.design.points} == {"data", "flat"}


@pytest.mark.parametrize("second_order, size", [(True, 8 * (2 * 3 + 2)), (False, 8 * (3 + 2))])
def test_saltelli_size(tmp_path, second_order, size):
    text = (DATA / "sweep_sobol.toml").read_text().replace("../../scenarios/baseline.toml", "BASE")
    text = text.replace("seed = 2", f"seed = 2\nsecond_order = {str(second_order).lower()}")
    sweep = load_sweep(write_sweep(tmp_path, text))
    assert sweep.n_points == size
    assert all(0.0 <= p["outside.staff_growth_per_year"] <= 0.1 for p in sweep.design.points)


# ------------------------------------------------------------------ rows and seeds
def test_every_row_names_its_run_arm_seed_and_lever_values(arms_run):
    sweep, out, runs = arms_run
    assert set(ID_COLUMNS) <= set(runs.columns) and set(sweep.varied) <= set(runs.columns)
    assert (runs["seed"] == np.array(sweep.seeds())[runs["replication"]]).all()
    assert (runs["run_id"] == runs["arm_index"] * RUN_ID_STRIDE + runs["replication"]).all()
    by_arm = runs.groupby("arm")
    assert by_arm["policy.publicity"].unique()["publicity"].tolist() == [2.5]
    assert by_arm["policy.publicity"].unique()["baseline"].tolist() == [1.0]
    assert by_arm["policy.simplification"].unique()["simplification"].tolist() == [0.8]
    assert sorted(runs["year"].unique()) == [2014, 2015, 2016]
    manifest = read_manifest(out)
    assert manifest["sweep"]["varied"]["policy.publicity"]["tag"] == "lever"
    assert manifest["seeds"] == replication_seeds(99, 3)
    assert manifest["provenance"]["versions"]["mesa"]
    assert "[arms.baseline_copy]" in manifest["sweep_file"]["text"]


# ------------------------------------------------------------------ workers and clusters
def test_one_worker_two_workers_and_dask_give_identical_results(tmp_path):
    pytest.importorskip("distributed")
    sweep = load_sweep(DATA / "sweep_lhs.toml")
    run_sweep(sweep, tmp_path / "one", workers=1)
    run_sweep(sweep, tmp_path / "two", workers=2, chunk_size=2)
    # the program's own LocalCluster (loopback only), reached through its scheduler's address
    summary = run_sweep(sweep, tmp_path / "dask", scheduler="local", workers=2, chunk_size=3)
    assert summary.n_executed == sweep.n_runs == 14
    one = read_runs(tmp_path / "one")
    assert one["run_id"].nunique() == 14 and set(one["funding.path"]) == {"data", "flat"}
    for other in ("two", "dask"):
        pd.testing.assert_frame_equal(one, read_runs(tmp_path / other), check_exact=True)


# ------------------------------------------------------------------ resume
def test_resume_after_a_lost_chunk_and_a_stray_temp_file(tmp_path, arms_run):
    sweep, _, reference = arms_run
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=1, chunk_size=2)
    files = chunk_files(out, "runs")
    assert len(files) == 6
    files[2].unlink()  # as if killed before this chunk was renamed into place
    stray = out / "runs" / f".{files[2].name}.tmp-12345-deadbeef"
    stray.write_bytes(b"half a parquet file")
    summary = run_sweep(sweep, out, workers=1, chunk_size=2)
    assert (summary.n_skipped, summary.n_executed) == (10, 2)
    assert not stray.exists()
    runs = read_runs(out)
    assert not runs.duplicated(["run_id", "year"]).any()
    pd.testing.assert_frame_equal(runs, reference, check_exact=True)
    assert run_sweep(sweep, out, workers=1).n_executed == 0


def test_sigkill_then_rerun_finishes_without_loss_or_duplicates(tmp_path, arms_run):
    _, _, reference = arms_run
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim", "sweep", str(DATA / "sweep_arms.toml"), "--out", str(out)]
    cmd += ["--workers", "1", "--chunk-size", "20", "--replications", "150", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while not chunk_files(out, "runs") and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()
    done = len(completed_run_ids(out))
    assert 0 < done < 600
    sweep = load_sweep(DATA / "sweep_arms.toml").with_replications(150)
    summary = run_sweep(sweep, out, workers=1)
    assert summary.n_skipped == done and summary.n_executed == 600 - done
    runs = read_runs(out)
    expected = {a * RUN_ID_STRIDE + r for a in range(4) for r in range(150)}
    assert set(runs["run_id"]) == expected
    assert not runs.duplicated(["run_id", "year"]).any() and len(runs) == 600 * 3
    first_three = runs[runs["replication"] < 3].reset_index(drop=True)
    pd.testing.assert_frame_equal(first_three, reference, check_exact=True)


def test_more_replications_reuse_the_runs_done(tmp_path, arms_run):
    sweep, _, reference = arms_run
    out = tmp_path / "out"
    assert run_sweep(sweep.with_replications(2), out, workers=1).n_executed == 8
    summary = run_sweep(sweep, out, workers=1)
    assert (summary.n_skipped, summary.n_executed) == (8, 4)
    pd.testing.assert_frame_equal(read_runs(out), reference, check_exact=True)
    assert read_manifest(out)["sweep"]["run"]["replications"] == 3


def test_a_different_sweep_in_the_same_folder_is_refused(tmp_path):
    text = (DATA / "sweep_arms.toml").read_text().replace("../../scenarios/baseline.toml", "BASE")
    out = tmp_path / "out"
    run_sweep(
        load_sweep(write_sweep(tmp_path, text.replace("replications = 3", "replications = 1"))),
        out,
        workers=1,
    )
    changed = text.replace('"policy.simplification" = 0.8', '"policy.simplification" = 0.5')
    with pytest.raises(SweepError, match="changed: arms"):
        run_sweep(load_sweep(write_sweep(tmp_path, changed)), out, workers=1)
    with pytest.raises(SweepError, match="run.seed"):
        run_sweep(load_sweep(write_sweep(tmp_path, text.replace("seed = 99", "seed = 98"))), out, workers=1)
    renamed = text.replace("Small arms sweep for tests.", "Reworded.")  # compatible: only words changed
    assert run_sweep(load_sweep(write_sweep(tmp_path, renamed)), out, workers=1).n_executed == 8
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(SweepError, match="not empty"):
        run_sweep(load_sweep(write_sweep(tmp_path, text)), tmp_path / "other", workers=1)


def test_a_folder_being_written_is_locked(tmp_path):
    sweep = load_sweep(DATA / "sweep_arms.toml")
    with locked(tmp_path / "out"), pytest.raises(SweepError, match="another sweep"):
        run_sweep(sweep, tmp_path / "out", workers=1)


# ------------------------------------------------------------------ failures
def test_a_run_that_raises_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch, arms_run):
    sweep, _, reference = arms_run
    real = sweep_mod.simulate_batch

    second = sweep.seeds()[1]

    def flaky(scenario, seeds):  # runs of a case are batched: the batch holding replication 1 raises
        if second in seeds and scenario.params["policy.publicity"] == 2.5:
            raise FloatingPointError("injected failure")
        return real(scenario, seeds)

    monkeypatch.setattr(sweep_mod, "simulate_batch", flaky)
    out = tmp_path / "out"
    summary = run_sweep(sweep, out, workers=1, chunk_size=5)
    assert (summary.n_executed, summary.n_failed) == (12, 1)
    failures = read_failures(out)
    assert failures["run_id"].tolist() == [3 * RUN_ID_STRIDE + 1]
    assert failures.loc[0, "arm"] == "publicity" and failures.loc[0, "seed"] == second
    assert "FloatingPointError: injected failure" in failures.loc[0, "error"]
    assert "flaky" in failures.loc[0, "traceback"]
    assert read_runs(out)["run_id"].nunique() == 11
    assert run_sweep(sweep, out, workers=1).n_executed == 0  # a recorded failure counts as done
    monkeypatch.setattr(sweep_mod, "simulate_batch", real)
    summary = run_sweep(sweep, out, workers=1, retry_failed=True)
    assert (summary.n_executed, summary.n_failed) == (1, 0)
    assert read_failures(out).empty
    pd.testing.assert_frame_equal(read_runs(out), reference, check_exact=True)


# ------------------------------------------------------------------ command line
def test_cli_sweep_default_folder_and_exit_codes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["sweep", str(DATA / "sweep_arms.toml"), "--workers", "1", "--replications", "1"]) == 0
    out = tmp_path / "results" / "sweep-test-arms"
    assert len(completed_run_ids(out)) == 4
    assert "compare the arms" in capsys.readouterr().out
    bad = write_sweep(tmp_path, doc(rest="[arms.a]\n'policy.publicity' = 'x'"))
    assert main(["sweep", str(bad), "--quiet"]) == 2
    assert "arms.a.policy.publicity" in capsys.readouterr().err
    shutil.copy(DATA / "sweep_arms.toml", tmp_path / "elsewhere.toml")  # base path no longer resolves
    assert main(["sweep", str(tmp_path / "elsewhere.toml"), "--quiet"]) == 2
    assert "sweep.base: file not found" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "results/sweep-<sweep name>" in capsys.readouterr().out.replace("\n", " ").replace("  ", " ")


# ------------------------------------------------------------------ damaged stores and changed inputs
def test_a_chunk_copied_under_another_name_is_refused_not_hidden(tmp_path, arms_run):
    sweep, _, _ = arms_run
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=1, chunk_size=4)
    first = chunk_files(out, "runs")[0]
    copy = first.with_name("chunk-000000000000-0000000000.parquet")
    shutil.copy(first, copy)
    for read in (read_runs, completed_run_ids, lambda o: run_sweep(sweep, o, workers=1)):
        with pytest.raises(SweepError, match="copy of chunk"):
            read(out)
    copy.unlink()
    assert run_sweep(sweep, out, workers=1).n_executed == 0


def test_a_run_stored_twice_is_refused(tmp_path, arms_run):
    import pyarrow.parquet as pq

    sweep, _, _ = arms_run
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=1, chunk_size=4)
    first = chunk_files(out, "runs")[0]
    table = pq.read_table(first)
    copy = first.with_name("chunk-999999999999-ffffffffff.parquet")
    named = {**table.schema.metadata, b"mutuals_sim_chunk": copy.name.encode()}  # renamed inside too
    pq.write_table(table.replace_schema_metadata(named), copy)
    with pytest.raises(SweepError, match="stored twice"):
        read_runs(out)
    pq.write_table(table.replace_schema_metadata({}), copy)  # as a hand (or an older version) wrote it
    with pytest.raises(SweepError, match="not a chunk this program wrote"):
        read_runs(out)


def test_a_chunk_of_another_sweep_is_refused(tmp_path, arms_run):
    _, reference_dir, _ = arms_run
    text = (DATA / "sweep_arms.toml").read_text().replace("../../scenarios/baseline.toml", "BASE")
    other = load_sweep(write_sweep(tmp_path, text.replace("seed = 99", "seed = 7")))
    out = tmp_path / "other"
    run_sweep(other, out, workers=1, chunk_size=12)
    (mine,) = chunk_files(out, "runs")
    mine.unlink()
    shutil.copy(chunk_files(reference_dir, "runs")[0], out / "runs")  # same run ids, other seeds
    with pytest.raises(SweepError, match="another sweep"):
        completed_run_ids(out)


FUNDING_SWEEP = """
[sweep]
name = "funding-file"
base = "BASE"
[run]
replications = 1
seed = 1
end_year = 2016
[parameters]
"funding.path" = "file"
"funding.path_file" = "path.csv"
[arms.baseline]
[arms.publicity]
"policy.publicity" = 2.0
"""


def test_a_resumed_sweep_refuses_a_changed_funding_file(tmp_path):
    funding = tmp_path / "path.csv"
    funding.write_text("ons_code,year,cash_change\nE10000029,2016,-0.05\n")
    path = write_sweep(tmp_path, FUNDING_SWEEP)
    out = tmp_path / "out"
    run_sweep(load_sweep(path).with_replications(1), out, workers=1)
    inputs = {item["role"]: item for item in read_manifest(out)["inputs"]}
    assert set(inputs) == {"sweep", "scenario", "funding"}
    assert inputs["funding"]["path"] == str(funding) and len(inputs["funding"]["sha256"]) == 64
    assert run_sweep(load_sweep(path).with_replications(2), out, workers=1).n_executed == 2  # unchanged
    funding.write_text("ons_code,year,cash_change\nE10000029,2016,-0.25\n")
    with pytest.raises(SweepError, match="changed since this sweep started"):
        run_sweep(load_sweep(path).with_replications(3), out, workers=1)
    assert len(completed_run_ids(out)) == 4, "the runs done are kept"
    assert main(["sweep", str(path), "--out", str(out), "--replications", "3", "--quiet"]) == 2


def test_compare_refuses_an_unfinished_sweep_unless_partial(tmp_path, arms_run, capsys):
    sweep, _, _ = arms_run
    out = tmp_path / "out"
    run_sweep(sweep, out, workers=1, chunk_size=2)
    sorted(chunk_files(out, "runs"))[-1].unlink()  # as if killed before the last chunk
    assert main(["compare", str(out)]) == 2
    err = capsys.readouterr().err
    assert "not finished (10 of 12 runs done)" in err and "--partial" in err
    assert not (out / "compare").exists()
    assert main(["compare", str(out), "--partial"]) == 0
    assert "comparing 10 of 12 runs" in capsys.readouterr().err
    assert (out / "compare" / "report.md").is_file()
    for chunk in chunk_files(out, "runs")[:2]:  # the baseline arm's three runs (run ids 0-2)
        chunk.unlink()
    assert main(["compare", str(out), "--partial", "--force"]) == 2
    assert "the baseline arm 'baseline' has no finished runs" in capsys.readouterr().err


# ------------------------------------------------------------------ Dask fails loudly, binds to loopback
def test_a_scheduler_without_workers_is_an_error_not_a_hang(tmp_path, monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(sweep_mod, "WORKERS_TIMEOUT_S", 1)
    with sweep_mod.local_cluster(0) as cluster:  # a scheduler and no workers
        assert cluster.scheduler_address.startswith("tcp://127.0.0.1:")
        assert "127.0.0.1" in cluster.dashboard_link
        t0 = time.monotonic()
        with pytest.raises(SweepError, match="no workers after 1 s"):
            run_sweep(
                load_sweep(DATA / "sweep_arms.toml"), tmp_path / "out", scheduler=cluster.scheduler_address
            )
        assert time.monotonic() - t0 < 30
    assert not (tmp_path / "out").exists(), "nothing left behind"


def test_a_funding_file_changed_during_a_sweep_is_an_error(tmp_path, monkeypatch):
    funding = tmp_path / "path.csv"
    funding.write_text("ons_code,year,cash_change\nE10000029,2016,-0.05\n")
    sweep = load_sweep(write_sweep(tmp_path, FUNDING_SWEEP))
    real = sweep_mod.simulate_batch

    def edit_then_run(scenario, seeds):
        funding.write_text("ons_code,year,cash_change\nE10000029,2016,-0.3\n")  # an editor saves mid-sweep
        return real(scenario, seeds)

    monkeypatch.setattr(sweep_mod, "simulate_batch", edit_then_run)
    with pytest.raises(SweepError, match="changed while the sweep ran"):
        run_sweep(sweep, tmp_path / "out", workers=1)
    assert read_manifest(tmp_path / "out")["sessions"][-1]["inputs_changed"]
