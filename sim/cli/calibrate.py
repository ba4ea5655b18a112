"""``python -m sim calibrate``: fit behavioural parameters to what was known by 2014.

``--method abc`` (the default) runs ABC-SMC (:mod:`sim.evidence.abc_mcmc`, or pyabc's) and writes a
posterior (Parquet) with its provenance (JSON); ``--method optuna`` (the default when ``--trials`` or
``--study`` is given) writes the best fit and its spread (TOML).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sim.cli.errors import add_sampler_arguments
from sim.evidence.settings import DEFAULT_OUT, DEFAULT_SCENARIO, DEFAULT_SEED, DEFAULT_TRIALS

DEFAULT_POSTERIOR_OUT = Path("results") / "posterior.parquet"

NAME = "calibrate"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``calibrate`` command to the main parser's subparsers."""
    p = sub.add_parser(
        "calibrate",
        help="fit behavioural parameters to what was known by 2014 (ABC-SMC from 2010, or --method optuna)",
    )
    p.add_argument(
        "--method",
        choices=("optuna", "abc"),
        help="abc (the default): ABC-SMC posterior (Parquet and JSON); optuna: best fit and spread (TOML), "
        "the default when --trials or --study is given",
    )
    p.add_argument("--trials", type=int, help=f"Optuna trials (default {DEFAULT_TRIALS})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"sampler seed (default {DEFAULT_SEED})")
    p.add_argument(
        "--out",
        type=Path,
        help=f"file to write (default {DEFAULT_OUT}, or {DEFAULT_POSTERIOR_OUT} with --method abc; "
        "sim/data/calibrated.toml and sim/data/posterior.parquet are refreshed only when given as --out)",
    )
    p.add_argument(
        "--scenario",
        type=Path,
        help="scenario each trial runs (default: the shipped scenarios/calibration/calibration.toml, or "
        "calibration_2010.toml, from 2010, with --method abc)",
    )
    p.add_argument("--replications", type=int, help="model seeds per trial (overrides the scenario file)")
    p.add_argument(
        "--study",
        type=Path,
        metavar="FILE",
        help="keep every finished trial in this Optuna journal file; run the same command again after an "
        "interruption to do only the trials still missing",
    )
    abc = p.add_argument_group("ABC-SMC (--method abc)")
    add_sampler_arguments(abc)
    abc.add_argument("--population", type=int, default=400, help="particles per generation (default 400)")
    abc.add_argument(
        "--generations",
        type=int,
        help="at most this many generations (default 30 with --sampler mcmc, 10 with pyabc)",
    )
    abc.add_argument(
        "--min-epsilon", type=float, default=0.5, help="stop once the epsilon is at most this (default 0.5)"
    )
    abc.add_argument(
        "--max-simulations", type=int, default=40_000, help="stop after this many particles (default 40000)"
    )
    abc.add_argument("--workers", type=int, default=1, help="processes evaluating particles (default 1)")
    abc.add_argument(
        "--discrepancy",
        type=float,
        default=0.1,
        help="model discrepancy added in quadrature to every tolerance (log scale; default 0.1)",
    )
    abc.add_argument("--targets", type=Path, help="targets CSV (default: the shipped sim/data/targets.csv)")
    abc.add_argument(
        "--include",
        metavar="KEY,KEY",
        help="also fit these candidate parameters even if the screen finds the targets barely move them",
    )
    p.add_argument("--quiet", action="store_true", help="no progress or table: print only the file written")
    return p


CALIBRATION_SIGNATURE = b"# Written by `python -m sim calibrate`"
"""How a calibration file begins (:func:`sim.evidence.calibrate.to_toml`): the only file --out replaces."""


def command(args: argparse.Namespace) -> int:
    """Run ``python -m sim calibrate``; returns the exit code (bad input raises ScenarioError)."""
    from sim.inputs.scenario import ScenarioError

    if args.method is None:  # Optuna's own options choose it; otherwise the posterior
        args.method = "optuna" if args.trials is not None or args.study is not None else "abc"
    if args.trials is None:
        args.trials = DEFAULT_TRIALS
    if args.method == "abc":
        from sim.cli.calibrate_abc import command_abc

        return command_abc(args, DEFAULT_POSTERIOR_OUT)
    if args.out is None:
        args.out = DEFAULT_OUT
    if args.scenario is None:
        args.scenario = DEFAULT_SCENARIO
    problems = []
    if args.trials < 1:
        problems.append(f"--trials: must be at least 1, got {args.trials}")
    if args.seed < 0:
        problems.append(f"--seed: must be non-negative, got {args.seed}")
    if args.replications is not None and args.replications < 1:
        problems.append(f"--replications: must be at least 1, got {args.replications}")
    if problems:
        raise ScenarioError(problems)
    import contextlib

    from sim.cli.errors import InputError
    from sim.experiments.locks import out_lock
    from sim.experiments.safety import claim_out_file

    problem = check_study(args.study) if args.study is not None else None
    if problem:
        raise InputError(f"--study {problem}")
    # only a calibration file (one this command wrote) is ever replaced; checked before the long work, and
    # both files held (locked) to the end, so no other command writes them meanwhile
    study_lock = out_lock(args.study, "study file") if args.study else contextlib.nullcontext()
    with (
        claim_out_file(args.out, True, CALIBRATION_SIGNATURE, "a calibration file", prefix="--out "),
        study_lock,
    ):
        return _optuna(args)


def check_study(path: Path) -> str | None:
    """A message if ``path`` may not be an Optuna journal of this command (a file of the user's), else None.

    A study file may be new, empty, or one this command's Optuna journal began (its first line opens a
    study named ``calibrate-...``); never a folder, a link or another file, which Optuna would append to.
    """
    import json

    path = Path(path)
    if path.is_symlink() or (path.exists() and not path.is_file()):
        return f"{path}: exists and is not a regular file; give a new file name"
    if not path.exists():
        return None if path.parent.is_dir() or not path.parent.exists() else f"{path}: no such folder"
    try:
        with open(path, "rb") as fh:
            first = fh.readline(4096)
        head = json.loads(first) if first.strip() else {}
    except (OSError, ValueError):
        head = None
    if not isinstance(head, dict) or (head and not str(head.get("study_name", "")).startswith("calibrate-")):
        return (
            f"{path}: exists and is not an Optuna journal written by python -m sim calibrate; it is never "
            "written to: give a new file name"
        )
    return None


def _optuna(args: argparse.Namespace) -> int:
    import datetime as dt

    from sim.evidence.calibrate import calibrate, format_table, to_toml
    from sim.experiments.safety import staged_file
    from sim.inputs.scenario import load_scenario
    from sim.inputs.shipped import find_scenario

    scenario = load_scenario(find_scenario(args.scenario))
    if args.replications is not None:
        scenario = scenario.with_changes({}, replications=args.replications)
    from sim.experiments.progress import Progress

    bar = None if args.quiet else Progress(args.trials, "trials")

    def step(best: float) -> None:
        bar.update()
        if bar.bar is not None:
            bar.bar.set_postfix_str(f"best loss {best:.3g}", refresh=False)

    try:
        result = calibrate(
            scenario, args.trials, args.seed, progress=None if bar is None else step, study_file=args.study
        )
    finally:
        if bar is not None:
            bar.close()
    if args.scenario.resolve() != DEFAULT_SCENARIO:
        result["calibration"]["command"] += f" --scenario {args.scenario}"
    if args.replications is not None:
        result["calibration"]["command"] += f" --replications {args.replications}"
    created = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    with staged_file(args.out) as tmp:
        tmp.write_text(to_toml(result, created_utc=created))
    if not args.quiet:
        print(format_table(result))
        print(f"written: {args.out}")
    else:
        print(args.out)  # --quiet: the file written alone
    return 0
