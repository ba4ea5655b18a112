"""The command line's entry: the parser of every command, and the handling of errors and exit codes.

Each command is a module of :mod:`sim.cli` with ``NAME``, ``add_parser(sub)`` and ``command(args)``;
heavy modules are imported inside the commands, so ``python -m sim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.cli.errors import EXIT_BAD_INPUT, InputError

COMMAND_MODULES = ("run", "sweep", "compare", "params", "check", "map", "calibrate")
"""The commands, in the order ``--help`` lists them; each a module ``sim.cli.<name>``."""


def _command(name: str):
    return importlib.import_module(f"sim.cli.{name}")


def version() -> str:
    """The installed package's version (or the checkout's, from pyproject.toml)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("mutuals-sim")
    except PackageNotFoundError:
        return "unknown (not installed)"


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (reading package metadata takes tens of ms)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kwargs.get("help"))

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"{parser.prog} (mutuals-sim) {version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="English councils divesting services to public service mutuals, 2014 onwards.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        _command(name).add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from sim.inputs.scenario import ScenarioError

    args = _parser().parse_args(argv)
    try:
        return _command(args.command).command(args)
    except ScenarioError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted; no partial results were kept", file=sys.stderr)
        return 130
