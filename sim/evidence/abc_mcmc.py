"""ABC-SMC with MCMC moves (Drovandi and Pettitt 2011): a posterior whose particles keep equal weights.

Importance-weighted ABC-SMC (pyabc's, :mod:`sim.evidence.abc`) weighs each particle by its prior density
over the density of the kernel that proposed it. With tens of parameters those weights collapse onto a
few particles (the shipped pyabc posterior of 32 parameters kept an effective sample size of 4 of 400).
The replenishment algorithm of Drovandi and Pettitt (2011, Biometrics 67: 225-233) never weighs:

1. ``population`` particles are drawn from the prior and simulated.
2. Each generation the worst ``alpha`` share (by distance) is dropped; the largest distance kept is the
   generation's epsilon. The dropped are replaced by copies of kept particles drawn uniformly.
3. Each copy then takes Metropolis-Hastings steps that leave the ABC posterior at that epsilon invariant:
   a Gaussian random walk (the covariance of the kept particles times 2.38² / d, the scaling of Roberts,
   Gelman and Gilks 1997 for d parameters; twice the covariance, Beaumont et al. 2009, is fine for a few
   parameters but rejects nearly every step of tens), accepted
   with the prior ratio and only if the proposal's simulated distance is within epsilon. Each copy takes
   enough steps to have probably moved (``(1 - p_acc)^steps <= c``, p_acc the acceptance rate of the
   generation before, or of the first generation's first step), at most :data:`MAX_STEPS`.
4. It stops when epsilon reaches ``min_epsilon``, the acceptance rate falls below ``min_acceptance`` (the
   posterior of this model and these targets), ``generations`` are done or ``max_simulations`` are used.
   A generation the budget cuts short is dropped (its copies have barely moved): the posterior is the
   last complete generation's, and the simulations it used are still counted.

Parameters live on the logit of their plausible ranges, where the uniform prior is a standard logistic
(:func:`sim.evidence.abc.from_logit`). Every random number comes from the seed: proposals and copies from
``[seed, 1, t, step]`` and a simulation's model seeds from ``[seed, 2, t, step, i]``, so the posterior does
not depend on the number of worker processes. All weights are equal (``1 / population``); the number of
distinct particles, the acceptance rate and the steps per generation are reported instead.
"""

from __future__ import annotations

import math
import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.abc import (
    DEFAULT_DISCREPANCY,
    DEFAULT_MAX_SIMULATIONS,
    DEFAULT_MIN_EPSILON,
    DEFAULT_POPULATION,
    DEFAULT_REPLICATIONS,
    fitted_names,
    from_logit,
    priors,
    simulate_stats,
)
from sim.evidence.checkpoint import CheckpointError, load_checkpoint, save_checkpoint  # noqa: F401  (re-exported)
from sim.evidence.targets import Target, distance
from sim.inputs.scenario import Scenario

DEFAULT_ALPHA = 0.5
"""Share of particles dropped and replenished each generation."""
DEFAULT_C = 0.01
"""A copy takes MCMC steps until the chance that it has not moved is about this."""
DEFAULT_MIN_ACCEPTANCE = 0.015
"""Stop once the MCMC acceptance rate falls below this: smaller epsilons cost more than they tell."""
MAX_STEPS = 30
"""At most this many MCMC steps per copy per generation."""
DEFAULT_GENERATIONS = 30

_JOB: dict[str, Any] = {}
"""What an evaluation needs: set in this process, and in each worker by :func:`_set_job`."""


def _set_job(job: dict[str, Any]) -> None:
    _JOB.clear()
    _JOB.update(job)


