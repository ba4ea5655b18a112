"""What an analyst plugs into: shipped names everywhere, missing extras named, the program named as invoked,
the version, --quiet's results path, shell completion, the notebooks written out, citation and changelog."""

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import sim
from sim.cli import main
from sim.experiments.sweep_spec import load_sweep
from sim.inputs.scenario import ScenarioError, load_scenario
from sim.inputs.shipped import scenarios_dir

ROOT = Path(__file__).resolve().parent.parent


# --- shipped scenario names everywhere -----------------------------------------------------------------


def test_load_scenario_takes_a_shipped_name(baseline):
    by_name = load_scenario("baseline")
    assert by_name.params == baseline.params and by_name.path == baseline.path
    assert load_scenario("history_2010").start_year == 2010


def test_extends_and_a_sweep_base_take_shipped_names_from_any_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no baseline.toml here or beside the files
    (tmp_path / "mine.toml").write_text(
        '[scenario]\nname = "mine"\nextends = "baseline"\n[parameters]\n"support.end_year" = 2015\n'
    )
    mine = load_scenario(tmp_path / "mine.toml")
    assert mine.params["support.end_year"] == 2015
    assert mine.sources[0] == str((scenarios_dir() / "baseline.toml").resolve())
    (tmp_path / "sw.toml").write_text(
        '[sweep]\nname = "s"\nbase = "no_support_after_2015"\n[run]\nreplications = 1\nseed = 1\n'
    )
    assert load_sweep(tmp_path / "sw.toml").base.params == load_scenario("no_support_after_2015").params
    assert load_sweep("sweeps/levers").name == load_sweep(scenarios_dir() / "sweeps/levers.toml").name


def test_a_file_beside_the_scenario_wins_over_a_shipped_name(tmp_path):
    (tmp_path / "baseline.toml").write_text(
        '[scenario]\nname = "local"\n[parameters]\n"support.end_year" = 2017\n'
    )
    (tmp_path / "child.toml").write_text('[scenario]\nextends = "baseline.toml"\n')
    assert load_scenario(tmp_path / "child.toml").params["support.end_year"] == 2017


