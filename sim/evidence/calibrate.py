"""Calibration: fit uncertain behavioural parameters to what was known by 2014, with Optuna.

``python -m sim calibrate [--trials N] [--seed S] [--out FILE]`` runs the scenario
``scenarios/calibration/calibration.toml`` (the baseline for its first two simulated years) once per
trial and replication seed, computes summary statistics of the first years' decisions, and minimises a
loss against the targets in :data:`TARGETS` with Optuna's TPE sampler (seeded, so the same ``--trials``
and ``--seed`` give the same fit). It writes the best trial, the 5-95% spread of the best tenth of trials
and the range of the trials within tolerance to ``sim/data/calibrated.toml``. What is fitted to what,
and what is left as assumption, is in ``docs/calibration.md``.

Longer than 300 lines because the targets, the statistics computed from a decision log, the loss and
the writer of one calibration are read together; the command line is in :mod:`sim.cli.calibrate`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.evidence.settings import (  # noqa: F401
    DEFAULT_OUT,
    DEFAULT_SCENARIO,
    DEFAULT_SEED,
    DEFAULT_TRIALS,
    ROOT,
    SHIPPED,
)
from sim.inputs import params
from sim.inputs.scenario import START_YEAR, Scenario

TOP_SHARE = 0.1
"""Share of trials, best first, whose 5-95% range is reported as the spread of each fitted value."""

ACCEPT_LOSS = 1.0
"""Trials with a loss at most this (every target within about its tolerance) bound each fitted value."""

FITTED = (
    "review.rate_per_pressure",
    "proposals.rate_per_year",
    "appraisal.high_jump",
    "appraisal.weight_service_loss",
    "proposals.bonus",
)
"""The parameters fitted, each searched uniformly over its registry range."""

APPRAISAL_REASONS = ("review", "proposal")
MUTUAL_TARGETS = ("mutual", "joint_mutual")
DIVESTED_TARGETS = ("community", "outsourced", "shared", "latc", "trust", "mutual", "joint_mutual")
"""Modes to which a service leaves the council: all count against the 4,500 jobs HSCIC saw outsourced."""


@dataclass(frozen=True)
class Target:
    """One calibration target: a summary statistic of the first simulated years and its known value.

    Attributes:
        name: the statistic's name (a key of :func:`statistics`).
        value: the target value.
        kind: ``equal`` (penalise both sides) or ``upper`` (penalise only values above).
        sd_log: tolerance on the log scale; a statistic exp(sd_log) times the target adds 1 to the loss.
        statistic: what the model statistic counts.
        source: where the target comes from, with every assumption used to derive it.
    """

    name: str
    value: float
    kind: str
    sd_log: float
    statistic: str
    source: str


TARGETS = (
    Target(
        "lg_mutual_decisions_per_year",
        12.0,
        "equal",
        0.3,
        "services decided (by review or staff proposal) to become a staff-led or joint mutual, per year",
        "CALIBRATION.md: 58 mutuals live Jun 2012, 100 Jul 2014, so about 20 a year in all sectors; "
        "about half from local government (source article, Sep 2014): about 10 going live a year; "
        "divided by 0.85, the share of decisions not abandoned in the year before going live "
        "(transition.abandon_mutual), about 12 decisions a year",
    ),
    Target(
        "appraisals_per_year",
        74.0,
        "equal",
        0.5,
        "options appraisals (budget reviews plus staff proposals; each scores the mutual options), per year",
        "CALIBRATION.md: 148 Delivering Differently bids from 353 councils in 2014; assumption: one bid "
        "is one service appraisal that considers a mutual, and half of the bids concern adult social care, "
        "libraries or leisure (the rest children's, youth, culture, environmental and back-office "
        "services): 74 a year",
    ),
    Target(
        "asc_staff_divested_first_year",
        4500.0,
        "upper",
        0.3,
        "adult social care staff in services decided in the first simulated year to leave the council (to a "
        "contractor, another council, a trading company or a mutual)",
        "CALIBRATION.md: HSCIC, council adult social services jobs 140,700 (Sep 2013) to 130,100 (Sep 2014), "
        "outsourcing cited by 18 councils for 4,500 jobs in 2013-14; councils not citing it moved some too, "
        "so staff leaving councils by any route is at most about 4,500 a year, taken as an upper bound",
    ),
    Target(
        "library_points_closed_per_year",
        35.6,
        "equal",
        0.5,
        "library service points closed per year (cuts within council-run services and closures decided)",
        "CALIBRATION.md: English libraries open 10+ hours a week fell from 3,043 (2009-10) to "
        "2,865 (2014-15), 178 in five years",
    ),
)

HOLDOUT = (
    Target(
        "council_asc_staff_change_first_year",
        -0.075,
        "within",
        0.03,
        "yearly change of the staff employed by councils in adult social care, first simulated year",
        "CALIBRATION.md: HSCIC, council adult social services jobs 140,700 (Sep 2013) to 130,100 (Sep 2014)",
    ),
    Target(
        "council_library_staff_change_per_year",
        -0.075,
        "within",
        0.03,
        "yearly change of the staff employed by councils in libraries, mean of the simulated years",
        "CALIBRATION.md: CIPFA, public library FTE staff (Great Britain) 23,794 (2010) to 17,414 (2014), "
        "-7.5% a year",
    ),
)
"""Patterns known by 2014 that the fit does not see: checked after it (tolerance as an absolute change).

