"""England's 2014 councils as hex cartograms: reading the maps, hex geometry and region outlines.

The hex cartograms (HexJSON, ``odd-r`` layout) live in ``sim/data/maps``; see the ``PROVENANCE.md`` there
for sources and licences. Upper-tier services (adult social care, libraries) are drawn on the 152-hex
upper-tier map, leisure on the 326-hex district map. Drawing is in :mod:`sim.pictures.maps`.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math

import numpy as np
import pandas as pd

HEXJSON_FILES: dict[str, str] = {
    "upper": "uk-upper-tier-local-authorities-2014-adapted.hexjson",
    "district": "uk-local-authority-districts.hexjson",
}

SERVICE_TIER: dict[str, str] = {
    "adult_social_care": "upper",
    "libraries": "upper",
    "leisure": "district",
}

_SQRT3 = math.sqrt(3.0)


def _check_tier(tier: str) -> None:
    if tier not in HEXJSON_FILES:
        raise ValueError(f"tier must be one of {sorted(HEXJSON_FILES)}, got {tier!r}")


@functools.cache
def _read_hexmap(tier: str) -> pd.DataFrame:
    resource = importlib.resources.files("sim") / "data" / "maps" / HEXJSON_FILES[tier]
    doc = json.loads(resource.read_text(encoding="utf-8"))
    if doc.get("layout") != "odd-r":
        raise ValueError(f"{HEXJSON_FILES[tier]}: layout {doc.get('layout')!r} is not 'odd-r'")
    rows = [
        {"ons_code": code, "name": h.get("name", code), "q": int(h["q"]), "r": int(h["r"])}
        for code, h in doc["hexes"].items()
        if code.startswith("E")
    ]
    df = pd.DataFrame(rows).sort_values("ons_code", ignore_index=True)
    # Pointy-top hexes one unit wide; odd rows sit half a hex east. In these files r increases
    # northwards, so y = r * sqrt(3)/2 already has north at the top.
    df["x"] = df["q"] + 0.5 * (df["r"] % 2)
    df["y"] = df["r"] * _SQRT3 / 2.0
    return df


def load_hexmap(tier: str) -> pd.DataFrame:
    """Read one of the English hex cartograms.

    Args:
        tier: ``"upper"`` (152 upper-tier councils of 2014) or ``"district"`` (326 lower-tier
            and unitary councils).

    Returns:
        One row per English hex with columns ``ons_code, name, q, r, x, y``; ``x, y`` are the hex
        centres (pointy-top, odd-r, hexes one unit wide, y increasing northwards).

    Raises:
        ValueError: If ``tier`` is unknown or the file is not an ``odd-r`` HexJSON.
    """
    _check_tier(tier)
    return _read_hexmap(tier).copy()


def map_coverage(tier: str) -> set[str]:
    """Return the set of ONS codes drawn on a tier's hex map.

    Args:
        tier: ``"upper"`` or ``"district"``.

    Returns:
        The ONS (GSS) codes of the tier's English hexes.
    """
    _check_tier(tier)
    return set(_read_hexmap(tier)["ons_code"])


def hex_polygons(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return an (n, 6, 2) array of pointy-top hexagon vertices around the given centres."""
    radius = 1.0 / _SQRT3  # circumradius of a hex one unit wide
    angles = np.deg2rad(30.0 + 60.0 * np.arange(6))
    dx, dy = radius * np.cos(angles), radius * np.sin(angles)
    return np.stack([x[:, None] + dx, y[:, None] + dy], axis=-1)


def region_edges(x: np.ndarray, y: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """Hex edges on a region boundary (or the coast): an (n_edges, 2, 2) array of segments.

    An edge is drawn where the neighbouring hex across it is missing or lies in another region. In this
    layout the neighbour across the edge between vertices ``k`` and ``k + 1`` of :func:`hex_polygons` is
    one unit away at ``60 (k + 1)`` degrees.
    """
    polys = hex_polygons(x, y)
    where = {(round(a * 2), round(b / _SQRT3 * 2)): i for i, (a, b) in enumerate(zip(x, y, strict=True))}
    segments = []
    for k in range(6):
        angle = np.deg2rad(60.0 * (k + 1))
        nx, ny = x + np.cos(angle), y + np.sin(angle)
        for i in range(len(x)):
            j = where.get((round(nx[i] * 2), round(ny[i] / _SQRT3 * 2)))
            if j is None or regions[j] != regions[i]:
                segments.append((polys[i, k], polys[i, (k + 1) % 6]))
    return np.array(segments).reshape(-1, 2, 2)
