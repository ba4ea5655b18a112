"""The parameter registry: every model parameter with its default, unit, range, tag and source.

The registry is data (`sim/inputs/parameters.toml`); this module reads it and checks values against it.
Each parameter has allowed bounds (``min``/``max``, or ``choices``: what the model accepts) and, for
uncertainties and calibrated parameters, a ``plausible`` range (what designs, sweeps over uncertainties
and the EMA Workbench adapter sample by default) with its reason in ``plausible_source``. Constraints
between parameters (``[[constraints]]``) are checked on every resolved set of values.

Values may be numpy scalars (``np.int64``, ``np.float64``, ``np.bool_``, as EMA Workbench and SALib pass
them): they are checked and stored as the Python values they hold.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from sim.inputs.keys import flatten

TAGS = ("lever", "uncertainty", "constant", "calibrated")
SAMPLED_TAGS = ("uncertainty", "calibrated")
"""Tags whose numeric and choice parameters must have a plausible range."""
_SPEC_KEYS = {
    "value",
    "min",
    "max",
    "choices",
    "unit",
    "tag",
    "source",
    "description",
    "plausible",
    "plausible_source",
}


def plain(value: Any) -> Any:
    """A numpy scalar as the Python value it holds (``np.int64(3)`` is ``3``); anything else as is."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of the model.

    Attributes:
        key: dotted name, e.g. ``support.budget_gbp_m_per_year``.
        default: the default value; its Python type is the parameter's type.
        unit: the unit, in words.
        tag: one of ``lever``, ``uncertainty``, ``constant``, ``calibrated``.
        source: a citation from CALIBRATION.md, or ``assumption``/``calibrated`` with reasons.
        description: what the parameter does.
        min: lowest allowed value (numbers only).
        max: highest allowed value (numbers only).
        choices: allowed values (strings only).
        plausible: (low, high) sampled by default (numbers), or the plausible choices (strings);
            None for parameters that are not sampled (levers and constants may have none).
            ``plausible = "calibrated"`` in the file takes the accepted range of the last calibration.
        plausible_source: why that range (``assumption: ...`` unless cited).
    """

    key: str
    default: Any
    unit: str
    tag: str
    source: str
    description: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] | None = None
    plausible: tuple | None = None
    plausible_source: str | None = None

    @property
    def kind(self) -> type:
        """The Python type of the parameter's values."""
        return type(self.default)

    def check(self, value: Any) -> str | None:
        """Return a message if ``value`` is not allowed for this parameter, else None.

        A lever may also be a schedule over years (:mod:`sim.inputs.schedules`).
        """
        from sim.inputs.schedules import check_schedule, is_schedule

        if is_schedule(value):
            if self.tag != "lever":
                return f"only a lever can follow a schedule over years; this parameter's tag is {self.tag}"
            return check_schedule(value, self.check)
        value = plain(value)
        kind = self.kind
        if kind is bool:
            ok = isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            return f"expected {kind.__name__}, got {type(value).__name__} {value!r}"
        if self.choices is not None and value not in self.choices:
            return f"{value!r} is not one of {list(self.choices)}"
        if self.min is not None and value < self.min:
            return f"{value!r} is below the minimum {self.min} ({self.unit})"
        if self.max is not None and value > self.max:
            return f"{value!r} is above the maximum {self.max} ({self.unit})"
        return None


@lru_cache(maxsize=1)
def registry() -> dict[str, ParamSpec]:
    """All parameters by dotted key, read once from ``sim/inputs/parameters.toml``."""
    tables = {k: v for k, v in _document().items() if k != "constraints"}
    specs: dict[str, ParamSpec] = {}
    for key, item in flatten(tables, leaf=lambda v: "value" in v).items():
        if not isinstance(item, dict):
            raise ValueError(f"parameters.toml: {key}: a parameter needs a table with 'value'")
        extra = set(item) - _SPEC_KEYS
        missing = {"unit", "tag", "source", "description"} - set(item)
        if extra or missing:
            raise ValueError(f"parameters.toml: {key}: unknown {extra or ''} missing {missing or ''}")
        if item["tag"] not in TAGS:
            raise ValueError(f"parameters.toml: {key}: tag {item['tag']!r} not in {TAGS}")
        plausible = item.get("plausible")
        if plausible == "calibrated":
            item = {**item, "plausible_source": item.get("plausible_source", CALIBRATED_SOURCE)}
            plausible = _accepted_range(key, item)
        problem = _plausible_problem(item, plausible)
        if problem:
            raise ValueError(f"parameters.toml: {key}: {problem}")
        default = item["value"]
        if (
            isinstance(default, int)
            and not isinstance(default, bool)
            and (isinstance(item.get("min"), float) or isinstance(item.get("max"), float))
        ):
            default = float(default)
        specs[key] = ParamSpec(
            key=key,
            default=default,
            unit=item["unit"],
            tag=item["tag"],
            source=item["source"],
            description=item["description"],
            min=item.get("min"),
            max=item.get("max"),
            choices=tuple(item["choices"]) if "choices" in item else None,
            plausible=None if plausible is None else tuple(plausible),
            plausible_source=item.get("plausible_source"),
        )
    return specs


