"""England's 2014 councils on their real boundaries: the ONS December 2013 district TopoJSON, read in numpy.

The file (``sim/data/maps/eng_topo_lad_2013.json``, provenance in ``sim/data/maps/PROVENANCE.md``) holds the
326 districts, unitaries, metropolitan districts, London boroughs and the City as quantised, delta-encoded
arcs shared between neighbours. A county council of 2014 is the union of its districts (``county`` in
``councils_2014.csv``): a county map draws every district filled with its county's value, and outlines the
counties with the arcs that are not shared by two districts of the same county. All 353 councils of 2014
therefore have a shape: 326 as one district each, the 27 counties as their districts.

Coordinates are longitude scaled by cos(52.5 deg) and latitude (degrees): at England's latitudes a square
on the page is about a square on the ground. Drawing is in :mod:`sim.pictures.maps`.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

TOPOJSON = "eng_topo_lad_2013.json"
ASPECT_LATITUDE = 52.5
"""Longitudes are scaled by the cosine of this latitude (mid England)."""
THIN = 3
"""Keep every third point of an arc (and its ends): the file's quantised points lie about 60 m apart, many
to a pixel of a page-wide map of England (136,821 points; 48,408 kept)."""


def decode_arcs(arcs: list, transform: dict | None) -> list[np.ndarray]:
    """TopoJSON arcs as (n, 2) float arrays: quantised positions delta-decoded, then scaled and translated."""
    lengths = np.array([len(arc) for arc in arcs])
    flat = np.array([p for arc in arcs for p in arc], dtype=float).reshape(-1, 2)
    if transform:  # one running sum over all arcs, less the sum before each arc's start
        total = np.cumsum(flat, axis=0)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        before = np.vstack([np.zeros((1, 2)), total])[starts]
        flat = (total - np.repeat(before, lengths, axis=0)) * transform["scale"] + transform["translate"]
    return np.split(flat, np.cumsum(lengths)[:-1])


def ring(indices: list[int], arcs: list[np.ndarray]) -> np.ndarray:
    """One closed ring from arc indices: ``~i`` (negative) is arc ``i`` reversed; joins are not doubled."""
    parts = []
    for k, i in enumerate(indices):
        a = arcs[i] if i >= 0 else arcs[~i][::-1]
        parts.append(a if k == 0 else a[1:])
    return np.concatenate(parts)


def signed_area(points: np.ndarray) -> float:
    """Shoelace area of a ring: positive if anticlockwise."""
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def polygons(geometry: dict) -> list[list[list[int]]]:
    """The arc lists of a Polygon or MultiPolygon geometry as a list of polygons (each a list of rings)."""
    if geometry["type"] == "Polygon":
        return [geometry["arcs"]]
    if geometry["type"] == "MultiPolygon":
        return list(geometry["arcs"])
    raise ValueError(f"{TOPOJSON}: geometry type {geometry['type']!r} is not a polygon")


@dataclass(frozen=True)
class Districts:
    """The decoded district map.

    Attributes:
        codes: the 326 ONS codes, in file order.
        names: their names in the file.
        rings: per district, its rings (outer rings anticlockwise, holes clockwise), projected.
        arcs: the projected arcs.
        arc_users: per arc, the indices (into ``codes``) of the districts whose rings use it (one at a coast).
    """

    codes: tuple[str, ...]
    names: tuple[str, ...]
    rings: tuple[tuple[np.ndarray, ...], ...]
    arcs: tuple[np.ndarray, ...]
    arc_users: tuple[tuple[int, ...], ...]


def thin(arc: np.ndarray, every: int = THIN) -> np.ndarray:
    """Every ``every``-th point of an arc, both ends kept: a shared arc thins alike for both neighbours."""
    if len(arc) <= 2 or every <= 1:
        return arc
    keep = np.zeros(len(arc), dtype=bool)
    keep[::every] = True
    keep[[0, -1]] = True
    return arc[keep]


def project(lonlat: np.ndarray) -> np.ndarray:
    """Longitude and latitude to the map's x, y (longitude scaled by cos of :data:`ASPECT_LATITUDE`)."""
    return lonlat * np.array([math.cos(math.radians(ASPECT_LATITUDE)), 1.0])


