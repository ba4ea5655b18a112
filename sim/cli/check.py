"""``python -m sim check FILE``: check a scenario or sweep file without running it.

Reads only the file and the registry (a funding file, when the scenario names one), so it answers at once.
"""

from __future__ import annotations

import argparse
import tomllib
from pathlib import Path

NAME = "check"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``check`` command to the main parser's subparsers."""
    check = sub.add_parser(
        "check",
        help="check scenario or sweep files without running them (exit 2 on the first bad file)",
        description="Check scenario and sweep files as `run` and `sweep` would, and print what they "
        "resolve to. Every problem is reported, naming the file and the key.",
    )
    check.add_argument("files", type=Path, nargs="+", help="scenario or sweep TOML files")


def _is_sweep(path: Path) -> bool:
    try:
        return "sweep" in tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return False  # the scenario loader reports it, naming the file


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim check``; returns the exit code (bad files raise ScenarioError)."""
    from sim.inputs.scenario import load_scenario
    from sim.inputs.shipped import find_scenario

    for path in map(find_scenario, args.files):
        if _is_sweep(path):
            from sim.experiments.sweep_spec import load_sweep

            sw = load_sweep(path)
            print(
                f"{path}: sweep {sw.name!r}, {len(sw.arms)} arm(s) x {sw.n_points} design point(s) x "
                f"{sw.replications} replication(s) = {sw.n_runs:,} runs; varies {', '.join(sw.varied) or '-'}"
            )
        else:
            sc = load_scenario(path)
            print(
                f"{path}: scenario {sc.name!r}, {sc.replications} replication(s) to {sc.end_year}, "
                f"seed {sc.seed}, {len(sc.changes)} parameter(s) changed from the defaults"
            )
    return 0
