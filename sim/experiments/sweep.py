"""Running a sweep: chunks of runs on local processes or a Dask cluster, each chunk saved as it finishes.

Every run is identified by ``run_id = case * 100,000 + replication`` (case = arm index x design points +
point) and seeded with the replication's seed (:func:`sim.inputs.scenario.replication_seeds`), whatever
the arm. The runs done are read back from the
chunk files (:mod:`sim.experiments.store`): a killed sweep run again (the same command) does only
the runs that are missing, and a sweep given more replications reuses those done. Results depend
only on each run's parameters and seed, never on chunking, workers or cluster.

Notebook use::

    from sim.experiments.sweep_spec import load_sweep
    from sim.experiments.sweep import run_sweep, read_runs
    run_sweep(load_sweep("scenarios/sweeps/levers.toml"), "results/sweep-levers", workers=2)
    runs = read_runs("results/sweep-levers")

Longer than 300 lines because the in-process path, the local pool and the Dask cluster share one loop
of chunks, each saved as it finishes.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing
import os
import sys
import time
import traceback
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pyarrow as pa

from sim.experiments.chunks import verify_chunks
from sim.experiments.output import provenance
from sim.experiments.pool import context as pool_context
from sim.experiments.pool import cores
from sim.experiments.store import (  # noqa: F401  (read_* re-exported for notebooks)
    SweepError,
    changed_inputs,
    completed_run_ids,
    input_files,
    locked,
    prepare,
    read_design,
    read_failures,
    read_manifest,
    read_runs,
    write_chunk,
    write_manifest,
)
from sim.experiments.sweep_spec import RUN_ID_STRIDE, Case, Sweep
from sim.inputs import params
from sim.inputs.scenario import Scenario

CONNECT_TIMEOUT_S = 20
"""Seconds to wait for a Dask scheduler to answer."""
WORKERS_TIMEOUT_S = 60
"""Seconds to wait for a Dask scheduler to have at least one worker (a sweep would otherwise hang)."""
LOCAL_SCHEDULER = "local"
"""``scheduler`` value that starts a Dask LocalCluster on this machine, bound to loopback only."""
SMALL_SWEEP = 3000
"""Below this many runs left, the default is to run in this process, as starting worker processes costs
about 0.9 s each (imports and a first model; benchmarks/bench_sweep.py) and, on a busy machine, a second
worker may find no free core."""
_ARROW_TYPES = {bool: pa.bool_(), int: pa.int64(), float: pa.float64(), str: pa.string()}


@dataclass(frozen=True)
class ChunkTask:
    """Runs for one worker task: (run_id, case, replication, seed) each, with the cases they need."""

    base: Scenario
    cases: dict[int, Case]
    runs: tuple[tuple[int, int, int, int], ...]
    varied: tuple[str, ...]
    draws: Any = None  # sim.experiments.posterior.Draws: a parameter set per replication, or None


@dataclass(frozen=True)
class ChunkResult:
    """What a task returns: the national rows of its runs that finished, and its failures."""

    run_ids: tuple[int, ...]
    runs: pa.Table | None
    failures: pa.Table | None


@dataclass(frozen=True)
class SweepSummary:
    """What one call of :func:`run_sweep` did.

    Attributes:
        out: the results folder.
        n_runs: runs in the sweep.
        n_skipped: runs already done when the call started.
        n_executed: runs done by this call.
        n_failed: runs that raised in this call.
        seconds: wall time of the call.
    """

    out: Path
    n_runs: int
    n_skipped: int
    n_executed: int
    n_failed: int
    seconds: float


def simulate(scenario: Scenario, seed: int) -> list[dict[str, Any]]:
    """Run the model once; its national rows, one dict per year (no DataFrame: a run takes milliseconds)."""
    from sim.model import DivestmentModel

    model = DivestmentModel(scenario, seed=seed, record_councils=False).run()
    rows = model.national_rows(0)
    model.release()
    return rows


def simulate_batch(scenario: Scenario, seeds: list[int]) -> dict[str, np.ndarray]:
    """Run the model once per seed, all in one batched model (identical to runs one by one).

    Returns:
        The national columns, each a (len(seeds), n_years) array (:meth:`DivestmentModel.national_columns`).
    """
    from sim.model import DivestmentModel

    model = DivestmentModel(scenario, seeds=seeds, record_councils=False).run()
    columns = model.national_columns()
    model.release()  # at once: a sweep makes thousands
    return columns


def _ids_table(
    runs: list[tuple[int, int, int, int]], counts: list[int], task: ChunkTask
) -> dict[str, pa.Array]:
    cases = [task.cases[c] for _, c, _, _ in runs]
    reg = params.registry()

    def column(values: list, kind: pa.DataType) -> pa.Array:
        return pa.array(np.repeat(np.array(values, dtype=object), counts).tolist(), type=kind)

    cols = {
        "run_id": column([r[0] for r in runs], pa.int64()),
        "case": column([r[1] for r in runs], pa.int64()),
        "arm_index": column([c.arm_index for c in cases], pa.int64()),
        "arm": column([c.arm for c in cases], pa.string()),
        "point": column([c.point for c in cases], pa.int64()),
        "replication": column([r[2] for r in runs], pa.int64()),
        "seed": column([r[3] for r in runs], pa.int64()),
    }
    for key in task.varied:
        values = [c.values[key] for c in cases]
        if any(isinstance(v, list | tuple) for v in values):  # a lever's schedule: its JSON text
            cols[key] = column([json.dumps(v) for v in values], pa.string())
        else:
            cols[key] = column(values, _ARROW_TYPES[reg[key].kind])
    return cols


def _error() -> tuple[str, str]:
    """The exception being handled, as (error, traceback) for the failures table."""
    exc = sys.exception()
    return f"{type(exc).__name__}: {exc}", traceback.format_exc(limit=-8)


def _run_case(
    scenario: Scenario, runs: list[tuple[int, int, int, int]]
) -> Iterator[tuple[list[int], dict[str, np.ndarray] | tuple[str, str]]]:
    """(run ids, national columns or error) of a case's runs, in batched models (:func:`batch_slices`).

    A batch that raises is run again seed by seed, so that only the runs that raise are failures.
    """
    from sim.model import batch_slices

    for part in batch_slices(len(runs)):
        batch = runs[part]
        result: dict[str, np.ndarray] | tuple[str, str]
        try:
            result = simulate_batch(scenario, [run[3] for run in batch])
        except Exception:  # a failed run is data, not the end of the sweep
            result = _error()
        if not isinstance(result, tuple) or len(batch) == 1:
            yield [run[0] for run in batch], result
            continue
        for run in batch:
            try:
                result = simulate_batch(scenario, [run[3]])
            except Exception:
                result = _error()
            yield [run[0]], result


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Run a chunk's runs in this process; a run that raises is recorded and the others go on.

    The runs of each case run together as batched models (:func:`simulate_batch`), whose results are
    those of runs one by one; rows come in the chunk's order of runs.
    """
    by_case: dict[int, list[tuple[int, int, int, int]]] = {}
    for run in task.runs:
        by_case.setdefault(run[1], []).append(run)
    pieces: list[dict[str, np.ndarray]] = []  # national columns of a batch, raveled (run, year)
    where: dict[int, tuple[int, int, int]] = {}  # run_id -> (piece, first row, years)
    errors: dict[int, tuple[str, str]] = {}
    from sim.experiments.posterior import case_groups

    for case, case_runs in by_case.items():
        try:
            groups = case_groups(task.base, task.cases[case].changes, case_runs, task.draws)
        except Exception:
            errors.update(dict.fromkeys((run[0] for run in case_runs), _error()))
            continue
        for run_ids, result in (out for sc, runs in groups for out in _run_case(sc, runs)):
            if isinstance(result, tuple):
                errors[run_ids[0]] = result
                continue
            n_years = next(iter(result.values())).shape[1]
            where.update({run_id: (len(pieces), k * n_years, n_years) for k, run_id in enumerate(run_ids)})
            pieces.append({key: value.ravel() for key, value in result.items()})
    done = [run for run in task.runs if run[0] in where]
    failed = [run for run in task.runs if run[0] in errors]
    runs_table = failures = None
    if done:
        counts = [where[run[0]][2] for run in done]
        cols = _ids_table(done, counts, task)
        offsets = np.cumsum([0] + [len(next(iter(piece.values()))) for piece in pieces])
        rows = np.concatenate(
            [np.arange(n) + offsets[p] + first for p, first, n in (where[run[0]] for run in done)]
        )
        for key in pieces[0]:
            cols[key] = pa.array(np.concatenate([piece[key] for piece in pieces])[rows])
        runs_table = pa.table(cols)
    if failed:
        cols = _ids_table(failed, [1] * len(failed), task)
        cols["error"] = pa.array([errors[run[0]][0] for run in failed], pa.string())
        cols["traceback"] = pa.array([errors[run[0]][1] for run in failed], pa.string())
        failures = pa.table(cols)
    return ChunkResult(tuple(r[0] for r in task.runs), runs_table, failures)


