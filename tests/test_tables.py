"""Tidy outputs: the long national table, council names, CSV on request, and the data dictionary.

The dictionary (sim/experiments/columns.toml) is the one place columns are described: it must match the
files written and docs/outputs.md.
"""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.tables import dictionary, national_long

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "outputs.md").read_text()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    argv = [
        "run",
        str(ROOT / "scenarios/baseline.toml"),
        "--replications",
        "2",
        "--end-year",
        "2016",
        "--quiet",
    ]
    assert main([*argv, "--out", str(base / "parquet"), "--xlsx"]) == 0
    assert main([*argv, "--out", str(base / "csv"), "--csv"]) == 0
    return base / "parquet", base / "csv"


def _read(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path, keep_default_na=False)


def test_the_long_table_holds_exactly_the_wide_values(folders):
    wide = pd.read_parquet(folders[0] / "national.parquet")  # full precision; national.csv is rounded
    long = pd.read_parquet(folders[0] / "national_long.parquet")
    back = long.pivot_table(
        index=["year", "replication", "seed"], columns="column", values="value", observed=True
    )
    back = back.reset_index().sort_values(["replication", "year"], ignore_index=True)
    wide = wide.sort_values(["replication", "year"], ignore_index=True)
    for col in wide.columns.drop(["year", "replication", "seed"]):
        assert back[col].to_numpy() == pytest.approx(wide[col].to_numpy(), rel=0, abs=0), col
    assert long.measure.notna().all() and (long.unit != "").all()
    services = long[long.measure == "services"]
    assert set(services.service) == {"adult_social_care", "libraries", "leisure"}
    per_year = services.groupby(["year", "replication"]).value.sum()
    assert per_year.nunique() == 1 and per_year.iloc[0] > 0  # every service part is in one mode each year


def test_the_long_csv_matches_the_long_parquet(folders):
    parquet = pd.read_parquet(folders[0] / "national_long.parquet")
    csv = pd.read_csv(folders[0] / "national_long.csv", keep_default_na=False)
    assert list(csv.columns) == list(parquet.columns) and len(csv) == len(parquet)
    assert csv.value.to_numpy() == pytest.approx(parquet.value.to_numpy(), rel=5e-6)


def test_csvs_are_rounded_to_the_stated_significant_digits_parquet_keeps_full_precision(folders):
    from sim.experiments.tables import CSV_SIGNIFICANT, round_significant

    assert CSV_SIGNIFICANT == 6 and "6 significant digits" in DOC
    full = pd.read_parquet(folders[0] / "national.parquet")
    text = (folders[0] / "national.csv").read_text()
    wide = pd.read_csv(folders[0] / "national.csv")
    assert list(wide.columns) == list(full.columns)  # the same names, in the same order
    staff = full["mutual_staff"].to_numpy()
    assert (staff != round_significant(staff)).any()  # the model's numbers have more digits than that
    assert wide["mutual_staff"].to_numpy() == pytest.approx(round_significant(staff), rel=0, abs=0)
    seed = list(full.columns).index("seed")  # a replication's seed is an identifier: every digit kept
    cells = [c for line in text.splitlines()[1:] for i, c in enumerate(line.split(",")) if i != seed]
    assert max(len(c.replace("-", "").replace(".", "").strip("0")) for c in cells) <= 6  # significant digits
    assert wide["seed"].tolist() == full["seed"].tolist()
    for folder, name in (
        (folders[0], "summary.csv"),
        (folders[0], "national_long.csv"),
        (folders[1], "parts.csv"),
    ):
        frame = pd.read_csv(folder / name)
        for column in frame.select_dtypes("float").columns:
            values = frame[column].dropna().to_numpy()
            assert (values == round_significant(values)).all(), (name, column)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([34219.22127224915, 0.0342192212, -1234567.89, 0.0], [34219.2, 0.0342192, -1234570.0, 0.0]),
        ([float("-inf"), float("nan"), 1e-300, 123456.5], [float("-inf"), float("nan"), 1e-300, 123456.0]),
        ([5e-320, 1.7976931348623157e308], [5e-320, 1.79769e308]),  # subnormal: kept; the largest double
    ],
)
def test_rounding_to_significant_digits(values, expected):
    from sim.experiments.tables import round_significant

    got = round_significant(pd.Series(values).to_numpy()).tolist()
    assert [repr(v) for v in got] == [repr(v) for v in expected]


