"""The command line: ``python -m sim run|params|map ...``. Exit code 2 on bad input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.scenario import ScenarioError

EXIT_BAD_INPUT = 2


class InputError(Exception):
    """Bad input from the user; the message says what and where."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sim",
        description="English councils divesting services to public service mutuals, 2014 onwards.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a scenario file and write its results folder")
    run.add_argument("scenario", type=Path, help="scenario TOML file, e.g. scenarios/baseline.toml")
    run.add_argument("--out", type=Path, help="results folder (default: a new folder under results/)")
    run.add_argument("--replications", type=int, help="number of replications (overrides the file)")
    run.add_argument("--seed", type=int, help="base seed; replication r uses seed + r")
    run.add_argument("--end-year", type=int, help="last financial year to simulate, e.g. 2020")
    run.add_argument("--observed", type=Path, help="observed series CSV to draw beside the results")
    run.add_argument("--force", action="store_true", help="replace --out if it exists")
    run.add_argument("--quiet", action="store_true", help="no progress or summary")

    params = sub.add_parser("params", help="list every parameter with unit, range, tag and source")
    params.add_argument("--csv", type=Path, help="write the table to this CSV instead of printing")

    mp = sub.add_parser("map", help="draw a map of England coloured by delivery mode")
    mp.add_argument("results", type=Path, help="a results folder from `run`")
    mp.add_argument("--service", required=True, choices=["adult_social_care", "libraries", "leisure"])
    mp.add_argument("--year", type=int, required=True)
    mp.add_argument("--replication", type=int, default=0)
    mp.add_argument("--out", type=Path, required=True, help="PNG file to write")

    from sim import calibrate, sweep_cli

    sweep_cli.add_parsers(sub)
    calibrate.add_parser(sub)
    return parser


def _cmd_run(args: argparse.Namespace) -> int:
    from sim.output import check_out_dir, default_out_dir, write_run
    from sim.progress import Progress
    from sim.run import run_scenario, summarise
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    overrides = {
        k: v
        for k, v in (("replications", args.replications), ("seed", args.seed), ("end_year", args.end_year))
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
        from sim.observed import load_observed

        observed = load_observed(args.observed)
    out = args.out or default_out_dir(scenario.name)
    problem = check_out_dir(out, args.force)
    if problem:
        raise InputError(problem)
    progress = None if args.quiet else Progress(scenario.replications, "replications")
    results = run_scenario(scenario, progress=(lambda done, total: progress.update()) if progress else None)
    files = write_run(results, out, observed=observed)
    if not args.quiet:
        _print_summary(results, summarise, files)
    return 0


def _print_summary(results, summarise, files) -> None:
    sc = results.scenario
    table = summarise(results.national)
    years = [table.index.min(), table.index.max()]
    target = sc.params["report.target_staff"]
    seeds = f"seeds {results.seeds[0]}..{results.seeds[-1]}"
    print(f"\nScenario {sc.name!r}: {len(results.seeds)} replications, {seeds}")
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
    for w in results.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"results: {files['manifest'].parent}")


def _cmd_params(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.params import table

    df = pd.DataFrame(table())
    if args.csv:
        df.to_csv(args.csv, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(df[["key", "default", "unit", "min", "max", "tag"]].to_string(index=False))
    return 0


def _cmd_map(args: argparse.Namespace) -> int:
    from sim.maps import plot_mode_map_file

    try:
        path = plot_mode_map_file(args.results, args.service, args.year, args.out, args.replication)
    except (ValueError, FileNotFoundError) as exc:
        raise InputError(str(exc)) from None
    print(f"map: {path}")
    return 0


COMMANDS = {"run": _cmd_run, "params": _cmd_params, "map": _cmd_map}


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    from sim import calibrate, sweep_cli

    args = _parser().parse_args(argv)
    try:
        return {**COMMANDS, **sweep_cli.COMMANDS, "calibrate": calibrate.command}[args.command](args)
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