# ------------------------------------------------------------------ execution
def _tasks(sweep: Sweep, todo: list[tuple[int, int, int, int]], size: int | list[int]) -> Iterator[ChunkTask]:
    """Tasks of ``size`` runs each in the order of ``todo`` (or of the sizes listed, in turn)."""
    cases = sweep.cases()
    sizes = iter(size) if isinstance(size, list) else None
    i = 0
    while i < len(todo):
        step = next(sizes) if sizes is not None else size
        runs = tuple(todo[i : i + step])
        i += step
        needed = {c: cases[c] for c in sorted({r[1] for r in runs})}
        yield ChunkTask(sweep.base, needed, runs, tuple(sweep.varied), sweep.posterior)


MAX_TASK_RUNS = 512
"""Runs in one task at most by default (under a second of work: a killed sweep loses little)."""


def task_sizes(todo: list[tuple[int, int, int, int]], slots: int) -> list[int]:
    """Default task sizes: whole batched models, large first and smaller towards the end.

    Each case's runs are cut into the batches a chunk runs them in (:func:`sim.model.batch_slices`, at
    most ``MAX_BATCH`` runs each), so that no model is cut short by a task's edge; batches go into a
    task until it holds a third of the runs left per slot (guided scheduling: the last tasks are single
    batches, so the workers finish together), or about :data:`MAX_TASK_RUNS`.
    """
    from sim.model.batches import batch_slices

    batches: list[int] = []
    start = 0
    for k in range(1, len(todo) + 1):
        if k == len(todo) or todo[k][1] != todo[start][1]:  # the end of a case's runs
            batches += [piece.stop - piece.start for piece in batch_slices(k - start)]
            start = k
    sizes: list[int] = []
    left = len(todo)
    size = 0
    for n in batches:
        size += n
        if size >= min(MAX_TASK_RUNS, math.ceil(left / (3 * slots))):
            sizes.append(size)
            left -= size
            size = 0
    if size:
        sizes.append(size)
    return sizes


