"""Throughput of the sweep runner against Mesa's own batch_run, and its peak memory.

The same 1,000 runs (10 policy arms x 100 replications, England 2014-2020) go through:

- this runner (``sim.experiments.sweep.run_sweep``) in this process, with a fresh pool of worker
  processes (start-up included; forked from the preloaded fork server, ``sim.experiments.pool``, which
  in this process is started once and then kept), and with a warm pool passed in (the steady rate);
  the runner runs each arm's replications together as batched models
  (``DivestmentModel(seeds=[...])``, at most
  ``sim.model.MAX_BATCH`` each);
- ``mesa.batch_run`` on the same model, one seed per model run, in one process and on all cores;
- the EMA Workbench adapter (``sim.experiments.ema``, if installed): the ten arms as EMA policies over
  the same levers, each experiment running its 100 replications in one batched model (same seeds).

Then the start-up of a fresh worker process (what a spawned worker imports before its first run, beside
a bare Python), the command line end to end (``python -m sim sweep scenarios/sweeps/levers.toml
--replications 500``, 3,500 runs, with 1 and 2 workers, imports and writing included, beside the same
command of a reference revision run alternately; ``--command-only`` times only this), and the runner's
peak memory (maximum resident set of the parent and of any worker) for a 1,000-run sweep, and with
``--big`` for a 10,000-run sweep, each in a fresh process.

Usage::

    python benchmarks/bench_sweep.py [--workers 2] [--big] [--reference c0cefe9] [--command-only]

Figures are printed, not asserted: timings depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import mesa

from sim.inputs.scenario import load_scenario
from sim.model import DivestmentModel

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: its neighbours
from reference import best_alternately, export  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"
ARMS = {
    "baseline": {},
    "support_doubled": {"support.budget_gbp_m_per_year": 10.0},
    "support_none": {"support.budget_gbp_m_per_year": 0.0},
    "no_support_after_2015": {"support.end_year": 2015},
    "simplification_30": {"policy.simplification": 0.3},
    "simplification_60": {"policy.simplification": 0.6},
    "duty_to_consider": {"policy.duty_to_consider": True},
    "publicity_doubled": {"policy.publicity": 2.0},
    "no_commercialisation": {"policy.commercialisation": 0.0},
    "all_levers": {
        "support.budget_gbp_m_per_year": 10.0,
        "policy.simplification": 0.6,
        "policy.publicity": 2.0,
    },
}
SEED = 20140904
COMMAND_REFERENCE = "c0cefe9"
"""The revision whose command line is timed beside this checkout's (before whole-batch tasks, the warmed
fork server and the faster model of 2026-12-02); exported with ``git archive``, nothing is written in the
checkout."""


def sweep_file(folder: Path, replications: int) -> Path:
    """A sweep of the ten arms above with ``replications`` each."""
    lines = [f'[sweep]\nname = "bench"\nbase = "{BASELINE}"\n', f"[run]\nend_year = 2020\nseed = {SEED}"]
    lines.append(f"replications = {replications}\n")
    for name, changes in ARMS.items():
        lines.append(f"[arms.{name}]")
        lines += [f'"{k}" = {str(v).lower() if isinstance(v, bool) else v}' for k, v in changes.items()]
    path = folder / f"bench-{replications}.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------ mesa.batch_run adapter
@cache
def _scenario(arm: str):
    return load_scenario(BASELINE).with_changes(ARMS[arm])


def _final(column: str):
    return lambda m: m.latest(column)


class BatchDivestmentModel(DivestmentModel):
    """The same model as batch_run needs it: keyword parameters, a DataCollector collecting each step."""

    def __init__(self, arm: str = "baseline", seed: int = 0):
        super().__init__(_scenario(arm), seed=seed, record_councils=False)
        self.datacollector = mesa.DataCollector(
            model_reporters={c: _final(c) for c in ("n_mutuals", "mutual_staff", "mutual_spend_gbp_m")}
        )
        self.datacollector.collect(self)

    def step(self) -> None:
        """One financial year, then collect."""
        super().step()
        self.datacollector.collect(self)


def time_batch_run(replications: int, processes: int | None) -> float:
    """Seconds for batch_run over the arms, with explicit seeds (rng=) for replications."""
    t0 = time.perf_counter()
    rows = mesa.batch_run(
        BatchDivestmentModel,
        parameters={"arm": list(ARMS)},
        rng=[SEED + r for r in range(replications)],
        max_steps=6,
        number_processes=processes,
        data_collection_period=-1,
        display_progress=False,
    )
    seconds = time.perf_counter() - t0
    assert len(rows) == replications * len(ARMS), len(rows)
    return seconds


# ------------------------------------------------------------------ the EMA Workbench adapter
def time_ema(replications: int) -> float:
    """Seconds for EMA Workbench's perform_experiments over the ten arms, given as its scenarios.

    (The arms are policies in EMA's terms; given as policies with no uncertainties, EMA Workbench 3.0.0
    raises "Parameters exist in both ..." from its second experiment on, so they are passed as
    scenarios over the same keys: the same runs.)
    """
    import ema_workbench as ema_wb

    from sim.experiments import ema

    keys = sorted({k for changes in ARMS.values() for k in changes})
    model = ema.model(BASELINE, replications=replications, uncertainties=keys, levers=[])
    base = _scenario("baseline").params
    arms = [
        ema_wb.Sample(name, **{ema.name(k): changes.get(k, base[k]) for k in keys})
        for name, changes in ARMS.items()
    ]
    t0 = time.perf_counter()
    with ema_wb.SequentialEvaluator(model) as evaluator:
        experiments, _ = ema_wb.perform_experiments(model, scenarios=arms, evaluator=evaluator)
    seconds = time.perf_counter() - t0
    assert len(experiments) == len(ARMS), len(experiments)
    return seconds


def worker_startup(repeat: int = 3) -> tuple[float, float]:
    """(seconds for a fresh Python to import what a sweep worker needs and build a model, bare Python)."""
    needs = (
        "from sim.experiments.sweep import run_chunk; from sim.model import DivestmentModel; "
        "from sim.inputs.scenario import load_scenario; "
        f"DivestmentModel(load_scenario({str(BASELINE)!r}), seed=0, record_councils=False)"
    )
    timings = {}
    for label, code in (("worker", needs), ("bare", "pass")):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
            best = min(best, time.perf_counter() - t0)
        timings[label] = best
    return timings["worker"], timings["bare"]


def command_line(workers: int, replications: int = 500, tree: Path = ROOT) -> float:
    """Seconds for ``python -m sim sweep scenarios/sweeps/levers.toml --replications N`` from the shell.

    Run in a fresh interpreter in ``tree`` (this checkout, or an exported revision on ``PYTHONPATH``),
    bytecode cached as users have it, with a new results folder.
    """
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "sim", "sweep", str(tree / "scenarios/sweeps/levers.toml")]
        cmd += [
            "--replications",
            str(replications),
            "--workers",
            str(workers),
            "--out",
            tmp + "/o",
            "--quiet",
        ]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=tree, stdout=subprocess.DEVNULL, env=env)
        return time.perf_counter() - t0


def command_lines(workers: int, repeat: int, reference: str) -> None:
    """Print the levers sweep from the command line, this checkout beside ``reference``, by workers.

    The two are run alternately (``repeat`` times each, the best kept), so both see the same load.
    """
    levers_runs = 500 * 7
    print(f"load average before the command line: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {reference: export(reference, Path(tmp)), "this checkout": ROOT}
        for w in sorted({1, workers}):
            best = best_alternately(trees, repeat, lambda tree, w=w: command_line(w, tree=tree))
            print(
                f"command line, sweep scenarios/sweeps/levers.toml --replications 500 --workers {w} "
                f"({levers_runs:,} runs, end to end, best of {repeat}): "
                + "; ".join(f"{name} {t:.2f} s, {levers_runs / t:,.0f} runs/s" for name, t in best.items())
            )
    print(f"load average after the command line: {os.getloadavg()[0]:.2f}")


# ------------------------------------------------------------------ this runner
def time_runner(path: Path, out: Path, workers: int, warm: bool = False) -> float:
    """Seconds for run_sweep; with ``warm`` a process pool started (and warmed up) beforehand."""
    from sim.experiments.sweep import run_sweep
    from sim.experiments.sweep_spec import load_sweep

    sweep = load_sweep(path)
    if not warm:
        t0 = time.perf_counter()
        run_sweep(sweep, out, workers=workers)
        return time.perf_counter() - t0
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        warmup = load_sweep(path).with_replications(workers)
        run_sweep(warmup, out.with_name(out.name + "-warmup"), workers=workers, executor=pool, chunk_size=1)
        t0 = time.perf_counter()
        run_sweep(sweep, out, workers=workers, executor=pool)
        return time.perf_counter() - t0


def memory_child(replications: int, workers: int) -> None:
    """In a fresh process: run a sweep and print seconds and peak resident memory as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        path = sweep_file(Path(tmp), replications)
        seconds = time_runner(path, Path(tmp) / "out", workers)
        runs_on_disk = sum(f.stat().st_size for f in (Path(tmp) / "out" / "runs").iterdir())
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {"seconds": seconds, "parent_mb": parent, "worker_mb": children, "disk_mb": runs_on_disk / 2**20}
        )
    )


