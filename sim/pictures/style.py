"""One style for every chart and map: a colour and a readable name per delivery mode, readable labels.

Colours are mostly the Okabe-Ito palette (safe for the common forms of colour blindness), eleven modes
in eleven hues or lightnesses that a reader tells apart (``tests/test_readability.py`` measures their
distance): blues for the modes a council runs itself, the warm vermillion/orange pair for the two mutual
modes so they stand out. The same colours are used by :mod:`sim.pictures.charts`, :mod:`sim.pictures.maps`,
:mod:`sim.pictures.sweep_charts` and the explorer. Labels for parameters come from the registry
(``sim/inputs/parameters.toml``) through a short-name table; national columns have a label table here.
Nothing here draws or imports pyplot.
"""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

NO_DATA = "no_data"


class ChartFigure(Figure):
    """A matplotlib Figure that shows itself as a PNG in Jupyter, whatever backend is (or is not) active.

    Charts are built without pyplot, so no backend is chosen at import; Jupyter's inline backend only
    renders figures it knows of, so this class gives Jupyter the picture itself (``_repr_png_``).
    """

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


MODE_COLOURS: dict[str, str] = {
    "in_house": "#56B4E9",  # sky blue
    "rebooted": "#0072B2",  # dark blue
    "reduced": "#000000",  # black: provision cut or closed
    "community": "#F0E442",  # yellow
    "outsourced": "#7F7F7F",  # dark grey
    "shared": "#A6761D",  # ochre: run by another council
    "latc": "#009E73",  # bluish green
    "trust": "#882255",  # wine: a trust formed after the start
    "legacy_trust": "#CC79A7",  # pink: a trust formed before the start
    "mutual": "#D55E00",  # vermillion
    "joint_mutual": "#E69F00",  # orange
    NO_DATA: "#C8C8C8",  # light grey: no service / no data
}
"""A colour per delivery mode (keys of :data:`sim.model.rules.MODES`), shared by every chart and map."""

MODE_LABELS: dict[str, str] = {
    "in_house": "in-house",
    "rebooted": "re-booted in-house",
    "reduced": "cut or closed",
    "community": "community group",
    "outsourced": "outsourced",
    "shared": "shared with another council",
    "latc": "council company (LATC)",
    "trust": "new trust",
    "legacy_trust": "trust formed before the start",
    "mutual": "mutual",
    "joint_mutual": "joint council-staff mutual",
    NO_DATA: "service not run here",
}
"""Readable name of each delivery mode."""

STACK_ORDER = (
    "in_house",
    "rebooted",
    "reduced",
    "shared",
    "outsourced",
    "community",
    "legacy_trust",
    "trust",
    "latc",
    "joint_mutual",
    "mutual",
)
"""Order of modes in a stack, bottom to top: council-run first, the mutuals on top where they are read."""

SERVICE_LABELS: dict[str, str] = {
    "adult_social_care": "adult social care",
    "libraries": "libraries",
    "leisure": "leisure",
}

SECTOR_COLOURS: dict[str, str] = {
    "all sectors": "#000000",
    "local government": "#D55E00",
    "NHS and central government": "#0072B2",
}
"""Colours of the mutual workforce by sector (local government shares the mutual vermillion)."""

TARGET_COLOUR = "#CC79A7"
"""The one-million ambition line."""

BAND = "#0072B2"
"""Fan charts' band colour."""

REFERENCE = "#555555"
"""A reference (baseline arm) line."""

MEASURE_LABELS: dict[str, str] = {
    "n_mutuals": "mutuals, all sectors",
    "mutual_staff": "mutual staff, all sectors",
    "mutual_spend_gbp_m": "mutual spending, all sectors (£m)",
    "n_mutuals_lg": "mutuals from local government",
    "mutual_staff_lg": "mutual staff, local government",
    "mutual_spend_lg_gbp_m": "mutual spending, local government (£m)",
    "n_mutuals_outside": "mutuals, NHS and central government",
    "mutual_staff_outside": "mutual staff, NHS and central government",
    "mutual_spend_outside_gbp_m": "mutual spending, NHS and central government (£m)",
    "share_of_target": "share of the one-million ambition",
    "n_latcs": "council companies (LATCs)",
    "cum_savings_gbp_m": "cumulative savings (£m)",
    "new_divestments": "divestments decided in the year",
    "new_mutual_decisions": "decisions for a mutual in the year",
}
"""Readable names of the columns of ``national.csv`` that charts show."""

