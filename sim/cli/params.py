"""``python -m sim params``: list every parameter with default, unit, range, tag, source and description.

Reads only the registry (no pandas), so it answers at once.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

NAME = "params"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``params`` command to the main parser's subparsers."""
    from sim.inputs.params import TAGS

    params = sub.add_parser(
        "params",
        help="list every parameter with default, unit, range, tag, source and description",
        description="List the parameter registry (sim/inputs/parameters.toml). Scenario and sweep files "
        "set parameters by these dotted keys.",
    )
    params.add_argument(
        "--tag", choices=TAGS, action="append", help="only parameters with this tag (repeatable)"
    )
    params.add_argument("--key", metavar="TEXT", help="only parameters whose key contains TEXT")
    form = params.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the rows as JSON")
    form.add_argument("--csv", type=Path, metavar="FILE", help="write the rows to this CSV file")
    params.add_argument(
        "--force",
        action="store_true",
        help="with --csv: replace FILE if it is a parameter table written before",
    )


def number(value: Any) -> str:
    """A value as written in a parameter file: integers without decimals, text as is."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _allowed(row: dict[str, Any]) -> str:
    if row["choices"]:
        return "one of " + row["choices"]
    if row["min"] is None and row["max"] is None:
        return ""
    return f"allowed {number(row['min'])} to {number(row['max'])}"


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim params``; returns the exit code."""
    from sim.inputs.params import table

    rows = [
        r
        for r in table()
        if (not args.tag or r["tag"] in args.tag) and (not args.key or args.key in r["key"])
    ]
    if args.json:
        json.dump(rows, sys.stdout, indent=1)
        print()
    elif args.csv:
        from sim.cli.errors import InputError
        from sim.experiments.safety import check_out_file, staged_file

        problem = check_out_file(args.csv, args.force, signature=b"key,", what="a parameter table")
        if problem:
            raise InputError(problem)
        with staged_file(args.csv) as tmp, open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["key"])
            writer.writeheader()
            for r in rows:
                writer.writerow(
                    {k: "; ".join(map(number, v)) if isinstance(v, list) else v for k, v in r.items()}
                )
        print(f"{len(rows)} parameters: {args.csv}")
    else:
        for r in rows:
            default = number(r["default"]) if r["default"] != "" else '""'
            parts = [f"{r['key']} = {default}", r["unit"], r["tag"], _allowed(r)]
            if r.get("plausible"):
                parts.append(f"plausible {number(r['plausible'][0])} to {number(r['plausible'][1])}")
            print("  ".join(p for p in parts if p))
            for label, text in (("", r["description"]), ("source: ", r["source"])):
                print(textwrap.fill(label + text, 110, initial_indent="    ", subsequent_indent="      "))
        print(f"{len(rows)} parameters", file=sys.stderr)
    return 0