def _results(tasks: Iterator[ChunkTask], executor: Executor | None, window: int) -> Iterator[ChunkResult]:
    """Results as tasks finish, with at most ``window`` tasks in flight (so memory stays flat)."""
    if executor is None:
        yield from map(run_chunk, tasks)
        return
    pending: set = set()
    try:
        for task in tasks:
            pending.add(executor.submit(run_chunk, task))
            while len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (f.result() for f in done)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            yield from (f.result() for f in done)
    finally:
        for f in pending:
            f.cancel()


def _exit_with_parent() -> None:
    """Worker initializer: exit when the parent dies, even by SIGKILL (pool workers would wait forever)."""
    import threading
    from multiprocessing.connection import wait as wait_for

    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=lambda: (wait_for([parent.sentinel]), os._exit(1)), daemon=True).start()


@contextlib.contextmanager
def _executor(
    workers: int, scheduler: str | None, given: Executor | None
) -> Iterator[tuple[Executor | None, int]]:
    """(executor, parallel slots): the one given, Dask, local processes, or None for this process."""
    if given is not None:
        yield given, workers
    elif scheduler == LOCAL_SCHEDULER:
        with local_cluster(workers) as cluster, dask_client(cluster.scheduler_address) as client:
            yield client.get_executor(pure=False), workers
    elif scheduler:
        with dask_client(scheduler) as client:
            slots = max(1, sum(client.nthreads().values()))
            yield client.get_executor(pure=False), slots
    elif workers > 1:
        # forked from a preloaded fork server (spawned where there is none): safe with threads in the
        # parent, and workers start without importing the model again (sim.experiments.pool)
        with ProcessPoolExecutor(workers, mp_context=pool_context(), initializer=_exit_with_parent) as pool:
            try:
                yield pool, workers
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                for worker in list((getattr(pool, "_processes", None) or {}).values()):
                    worker.terminate()  # their runs are lost anyway; a SIGTERM reached only this process
                raise
    else:
        yield None, 1


def local_cluster(workers: int):
    """A Dask LocalCluster of ``workers`` processes listening on 127.0.0.1 only.

    The scheduler, the workers and both dashboards bind to loopback, so nothing is exposed to the network.
    """
    from sim.inputs.extras import require

    require("distributed", "sweep --scheduler")
    from distributed import LocalCluster

    return LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address="127.0.0.1:0",
        worker_dashboard_address="127.0.0.1:0",
    )


