"""ABC-SMC with pyabc: a posterior over every behavioural parameter the targets inform.

``python -m sim calibrate --method abc`` (docs/calibration.md). The fitted parameters are found, not
listed: every numeric parameter tagged ``uncertainty`` or ``calibrated`` with a plausible range is moved
from the low to the high end of that range, one at a time, with the scenario's seeds (:func:`screen`);
those that move some computable ``fit`` target by at least :data:`SCREEN_THRESHOLD` of its scaled
tolerance are fitted, with uniform priors over their plausible ranges. A particle's statistics are the
mean over ``replications`` model seeds drawn from the seeded sampler (one batched model per particle);
its distance is :func:`sim.evidence.targets.distance` (RMS of tolerance-scaled errors with a model
discrepancy added in quadrature). pyabc then runs SMC generations with a median epsilon schedule until
the epsilon is at most ``min_epsilon``, ``generations`` are done or ``max_simulations`` are used.
Sampling is :class:`sim.evidence.abc_sampler.OrderedSampler`: the same seed gives the same posterior
whatever the number of workers.
"""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.targets import Target, distance, split_computable, statistics
from sim.inputs import params
from sim.inputs.scenario import Scenario, ScenarioError

FIT_TAGS = ("uncertainty", "calibrated")
NOT_BEHAVIOURAL = ("funding.", "services.")
"""Not behaviour: the funding path and the services' sizes (inputs, or set from named cases,
docs/calibration.md). The uncertain parts of the starting state (``init.*``) are candidates: the screen
keeps those the run's targets depend on."""
SPEND_RESPONSES = ("funding.response_asc", "funding.response_culture")
"""How councils' service spending answers their funding: candidates, as the councils' own 2010-2014
spending is a target (``council_spend_change_*`` in ``sim/data/targets.csv``)."""
SCREEN_THRESHOLD = 1.0
"""A parameter is fitted if its plausible range moves a fit target by at least this many scaled tolerances."""
DEFAULT_DISCREPANCY = 0.1
"""Model discrepancy on the log scale (about a 10% relative error), added in quadrature to each tolerance."""
DEFAULT_POPULATION = 400
DEFAULT_GENERATIONS = 10
DEFAULT_MIN_EPSILON = 0.5
DEFAULT_REPLICATIONS = 4
DEFAULT_MAX_SIMULATIONS = 40_000


def candidates() -> list[str]:
    """Behavioural numeric parameters tagged uncertainty or calibrated, with a plausible range."""
    out = []
    for key, spec in params.registry().items():
        if spec.tag not in FIT_TAGS or spec.plausible is None or spec.kind not in (int, float):
            continue
        if key.startswith(NOT_BEHAVIOURAL) and key not in SPEND_RESPONSES:
            continue
        lo, hi = spec.plausible
        if isinstance(lo, int | float) and isinstance(hi, int | float) and hi > lo:
            out.append(key)
    return out


def _values(values: dict[str, float]) -> dict[str, Any]:
    reg = params.registry()
    return {k: (round(float(v)) if reg[k].kind is int else float(v)) for k, v in values.items()}


def from_logit(z: dict[str, Any]) -> dict[str, Any]:
    """Parameter values from their logits on the plausible ranges: lo + (hi - lo) / (1 + exp(-z))."""
    reg = params.registry()
    out = {}
    for k, v in z.items():
        lo, hi = reg[k].plausible
        out[k] = lo + (hi - lo) * (1.0 / (1.0 + np.exp(-np.asarray(v, dtype=float))))
    return {k: (float(v) if np.ndim(v) == 0 else v) for k, v in out.items()}


def simulate_stats_each(
    scenario: Scenario, targets: tuple[Target, ...], values: dict[str, float], seeds: list[int]
) -> dict[str, np.ndarray]:
    """Each target's statistic in each of ``seeds`` (one batched model), with ``values`` set.

    A combination of values that breaks a constraint between parameters gives NaN statistics (the
    particle is rejected: the prior is truncated to the allowed combinations).
    """
    from sim.model import DivestmentModel

    try:
        sc = scenario.with_changes(_values(values))
    except ScenarioError:
        return {t.name: np.full(len(seeds), math.nan) for t in targets}
    model = DivestmentModel(sc, seeds=seeds, record_councils=any(t.needs_councils for t in targets)).run()
    stats = statistics(model, targets)
    model.release()
    return stats


def simulate_stats(
    scenario: Scenario, targets: tuple[Target, ...], values: dict[str, float], seeds: list[int]
) -> dict[str, float]:
    """Mean over ``seeds`` of :func:`simulate_stats_each`."""
    return {k: float(np.mean(v)) for k, v in simulate_stats_each(scenario, targets, values, seeds).items()}


def screen(
    scenario: Scenario, targets: tuple[Target, ...], discrepancy: float = DEFAULT_DISCREPANCY
) -> dict[str, float]:
    """Each candidate's largest effect on a target, in scaled tolerances, across its plausible range.

    One at a time, the others at their values in ``scenario``, with the scenario's seeds (common to all).
    """
    reg, seeds = params.registry(), scenario.seeds()
    base = simulate_stats(scenario, targets, {}, seeds)
    out = {}
    for key in candidates():
        lo, hi = reg[key].plausible
        ends = [simulate_stats(scenario, targets, {key: v}, seeds) for v in (lo, hi)]
        effect = 0.0
        for t in targets:
            scale = math.hypot(t.tolerance, discrepancy if t.scale == "log" else discrepancy * abs(t.value))
            a, b = (float(t.transform(e[t.name])) for e in ends)
            if math.isfinite(a) and math.isfinite(b):
                effect = max(effect, abs(b - a) / scale)
        out[key] = round(effect, 4)
    del base
    return out


