"""The parameter registry: every model parameter with its default, unit, range, tag and source.

The registry is data (`sim/inputs/parameters.toml`); this module reads it and checks values against it.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from sim.inputs.keys import flatten

TAGS = ("lever", "uncertainty", "constant", "calibrated")
_SPEC_KEYS = {"value", "min", "max", "choices", "unit", "tag", "source", "description"}


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

    @property
    def kind(self) -> type:
        """The Python type of the parameter's values."""
        return type(self.default)

    def check(self, value: Any) -> str | None:
        """Return a message if ``value`` is not allowed for this parameter, else None."""
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
    text = (resources.files("sim.inputs") / "parameters.toml").read_text()
    specs: dict[str, ParamSpec] = {}
    for key, item in flatten(tomllib.loads(text), leaf=lambda v: "value" in v).items():
        if not isinstance(item, dict):
            raise ValueError(f"parameters.toml: {key}: a parameter needs a table with 'value'")
        extra = set(item) - _SPEC_KEYS
        missing = {"unit", "tag", "source", "description"} - set(item)
        if extra or missing:
            raise ValueError(f"parameters.toml: {key}: unknown {extra or ''} missing {missing or ''}")
        if item["tag"] not in TAGS:
            raise ValueError(f"parameters.toml: {key}: tag {item['tag']!r} not in {TAGS}")
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
        )
    return specs


def defaults() -> dict[str, Any]:
    """Default value of every parameter, by dotted key."""
    return {key: spec.default for key, spec in registry().items()}


def coerce(key: str, value: Any) -> Any:
    """Return ``value`` in the parameter's type (an int given for a float parameter becomes float)."""
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
            "source": s.source,
            "description": s.description,
        }
        for s in registry().values()
    ]
