"""Dotted keys: nested TOML tables flattened to ``section.name`` keys, and "did you mean" suggestions.

One helper for each job, used by the registry, scenario files, sweep files and observed files alike.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from typing import Any


def suggest(key: str, allowed: Iterable[str]) -> str:
    """``' (did you mean a, b?)'`` for a mistyped key (up to three close matches), or ``''``."""
    close = difflib.get_close_matches(key, list(allowed), n=3)
    return f" (did you mean {', '.join(close)}?)" if close else ""


def flatten(
    table: dict, prefix: str = "", leaf: Callable[[dict], bool] = lambda value: False
) -> dict[str, Any]:
    """Nested tables as one level of dotted keys.

    Args:
        table: a parsed TOML document or table.
        prefix: put before every key (with its trailing dot).
        leaf: marks tables that are values themselves (a ``{min, max}`` range, a registry entry), kept whole.

    Returns:
        ``{"section.name": value}`` in the order of the document.
    """
    out: dict[str, Any] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict) and not leaf(value):
            out.update(flatten(value, key + ".", leaf))
        else:
            out[key] = value
    return out
