"""The command line as a user runs it: outputs on disk, every scenario file, and bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.inputs.scenario import load_scenario, replication_seeds

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_FILES = sorted((ROOT / "scenarios").glob("*.toml"))


def test_run_writes_a_self_describing_folder(tmp_path, capsys):
    out = tmp_path / "base"
    code = main(
        [
            "run",
            str(ROOT / "scenarios/baseline.toml"),
            "--out",
            str(out),
            "--replications",
            "3",
            "--end-year",
            "2017",
        ]
    )
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "national.csv",
        "councils.parquet",
        "parts.parquet",
        "decisions.parquet",
        "national_long.parquet",
        "datapackage.json",
        "manifest.json",
        "workforce.png",
        "summary.csv",
        "modes.png",
    } <= names
    national = pd.read_csv(out / "national.csv")
    assert sorted(national.year.unique()) == [2014, 2015, 2016, 2017]
    assert sorted(national.replication.unique()) == [0, 1, 2]
    for col in (
        "n_mutuals",
        "mutual_staff",
        "mutual_spend_gbp_m",
        "n_mutuals_lg",
        "mutual_staff_lg",
        "mutual_spend_lg_gbp_m",
        "n_libraries_mutual",
        "n_leisure_legacy_trust",
    ):
        assert col in national.columns
    first = national[national.year == 2014]
    assert (first.n_mutuals == 100).all() and (abs(first.mutual_staff / 35_000 - 1) < 0.1).all()
    councils = pd.read_parquet(out / "councils.parquet")
    assert {"ons_code", "service", "year", "replication", "mode", "staff", "spend_gbp_m"} <= set(
        councils.columns
    )
    decisions = pd.read_parquet(out / "decisions.parquet")
    assert {"ons_code", "service", "year", "from_mode", "to_mode", "reason", "score_mutual"} <= set(
        decisions.columns
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seeds"] == replication_seeds(20140904, 3)
    assert manifest["scenario"]["run"]["end_year"] == 2017
    assert manifest["versions"]["mesa"].startswith("3.")
    assert "commit" in manifest["git"]
    assert "mutual staff" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*partial*")), "no staging folder left behind"


def test_national_only_writes_the_national_tables_alone_and_the_same_ones(tmp_path, capsys):
    base = [str(ROOT / "scenarios/baseline.toml"), "--replications", "3", "--end-year", "2016", "--quiet"]
    assert main(["run", *base, "--out", str(tmp_path / "full")]) == 0
    assert main(["run", *base, "--out", str(tmp_path / "nat"), "--national-only"]) == 0
    names = {p.name for p in (tmp_path / "nat").iterdir()}
    assert {"national.csv", "national_long.parquet", "summary.csv", "workforce.png", "modes.png"} <= names
    assert not names & {"councils.parquet", "parts.parquet", "decisions.parquet"}
    # the national results do not depend on recording the councils
    for name in ("national.csv", "summary.csv", "national_long.csv"):
        assert (tmp_path / "nat" / name).read_bytes() == (tmp_path / "full" / name).read_bytes()
    package = json.loads((tmp_path / "nat" / "datapackage.json").read_text())
    tables = [r["name"] for r in package["resources"] if r.get("profile") == "tabular-data-resource"]
    assert tables == ["national", "national_parquet", "national_long", "national_long_csv", "summary"]
    manifest = json.loads((tmp_path / "nat" / "manifest.json").read_text())
    assert "councils.parquet" not in manifest["files"] and "national.csv" in manifest["files"]
    capsys.readouterr()
    # a map needs the council table: one message that says why, exit 2, no picture
    assert main(["map", str(tmp_path / "nat"), "--service", "leisure", "--year", "2016",
                 "--out", str(tmp_path / "m.png")]) == 2  # fmt: skip
    assert "--national-only" in capsys.readouterr().err and not (tmp_path / "m.png").exists()


def test_a_large_run_notes_the_memory_of_the_council_tables(tmp_path, capsys, monkeypatch):
    from sim.cli import run as run_command

    monkeypatch.setattr(run_command, "LARGE_RUN", 3)  # as if 3 replications were many
    base = ["run", str(ROOT / "scenarios/baseline.toml"), "--replications", "3", "--end-year", "2015"]
    assert main([*base, "--out", str(tmp_path / "a")]) == 0
    assert "--national-only" in capsys.readouterr().err
    assert main([*base, "--out", str(tmp_path / "b"), "--national-only"]) == 0
    assert "note:" not in capsys.readouterr().err


def test_national_only_with_csv_is_refused_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "x"
    code = main(["run", str(ROOT / "scenarios/baseline.toml"), "--out", str(out), "--national-only", "--csv"])
    assert code == 2 and not out.exists()
    err = capsys.readouterr().err
    assert "--csv" in err and "--national-only" in err and err.count("\n") == 1


def test_seed_option_changes_seeds(tmp_path):
    out = tmp_path / "s"
    assert (
        main(
            [
                "run",
                str(ROOT / "scenarios/baseline.toml"),
                "--out",
                str(out),
                "--replications",
                "2",
                "--seed",
                "7",
                "--end-year",
                "2015",
                "--quiet",
            ]
        )
        == 0
    )
    assert json.loads((out / "manifest.json").read_text())["seeds"] == replication_seeds(7, 2)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_every_scenario_file_runs(tmp_path, path):
    out = tmp_path / path.stem
    assert main(["run", str(path), "--out", str(out), "--replications", "2", "--quiet"]) == 0
    national = pd.read_csv(out / "national.csv")
    start = load_scenario(path).start_year
    assert national.year.min() == start and national.year.max() == 2020
    assert len(national) == 2 * (2020 - start + 1)


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ('[parameters]\n"support.budget" = 3\n', "parameters.support.budget: unknown parameter"),
        ('[parameters]\n"policy.simplification" = 2.0\n', "above the maximum"),
        ("[run\n", "not valid TOML"),
    ],
    ids=["unknown key", "out of range", "malformed"],
)
def test_bad_scenario_exits_2_and_leaves_no_folder(tmp_path, content, fragment):
    bad = tmp_path / "bad.toml"
    bad.write_text(content)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(bad), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert fragment in proc.stderr and str(bad) in proc.stderr
    assert not out.exists()
    assert not (tmp_path / "results").exists()


def test_missing_scenario_file_exits_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "run", str(tmp_path / "none.toml")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert proc.returncode == 2 and "file not found" in proc.stderr
    assert not (tmp_path / "results").exists()


def test_bad_run_option_exits_2(tmp_path, capsys):
    assert (
        main(
            ["run", str(ROOT / "scenarios/baseline.toml"), "--out", str(tmp_path / "o"), "--end-year", "2013"]
        )
        == 2
    )
    assert "--end-year" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_existing_output_folder_is_not_overwritten_without_force(tmp_path, capsys):
    out = tmp_path / "o"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["run", str(ROOT / "scenarios/baseline.toml"), "--out", str(out), "--replications", "1"]) == 2
    assert (out / "keep.txt").read_text() == "mine"


def test_params_lists_every_parameter(capsys):
    assert main(["params"]) == 0
    assert "support.budget_gbp_m_per_year" in capsys.readouterr().out
