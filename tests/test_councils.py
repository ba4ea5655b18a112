"""The 2014 councils: counts, mends of the known defects, and national totals against CALIBRATION.md."""

import numpy as np
import pandas as pd
import pytest

from sim.inputs.councils import REGIONS, data_path, load_england
from sim.inputs.params import defaults
from sim.model import ASC, LEISURE, LIBRARIES, slots_for


@pytest.fixture(scope="module")
def eng():
    return load_england()


def test_353_councils_of_each_type(eng):
    c = eng.councils
    assert len(c) == 353
    assert c["ons_code"].is_unique
    assert c["type"].value_counts().to_dict() == {
        "NMD": 201,
        "UA": 56,
        "MD": 36,
        "LBO": 32,
        "CTY": 27,
        "CC": 1,
    }


def test_every_council_has_a_known_region(eng):
    assert eng.councils["region"].isin(REGIONS).all()
    raw = pd.read_csv(data_path("councils_2014.csv"))
    assert raw["region"].isna().sum() == 15, "the raw file's defect this module mends"


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("E07000201", "East of England"),
        ("E10000002", "South East"),
        ("E06000028", "South West"),
        ("E07000153", "East Midlands"),
    ],
    ids=["Forest Heath", "Buckinghamshire CC", "Bournemouth", "Kettering"],
)
def test_abolished_councils_get_their_2014_region(eng, code, region):
    assert eng.councils.loc[eng.councils["ons_code"] == code, "region"].item() == region


def test_forest_heath_is_a_suffolk_district(eng):
    assert eng.councils.loc[eng.councils["ons_code"] == "E07000201", "county"].item() == "SFK"


def test_dorset_area_covers_its_districts(eng):
    c = eng.councils
    dorset = c.loc[c["ons_code"] == "E10000009", "area_km2"].item()
    assert dorset > 2400, "the raw 1,561 km2 is mended from the boundary-derived areas"


def test_population_has_no_gaps(eng):
    assert eng.councils["population"].notna().all()
    assert (eng.councils["population"] > 0).all()


def test_funding_path_has_no_gaps_and_city_of_london_gets_london_median(eng):
    f = eng.funding_change
    assert f.shape == (353, 9)
    assert not np.isnan(f).any()
    c = eng.councils
    city = eng.index_of("E09000001")
    london = (c["region"] == "London").to_numpy() & (c["ons_code"] != "E09000001").to_numpy()
    np.testing.assert_allclose(f[city, :-1], np.median(f[london, :-1], axis=0))  # 2019: mend 6


def test_adult_social_care_spend_matches_the_england_total(eng):
    # CALIBRATION.md: adult social care net current expenditure 14.50bn in 2014-15.
    assert eng.councils["asc_spend_gbp_m"].sum() == pytest.approx(14_500, rel=0.005)


def test_cultural_spend_is_close_to_the_england_total(eng):
    # CALIBRATION.md: 2.68bn; the 353 councils hold 2.56bn (the England row also counts other authorities).
    total = eng.councils["cultural_spend_gbp_m"].sum()
    assert total == pytest.approx(2_682, rel=0.05)
    assert total < 2_682


def test_service_slots_follow_tiers():
    s = slots_for(defaults())
    counts = np.bincount(s.service, minlength=3)
    services = set(zip(s.council.tolist(), s.service.tolist(), strict=True))
    assert sum(k == ASC for _, k in services) == 152 and sum(k == LIBRARIES for _, k in services) == 152
    assert sum(k == LEISURE for _, k in services) == 326
    # parts: 3 of adult social care; every 2010 library (2,926, and the Isles of Scilly's one); centres
    assert counts[ASC] == 3 * 152 and counts[LIBRARIES] == 2_926 + 1 and counts[LEISURE] >= 326
    assert s.n == len(set(zip(s.council.tolist(), s.part.tolist(), s.point.tolist(), strict=True)))
    lib = s.service == LIBRARIES
    assert (np.bincount(s.council[lib & (s.point == 0)]) <= 1).all(), "one main library per authority"
    np.testing.assert_allclose(np.bincount(s.founder[lib], weights=s.size[lib])[s.founder[lib]], 1.0)
    assert (np.diff(s.size[lib])[s.point[lib][1:] > 0] <= 0).all(), "points ranked by size, largest first"


def test_staff_totals_against_calibration():
    p = defaults()
    s = slots_for(p)
    asc = s.staff[s.service == ASC].sum()
    shares = ("day_services", "learning_disability", "home_care_reablement")
    assert asc == pytest.approx(130_100 * sum(p[f"services.asc_share_{k}"] for k in shares), rel=1e-9)
    points = s.units[s.service == LIBRARIES].sum()
    assert points == 2_927, "statutory libraries of 2010, one slot each (and the Isles of Scilly's)"
    libraries = s.staff[s.service == LIBRARIES].sum()
    # CIPFA 2014: 17,414 FTE in Great Britain; England holds roughly 85-90% of them.
    assert 0.75 * 17_414 < libraries < 0.95 * 17_414
    np.testing.assert_allclose(s.spend, s.staff * s.cost_per_post)


def test_the_2019_change_of_basis_is_not_passed_through():
    """Mend 6: 2019-20 is on a new basis; each council takes its mean change of 2017-18 and 2018-19."""
    from sim.inputs.councils import FUNDING_YEARS, load_england

    f = load_england().funding_change
    k = FUNDING_YEARS.index(2019)
    np.testing.assert_allclose(f[:, k], f[:, k - 2 : k].mean(axis=1))
    assert np.median(f[:, k]) < 0.03, "no 7% jump from the change of basis"
