import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from sim.pictures import boundaries, choropleth, hexes, maps, style

ROOT = Path(__file__).resolve().parents[1]
UPPER_TYPES = {"CTY", "UA", "MD", "LBO", "CC"}
DISTRICT_TYPES = {"NMD", "UA", "MD", "LBO", "CC"}


@pytest.fixture(scope="module")
def council_table() -> pd.DataFrame:
    project_copy = ROOT / "sim" / "data" / "councils_2014.csv"
    path = project_copy if project_copy.exists() else Path("/work/shared/data/councils_2014.csv")
    if not path.exists():
        pytest.skip("no councils_2014.csv available")
    return pd.read_csv(path, dtype=str)


def _codes_of_types(table: pd.DataFrame, types: set[str]) -> set[str]:
    return set(table.loc[table["local-authority-type"].isin(types), "gss-code"])


# --- hex maps ---------------------------------------------------------------------------------


def test_upper_map_has_the_152_upper_tier_councils_of_2014():
    upper = maps.load_hexmap("upper")
    assert list(upper.columns) == ["ons_code", "name", "q", "r", "x", "y"]
    assert len(upper) == 152
    assert upper["ons_code"].is_unique
    codes = set(upper["ons_code"])
    for code in ["E10000009", "E06000028", "E06000029", "E09000001"]:
        assert code in codes
    assert maps.map_coverage("upper") == codes


def test_district_map_has_326_english_codes():
    district = maps.load_hexmap("district")
    assert len(district) == 326
    assert district["ons_code"].is_unique
    assert district["ons_code"].str.startswith("E").all()
    assert maps.map_coverage("district") == set(district["ons_code"])


@pytest.mark.parametrize("tier", ["upper", "district"])
def test_no_two_hexes_share_a_cell(tier):
    hexes = maps.load_hexmap(tier)
    assert not hexes.duplicated(["q", "r"]).any()


def test_upper_map_codes_equal_upper_tier_councils(council_table):
    expected = _codes_of_types(council_table, UPPER_TYPES)
    got = maps.map_coverage("upper")
    assert got == expected, (sorted(got - expected), sorted(expected - got))


def test_district_map_codes_equal_lower_and_single_tier_councils(council_table):
    expected = _codes_of_types(council_table, DISTRICT_TYPES)
    got = maps.map_coverage("district")
    assert got == expected, (sorted(got - expected), sorted(expected - got))


@pytest.mark.parametrize("tier", ["upper", "district"])
def test_hex_centres_tile_one_unit_apart_in_odd_r_layout(tier):
    hexes = maps.load_hexmap(tier)
    odd = hexes["r"] % 2 == 1
    assert np.allclose(hexes.loc[odd, "x"], hexes.loc[odd, "q"] + 0.5)
    assert np.allclose(hexes.loc[~odd, "x"], hexes.loc[~odd, "q"])
    xy = hexes[["x", "y"]].to_numpy()
    dist = np.linalg.norm(xy[:, None, :] - xy[None, :, :], axis=-1)
    np.fill_diagonal(dist, np.inf)
    # neighbouring hexes sit exactly one unit apart; nothing overlaps
    assert dist.min() == pytest.approx(1.0)


def test_north_is_up_and_east_is_right():
    for tier in ["upper", "district"]:
        hexes = maps.load_hexmap(tier).set_index("ons_code")
        northumberland, cornwall = hexes.loc["E06000057"], hexes.loc["E06000052"]
        assert northumberland["y"] > cornwall["y"] + 10
        assert northumberland["x"] > cornwall["x"]
    upper = maps.load_hexmap("upper").set_index("ons_code")
    # Norfolk lies east of Cornwall
    assert upper.loc["E10000020", "x"] > upper.loc["E06000052", "x"] + 10


def test_unknown_tier_raises():
    with pytest.raises(ValueError, match="tier"):
        maps.load_hexmap("county")


