"""The command line answers at once: what it imports, what it prints, and how it refuses wrong folders.

No timings here (benchmarks measure speed); these tests check the causes of slowness instead: which
heavy libraries a command or a sweep worker imports.
"""

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments.progress import Progress
from sim.inputs.params import registry

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "mesa", "matplotlib", "scipy", "dask", "distributed", "optuna", "SALib")


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print('\\nMODULES', ' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return {name.split(".")[0] for name in out.rpartition("\nMODULES ")[2].split()}


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["--version"], ["params"], ["check", "scenarios/baseline.toml"]],
    ids=["help", "version", "params", "check"],
)
def test_quick_commands_import_no_heavy_library(argv):
    code = f"import sys\nfrom sim.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    assert not _modules_after(code) & set(HEAVY)


def test_a_sweep_worker_imports_only_what_a_run_needs():
    code = (
        "from sim.experiments.sweep import run_chunk\n"
        "from sim.model import DivestmentModel\n"
        "from sim.experiments.sweep_spec import load_sweep\n"
        "sw = load_sweep('scenarios/sweeps/levers.toml').with_replications(1)\n"
        "from sim.experiments.sweep import _tasks\n"
        "task = next(_tasks(sw, [(0, 0, 0, sw.seed)], 1))\n"
        "assert run_chunk(task).runs.num_rows > 0"
    )
    assert not _modules_after(code) & {"matplotlib", "dask", "distributed", "optuna", "SALib"}


def test_params_filters_by_tag_and_prints_json(capsys):
    assert main(["params", "--tag", "lever", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows and {r["tag"] for r in rows} == {"lever"}
    assert {"source", "description", "unit", "default"} <= set(rows[0])


def test_params_prints_years_as_integers_and_text_values(capsys):
    assert main(["params", "--key", "funding.path"]) == 0
    out = capsys.readouterr().out
    assert "funding.path = data" in out
    assert main(["params", "--key", "support.end_year"]) == 0
    out = capsys.readouterr().out
    spec = registry()["support.end_year"]
    assert f"support.end_year = {spec.default}  " in out and f"allowed {spec.min} to {spec.max}" in out
    assert ".00" not in out and "source:" in out


def test_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert "mutuals-sim" in capsys.readouterr().out


def test_check_accepts_scenarios_and_sweeps_and_rejects_bad_files(tmp_path, capsys):
    assert main(["check", "scenarios/baseline.toml", "scenarios/sweeps/levers.toml"]) == 0
    out = capsys.readouterr().out
    assert "scenario 'baseline'" in out and "sweep 'levers'" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[parameters]\n"support.budget_gbp_m_per_yer" = 3\n')
    assert main(["check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "support.budget_gbp_m_per_yer" in err


def test_compare_and_map_refuse_the_wrong_kind_of_folder(tmp_path, capsys):
    run = tmp_path / "run"
    argv = ["run", "scenarios/baseline.toml", "--out", str(run), "--replications", "1", "--end-year", "2015"]
    assert main([*argv, "--quiet"]) == 0
    assert main(["compare", str(run)]) == 2
    err = capsys.readouterr().err
    assert "run" in err and "sweep" in err and "Traceback" not in err
    (tmp_path / "sweep").mkdir()
    (tmp_path / "sweep" / "design.parquet").write_bytes(b"")
    argv = ["map", str(tmp_path / "sweep"), "--service", "leisure", "--year", "2015", "--out", "x.png"]
    assert main(argv) == 2
    assert "sweep's results folder" in capsys.readouterr().err


def test_progress_prints_plain_lines_off_a_terminal():
    stream = io.StringIO()
    with Progress(20, "replications", stream=stream) as bar:
        for _ in range(20):
            bar.update()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 10 and "\r" not in stream.getvalue()
    assert lines[-1].startswith("replications: 20/20")


def test_run_progress_moves_each_year_and_changes_no_result():
    from sim.experiments.run import run_scenario
    from sim.inputs.scenario import load_scenario

    scenario = load_scenario(ROOT / "scenarios/baseline.toml").with_changes(
        {}, replications=10, end_year=2017
    )
    calls = []
    with_bar = run_scenario(
        scenario, record_councils=False, progress=lambda done, total: calls.append((done, total))
    )
    plain = run_scenario(scenario, record_councils=False)
    assert with_bar.national.equals(plain.national)
    done = [d for d, _ in calls]
    assert done == sorted(done) and done[-1] == 10 and {t for _, t in calls} == {10}
    assert len(calls) >= 6  # every year of every batch, not once per batch
