"""``python -m sim run SCENARIO``: run a scenario file and write its results folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.errors import InputError, add_unfitted_argument

NAME = "run"
LARGE_RUN = 1000
"""Replications from which ``run`` notes the memory of the council tables (measured on the baseline,
2014-2020: 0.27 GB and 1.8 MB a replication with them, 0.23 GB and 0.15 MB without)."""


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``run`` command to the main parser's subparsers."""
    run = sub.add_parser("run", help="run a scenario file and write its results folder")
    run.add_argument(
        "scenario",
        type=Path,
        help="scenario TOML file, e.g. scenarios/baseline.toml, or a shipped one by name (baseline)",
    )
    run.add_argument("--out", type=Path, help="results folder (default: a new folder under results/)")
    run.add_argument("--replications", type=int, help="number of replications (overrides the file)")
    run.add_argument(
        "--seed",
        type=int,
        help="the run's seed (default: the file's [run] seed); each replication's seed is derived from it "
        "and the replication's number by a keyed hash, so runs with different seeds share no replication "
        "(the manifest lists every replication's seed)",
    )
    run.add_argument(
        "--start-year",
        type=int,
        help="first financial year: 2014 (the default, from the state of 2014) or 2010 (the 2010-2014 "
        "history from the model's own mechanisms)",
    )
    run.add_argument("--end-year", type=int, help="last financial year to simulate, e.g. 2020")
    run.add_argument("--observed", type=Path, help="observed series CSV to draw beside the results")
    run.add_argument(
        "--csv",
        action="store_true",
        help="write the council table and the decision log as CSV (for spreadsheets) instead of Parquet",
    )
    run.add_argument(
        "--xlsx",
        action="store_true",
        help="also write results.xlsx: every table in one Excel workbook, with a sheet describing the "
        'columns (needs openpyxl: pip install "mutuals-sim[xlsx]")',
    )
    run.add_argument(
        "--national-only",
        action="store_true",
        help="write the national tables, summary and figures only: no council table, per-part table or "
        "decision log (memory and time then grow only with the national table; maps need those tables)",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="replace --out if it holds an earlier run's results (never a folder this program did not make)",
    )
    run.add_argument(
        "--posterior",
        type=Path,
        metavar="FILE",
        help="draw parameter sets from this posterior (e.g. sim/data/posterior.parquet), one per group of "
        "--per-draw replications, and report the spread from parameters and from chance",
    )
    run.add_argument("--per-draw", type=int, default=4, help="replications per posterior draw (default 4)")
    add_unfitted_argument(run)
    run.add_argument(
        "--quiet", action="store_true", help="no progress or summary: print only the results folder"
    )


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim run``; returns the exit code."""
    from sim.experiments.figures import FigureProcess

    figures = FigureProcess()  # forked first: matplotlib's import and the drawing overlap this process's work
    try:
        return _command(args, figures)
    finally:
        figures.close()


def _command(args: argparse.Namespace, figures) -> int:
    from sim.experiments.output import default_out_dir
    from sim.experiments.safety import claim_out_dir
    from sim.inputs.scenario import ScenarioError, load_scenario
    from sim.inputs.shipped import find_scenario

    scenario = load_scenario(find_scenario(args.scenario))
    overrides = {
        k: v
        for k, v in (
            ("replications", args.replications),
            ("seed", args.seed),
            ("start_year", args.start_year),
            ("end_year", args.end_year),
        )
        if v is not None
    }
    if overrides:
        try:
            scenario = scenario.with_changes({}, **overrides)
        except ScenarioError as exc:
            raise ScenarioError(
                [p.replace("<changes>: run.", "--").replace("_", "-") for p in exc.problems]
            ) from None
    observed = None
    if args.observed is not None:
        from sim.evidence.observed import load_observed

        observed = load_observed(args.observed)
    draws = None
    if args.posterior is not None:
        from sim.experiments.posterior import PosteriorError, load_draws

        try:
            draws = load_draws(
                args.posterior, scenario.seed, scenario.replications, args.per_draw, args.unfitted
            )
        except PosteriorError as exc:
            raise InputError(str(exc)) from None
    if args.national_only and args.csv:
        raise InputError("--csv is for the council tables, which --national-only leaves out")
    if args.xlsx:
        from sim.experiments.workbook import MISSING, available

        if not available():
            raise InputError(MISSING)
    out = args.out or default_out_dir(scenario.name)
    with claim_out_dir(out, args.force):  # held to the end: no other command writes this folder
        return _simulate(args, scenario, observed, draws, out, figures)


def _simulate(args, scenario, observed, draws, out, figures) -> int:
    from sim.experiments.output import write_run
    from sim.experiments.progress import Progress
    from sim.experiments.run import run_scenario, summarise

    record = not args.national_only
    need, alone = memory_estimate(scenario, record), memory_estimate(scenario, False)
    have = machine_memory_gb()
    if have is not None and need > have:
        way_out = (
            f"--national-only (about {alone:,.1f} GB) or fewer --replications"
            if record and alone <= have
            else "fewer --replications"
        )
        raise InputError(
            f"{scenario.replications:,} replications to {scenario.end_year} need about {need:,.1f} GB of "
            f"memory, more than this machine's {have:,.1f} GB; use {way_out}"
        )
    if record and not args.quiet and scenario.replications >= LARGE_RUN:
        print(
            f"note: {scenario.replications:,} replications with the council tables need about "
            f"{need:.1f} GB of memory; --national-only writes the national tables alone (about "
            f"{alone:.1f} GB)",
            file=sys.stderr,
        )
    progress = None if args.quiet else Progress(scenario.replications, "replications")
    try:
        step = (lambda done, total: progress.update(done - progress.done)) if progress else None
        if draws is None:
            results = run_scenario(scenario, record_councils=record, progress=step)
        else:  # the posterior's plumbing lives in sim.experiments.posterior
            from sim.experiments.posterior import run_with_draws

            results = run_with_draws(scenario, draws, record_councils=record, progress=step)
    finally:
        if progress:
            progress.close()
    files = write_run(
        results, out, observed=observed, csv=args.csv, posterior=draws, figures=figures, xlsx=args.xlsx
    )
    if not args.quiet:
        _print_summary(results, summarise, files)
        if draws is not None:
            import pandas as pd

            from sim.experiments.posterior import format_spread

            print(format_spread(pd.read_csv(files["posterior_spread"])))
    else:
        print(files["manifest"].parent)  # --quiet: the results folder alone, for scripts
    return 0


def memory_estimate(scenario, record: bool) -> float:
    """GB a run needs: :data:`LARGE_RUN`'s figures (2014-2020, seven years), scaled by the years run."""
    years = max(1.0, (scenario.end_year - scenario.start_year + 1) / 7)
    per_replication = 0.0018 if record else 0.00015
    return (0.27 if record else 0.23) + per_replication * scenario.replications * years


