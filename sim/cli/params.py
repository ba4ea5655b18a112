"""``python -m sim params``: list every parameter with unit, range, tag and source."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "params"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``params`` command to the main parser's subparsers."""
    params = sub.add_parser("params", help="list every parameter with unit, range, tag and source")
    params.add_argument("--csv", type=Path, help="write the table to this CSV instead of printing")


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim params``; returns the exit code."""
    import pandas as pd

    from sim.inputs.params import table

    df = pd.DataFrame(table())
    if args.csv:
        df.to_csv(args.csv, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(df[["key", "default", "unit", "min", "max", "tag"]].to_string(index=False))
    return 0
