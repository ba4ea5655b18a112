"""Drawing England's councils filled with colours: on their real boundaries or as a hex cartogram.

:func:`draw` is what every map calls (``sim.pictures.maps``, the explorer, notebook 03): given a colour per
council of a tier, it draws the councils (``layout="boundaries"``: the ONS districts of
:mod:`sim.pictures.boundaries`, a county filled as its districts; ``layout="hex"``: one equal hex per council
from :mod:`sim.pictures.hexes`), council and region outlines, and names councils in callouts at the map's
sides, spread so that no two labels overlap. :func:`share_scale` picks a colour scale suited to the values.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.path import Path

from sim.pictures import boundaries, hexes
from sim.pictures.style import MODE_COLOURS, NO_DATA

LAYOUTS = ("boundaries", "hex")
"""Map layouts: real boundaries (the default) or equal-sized hexes."""
NICE_MAXIMA = (0.05, 0.1, 0.2, 0.25, 0.4, 0.5, 0.75, 1.0)
LABEL_SIZE = 7.5
LABEL_GAP = 0.04
"""Least vertical distance between two callouts, as a fraction of the axes' height (at least)."""


def check_layout(layout: str) -> None:
    """Raise ValueError naming the layouts if ``layout`` is not one."""
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)}, got {layout!r}")


def coverage(tier: str, layout: str) -> set[str]:
    """ONS codes of the councils a tier's map draws in ``layout``."""
    check_layout(layout)
    return boundaries.coverage(tier) if layout == "boundaries" else hexes.map_coverage(tier)


def share_scale(values: pd.Series | np.ndarray, quantile: float = 0.98) -> float:
    """Top of a sequential colour scale for shares (0-1): the smallest round value at or above ``quantile``.

    Shares of most councils are far below 100%, so a 0-100% scale washes them out; capping the scale at a
    high quantile keeps the spread visible (councils above the cap are drawn in the darkest colour, and
    the colour bar says so).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    top = float(np.quantile(v, quantile)) if len(v) else 0.0
    return next(m for m in NICE_MAXIMA if m >= top - 1e-9)


def _compound(rings: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Vertices and path codes of one district: every ring a closed sub-path (holes wind the other way)."""
    verts, codes = [], []
    for r in rings:
        verts.append(np.vstack([r, r[:1]]))
        c = np.full(len(r) + 1, Path.LINETO, dtype=Path.code_type)
        c[0], c[-1] = Path.MOVETO, Path.CLOSEPOLY
        codes.append(c)
    return np.concatenate(verts), np.concatenate(codes)


def _regions(codes) -> np.ndarray:
    from sim.inputs.councils import load_england

    region = load_england().councils.set_index("ons_code")["region"]
    return pd.Series(list(codes)).map(region).fillna("").to_numpy()


@functools.cache
def _paths() -> tuple[list[np.ndarray], list[np.ndarray]]:
    verts, codes = zip(*(_compound(r) for r in boundaries.districts().rings), strict=True)
    return list(verts), list(codes)


def _joined(arcs: list[np.ndarray]) -> list[np.ndarray]:
    """Arcs as one polyline broken by NaN rows: one path to draw, not thousands."""
    gap = np.full((1, 2), np.nan)
    return [np.concatenate([part for arc in arcs for part in (arc, gap)])]


