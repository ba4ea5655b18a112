"""Hex maps of England's 2014 councils coloured by a service's delivery mode.

The hex cartograms (HexJSON, ``odd-r`` layout) live in ``sim/data/maps``; see the
``PROVENANCE.md`` there for sources and licences. Upper-tier services (adult social care,
libraries) are drawn on the 152-hex upper-tier map, leisure on the 326-hex district map.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch

HEXJSON_FILES: dict[str, str] = {
    "upper": "uk-upper-tier-local-authorities-2014-adapted.hexjson",
    "district": "uk-local-authority-districts.hexjson",
}

SERVICE_TIER: dict[str, str] = {
    "adult_social_care": "upper",
    "libraries": "upper",
    "leisure": "district",
}

NO_DATA = "no_data"

# Okabe–Ito palette: cool colours for council-run/trust modes, the warm vermillion/orange pair
# for the mutual modes so they stand out; light grey for hexes with no row.
MODE_COLOURS: dict[str, str] = {
    "in_house": "#56B4E9",  # sky blue
    "rebooted": "#0072B2",  # blue
    "reduced": "#000000",  # black: provision cut or closed
    "community": "#F0E442",  # yellow
    "outsourced": "#7F7F7F",  # dark grey
    "shared": "#9AD3F5",  # pale sky blue: another council
    "latc": "#009E73",  # bluish green
    "trust": "#8FCFB8",  # pale bluish green
    "legacy_trust": "#CC79A7",  # reddish purple
    "mutual": "#D55E00",  # vermillion
    "joint_mutual": "#E69F00",  # orange
    NO_DATA: "#C8C8C8",  # grey: no service / no data
}

MODE_LABELS: dict[str, str] = {
    "in_house": "in-house",
    "rebooted": "rebooted in-house",
    "reduced": "cut or closed",
    "community": "community group",
    "outsourced": "outsourced",
    "shared": "shared with another council",
    "latc": "LATC",
    "trust": "new trust",
    "legacy_trust": "legacy trust",
    "mutual": "mutual",
    "joint_mutual": "joint mutual",
    NO_DATA: "no service/no data",
}

_REQUIRED_COLUMNS = ("ons_code", "service", "year", "replication", "mode")
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


def _hex_polygons(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Return an (n, 6, 2) array of pointy-top hexagon vertices around the given centres."""
    radius = 1.0 / _SQRT3  # circumradius of a hex one unit wide
    angles = np.deg2rad(30.0 + 60.0 * np.arange(6))
    dx, dy = radius * np.cos(angles), radius * np.sin(angles)
    return np.stack([x[:, None] + dx, y[:, None] + dy], axis=-1)


def _select(councils: pd.DataFrame, service: str, year: int, replication: int) -> pd.DataFrame:
    """Filter the council table to one service, year and replication, validating each."""
    missing = [c for c in _REQUIRED_COLUMNS if c not in councils.columns]
    if missing:
        raise ValueError(f"councils table lacks columns {missing}; needs {list(_REQUIRED_COLUMNS)}")
    if service not in SERVICE_TIER:
        raise ValueError(f"unknown service {service!r}; valid services: {sorted(SERVICE_TIER)}")
    services = sorted(councils["service"].dropna().unique())
    if service not in services:
        raise ValueError(f"service {service!r} not in the data; services present: {services}")
    sub = councils[councils["service"] == service]
    replications = sorted(int(v) for v in sub["replication"].unique())
    if replication not in replications:
        raise ValueError(
            f"replication {replication!r} not in the data for {service}; present: {replications}"
        )
    sub = sub[sub["replication"] == replication]
    years = sorted(int(v) for v in sub["year"].unique())
    if year not in years:
        raise ValueError(f"year {year!r} not in the data for {service}; years present: {years}")
    sub = sub[sub["year"] == year]
    if "part" in sub.columns:
        sub = dominant_mode(sub)
    dupes = sorted(sub.loc[sub["ons_code"].duplicated(), "ons_code"].unique())
    if dupes:
        raise ValueError(f"several rows per council for {service} {year}: {dupes[:10]}")
    return sub


def dominant_mode(parts: pd.DataFrame) -> pd.DataFrame:
    """One row per council: the mode that holds most of its service's spend (or units) across its parts.

    A council's service is made of parts (day services, branch libraries, ...), each in its own mode;
    a map colours the council by the mode of the largest share. Ties go to the first mode in the table.
    """
    weight = (
        "spend_gbp_m" if "spend_gbp_m" in parts.columns else "units" if "units" in parts.columns else None
    )
    parts = parts.assign(_w=parts[weight] if weight else 1.0)
    by_mode = parts.groupby(["ons_code", "mode"], sort=False, dropna=False)["_w"].sum().reset_index()
    best = by_mode.loc[by_mode.groupby("ons_code", sort=False)["_w"].idxmax()]
    first = parts.drop_duplicates("ons_code").drop(columns=["mode", "_w"])
    return first.merge(best[["ons_code", "mode"]], on="ons_code", how="left")