def test_mode_colours_cover_all_modes_and_are_distinct():
    from sim.model.rules import MODES

    modes = set(MODES)
    assert modes < set(maps.MODE_COLOURS)
    assert set(style.STACK_ORDER) == modes
    assert all("_" not in style.mode_label(m) for m in maps.MODE_COLOURS)
    assert maps.NO_DATA in maps.MODE_COLOURS
    rgba = [to_rgba(c) for c in maps.MODE_COLOURS.values()]
    assert len(set(rgba)) == len(rgba)


# --- plotting ---------------------------------------------------------------------------------


def _synthetic() -> pd.DataFrame:
    rows = [
        ("E10000009", "libraries", 2016, 0, "mutual"),  # Dorset CC
        ("E06000029", "libraries", 2016, 0, "joint_mutual"),  # Poole
        ("E09000001", "libraries", 2016, 0, "legacy_trust"),  # City of London
        ("E08000025", "libraries", 2016, 0, "in_house"),  # Birmingham
        ("E06000052", "libraries", 2016, 0, "latc"),  # Cornwall
        ("E10000009", "libraries", 2016, 1, "in_house"),
        ("E10000009", "libraries", 2015, 0, "in_house"),
        ("E07000223", "leisure", 2016, 0, "rebooted"),  # Adur
        ("E06000028", "leisure", 2016, 0, "mutual"),  # Bournemouth
    ]
    return pd.DataFrame(rows, columns=["ons_code", "service", "year", "replication", "mode"])


def _facecolours_by_code(ax, tier, layout="boundaries"):
    collections = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(collections) == 1
    faces = collections[0].get_facecolors()
    codes = collections[0].codes  # the council each shape is filled for
    assert len(faces) == len(codes) == (326 if layout == "boundaries" else len(maps.load_hexmap(tier)))
    by_code = {}
    for code, face in zip(codes, map(tuple, faces), strict=True):
        assert by_code.setdefault(code, face) == face, code  # a county's districts share its colour
    assert set(by_code) == choropleth.coverage(tier, layout)
    return by_code


@pytest.mark.parametrize("layout", ["boundaries", "hex"])
def test_plot_mode_map_colours_each_council_by_mode(layout):
    ax = maps.plot_mode_map(_synthetic(), "libraries", 2016, layout=layout)
    faces = _facecolours_by_code(ax, "upper", layout)
    expected = {
        "E10000009": "mutual",
        "E06000029": "joint_mutual",
        "E09000001": "legacy_trust",
        "E08000025": "in_house",
        "E06000052": "latc",
        "E06000028": maps.NO_DATA,  # Bournemouth has no libraries row
        "E10000020": maps.NO_DATA,
    }
    for code, mode in expected.items():
        assert faces[code] == pytest.approx(to_rgba(maps.MODE_COLOURS[mode])), code
    grey = to_rgba(maps.MODE_COLOURS[maps.NO_DATA])
    n_grey = sum(f == pytest.approx(grey) for f in faces.values())
    assert n_grey == 152 - 5
    assert ax.get_title().startswith("Libraries, 2016-17\nmode of most of its spend in replication 0")
    assert "(one of 2, not a summary)" in ax.get_title()
    assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0
    assert ax.get_aspect() == 1.0
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "mutual (1)",
        "joint council-staff mutual (1)",
        "council company (LATC) (1)",
        "trust formed before the start (1)",
        "in-house (1)",
        "service not run here (147)",
    ]  # stack order, top first; no entry for a mode no council is in


def test_plot_mode_map_picks_replication_and_district_tier_and_given_axes():
    ax = maps.plot_mode_map(_synthetic(), "libraries", 2016, replication=1)
    assert _facecolours_by_code(ax, "upper")["E10000009"] == pytest.approx(
        to_rgba(maps.MODE_COLOURS["in_house"])
    )
    fig = Figure()
    given = fig.add_subplot()
    ax = maps.plot_mode_map(_synthetic(), "leisure", 2016, ax=given, title="Leisure", scenario="x")
    assert ax is given
    assert ax.get_title() == "Leisure"
    faces = _facecolours_by_code(ax, "district")
    assert faces["E07000223"] == pytest.approx(to_rgba(maps.MODE_COLOURS["rebooted"]))
    assert faces["E06000028"] == pytest.approx(to_rgba(maps.MODE_COLOURS["mutual"]))
    assert "E10000009" not in faces  # counties are not districts


