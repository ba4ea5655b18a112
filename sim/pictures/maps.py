"""Maps of England's 2014 councils: how often each council's service is in a mode, or one replication.

:func:`plot_share_map` colours each council by the share of replications in which its service is in the
chosen modes (the honest summary of many runs), on a sequential scale capped at a round value near the
top of the shares; :func:`plot_mode_map` draws the modes of one replication, named in the title.
Upper-tier services (adult social care, libraries) are drawn on the upper-tier councils (a county as its
districts), leisure on the districts. Both draw on the councils' real boundaries (``layout="boundaries"``,
:mod:`sim.pictures.boundaries`) or on equal-sized hexes (``layout="hex"``, :mod:`sim.pictures.hexes`),
with region outlines and the named councils in callouts (:mod:`sim.pictures.choropleth`). Colours and
names come from :mod:`sim.pictures.style`.

Longer than 300 lines because the two kinds of map share their checks of the council table, their
titles and the reading of a run's folder; split, one picture would be spread over two files.
"""

from __future__ import annotations

import json
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LinearSegmentedColormap, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.pictures import choropleth, style
from sim.pictures.hexes import (  # noqa: F401  (re-exported)
    HEXJSON_FILES,
    SERVICE_TIER,
    hex_polygons,
    load_hexmap,
    map_coverage,
    region_edges,
)
from sim.pictures.style import MODE_COLOURS, MODE_LABELS, NO_DATA  # noqa: F401  (re-exported)

_REQUIRED_COLUMNS = ("ons_code", "service", "year", "replication", "mode")
MUTUAL_MODES = ("mutual", "joint_mutual")


def named_councils() -> dict[str, str]:
    """Councils labelled on every map: the 2014 named cases of ``CALIBRATION.md`` (code: short name)."""
    from sim.model.setup import NAMED_CASES, PIPELINE_CASES

    names = load_hexmap("upper").set_index("ons_code")["name"]
    codes = [c[0] for c in NAMED_CASES] + [c[0] for c in PIPELINE_CASES]
    return {c: str(names.get(c, c)).replace(" and ", " & ") for c in dict.fromkeys(codes)}


def _check(councils: pd.DataFrame, service: str) -> pd.DataFrame:
    missing = [c for c in _REQUIRED_COLUMNS if c not in councils.columns]
    if missing:
        raise ValueError(f"councils table lacks columns {missing}; needs {list(_REQUIRED_COLUMNS)}")
    if service not in SERVICE_TIER:
        raise ValueError(f"unknown service {service!r}; valid services: {sorted(SERVICE_TIER)}")
    services = sorted(councils["service"].dropna().unique())
    if service not in services:
        raise ValueError(f"service {service!r} not in the data; services present: {services}")
    return councils[councils["service"] == service]


def _year(sub: pd.DataFrame, service: str, year: int) -> pd.DataFrame:
    years = sorted(int(v) for v in sub["year"].unique())
    if year not in years:
        raise ValueError(f"year {year!r} not in the data for {service}; years present: {years}")
    return sub[sub["year"] == year]


def _select(councils: pd.DataFrame, service: str, year: int, replication: int) -> pd.DataFrame:
    """Filter the council table to one service, year and replication, validating each."""
    sub = _check(councils, service)
    replications = sorted(int(v) for v in sub["replication"].unique())
    if replication not in replications:
        raise ValueError(
            f"replication {replication!r} not in the data for {service}; present: {replications}"
        )
    sub = _year(sub[sub["replication"] == replication], service, year)
    if "part" in sub.columns or "n_parts" in sub.columns:  # parts, or councils by mode: one row a council
        sub = dominant_mode(sub)
    dupes = sorted(sub.loc[sub["ons_code"].duplicated(), "ons_code"].unique())
    if dupes:
        raise ValueError(f"several rows per council for {service} {year}: {dupes[:10]}")
    return sub


