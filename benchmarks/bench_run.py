"""What `run` costs beside what it simulates: end-to-end seconds per replication against the model's own.

For 20 and 200 replications of the baseline (2014-2020):

- the command, end to end, in a fresh process: ``python -m sim run scenarios/baseline.toml
  --replications N --quiet`` (imports, simulation, tables, figures, manifest), and with ``--csv``;
- the model alone in this process: the same replications as batched models with the council table and
  decision log recorded (``sim.experiments.run.run_scenario``), imports excluded;
- the writing alone: ``write_run`` on those results, and the two figures within it;
- the start-up floor: a fresh interpreter importing what ``run`` imports before it simulates;
- the cost of each replication beyond 20, command against model, and the command's fixed cost;
- at 200 and 2,000 replications, ``--national-only`` against the model recording nothing per council.

With ``--reference REV`` it also runs the command of revision REV (exported with ``git archive``, nothing
is written in the checkout) alternately with this checkout's, ``--repeat`` times each, and prints the best
of each, so both see the same load.

Usage::

    python benchmarks/bench_run.py [--reference 7cdc89b] [--repeat 3]

Figures are printed, not asserted: timings depend on the machine and on what else it is doing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: its neighbours
from reference import best_alternately, export  # noqa: E402

BASELINE = ROOT / "scenarios" / "baseline.toml"


def command(replications: int, *extra: str, tree: Path = ROOT) -> float:
    """Seconds for the command line, end to end, in a fresh interpreter importing ``sim`` from ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # users cache bytecode
    with tempfile.TemporaryDirectory() as tmp:
        scenario = tree / "scenarios" / "baseline.toml"
        cmd = [sys.executable, "-m", "sim", "run", str(scenario), "--replications", str(replications)]
        t0 = time.perf_counter()
        subprocess.run([*cmd, "--out", f"{tmp}/o", "--quiet", *extra], check=True, cwd=tree, env=env)
        return time.perf_counter() - t0


def start_up() -> float:
    """Seconds for a fresh interpreter to import what ``run`` needs before it simulates (no work done)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    code = "import sim.cli.main, sim.experiments.run, sim.experiments.output, sim.experiments.tables"
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    return time.perf_counter() - t0


def side_by_side(reference: str, repeat: int) -> None:
    """The command at 20 and 200 replications, this checkout and ``reference`` alternately; best of each."""
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        trees = {reference: export(reference, Path(tmp)), "this checkout": ROOT}
        for n in (20, 200):
            best = best_alternately(trees, repeat, lambda tree, n=n: command(n, tree=tree))
            print(
                f"run scenarios/baseline.toml --replications {n} (end to end, best of {repeat}): "
                + "; ".join(f"{name} {t:.2f} s" for name, t in best.items())
            )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def national_model(replications: int) -> float:
    """Seconds of ``run_scenario`` with nothing recorded per council (what ``--national-only`` runs)."""
    from sim.experiments.run import run_scenario
    from sim.inputs.scenario import load_scenario

    scenario = load_scenario(BASELINE).with_changes({}, replications=replications)
    t0 = time.perf_counter()
    run_scenario(scenario, record_councils=False)
    return time.perf_counter() - t0


def in_process(replications: int) -> tuple[float, float, float]:
    """(model seconds, write_run seconds, figures seconds) in this process."""
    import matplotlib

    matplotlib.use("Agg")
    from sim.experiments.output import write_run
    from sim.experiments.run import run_scenario
    from sim.inputs.scenario import load_scenario
    from sim.model import SERVICES
    from sim.model.rules import MODES
    from sim.pictures import charts

    scenario = load_scenario(BASELINE).with_changes({}, replications=replications)
    t0 = time.perf_counter()
    results = run_scenario(scenario)
    model = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_run(results, Path(tmp) / "o")
        write = time.perf_counter() - t0
        t0 = time.perf_counter()
        charts.save(charts.workforce_figure(results.national, 1e6, title="x"), Path(tmp) / "a.png")
        charts.save(charts.modes_figure(results.national, SERVICES, MODES), Path(tmp) / "b.png")
        figures = time.perf_counter() - t0
    return model, write, figures


def main() -> None:
    """Print the figures."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", help="also time the command of this git revision, alternately")
    parser.add_argument("--repeat", type=int, default=3, help="measurements of each, best kept (3)")
    args = parser.parse_args()
    print(f"baseline 2014-2020; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}")
    in_process(2)  # imports and caches, so the model's time below is the model's
    floor = min(start_up() for _ in range(3))
    print(f"start-up floor (a fresh python importing the model and the tables' writers): {floor:.2f} s")
    measured = {}
    for n in (20, 200):
        end_to_end = min(command(n) for _ in range(args.repeat))
        with_csv = min(command(n, "--csv") for _ in range(args.repeat))
        model, write, figures = min(in_process(n) for _ in range(args.repeat))
        measured[n] = end_to_end, model
        print(
            f"{n:>4} replications (best of {args.repeat}): "
            f"command {end_to_end:.2f} s ({1000 * end_to_end / n:.0f} ms each), "
            f"with --csv {with_csv:.2f} s; model alone {model:.2f} s ({1000 * model / n:.0f} ms each); "
            f"write_run {write:.2f} s, of which figures {figures:.2f} s; "
            f"command / model = {end_to_end / model:.1f}"
        )
    (c20, m20), (c200, m200) = measured[20], measured[200]
    print(
        f"each replication beyond 20 (from 20 to 200): command {1000 * (c200 - c20) / 180:.1f} ms, "
        f"model {1000 * (m200 - m20) / 180:.1f} ms, ratio {(c200 - c20) / max(m200 - m20, 1e-9):.1f}; "
        f"fixed cost of the command (its time at 20 less the model's) {c20 - m20:.2f} s"
    )
    for n in (200, 2000):  # the national tables only: nothing recorded per council
        end_to_end = min(command(n, "--national-only") for _ in range(args.repeat))
        model = min(national_model(n) for _ in range(args.repeat))
        print(
            f"{n:>4} replications, --national-only (best of {args.repeat}): command {end_to_end:.2f} s, "
            f"model alone (no council history) {model:.2f} s; command / model = {end_to_end / model:.1f}"
        )
    if args.reference:
        side_by_side(args.reference, args.repeat)


if __name__ == "__main__":
    main()