``kind = "within"``: the statistic should lie within ``sd_log`` (here an absolute tolerance on the
fraction) of the value. They are out of sample for the calibration: nothing fitted uses them.
"""

STOCK_CHECKS = {
    "n_mutuals": "init.n_mutuals_2014",
    "mutual_staff": "init.mutual_staff_2014",
    "mutual_spend_gbp_m": "init.mutual_spend_2014_gbp_m",
}
"""2014 national stock (national.csv column) against the registry value it is set from: checked only."""


def statistics(decisions: pd.DataFrame, first_year: int, end_year: int) -> dict[str, float]:
    """Summary statistics of one run's decision log (see :data:`TARGETS`).

    Args:
        decisions: the model's decision log (:meth:`sim.model.DivestmentModel.decisions_frame`).
        first_year: the first simulated year (the first year with appraisals).
        end_year: the last simulated year.
    """
    n_years = end_year - first_year + 1
    appraisals = decisions[decisions["reason"].isin(APPRAISAL_REASONS) & (decisions["year"] >= first_year)]
    mutual = appraisals["to_mode"].isin(MUTUAL_TARGETS)
    first = appraisals[
        (appraisals["year"] == first_year)
        & (appraisals["service"] == "adult_social_care")
        & appraisals["to_mode"].isin(DIVESTED_TARGETS)
    ]
    return {
        "lg_mutual_decisions_per_year": mutual.sum() / n_years,
        "appraisals_per_year": len(appraisals) / n_years,
        "proposals_per_year": (appraisals["reason"] == "proposal").sum() / n_years,
        "asc_staff_divested_first_year": float(first["staff"].sum()),
    }


def simulate(scenario: Scenario, values: dict[str, float] | None = None) -> dict[str, float]:
    """Mean of :func:`statistics` over the scenario's replication seeds, with ``values`` set."""
    from sim.model import DivestmentModel, batch_slices

    sc = scenario.with_changes(values or {})
    rows = []
    seeds = sc.seeds()
    for part in batch_slices(len(seeds)):  # replications together, as run alone
        batch = seeds[part]
        model = DivestmentModel(sc, seeds=batch, record_councils=True).run()  # the log needs recording
        log = model.decisions_frame()  # all replications at once (with a batch_index if several)
        index = log["batch_index"].to_numpy() if len(batch) > 1 else np.zeros(len(log), dtype=int)
        columns = model.national_columns()
        points = sum(v for k, v in columns.items() if k.startswith("units_libraries_"))
        asc, lib = columns["council_staff_adult_social_care"], columns["council_staff_libraries"]
        asc_change = asc[:, 1] / asc[:, 0] - 1.0
        lib_change = (lib[:, -1] / lib[:, 0]) ** (1.0 / (lib.shape[1] - 1)) - 1.0
        closed = (points[:, 0] - points[:, -1]) / (sc.end_year - START_YEAR)  # (R,) per year
        for r in range(len(batch)):
            rows.append(statistics(log[index == r], START_YEAR, sc.end_year - 1))
            rows[-1]["library_points_closed_per_year"] = float(closed[r])
            rows[-1]["council_asc_staff_change_first_year"] = float(asc_change[r])
            rows[-1]["council_library_staff_change_per_year"] = float(lib_change[r])
        model.release()
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}


