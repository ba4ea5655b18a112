"""Scenario files: a small difference from the baseline, read from TOML and checked strictly.

A scenario file has three tables, all optional::

    [scenario]
    name = "no-support-after-2015"
    description = "National support ends with the 2015-16 programme."
    extends = "baseline.toml"          # another scenario file, relative to this one

    [run]
    start_year = 2014                  # 2014 (the state of 2014-15, the default) or 2010 (of 2010-11)
    end_year = 2020                    # last financial year simulated (start year; 2020 is 2020-21)
    replications = 20
    seed = 20140904                    # the run's seed; replication r's seed is derived from it and r

    [parameters]
    "support.end_year" = 2015          # dotted keys, or nested tables [parameters.support]

Every problem in a file (unknown keys, wrong types, out-of-range values, missing files) is collected and
reported together in one :class:`ScenarioError` naming the file and the key.

Longer than 300 lines because the format and every check of it (keys, types, ranges, years, seeds,
constraints, files referred to) are read together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.inputs import params
from sim.inputs.files import bad_path_text, check_name, read_toml_text
from sim.inputs.invoked import program
from sim.inputs.keys import flatten, suggest
from sim.inputs.shipped import find_relative, find_scenario, not_found_hint

START_YEAR = 2014
"""The default starting state is England on 1 April 2014; the first simulated year is 2014-15."""
START_YEARS = (2010, 2014)
"""The starting states a run may take (``[run] start_year``): 2010-11, whose 2010-2014 history the model's
own mechanisms then generate, or 2014-15, the default for projections."""
MAX_END_YEAR = 2040

RUN_KEYS = {
    "start_year": (int, START_YEARS[0], START_YEARS[-1], "first financial year simulated: 2010 or 2014"),
    "end_year": (int, START_YEARS[0] + 1, MAX_END_YEAR, "last financial year simulated (start year)"),
    "replications": (int, 1, 100_000, "number of replications"),
    "seed": (
        int,
        0,
        2**63 - 1,
        "the run's seed; each replication's seed is derived from it (replication_seeds)",
    ),
}
RUN_DEFAULTS = {"start_year": START_YEAR, "end_year": 2020, "replications": 10, "seed": 20140904}
MAX_SEED = 2**63 - 1
"""Seeds are stored as 64-bit signed integers: a run's seed and every replication's are at most this."""


def replication_seeds(seed: int, replications: int) -> list[int]:
    """The seed of each replication ``r``: a keyed hash (BLAKE2b) of the run's seed and ``r``.

    Replication r's seed depends only on the run's seed and r (so more replications keep those done, and
    every arm and design point of a sweep shares it: common random numbers), and two runs with different
    seeds share no replication seed but by a 63-bit hash collision (``seed + r`` made ``--seed 1`` and
    ``--seed 2`` share all replications but one). Seeds are below 2**63, stored as signed 64-bit integers.
    """
    import hashlib

    out = []
    for r in range(replications):
        data = int(seed).to_bytes(8, "little") + r.to_bytes(8, "little")
        digest = hashlib.blake2b(data, digest_size=8, person=b"mutuals-rep").digest()
        out.append(int.from_bytes(digest, "little") >> 1)
    return out


SCENARIO_KEYS = {"name", "description", "extends"}
MAX_EXTENDS = 32
"""Files a chain of ``extends`` may hold (a scenario, what it extends, what that extends, ...)."""
TOP_KEYS = {"scenario", "run", "parameters"}


class ScenarioError(ValueError):
    """A scenario or sweep file is invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: every parameter's value, and the run settings.

    Attributes:
        name: short name.
        description: one or two sentences.
        path: the file read (None for a scenario built in code).
        params: value of every registered parameter, by dotted key.
        changes: the parameters this scenario (and what it extends) sets, by dotted key.
        end_year: last financial year simulated.
        start_year: first financial year simulated (:data:`START_YEARS`).
        replications: number of replications.
        seed: base seed.
        sources: the scenario files read, the file itself last (what it extends first).
    """

    name: str
    description: str = ""
    path: Path | None = None
    params: dict[str, Any] = field(default_factory=params.defaults)
    changes: dict[str, Any] = field(default_factory=dict)
    end_year: int = RUN_DEFAULTS["end_year"]
    replications: int = RUN_DEFAULTS["replications"]
    seed: int = RUN_DEFAULTS["seed"]
    sources: tuple[str, ...] = ()
    start_year: int = START_YEAR

    def seeds(self) -> list[int]:
        """The explicit seed of each replication (:func:`replication_seeds`)."""
        return replication_seeds(self.seed, self.replications)

    def with_changes(self, changes: dict[str, Any], **run: Any) -> Scenario:
        """Return a copy with more parameter changes and/or run settings, checked like a file."""
        run = {k: params.plain(v) for k, v in run.items()}
        problems = check_parameters(changes, "<changes>")
        for key, value in run.items():
            problems += _check_run_value(key, value, "<changes>")
        if not problems:
            years = {"start_year": self.start_year, "end_year": self.end_year, **run}
            problems += check_years(years["start_year"], years["end_year"], "<changes>")
        if problems:
            raise ScenarioError(problems)
        coerced = {k: params.coerce(k, v) for k, v in changes.items()}
        problems = [
            f"<changes>: parameters: {m}" for m in params.check_constraints({**self.params, **coerced})
        ]
        problems += check_schedule_years(
            {**self.changes, **coerced}, run.get("end_year", self.end_year), "<changes>"
        )
        if problems:
            raise ScenarioError(problems)
        return Scenario(
            name=self.name,
            description=self.description,
            path=self.path,
            params={**self.params, **coerced},
            changes={**self.changes, **coerced},
            end_year=run.get("end_year", self.end_year),
            replications=run.get("replications", self.replications),
            seed=run.get("seed", self.seed),
            sources=self.sources,
            start_year=run.get("start_year", self.start_year),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (for manifests)."""
        return {
            "name": self.name,
            "description": self.description,
            "path": None if self.path is None else str(self.path),
            "run": {
                "start_year": self.start_year,
                "end_year": self.end_year,
                "replications": self.replications,
                "seed": self.seed,
            },
            "changes": self.changes,
            "params": self.params,
        }