@contextlib.contextmanager
def dask_client(scheduler: str, workers_timeout: float | None = None):
    """A Dask client of the scheduler at ``scheduler`` that has at least one worker.

    Raises:
        SweepError: the address is malformed, the scheduler does not answer within
            :data:`CONNECT_TIMEOUT_S`, or it has no worker after ``workers_timeout`` seconds (default
            :data:`WORKERS_TIMEOUT_S`).
    """
    from sim.inputs.extras import require

    require("distributed", "sweep --scheduler")
    from distributed import Client

    workers_timeout = WORKERS_TIMEOUT_S if workers_timeout is None else workers_timeout
    try:
        client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
    except ValueError as exc:
        raise SweepError(
            f"--scheduler {scheduler}: not a Dask scheduler address ({exc}); e.g. tcp://10.0.0.5:8786"
        ) from None
    except (OSError, TimeoutError) as exc:
        raise SweepError(
            f"--scheduler {scheduler}: cannot connect ({exc}); is the scheduler running?"
        ) from None
    with client:
        try:
            client.wait_for_workers(1, timeout=workers_timeout)
        except TimeoutError:
            raise SweepError(
                f"--scheduler {scheduler}: the scheduler has no workers after {workers_timeout:g} s; start "
                f"some with `dask worker {scheduler}` (docs/sweeps.md)"
            ) from None
        yield client


def default_workers() -> int:
    """Cores this process may use."""
    return cores()


def run_sweep(
    sweep: Sweep,
    out: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    chunk_size: int | None = None,
    retry_failed: bool = False,
    progress: TextIO | None = None,
    executor: Executor | None = None,
) -> SweepSummary:
    """Run the sweep's missing runs into ``out``, writing each chunk as it finishes.

    Args:
        sweep: the resolved sweep (:func:`sim.experiments.sweep_spec.load_sweep`).
        out: results folder; a folder holding part of the same sweep is resumed.
        workers: local processes (1: this process; None: all cores, or this process if fewer than
            ``SMALL_SWEEP`` runs are left, as starting workers takes seconds).
        scheduler: address of a Dask scheduler, e.g. ``tcp://127.0.0.1:8786`` (overrides ``workers``),
            or ``"local"`` for a LocalCluster of ``workers`` processes bound to 127.0.0.1.
        chunk_size: runs per task (None: whole batched models per task, fewer towards the end; see
            :func:`task_sizes`).
        retry_failed: run again the runs recorded as failed.
        progress: stream for a progress line (None: silent).
        executor: an executor of your own to reuse (a warm process pool, or a Dask client's
            ``get_executor()``), with ``workers`` parallel slots; it is left running.

    Raises:
        SweepError: ``out`` holds another sweep's results (or a changed input file's), is not a folder
            the program may write to, another sweep is writing to it, or the Dask scheduler cannot be
            used (malformed address, no answer, no workers).
    """
    from sim.experiments.progress import Progress

    t0 = time.perf_counter()
    out = Path(out)
    chosen, workers = workers, workers or default_workers()
    with locked(out):
        made_by = provenance()  # once: it asks git twice
        manifest = prepare(sweep, out, progress, made_by)
        sweep_id = manifest["inputs_digest"]
        verify_chunks(out)  # every chunk whole: a chunk changed or made from other inputs is refused
        done = completed_run_ids(out, include_failed=not retry_failed)
        seeds = sweep.seeds()
        todo = [
            (c.index * RUN_ID_STRIDE + r, c.index, r, seeds[r])
            for c in sweep.cases()
            for r in range(sweep.replications)
            if c.index * RUN_ID_STRIDE + r not in done
        ]
        skipped = sweep.n_runs - len(todo)
        if chosen is None and executor is None and len(todo) < SMALL_SWEEP:
            workers = 1  # starting worker processes (seconds of imports each) would take longer
        bar = Progress(sweep.n_runs, "runs", stream=progress, done=skipped) if progress else None
        session = {
            **made_by,
            "workers": None if scheduler else workers,
            "scheduler": scheduler,
            "own_executor": executor is not None,
        }
        executed = failed = 0
        try:
            with _executor(workers, scheduler, executor) as (executor, slots):
                size = chunk_size or task_sizes(todo, slots)
                for result in _results(_tasks(sweep, todo, size), executor, 2 * slots):
                    write_chunk(out, result.run_ids, result.runs, result.failures, sweep_id)
                    n_failed = 0 if result.failures is None else result.failures.num_rows
                    executed, failed = executed + len(result.run_ids), failed + n_failed
                    if bar:
                        bar.update(len(result.run_ids), n_failed)
        finally:
            if bar:
                bar.close()
            changed = changed_inputs(manifest["inputs"], input_files(sweep))
            session.update(
                runs_executed=executed,
                runs_failed=failed,
                complete=skipped + executed == sweep.n_runs,
                inputs_changed=changed,
            )
            manifest["sessions"].append(session)
            write_manifest(out, manifest)
        if changed:
            raise SweepError(
                f"{out}: input file(s) changed while the sweep ran: {'; '.join(changed)}. The runs of this "
                "session may come from either version: restore the file and start again in another --out "
                "folder."
            )
    return SweepSummary(out, sweep.n_runs, skipped, executed, failed, time.perf_counter() - t0)
