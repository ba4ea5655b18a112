"""``python -m sim calibrate --method abc``: ABC-SMC, written as a posterior with its provenance."""

from __future__ import annotations

import argparse
import datetime as dt
import shlex
import sys
from pathlib import Path


def _check(args: argparse.Namespace) -> list[str]:
    problems = []
    if args.generations is None:
        from sim.evidence.abc import DEFAULT_GENERATIONS
        from sim.evidence.abc_mcmc import DEFAULT_GENERATIONS as MCMC_GENERATIONS

        args.generations = MCMC_GENERATIONS if args.sampler == "mcmc" else DEFAULT_GENERATIONS
    for name, low in (("population", 2), ("generations", 1), ("max_simulations", 1), ("workers", 1)):
        if getattr(args, name) < low:
            problems.append(f"--{name.replace('_', '-')}: must be at least {low}, got {getattr(args, name)}")
    if args.seed < 0:
        problems.append(f"--seed: must be non-negative, got {args.seed}")
    if args.replications is not None and args.replications < 1:
        problems.append(f"--replications: must be at least 1, got {args.replications}")
    if not args.min_epsilon >= 0:
        problems.append(f"--min-epsilon: must be non-negative, got {args.min_epsilon}")
    if not args.discrepancy >= 0:
        problems.append(f"--discrepancy: must be non-negative, got {args.discrepancy}")
    return problems


def command_abc(args: argparse.Namespace, default_out: Path) -> int:
    """Run ABC-SMC and write the posterior; returns the exit code (bad input raises before any work)."""
    from sim.cli.errors import InputError
    from sim.evidence import posterior_file
    from sim.inputs.scenario import ScenarioError

    problems = _check(args)
    if problems:
        raise ScenarioError(problems)
    if args.sampler == "pyabc":  # a missing extra is named before any work (exit 2)
        from sim.inputs.extras import require

        require("pyabc", "--sampler pyabc")
    out = Path(args.out or default_out)
    problem = posterior_file.check_out(out)
    if problem:
        raise InputError(f"--out {problem}")
    from sim.experiments.locks import out_lock

    with out_lock(out, "posterior file"):  # held to the end: no other command writes it meanwhile
        problem = posterior_file.check_out(out)
        if problem:
            raise InputError(f"--out {problem}")
        return _abc(args, out)