def non_finite(value: Any) -> str | None:
    """A message if ``value`` is (or a schedule holds) a NaN or infinite float (TOML allows ``nan``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value!r} is not a finite number"
    if isinstance(value, list | tuple):
        return next((m for m in map(non_finite, value) if m), None)
    return None


def check_years(start_year: Any, end_year: Any, where: str) -> list[str]:
    """Problems with the run's years: a start year other than :data:`START_YEARS`, an end not after it."""
    if not isinstance(start_year, int) or not isinstance(end_year, int):
        return []  # reported by the type check
    if start_year not in START_YEARS:
        return [
            f"{where}: run.start_year: {start_year} is not a starting state; allowed: {list(START_YEARS)}"
        ]
    if end_year <= start_year:
        return [f"{where}: run.end_year: {end_year} must be after run.start_year {start_year}"]
    return []


def check_schedule_years(values: dict[str, Any], end_year: Any, where: str) -> list[str]:
    """Problems with lever schedules the run cannot follow: a first year after the run's last year.

    Years before a schedule's first pair take its value, so ``[[2030, 0.0]]`` in a run to 2020 would apply
    0.0 from the first year, the opposite of what it says.
    """
    if not isinstance(end_year, int):
        return []
    return [
        f"{where}: parameters.{key}: the schedule starts in {value[0][0]}, after the run's last year "
        f"{end_year}; years before a schedule's first year take its value, so it would apply from the "
        "run's first year: give a pair for a year the run simulates, or a later run.end_year"
        for key, value in values.items()
        if isinstance(value, list | tuple)
        and value
        and isinstance(value[0], list | tuple)
        and value[0]
        and isinstance(value[0][0], int)
        and value[0][0] > end_year
    ]


def check_parameters(changes: dict[str, Any], where: str) -> list[str]:
    """Problems with a set of parameter changes (unknown keys, wrong types, non-finite, out of range)."""
    reg = params.registry()
    problems = []
    for key, value in changes.items():
        if non_finite(value):
            problems.append(f"{where}: parameters.{key}: {non_finite(value)}")
            continue
        if key not in reg:
            problems.append(
                f"{where}: parameters.{key}: unknown parameter{suggest(key, reg)}; "
                f"see `{program()} params` for the allowed keys"
            )
            continue
        message = reg[key].check(value)
        if message:
            problems.append(f"{where}: parameters.{key}: {message}")
    return problems