def test_default_title_for_adult_social_care_and_year_2099():
    df = _synthetic().query("year == 2016 and service == 'libraries'")
    df = df.assign(service="adult_social_care", year=2099)
    ax = maps.plot_mode_map(df, "adult_social_care", 2099)
    assert ax.get_title().startswith("Adult social care, 2099-00\n")


def test_councils_off_the_map_are_warned_about():
    df = _synthetic().query("year == 2016").assign(service="libraries")  # Adur is a district
    with pytest.warns(UserWarning, match="E07000223"):
        maps.plot_mode_map(df, "libraries", 2016)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"service": "parks", "year": 2016}, "valid services"),
        ({"service": "adult_social_care", "year": 2016}, "services present"),
        ({"service": "libraries", "year": 2030}, r"years present: \[2015, 2016\]"),
        ({"service": "libraries", "year": 2016, "replication": 7}, r"present: \[0, 1\]"),
    ],
)
def test_plot_mode_map_rejects_values_not_in_data(kwargs, message):
    with pytest.raises(ValueError, match=message):
        maps.plot_mode_map(_synthetic(), **kwargs)


def test_plot_mode_map_rejects_unknown_mode_and_duplicate_rows():
    df = _synthetic()
    with pytest.raises(ValueError, match="unknown modes"):
        maps.plot_mode_map(df.assign(mode="privatised"), "libraries", 2016)
    with pytest.raises(ValueError, match="several rows"):
        maps.plot_mode_map(pd.concat([df, df.iloc[:1]]), "libraries", 2016)


def test_plot_mode_map_file_writes_png_from_csv_and_parquet(tmp_path):
    df = _synthetic()
    csv_dir, pq_dir = tmp_path / "csv", tmp_path / "pq"
    csv_dir.mkdir()
    pq_dir.mkdir()
    df.to_csv(csv_dir / "councils.csv", index=False)
    df.to_parquet(pq_dir / "councils.parquet")
    for results_dir in (csv_dir, pq_dir):
        png = tmp_path / results_dir.name / "m.png"
        out = maps.plot_mode_map_file(results_dir, "libraries", 2016, png)
        assert out == png
        assert out.exists() and out.stat().st_size > 10_000
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_mode_map_file_on_empty_dir_raises(tmp_path):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path))):
        maps.plot_mode_map_file(tmp_path, "libraries", 2016, tmp_path / "m.png")


def test_share_map_colours_by_share_of_replications_and_names_scenario():
    rows = [("E10000009", "libraries", 2016, r, "mutual" if r < 3 else "in_house") for r in range(4)]
    rows += [("E06000052", "libraries", 2016, r, "in_house") for r in range(4)]
    rows += [("E08000025", "libraries", 2016, r, "joint_mutual") for r in range(4)]
    df = pd.DataFrame(rows, columns=["ons_code", "service", "year", "replication", "mode"])
    share = maps.mode_share(df, "libraries", 2016)
    assert share.to_dict() == {"E06000052": 0.0, "E08000025": 1.0, "E10000009": 0.75}
    assert share.attrs["n_replications"] == 4
    ax = maps.plot_share_map(df, "libraries", 2016, scenario="baseline", vmax=1.0)
    faces = _facecolours_by_code(ax, "upper")
    cmap = maps.share_colours(maps.MODE_COLOURS["mutual"])
    assert faces["E06000052"] == pytest.approx(cmap(0.0))  # never: near-white
    assert faces["E08000025"] == pytest.approx(cmap(1.0))  # every replication: the darkest
    partial = faces["E10000009"]
    assert partial != pytest.approx(faces["E08000025"]) and partial != pytest.approx(faces["E06000052"])
    assert faces["E10000020"] == pytest.approx(to_rgba(maps.MODE_COLOURS[maps.NO_DATA]))
    assert ax.get_title().startswith("baseline: Libraries, 2016-17")
    assert "4 replications" in ax.get_title()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["service not run here (149)"]


