"""The 353 English councils of 1 April 2014, read from the project's data and mended.

The raw table (`sim/data/councils_2014.csv`, see `sim/data/PROVENANCE.md`) has known defects. Each is
mended here in code, so that the cleaning can be rerun and tested:

1. 15 councils abolished after 2014 have no region: filled from a fixed table below (their 2014 region).
2. Forest Heath's parent county reads SRY; it was a Suffolk district: set to SFK.
3. Dorset County Council's area reads 1,561 km2, smaller than its districts: every area is replaced by the
   boundary-derived `approx-area-km2` of `sim/data/maps/lad_cty_centroids_2014.csv` where present.
4. Populations are mid-2020 and blank for councils abolished 2019-2021: upper-tier councils take the
   about-2015 population of `library_authorities_c2015.csv`; other blanks take the median of their type
   (population is descriptive only; no model rule uses it).
5. Spending power: City of London has no row and 21 councils reorganised in 2019 lack 2019-20; each gap is
   filled with the median change of the council's region in that year.
6. Spending power 2019-20 is on a new basis (core spending power with new grants; the median council
   "gains" 7%), so it is not passed through: each council's 2019-20 change is replaced by the mean of its
   2017-18 and 2018-19 changes, the last two on the old basis.
7. Revenue outturn 2010-11 (for a 2010 start) gives social care as one line, adults and children together:
   adult social care 2010-11 is that line times the council's adult share of social care in 2011-12
   (:func:`spend_2010`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

COUNCIL_TYPES = ("CTY", "NMD", "UA", "MD", "LBO", "CC")
UPPER_TIER_TYPES = frozenset({"CTY", "UA", "MD", "LBO", "CC"})
"""Types with adult social care and library duties (152 councils in 2014)."""
LEISURE_TYPES = frozenset({"NMD", "UA", "MD", "LBO", "CC"})
"""Types that run leisure: districts and single-tier councils (326 councils)."""

REGIONS = (
    "North East",
    "North West",
    "Yorkshire and The Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
)

MISSING_REGIONS = {
    "E10000002": "South East",  # Buckinghamshire County
    "E06000028": "South West",  # Bournemouth
    "E06000029": "South West",  # Poole
    "E07000048": "South West",  # Christchurch
    "E07000049": "South West",  # East Dorset
    "E07000050": "South West",  # North Dorset
    "E07000051": "South West",  # Purbeck
    "E07000052": "South West",  # West Dorset
    "E07000190": "South West",  # Taunton Deane
    "E07000191": "South West",  # West Somerset
    "E07000153": "East Midlands",  # Kettering
    "E07000201": "East of England",  # Forest Heath
    "E07000204": "East of England",  # St Edmundsbury
    "E07000205": "East of England",  # Suffolk Coastal
    "E07000206": "East of England",  # Waveney
}

FUNDING_YEARS = tuple(range(2011, 2020))
"""Financial years (start year) whose cash change in spending power the data gives: 2011 is 2011-12."""
_FUNDING_COLUMNS = tuple(f"sp_change_{y - 1}{str(y)[2:]}_{y}{str(y + 1)[2:]}" for y in FUNDING_YEARS)


def data_path(name: str):
    """Return a path-like to a file in the package's `data` folder."""
    return resources.files("sim") / "data" / name


@dataclass(frozen=True)
class England:
    """The councils and their funding paths, in agent order (sorted by ONS code).

    Attributes:
        councils: one row per council: `ons_code`, `name`, `type`, `region`, `county`, `population`,
            `area_km2`, `deprivation_score` (the library authority's, or for a district its county's,
            IMD score in `library_authorities_c2015.csv`: 1 most deprived, 10 least),
            `library_points_2010` (statutory static libraries of 2010; 0 for a district),
            `asc_spend_gbp_m`, `cultural_spend_gbp_m` (2014-15 net current expenditure).
        funding_change: shape (n_councils, len(FUNDING_YEARS)), yearly cash change in spending power as a
            fraction (-0.05 is a 5% cut), after the mends in the module docstring.
    """

    councils: pd.DataFrame
    funding_change: np.ndarray

    @property
    def codes(self) -> np.ndarray:
        """ONS codes in agent order."""
        return self._arrays()[0]

    @property
    def names(self) -> np.ndarray:
        """Short names in agent order."""
        return self._arrays()[1]

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        cached = self.__dict__.get("_cached_arrays")
        if cached is None:
            cached = (self.councils["ons_code"].to_numpy(), self.councils["name"].to_numpy())
            object.__setattr__(self, "_cached_arrays", cached)
        return cached

    @property
    def n(self) -> int:
        """Number of councils."""
        return len(self.councils)

    def index_of(self, ons_code: str) -> int:
        """Agent index of a council by ONS code (KeyError naming the code if absent)."""
        matches = np.flatnonzero(self.councils["ons_code"].to_numpy() == ons_code)
        if len(matches) != 1:
            raise KeyError(f"no council with ONS code {ons_code!r}")
        return int(matches[0])


