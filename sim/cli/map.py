"""``python -m sim map RESULTS``: draw a map of England's councils coloured by delivery mode."""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.errors import InputError
from sim.inputs.invoked import program

NAME = "map"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``map`` command to the main parser's subparsers."""
    mp = sub.add_parser("map", help="draw a map of England coloured by delivery mode")
    mp.add_argument("results", type=Path, help="a results folder from `run`")
    mp.add_argument("--service", required=True, choices=["adult_social_care", "libraries", "leisure"])
    mp.add_argument("--year", type=int, required=True)
    mp.add_argument("--replication", type=int, default=0)
    mp.add_argument(
        "--layout",
        choices=["boundaries", "hex"],
        default="boundaries",
        help="councils on their real boundaries (default; a county drawn as its districts) or as equal hexes",
    )
    mp.add_argument("--out", type=Path, required=True, help="PNG file to write")
    mp.add_argument("--force", action="store_true", help="replace --out if it is an existing PNG picture")


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim map``; returns the exit code."""
    from sim.experiments.safety import claim_out_file, staged_file
    from sim.pictures.maps import plot_mode_map_file

    if not args.results.is_dir():
        raise InputError(f"{args.results}: no such results folder")
    if (args.results / "design.parquet").is_file():
        raise InputError(
            f"{args.results}: a sweep's results folder; map needs a folder written by `{program()} run`"
        )
    if args.out.suffix.lower() != ".png":
        raise InputError(f"--out {args.out}: a map is written as PNG; give a file name ending in .png")
    try:
        with claim_out_file(args.out, args.force), staged_file(args.out) as tmp:
            plot_mode_map_file(args.results, args.service, args.year, tmp, args.replication, args.layout)
    except (ValueError, FileNotFoundError) as exc:
        raise InputError(str(exc)) from None
    print(f"map: {args.out}")
    return 0