def loss(stats: dict[str, float], targets: tuple[Target, ...] = TARGETS) -> float:
    """Sum over targets of the squared log-ratio of statistic to target, in units of its tolerance."""
    total = 0.0
    for t in targets:
        z = (math.log1p(stats[t.name]) - math.log1p(t.value)) / t.sd_log
        if t.kind == "upper":
            z = max(z, 0.0)
        total += z * z
    return total


def check_stock(scenario: Scenario) -> dict[str, dict[str, float]]:
    """The 2014 national stock of one run against the registry values it is built from."""
    from sim.model import DivestmentModel

    row = DivestmentModel(scenario, seed=scenario.seed, record_councils=False).national().iloc[0]
    return {
        c: {"target": float(scenario.params[k]), "simulated": float(row[c])} for c, k in STOCK_CHECKS.items()
    }


def calibrate(
    scenario: Scenario,
    trials: int,
    seed: int,
    progress: Callable[[float], None] | None = None,
    study_file: Path | None = None,
) -> dict[str, Any]:
    """Fit :data:`FITTED` to :data:`TARGETS` with Optuna's seeded TPE sampler.

    Args:
        scenario: the scenario each trial runs (its seeds are common to every trial).
        trials: number of Optuna trials.
        seed: the sampler's seed.
        progress: called after each trial with the best loss so far.
        study_file: an Optuna journal file that keeps every finished trial: an interrupted calibration
            run again with the same file does only the trials still missing (the sampler, seeded, goes on
            from the trials kept, so a resumed fit may differ from an uninterrupted one).

    Returns:
        A dict ready for :func:`to_toml`: settings, fitted values with spread, targets with the
        statistics at the best trial, and the 2014 stock check.
    """
    from sim.inputs.extras import require

    optuna = require("optuna", "calibrate --method optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    reg = params.registry()

    def objective(trial: optuna.Trial) -> float:
        values = {k: trial.suggest_float(k, reg[k].min, reg[k].max) for k in FITTED}
        return loss(simulate(scenario, values))

    storage = None
    if study_file is not None:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(study_file)))
    study = optuna.create_study(
        direction="minimize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        storage=storage,
        study_name=f"calibrate-{scenario.name}-seed{seed}",
        load_if_exists=True,
    )
    complete = optuna.trial.TrialState.COMPLETE
    missing = max(0, trials - sum(t.state == complete for t in study.trials))
    if progress:
        for t in study.trials:  # the trials a resumed study already has count as done
            if t.state == complete:
                progress(study.best_value)
    callbacks = [lambda study, trial: progress(study.best_value)] if progress else None
    study.optimize(objective, n_trials=missing, callbacks=callbacks)
    done = sorted((t for t in study.trials if t.state == complete), key=lambda t: (t.value, t.number))
    n_top = min(len(done), max(3, math.ceil(TOP_SHARE * len(done))))
    top = pd.DataFrame([t.params for t in done[:n_top]])
    accepted = pd.DataFrame([t.params for t in done if t.value <= ACCEPT_LOSS], columns=list(FITTED))
    best = study.best_trial
    fitted = {
        k: {
            "value": _round(best.params[k]),
            "p05": _round(top[k].quantile(0.05)),
            "p95": _round(top[k].quantile(0.95)),
            "default": reg[k].default,
            "min": reg[k].min,
            "max": reg[k].max,
            "unit": reg[k].unit,
        }
        for k in FITTED
    }
    if len(accepted):  # no accepted trial on a tiny budget: leave the bounds out rather than write nan
        for k in FITTED:
            fitted[k] |= {
                "accepted_min": _round(accepted[k].min()),
                "accepted_max": _round(accepted[k].max()),
            }
    best_stats = simulate(scenario, {k: v["value"] for k, v in fitted.items()})
    default_stats = simulate(scenario)
    targets = {
        t.name: {
            "target": t.value,
            "kind": t.kind,
            "sd_log": t.sd_log,
            "fitted": _round(best_stats[t.name]),
            "at_defaults": _round(default_stats[t.name]),
            "statistic": t.statistic,
            "source": t.source,
        }
        for t in TARGETS
    }
    return {
        "calibration": {
            "command": f"python -m sim calibrate --trials {trials} --seed {seed}",
            "method": "Optuna TPE sampler (independent), seeded; loss in sim.evidence.calibrate.loss",
            "optuna_version": optuna.__version__,
            "trials": trials,
            "seed": seed,
            "scenario": _relative(scenario.path),
            "end_year": scenario.end_year,
            "model_seeds": scenario.seeds(),
            "best_trial": best.number,
            "loss": _round(loss(best_stats)),
            "loss_at_defaults": _round(loss(default_stats)),
            "spread": f"5-95% range of the best {n_top} of {len(done)} trials ({TOP_SHARE:.0%})",
            "spread_loss_max": _round(done[n_top - 1].value),
            "accepted": f"accepted_min/max: range of the {len(accepted)} trials with loss <= {ACCEPT_LOSS}",
        },
        "parameters": fitted,
        "targets": targets,
        "holdout": {
            t.name: {
                "value": t.value,
                "tolerance": t.sd_log,
                "fitted": _round(best_stats[t.name]),
                "within": bool(abs(best_stats[t.name] - t.value) <= t.sd_log),
                "statistic": t.statistic,
                "source": t.source,
            }
            for t in HOLDOUT
        },
        "untargeted_statistics": {
            "proposals_per_year": {
                "fitted": _round(best_stats["proposals_per_year"]),
                "at_defaults": _round(default_stats["proposals_per_year"]),
            },
        },
        "checks_2014_stock": check_stock(scenario),
    }


