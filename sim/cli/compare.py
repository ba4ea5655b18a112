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
    compare.add_argument(
        "--out",
        type=Path,
        help="folder for the comparison (default: RESULTS/compare, replaced on each comparison)",
    )
    compare.add_argument(
        "--force", action="store_true", help="replace --out if it holds an earlier comparison"
    )
    compare.add_argument(
        "--partial",
        action="store_true",
        help="compare the runs done so far when the sweep is not finished (otherwise an error)",
    )
    compare.add_argument("--year", type=int, help="year compared (default: the sweep's end year)")


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim compare``; returns the exit code."""
    from sim.experiments.compare import write_comparison
    from sim.experiments.safety import claim_out_dir
    from sim.experiments.store import SweepError

    out = args.out if args.out is not None else args.results / "compare"
    try:
        with claim_out_dir(out, args.force or args.out is None, kind="compare"):
            _check_finished(args.results, args.partial)
            files = write_comparison(args.results, out=out, year=args.year)
    except (SweepError, ValueError, FileNotFoundError) as exc:
        raise InputError(str(exc)) from None
    print(f"comparison: {files['report'].parent}")
    return 0


def _check_finished(results: Path, partial: bool) -> None:
    """An InputError if the sweep in ``results`` is not finished, unless ``partial``; a note if it is."""
    import sys

    from sim.experiments.store import completed_run_ids, read_manifest
    from sim.experiments.sweep_spec import RUN_ID_STRIDE

    manifest = read_manifest(results)
    try:
        n_cases, reps = int(manifest["sweep"]["n_cases"]), int(manifest["sweep"]["run"]["replications"])
        arms = list(manifest["sweep"]["arms"])
        baseline = arms.index(manifest["sweep"]["baseline_arm"]) if len(arms) > 1 else 0
    except (KeyError, TypeError, ValueError):
        raise InputError(f"{results}/manifest.json: damaged (not the manifest a sweep writes)") from None
    done = completed_run_ids(results)
    missing = sum(c * RUN_ID_STRIDE + r not in done for c in range(n_cases) for r in range(reps))
    if not missing:
        return
    total = n_cases * reps
    if not partial:
        raise InputError(
            f"{results}: the sweep is not finished ({total - missing:,} of {total:,} runs done); run the "
            "same sweep command again to finish it, or add --partial to compare the runs done so far"
        )
    if len(arms) > 1:
        a, n_points = baseline, n_cases // len(arms)
        cases = range(a * n_points, (a + 1) * n_points)
        if not any(c * RUN_ID_STRIDE + r in done for c in cases for r in range(reps)):
            raise InputError(
                f"{results}: the baseline arm {arms[a]!r} has no finished runs yet, so there is nothing to "
                "compare the other arms with; run the same sweep command again to finish it"
            )
    print(f"warning: comparing {total - missing:,} of {total:,} runs (--partial)", file=sys.stderr)
