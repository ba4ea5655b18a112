"""The defaults from the posterior: one particle, chosen by its fit on common seeds, written and applied.

A posterior (``sim/data/posterior.parquet``) carries parameter uncertainty into projections that ask for
it (``--posterior``). A run without it needs one set of values: the registry's defaults. The point is the
posterior particle that, simulated with the calibration scenario's own seeds (common random numbers, the
same for every particle), is closest to the targets (:func:`sim.evidence.targets.distance`). Unlike the
posterior's medians, which need not lie on the ridge the targets allow, it is one consistent combination.
Every parameter of the particle is taken, including those the targets barely inform one at a time (for
them the value is, in effect, a draw from the prior): together they move the 2010-2014 history, and the
particle fits as a whole (distance 0.27 on the calibration's seeds when chosen, 0.34 at the model of the
outside sector as providers, against 0.38 with the 65 weakly informed ones held at their earlier
defaults). ``--informed-only`` takes only the parameters the screen
finds informed (``informed`` in the posterior's provenance), the rest keeping their defaults. Parameters
the calibration's start never reads (:func:`unread`: the state of 2014, for a 2010 start) are never
taken: no target informs them, and they keep their defaults and sources.

Maintainer's commands (docs/calibration.md)::

    python -m sim.evidence.point sim/data/posterior.parquet --out sim/data/calibrated_2010.toml
    python -m sim.evidence.point sim/data/posterior.parquet --out sim/data/calibrated_2010.toml --apply
    python -m sim.evidence.point --refresh sim/data/calibrated_2010.toml

``--refresh`` is for a model changed after the point was chosen, before it is fitted again: it keeps the
point's particle and values, finds again which parameters the start never reads, and recomputes the fit
to every target and held-out pattern on the scenario's seeds, so the file states what the shipped defaults
give now (the file says it was refreshed; the particle need no longer be the closest).

Longer than 300 lines because choosing, refreshing, writing and applying the point share its file format.

``--apply`` also writes the point's values into ``sim/inputs/parameters.toml`` as the defaults (tag
``calibrated``, the source citing the point file, the earlier source kept after it); ``tests/test_params.py``
checks that the defaults and the file agree.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import tomllib
from pathlib import Path
from typing import Any

import pandas as pd

from sim.evidence.targets import Target, distance, split_computable, z_scores
from sim.inputs import params
from sim.inputs.scenario import Scenario

SIGNATURE = "# Written by `python -m sim.evidence.point`"
REGISTRY = Path(__file__).resolve().parents[1] / "inputs" / "parameters.toml"
CITATION = (
    "calibrated: ABC-SMC from 2010, the posterior particle closest to every target known by 2014 on "
    "common seeds (sim/data/calibrated_2010.toml)"
)


def rounded(key: str, value: float) -> float | int:
    """A value as the registry keeps it: ints whole, floats to 4 significant digits."""
    if params.registry()[key].kind is int:
        return int(round(value))
    return float(f"{value:.4g}")


def unread(scenario: Scenario, keys: list[str], replications: int = 8) -> list[str]:
    """The parameters among ``keys`` that ``scenario``'s runs never read.

    A parameter is unread when its plausible range's two ends give bit for bit the same national table
    (``replications`` common seeds). A 2010 start never reads the state of 2014 (``outside.cohort_2014``,
    ``init.n_lg_pipeline_2014``, ...): the targets cannot inform it, so a particle's value for it is a
    draw from its prior, not a calibrated value. Such parameters keep their defaults.
    """
    import numpy as np

    from sim.model import DivestmentModel

    reg = params.registry()
    seeds = scenario.with_changes({}, replications=replications).seeds()

    def national(changes: dict[str, Any]) -> np.ndarray:
        model = DivestmentModel(scenario.with_changes(changes), seeds=seeds, record_councils=False).run()
        return model.national().to_numpy(dtype=float)

    found = []
    for key in keys:
        spec = reg[key]
        lo, hi = (spec.kind(v) for v in spec.plausible)
        if np.array_equal(national({key: lo}), national({key: hi}), equal_nan=True):
            found.append(key)
    return found


def choose(
    posterior: pd.DataFrame,
    scenario: Scenario,
    targets: tuple[Target, ...],
    discrepancy: float,
    keys: list[str] | None = None,
) -> dict[str, Any]:
    """The particle closest to the targets on ``scenario``'s seeds; its values rounded, and its fit.

    ``keys``: the parameters taken from the particle (default: all its columns); the others stay at their
    defaults, in the simulation that chooses and in the registry after ``--apply``.
    """
    from sim.evidence.abc import simulate_stats
    from sim.evidence.targets import run_start

    usable, _ = split_computable(targets, run_start(scenario), scenario.end_year)
    fit = tuple(t for t in usable if t.role == "fit")
    names = list(keys) if keys is not None else [c for c in posterior.columns if c != "weight"]
    seeds = scenario.seeds()
    best = (math.inf, None, None)
    for i, row in enumerate(posterior[names].itertuples(index=False)):
        values = {k: rounded(k, v) for k, v in zip(names, row, strict=True)}
        stats = simulate_stats(scenario, fit, values, seeds)
        d = distance(stats, fit, discrepancy)
        if d < best[0]:
            best = (d, i, (values, stats))
    d, i, (values, stats) = best
    held = tuple(t for t in usable if t.role == "holdout")
    return {
        "distance": d,
        "particle": i,
        "values": values,
        "statistics": stats,
        "targets": fit,
        "seeds": seeds,
        "holdout": held,
        "holdout_statistics": simulate_stats(scenario, held, values, seeds) if held else {},
    }


def to_toml(point: dict[str, Any], posterior_path: str, discrepancy: float) -> str:
    """The point file: its values, its fit to each target, and how it was chosen."""
    lines = [
        SIGNATURE + "; do not edit by hand. See docs/calibration.md.",
        "",
        "[point]",
        f'posterior = "{posterior_path}"',
        f"particle = {point['particle']}",
        f"distance = {point['distance']:.4g}",
        f"discrepancy = {discrepancy}",
        f"model_seeds = {list(point['seeds'])}",
    ]
    if point.get("refreshed"):
        lines.append(f'refreshed = "{point["refreshed"]}"')
    lines += ["", "[parameters]"]
    lines += [f'"{k}" = {v!r}' for k, v in point["values"].items()]
    if point.get("unread"):
        lines += ["", "[unread]  # never read from this start: not taken from the particle, defaults kept"]
        lines.append(f"parameters = {point['unread']!r}".replace("'", '"'))
    lines += ["", "[fit]"]
    for t in point["targets"]:
        s = point["statistics"][t.name]
        lines.append(f'"{t.name}" = {{ target = {t.value!r}, kind = "{t.kind}", statistic = {s:.6g} }}')
    if point.get("holdout"):
        lines += ["", "[holdout]  # patterns known by 2014 that the fit did not see; within: |z| <= 1"]
        held = point["holdout"]
        z = z_scores(point["holdout_statistics"], held, discrepancy)
        for t, zi in zip(held, z, strict=True):
            s = point["holdout_statistics"][t.name]
            lines.append(
                f'"{t.name}" = {{ target = {t.value!r}, kind = "{t.kind}", statistic = {s:.6g}, '
                f"z = {zi:.3f}, within = {str(bool(abs(zi) <= 1)).lower()} }}"
            )
    return "\n".join(lines) + "\n"


def apply(values: dict[str, float | int], registry: Path = REGISTRY) -> str:
    """``parameters.toml`` with ``values`` as the defaults, tagged calibrated and citing the point file."""
    text = registry.read_text()
    for key, value in values.items():
        head = re.search(rf"^\[{re.escape(key)}\]\n", text, flags=re.M)
        if head is None:
            raise KeyError(key)
        end = re.search(r"^\[", text[head.end() :], flags=re.M)
        stop = head.end() + (end.start() if end else len(text) - head.end())
        block = text[head.end() : stop]
        block = re.sub(r"^value = .*$", f"value = {value!r}", block, count=1, flags=re.M)
        block = re.sub(r'^tag = ".*"$', 'tag = "calibrated"', block, count=1, flags=re.M)

        def cite(m: re.Match) -> str:
            old = m.group(1)
            if old.startswith(CITATION):
                return m.group(0)
            old = re.sub(r"^calibrated: ", "", old)
            return f'source = "{CITATION}; before that, {old}"'

        block = re.sub(r'^source = "(.*)"$', cite, block, count=1, flags=re.M)
        text = text[: head.end()] + block + text[stop:]
    tomllib.loads(text)  # still a valid registry file
    return text


def refresh(path: Path, scenario: Scenario, targets: tuple[Target, ...]) -> dict[str, Any]:
    """The point of the file at ``path`` (particle and values kept), its fit recomputed for the model now.

    Parameters the start no longer reads leave the point (listed under ``unread``); none is added.
    """
    old = tomllib.loads(path.read_text())
    listed = list(old.get("unread", {}).get("parameters", []))
    never = unread(scenario, [*old["parameters"], *listed])
    values = {k: v for k, v in old["parameters"].items() if k not in never}
    discrepancy = old["point"]["discrepancy"]
    point = choose(pd.DataFrame([values]), scenario, targets, discrepancy)  # one candidate: its fit
    point.update(
        particle=old["point"]["particle"],
        posterior=old["point"]["posterior"],
        discrepancy=discrepancy,
        unread=never,
        refreshed="the model changed after this particle was chosen; its fit is recomputed, not refitted",
    )
    return point


def main(argv: list[str] | None = None) -> int:
    """Choose the point of a posterior, write it, and optionally make it the registry's defaults."""
    from sim.evidence.abc import DEFAULT_DISCREPANCY
    from sim.evidence.posterior_file import read
    from sim.evidence.settings import ABC_SCENARIO
    from sim.evidence.targets import load_targets
    from sim.inputs.scenario import load_scenario

    ap = argparse.ArgumentParser(prog="python -m sim.evidence.point", description=__doc__.split("\n")[0])
    ap.add_argument("posterior", type=Path, nargs="?")
    ap.add_argument("--out", type=Path, help="the point file to write (TOML)")
    ap.add_argument(
        "--refresh",
        type=Path,
        metavar="POINT",
        help="keep this point file's particle; recompute its fit and unread list for the model as it is now",
    )
    ap.add_argument("--scenario", type=Path, default=ABC_SCENARIO, help="runs and seeds (default: from 2010)")
    ap.add_argument("--discrepancy", type=float, default=DEFAULT_DISCREPANCY)
    ap.add_argument("--apply", action="store_true", help="write the values into sim/inputs/parameters.toml")
    ap.add_argument(
        "--informed-only",
        action="store_true",
        help="take only the parameters the screen found informed; the rest keep their defaults",
    )
    args = ap.parse_args(argv)
    if args.refresh is not None:
        return _refresh(args, load_scenario, load_targets)
    if args.posterior is None or args.out is None:
        ap.error("a posterior and --out are needed (or --refresh POINT)")
    if args.out.exists() and not args.out.read_text().startswith(SIGNATURE):
        print(
            f"{args.out}: exists and was not written by this command; it is never replaced", file=sys.stderr
        )
        return 2
    import json

    from sim.evidence.posterior_file import provenance_path

    provenance = provenance_path(args.posterior)
    informed = None
    if args.informed_only and provenance.exists():
        informed = json.loads(provenance.read_text()).get("informed")
    from sim.evidence.posterior_file import PosteriorError
    from sim.inputs.scenario import ScenarioError

    try:
        posterior, scenario, targets = read(args.posterior), load_scenario(args.scenario), load_targets()
    except (PosteriorError, ScenarioError) as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        print("error: " + "; ".join(problems), file=sys.stderr)
        return 2
    names = informed if informed is not None else [c for c in posterior.columns if c != "weight"]
    never = unread(scenario, names)
    point = choose(posterior, scenario, targets, args.discrepancy, [k for k in names if k not in never])
    point["unread"] = never
    args.out.write_text(to_toml(point, str(args.posterior), args.discrepancy))
    print(f"particle {point['particle']}: distance {point['distance']:.3f} on seeds {point['seeds']}")
    if never:
        print(f"  never read from this start, defaults kept: {', '.join(never)}")
    for t in point["targets"]:
        print(f"  {t.name:44} target {t.value:>10.4g}  point {point['statistics'][t.name]:>10.4g}")
    for t in point["holdout"]:
        s = point["holdout_statistics"][t.name]
        print(f"  held out: {t.name:34} known {t.value:>10.4g}  point {s:>10.4g}")
    if args.apply:
        REGISTRY.write_text(apply(point["values"]))
        print(f"applied {len(point['values'])} defaults to {REGISTRY}")
    return 0


def _refresh(args: argparse.Namespace, load_scenario, load_targets) -> int:
    """``--refresh POINT``: rewrite the point file with its fit for the model as it is now."""
    from sim.inputs.scenario import ScenarioError

    path = args.refresh
    if not path.is_file() or not path.read_text().startswith(SIGNATURE):
        print(f"{path}: not a point file written by this command; nothing written", file=sys.stderr)
        return 2
    try:
        scenario = load_scenario(args.scenario)
    except ScenarioError as exc:
        print("error: " + "; ".join(exc.problems), file=sys.stderr)
        return 2
    point = refresh(path, scenario, load_targets())
    path.write_text(to_toml(point, point["posterior"], point["discrepancy"]))
    print(f"particle {point['particle']} refreshed: distance {point['distance']:.3f}")
    if point["unread"]:
        print(f"  never read from this start: {', '.join(point['unread'])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