def test_an_unknown_national_column_keeps_its_name_as_its_measure():
    wide = pd.DataFrame({"year": [2014], "replication": [0], "seed": [1], "n_new_thing": [3]})
    long = national_long(wide)
    assert long.measure.tolist() == ["n_new_thing"] and long.unit.tolist() == [""]


@pytest.mark.parametrize("table", ["councils", "parts", "decisions"])
def test_council_keyed_tables_have_name_type_and_region(folders, table):
    for folder, name in ((folders[0], f"{table}.parquet"), (folders[1], f"{table}.csv")):
        councils = _read(folder / name)
        named = ["council", "council_type", "council_type_name", "region"]
        assert councils[named].ne("").all().all() and councils[named].notna().all().all()
        at = list(councils.columns).index("ons_code")
        assert list(councils.columns)[at : at + 5] == ["ons_code", *named]
        hartlepool = councils[councils.ons_code == "E06000001"].iloc[0]
        assert (
            hartlepool.council,
            hartlepool.council_type,
            hartlepool.council_type_name,
            hartlepool.region,
        ) == (
            "Hartlepool",
            "UA",
            "unitary authority",
            "North East",
        )


def test_parquet_by_default_and_csv_on_request(folders):
    parquet, csv = ({p.name for p in f.iterdir()} for f in folders)
    tables = ("councils", "parts", "decisions")
    assert {f"{t}.parquet" for t in tables} <= parquet and not {f"{t}.csv" for t in tables} & parquet
    assert {f"{t}.csv" for t in tables} <= csv and not {f"{t}.parquet" for t in tables} & csv
    as_csv, as_parquet = (
        pd.read_csv(folders[1] / "decisions.csv"),
        pd.read_parquet(folders[0] / "decisions.parquet"),
    )
    assert list(as_csv.columns) == list(as_parquet.columns) and len(as_csv) == len(as_parquet)
    assert as_csv.staff.to_numpy() == pytest.approx(as_parquet.staff.to_numpy(), rel=5e-6)  # CSV: 6 digits


@pytest.mark.parametrize("which", [0, 1], ids=["parquet", "csv"])
def test_the_datapackage_describes_every_table_and_column_written(folders, which):
    folder = folders[which]
    package = json.loads((folder / "datapackage.json").read_text())
    assert package["profile"] == "data-package"
    described = {r["path"] for r in package["resources"]}
    every = {p.name for p in folder.iterdir() if not p.name.startswith(".")} - {"datapackage.json"}
    assert described == every and {"summary.csv", "manifest.json", "workforce.png"} <= described
    assert (folder / "results.xlsx").exists() == (which == 0)  # the Parquet run asked for --xlsx
    manifest = json.loads((folder / "manifest.json").read_text())
    assert package["title"] == "mutuals-sim results: scenario baseline" and package["description"]
    assert (
        package["created"] == manifest["created_utc"]
        and package["version"] == manifest["versions"]["mutuals-sim"]
    )
    assert package["licenses"][0]["name"] == "MIT" and len(package["sources"]) >= 3
    assert set(manifest["files"]) == every | {"datapackage.json"}
    for resource in package["resources"]:
        assert resource["title"] and resource["format"] == resource["path"].rsplit(".", 1)[1]
    tabular = [r for r in package["resources"] if r.get("profile") == "tabular-data-resource"]
    assert {r["path"] for r in tabular} == {p for p in every if p.endswith((".csv", ".parquet"))}
    for resource in tabular:
        names = [f["name"] for f in resource["schema"]["fields"]]
        assert list(_read(folder / resource["path"]).columns) == names, resource["path"]
        undescribed = [
            f["name"] for f in resource["schema"]["fields"] if not (f["unit"] and f["description"])
        ]
        assert not undescribed, (
            f"{resource['path']}: columns not in the data dictionary: {undescribed}; add them to "
            "sim/experiments/columns.toml (name, type, unit, description) and to docs/outputs.md"
        )
    assert len({r["name"] for r in package["resources"]}) == len(package["resources"])