def dominant_mode(parts: pd.DataFrame) -> pd.DataFrame:
    """One row per council: the mode that holds most of its service's spend (or units) across its parts.

    A council's service is made of parts (day services, branch libraries, ...), each in its own mode;
    a map of one replication colours the council by the mode of the largest share. Works on the
    per-part table (``parts.parquet``) and on the per-mode one (``councils.parquet``) alike. Ties go to
    the first mode in the table.
    """
    weight = (
        "spend_gbp_m" if "spend_gbp_m" in parts.columns else "units" if "units" in parts.columns else None
    )
    parts = parts.assign(_w=parts[weight] if weight else 1.0)
    by_mode = parts.groupby(["ons_code", "mode"], sort=False, dropna=False)["_w"].sum().reset_index()
    best = by_mode.loc[by_mode.groupby("ons_code", sort=False)["_w"].idxmax()]
    first = parts.drop_duplicates("ons_code").drop(columns=["mode", "_w"])
    return first.merge(best[["ons_code", "mode"]], on="ons_code", how="left")


def _warn_off_map(codes, tier: str, layout: str, service: str) -> None:
    off_map = sorted(set(codes) - choropleth.coverage(tier, layout))
    if off_map:
        warnings.warn(
            f"{len(off_map)} {service} councils are not on the {tier} map and are not drawn: {off_map[:5]}",
            stacklevel=3,
        )


def _frame(ax: Axes | None, layout: str) -> Axes:
    choropleth.check_layout(layout)
    if ax is None:
        ax = style.ChartFigure(figsize=(7, 8), layout="constrained").add_subplot()
    return ax


def _title(service: str, year: int, what: str, scenario: str) -> str:
    named = f"{scenario}: " if scenario else ""
    return f"{named}{style.service_label(service).capitalize()}, {style.year_label(year)}\n{what}"


def mode_share(councils: pd.DataFrame, service: str, year: int, modes=MUTUAL_MODES) -> pd.Series:
    """Share (0-1) of replications in which each council's ``service`` is in one of ``modes`` in ``year``.

    A service made of parts counts as in ``modes`` in a replication if any of its parts is.

    Returns:
        A Series by ONS code, named ``share_of_replications``, with ``attrs["n_replications"]``.
    """
    sub = _year(_check(councils, service), service, year)
    unknown = sorted({str(m) for m in sub["mode"].dropna()} - set(MODE_COLOURS))
    if unknown:
        raise ValueError(f"unknown modes {unknown}; known modes: {list(MODE_COLOURS)}")
    per_run = sub["mode"].isin(modes).groupby([sub["ons_code"].astype(str), sub["replication"]]).any()
    share = per_run.groupby(level=0).mean()
    share = share.rename("share_of_replications")
    share.attrs["n_replications"] = int(sub["replication"].nunique())
    return share


def share_colours(colour: str) -> LinearSegmentedColormap:
    """A sequential scale for shares: near-white, through ``colour``, to a dark shade of it."""
    rgb = np.array(to_rgb(colour))
    return LinearSegmentedColormap.from_list(
        "share", ["#F7F7F7", tuple(1 - 0.45 * (1 - rgb)), tuple(rgb), tuple(rgb * 0.5)]
    )