PARAM_LABELS: dict[str, str] = {
    "support.budget_gbp_m_per_year": "support funding",
    "support.end_year": "support funded until",
    "policy.simplification": "simplification",
    "policy.simplification_from_year": "simplification from",
    "policy.duty_to_consider": "duty to consider staff proposals",
    "policy.duty_from_year": "duty from",
    "policy.publicity": "publicity and peer networks",
    "policy.commercialisation": "commercialisation push",
}
"""Short names of the parameters readers meet most (the levers); others get :func:`param_label`'s fallback."""

_UNIT_SUFFIX = {
    "GBP million per year": lambda v: f"£{v:,g}m a year",
    "financial year (start)": lambda v: f"{int(v)}-{(int(v) + 1) % 100:02d}",
    "boolean": lambda v: "on" if v else "off",
}


def mode_label(mode: str) -> str:
    """Readable name of a delivery mode."""
    return MODE_LABELS.get(mode, mode.replace("_", " "))


def service_label(service: str) -> str:
    """Readable name of a service."""
    return SERVICE_LABELS.get(service, service.replace("_", " "))


def measure_label(column: str) -> str:
    """Readable name of a national column (falls back to the name with spaces)."""
    return MEASURE_LABELS.get(column, column.replace("_gbp_m", " (£m)").replace("_", " "))


def param_label(key: str) -> str:
    """Short readable name of a parameter: the label table, else the registry key's last part in words."""
    if key in PARAM_LABELS:
        return PARAM_LABELS[key]
    group, _, name = key.rpartition(".")
    words = name.replace("_gbp_m", "").replace("_per_year", "").replace("_", " ")
    return f"{group.split('.')[-1]}: {words}" if group else words


def param_value(key: str, value: Any) -> str:
    """A parameter's value in words, with its unit from the registry where one reads better."""
    from sim.inputs.params import registry

    spec = registry().get(key)
    if isinstance(value, str) and value.startswith("[["):  # a schedule, as stored in design.parquet
        import json

        value = json.loads(value)
    if isinstance(value, list | tuple):  # a lever's schedule: each value from its year
        return ", ".join(f"{param_value(key, v)} from {year}" for year, v in value)
    if spec is not None and not isinstance(value, str):
        if spec.unit in _UNIT_SUFFIX:
            return _UNIT_SUFFIX[spec.unit](value)
        if spec.unit.startswith("multiplier"):
            return f"x{value:g}"
        if spec.unit.startswith("fraction of") and not isinstance(value, bool):
            return f"{value:.0%} of {spec.unit.removeprefix('fraction of ').split(' removed')[0]} removed"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def describe_changes(changes: dict[str, Any]) -> str:
    """Lever changes in words, e.g. ``support funding £10m a year``; ``as the base scenario`` if none."""
    if not changes:
        return "as the base scenario"
    return "; ".join(f"{param_label(k)} {param_value(k, v)}" for k, v in changes.items())


def parse_changes(text: str) -> dict[str, str]:
    """The ``key=value, key=value`` text of the comparison tables back into a dict (values as text)."""
    out: dict[str, Any] = {}
    for part in str(text).split(", "):
        key, sep, value = part.partition("=")
        if sep:
            out[key.strip()] = _literal(value.strip())
    return out


def _literal(text: str) -> Any:
    if text.startswith("[["):  # a lever's schedule (sim.experiments.design.show)
        import json

        return json.loads(text)
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def year_label(year: int) -> str:
    """A financial year from its start: 2020 is ``2020-21``."""
    return f"{year}-{(year + 1) % 100:02d}"


THOUSANDS = FuncFormatter(lambda x, _pos: f"{x:,.0f}")
"""Tick labels with thousands separators."""

PERCENT = FuncFormatter(lambda x, _pos: f"{x:.0f}%")
"""Tick labels of values already in per cent."""


def year_axis(ax) -> None:
    """Whole years on the x axis, at most about six labels.

    A short run otherwise gets ticks at 2014.25, and a run from 2010 labels that run into each other.
    """
    ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True))