def test_maps_outline_regions_and_label_named_councils():
    ax = maps.plot_mode_map(_synthetic(), "libraries", 2016, layout="hex")
    outlines = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(outlines) == 1 and outlines[0].get_gid() == "region-outlines"
    upper = maps.load_hexmap("upper")
    coast = hexes.region_edges(upper.x.to_numpy(), upper.y.to_numpy(), np.zeros(len(upper)))
    n_edges = len(outlines[0].get_segments())
    assert n_edges > len(coast) + 100  # the coast and the borders between the nine regions
    texts = {t.get_text() for t in ax.texts}
    assert {"Suffolk", "York", "Norfolk"} <= texts


def test_region_edges_of_two_neighbours():
    x, y = np.array([0.0, 1.0]), np.array([0.0, 0.0])
    assert len(hexes.region_edges(x, y, np.array(["a", "a"]))) == 10  # the shared edge is not drawn
    assert len(hexes.region_edges(x, y, np.array(["a", "b"]))) == 12


def test_map_file_has_a_share_map_and_a_named_replication(tmp_path):
    df = _synthetic()
    df.to_csv(tmp_path / "councils.csv", index=False)
    (tmp_path / "manifest.json").write_text('{"scenario": {"name": "my scenario"}}')
    out = maps.plot_mode_map_file(tmp_path, "libraries", 2016, tmp_path / "m.png", replication=1)
    import matplotlib.image

    pixels = matplotlib.image.imread(out)
    assert pixels.shape[0] > 1000 and pixels.shape[1] > 1500
    assert pixels[..., :3].std() > 0.05  # not blank


# --- real boundaries ----------------------------------------------------------------------------


def test_topojson_arcs_are_delta_decoded_and_rings_joined():
    arcs = boundaries.decode_arcs(
        [[[0, 0], [1, 0], [0, 1]], [[1, 1], [-1, 0]]], {"scale": [2, 3], "translate": [10, 20]}
    )
    assert np.allclose(arcs[0], [[10, 20], [12, 20], [12, 23]])
    assert np.allclose(arcs[1], [[12, 23], [10, 23]])  # each arc's running sum starts afresh
    ring = boundaries.ring([0, 1], arcs)
    assert np.allclose(ring, [[10, 20], [12, 20], [12, 23], [10, 23]])  # the shared point once
    assert np.allclose(boundaries.ring([~1], arcs), [[10, 23], [12, 23]])  # ~i: arc i reversed
    assert boundaries.signed_area(np.array([[0, 0], [1, 0], [1, 1], [0, 1]])) == pytest.approx(1.0)


def test_every_2014_council_has_a_shape_on_the_boundary_map(council_table):
    d = boundaries.districts()
    assert len(d.codes) == len(set(d.codes)) == 326
    assert set(d.codes) == _codes_of_types(council_table, DISTRICT_TYPES)
    upper = boundaries.owner("upper")
    assert set(upper) == _codes_of_types(council_table, UPPER_TYPES)  # 152: the 27 counties as districts
    counties = pd.Series(upper)[pd.Series(upper).str.startswith("E10")].value_counts()
    assert len(counties) == 27 and counties.min() >= 4  # Buckinghamshire has the fewest districts (4)
    drawn = set(d.codes) | set(upper)
    assert drawn == set(council_table["gss-code"])  # all 353
    forest_heath = d.codes.index("E07000201")
    assert upper[forest_heath] == "E10000029"  # Suffolk's, not Surrey's (the table's slip, mended)