def _check_run_value(key: str, value: Any, where: str) -> list[str]:
    if key not in RUN_KEYS:
        return [f"{where}: run.{key}: unknown key{suggest(key, RUN_KEYS)}; allowed: {sorted(RUN_KEYS)}"]
    kind, lo, hi, _ = RUN_KEYS[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        return [f"{where}: run.{key}: expected {kind.__name__}, got {type(value).__name__} {value!r}"]
    if not lo <= value <= hi:
        return [f"{where}: run.{key}: {value!r} is outside [{lo}, {hi}]"]
    return []


def _read_toml(path: Path, problems: list[str]) -> dict | None:
    data, problem = read_toml_text(path)
    if problem:
        problems.append(problem)
        return None
    if not data:
        problems.append(
            f"{path}: empty scenario file: give at least [scenario] name = ... or [parameters]; "
            "to run the defaults, use scenarios/baseline.toml"
        )
        return None
    return data


def _load_layer(path: Path, problems: list[str], seen: tuple[Path, ...]) -> dict[str, Any]:
    """Read one file and what it extends: returns merged {'meta', 'run', 'changes'}."""
    path = path.resolve()
    merged: dict[str, Any] = {"meta": {}, "run": {}, "changes": {}, "sources": []}
    if path in seen:
        problems.append(f"{path}: scenario.extends makes a cycle: {' -> '.join(map(str, seen))}")
        return merged
    if len(seen) >= MAX_EXTENDS:
        problems.append(
            f"{seen[0]}: scenario.extends: a chain of more than {MAX_EXTENDS} files (it reaches {path}); "
            "extend a file that sets what you need instead"
        )
        return merged
    data = _read_toml(path, problems)
    if data is None:
        return merged
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(f"{path}: {key}: unknown table{suggest(key, TOP_KEYS)}; allowed: {sorted(TOP_KEYS)}")
    meta = data.get("scenario", {})
    run = data.get("run", {})
    raw_params = data.get("parameters", {})
    for name, table in (("scenario", meta), ("run", run), ("parameters", raw_params)):
        if not isinstance(table, dict):
            problems.append(f"{path}: {name}: must be a table")
    if not all(isinstance(t, dict) for t in (meta, run, raw_params)):
        return merged
    for key in sorted(set(meta) - SCENARIO_KEYS):
        problems.append(f"{path}: scenario.{key}: unknown key{suggest(key, SCENARIO_KEYS)}")
    for key in ("name", "description", "extends"):
        if key in meta and not isinstance(meta[key], str):
            problems.append(f"{path}: scenario.{key}: expected str, got {type(meta[key]).__name__}")
    problems.extend(check_name(meta.get("name"), f"{path}: scenario.name"))
    if isinstance(meta.get("extends"), str):
        if bad_path_text(meta["extends"]):
            problems.append(f"{path}: scenario.extends: {bad_path_text(meta['extends'])}")
        elif (target := find_relative(meta["extends"], path.parent).resolve()).is_dir():
            problems.append(f"{path}: scenario.extends: {target} is a folder, not a scenario file")
        elif not target.is_file():
            problems.append(
                f"{path}: scenario.extends: file not found: {target}{not_found_hint(meta['extends'])}"
            )
        else:  # problems in the file extended, each after the file and key that referred to it
            inner: list[str] = []
            merged = _load_layer(target, inner, (*seen, path))
            problems.extend(f"{path}: scenario.extends: {p}" for p in inner)
    for key, value in run.items():
        problems.extend(_check_run_value(key, value, str(path)))
    changes = flatten(raw_params)
    problems.extend(check_parameters(changes, str(path)))
    if bad_path_text(changes.get("funding.path_file")):
        problems.append(
            f"{path}: parameters.funding.path_file: {bad_path_text(changes['funding.path_file'])}"
        )
    elif changes.get("funding.path_file") and isinstance(changes["funding.path_file"], str):
        target = (path.parent / changes["funding.path_file"]).resolve()
        if not target.is_file():
            problems.append(f"{path}: parameters.funding.path_file: file not found: {target}")
        changes["funding.path_file"] = str(target)
    merged["meta"].update({k: v for k, v in meta.items() if k != "extends"})
    merged["run"].update(run)
    merged["changes"].update(changes)
    merged["sources"].append(str(path))
    return merged


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve and check a scenario file, given by path or by a shipped name (``"baseline"``).

    Raises:
        ScenarioError: listing every problem found, each naming the file and the key.
    """
    path = find_scenario(path)
    problems: list[str] = []
    merged = _load_layer(path, problems, ())
    resolved = {**params.defaults(), **merged["changes"]}
    if resolved["funding.path"] == "file" and not resolved["funding.path_file"]:
        problems.append(f"{path}: parameters.funding.path_file: required when funding.path = 'file'")
    elif (
        resolved["funding.path"] == "file"
        and isinstance(resolved["funding.path_file"], str)
        and Path(resolved["funding.path_file"]).is_file()
    ):
        from sim.inputs.funding import check_funding_file

        problems.extend(
            f"{path}: parameters.funding.path_file: {p}"
            for p in check_funding_file(resolved["funding.path_file"])
        )
    run = {**RUN_DEFAULTS, **merged["run"]}
    if not problems:
        problems += check_years(run["start_year"], run["end_year"], str(path))
    if not problems:
        values = {**params.defaults(), **{k: params.coerce(k, v) for k, v in merged["changes"].items()}}
        problems.extend(f"{path}: parameters: {m}" for m in params.check_constraints(values))
        problems += check_schedule_years(merged["changes"], run["end_year"], str(path))
    if problems:
        raise ScenarioError(problems)
    changes = {k: params.coerce(k, v) for k, v in merged["changes"].items()}
    return Scenario(
        name=merged["meta"].get("name", path.stem),
        description=merged["meta"].get("description", ""),
        path=path.resolve(),
        params={**params.defaults(), **changes},
        changes=changes,
        end_year=run["end_year"],
        replications=run["replications"],
        seed=run["seed"],
        sources=tuple(merged["sources"]),
        start_year=run["start_year"],
    )
