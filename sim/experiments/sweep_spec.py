"""Sweep files: policy arms and a design over parameters, read from TOML and checked strictly.

A sweep runs every *arm* (a named set of parameter changes, usually levers) at every *point* of a
design (factorial, Latin hypercube or Sobol/Saltelli over levers or uncertainties), each for the same
replications: replication r of every arm and point uses the same seed, derived from ``run.seed`` and r
(:func:`sim.inputs.scenario.replication_seeds`; common random numbers).
The file format and the output columns are documented in ``docs/sweeps.md``.

Every problem in a file (unknown keys, wrong types, out-of-range values, a missing base file) is
collected and reported together in one :class:`~sim.inputs.scenario.ScenarioError` naming the file
and the key.

Longer than 300 lines because one strict reader of one file format reports all of a file's problems
at once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sim.experiments.design import DESIGNS, Design, check_int, make_design, plausible_factors, read_factors
from sim.experiments.metrics import Metric, read_metrics
from sim.inputs import params
from sim.inputs.files import bad_path_text, check_name, read_toml_text
from sim.inputs.invoked import program
from sim.inputs.keys import flatten, suggest
from sim.inputs.scenario import (
    RUN_KEYS,
    Scenario,
    ScenarioError,
    load_scenario,
    non_finite,
    replication_seeds,
)
from sim.inputs.shipped import find_relative, find_scenario, not_found_hint

TOP_KEYS = {"sweep", "run", "parameters", "arms", "design", "factors", "metrics"}
SWEEP_KEYS = {"name", "description", "base", "baseline_arm"}
DESIGN_KEYS = {"kind", "samples", "seed", "second_order", "levels", "uncertainties"}
RUN_ID_STRIDE = 100_000
"""run_id = case * RUN_ID_STRIDE + replication; replications are below RUN_KEYS' maximum of 100,000."""
IMPLICIT_ARM = "base"


@dataclass(frozen=True)
class Case:
    """One arm at one design point: a complete parameter set, run once per replication.

    Attributes:
        index: arm_index * number of points + point; run_id = index * RUN_ID_STRIDE + replication.
        arm: the arm's name.
        arm_index: the arm's position in the file.
        point: the design point (0 without a design).
        label: arm name, design-point label, or both.
        values: value of every varied parameter, by dotted key.
        changes: every change to the base scenario (sweep [parameters], arm and design point).
    """

    index: int
    arm: str
    arm_index: int
    point: int
    label: str
    values: dict[str, Any]
    changes: dict[str, Any]