def machine_memory_gb() -> float | None:
    """The machine's physical memory in GB, or None where it cannot be read."""
    import os

    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 1e9
    except (ValueError, OSError, AttributeError):
        return None


def _print_summary(results, summarise, files) -> None:
    sc = results.scenario
    table = summarise(results.national)
    years = [table.index.min(), table.index.max()]
    target = sc.params["report.target_staff"]
    print(f"\nScenario {sc.name!r}: {len(results.seeds)} replications, seed {sc.seed}")
    print(f"{'':32}" + "".join(f"{y:>26}" for y in years))
    labels = {
        "n_mutuals": "mutuals, all sectors",
        "mutual_staff": "mutual staff, all sectors",
        "mutual_spend_gbp_m": "mutual spending, GBP m",
        "n_mutuals_lg": "mutuals from local government",
        "mutual_staff_lg": "staff, local government",
    }
    for col, label in labels.items():
        cells = []
        for y in years:
            med, lo, hi = (table.loc[y, (col, q)] for q in ("median", "p05", "p95"))
            cells.append(f"{med:>10,.0f} [{lo:,.0f}-{hi:,.0f}]")
        print(f"{label:32}" + "".join(f"{c:>26}" for c in cells))
    end = table.loc[years[1], ("mutual_staff", "median")]
    print(f"{years[1]}: median mutual workforce is {end / target:.1%} of the {target:,.0f} ambition.")
    print("[median, 5%-95% across replications]")
    from sim.experiments import anatomy

    print("What the headline rests on (medians):")
    for line in anatomy.lines(results.national) + anatomy.verdict():
        print(f"  {line}")
    for w in results.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"results: {files['manifest'].parent}")