def test_district_areas_match_the_published_areas():
    d = boundaries.districts()
    published = boundaries.anchors().set_index("ons_code")["area_km2"]
    km2 = pd.Series([boundaries.district_area(r) for r in d.rings], index=d.codes) * 111.2**2
    ratio = km2 / published.reindex(km2.index)
    assert ratio.between(0.9, 1.1).mean() > 0.95, ratio.describe()
    # South Cambridgeshire surrounds Cambridge: its hole winds the other way and is Cambridge's size
    south_cambs = d.rings[d.codes.index("E07000012")]
    holes = [r for r in south_cambs if boundaries.signed_area(r) < 0]
    cambridge = boundaries.district_area(d.rings[d.codes.index("E07000008")])
    assert len(holes) == 1 and -boundaries.signed_area(holes[0]) == pytest.approx(cambridge, rel=0.01)


def test_county_outlines_leave_out_the_arcs_inside_a_county():
    d = boundaries.districts()
    upper = boundaries.owner("upper")
    inside = sum(len(u) > 1 and len({upper[k] for k in u}) == 1 for u in d.arc_users)
    districts, counties = (
        len(boundaries.outline_segments(boundaries.owner(t))) for t in ("district", "upper")
    )
    assert districts == len(d.arcs)  # every arc edges a district
    assert counties == len(d.arcs) - inside and inside > 100


@pytest.mark.parametrize(
    ("values", "top"),
    [([0.0] * 95 + [0.1, 0.12, 0.3, 0.9, 1.0], 0.4), ([0.0] * 50 + [1.0] * 50, 1.0), ([0.0] * 10, 0.05)],
)
def test_share_scale_is_a_round_value_at_a_high_quantile(values, top):
    assert choropleth.share_scale(values) == top


def test_callouts_are_spread_apart_within_the_axes():
    got = choropleth.spread([0.9, 0.89, 0.88, 0.01], 0.05, 0.02, 0.98)
    assert np.all(-np.diff(got) >= 0.05 - 1e-12) and got[0] == 0.9 and got[-1] >= 0.02
    got = choropleth.spread([0.05, 0.04, 0.03], 0.05, 0.02, 0.98)
    assert got[-1] == 0.02 and np.all(-np.diff(got) >= 0.05 - 1e-12)


def test_share_map_caps_its_scale_and_says_so():
    rows = [("E10000009", "libraries", 2016, r, "mutual" if r < 1 else "in_house") for r in range(10)]
    rows += [("E06000052", "libraries", 2016, r, "mutual") for r in range(10)]
    df = pd.DataFrame(rows, columns=["ons_code", "service", "year", "replication", "mode"])
    ax = maps.plot_share_map(df, "libraries", 2016, vmax=0.2)
    cmap = maps.share_colours(maps.MODE_COLOURS["mutual"])
    faces = _facecolours_by_code(ax, "upper")
    assert faces["E10000009"] == pytest.approx(cmap(0.5))  # 10% on a 0-20% scale: half way
    assert faces["E06000052"] == pytest.approx(cmap(1.0))  # 100%: the darkest, as 20%
    bar = ax.figure.axes[-1]
    assert "scale 0-20%; darkest: 20% or more" in bar.get_xlabel().replace("\n", " ")


def test_map_command_draws_boundaries_by_default_and_hexes_on_request(tmp_path, capsys):
    from sim.cli import main

    _synthetic().to_csv(tmp_path / "councils.csv", index=False)
    for layout in ("boundaries", "hex"):
        out = tmp_path / f"{layout}.png"
        args = ["map", str(tmp_path), "--service", "libraries", "--year", "2016", "--out", str(out)]
        assert main(args + (["--layout", layout] if layout == "hex" else [])) == 0
        assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "boundaries.png").read_bytes() != (tmp_path / "hex.png").read_bytes()
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "map",
                str(tmp_path),
                "--service",
                "libraries",
                "--year",
                "2016",
                "--layout",
                "hexes",
                "--out",
                "x.png",
            ]
        )
    assert exc.value.code == 2 and "invalid choice: 'hexes'" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()