@dataclass(frozen=True)
class Sweep:
    """A resolved, checked sweep.

    Attributes:
        name: short name (the default results folder is ``results/sweep-<name>``).
        description: one or two sentences.
        path: the sweep file.
        base: the base scenario with the sweep's [parameters] and end year applied.
        fixed: the sweep's [parameters] (changes applied to every arm).
        arms: arm name -> parameter changes, in file order.
        baseline_arm: the arm the others are compared with.
        design: the design over factors, or None (one point).
        replications: replications of every case.
        seed: the run's seed; replication r's seed, derived from it, is the same in every arm and point.
        end_year: last financial year simulated.
        varied: each varied parameter's tag, unit and whether arms or the design vary it.
        metrics: what ``compare`` compares, by name ([metrics]; None: the headline columns).
    """

    name: str
    description: str
    path: Path | None
    base: Scenario
    fixed: dict[str, Any]
    arms: dict[str, dict[str, Any]]
    baseline_arm: str
    design: Design | None
    replications: int
    seed: int
    end_year: int
    varied: dict[str, dict[str, str]] = field(default_factory=dict)
    metrics: dict[str, Metric] | None = None
    posterior: Any = None
    """Posterior draws (:class:`sim.experiments.posterior.Draws`), one per group of replications, or None."""

    def with_posterior(self, path: str | Path, per_draw: int, unfitted: str = "prior") -> Sweep:
        """A copy whose replications draw their parameters from a posterior file (``--posterior``)."""
        from sim.experiments.posterior import load_draws

        return replace(self, posterior=load_draws(path, self.seed, self.replications, per_draw, unfitted))

    @property
    def n_points(self) -> int:
        """Design points (1 without a design)."""
        return 1 if self.design is None else len(self.design.points)

    @property
    def n_cases(self) -> int:
        """Arms times design points."""
        return len(self.arms) * self.n_points

    @property
    def n_runs(self) -> int:
        """Cases times replications."""
        return self.n_cases * self.replications

    def seeds(self) -> list[int]:
        """The seed of each replication (the same in every arm and point; :func:`replication_seeds`)."""
        return replication_seeds(self.seed, self.replications)

    def with_replications(self, replications: int) -> Sweep:
        """A copy with another number of replications (checked like the file's)."""
        lo, hi = RUN_KEYS["replications"][1:3]
        if (
            isinstance(replications, bool)
            or not isinstance(replications, int)
            or not lo <= replications <= hi
        ):
            raise ScenarioError([f"--replications: {replications!r} is outside [{lo}, {hi}]"])
        return replace(self, replications=replications)

    def cases(self) -> list[Case]:
        """Every arm at every design point, in run_id order."""
        points = ({},) if self.design is None else self.design.points
        base_values = {k: self.base.params[k] for k in self.varied}
        out = []
        for a, (arm, changes) in enumerate(self.arms.items()):
            for p, point in enumerate(points):
                if len(points) == 1:
                    label = arm
                else:
                    label = self.design.point_label(p)
                    label = label if list(self.arms) == [IMPLICIT_ARM] else f"{arm}/{label}"
                values = {**base_values, **changes, **point}
                out.append(Case(a * len(points) + p, arm, a, p, label, values, {**changes, **point}))
        return out

    def compat(self) -> dict[str, Any]:
        """What results depend on; a results folder of a sweep that differs in these is refused."""
        points = [] if self.design is None else list(self.design.points)
        digest = hashlib.sha256(json.dumps(points, sort_keys=True).encode()).hexdigest()
        design = None
        if self.design is not None:
            d = self.design
            design = {
                "kind": d.kind,
                "samples": d.samples,
                "seed": d.seed,
                "second_order": d.second_order,
                "factors": [f.describe() for f in d.factors],
                "points_sha256": digest,
            }
        return _jsonable(
            {
                "base_params": self.base.params,
                "start_year": self.base.start_year,
                "end_year": self.end_year,
                "seed": self.seed,
                "arms": [{"name": k, "changes": v} for k, v in self.arms.items()],
                "design": design,
                **({} if self.posterior is None else {"posterior": self.posterior.describe()}),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description of the resolved sweep (for the manifest)."""
        return _jsonable(
            {
                "name": self.name,
                "description": self.description,
                "path": None if self.path is None else str(self.path),
                "base_scenario": self.base.to_dict(),
                "fixed": self.fixed,
                "arms": self.arms,
                "baseline_arm": self.baseline_arm,
                "design": None
                if self.design is None
                else {
                    "kind": self.design.kind,
                    "samples": self.design.samples,
                    "seed": self.design.seed,
                    "second_order": self.design.second_order,
                    "levels": self.design.levels,
                    "factors": [f.describe() for f in self.design.factors],
                    "problem": self.design.problem(),
                    "n_points": len(self.design.points),
                },
                "varied": self.varied,
                "metrics": None
                if self.metrics is None
                else {k: m.to_dict() for k, m in self.metrics.items()},
                "run": {
                    "start_year": self.base.start_year,
                    "end_year": self.end_year,
                    "replications": self.replications,
                    "seed": self.seed,
                },
                "posterior": None if self.posterior is None else self.posterior.describe(),
                "n_cases": self.n_cases,
                "n_runs": self.n_runs,
                "run_id": f"(arm_index * n_points + point) * {RUN_ID_STRIDE} + replication",
            }
        )


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _check_value(key: str, value: Any, where: str) -> list[str]:
    reg = params.registry()
    if non_finite(value):
        return [f"{where}.{key}: {non_finite(value)}"]
    if key not in reg:
        return [f"{where}.{key}: unknown parameter{suggest(key, reg)}; see `{program()} params`"]
    message = reg[key].check(value)
    return [f"{where}.{key}: {message}"] if message else []


def _check_changes(table: Any, path: Path, where: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(table, dict):
        problems.append(f"{path}: {where}: must be a table of parameter changes")
        return {}
    changes = flatten(table)
    bad = [p for k, v in changes.items() for p in _check_value(k, v, f"{path}: {where}")]
    problems.extend(bad)
    # only values that passed their checks are coerced (a malformed schedule cannot be)
    out = {k: params.coerce(k, v) for k, v in changes.items() if not _check_value(k, v, where)}
    if bad_path_text(out.get("funding.path_file")):
        problems.append(f"{path}: {where}.funding.path_file: {bad_path_text(out['funding.path_file'])}")
        return {}
    if isinstance(out.get("funding.path_file"), str) and out["funding.path_file"]:
        target = (path.parent / out["funding.path_file"]).resolve()
        if not target.is_file():
            problems.append(f"{path}: {where}.funding.path_file: file not found: {target}")
        out["funding.path_file"] = str(target)
    return out if not bad else {}


def _check_funding_files(base: Scenario, arms: dict, factors: list, path: Path) -> list[str]:
    """Problems with the funding file of every arm that uses one (or may, by a design factor)."""
    by_design = any(f.key == "funding.path" and "file" in (f.levels or ()) for f in factors)
    problems: list[str] = []
    checked: set[str] = set()
    for name, changes in arms.items():
        p = {**base.params, **changes}
        if p["funding.path"] != "file" and not by_design:
            continue
        where = f"{path}: arms.{name}: funding.path_file"
        if not p["funding.path_file"]:
            problems.append(f"{where}: required when funding.path = 'file' (in this arm or the design)")
        elif p["funding.path_file"] not in checked:
            checked.add(p["funding.path_file"])
            from sim.inputs.funding import check_funding_file  # pandas: only when a file is used

            problems += [f"{where}: {m}" for m in check_funding_file(p["funding.path_file"])]
    return problems


def _check_keys(table: dict, allowed: set[str], path: Path, where: str, problems: list[str]) -> None:
    for key in sorted(set(table) - allowed):
        problems.append(
            f"{path}: {where}.{key}: unknown key{suggest(key, allowed)}; allowed: {sorted(allowed)}"
        )


def load_sweep(path: str | Path) -> Sweep:
    """Read, resolve and check a sweep file, given by path or by a shipped name (``"sweeps/levers"``).

    Raises:
        ScenarioError: listing every problem found, each naming the file and the key.
    """
    path = find_scenario(path).resolve()
    problems: list[str] = []
    data, problem = read_toml_text(path, "sweep file")
    if problem:
        raise ScenarioError([problem])
    for key in sorted(set(data) - TOP_KEYS):
        problems.append(f"{path}: {key}: unknown table{suggest(key, TOP_KEYS)}; allowed: {sorted(TOP_KEYS)}")
    tables = {k: data.get(k, {}) for k in ("sweep", "run", "design")}
    for name, table in tables.items():
        if not isinstance(table, dict):
            problems.append(f"{path}: {name}: must be a table")
            tables[name] = {}
    meta, run, design_table = tables["sweep"], tables["run"], tables["design"]
    _check_keys(meta, SWEEP_KEYS, path, "sweep", problems)
    _check_keys(run, set(RUN_KEYS), path, "run", problems)
    _check_keys(design_table, DESIGN_KEYS, path, "design", problems)
    for key in ("name", "description", "base", "baseline_arm"):
        if key in meta and not isinstance(meta[key], str):
            problems.append(f"{path}: sweep.{key}: expected str, got {type(meta[key]).__name__}")
    for key in ("replications", "seed"):
        if key not in run:
            problems.append(
                f"{path}: run.{key}: required (replication r of every arm runs with one seed derived from it)"
            )
    for key, (_, lo, hi, _) in RUN_KEYS.items():
        check_int(run, key, lo, hi, path, "run", problems)
    problems += check_name(meta.get("name"), f"{path}: sweep.name")
    base = None
    if not isinstance(meta.get("base"), str):
        problems.append(
            f"{path}: sweep.base: required: the base scenario file, relative to this file, or a shipped "
            'scenario by name ("baseline")'
        )
    elif bad_path_text(meta["base"]):
        problems.append(f"{path}: sweep.base: {bad_path_text(meta['base'])}")
    elif not find_relative(meta["base"], path.parent).is_file():
        target = (path.parent / meta["base"]).resolve()
        problems.append(f"{path}: sweep.base: file not found: {target}{not_found_hint(meta['base'])}")
    else:
        try:
            base = load_scenario(find_relative(meta["base"], path.parent))
        except ScenarioError as exc:
            problems += [f"{path}: sweep.base: {p}" for p in exc.problems]
    fixed = _check_changes(data.get("parameters", {}), path, "parameters", problems)
    raw_arms = data.get("arms", {IMPLICIT_ARM: {}})
    arms: dict[str, dict[str, Any]] = {}
    if not isinstance(raw_arms, dict) or not raw_arms:
        problems.append(f"{path}: arms: must hold at least one table [arms.<name>] of parameter changes")
        raw_arms = {}
    for name, table in raw_arms.items():
        arms[name] = _check_changes(table, path, f"arms.{name}", problems)
    factors = read_factors(data.get("factors", {}), path, problems)
    keys = [f.key for f in factors]
    for key in sorted({k for k in keys if keys.count(k) > 1}):
        problems.append(f"{path}: factors.{key}: given more than once")
    for key in keys:
        for name, changes in arms.items():
            if key in changes:
                problems.append(f"{path}: arms.{name}.{key}: also a factor; vary it by arms or by design")
        if key in fixed:
            problems.append(f"{path}: parameters.{key}: also a factor; set it in one place")
    metrics = read_metrics(data["metrics"], path, problems) if "metrics" in data else None
    design_table = dict(design_table)
    every = design_table.pop("uncertainties", None)
    if every == "plausible":
        taken = {*keys, *fixed, *(k for changes in arms.values() for k in changes)}
        factors += plausible_factors(exclude=taken)
    elif every is not None:
        problems.append(f'{path}: design.uncertainties: {every!r}: the only value is "plausible"')
    design = None
    if design_table:
        design_problems: list[str] = []
        design = make_design(design_table, factors, path, design_problems)
        problems += design_problems
    elif factors:
        problems.append(f"{path}: design.kind: required when [factors] is given; one of {list(DESIGNS)}")
    baseline_arm = meta.get("baseline_arm", "baseline" if "baseline" in arms else next(iter(arms), ""))
    if arms and isinstance(baseline_arm, str) and baseline_arm not in arms:
        problems.append(f"{path}: sweep.baseline_arm: {baseline_arm!r} is not an arm; arms: {list(arms)}")
    if problems:
        raise ScenarioError(problems)
    end_year = run.get("end_year", base.end_year)
    start_year = run.get("start_year", base.start_year)  # [run] keys mean what they say, as in a scenario
    try:
        base = base.with_changes(fixed, start_year=start_year, end_year=end_year)
    except ScenarioError as exc:
        raise ScenarioError([p.replace("<changes>", str(path)) for p in exc.problems]) from None
    problems += _check_funding_files(base, arms, factors, path)
    if problems:
        raise ScenarioError(problems)
    reg = params.registry()
    varied = {
        k: {"tag": reg[k].tag, "by": "arms", "unit": reg[k].unit}
        for k in dict.fromkeys(k for c in arms.values() for k in c)
    }
    varied.update({f.key: {"tag": reg[f.key].tag, "by": "design", "unit": reg[f.key].unit} for f in factors})
    sweep = Sweep(
        name=meta.get("name", path.stem),
        description=meta.get("description", ""),
        path=path,
        base=base,
        fixed=fixed,
        arms=arms,
        baseline_arm=baseline_arm,
        design=design,
        replications=run["replications"],
        seed=run["seed"],
        end_year=end_year,
        varied=varied,
        metrics=metrics,
    )
    _check_case_constraints(sweep)
    return sweep


def _check_case_constraints(sweep: Sweep) -> None:
    """Refuse a sweep whose arms or design points break a constraint between parameters."""
    from sim.inputs.scenario import check_schedule_years

    broken = []
    for case in sweep.cases():  # a lever's schedule that starts after the runs end
        broken += check_schedule_years(case.changes, sweep.end_year, f"{sweep.path}: {case.label}")
    varied = set(sweep.varied)
    if not broken and not any(varied & set(c.keys) for c in params.constraints()):
        return
    for case in sweep.cases():
        messages = params.check_constraints({**sweep.base.params, **case.values})
        broken += [f"{sweep.path}: {case.label}: {m}" for m in messages]
    if broken:
        more = f" (and {len(broken) - 5} more)" if len(broken) > 5 else ""
        raise ScenarioError([*broken[:5], *([f"{sweep.path}: {len(broken)} cases break constraints{more}"])])