def _doc_sections() -> dict[str, set[str]]:
    """Column names in each table of docs/outputs.md, by the file its section heading names first."""
    out: dict[str, set[str]] = {}
    for section in re.split(r"^## ", DOC, flags=re.M)[1:]:
        head, _, body = section.partition("\n")
        files = re.findall(r"`([a-z_]+)\.(?:csv|parquet)`", head)
        if not files:
            continue
        names = set()
        for line in body.splitlines():
            if line.startswith("| `"):
                first = line.split("|")[1]
                names |= set(re.findall(r"`([a-z_0-9<>]+)`", first))
        out[files[0]] = names
    return out


def test_the_dictionary_matches_docs_outputs_md():
    docs = _doc_sections()
    for name, table in dictionary(expand=False).items():
        assert name in docs, f"docs/outputs.md has no section for {table['path']}"
        in_dictionary = {c["name"] for c in table["columns"]}
        assert in_dictionary == docs[name], (
            f"{table['path']}: only in sim/experiments/columns.toml: {sorted(in_dictionary - docs[name])}; "
            f"only in docs/outputs.md: {sorted(docs[name] - in_dictionary)}"
        )


def test_councils_add_up_the_parts_by_mode(folders):
    parts = pd.read_parquet(folders[0] / "parts.parquet")
    modes = pd.read_parquet(folders[0] / "councils.parquet")
    keys = ["replication", "year", "ons_code", "service", "mode"]
    assert not modes.duplicated(keys).any()
    expected = parts.groupby(keys, observed=True)[["units", "staff", "spend_gbp_m"]].sum()
    got = modes.set_index(keys)[["units", "staff", "spend_gbp_m"]].sort_index()
    pd.testing.assert_frame_equal(
        got, expected.sort_index(), check_exact=False, rtol=1e-12, check_index_type=False
    )
    assert modes.n_parts.sum() == len(parts)
    assert (pd.read_csv(folders[1] / "councils.csv").n_parts.sum()) == len(parts)
    # the shape: one row per council, service, mode, year and replication, with these columns
    assert {"units", "staff", "spend_gbp_m", "council", "council_type", "region"} <= set(modes.columns)
    assert "part" not in modes.columns and "part" in parts.columns


def test_by_mode_keeps_first_appearance_order_and_integer_sums():
    from sim.experiments.grouping import by_mode

    parts = pd.DataFrame(
        {
            "year": [2015, 2015, 2014, 2015],
            "replication": [0, 0, 0, 0],
            "ons_code": ["B", "B", "A", "B"],
            "service": ["libraries"] * 4,
            "mode": ["mutual", "in_house", "mutual", "mutual"],
            "units": [2, 3, 1, 5],
            "staff": [1.5, 2.0, 0.5, 1.0],
            "spend_gbp_m": [0.1, 0.2, 0.3, 0.4],
        }
    )
    out = by_mode(parts)
    assert out[["year", "ons_code", "mode"]].values.tolist() == [
        [2015, "B", "mutual"],
        [2015, "B", "in_house"],
        [2014, "A", "mutual"],
    ]
    assert out.n_parts.tolist() == [2, 1, 1] and out.units.tolist() == [7, 3, 1]
    assert out.units.dtype == parts.units.dtype
    assert out.staff.tolist() == pytest.approx([2.5, 2.0, 0.5])