def _abc(args: argparse.Namespace, out: Path) -> int:
    from sim.cli.errors import InputError
    from sim.evidence import posterior_file
    from sim.evidence.abc import DEFAULT_REPLICATIONS, SCREEN_THRESHOLD, candidates, run_abc
    from sim.evidence.settings import ABC_SCENARIO
    from sim.evidence.targets import SHIPPED, load_targets
    from sim.inputs.scenario import load_scenario
    from sim.inputs.shipped import find_scenario

    include = [k.strip() for k in (args.include or "").split(",") if k.strip()]
    unknown = [k for k in include if k not in candidates()]
    if unknown:
        raise InputError(
            f"--include: {', '.join(unknown)}: not a behavioural uncertain parameter with a "
            "plausible range (see docs/calibration.md)"
        )
    targets = load_targets(args.targets or SHIPPED)
    args.scenario = args.scenario or ABC_SCENARIO
    scenario = load_scenario(find_scenario(args.scenario))
    from sim.experiments.output import git_commit, versions
    from sim.experiments.progress import Progress
    from sim.experiments.safety import staged_file

    mcmc = args.sampler == "mcmc"  # a bar of simulations (to the budget), or of pyabc's generations
    total, label = (args.max_simulations, "simulations") if mcmc else (args.generations + 1, "generations")
    bar = None if args.quiet else Progress(total, label)
    seen = [0]

    def step(t: int, accepted: int, evaluations: int, eps: float) -> None:
        if bar is None:
            return
        what = "prior sample" if t < 0 else f"generation {t}, epsilon {eps:.3g}"
        if mcmc:
            text = f"{what}: {accepted} distinct particles"
        else:
            text = f"{what}: {accepted} accepted of {evaluations}"
        if bar.bar is not None:
            bar.bar.set_postfix_str(text, refresh=False)
        else:
            print(text, file=sys.stderr, flush=True)
        bar.update(min(evaluations, total) - seen[0] if mcmc else 1)
        seen[0] = min(evaluations, total)

    replications = args.replications or DEFAULT_REPLICATIONS
    run = run_abc
    extra = {}
    if args.sampler == "mcmc":
        from sim.evidence.abc_mcmc import run_abc_mcmc as run

        checkpoint = out.with_name(out.name + ".checkpoint.npz")
        extra = {"fit_all": args.fit == "all", "checkpoint": checkpoint}
        if checkpoint.exists() and not args.quiet:
            print(f"going on from {checkpoint} (an interrupted calibration)", file=sys.stderr)
    from sim.evidence.abc_mcmc import CheckpointError

    try:
        result = run(
            scenario,
            targets,
            seed=args.seed,
            population=args.population,
            generations=args.generations,
            min_epsilon=args.min_epsilon,
            max_simulations=args.max_simulations,
            replications=replications,
            workers=args.workers,
            discrepancy=args.discrepancy,
            include=include,
            progress=step,
            **extra,
        )
    except CheckpointError as exc:
        raise InputError(str(exc)) from None
    finally:
        if bar is not None:
            bar.close()
    provenance = {
        "command": "python -m sim " + shlex.join(sys.argv[sys.argv.index("calibrate") :])
        if "calibrate" in sys.argv
        else "python -m sim calibrate --method abc",
        "method": (
            "ABC-SMC with MCMC moves (Drovandi and Pettitt 2011, sim.evidence.abc_mcmc), equal weights"
            if args.sampler == "mcmc"
            else "ABC-SMC (pyabc), median epsilon schedule"
        )
        + "; distance sim.evidence.targets.distance",
        "sampler": args.sampler,
        "stopped": result.get("stopped"),
        "algorithm": result.get("algorithm"),
        "seed": args.seed,
        "git": git_commit(),
        "versions": versions(),
        "pyabc_version": result.get("pyabc_version"),
        "created_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "wall_seconds": result["wall_seconds"],
        "resumed_generations": result.get("resumed_generations", 0),
        "workers": args.workers,
        "scenario": str(args.scenario),
        "end_year": scenario.end_year,
        "population_size": args.population,
        "max_generations": args.generations,
        "min_epsilon": args.min_epsilon,
        "max_simulations": args.max_simulations,
        "replications_per_particle": replications,
        "discrepancy": args.discrepancy,
        "simulations": result["simulations"],
        "calibration_sample": result["calibration_sample"],
        "generations": result["generations"],
        "fitted": result["fitted"],
        "included": include,
        "fit": args.fit if args.sampler == "mcmc" else "screened",
        "informed": [
            k for k in result["fitted"] if result["screen"].get(k, 0.0) >= SCREEN_THRESHOLD or k in include
        ],
        "priors": result["priors"],
        "screen": result["screen"],
        "targets": [t.__dict__ for t in result["targets"]],
        "skipped_targets": result["skipped"],
        "targets_file": str(args.targets or SHIPPED),
    }
    import pyarrow.parquet as pq

    with staged_file(out) as tmp:
        pq.write_table(posterior_file.table(result["posterior"]), tmp)
    with staged_file(posterior_file.provenance_path(out)) as tmp:
        tmp.write_text(posterior_file.provenance_text(provenance))
    if not args.quiet:
        print(summary(result))
        print(f"written: {out} and {posterior_file.provenance_path(out)}")
    else:
        print(out)  # --quiet: the file written alone
    return 0


def summary(result: dict) -> str:
    """Weighted 5%, 50%, 95% of each fitted parameter, then the generations and skipped targets."""
    import numpy as np

    post = result["posterior"]
    w = post["weight"].to_numpy()
    lines = [f"{'parameter':36} {'p05':>9} {'median':>9} {'p95':>9}   prior (plausible range)"]
    for k in result["fitted"]:
        v = post[k].to_numpy()
        order = np.argsort(v)
        cdf = np.cumsum(w[order])
        q = [v[order][min(len(v) - 1, np.searchsorted(cdf, p))] for p in (0.05, 0.5, 0.95)]
        lo, hi = result["priors"][k]["uniform"]
        lines.append(f"{k:36} {q[0]:>9.4g} {q[1]:>9.4g} {q[2]:>9.4g}   [{lo:g}, {hi:g}]")
    for g in result["generations"]:
        if "acceptance_rate" in g:
            lines.append(
                f"generation {g['t']}: epsilon {g['epsilon']:.3g}, {g['evaluations']:,} simulations so far, "
                f"{g['mcmc_steps']} MCMC steps, acceptance {g['acceptance_rate']:.1%}, "
                f"{g['distinct_particles']} distinct particles"
            )
        else:
            lines.append(
                f"generation {g['t']}: epsilon {g['epsilon']:.3g}, {g['evaluations']} evaluations, "
                f"effective sample size {g['effective_sample_size']:.0f}"
            )
    lines.append(f"{result['simulations']:,} particles simulated in {result['wall_seconds']:,.0f} s")
    if result.get("stopped"):
        lines.append(f"stopped by: {result['stopped']}")
    for k, note in result["skipped"].items():
        lines.append(f"skipped target {k}: {note}")
    return "\n".join(lines)
