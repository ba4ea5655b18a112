"""The headline's anatomy: the split of mutual staff and spending, its chart, its words and its drivers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.experiments import anatomy
from sim.inputs.scenario import load_scenario
from sim.model import DivestmentModel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def national():
    sc = load_scenario(ROOT / "scenarios" / "baseline.toml").with_changes({}, replications=3, end_year=2017)
    n = DivestmentModel(sc, seeds=sc.seeds()).run().national()
    return n.rename(columns={"batch_index": "replication"})


@pytest.mark.parametrize("what", ["staff", "spend"])
def test_the_three_parts_add_up_to_the_headline_every_year(national, what):
    parts = national[list(anatomy.COLUMNS[what])].sum(axis=1)
    np.testing.assert_allclose(parts, national[anatomy.HEADLINES[what]], rtol=1e-9)
    start = national[national.year == 2014]
    assert (start[anatomy.COLUMNS[what][1]] == 0).all() and (start[anatomy.COLUMNS[what][2]] == 0).all()
    later = national[national.year == 2017]
    assert (later[anatomy.COLUMNS[what][1]] > 0).all() and (later[anatomy.COLUMNS[what][2]] > 0).all()


def test_the_split_in_words_names_each_part_with_its_share(national):
    table = anatomy.split(national)
    assert table["staff_share"].sum() == pytest.approx(1.0) and table.attrs["year"] == 2017
    staff, spend = anatomy.lines(national)
    assert staff.startswith("2017-18 mutual staff: the mutuals of the start year")
    assert "mutuals outside local government formed since" in spend and "GBP" in spend


def test_an_assumption_carrying_most_of_a_headline_is_said_in_words():
    record = {"headline": "mutual_staff", "parameter": "x.y", "basis": "assumption", "ST": 0.62, "N": 16}
    record.update(year=2020, source="assumption: a guess", tag="uncertainty", S1=0.5)
    (text,) = anatomy.warnings([record])
    assert (
        "x.y, an assumption, carries 62% of the variance of mutual_staff in 2020" in text and "N = 16" in text
    )
    assert anatomy.warnings([{**record, "basis": "evidence"}]) == []
    assert anatomy.warnings([{**record, "ST": 0.4}]) == []


def test_without_a_dominant_assumption_the_verdict_names_the_largest():
    record = {
        "headline": "mutual_staff",
        "parameter": "x.y",
        "basis": "evidence",
        "ST": 0.62,
        "N": 32,
        "year": 2020,
    }
    other = {**record, "headline": "mutual_spend_gbp_m", "parameter": "z", "basis": "assumption", "ST": 0.3}
    (text,) = anatomy.verdict([record, other])
    assert text.startswith("No assumption carries more than 50%") and "N = 32" in text
    assert "mutual_staff: x.y (evidence, 0.62)" in text and "mutual_spend_gbp_m: z (assumption, 0.30)" in text
    assert anatomy.verdict([]) == []
    assert anatomy.verdict([{**other, "ST": 0.7}]) == anatomy.warnings([{**other, "ST": 0.7}])


def test_drivers_rank_by_total_order_and_say_evidence_or_assumption():
    indices = pd.DataFrame(
        {
            "arm": "base",
            "metric": "mutual_staff",
            "parameter": ["a", "b", "c", "d"],
            "tag": "uncertainty",
            "S1": [0.1, 0.5, 0.0, 0.2],
            "ST": [0.2, 0.7, 0.01, 0.3],
        }
    )
    sources = {
        "a": "CALIBRATION.md: a figure",
        "b": "assumption: a guess",
        "c": "assumption",
        "d": "calibrated",
    }
    table = anatomy.drivers(indices, sources)
    assert table.parameter.tolist() == ["b", "d", "a"]
    assert table.basis.tolist() == ["assumption", "calibrated", "evidence"]
    table["N"], table["year"] = 16, 2020
    assert "**mutual_staff (base) rests on an assumption: `b` carries 70%" in anatomy.drivers_markdown(table)


def test_the_shipped_record_reads_back_as_written(tmp_path):
    csv = tmp_path / "drivers.csv"
    row = {"arm": "base", "metric": "mutual_spend_gbp_m", "rank": 1, "parameter": "p.q", "tag": "uncertainty"}
    row.update(basis="assumption", ST=0.55, S1=0.4, source='assumption: "quoted"', N=16, year=2020)
    pd.DataFrame([row, {**row, "metric": "n_mutuals"}]).to_csv(csv, index=False)
    anatomy.write_dominance(csv, out=tmp_path / "record.toml")
    (d,) = anatomy.dominance(tmp_path / "record.toml")  # only the two headlines are kept
    assert d["parameter"] == "p.q" and d["ST"] == 0.55 and d["source"] == 'assumption: "quoted"'
    assert len(anatomy.warnings([d])) == 1


def test_every_run_folder_has_the_anatomy_in_its_summary_chart_and_words(tmp_path, capsys):
    from sim.cli import main

    out = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios/baseline.toml"), "--out", str(out), "--replications", "2"]
    assert main([*args, "--end-year", "2016", "--national-only"]) == 0
    printed = capsys.readouterr().out
    assert (
        "What the headline rests on" in printed
        and "2016-17 mutual staff: the mutuals of the start year" in printed
    )
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    for column in (*anatomy.COLUMNS["staff"], *anatomy.COLUMNS["spend"]):
        assert f"{column}_median" in summary.columns
    png = (out / "anatomy.png").read_bytes()
    assert png.startswith(b"\x89PNG") and len(png) > 20_000