def test_an_unknown_name_lists_the_shipped_ones(tmp_path):
    (tmp_path / "bad.toml").write_text('[scenario]\nextends = "basline"\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "bad.toml")
    (problem,) = err.value.problems
    assert "scenario.extends: file not found" in problem and problem.endswith("did you mean baseline?")


def test_explore_opens_a_shipped_scenario_by_name(monkeypatch):
    pytest.importorskip("solara")
    import solara.__main__

    from sim.pictures.explorer import ENV_SCENARIO

    seen = {}

    def fake_main(args, prog_name, standalone_mode):  # the server, run inside the command: not started
        seen[ENV_SCENARIO] = os.environ[ENV_SCENARIO]

    monkeypatch.delenv(ENV_SCENARIO, raising=False)  # restored after the test: the command sets it
    monkeypatch.setattr(solara.__main__.run, "main", fake_main)
    assert main(["explore", "--scenario", "duty_to_consider", "--port", "0"]) == 0
    assert seen[ENV_SCENARIO] == str((scenarios_dir() / "duty_to_consider.toml").resolve())


def test_notebooks_reach_scenarios_by_name():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        code = "".join(
            "".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
        )
        loads = re.findall(r"load_(?:scenario|sweep)\(([^)]*)\)", code)
        assert loads and all(re.fullmatch(r"'(sweeps/)?[a-z_0-9]+'", arg) for arg in loads), (
            path.name,
            loads,
        )


def test_the_notebooks_command_writes_them_into_a_new_folder_only(tmp_path, capsys):
    out = tmp_path / "nb"
    assert main(["notebooks", str(out)]) == 0
    assert sorted(p.name for p in out.glob("*.ipynb")) == sorted(
        p.name for p in (ROOT / "notebooks").glob("*.ipynb")
    )
    assert (out / "01_baseline.ipynb").read_bytes() == (ROOT / "notebooks" / "01_baseline.ipynb").read_bytes()
    assert main(["notebooks", str(out)]) == 2  # exists: --force to replace
    assert main(["notebooks", str(out), "--force"]) == 0
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main(["notebooks", str(mine), "--force"]) == 2
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


# --- missing extras: named, exit 2, nothing written ----------------------------------------------------

MISSING = [
    ("optuna", ["calibrate", "--method", "optuna", "--trials", "1", "--out", "{tmp}/cal.toml"], "calibrate"),
    (
        "pyabc",
        ["calibrate", "--sampler", "pyabc", "--generations", "1", "--out", "{tmp}/post.parquet"],
        "calibrate",
    ),
    ("pyabc", ["backtest", "--sampler", "pyabc", "--out", "{tmp}/bt"], "calibrate"),
    ("distributed", ["sweep", "sweeps/levers", "--scheduler", "local", "--out", "{tmp}/sw"], "dask"),
    ("solara", ["explore"], "explore"),
]


def _without(module: str, argv: list[str], tmp: Path) -> subprocess.CompletedProcess:
    code = (
        f"import sys; sys.modules[{module!r}] = None\n"
        "from sim.cli import main\n"
        f"sys.exit(main({[a.format(tmp=tmp) for a in argv]!r}))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=tmp, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(("module", "argv", "extra"), MISSING, ids=[f"{m[0]}-{m[1][0]}" for m in MISSING])
def test_a_missing_extra_is_named_with_exit_code_2(module, argv, extra, tmp_path):
    done = _without(module, argv, tmp_path)
    assert done.returncode == 2, done.stderr
    assert f'pip install "mutuals-sim[{extra}]"' in done.stderr
    assert "internal error" not in done.stderr and "Traceback" not in done.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_the_ema_adapter_names_its_extra_in_python(tmp_path):
    code = (
        "import sys; sys.modules['ema_workbench'] = None\n"
        "from sim.experiments import ema\n"
        "try:\n    ema.model(scenario='baseline')\nexcept ImportError as exc:\n    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert 'pip install "mutuals-sim[ema]"' in done.stdout


def test_an_extra_too_old_is_told_to_upgrade_and_other_modules_are_not_ours():
    pytest.importorskip("optuna")
    from sim.inputs.extras import from_error

    too_old = ModuleNotFoundError("no", name="optuna.storages.no_such_part")
    assert 'pip install --upgrade "mutuals-sim[calibrate]"' in from_error(too_old)
    assert "not installed" in from_error(ModuleNotFoundError("no", name="optuna"))
    assert from_error(ModuleNotFoundError("no", name="sqlalchemy")) is None  # not an extra: a real bug


# --- the program as invoked, version, --quiet, completion -----------------------------------------------


def test_usage_and_hints_name_the_program_as_invoked(tmp_path):
    env = {**os.environ, "COLUMNS": "200"}
    as_module = subprocess.run(
        [sys.executable, "-m", "sim", "run", "--help"], capture_output=True, text=True, check=True, env=env
    ).stdout
    assert as_module.startswith("usage: python -m sim run")
    script = Path(sys.executable).parent / "mutuals-sim"
    if script.exists():
        as_script = subprocess.run(
            [script, "run", "--help"], capture_output=True, text=True, check=True
        ).stdout
        assert as_script.startswith("usage: mutuals-sim run")
        done = subprocess.run(
            [script, "check", "sweeps/nothing"], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 2


def test_the_version_comes_from_the_package_metadata():
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert sim.__version__ == declared and "__version__" in dir(sim)


def test_quiet_prints_only_the_results_folder(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["run", "baseline", "--replications", "1", "--end-year", "2015", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == str(out)


def test_bash_completion_completes_commands_options_choices_and_shipped_names(capsys):
    assert main(["completion", "bash"]) == 0
    script = capsys.readouterr().out
    probe = (
        'complete_for() { COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); COMPREPLY=(); '
        '_mutuals_sim; echo "${COMPREPLY[*]}"; }\n'
        "complete_for mutuals-sim ru\ncomplete_for mutuals-sim run base\n"
        "complete_for mutuals-sim run baseline --rep\ncomplete_for mutuals-sim map x --service lib\n"
    )
    lines = subprocess.run(
        ["bash", "-c", script + probe], capture_output=True, text=True, check=True, timeout=30
    ).stdout.splitlines()
    assert lines == ["run", "baseline", "--replications", "libraries"]


def test_the_report_gives_the_model_version_and_a_commit_only_from_a_checkout():
    from sim.experiments.compare import _model_version

    installed = {"versions": {"mutuals-sim": "0.1.0"}, "git": {"commit": None, "dirty": None}}
    assert _model_version(installed) == "mutuals-sim 0.1.0, installed, not a git checkout"
    checkout = {"versions": {"mutuals-sim": "0.1.0"}, "git": {"commit": "abc123", "dirty": True}}
    assert _model_version(checkout) == "mutuals-sim 0.1.0, commit `abc123` (uncommitted changes)"


# --- research-software conventions ---------------------------------------------------------------------


def test_citation_and_changelog_carry_the_package_version():
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    citation = (ROOT / "CITATION.cff").read_text()
    assert "cff-version: 1.2.0" in citation and f'version: "{version}"' in citation
    assert f"## [{version}]" in (ROOT / "CHANGELOG.md").read_text()


def test_the_package_metadata_is_what_an_index_shows():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT" and project["classifiers"] and project["keywords"]
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]  # PEP 639: the SPDX string
