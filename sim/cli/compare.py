"""``python -m sim compare RESULTS``: compare a sweep's arms with its baseline arm."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.errors import InputError

NAME = "compare"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``compare`` command to the main parser's subparsers."""
    compare = sub.add_parser(
        "compare",
        help="compare a sweep's arms with its baseline arm: effects, fan charts, ranking, Sobol indices",
        description="Write effects.csv, outcomes.csv, fan.png, ranking.png, sobol.csv/sobol.png (Sobol "
        "designs) and report.md for a sweep's results folder.",
    )
    compare.add_argument("results", type=Path, help="a sweep's results folder")
    compare.add_argument("--out", type=Path, help="folder for the comparison (default: RESULTS/compare)")
    compare.add_argument("--year", type=int, help="year compared (default: the sweep's end year)")


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim compare``; returns the exit code."""
    from sim.experiments.compare import write_comparison
    from sim.experiments.store import SweepError

    try:
        files = write_comparison(args.results, out=args.out, year=args.year)
    except (SweepError, ValueError, FileNotFoundError) as exc:
        raise InputError(str(exc)) from None
    print(f"comparison: {files['report'].parent}")
    return 0