def _mend_table(
    raw: pd.DataFrame, centroids: pd.DataFrame, libraries: pd.DataFrame, library_points: pd.DataFrame
) -> pd.DataFrame:
    df = raw.copy()
    missing = df["region"].isna()
    df.loc[missing, "region"] = df.loc[missing, "gss-code"].map(MISSING_REGIONS)
    df.loc[df["gss-code"] == "E07000201", "county-la"] = "SFK"
    area = df["gss-code"].map(centroids.set_index("gss-code")["approx-area-km2"])
    df["area"] = area.fillna(df["area"])
    upper_pop = df["gss-code"].map(libraries.set_index("code")["population"])
    upper = df["local-authority-type"].isin(UPPER_TIER_TYPES)
    df["population"] = np.where(upper & upper_pop.notna(), upper_pop, df["pop-2020"])
    df["population"] = df["population"].fillna(
        df.groupby("local-authority-type")["population"].transform("median")
    )
    # deprivation: the library authority's IMD score of the file (1 most deprived, 10 least); a district
    # takes its county's; points: the 2010 static libraries (Isles of Scilly, absent from the file, has one)
    score = df["gss-code"].map(libraries.set_index("code")["multiple"])
    county_score = df["county-la"].map(pd.Series(score.to_numpy(), index=df["local-authority-code"]))
    score = score.fillna(county_score).fillna(score.median())
    points = df["gss-code"].map(library_points.set_index("gss_code")["static_libraries_2010"])
    points = np.where(upper, points.fillna(1.0), 0.0)
    out = pd.DataFrame(
        {
            "ons_code": df["gss-code"],
            "name": df["nice-name"],
            "official_name": df["official-name"],
            "type": df["local-authority-type"],
            "region": df["region"],
            "county": df["county-la"],
            "population": df["population"].astype(float),
            "area_km2": df["area"].astype(float),
            "deprivation_score": score.astype(float),
            "library_points_2010": points.astype(float),
            "asc_spend_gbp_m": df["rs1415_adult_social_care"].fillna(0.0) / 1000.0,
            "cultural_spend_gbp_m": df["rs1415_cultural_related"].fillna(0.0) / 1000.0,
            "net_revenue_expenditure_gbp_m": df["rs1415_net_revenue_expenditure"] / 1000.0,
        }
    )
    for col in _FUNDING_COLUMNS:
        out[col] = df[col].astype(float)
    return out.sort_values("ons_code").reset_index(drop=True)


def _mend_funding(table: pd.DataFrame) -> np.ndarray:
    change = table[list(_FUNDING_COLUMNS)].to_numpy(dtype=float)
    regions = table["region"].to_numpy()
    for r in np.unique(regions):
        rows = regions == r
        medians = np.nanmedian(change[rows], axis=0)
        block = change[rows]
        gaps = np.isnan(block)
        block[gaps] = np.broadcast_to(medians, block.shape)[gaps]
        change[rows] = block
    new_basis = FUNDING_YEARS.index(2019)
    change[:, new_basis] = change[:, new_basis - 2 : new_basis].mean(axis=1)  # mend 6
    return change


OUTTURN_COLUMNS = [
    "year",
    "ecode",
    "social_care_total_2010_11",
    "adult_social_care",
    "children_social_care",
    "cultural_related",
]


def spend_2010(outturn: pd.DataFrame, ecodes: pd.Series) -> pd.DataFrame:
    """Each council's 2010-11 spend on adult social care and on cultural services, GBP m (mend 7).

    From the revenue outturn by council (``revenue_outturn_by_council.csv``, joined on the DCLG E-code).
    The 2010-11 returns give social care as one line (adults and children together), so adult social care
    in 2010-11 is that line times the council's adult share of social care in 2011-12, the first year the
    returns split it. NaN where the council has no such spend (a district's social care).
    """
    by_year = {y: df.set_index("ecode") for y, df in outturn.groupby("year")}
    y10, y11 = by_year["2010-11"], by_year["2011-12"]
    adult_share = y11["adult_social_care"] / (y11["adult_social_care"] + y11["children_social_care"])
    asc = y10["social_care_total_2010_11"] * adult_share.reindex(y10.index)
    codes = ecodes.to_numpy()
    return pd.DataFrame(
        {
            "asc_spend_2010_gbp_m": asc.reindex(codes).to_numpy() / 1000.0,
            "cultural_spend_2010_gbp_m": y10["cultural_related"].reindex(codes).to_numpy() / 1000.0,
        }
    )


@lru_cache(maxsize=1)
def load_england() -> England:
    """Read and mend the 2014 councils (cached: the table is read once per process)."""
    with data_path("councils_2014.csv").open() as fh:
        raw = pd.read_csv(fh)
    with data_path("maps/lad_cty_centroids_2014.csv").open() as fh:
        centroids = pd.read_csv(fh)
    with data_path("library_authorities_c2015.csv").open() as fh:
        libraries = pd.read_csv(fh)
    with data_path("library_points_2010_by_authority.csv").open() as fh:
        library_points = pd.read_csv(fh)
    table = _mend_table(raw, centroids, libraries, library_points)
    with data_path("revenue_outturn_by_council.csv").open() as fh:
        outturn = pd.read_csv(fh, usecols=OUTTURN_COLUMNS)
    table = table.join(spend_2010(outturn, raw.set_index("gss-code")["ecode"].reindex(table["ons_code"])))
    funding = _mend_funding(table)
    table = table.drop(columns=list(_FUNDING_COLUMNS))
    funding.setflags(write=False)
    return England(councils=table, funding_change=funding)