CALIBRATED_SOURCE = (
    "calibrated: the range of the calibration's accepted trials (loss <= 1; accepted_min and accepted_max "
    "in sim/data/calibrated.toml), widened to hold the fitted value"
)
"""The reason of a ``plausible = "calibrated"`` range."""


def _accepted_range(key: str, item: dict[str, Any]) -> list[float] | None:
    """``plausible = "calibrated"``: the accepted range that sim/data/calibrated.toml records for ``key``.

    It follows every recalibration; None (a test then says so) if the file does not record the key.
    """
    entry = _calibration().get(key, {})
    if "accepted_min" not in entry or "accepted_max" not in entry:
        return None
    lo, hi = min(entry["accepted_min"], item["value"]), max(entry["accepted_max"], item["value"])
    return [max(float(lo), item.get("min", lo)), min(float(hi), item.get("max", hi))]


@lru_cache(maxsize=1)
def _calibration() -> dict[str, Any]:
    path = resources.files("sim") / "data" / "calibrated.toml"
    return tomllib.loads(path.read_text()).get("parameters", {}) if path.is_file() else {}


def _plausible_problem(item: dict[str, Any], plausible: Any) -> str | None:
    """What is wrong with an entry's plausible range, if anything."""
    value = item["value"]
    if plausible is None:  # every uncertainty should have one: tests/test_plausible.py says which lack it
        return None
    if not item.get("plausible_source"):
        return "plausible needs plausible_source, its reason"
    if "choices" in item:
        if not plausible or not set(plausible) <= set(item["choices"]):
            return f"plausible {plausible!r} must be some of the choices {item['choices']!r}"
        return None
    if isinstance(value, str | bool) or not isinstance(plausible, list) or len(plausible) != 2:
        return "plausible must be [low, high], for numbers (or a list of choices)"
    lo, hi = plausible
    if (
        isinstance(value, int)
        and not isinstance(item.get("min"), float)
        and not all(isinstance(v, int) for v in plausible)
    ):
        return f"plausible {plausible!r} must be integers, as the value"
    if not lo < hi or lo < item.get("min", lo) or hi > item.get("max", hi):
        return f"plausible {plausible!r} must be low < high within [{item.get('min')}, {item.get('max')}]"
    return None


@lru_cache(maxsize=1)
def constraints() -> tuple[Any, ...]:
    """The registry's constraints between parameters (``[[constraints]]`` in parameters.toml)."""
    from sim.inputs.constraints import parse_rule

    reg = registry()
    return tuple(parse_rule(c.get("rule", ""), c.get("reason", ""), reg) for c in _document()["constraints"])


def check_constraints(values: dict[str, Any]) -> list[str]:
    """Messages for the constraints that resolved ``values`` (every parameter by key) break."""
    return [c.message(values) for c in constraints() if not c.holds(values)]


@lru_cache(maxsize=1)
def _document() -> dict[str, Any]:
    text = (resources.files("sim.inputs") / "parameters.toml").read_text()
    doc = tomllib.loads(text)
    doc.setdefault("constraints", [])
    return doc


def defaults() -> dict[str, Any]:
    """Default value of every parameter, by dotted key."""
    return {key: spec.default for key, spec in registry().items()}


def coerce(key: str, value: Any) -> Any:
    """Return ``value`` in the parameter's type (an int given for a float parameter becomes float).

    Numpy scalars become the Python values they hold.
    """
    if isinstance(value, list | tuple):  # a lever's schedule: [[year, value], ...]
        return [[int(year), coerce(key, one)] for year, one in value]
    value = plain(value)
    if registry()[key].kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def table() -> list[dict[str, Any]]:
    """The registry as rows (for documentation, notebooks and the manifest)."""
    return [
        {
            "key": s.key,
            "default": s.default,
            "unit": s.unit,
            "min": s.min,
            "max": s.max,
            "choices": None if s.choices is None else ", ".join(s.choices),
            "tag": s.tag,
            "plausible": None if s.plausible is None else list(s.plausible),
            "plausible_source": s.plausible_source,
            "source": s.source,
            "description": s.description,
        }
        for s in registry().values()
    ]