def plot_share_map(
    councils: pd.DataFrame,
    service: str,
    year: int,
    modes: tuple[str, ...] = MUTUAL_MODES,
    ax: Axes | None = None,
    scenario: str = "",
    title: str | None = None,
    labels: dict[str, str] | None = None,
    layout: str = "boundaries",
    vmax: float | None = None,
) -> Axes:
    """Map of the share of replications in which each council's service is in ``modes``.

    Args:
        councils: tidy council table (``ons_code, service, year, replication, mode``), all replications.
        service: one of ``SERVICE_TIER``; picks the tier (upper-tier councils or districts).
        year: financial year start.
        modes: the modes counted (default a mutual or a joint mutual); coloured in the first one's colour.
        ax: axes to draw on; a new ``Figure`` is made if omitted.
        scenario: the scenario's name, for the title.
        title: replaces the default title.
        labels: ONS code -> label of councils to name (default :func:`named_councils`; ``{}`` for none).
        layout: ``"boundaries"`` (real boundaries, counties as their districts) or ``"hex"``.
        vmax: top of the colour scale (a share, 0-1); default :func:`choropleth.share_scale` of the shares
            (a round value at their 98th percentile), said in the colour bar's label.

    Returns:
        The Axes: one ``PolyCollection`` of councils (near-white = never, darkest = ``vmax`` or more,
        grey = the council does not run the service), council and region outlines and a colour bar.
    """
    share = mode_share(councils, service, year, modes)
    n_rep = share.attrs["n_replications"]
    tier = SERVICE_TIER[service]
    ax = _frame(ax, layout)
    _warn_off_map(share.index, tier, layout, service)
    cmap = share_colours(MODE_COLOURS[modes[0]])
    vmax = choropleth.share_scale(share) if vmax is None else vmax
    norm = Normalize(0, vmax * 100)
    colours = {code: cmap(norm(v * 100)) for code, v in share.items()}
    choropleth.draw(ax, tier, colours, layout, f"sharemap-{service}", _labels(labels))
    capped = bool((share > vmax + 1e-9).any())
    bar = ax.figure.colorbar(
        ScalarMappable(norm=norm, cmap=cmap),
        ax=ax,
        orientation="horizontal",
        fraction=0.04,
        pad=0.02,
        format=style.PERCENT,
        extend="max" if capped else "neither",
    )
    bar.ax.tick_params(labelsize=8)
    names = (
        "mutual (incl. joint)"
        if set(modes) == set(MUTUAL_MODES)
        else " or ".join(map(style.mode_label, modes))
    )
    scale = f"scale 0-{vmax:.0%}" + (f"; darkest: {vmax:.0%} or more" if capped else "")
    bar.set_label(
        textwrap.fill(
            f"% of {n_rep} replications in which a {names} runs the service or a part of it ({scale})", 60
        ),
        fontsize=8,
    )
    missing = sorted(choropleth.coverage(tier, layout) - set(share.index))
    if missing:
        grey = Patch(facecolor=MODE_COLOURS[NO_DATA], label=f"{MODE_LABELS[NO_DATA]} ({len(missing)})")
        ax.legend(handles=[grey], loc="upper left", bbox_to_anchor=(0.0, 0.0), frameon=False, fontsize=8)
    mean = share.mean() * 100 if len(share) else 0.0
    what = f"a {names} runs all or part of it: {mean:.0f}% of councils (mean of {n_rep} replications)"
    what = textwrap.fill(what, 50)
    ax.set_title(title or _title(service, year, what, scenario), fontsize=10)
    return ax


def _labels(labels: dict[str, str] | None) -> dict[str, str]:
    return named_councils() if labels is None else labels


def plot_mode_map(
    councils: pd.DataFrame,
    service: str,
    year: int,
    replication: int = 0,
    ax: Axes | None = None,
    title: str | None = None,
    scenario: str = "",
    labels: dict[str, str] | None = None,
    layout: str = "boundaries",
) -> Axes:
    """Map of councils coloured by the delivery mode of one service in one year of ONE replication.

    Args:
        councils: tidy council table with at least ``ons_code, service, year, replication, mode``.
        service: one of ``SERVICE_TIER``; picks the tier (upper-tier councils or districts).
        year: financial year start (2014 means 2014-15).
        replication: which model replication to draw (named in the title).
        ax: axes to draw on; a new headless ``Figure`` is made if omitted.
        title: replaces the default title (scenario, service, year and the replication drawn).
        scenario: the scenario's name, for the title.
        labels: ONS code -> label of councils to name (default :func:`named_councils`; ``{}`` for none).
        layout: ``"boundaries"`` (real boundaries, counties as their districts) or ``"hex"``.

    Returns:
        The Axes, holding one ``PolyCollection`` of the tier's councils (grey: no row or no mode), council
        and region outlines, and a legend of the modes present with their counts of councils.

    Raises:
        ValueError: If a column is missing, service/year/replication is not in the data, a
            council has several rows, a mode is not in ``MODE_COLOURS`` or the layout is unknown.
    """
    sub = _select(councils, service, year, replication)
    tier = SERVICE_TIER[service]
    modes_by_code = dict(zip(sub["ons_code"].astype(str), sub["mode"], strict=True))
    unknown = sorted({str(m) for m in modes_by_code.values() if pd.notna(m)} - set(MODE_COLOURS))
    if unknown:
        raise ValueError(f"unknown modes {unknown}; known modes: {list(MODE_COLOURS)}")
    ax = _frame(ax, layout)
    _warn_off_map(modes_by_code, tier, layout, service)
    drawn = sorted(choropleth.coverage(tier, layout))
    modes = [modes_by_code.get(code, NO_DATA) for code in drawn]
    modes = [NO_DATA if pd.isna(m) else m for m in modes]
    colours = {code: MODE_COLOURS[m] for code, m in zip(drawn, modes, strict=True)}
    choropleth.draw(ax, tier, colours, layout, f"modemap-{service}", _labels(labels))
    counts = pd.Series(modes).value_counts()
    order = [*reversed(style.STACK_ORDER), NO_DATA]
    handles = [
        Patch(facecolor=MODE_COLOURS[m], edgecolor="none", label=f"{MODE_LABELS[m]} ({counts[m]})")
        for m in order
        if counts.get(m, 0)
    ]
    # below the map, as the share map's colour bar, so no entry hides a council
    ax.legend(
        handles=handles,
        loc="upper center",
        bbox_to_anchor=(0.5, 0.0),
        ncol=2,
        frameon=False,
        fontsize=8,
        title="councils by the mode of most of the service's spend",
        title_fontsize=8,
    )
    n_rep = councils["replication"].nunique()
    what = f"mode of most of its spend in replication {replication} (one of {n_rep}, not a summary)"
    what = textwrap.fill(what, 70)
    ax.set_title(title or _title(service, year, what, scenario), fontsize=10)
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
    raise FileNotFoundError(
        f"no councils.parquet or councils.csv in {results_dir} (a run with --national-only writes neither)"
    )


