"""Time one England run 2014-2020, 200 runs one by one, and runs batched in one model. Prints figures.

Batched: ``DivestmentModel(seeds=[...])`` runs the replications together (identical results); the figure
is the time per run. Asserts nothing.

Usage: uv run python benchmarks/bench_model.py [--runs 200] [--batch 50]
"""

import argparse
import time

from sim.inputs.scenario import Scenario
from sim.model import DivestmentModel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--batch", type=int, default=50, help="replications in one batched model")
    args = parser.parse_args()
    scenario = Scenario(name="baseline")
    DivestmentModel(scenario, seed=0).run()  # warm caches: data files, slots

    t0 = time.perf_counter()
    DivestmentModel(scenario, seed=1, record_councils=True).run()
    one = time.perf_counter() - t0

    t0 = time.perf_counter()
    for s in range(args.runs):
        DivestmentModel(scenario, seed=s, record_councils=False).run()
    many = time.perf_counter() - t0

    t0 = time.perf_counter()
    for s in range(20):
        DivestmentModel(scenario, seed=s, record_councils=False)
    init = (time.perf_counter() - t0) / 20

    batched = []
    for k in range(max(1, args.runs // args.batch)):
        t0 = time.perf_counter()
        seeds = range(k * args.batch, (k + 1) * args.batch)
        DivestmentModel(scenario, seeds=seeds, record_councils=False).run().national_columns()
        batched.append((time.perf_counter() - t0) / args.batch)

    print(f"one England run 2014-2020 (council table recorded): {one * 1e3:.2f} ms")
    print(
        f"{args.runs} runs in one process (national only): {many:.2f} s, "
        f"{many / args.runs * 1e3:.2f} ms per run, {args.runs / many:.0f} runs/s"
    )
    print(f"of which model set-up (353 Mesa agents, 2014 state): {init * 1e3:.2f} ms per run")
    best = min(batched)
    print(
        f"batched, {args.batch} seeds per model (national only): {best * 1e3:.2f} ms per run "
        f"(best of {len(batched)} models), {1 / best:.0f} runs/s, {many / args.runs / best:.1f}x one by one"
    )


if __name__ == "__main__":
    main()
