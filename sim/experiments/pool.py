"""Where a sweep's local worker processes come from: a fork server that has imported the model once.

A worker spawned afresh imports NumPy, pyarrow, pandas, SciPy and Mesa before its first run (about a
second each; ``benchmarks/bench_sweep.py``). On POSIX the workers are forked from a fork server instead,
a fresh single-threaded process that imports those modules once (:data:`PRELOAD`), so workers start
in milliseconds, and a parent with threads is never forked. ``python -m sim sweep`` starts the server
(:func:`start`) before it reads the sweep file, so the imports overlap the parent's own work. Where
there is no fork server (Windows), workers are spawned as before. Workers compute the same results
either way: each run depends only on its parameters and seed.

This module imports nothing heavy: the command line calls it first.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing.context import BaseContext

PRELOAD = ["sim.inputs.forkserver_guard", "sim.experiments.preload"]
"""Modules the fork server imports once, so that every worker forked from it has them (the runner, the
model and its data: :mod:`sim.experiments.preload`), after :mod:`sim.inputs.forkserver_guard`, which
makes the server end with the command."""


def cores() -> int:
    """Cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def context() -> BaseContext:
    """The start method for local workers: the preloaded fork server where there is one, else spawn."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(PRELOAD)  # read when the server starts; a no-op once it runs
    return ctx


def start() -> None:
    """Start the fork server now (it imports :data:`PRELOAD` while the caller goes on), if there is one."""
    ctx = context()
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        from sim.inputs.lifetime import stdio_detached

        with stdio_detached():  # the server and the resource tracker never hold the command's output
            forkserver.ensure_running()
