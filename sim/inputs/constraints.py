"""Constraints between parameters: rules every resolved set of values must obey.

They are declared as ``[[constraints]]`` at the end of ``sim/inputs/parameters.toml`` and read and checked by
:func:`sim.inputs.params.constraints` and :func:`sim.inputs.params.check_constraints`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_OPS = {
    "<=": lambda a, b: a <= b,
    "<": lambda a, b: a < b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


@dataclass(frozen=True)
class Constraint:
    """A rule between parameters that every resolved scenario must obey.

    Attributes:
        rule: ``"KEY [+ KEY ...] OP KEY-or-number"``, OP one of ``<=``, ``<``, ``>=``, ``>``.
        reason: why; shown when the rule is broken.
        left: the keys summed on the left.
        op: the comparison.
        right: a key, or a number.
    """

    rule: str
    reason: str
    left: tuple[str, ...]
    op: str
    right: str | float

    @property
    def keys(self) -> tuple[str, ...]:
        """Every parameter the rule reads."""
        return (*self.left, *([self.right] if isinstance(self.right, str) else []))

    def holds(self, values: dict[str, Any]) -> bool:
        """Whether the rule holds for resolved ``values`` (every parameter by dotted key)."""
        left = sum(values[k] for k in self.left)
        right = values[self.right] if isinstance(self.right, str) else self.right
        return _OPS[self.op](left, right)

    def message(self, values: dict[str, Any]) -> str:
        """The rule, the values it was given, and its reason."""
        shown = ", ".join(f"{k} = {values[k]!r}" for k in self.keys)
        return f"{self.rule} does not hold ({shown}): {self.reason}"


def parse_rule(rule: str, reason: str, known: Iterable[str]) -> Constraint:
    """A constraint from its rule and reason; ``known`` are the registry's keys."""
    parts = rule.split()
    ops = [i for i, t in enumerate(parts) if t in _OPS]
    if len(ops) != 1 or ops[0] == 0 or ops[0] != len(parts) - 2:
        raise ValueError(f"parameters.toml: constraint {rule!r}: expected 'KEY [+ KEY ...] OP KEY-or-number'")
    left, op, right = parts[: ops[0]], parts[ops[0]], parts[-1]
    if left[1::2] != ["+"] * (len(left) // 2) or len(left) % 2 == 0:
        raise ValueError(f"parameters.toml: constraint {rule!r}: the left side must be KEY + KEY + ...")
    try:
        bound: str | float = float(right)
    except ValueError:
        bound = right
    constraint = Constraint(rule, reason, tuple(left[::2]), op, bound)
    known = set(known)
    unknown = [k for k in constraint.keys if k not in known]
    if unknown or not reason:
        raise ValueError(f"parameters.toml: constraint {rule!r}: unknown keys {unknown} or no reason")
    return constraint