def _scenario_name(results_dir: Path) -> str:
    try:
        return json.loads((results_dir / "manifest.json").read_text())["scenario"]["name"]
    except (OSError, ValueError, KeyError, TypeError):
        return ""


def plot_mode_map_file(
    results_dir: str | Path,
    service: str,
    year: int,
    out: str | Path,
    replication: int = 0,
    layout: str = "boundaries",
) -> Path:
    """Draw a finished run's maps of one service and year and save them as one PNG (headless).

    Left: the share of replications in which each council's service is run by a mutual (or joint mutual).
    Right: the delivery modes of replication ``replication``, named as such.

    Args:
        results_dir: a run's output folder holding ``councils.parquet`` or ``councils.csv`` (and, for the
            scenario's name in the titles, ``manifest.json``).
        service: one of ``SERVICE_TIER``.
        year: financial year start.
        out: path of the PNG to write; parent folders are created.
        replication: which model replication the right-hand map draws.
        layout: ``"boundaries"`` (real boundaries) or ``"hex"`` (equal-sized hexes).

    Returns:
        The path written.

    Raises:
        FileNotFoundError: If ``results_dir`` has no council table.
        ValueError: As :func:`plot_mode_map`.
    """
    results_dir = Path(results_dir)
    councils = read_councils(results_dir)
    scenario = _scenario_name(results_dir)
    fig = style.ChartFigure(figsize=(13, 8.5), layout="constrained")
    left, right = fig.subplots(1, 2)
    plot_share_map(councils, service, year, ax=left, scenario=scenario, layout=layout)
    plot_mode_map(
        councils, service, year, replication=replication, ax=right, scenario=scenario, layout=layout
    )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, format="png")
    return out


def share_maps_figure(
    councils: pd.DataFrame,
    panels: list[tuple[str, int]],
    modes: tuple[str, ...] = MUTUAL_MODES,
    scenario: str = "",
    layout: str = "boundaries",
) -> Figure:
    """A row of :func:`plot_share_map` panels, one per ``(service, year)``, on one colour scale."""
    shares = pd.concat([mode_share(councils, service, year, modes) for service, year in panels])
    vmax = choropleth.share_scale(shares)
    height = 5.2 * (0.85 if layout == "boundaries" else 0.6) + 2.2  # England's shape, titles, colour bar
    fig = style.ChartFigure(figsize=(5.2 * len(panels), height), layout="constrained")
    for ax, (service, year) in zip(np.atleast_1d(fig.subplots(1, len(panels))), panels, strict=True):
        plot_share_map(councils, service, year, modes, ax=ax, scenario=scenario, layout=layout, vmax=vmax)
    return fig