def priors(names: list[str]) -> dict[str, dict[str, Any]]:
    """Each fitted parameter's prior as the provenance records it: uniform on its plausible range."""
    reg = params.registry()
    return {k: {"uniform": list(reg[k].plausible), "source": reg[k].plausible_source} for k in names}


def fitted_names(
    scenario: Scenario,
    targets: tuple[Target, ...],
    discrepancy: float,
    fitted: list[str] | None,
    include: list[str] | None,
    fit_all: bool = False,
) -> tuple[tuple[Target, ...], dict[str, str], list[str], dict[str, float]]:
    """The fit targets the run can compute, the skipped ones, the parameters to fit and the screen's effects.

    ``fit_all``: every candidate is fitted (the screen is still run, to report what each moves).

    Raises:
        ScenarioError: no fit target is computable for the run.
    """
    from sim.evidence.targets import run_start

    usable, skipped = split_computable(targets, run_start(scenario), scenario.end_year)
    fit = tuple(t for t in usable if t.role == "fit")
    if not fit:
        raise ScenarioError(
            [
                "no fit target is computable for this run: "
                + "; ".join(f"{k}: {v}" for k, v in skipped.items())
            ]
        )
    effects = screen(scenario, fit, discrepancy) if fitted is None else {}
    names = list(fitted) if fitted is not None else [k for k, e in effects.items() if e >= SCREEN_THRESHOLD]
    if fitted is None and fit_all:
        names = list(effects)
    elif fitted is None:
        names += [k for k in include or () if k not in names]
    return fit, skipped, names, effects


def run_abc(
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
    progress: Callable[[int, int, int, float], None] | None = None,
) -> dict[str, Any]:
    """Run ABC-SMC; returns the posterior (parameter columns and ``weight``) and what made it.

    Args:
        scenario: the runs each particle makes (its end year and parameters; not its seeds).
        targets: all targets; those with role ``fit`` that the run can compute are used.
        seed: seeds the sampler, every proposal and every particle's model seeds.
        population: particles per generation.
        generations: at most this many generations.
        min_epsilon: stop once a generation's epsilon is at most this.
        max_simulations: stop once this many particles have been simulated.
        replications: model seeds per particle (its statistics are their mean).
        workers: processes evaluating particles (the posterior does not depend on it).
        discrepancy: model discrepancy added in quadrature to every tolerance (log scale).
        fitted: the parameters to fit (None: those :func:`screen` finds informed).
        include: candidates fitted as well as those the screen finds (ignored with ``fitted``).
        progress: called after each generation with (t, accepted, evaluations, epsilon); t = -1 is pyabc's
            calibration sample from the prior, which sets the first epsilon.
    """
    from sim.inputs.extras import require

    pyabc = require("pyabc", "--sampler pyabc")
    from sim.evidence.abc_sampler import OrderedSampler, ShrunkNormalTransition

    t0 = time.perf_counter()
    fit, skipped, names, effects = fitted_names(scenario, targets, discrepancy, fitted, include)
    # uniform on each plausible range = standard logistic on its logit: proposals never leave the prior
    prior = pyabc.Distribution(**{k: pyabc.RV("logistic", 0.0, 1.0) for k in names})
    observed = {t.name: t.value for t in fit}

    def model(parameter) -> dict[str, float]:
        seeds = [int(s) for s in np.random.randint(0, 2**62, size=replications, dtype=np.int64)]  # noqa: NPY002
        return simulate_stats(scenario, fit, from_logit({k: parameter[k] for k in names}), seeds)

    def dist(x: dict, x0: dict) -> float:
        d = distance(x, fit, discrepancy)
        return d if math.isfinite(d) else math.inf

    np.random.seed([seed, 1])  # noqa: NPY002  (pyabc draws from NumPy's global generator)
    sampler = OrderedSampler(seed, workers=workers, batch=max(64, population // 4), progress=progress)
    abc = pyabc.ABCSMC(
        model, prior, dist, population_size=population, sampler=sampler, transitions=ShrunkNormalTransition()
    )
    with tempfile.TemporaryDirectory(prefix="mutuals-abc-") as tmp:
        abc.new(f"sqlite:///{Path(tmp) / 'abc.db'}", observed)
        history = abc.run(
            minimum_epsilon=min_epsilon,
            max_nr_populations=generations,
            max_total_nr_simulations=max_simulations,
        )
        frame, weights = history.get_distribution(m=0, t=history.max_t)
        pops = history.get_all_populations()
        gens = []
        for r in pops.itertuples():
            if r.t >= 0:
                w = np.asarray(history.get_distribution(m=0, t=int(r.t))[1], dtype=float)
                ess = float(w.sum() ** 2 / np.sum(w**2))
                gens.append(
                    {
                        "t": int(r.t),
                        "epsilon": float(r.epsilon),
                        "evaluations": int(r.samples),
                        "effective_sample_size": round(ess, 1),
                    }
                )
        calib = pops[pops.t < 0]
        n_calibration = int(calib.samples.sum()) if len(calib) else 0
    post = pd.DataFrame(from_logit({k: frame[k].to_numpy(dtype=float) for k in names}))
    post["weight"] = np.asarray(weights, dtype=float) / float(np.sum(weights))
    return {
        "posterior": post,
        "fitted": names,
        "screen": effects,
        "targets": fit,
        "skipped": skipped,
        "generations": gens,
        "calibration_sample": n_calibration,
        "simulations": n_calibration + sum(g["evaluations"] for g in gens),
        "replications_per_particle": replications,
        "wall_seconds": round(time.perf_counter() - t0, 1),
        "pyabc_version": pyabc.__version__,
        "priors": priors(names),
    }
