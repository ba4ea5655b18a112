"""The command line's entry: the parser of every command, and the handling of errors and exit codes.

Each command is a module of :mod:`sim.cli` with ``NAME``, ``add_parser(sub)`` and ``command(args)``;
heavy modules are imported inside the commands, so ``python -m sim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import sys
from pathlib import Path
from typing import NoReturn

from sim.cli.errors import EXIT_BAD_INPUT, InputError
from sim.inputs.invoked import program

COMMAND_MODULES = (
    *("run", "sweep", "compare", "params", "check", "map", "calibrate", "backtest", "explore"),
    *("notebooks", "completion"),
)
"""The commands, in the order ``--help`` lists them; each a module ``sim.cli.<name>``."""


def _command(name: str):
    return importlib.import_module(f"sim.cli.{name}")


def version() -> str:
    """The installed package's version (or the checkout's, from pyproject.toml): ``sim.__version__``."""
    import sim

    return sim.__version__


class _Version(argparse.Action):
    """``--version``, looked up only when asked for (reading package metadata takes tens of ms)."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=kwargs.get("help"))

    def __call__(self, parser, namespace, values, option_string=None):
        print(f"mutuals-sim {version()}")
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=program(),
        description="English councils divesting services to public service mutuals, 2014 onwards.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    parser.add_argument(
        "--debug", action="store_true", help="show the full traceback of an internal error (for bug reports)"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        _command(name).add_parser(sub)
        sub.choices[name].add_argument(  # also after the command: `python -m sim run X --debug`
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def _user_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (their message names the file, key or argument)."""
    from sim.experiments.safety import LockedError, OutputError
    from sim.experiments.store import SweepError
    from sim.inputs.funding import FundingFileError

    return InputError, OutputError, LockedError, SweepError, FundingFileError


def _write_traceback() -> Path | None:
    """Write the exception being handled to a file in the temporary folder; its path, or None."""
    import datetime as dt
    import tempfile
    import traceback

    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    try:
        fd, name = tempfile.mkstemp(prefix=f"mutuals-sim-error-{stamp}-", suffix=".txt")
        with open(fd, "w") as fh:
            fh.write(f"command: {sys.argv}\n\n{traceback.format_exc()}")
        return Path(name)
    except OSError:
        return None


def _quiet_broken_pipe() -> int:
    """Standard output was closed early (``python -m sim params | head``): stop quietly."""
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush does not fail again
    except (OSError, ValueError):
        pass
    return 141  # 128 + SIGPIPE, as a command killed by the broken pipe would give


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code.

    Bad input (a file, key or argument) gives one message naming it and exit code 2; an internal error
    gives a short message and the file holding its traceback (or, with ``--debug``, the traceback itself).
    """
    from sim.inputs.lifetime import terminating_signals
    from sim.inputs.scenario import ScenarioError

    for stream in (sys.stdout, sys.stderr):  # a name the terminal cannot print never fails a finished run
        with contextlib.suppress(AttributeError, ValueError, OSError):
            stream.reconfigure(errors="backslashreplace")
    args = _parser().parse_args(argv)
    try:
        with terminating_signals():  # SIGTERM and SIGHUP unwind the command as Ctrl-C does
            code = _command(args.command).command(args)
        sys.stdout.flush()  # here, so that a reader that stopped early (`| head`) is handled below
        return code
    except ScenarioError as exc:
        print(f"error: {len(exc.problems)} problem(s) in the input:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return _quiet_broken_pipe()
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", 2)  # SIGINT, or SIGTERM/SIGHUP (sim.inputs.lifetime)
        with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) cannot be written to
            print("interrupted; no partial results were kept", file=sys.stderr)
        return 128 + signum
    except Exception as exc:
        if isinstance(exc, _user_errors()):
            problems = getattr(exc, "problems", None) or [str(exc)]
            if len(problems) > 1:
                print(f"error: {len(problems)} problem(s) in the input:", file=sys.stderr)
                for problem in problems:
                    print(f"  {problem}", file=sys.stderr)
            else:
                print(f"error: {problems[0]}", file=sys.stderr)
            return EXIT_BAD_INPUT
        from sim.inputs.extras import from_error

        if (missing := from_error(exc)) is not None:  # an optional extra is not installed
            print(f"error: {missing}", file=sys.stderr)
            return EXIT_BAD_INPUT
        if args.debug:
            raise
        if isinstance(exc, OSError) and exc.errno is not None:  # the system refused: a path, space, rights
            where = f"{exc.filename}: " if exc.filename else ""
            print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
            return EXIT_BAD_INPUT
        where = _write_traceback()
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print(
            "this is a bug in mutuals-sim, not in your input; "
            + (f"the full traceback is in {where}" if where else "run again with --debug to see it")
            + f" ({program()} --debug ... shows it here)",
            file=sys.stderr,
        )
        return 1


def script() -> NoReturn:
    """The program's entry point (``python -m sim``, ``mutuals-sim``): :func:`main`, then exit.

    Before the interpreter exits, everything is moved out of the garbage collector's view
    (``gc.freeze``): its final collection would otherwise scan every object the imports made, a fifth of
    a second with Mesa and pandas loaded, to free memory the exit frees anyway. Files are closed by the
    commands themselves, and nothing left is a reference cycle whose finaliser matters.
    """
    code = main()
    gc.freeze()
    sys.exit(code)
