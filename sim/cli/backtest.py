"""``python -m sim backtest``: fit on targets dated up to 2012, predict 2013-2014; leave one pattern out."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.errors import InputError, add_sampler_arguments, positive_int
from sim.evidence.settings import ABC_SCENARIO

NAME = "backtest"


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Add the ``backtest`` command to the main parser's subparsers."""
    p = sub.add_parser(
        "backtest",
        help="fit on targets dated up to 2012 and predict 2013-2014, and leave one pattern out (ABC-SMC)",
        description="Writes backtest.csv (one row per test and predicted target: 90% predictive interval, "
        "coverage, naive forecast, skill), backtest.png and manifest.json. Targets the run cannot compute "
        "(before its start year, or its starting state) are listed as skipped. See docs/calibration.md.",
    )
    p.add_argument("--out", type=Path, default=Path("results") / "backtest", help="results folder")
    p.add_argument("--force", action="store_true", help="replace --out if it holds an earlier backtest")
    p.add_argument("--seed", type=int, default=2014, help="seed of every fit and prediction (default 2014)")
    p.add_argument("--population", type=positive_int, default=200, help="particles per generation (200)")
    add_sampler_arguments(p)
    p.add_argument(
        "--generations", type=positive_int, help="at most this many generations (12 with mcmc, 6 with pyabc)"
    )
    p.add_argument("--min-epsilon", type=float, default=0.5, help="stop at this epsilon (default 0.5)")
    p.add_argument(
        "--max-simulations", type=positive_int, default=5000, help="simulations per fit, at most (5000)"
    )
    p.add_argument("--replications", type=positive_int, default=4, help="model seeds per particle (4)")
    p.add_argument("--draws", type=positive_int, default=100, help="posterior draws per prediction (100)")
    p.add_argument("--workers", type=positive_int, default=1, help="processes evaluating particles")
    p.add_argument("--discrepancy", type=float, default=0.1, help="model discrepancy (log scale; 0.1)")
    p.add_argument(
        "--scenario", type=Path, default=ABC_SCENARIO, help="scenario each particle runs (from 2010)"
    )
    p.add_argument("--targets", type=Path, help="targets CSV (default: sim/data/targets.csv)")
    p.add_argument("--quiet", action="store_true", help="no progress or table: print only the results folder")


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim backtest``; returns the exit code."""
    from sim.experiments.safety import claim_out_dir

    with claim_out_dir(args.out, args.force, kind="backtest"):  # held to the end: one writer
        return _backtest(args)


def _backtest(args: argparse.Namespace) -> int:
    import pandas as pd

    from sim.evidence import backtest as bt
    from sim.evidence.abc import run_abc, screen
    from sim.evidence.abc_mcmc import run_abc_mcmc
    from sim.evidence.targets import SHIPPED, load_targets, run_start
    from sim.experiments.output import provenance, write_json
    from sim.experiments.safety import staged_dir
    from sim.inputs.scenario import load_scenario
    from sim.inputs.shipped import find_scenario
    from sim.pictures import charts

    if args.sampler == "pyabc":  # a missing extra is named before any work (exit 2)
        from sim.inputs.extras import require

        require("pyabc", "backtest --sampler pyabc")
    targets = load_targets(args.targets or SHIPPED)
    scenario = load_scenario(find_scenario(args.scenario))
    start = run_start(scenario)
    plan = bt.plan(targets, start, scenario.end_year)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr, flush=True))
    for name, note in plan["skipped"].items():
        say(f"skipped target {name}: {note}")
    if not plan["fit"]:
        raise InputError(f"{args.targets or SHIPPED}: no fit target is computable from {start}")
    effects = screen(scenario, plan["fit"], args.discrepancy)
    fitted = list(effects) if args.fit == "all" else [k for k, e in effects.items() if e >= 1.0]
    generations = args.generations or (12 if args.sampler == "mcmc" else 6)
    fit_with = run_abc_mcmc if args.sampler == "mcmc" else run_abc
    settings = dict(
        seed=args.seed,
        population=args.population,
        generations=generations,
        min_epsilon=args.min_epsilon,
        max_simulations=args.max_simulations,
        replications=args.replications,
        workers=args.workers,
        discrepancy=args.discrepancy,
        fitted=fitted,
    )
    rows, fits = [], {}
    for test, fit, predicted in plan["tests"]:
        if not predicted:
            say(f"{test}: nothing computable to predict; skipped")
            continue
        if fit:
            say(f"{test}: fitting on {len(fit)} target(s): {', '.join(t.name for t in fit)}")
            result = fit_with(scenario, fit, **settings)
            posterior, fitted_on = result["posterior"], ";".join(t.name for t in fit)
            fits[test] = {"targets": [t.name for t in fit], "generations": result["generations"]}
        else:
            say(f"{test}: no computable fit target dated up to {bt.FIT_UNTIL}: the prior predictive")
            posterior, fitted_on = bt.prior_sample(fitted, args.draws, args.seed), "prior (nothing to fit)"
            fits[test] = {"targets": [], "note": f"no computable fit target dated up to {bt.FIT_UNTIL}"}
        pred = bt.predictive(
            scenario,
            predicted,
            posterior,
            seed=args.seed,
            draws=args.draws,
            replications=args.replications,
            discrepancy=args.discrepancy,
        )
        rows += bt.rows(test, fitted_on, predicted, pred, targets)
    table = pd.DataFrame(rows, columns=bt.COLUMNS)
    with staged_dir(args.out, kind="backtest") as stage:
        table.to_csv(stage / "backtest.csv", index=False)
        charts.save(bt.figure(table, targets, args.discrepancy), stage / "backtest.png")
        manifest = {
            "settings": {k: v for k, v in settings.items() if k != "fitted"}
            | {"sampler": args.sampler, "fit": args.fit},
            "fitted_parameters": fitted,
            "start_year": start,
            "end_year": scenario.end_year,
            "skipped_targets": plan["skipped"],
            "fits": fits,
            "targets_file": str(args.targets or SHIPPED),
            **provenance(),
        }
        write_json(stage / "manifest.json", manifest)
    if not args.quiet:
        show = table[
            ["test", "name", "year", "observed", "pred_lo", "pred_median", "pred_hi", "covered", "skill"]
        ]
        print(show.to_string(index=False, float_format=lambda x: f"{x:.4g}"))
        print(f"covered: {int(table['covered'].sum())} of {len(table)}; results: {args.out}")
    else:
        print(args.out)  # --quiet: the results folder alone
    return 0
