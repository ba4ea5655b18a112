"""``python -m sim sweep SWEEP``: run a sweep file, resuming where it stopped."""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

from sim.cli.errors import InputError, add_unfitted_argument, positive_int
from sim.inputs.invoked import program

NAME = "sweep"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``sweep`` command to the main parser's subparsers."""
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
    sweep.add_argument(
        "sweep",
        type=Path,
        help="sweep TOML file, e.g. scenarios/sweeps/levers.toml, or a shipped one (sweeps/levers)",
    )
    sweep.add_argument(
        "--out",
        type=Path,
        help="results folder (default: results/sweep-<sweep name>, the same every time, so rerunning "
        "the same command resumes the sweep)",
    )
    sweep.add_argument(
        "--workers",
        type=positive_int,
        help="local worker processes (default: all cores, or this process when fewer than 3,000 runs are "
        "left; 1 runs in this process)",
    )
    sweep.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask distributed cluster at this scheduler address, e.g. tcp://10.0.0.5:8786 "
        "(workers need this package installed), or 'local' for a Dask cluster on this machine bound to "
        "127.0.0.1; results are identical to a local run",
    )
    sweep.add_argument(
        "--chunk-size", type=positive_int, help="runs per task (default: about 4 tasks per worker)"
    )
    sweep.add_argument(
        "--replications", type=positive_int, help="replications (overrides the file; more reuse those done)"
    )
    sweep.add_argument("--retry-failed", action="store_true", help="run again the runs recorded as failed")
    sweep.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="draw each group of --per-draw replications' parameters from this posterior, the same in "
        "every arm (common random numbers), and report the spread from parameters and from chance",
    )
    sweep.add_argument("--per-draw", type=positive_int, default=4, help="replications per posterior draw")
    add_unfitted_argument(sweep)
    sweep.add_argument(
        "--quiet", action="store_true", help="no progress line or summary: print only the results folder"
    )


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim sweep``; returns the exit code."""
    from sim.experiments import pool

    if args.scheduler:  # before any work: a missing extra is named (exit 2) and nothing is written
        from sim.inputs.extras import require

        require("distributed", "sweep --scheduler")
    if not args.scheduler and (args.workers or pool.cores()) > 1:
        pool.start()  # workers' imports overlap reading the sweep file (a small sweep may not use them)
    from sim.experiments.chunks import chunk_files
    from sim.experiments.sweep import SweepError, read_failures, run_sweep
    from sim.experiments.sweep_spec import load_sweep
    from sim.inputs.shipped import find_scenario

    sweep = load_sweep(find_scenario(args.sweep))
    if args.replications is not None:
        sweep = sweep.with_replications(args.replications)
    if args.posterior is not None:
        from sim.experiments.posterior import PosteriorError

        try:
            sweep = sweep.with_posterior(args.posterior, args.per_draw, args.unfitted)
        except PosteriorError as exc:
            raise InputError(str(exc)) from None
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
    except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM/SIGHUP (sim.inputs.lifetime.Terminated)
        with contextlib.suppress(OSError, ValueError):  # a closed terminal (SIGHUP) cannot be written to
            print(
                f"interrupted: finished chunks are saved in {out}; run the same command to resume",
                file=sys.stderr,
            )
        return 128 + getattr(exc, "signum", 2)
    except OSError as exc:  # a Dask scheduler that cannot be reached raises OSError
        if args.scheduler:
            raise InputError(f"--scheduler {args.scheduler}: {exc}") from None
        raise
    failures = read_failures(out) if chunk_files(out, "failures") else ()  # none: nothing to read
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
        if sweep.posterior is not None:
            print(_spread(out, sweep.posterior.per_draw))
        print(f"compare the arms: {program()} compare {out}")
    else:
        print(out)  # --quiet: the results folder alone, for scripts
    return 0


def _spread(out: Path, per_draw: int) -> str:
    """Write ``posterior_spread.csv`` into the sweep's folder (by arm); its last year as text."""
    from sim.experiments.posterior import HEADLINE, format_spread, spread
    from sim.experiments.store import read_runs

    runs = read_runs(out)
    table = spread(runs, per_draw, tuple(m for m in HEADLINE if m in runs), group="arm")
    table.to_csv(out / "posterior_spread.csv", index=False)
    return format_spread(table)
