"""Can a chart be read? Measures a drawn figure's text as matplotlib lays it out and lists what is wrong.

:func:`problems` draws the figure (no output) and, from the window extents of its artists, reports

- text under :data:`MIN_POINTS` points (tick labels, legends, notes, callouts);
- text or a legend that the figure's edge cuts off;
- tick labels of one axis that overlap (``10,00012,500``), and texts of one axes that overlap
  (labels of points, callouts);
- a legend inside an axes that covers data: points of its lines or markers inside the legend's box.

It is what ``tests/test_readability.py`` runs on every chart-drawing function and what the notebook test
runs on every figure a notebook shows. Nothing here chooses a backend or imports pyplot.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.transforms import Bbox

MIN_POINTS = 7.0
"""The smallest font size a reader is asked to read."""
TOLERANCE = 1.0
"""Pixels of slack at the figure's edge and between boxes (antialiasing, rounding)."""


def _ticklabels(axis) -> list[Text]:
    """The tick labels an axis draws: with words, at ticks inside the view (others are not drawn)."""
    lo, hi = sorted(axis.get_view_interval())
    span = (hi - lo) * 1e-9
    pairs = zip(axis.get_majorticklocs(), axis.get_majorticklabels(), strict=False)
    return [
        t for loc, t in pairs if lo - span <= loc <= hi + span and t.get_visible() and t.get_text().strip()
    ]


def _texts(fig: Figure) -> list[Text]:
    """Every visible text with words in it, in the figure and all its axes and legends (drawn ticks only)."""
    ticks, drawn = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            ticks.update(map(id, axis.get_majorticklabels() + axis.get_minorticklabels()))
            drawn += _ticklabels(axis) if ax.get_visible() and ax.axison and axis.get_visible() else []
    found = [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip() and id(t) not in ticks]
    found = [
        t
        for t in found
        if t.axes is None or t.axes.axison or t not in (t.axes.xaxis.label, t.axes.yaxis.label)
    ]
    return [t for t in found if t.axes is None or t.axes.get_visible()] + drawn


def _name(text: Text) -> str:
    return repr(text.get_text().replace("\n", " ")[:40])


def _overlaps(a: Bbox, b: Bbox) -> bool:
    return (
        a.x0 + TOLERANCE < b.x1
        and b.x0 + TOLERANCE < a.x1
        and a.y0 + TOLERANCE < b.y1
        and b.y0 + TOLERANCE < a.y1
    )


def _inside(box: Bbox, outer: Bbox) -> bool:
    return (
        box.x0 >= outer.x0 - TOLERANCE
        and box.y0 >= outer.y0 - TOLERANCE
        and box.x1 <= outer.x1 + TOLERANCE
        and box.y1 <= outer.y1 + TOLERANCE
    )


def _tick_overlaps(ax: Axes) -> list[str]:
    out = []
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        boxes = [(t, t.get_window_extent()) for t in _ticklabels(axis)]
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1 :]:
                if _overlaps(box_a, box_b):
                    out.append(f"{name} tick labels overlap: {_name(a)} and {_name(b)}")
    return out


def _axes_text_overlaps(ax: Axes) -> list[str]:
    texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
    boxes = [(t, Text.get_window_extent(t)) for t in texts]  # an annotation's words, not its arrow
    out = []
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1 :]:
            if _overlaps(box_a, box_b):
                out.append(f"texts overlap: {_name(a)} and {_name(b)}")
    return out


def _data_points(ax: Axes) -> np.ndarray:
    """Display positions of the points of an axes' lines and markers (not its bands)."""
    points = [np.empty((0, 2))]
    for line in ax.lines:  # lines in data coordinates (not axvline, axhline)
        if isinstance(line, Line2D) and line.get_visible() and line.get_transform() == ax.transData:
            xy = np.asarray(line.get_xydata(), dtype=float)
            if len(xy):
                points.append(ax.transData.transform(xy))
    for collection in ax.collections:
        if isinstance(collection, PathCollection) and collection.get_visible():
            offsets = collection.get_offsets()
            if len(offsets):
                points.append(collection.get_offset_transform().transform(offsets))
    xy = np.concatenate(points)
    return xy[np.isfinite(xy).all(axis=1)]


def _legend_covers_data(legend: Legend, ax: Axes) -> list[str]:
    box = legend.get_window_extent()
    xy = _data_points(ax)
    inside = (xy[:, 0] > box.x0) & (xy[:, 0] < box.x1) & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1)
    if inside.any():
        return [f"a legend covers {int(inside.sum())} data points of {ax.get_title()[:40]!r}"]
    return []


def problems(fig: Figure, min_points: float = MIN_POINTS, dpi: float = 150) -> list[str]:
    """What makes a figure hard to read, in words; an empty list if nothing does.

    Args:
        fig: a matplotlib Figure (drawn here at ``dpi``, without output; its layout engine runs).
        min_points: the smallest font size allowed.
        dpi: the resolution the figure is drawn at (the commands save at 150; layouts differ a little
            between resolutions, so a figure is checked as it is saved).
    """
    old = fig.dpi
    fig.set_dpi(dpi)
    try:
        fig.draw_without_rendering()
        return _problems(fig, min_points)
    finally:
        fig.set_dpi(old)


def _problems(fig: Figure, min_points: float) -> list[str]:
    out = []
    for text in _texts(fig):
        if text.get_fontsize() < min_points - 1e-9:
            out.append(f"text under {min_points:g} pt ({text.get_fontsize():.1f} pt): {_name(text)}")
        if not _inside(Text.get_window_extent(text), fig.bbox):
            out.append(f"text cut off by the figure's edge: {_name(text)}")
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    for legend in legends:
        if legend.get_visible() and not _inside(legend.get_window_extent(), fig.bbox):
            out.append(
                f"legend cut off by the figure's edge: {[t.get_text() for t in legend.get_texts()][:3]}"
            )
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        out += _tick_overlaps(ax) if ax.axison else []
        out += _axes_text_overlaps(ax)
        legend = ax.get_legend()
        if legend is not None and legend.get_visible():
            out += _legend_covers_data(legend, ax)
    return list(dict.fromkeys(out))