def _round(x: float, digits: int = 4) -> float:
    """``x`` to ``digits`` significant digits (the fit is not more precise than that)."""
    return float(f"{float(x):.{digits}g}")


def _relative(path: Path | None) -> str:
    if path is None:
        return "<built in code>"
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v), ensure_ascii=False)


def to_toml(result: dict[str, Any], created_utc: str | None = None) -> str:
    """TOML text of a calibration result; the date goes in a separate ``[provenance]`` table."""
    lines = [
        "# Written by `python -m sim calibrate`; do not edit by hand (rerun the command in",
        "# [calibration].command instead). See docs/calibration.md.",
    ]

    def table(name: str, body: dict[str, Any]) -> None:
        lines.append(f"\n[{name}]")
        lines.extend(f"{k} = {_toml_value(v)}" for k, v in body.items())

    for section, body in result.items():
        if all(isinstance(v, dict) for v in body.values()):
            for key, sub in body.items():
                table(f"{section}.{json.dumps(key) if '.' in key else key}", sub)
        else:
            table(section, body)
    if created_utc is not None:
        table("provenance", {"created_utc": created_utc})
    return "\n".join(lines) + "\n"


def format_table(result: dict[str, Any]) -> str:
    """A printable summary: fitted values with spread, then targets against the fitted statistics."""
    out = [f"{'parameter':28} {'fitted':>9} {'p05':>9} {'p95':>9} {'default':>9}   accepted range"]
    for k, v in result["parameters"].items():
        cells = " ".join(f"{v[c]:>9.4g}" for c in ("value", "p05", "p95", "default"))
        bounds = f"[{v['accepted_min']:.4g}, {v['accepted_max']:.4g}]" if "accepted_min" in v else "none"
        out.append(f"{k:28} {cells}   {bounds}")
    out.append(f"\n{'target':32} {'kind':>6} {'target':>9} {'fitted':>9} {'defaults':>9}")
    for k, v in result["targets"].items():
        out.append(f"{k:32} {v['kind']:>6} {v['target']:>9.4g} {v['fitted']:>9.4g} {v['at_defaults']:>9.4g}")
    c = result["calibration"]
    out.append(f"\nloss {c['loss']:.4g} (at the defaults {c['loss_at_defaults']:.4g})")
    out.append(f"p05, p95: {c['spread']}; {c['accepted']}")
    out.append(f"\n{'held out (not fitted)':40} {'known':>9} {'model':>9}   within tolerance")
    for k, v in result.get("holdout", {}).items():
        within = "yes" if v["within"] else "NO"
        out.append(f"{k:40} {v['value']:>9.3g} {v['fitted']:>9.3g}   {within} (±{v['tolerance']})")
    for k, v in result["checks_2014_stock"].items():
        out.append(f"2014 check {k}: simulated {v['simulated']:,.0f}, target {v['target']:,.0f}")
    return "\n".join(out)