def memory(replications: int, workers: int) -> dict:
    """Run :func:`memory_child` in a fresh interpreter."""
    cmd = [sys.executable, __file__, "--memory-child", str(replications), "--workers", str(workers)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--repeat", type=int, default=2, help="repeats of each timing; the best is kept")
    parser.add_argument("--big", action="store_true", help="also the peak memory of a 10,000-run sweep")
    parser.add_argument("--memory-child", type=int, help=argparse.SUPPRESS)
    parser.add_argument(
        "--reference",
        default=COMMAND_REFERENCE,
        help="revision timed beside this one",
    )
    parser.add_argument(
        "--command-only", action="store_true", help="only the command line, beside the reference revision"
    )
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.workers)
        return
    if args.command_only:
        command_lines(args.workers, args.repeat, args.reference)
        return
    reps = 100
    n = reps * len(ARMS)
    w = args.workers
    print(f"{n:,} runs: {len(ARMS)} arms x {reps} replications, England 2014-2020; {os.cpu_count()} cores")
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    _scenario("baseline")
    DivestmentModel(_scenario("baseline"), seed=0, record_councils=False).run()  # warm caches and imports
    configs = [
        ("this runner, 1 worker (in process)", lambda out: time_runner(path, out, 1)),
        (
            f"this runner, {w} workers (new pool, start-up included)",
            lambda out: time_runner(path, out, w),
        ),
        (
            f"this runner, {w} workers (warm pool: steady rate)",
            lambda out: time_runner(path, out, w, warm=True),
        ),
        ("mesa.batch_run, 1 process", lambda out: time_batch_run(reps, 1)),
        (f"mesa.batch_run, all cores ({w})", lambda out: time_batch_run(reps, None)),
    ]
    try:
        import ema_workbench  # noqa: F401

        configs.append(("EMA Workbench adapter, 1 process (SequentialEvaluator)", lambda out: time_ema(reps)))
    except ImportError:
        print("EMA Workbench not installed (pip install 'mutuals-sim[ema]'): its line is left out")
    seconds: dict[str, list[float]] = {label: [] for label, _ in configs}
    with tempfile.TemporaryDirectory() as tmp:
        path = sweep_file(Path(tmp), reps)
        for k in range(args.repeat):  # interleaved, so a busy spell hurts every configuration alike
            for i, (label, timer) in enumerate(configs):
                seconds[label].append(timer(Path(tmp) / f"out-{k}-{i}"))
    rates = {label: n / min(s) for label, s in seconds.items()}
    print(f"best of {args.repeat} (all times, s, in brackets):")
    for label, rate in rates.items():
        print(f"  {label:62} {rate:8.1f} runs/s  ({', '.join(f'{t:.2f}' for t in seconds[label])})")
    one, many = rates["this runner, 1 worker (in process)"], rates["mesa.batch_run, 1 process"]
    print(f"ratio, one process: this runner / batch_run = {one / many:.2f}")
    fresh = rates[f"this runner, {w} workers (new pool, start-up included)"]
    warm = rates[f"this runner, {w} workers (warm pool: steady rate)"]
    pool = rates[f"mesa.batch_run, all cores ({w})"]
    print(
        f"ratio, {w} processes: this runner / batch_run = {fresh / pool:.2f} (warm pool: {warm / pool:.2f})"
    )
    if "EMA Workbench adapter, 1 process (SequentialEvaluator)" in rates:
        print(f"ratio, one process: this runner / EMA adapter = {one / rates[configs[-1][0]]:.2f}")
    worker, bare = worker_startup()
    print(
        f"worker start-up: {worker:.2f} s to import what a run needs and build a model "
        f"(bare Python {bare:.2f} s)"
    )
    command_lines(w, args.repeat, args.reference)
    print(f"peak memory (resident), {w} workers:")
    for r in (100, 1000) if args.big else (100,):
        m = memory(r, w)
        print(
            f"  {r * len(ARMS):>6,} runs: parent {m['parent_mb']:.0f} MB, "
            f"largest worker {m['worker_mb']:.0f} MB, {m['seconds']:.1f} s, "
            f"results on disk {m['disk_mb']:.1f} MB"
        )


if __name__ == "__main__":
    main()