@pytest.mark.parametrize("missing", [False, True])
@pytest.mark.parametrize("wide", [False, True])
def test_group_codes_number_groups_as_pandas_does(missing, wide):
    import numpy as np

    from sim.experiments.grouping import _group_codes

    rng = np.random.default_rng(5)
    frame = pd.DataFrame({k: rng.integers(0, n, 5_000) for k, n in (("a", 3), ("b", 40), ("c", 7))})
    frame["d"] = pd.Categorical(rng.choice(["x", "y", "z"], 5_000))
    frame["e"] = rng.choice(["p", "q"], 5_000)  # text: factorized
    if wide:  # integers of huge range (factorized), and so many keys the radix overflows: a key at a time
        frame["f"] = rng.choice([0, 2**40, 2**61], 5_000)
        for k in range(12):
            frame[f"h{k}"] = rng.integers(0, 40, 5_000)
    if missing:  # a missing value is a group of its own (a factorized -1 must not meet another code)
        frame.loc[::97, "d"] = None
        frame.loc[::89, "e"] = None
    keys = list(frame.columns)
    truth = frame.groupby(keys, sort=False, dropna=False, observed=True).ngroup().to_numpy()
    np.testing.assert_array_equal(_group_codes(frame, keys), truth)


def test_xlsx_is_one_workbook_a_sheet_per_table_and_the_columns_described(folders):
    sheets = pd.read_excel(folders[0] / "results.xlsx", sheet_name=None)
    assert list(sheets) == [
        "about",
        "columns",
        "national",
        "national_long",
        "summary",
        "councils",
        "parts",
        "decisions",
    ]
    for name, csv in (("national", "national.csv"), ("summary", "summary.csv")):
        as_csv = pd.read_csv(folders[0] / csv)
        if "seed" in as_csv:  # seeds beyond what Excel's numbers hold are text cells, every digit kept
            sheets[name]["seed"] = sheets[name]["seed"].astype("int64")
        pd.testing.assert_frame_equal(sheets[name], as_csv, check_dtype=False)  # the same rounded values
    parts = pd.read_parquet(folders[0] / "parts.parquet")
    assert len(sheets["parts"]) == len(parts) and list(sheets["parts"].columns) == list(parts.columns)
    columns = sheets["columns"]
    assert list(columns.columns) == ["sheet", "file", "column", "type", "unit", "description"]
    for name in sheets.keys() - {"about", "columns"}:
        described = columns[columns.sheet == name]
        assert described.column.tolist() == list(sheets[name].columns), name
        assert (
            described.description.notna().all()
            and (described.description != "not in the data dictionary").all()
        )
    staff = columns[(columns.sheet == "national") & (columns.column == "mutual_staff")].iloc[0]
    assert (staff.unit, staff.description) == ("staff (headcount)", "staff of mutuals, all sectors")
    about = dict(sheets["about"].itertuples(index=False))
    assert about["left out"] == "none" and "6 significant digits" in about["precision"]


def test_xlsx_without_openpyxl_names_the_extra_and_writes_nothing(tmp_path, monkeypatch, capsys):
    from sim.experiments import workbook

    monkeypatch.setattr(workbook, "available", lambda: False)
    out = tmp_path / "run"
    argv = ["run", str(ROOT / "scenarios/baseline.toml"), "--replications", "1", "--end-year", "2015"]
    assert main([*argv, "--out", str(out), "--xlsx", "--quiet"]) == 2
    assert 'pip install "mutuals-sim[xlsx]"' in capsys.readouterr().err and not out.exists()


def test_a_table_too_long_for_a_sheet_is_left_out_and_named(tmp_path, monkeypatch):
    from sim.experiments import workbook

    monkeypatch.setattr(workbook, "MAX_ROWS", 3)
    field = {"name": "x", "type": "number", "unit": "u", "description": "d"}
    package = {
        "resources": [
            {"name": n, "path": f"{n}.csv", "schema": {"fields": [field]}} for n in ("national", "parts")
        ]
    }
    frames = {"national": pd.DataFrame({"x": [1.0, 2.0]}), "parts": pd.DataFrame({"x": [1.0] * 4})}
    assert workbook.write_workbook(tmp_path / "w.xlsx", package, frames) == ["parts"]
    sheets = pd.read_excel(tmp_path / "w.xlsx", sheet_name=None)
    assert (
        "parts" not in sheets and "parts (4 rows" in dict(sheets["about"].itertuples(index=False))["left out"]
    )
