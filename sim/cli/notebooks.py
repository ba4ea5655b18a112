"""``mutuals-sim notebooks DIR``: write the notebooks shipped with the package into a new folder.

They reach the scenarios by their shipped names (``load_scenario("baseline")``), so they run wherever the
package is installed. The folder gets this program's marker; ``--force`` replaces only such a folder.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from sim.cli.errors import InputError

NAME = "notebooks"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``notebooks`` command to the main parser's subparsers."""
    p = sub.add_parser(
        "notebooks",
        help="write the example notebooks (baseline, levers, places, calibration) into a new folder",
        description="Write the notebooks shipped with the package into a new folder, to open with Jupyter.",
    )
    p.add_argument("out", type=Path, help="a new folder for the notebooks")
    p.add_argument("--force", action="store_true", help="replace a folder this command wrote before")


def command(args: argparse.Namespace) -> int:
    """Run ``notebooks DIR``; returns the exit code."""
    from sim.experiments.safety import check_out_dir, staged_dir
    from sim.inputs.shipped import notebooks_dir

    problem = check_out_dir(args.out, args.force, kind="notebooks")
    if problem:
        raise InputError(problem)
    found = sorted(notebooks_dir().glob("*.ipynb"))
    if not found:
        raise InputError(f"no notebooks found in {notebooks_dir()}: this installation does not carry them")
    with staged_dir(args.out, kind="notebooks") as stage:
        for path in found:
            shutil.copyfile(path, stage / path.name)
    for path in found:
        print(args.out / path.name)
    print(
        f"open them with Jupyter: jupyter lab {args.out} (pip install jupyterlab; in a checkout, "
        f"uv run --with jupyterlab jupyter lab {args.out})"
    )
    return 0