@functools.cache
def districts() -> Districts:
    """Read and decode the district TopoJSON once (about 0.2 s)."""
    resource = importlib.resources.files("sim") / "data" / "maps" / TOPOJSON
    doc = json.loads(resource.read_text(encoding="utf-8"))
    arcs = [thin(project(a)) for a in decode_arcs(doc["arcs"], doc.get("transform"))]
    users: list[set[int]] = [set() for _ in arcs]
    codes, names, all_rings = [], [], []
    for d, geometry in enumerate(doc["objects"]["lad"]["geometries"]):
        codes.append(geometry["properties"]["LAD13CD"])
        names.append(geometry["properties"]["LAD13NM"])
        rings = []
        for polygon in polygons(geometry):
            for k, indices in enumerate(polygon):
                points = ring(indices, arcs)
                outer = k == 0
                if (signed_area(points) > 0) != outer:
                    points = points[::-1]
                rings.append(points)
                for i in indices:
                    users[i if i >= 0 else ~i].add(d)
        all_rings.append(tuple(rings))
    return Districts(
        tuple(codes), tuple(names), tuple(all_rings), tuple(arcs), tuple(tuple(sorted(u)) for u in users)
    )


def district_area(rings: tuple[np.ndarray, ...]) -> float:
    """Area of a district in map units (outer rings less holes)."""
    return sum(signed_area(r) for r in rings)


@functools.cache
def _upper_tier() -> pd.Series:
    """ONS code of each district's upper-tier council: its county for a two-tier district, else itself."""
    from sim.inputs.councils import data_path, load_england

    councils = load_england().councils
    raw = pd.read_csv(data_path("councils_2014.csv"), usecols=["local-authority-code", "gss-code"], dtype=str)
    county_code = raw.set_index("local-authority-code")["gss-code"]
    parent = councils["county"].map(county_code)
    return pd.Series(parent.fillna(councils["ons_code"]).to_numpy(), index=councils["ons_code"])


def owner(tier: str) -> np.ndarray:
    """For each district of :func:`districts` (in order), the council that runs a service of ``tier``.

    ``"district"``: the district itself; ``"upper"``: its county council if it has one, else itself.
    """
    codes = np.array(districts().codes)
    if tier == "district":
        return codes
    if tier == "upper":
        return _upper_tier().reindex(codes).fillna(pd.Series(codes, index=codes)).to_numpy()
    raise ValueError(f"tier must be 'upper' or 'district', got {tier!r}")


def coverage(tier: str) -> set[str]:
    """ONS codes of the councils a tier's boundary map draws (326 districts, or 152 upper-tier councils)."""
    return set(owner(tier))


def outline_segments(groups: np.ndarray) -> list[np.ndarray]:
    """Arcs on the edge of a group of districts: used by one district (a coast) or by two in different groups.

    Args:
        groups: a label per district (in :func:`districts` order): the owner of a tier, a region, ...

    Returns:
        The arcs (each an (n, 2) array of points) to draw as the groups' outlines.
    """
    d = districts()
    return [
        arc
        for arc, users in zip(d.arcs, d.arc_users, strict=True)
        if len({groups[u] for u in users}) > 1 or len(users) == 1
    ]


def anchors() -> pd.DataFrame:
    """A label point for each of the 353 councils: its centroid, projected as the map.

    From ``maps/lad_cty_centroids_2014.csv``: a county's centroid is the area-weighted mean of its districts'.

    Returns:
        Columns ``ons_code, name, x, y, area_km2``.
    """
    resource = importlib.resources.files("sim") / "data" / "maps" / "lad_cty_centroids_2014.csv"
    with resource.open("r", encoding="utf-8") as fh:
        df = pd.read_csv(fh, dtype={"gss-code": str})
    xy = project(df[["long", "lat"]].to_numpy(dtype=float))
    return pd.DataFrame(
        {
            "ons_code": df["gss-code"],
            "name": df["nice-name"],
            "x": xy[:, 0],
            "y": xy[:, 1],
            "area_km2": df["approx-area-km2"],
        }
    )
