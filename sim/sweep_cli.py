"""Command-line entries for batch sweeps: ``python -m sim sweep SWEEP`` and ``python -m sim compare DIR``.

Heavy modules are imported inside the handlers, so ``python -m sim --help`` stays fast.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the sweep commands' parsers to the main parser's subparsers."""
    sweep = sub.add_parser(
        "sweep",
        help="run a sweep file (arms x design x replications), resuming where it stopped",
        description=(
            "Run every arm of a sweep file at every design point for every replication, saving each "
            "finished chunk of runs at once. Running the same command again (after a crash, Ctrl-C or "
            "kill -9, or with more replications) does only the runs that are missing. "
            "File format and output columns: docs/sweeps.md."
        ),
    )
    sweep.add_argument("sweep", type=Path, help="sweep TOML file, e.g. scenarios/sweeps/levers.toml")
    sweep.add_argument(
        "--out",
        type=Path,
        help="results folder (default: results/sweep-<sweep name>, the same every time, so rerunning "
        "the same command resumes the sweep)",
    )
    sweep.add_argument(
        "--workers",
        type=_positive,
        help="local worker processes (default: all cores, or this process when fewer than 3,000 runs are "
        "left; 1 runs in this process)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster at this scheduler address, e.g. tcp://10.0.0.5:8786 "
        "(workers need this package installed); results are identical to a local run",
    )
    sweep.add_argument(
        "--chunk-size", type=_positive, help="runs per task (default: about 4 tasks per worker)"
    )
    sweep.add_argument(
        "--replications", type=_positive, help="replications (overrides the file; more reuse those done)"
    )
    sweep.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    sweep.add_argument("--quiet", action="store_true", help="no progress line or summary")

    compare = sub.add_parser(
        "compare",
        help="compare a sweep's arms with its baseline arm: effects, fan charts, ranking, Sobol indices",
        description="Write effects.csv, outcomes.csv, fan.png, ranking.png, sobol.csv/sobol.png (Sobol "
        "designs) and report.md for a sweep's results folder.",
    )
    compare.add_argument("results", type=Path, help="a sweep's results folder")
    compare.add_argument("--out", type=Path, help="folder for the comparison (default: RESULTS/compare)")
    compare.add_argument("--year", type=int, help="year compared (default: the sweep's end year)")


def _cmd_sweep(args: argparse.Namespace) -> int:
    from sim.cli import InputError
    from sim.sweep import SweepError, read_failures, run_sweep
    from sim.sweep_spec import load_sweep

    sweep = load_sweep(args.sweep)
    if args.replications is not None:
        sweep = sweep.with_replications(args.replications)
    out = args.out or Path("results") / f"sweep-{sweep.name}"
    if not args.quiet:
        print(
            f"sweep {sweep.name!r}: {len(sweep.arms)} arm(s) x {sweep.n_points} design point(s) x "
            f"{sweep.replications} replication(s) = {sweep.n_runs:,} runs -> {out}",
            file=sys.stderr,
        )
    try:
        summary = run_sweep(
            sweep,
            out,
            workers=args.workers,
            scheduler=args.scheduler,
            chunk_size=args.chunk_size,
            retry_failed=args.retry_failed,
            progress=None if args.quiet else sys.stderr,
        )
    except SweepError as exc:
        raise InputError(str(exc)) from None
    except KeyboardInterrupt:
        print(
            f"interrupted: finished chunks are saved in {out}; run the same command to resume",
            file=sys.stderr,
        )
        return 130
    except OSError as exc:  # a Dask scheduler that cannot be reached raises OSError
        if args.scheduler:
            raise InputError(f"--scheduler {args.scheduler}: {exc}") from None
        raise
    failures = read_failures(out)
    if not args.quiet:
        print(
            f"{summary.n_executed:,} runs done in {summary.seconds:,.1f}s "
            f"({summary.n_skipped:,} already done, {summary.n_failed} failed); results: {out}"
        )
        if len(failures):
            print(
                f"warning: {len(failures)} run(s) failed; see {out / 'failures'} "
                f"(first: {failures['error'][0]})"
            )
        print(f"compare the arms: python -m sim compare {out}")
    return 0


def _cmd_compare(args: argparse.Namespace) -> int:
    from sim.cli import InputError
    from sim.compare import write_comparison
    from sim.sweep_store import SweepError

    try:
        files = write_comparison(args.results, out=args.out, year=args.year)
    except (SweepError, ValueError) as exc:
        raise InputError(str(exc)) from None
    print(f"comparison: {files['report'].parent}")
    return 0


COMMANDS: dict = {"sweep": _cmd_sweep, "compare": _cmd_compare}