def plot_mode_map(
    councils: pd.DataFrame,
    service: str,
    year: int,
    replication: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a hex map of councils coloured by the delivery mode of one service in one year.

    Args:
        councils: Tidy council table with at least ``ons_code, service, year, replication, mode``.
        service: One of ``SERVICE_TIER``; picks the hex map (upper tier or district).
        year: Financial year start (2014 means 2014-15).
        replication: Which model replication to draw.
        ax: Axes to draw on; a new headless ``Figure`` is made if omitted.
        title: Plot title; defaults to ``"<Service> delivery mode, <year>-<yy+1>"``.

    Returns:
        The Axes, holding one ``PolyCollection`` with a hex per council of the tier. Councils
        with no row (or a missing mode) are grey.

    Raises:
        ValueError: If a column is missing, service/year/replication is not in the data, a
            council has several rows, or a mode is not in ``MODE_COLOURS``.
    """
    sub = _select(councils, service, year, replication)
    hexes = _read_hexmap(SERVICE_TIER[service])
    modes_by_code = dict(zip(sub["ons_code"].astype(str), sub["mode"], strict=True))
    unknown = sorted({str(m) for m in modes_by_code.values() if pd.notna(m)} - set(MODE_COLOURS))
    if unknown:
        raise ValueError(f"unknown modes {unknown}; known modes: {list(MODE_COLOURS)}")
    off_map = sorted(set(modes_by_code) - set(hexes["ons_code"]))
    if off_map:
        warnings.warn(
            f"{len(off_map)} {service} councils are not on the {SERVICE_TIER[service]} map "
            f"and are not drawn: {off_map[:5]}",
            stacklevel=2,
        )
    modes = [modes_by_code.get(code, NO_DATA) for code in hexes["ons_code"]]
    modes = [NO_DATA if pd.isna(m) else m for m in modes]

    if ax is None:
        ax = Figure(figsize=(7, 8), layout="constrained").add_subplot()
    polys = _hex_polygons(hexes["x"].to_numpy(), hexes["y"].to_numpy())
    collection = PolyCollection(
        polys,
        facecolors=[MODE_COLOURS[m] for m in modes],
        edgecolors="white",
        linewidths=0.6,
    )
    collection.set_gid(f"hexmap-{service}")
    ax.add_collection(collection)
    ax.set_xlim(polys[..., 0].min() - 0.5, polys[..., 0].max() + 0.5)
    ax.set_ylim(polys[..., 1].min() - 0.5, polys[..., 1].max() + 0.5)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)

    counts = pd.Series(modes).value_counts()
    handles = [
        Patch(facecolor=colour, edgecolor="none", label=f"{MODE_LABELS[m]} ({counts.get(m, 0)})")
        for m, colour in MODE_COLOURS.items()
    ]
    ax.legend(handles=handles, loc="upper left", frameon=False, fontsize="small")
    if title is None:
        label = service.replace("_", " ").capitalize()
        title = f"{label} delivery mode, {year}-{(year + 1) % 100:02d}"
    ax.set_title(title)
    return ax


def read_councils(results_dir: str | Path) -> pd.DataFrame:
    """Read a run's council table: ``councils.parquet`` if present, else ``councils.csv``.

    Raises:
        FileNotFoundError: If neither file exists in ``results_dir``.
    """
    results_dir = Path(results_dir)
    parquet, csv = results_dir / "councils.parquet", results_dir / "councils.csv"
    if parquet.exists():
        return pd.read_parquet(parquet)
    if csv.exists():
        return pd.read_csv(csv, dtype={"ons_code": str, "service": str, "mode": str})
    raise FileNotFoundError(f"no councils.parquet or councils.csv in {results_dir}")


def plot_mode_map_file(
    results_dir: str | Path,
    service: str,
    year: int,
    out: str | Path,
    replication: int = 0,
) -> Path:
    """Draw the delivery-mode map of a finished run and save it as a PNG (headless).

    Args:
        results_dir: A run's output folder holding ``councils.parquet`` or ``councils.csv``.
        service: One of ``SERVICE_TIER``.
        year: Financial year start.
        out: Path of the PNG to write; parent folders are created.
        replication: Which model replication to draw.

    Returns:
        The path written.

    Raises:
        FileNotFoundError: If ``results_dir`` has no council table.
        ValueError: As :func:`plot_mode_map`.
    """
    councils = read_councils(results_dir)
    fig = Figure(figsize=(7, 8), layout="constrained")
    plot_mode_map(councils, service, year, replication=replication, ax=fig.add_subplot())
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, format="png")
    return out
