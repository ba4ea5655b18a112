"""File safety: no command deletes or overwrites what it did not make, and a failure leaves nothing behind."""

import hashlib
import json
from pathlib import Path

import pytest

from sim.cli import main
from sim.experiments import output
from sim.experiments.safety import MARKER, OutputError, check_out_dir, safe_name, staged_dir
from sim.experiments.sweep import run_sweep
from sim.experiments.sweep_spec import load_sweep
from sim.inputs.scenario import replication_seeds

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"
SWEEP = ROOT / "tests" / "data" / "sweep_arms.toml"
TINY = ["--replications", "1", "--end-year", "2015", "--quiet"]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file and folder under ``folder`` with the hash of its bytes (None for folders)."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None
        for p in sorted(folder.rglob("*"))
    }


@pytest.fixture
def decoy(tmp_path, monkeypatch):
    """A user's folder: a thesis, a subfolder with notes, a PNG of their own (working folder: tmp_path)."""
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "decoy"
    (folder / "sub").mkdir(parents=True)
    (folder / "thesis.txt").write_text("three years of work")
    (folder / "sub" / "notes.md").write_text("notes")
    (folder / "figure.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"my own figure")
    return folder


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """A run folder and a finished sweep folder made by the program."""
    root = tmp_path_factory.mktemp("made")
    assert main(["run", str(BASELINE), "--out", str(root / "run"), *TINY]) == 0
    run_sweep(load_sweep(SWEEP).with_replications(1), root / "sweep", workers=1)
    return root


def commands_at(decoy: Path, results: Path) -> list[list[str]]:
    run, sweep = str(results / "run"), str(results / "sweep")
    return [
        ["run", str(BASELINE), "--out", str(decoy), *TINY],
        ["run", str(BASELINE), "--out", str(decoy), "--force", *TINY],
        ["run", str(BASELINE), "--out", str(decoy / "thesis.txt"), "--force", *TINY],
        ["sweep", str(SWEEP), "--out", str(decoy), "--quiet", "--workers", "1", "--replications", "1"],
        [
            "sweep",
            str(SWEEP),
            "--out",
            str(decoy / "sub"),
            "--quiet",
            "--workers",
            "1",
            "--replications",
            "1",
        ],
        ["compare", sweep, "--out", str(decoy)],
        ["compare", sweep, "--out", str(decoy), "--force"],
        ["compare", str(decoy)],
        ["map", run, "--service", "libraries", "--year", "2015", "--out", str(decoy)],
        [
            "map",
            run,
            "--service",
            "libraries",
            "--year",
            "2015",
            "--out",
            str(decoy / "thesis.txt"),
            "--force",
        ],
        ["map", run, "--service", "libraries", "--year", "2015", "--out", str(decoy / "figure.png")],
        ["map", str(decoy), "--service", "libraries", "--year", "2015", "--out", str(decoy / "m.png")],
    ]


def test_a_decoy_folder_survives_every_command_pointed_at_it(decoy, results, capsys):
    before = snapshot(decoy)
    for argv in commands_at(decoy, results):
        code = main(argv)
        err = capsys.readouterr().err
        assert code == 2, (argv, err)
        assert "Traceback" not in err and "internal error" not in err, (argv, err)
        assert snapshot(decoy) == before, f"{argv} changed the decoy folder"
    assert not list(decoy.parent.glob(".*partial*")) and not list(decoy.parent.glob(".*.old-*"))


@pytest.mark.parametrize("where", [".", "..", "~"])
def test_force_never_replaces_the_working_folder_its_parents_or_home(decoy, monkeypatch, capsys, where):
    monkeypatch.chdir(decoy)
    out = str(Path(where).expanduser())
    before = snapshot(decoy)
    assert main(["run", str(BASELINE), "--out", out, "--force", *TINY]) == 2
    assert "working folder" in capsys.readouterr().err or where == "~"
    assert snapshot(decoy) == before


def test_force_replaces_a_folder_the_program_made_and_only_of_the_same_kind(tmp_path, results, capsys):
    out = tmp_path / "r"
    assert main(["run", str(BASELINE), "--out", str(out), *TINY]) == 0
    assert json.loads((out / MARKER).read_text())["kind"] == "run"
    (out / "extra.txt").write_text("left by the user inside a results folder")
    assert main(["run", str(BASELINE), "--out", str(out), *TINY]) == 2  # no --force
    assert main(["run", str(BASELINE), "--out", str(out), "--force", "--seed", "5", *TINY]) == 0
    assert json.loads((out / "manifest.json").read_text())["seeds"] == replication_seeds(5, 1)
    assert not (out / "extra.txt").exists()
    capsys.readouterr()
    assert main(["run", str(BASELINE), "--out", str(results / "sweep"), "--force", *TINY]) == 2
    assert "holds sweep results" in capsys.readouterr().err
    assert (results / "sweep" / "manifest.json").is_file()


def test_compare_replaces_only_its_own_earlier_comparison(results, tmp_path):
    sweep = results / "sweep"
    assert main(["compare", str(sweep)]) == 0
    assert main(["compare", str(sweep)]) == 0  # the default folder is the program's own: replaced
    out = tmp_path / "cmp"
    assert main(["compare", str(sweep), "--out", str(out)]) == 0
    assert main(["compare", str(sweep), "--out", str(out)]) == 2  # an explicit folder needs --force
    assert main(["compare", str(sweep), "--out", str(out), "--force"]) == 0
    assert (out / "report.md").is_file() and json.loads((out / MARKER).read_text())["kind"] == "compare"


def test_output_paths_are_checked_before_any_simulation(tmp_path, monkeypatch, capsys):
    from sim.experiments import run as run_module

    def never(*args, **kwargs):
        raise AssertionError("simulated before checking --out")

    monkeypatch.setattr(run_module, "run_scenario", never)
    (tmp_path / "file").write_text("x")
    for out in ("/proc/x/y", str(tmp_path / "file"), str(tmp_path / "file" / "below")):
        assert main(["run", str(BASELINE), "--out", out, "--force", *TINY]) == 2
        assert out in capsys.readouterr().err
    assert (tmp_path / "file").read_text() == "x"


def test_a_failure_while_writing_leaves_nothing_and_keeps_the_old_results(tmp_path, monkeypatch):
    out = tmp_path / "a" / "b" / "run"
    from sim.pictures import charts

    def broken_save(fig, path):
        raise OSError("disk full")

    monkeypatch.setattr(charts, "save", broken_save)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tracebacks"))
    (tmp_path / "tracebacks").mkdir()
    assert main(["run", str(BASELINE), "--out", str(out), *TINY]) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tracebacks"], "no partial or parent folders"
    monkeypatch.undo()
    out = tmp_path / "run"
    assert main(["run", str(BASELINE), "--out", str(out), *TINY]) == 0
    before = snapshot(out)
    monkeypatch.setattr(charts, "save", broken_save)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tracebacks"))
    assert main(["run", str(BASELINE), "--out", str(out), "--force", *TINY]) == 1
    assert snapshot(out) == before, "the old results survive a failed replacement"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run", "tracebacks"]


def test_an_unexpected_error_exits_1_without_a_traceback_on_screen(tmp_path, monkeypatch, capsys):
    from sim.pictures import charts

    monkeypatch.setattr(charts, "save", lambda fig, path: 1 / 0)
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    assert main(["run", str(BASELINE), "--out", str(tmp_path / "o"), *TINY]) == 1
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_staged_dir_refuses_what_it_did_not_make(decoy):
    before = snapshot(decoy)
    with pytest.raises(OutputError, match="not made by this program"), staged_dir(decoy):
        pass
    assert snapshot(decoy) == before
    assert check_out_dir(decoy / "new", force=False) is None
    assert check_out_dir(decoy / "sub", force=True) is not None


def test_a_sweep_that_fails_before_any_run_leaves_no_folder(tmp_path):
    out = tmp_path / "x" / "sweep"
    with pytest.raises(Exception, match="scheduler"):
        run_sweep(load_sweep(SWEEP), out, scheduler="not a url")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../../x", "x"),
        ("/etc/passwd", "etc-passwd"),
        ("a b/c", "a-b-c"),
        ("..", "scenario"),
        ("", "scenario"),
    ],
)
def test_names_from_files_become_one_safe_folder_name(name, safe):
    assert safe_name(name) == safe
    made = output.default_out_dir(name, root="results")
    assert made.parent == Path("results") and ".." not in made.parts