def _pool(workers: int, job: dict[str, Any]):
    """Worker processes that evaluate particles, each given ``job`` once.

    Forked from a fork server (a fresh single-threaded process that has imported the model), never from
    this process: pandas' pyarrow has started threads here, and forking a process with threads may
    deadlock the child. Spawned where there is no fork server.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.inputs.forkserver_guard", "sim.evidence.abc_mcmc"])
    else:
        ctx = multiprocessing.get_context("spawn")
    from sim.inputs.lifetime import stdio_detached

    with stdio_detached():  # the server and its workers never hold the command's output
        return ctx.Pool(workers, initializer=_set_job, initargs=(job,))


def _distance(row: tuple[np.ndarray, list[int]]) -> float:
    z, seeds = row
    job = _JOB
    values = from_logit(dict(zip(job["names"], z, strict=True)))
    stats = simulate_stats(job["scenario"], job["targets"], values, seeds)
    d = distance(stats, job["targets"], job["discrepancy"])
    return d if math.isfinite(d) else math.inf


def log_prior(z: np.ndarray) -> np.ndarray:
    """Log density of independent standard logistics at each row (the uniform prior on the logits)."""
    return np.sum(-z - 2.0 * np.log1p(np.exp(-z)), axis=-1)


def model_seeds(seed: int, key: tuple[int, ...], n: int, replications: int) -> list[list[int]]:
    """The model seeds of simulations ``0..n-1`` under ``key``: each from its own seed sequence."""
    return [
        [
            int(s)
            for s in np.random.SeedSequence([seed, 2, *key, i]).generate_state(replications, np.uint64) >> 2
        ]
        for i in range(n)
    ]


def run_abc_mcmc(
    scenario: Scenario,
    targets: tuple[Target, ...],
    *,
    seed: int,
    population: int = DEFAULT_POPULATION,
    generations: int = DEFAULT_GENERATIONS,
    min_epsilon: float = DEFAULT_MIN_EPSILON,
    max_simulations: int = DEFAULT_MAX_SIMULATIONS,
    replications: int = DEFAULT_REPLICATIONS,
    workers: int = 1,
    discrepancy: float = DEFAULT_DISCREPANCY,
    fitted: list[str] | None = None,
    include: list[str] | None = None,
    alpha: float = DEFAULT_ALPHA,
    c: float = DEFAULT_C,
    min_acceptance: float = DEFAULT_MIN_ACCEPTANCE,
    fit_all: bool = False,
    progress: Callable[[int, int, int, float], None] | None = None,
    checkpoint: Path | None = None,
) -> dict[str, Any]:
    """Run the replenishment ABC-SMC; returns the posterior and what made it (as :func:`run_abc` does).

    Arguments as :func:`sim.evidence.abc.run_abc`, plus ``alpha`` (share replenished each generation),
    ``c`` (the chance a copy has not moved that the steps aim at) and ``min_acceptance`` (stop below
    this MCMC acceptance rate), ``fit_all`` (fit every candidate, not only those the screen finds
    informed). ``progress`` is called with (t, distinct particles, simulations so far,
    epsilon) after the prior sample (t = -1) and after each generation.

    ``checkpoint``: a file that keeps the particles after the prior sample and after each complete
    generation. If it exists when the run starts, the run goes on from it. Its random numbers are keyed
    by generation and step, not drawn in sequence, so the posterior is exactly the uninterrupted run's.
    A checkpoint from another run (other seed, population, parameters, targets or settings) is refused
    (:class:`CheckpointError`). It is deleted when the run ends.
    """
    t0 = time.perf_counter()
    fit, skipped, names, effects = fitted_names(scenario, targets, discrepancy, fitted, include, fit_all)
    d, n = len(names), int(population)
    n_drop = max(1, int(math.floor(alpha * n)))
    job = {"scenario": scenario, "targets": fit, "names": names, "discrepancy": discrepancy}
    _JOB.update(job)
    pool = _pool(workers, job) if workers > 1 else None
    sims = 0

    def evaluate(z: np.ndarray, key: tuple[int, ...]) -> np.ndarray:
        nonlocal sims
        rows = list(zip(z, model_seeds(seed, key, len(z), replications), strict=True))
        sims += len(rows)
        if pool is None:
            return np.array([_distance(r) for r in rows])
        return np.array(pool.map(_distance, rows, chunksize=max(1, len(rows) // (8 * workers))))

    gens: list[dict[str, Any]] = []
    stopped = "generations"
    identity = {
        "seed": seed, "population": n, "names": names, "targets": [t.name for t in fit],
        "replications": replications, "discrepancy": discrepancy, "alpha": alpha, "c": c,
        "min_epsilon": min_epsilon, "scenario": scenario.to_dict(),
    }  # fmt: skip
    try:
        saved = load_checkpoint(checkpoint, identity) if checkpoint is not None else None
        resumed = 0
        if saved is None:
            z = np.random.default_rng([seed, 0]).logistic(size=(n, d))
            rho = evaluate(z, (0, 0))
            rate_before, first = None, 1
            if checkpoint is not None:
                save_checkpoint(checkpoint, identity, z, rho, gens, sims, rate_before, None)
        else:
            z, rho, gens, sims, rate_before, end = saved
            resumed = len(gens)
            first = len(gens) + 1 if end is None else generations + 1  # a finished run: nothing left
            stopped = end or stopped
        if progress is not None:
            progress(-1, n, sims, float("nan"))
        for t in range(first, generations + 1):
            z_before, rho_before = z.copy(), rho.copy()  # kept if the budget cuts this generation short
            order = np.argsort(rho, kind="stable")
            keep, drop = order[: n - n_drop], order[n - n_drop :]
            eps = max(float(rho[keep[-1]]), min_epsilon)
            rng = np.random.default_rng([seed, 1, t])
            parents = keep[rng.integers(0, len(keep), size=n_drop)]
            z[drop], rho[drop] = z[parents], rho[parents]
            cov = np.cov(z[keep], rowvar=False).reshape(d, d)
            chol = np.linalg.cholesky(2.38**2 / d * cov + 1e-9 * np.eye(d))
            proposed = accepted = 0
            step = 0
            # the steps from the last generation's acceptance rate; the first measures its own on one step
            target_steps = MAX_STEPS if rate_before is None else min(MAX_STEPS, _steps_for(rate_before, c))
            while step < target_steps and sims < max_simulations:
                step_rng = np.random.default_rng([seed, 1, t, step + 1])
                new = z[drop] + step_rng.standard_normal((n_drop, d)) @ chol.T
                log_ratio = log_prior(new) - log_prior(z[drop])
                passes = np.log(step_rng.random(n_drop)) < log_ratio  # the prior's part of the MH ratio
                dist = np.full(n_drop, math.inf)
                if passes.any():
                    dist[passes] = evaluate(new[passes], (t, step + 1))
                ok = dist <= eps
                moved = drop[ok]
                z[moved], rho[moved] = new[ok], dist[ok]
                proposed += n_drop
                accepted += int(ok.sum())
                step += 1
                if rate_before is None and step == 1:
                    target_steps = min(MAX_STEPS, _steps_for(accepted / proposed, c))
            rate = accepted / max(proposed, 1)
            if step < target_steps and len(gens):  # cut short by the budget: its copies have barely moved
                z, rho = z_before, rho_before
                stopped = f"simulation budget: generation {t} stopped after {step} of {target_steps} steps"
                break
            distinct = len(np.unique(z, axis=0))
            gens.append(
                {
                    "t": t,
                    "epsilon": eps,
                    "evaluations": sims,
                    "mcmc_steps": step,
                    "acceptance_rate": round(rate, 4),
                    "distinct_particles": distinct,
                    "effective_sample_size": float(n),
                    "median_width": _median_width(z),
                }
            )
            rate_before = rate
            reasons = {"min_epsilon": eps <= min_epsilon, "min_acceptance": rate < min_acceptance}
            reasons["simulation budget"] = sims >= max_simulations
            end = next((k for k, hit in reasons.items() if hit), None)
            if checkpoint is not None:
                save_checkpoint(checkpoint, identity, z, rho, gens, sims, rate_before, end)
            if progress is not None:
                progress(t, distinct, sims, eps)
            if end is not None:
                stopped = end
                break
    finally:
        if pool is not None:
            pool.close()
            pool.join()
        _JOB.clear()
    if checkpoint is not None:
        checkpoint.unlink(missing_ok=True)  # the run is complete: the posterior replaces it
    post = pd.DataFrame(from_logit({k: z[:, i] for i, k in enumerate(names)}))
    post["weight"] = 1.0 / n
    return {
        "posterior": post,
        "distances": rho,
        "fitted": names,
        "screen": effects,
        "targets": fit,
        "skipped": skipped,
        "generations": gens,
        "calibration_sample": n,
        "simulations": sims,
        "replications_per_particle": replications,
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "resumed_generations": resumed,
        "algorithm": {"alpha": alpha, "c": c, "min_acceptance": min_acceptance, "max_steps": MAX_STEPS},
        "stopped": stopped,
        "priors": priors(names),
    }


def _median_width(z: np.ndarray) -> float:
    """Median over parameters of the particles' 5-95% range as a share of the plausible range.

    The prior (uniform on the range) gives 0.90; a parameter the targets cannot inform should keep that.
    """
    q05, q95 = np.quantile(z, [0.05, 0.95], axis=0)  # on the logits: the logistic keeps the order
    return round(float(np.median(1.0 / (1.0 + np.exp(-q95)) - 1.0 / (1.0 + np.exp(-q05)))), 4)


def _steps_for(rate: float, c: float) -> float:
    """MCMC steps for a copy to have moved with probability ``1 - c`` at acceptance ``rate``."""
    if rate <= 0.0:
        return MAX_STEPS
    if rate >= 1.0:
        return 1
    return math.ceil(math.log(c) / math.log(1.0 - rate))
