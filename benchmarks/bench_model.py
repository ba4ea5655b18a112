"""Per-run cost of the model, side by side with the model of another revision, in one run. Prints figures.

For this checkout and a reference revision (default: the model before the richer options, parts and
life-cycle, ``9ab5ed1``) it measures, each in a fresh process with the same code:

- one England run 2014-2020 with the council table recorded;
- a batched run: ``DivestmentModel(seeds=[...])`` of ``--batch`` replications, national totals only, as
  sweeps run it (best of several models), as time per run;
- (in the first repeat only) a sweep of about ``--sweep-runs`` runs (``scenarios/sweeps/levers.toml``,
  replications scaled) on ``--workers`` worker processes, end to end (worker start-up included), as
  runs per second.

The reference is exported with ``git archive`` into a temporary folder (nothing is written in the
checkout). The two are measured alternately ``--repeats`` times and the best of each is printed, so both
see the same load on the machine. Asserts nothing.

Usage: uv run python benchmarks/bench_model.py [--reference 9ab5ed1] [--batch 50] [--sweep-runs 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: its neighbours
from reference import export  # noqa: E402

MEASURE = r"""
import json, sys, tempfile, time
from pathlib import Path
from sim.inputs.scenario import Scenario
from sim.model import DivestmentModel
from sim.experiments.sweep import run_sweep
from sim.experiments.sweep_spec import load_sweep

batch, sweep_runs, workers, root = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
scenario = Scenario(name="baseline")
DivestmentModel(scenario, seed=0).run()  # warm caches: data files, slots
t0 = time.perf_counter()
DivestmentModel(scenario, seed=1, record_councils=True).run()
one = time.perf_counter() - t0
batched = []
for k in range(4):
    t0 = time.perf_counter()
    seeds = range(k * batch, (k + 1) * batch)
    DivestmentModel(scenario, seeds=seeds, record_councils=False).run().national_columns()
    batched.append((time.perf_counter() - t0) / batch)
result = {"one_ms": one * 1e3, "batched_ms": min(batched) * 1e3, "slots": DivestmentModel(scenario).slots.n}
if sweep_runs:
    sweep = load_sweep(root / "scenarios" / "sweeps" / "levers.toml")
    sweep = sweep.with_replications(max(1, sweep_runs // sweep.n_points // len(sweep.arms)))
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_sweep(sweep, Path(tmp) / "sweep", workers=workers, progress=None)
        seconds = time.perf_counter() - t0
    result |= {"sweep_runs": sweep.n_runs, "sweep_s": seconds, "sweep_runs_per_s": sweep.n_runs / seconds}
print(json.dumps(result))
"""


def measure(tree: Path, batch: int, sweep_runs: int, workers: int) -> dict:
    """Run the measurement in a fresh interpreter importing ``sim`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users cache bytecode
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(batch), str(sweep_runs), str(workers), str(tree)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tree,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--reference", default="9ab5ed1", help="git revision to compare with (default 9ab5ed1)"
    )
    parser.add_argument("--batch", type=int, default=50, help="replications in one batched model")
    parser.add_argument("--sweep-runs", type=int, default=10_000, help="runs of the sweep (0: no sweep)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the sweep")
    parser.add_argument("--repeats", type=int, default=3, help="alternate measurements; the best is kept")
    args = parser.parse_args()
    best: dict[str, dict] = {"ref": {}, "cur": {}}
    with tempfile.TemporaryDirectory() as tmp:
        trees = {"ref": export(args.reference, Path(tmp)), "cur": ROOT}
        for k in range(args.repeats):  # alternating, so both see the same load on the machine
            for name, tree in trees.items():
                print(f"measuring {name} ({k + 1}/{args.repeats}) ...", file=sys.stderr)
                got = measure(tree, args.batch, args.sweep_runs if k == 0 else 0, args.workers)
                for key, value in got.items():
                    keep = max if key.endswith("per_s") else min
                    best[name][key] = keep(best[name].get(key, value), value)
    ref, cur = best["ref"], best["cur"]
    rows = [
        ("service slots (parts)", "slots", "{:,.0f}"),
        ("one run, council table recorded (ms)", "one_ms", "{:.2f}"),
        (f"batched run, {args.batch} seeds per model (ms per run)", "batched_ms", "{:.2f}"),
    ]
    if args.sweep_runs:
        rows += [
            (f"sweep runs ({args.workers} workers)", "sweep_runs", "{:,.0f}"),
            ("sweep, end to end (runs/s)", "sweep_runs_per_s", "{:,.0f}"),
        ]
    print(f"{'':52}{args.reference:>14}{'this checkout':>16}{'ratio':>8}")
    for label, key, fmt in rows:
        ratio = cur[key] / ref[key] if ref[key] else float("nan")
        print(f"{label:52}{fmt.format(ref[key]):>14}{fmt.format(cur[key]):>16}{ratio:>8.2f}")


if __name__ == "__main__":
    main()