def test_params_csv_never_replaces_a_users_file(tmp_path):
    from sim.cli import main

    thesis = tmp_path / "thesis.csv"
    thesis.write_text("chapter,words\n1,9000\n")
    assert main(["params", "--csv", str(thesis)]) == 2
    assert main(["params", "--csv", str(thesis), "--force"]) == 2
    assert thesis.read_text() == "chapter,words\n1,9000\n"
    table = tmp_path / "params.csv"
    assert main(["params", "--csv", str(table)]) == 0
    assert main(["params", "--csv", str(table)]) == 2, "an existing table needs --force"
    assert main(["params", "--csv", str(table), "--force"]) == 0
    assert table.read_text().startswith("key,")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.csv", "thesis.csv"]


def test_calibrate_never_replaces_a_users_file(tmp_path):
    from sim.cli import main

    notes = tmp_path / "notes.toml"
    notes.write_text("my = 'notes'\n")
    assert main(["calibrate", "--trials", "1", "--replications", "1", "--quiet", "--out", str(notes)]) == 2
    assert notes.read_text() == "my = 'notes'\n"
    out = tmp_path / "cal.toml"
    for _ in range(2):  # a calibration file it wrote is replaced by the next run
        assert main(["calibrate", "--trials", "1", "--replications", "1", "--quiet", "--out", str(out)]) == 0
    assert out.read_text().startswith("# Written by `python -m sim calibrate`")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.toml", "notes.toml"]


def test_a_results_folder_is_readable_like_any_folder_the_user_makes(tmp_path):
    import os
    import stat

    from sim.experiments.safety import staged_dir

    old = os.umask(0o022)
    try:
        with staged_dir(tmp_path / "results") as stage:
            (stage / "a.csv").write_text("x\n1\n")
        mine = tmp_path / "mine"
        mine.mkdir()
    finally:
        os.umask(old)
    made = stat.S_IMODE((tmp_path / "results").stat().st_mode)
    assert made == stat.S_IMODE(mine.stat().st_mode) == 0o755
