"""Designs over parameters for sweeps: full factorial, Latin hypercube and Sobol/Saltelli.

A factor is a parameter varied by the design, given as levels (an array), as a range
``{ min = ..., max = ... }``, or as ``"plausible"``: the registry's plausible range (levels for integers,
choices and booleans). ``[design] uncertainties = "plausible"`` adds every uncertain and calibrated
parameter at its plausible range. Latin hypercube samples come from :mod:`scipy.stats.qmc`, Saltelli samples
from :mod:`SALib.sample.sobol`; both are seeded by ``design.seed``, so a design is the same on every run.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.inputs import params
from sim.inputs.invoked import program
from sim.inputs.keys import flatten, suggest
from sim.inputs.scenario import non_finite

DESIGNS = ("factorial", "lhs", "sobol", "morris")
MORRIS_LEVELS = 4
"""Grid levels of a Morris design unless ``design.levels`` says otherwise (SALib's default)."""


def show(v: Any) -> str:
    """A value as written in TOML (booleans lower case; a schedule as compact JSON, without spaces)."""
    if isinstance(v, list | tuple):
        return json.dumps(v, separators=(",", ":"))
    return str(v).lower() if isinstance(v, bool) else str(v)


def check_int(table: dict, key: str, lo: int, hi: int, path: Path, where: str, problems: list[str]) -> None:
    """Append a problem if ``table[key]`` is given and is not an int in [lo, hi]."""
    value = table.get(key)
    if key in table and (isinstance(value, bool) or not isinstance(value, int)):
        problems.append(f"{path}: {where}.{key}: expected int, got {type(value).__name__} {value!r}")
    elif key in table and not lo <= value <= hi:
        problems.append(f"{path}: {where}.{key}: {value!r} is outside [{lo}, {hi}]")


@dataclass(frozen=True)
class Factor:
    """One parameter varied by the design: either levels or a continuous range [low, high].

    Integer parameters given a range are sampled as the levels low, low + 1, ..., high.
    """

    key: str
    levels: tuple | None = None
    low: float | None = None
    high: float | None = None

    @property
    def bounds(self) -> list[float]:
        """Bounds of the factor in the SALib problem (levels map to [0, number of levels))."""
        return [0.0, float(len(self.levels))] if self.levels is not None else [self.low, self.high]

    def from_unit(self, u: float) -> Any:
        """The value at ``u`` in [0, 1) (a Latin hypercube coordinate)."""
        lo, hi = self.bounds
        return self.from_bounds(lo + u * (hi - lo))

    def from_bounds(self, x: float) -> Any:
        """The value at ``x`` within :attr:`bounds` (a SALib sample)."""
        if self.levels is None:
            return params.coerce(self.key, float(x))
        return self.levels[min(max(int(x), 0), len(self.levels) - 1)]

    def describe(self) -> dict[str, Any]:
        """JSON-ready description."""
        if self.levels is not None:
            return {"key": self.key, "levels": list(self.levels)}
        return {"key": self.key, "min": self.low, "max": self.high}


@dataclass(frozen=True)
class Design:
    """A design over factors; ``points`` holds the value of each factor at each point, in order."""

    kind: str
    factors: tuple[Factor, ...]
    points: tuple[dict[str, Any], ...]
    samples: int | None = None
    seed: int | None = None
    second_order: bool = True
    levels: int | None = None

    def problem(self) -> dict[str, Any]:
        """The SALib problem the design was sampled from."""
        return {
            "num_vars": len(self.factors),
            "names": [f.key for f in self.factors],
            "bounds": [f.bounds for f in self.factors],
        }

    def point_label(self, i: int) -> str:
        """A factorial point is named by its levels; other points by their index."""
        if self.kind == "factorial":
            return ", ".join(f"{k}={show(v)}" for k, v in self.points[i].items())
        return f"p{i:05d}"


def plausible_factor(key: str) -> Factor | None:
    """A factor over the registry's plausible range of ``key`` (None if it has none)."""
    spec = params.registry()[key]
    if spec.plausible is None:
        return None
    if spec.choices is not None or spec.kind is bool:
        return Factor(key, levels=tuple(spec.plausible))
    lo, hi = spec.plausible
    if spec.kind is int:
        return Factor(key, levels=tuple(range(lo, hi + 1)))
    return Factor(key, low=float(lo), high=float(hi))


def plausible_factors(exclude: set[str] = frozenset()) -> list[Factor]:
    """Every uncertain and calibrated parameter with a plausible range, but those in ``exclude``."""
    reg = params.registry()
    keys = [k for k, s in reg.items() if s.tag in params.SAMPLED_TAGS and k not in exclude]
    return [f for k in keys if (f := plausible_factor(k)) is not None]


def read_factors(table: Any, path: Path, problems: list[str]) -> list[Factor]:
    """The [factors] table as factors; problems are appended, naming the file and the key."""
    if not isinstance(table, dict):
        problems.append(f"{path}: factors: must be a table of parameter ranges or levels")
        return []
    reg = params.registry()
    factors = []
    flat = flatten(table, leaf=lambda v: bool(v) and set(v) <= {"min", "max"})
    for key, spec in flat.items():
        where = f"{path}: factors.{key}"
        if key not in reg:
            problems.append(f"{where}: unknown parameter{suggest(key, reg)}; see `{program()} params`")
            continue
        kind = reg[key].kind
        if key == "funding.path_file":
            problems.append(f"{where}: a file cannot be a design factor; give each file its own arm")
            continue
        if spec == "plausible":
            factor = plausible_factor(key)
            if factor is None:
                problems.append(f"{where}: no plausible range in the registry; give levels or a range")
            else:
                factors.append(factor)
        elif isinstance(spec, list):
            bad = [f"{where}: level {v!r}: {m}" for v in spec if (m := non_finite(v) or reg[key].check(v))]
            if not spec:
                bad.append(f"{where}: needs at least one level")
            elif len({json.dumps(v) for v in spec}) < len(spec):
                bad.append(f"{where}: repeated levels {spec!r}")
            problems.extend(bad)
            if not bad:
                factors.append(Factor(key, levels=tuple(params.coerce(key, v) for v in spec)))
        elif isinstance(spec, dict) and set(spec) == {"min", "max"}:
            if kind not in (int, float):
                problems.append(f"{where}: a {kind.__name__} parameter needs levels (an array), not a range")
                continue
            bad = [
                f"{where}.{b}: {m}"
                for b in ("min", "max")
                if (m := non_finite(spec[b]) or reg[key].check(spec[b]))
            ]
            if not bad and spec["min"] >= spec["max"]:
                bad.append(f"{where}: min {spec['min']!r} must be below max {spec['max']!r}")
            problems.extend(bad)
            if bad:
                continue
            if kind is int:
                factors.append(Factor(key, levels=tuple(range(spec["min"], spec["max"] + 1))))
            else:
                factors.append(Factor(key, low=float(spec["min"]), high=float(spec["max"])))
        else:
            problems.append(
                f"{where}: expected levels (an array, e.g. [0.0, 0.5]), "
                f'a range {{ min = ..., max = ... }} or "plausible", got {spec!r}'
            )
    return factors


def make_design(table: dict, factors: list[Factor], path: Path, problems: list[str]) -> Design | None:
    """Check the [design] table and sample its points; None (with problems appended) if invalid.

    Sizes: factorial, the product of the numbers of levels; lhs, ``samples``; sobol (Saltelli),
    ``samples * (2 * factors + 2)`` with ``second_order`` (the default), else ``samples * (factors + 2)``;
    morris, ``samples`` trajectories of ``factors + 1`` points on a grid of ``levels`` (default 4).
    """
    kind = table.get("kind")
    if kind not in DESIGNS:
        problems.append(f"{path}: design.kind: {kind!r} is not one of {list(DESIGNS)}")
        return None
    if not factors:
        problems.append(f"{path}: factors: design.kind = {kind!r} needs at least one factor")
    if kind == "factorial":
        for key in sorted({"samples", "seed", "second_order", "levels"} & set(table)):
            problems.append(f"{path}: design.{key}: not used by a factorial design")
        for f in factors:
            if f.levels is None:
                problems.append(f"{path}: factors.{f.key}: a factorial design needs levels, not a range")
    else:
        if "samples" not in table:
            problems.append(f"{path}: design.samples: required for design.kind = {kind!r}")
        check_int(table, "samples", 2, 1_000_000, path, "design", problems)
        check_int(table, "seed", 0, 2**63 - 1, path, "design", problems)
        samples = table.get("samples")
        if kind == "sobol" and isinstance(samples, int) and samples & (samples - 1):
            problems.append(f"{path}: design.samples: Saltelli sampling needs a power of 2, got {samples}")
        if "second_order" in table and (kind != "sobol" or not isinstance(table["second_order"], bool)):
            problems.append(f"{path}: design.second_order: a boolean, for design.kind = 'sobol' only")
        if "levels" in table and kind != "morris":
            problems.append(f"{path}: design.levels: for design.kind = 'morris' only")
        check_int(table, "levels", 2, 100, path, "design", problems)
    if problems:
        return None
    seed = table.get("seed", 0)
    if kind == "factorial":
        points = [
            dict(zip([f.key for f in factors], combo, strict=True))
            for combo in itertools.product(*(f.levels for f in factors))
        ]
        return Design(kind, tuple(factors), tuple(points))
    if kind == "lhs":
        unit = _latin_hypercube(len(factors), seed).random(table["samples"])
        points = [{f.key: f.from_unit(u) for f, u in zip(factors, row, strict=True)} for row in unit]
        return Design(kind, tuple(factors), tuple(points), table["samples"], seed)
    if kind == "morris":
        from SALib.sample import morris

        levels = table.get("levels", MORRIS_LEVELS)
        problem = Design(kind, tuple(factors), ()).problem()
        x = morris.sample(problem, table["samples"], num_levels=levels, seed=seed)
        points = [{f.key: f.from_bounds(v) for f, v in zip(factors, row, strict=True)} for row in x]
        return Design(kind, tuple(factors), tuple(points), table["samples"], seed, levels=levels)
    from SALib.sample import sobol

    second = table.get("second_order", True)
    problem = Design(kind, tuple(factors), ()).problem()
    x = sobol.sample(problem, table["samples"], calc_second_order=second, seed=seed)
    points = [{f.key: f.from_bounds(v) for f, v in zip(factors, row, strict=True)} for row in x]
    return Design(kind, tuple(factors), tuple(points), table["samples"], seed, second)


def _latin_hypercube(d: int, seed: int):
    """SciPy's Latin hypercube sampler of ``d`` factors, drawing from NumPy's ``default_rng(seed)``.

    SciPy 1.15 names the argument ``rng``, older SciPy ``seed``; a Generator passed either way gives the
    same points (an int passed as ``seed`` would not), so the design is the same under every SciPy allowed.
    """
    import numpy as np
    from scipy.stats import qmc

    generator = np.random.default_rng(seed)
    try:
        return qmc.LatinHypercube(d=d, rng=generator)
    except TypeError:  # SciPy < 1.15
        return qmc.LatinHypercube(d=d, seed=generator)