@functools.cache
def _outlines(tier: str) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The councils' outlines of a tier and the regions' outlines, each one polyline."""
    d = boundaries.districts()
    councils = boundaries.outline_segments(boundaries.owner(tier))
    return _joined(councils), _joined(boundaries.outline_segments(_regions(d.codes)))


def _draw_boundaries(ax: Axes, tier: str, colours: dict, gid: str) -> np.ndarray:
    d = boundaries.districts()
    own = boundaries.owner(tier)
    collection = PolyCollection([], edgecolors="none", linewidths=0)
    collection.set_verts_and_codes(*_paths())
    collection.set_facecolors([colours.get(code, MODE_COLOURS[NO_DATA]) for code in own])
    collection.set_gid(gid)
    collection.codes = list(own)  # the council each polygon is filled for (a county: several districts)
    ax.add_collection(collection)
    council_lines, region_lines = _outlines(tier)
    councils = LineCollection(council_lines, colors="#9A9A9A", linewidths=0.3)
    councils.set_gid("council-outlines")
    ax.add_collection(councils)
    regions = LineCollection(region_lines, colors="#222222", linewidths=0.9)
    regions.set_gid("region-outlines")
    ax.add_collection(regions)
    return np.concatenate(d.arcs)


def _draw_hexes(ax: Axes, tier: str, colours: dict, gid: str) -> np.ndarray:
    grid = hexes._read_hexmap(tier)
    x, y = grid["x"].to_numpy(), grid["y"].to_numpy()
    polys = hexes.hex_polygons(x, y)
    faces = [colours.get(code, MODE_COLOURS[NO_DATA]) for code in grid["ons_code"]]
    collection = PolyCollection(polys, facecolors=faces, edgecolors="white", linewidths=0.5)
    collection.set_gid(gid)
    collection.codes = list(grid["ons_code"])
    ax.add_collection(collection)
    outline = LineCollection(
        hexes.region_edges(x, y, _regions(grid["ons_code"])), colors="#222222", linewidths=1.4
    )
    outline.set_gid("region-outlines")
    ax.add_collection(outline)
    return polys.reshape(-1, 2)


def _anchors(tier: str, layout: str) -> pd.DataFrame:
    if layout == "hex":
        return hexes._read_hexmap(tier)[["ons_code", "x", "y"]]
    return boundaries.anchors()[["ons_code", "x", "y"]]


def spread(targets: list[float], gap: float, low: float, high: float) -> list[float]:
    """Positions near ``targets`` (sorted high to low), ``gap`` or more apart, within [low, high]."""
    out: list[float] = []
    for t in targets:
        out.append(min(t, high) if not out else min(t, out[-1] - gap))
    if out and out[-1] < low:  # pushed off the bottom: shift up from the bottom
        out[-1] = low
        for i in range(len(out) - 2, -1, -1):
            out[i] = max(out[i], out[i + 1] + gap)
    return out


def _label_gap(ax: Axes, aspect: float) -> float:
    """Least distance between two callouts as a fraction of the map's height: two lines of text.

    The map's height is estimated from the axes' place in the figure before layout (an equal-aspect map
    fills its box's width or height), less a third for titles, colour bars and legends the layout adds.
    """
    box = ax.get_position()
    width, height = box.width * ax.figure.get_figwidth(), box.height * ax.figure.get_figheight()
    map_height = min(height, width * aspect) / 1.5
    return max(LABEL_GAP, 1.6 * LABEL_SIZE / 72 / map_height)


def nearer_west(points: pd.DataFrame, outline: np.ndarray) -> np.ndarray:
    """Whether each point is nearer the map's west edge than its east edge at the point's latitude."""
    band = 0.03 * (outline[:, 1].max() - outline[:, 1].min())
    west = []
    for x, y in zip(points["x"], points["y"], strict=True):
        row = outline[np.abs(outline[:, 1] - y) < band, 0]
        west.append(x - row.min() < row.max() - x if len(row) else x < outline[:, 0].mean())
    return np.array(west, dtype=bool)


def callouts(
    ax: Axes, points: pd.DataFrame, limits: tuple[float, float, float, float], outline: np.ndarray
) -> None:
    """Name councils at the map's two sides with leader lines, spread so that no two labels overlap.

    Args:
        ax: the map's axes.
        points: ``x, y, label`` of each council to name (in data units).
        limits: ``x0, x1, y0, y1`` of the axes (set beforehand; aspect equal with ``adjustable="box"``
            keeps them, so the fractions here are where the points are).
        outline: the map's points (n, 2): a council is named on the side whose edge is nearer it.
    """
    x0, x1, y0, y1 = limits
    halo = [patheffects.withStroke(linewidth=2.4, foreground="white")]
    west = nearer_west(points, outline)
    gap = _label_gap(ax, (y1 - y0) / (x1 - x0))
    band, pad = 0.02 * (y1 - y0), 0.03 * (x1 - x0)
    for left in (True, False):
        side = points[west == left].sort_values("y", ascending=False)
        fractions = spread(list((side["y"] - y0) / (y1 - y0)), gap, 0.02, 0.98)
        for (_, p), fy in zip(side.iterrows(), fractions, strict=True):
            ty = y0 + fy * (y1 - y0)
            lo, hi = min(ty, p["y"]) - band, max(ty, p["y"]) + band
            row = outline[(outline[:, 1] >= lo) & (outline[:, 1] <= hi), 0]  # the coast beside the label
            tx = row.min() - pad if left else row.max() + pad
            ax.annotate(
                p["label"],
                (p["x"], p["y"]),
                xytext=(tx, ty),
                ha="right" if left else "left",
                va="center",
                fontsize=LABEL_SIZE,
                path_effects=halo,
                arrowprops={"arrowstyle": "-", "lw": 0.6, "color": "#333333", "patchA": None},
            )


def draw(
    ax: Axes,
    tier: str,
    colours: dict[str, object],
    layout: str = "boundaries",
    gid: str = "councils",
    labels: dict[str, str] | None = None,
) -> None:
    """Draw a tier's councils filled with ``colours`` (code: colour; grey for a council without one).

    Args:
        ax: the axes, made a clean map frame (equal aspect, no ticks, no spines).
        tier: ``"upper"`` (counties, unitaries...: adult social care, libraries) or ``"district"`` (leisure).
        colours: a colour per ONS code of the tier.
        layout: ``"boundaries"`` (real boundaries, counties as their districts) or ``"hex"``.
        gid: the id of the filled collection (its ``codes`` attribute lists the council of each shape).
        labels: ONS code -> label of councils to name in callouts.
    """
    check_layout(layout)
    draw_layout = _draw_boundaries if layout == "boundaries" else _draw_hexes
    outline = draw_layout(ax, tier, colours, gid)
    (xmin, ymin), (xmax, ymax) = outline.min(axis=0), outline.max(axis=0)
    pad = 0.22 * (xmax - xmin) if labels else 0.02 * (xmax - xmin)  # room at the sides for the callouts
    limits = (xmin - pad, xmax + pad, ymin - 0.02 * (ymax - ymin), ymax + 0.02 * (ymax - ymin))
    ax.set_xlim(*limits[:2])
    ax.set_ylim(*limits[2:])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    if labels:
        where = _anchors(tier, layout).set_index("ons_code")
        named = [(where.at[c, "x"], where.at[c, "y"], name) for c, name in labels.items() if c in where.index]
        callouts(ax, pd.DataFrame(named, columns=["x", "y", "label"]), limits, outline)
