"""The Mesa model: every English council of 2014 deciding each year how to run its services.

Councils are Mesa agents. Their services' state lives in the model as columns (one entry per service
slot: a council's adult social care, libraries or leisure), so that one yearly step does its arithmetic in
numpy across all councils. The model class holds the state and runs the year's stages in the order written
once in :mod:`sim.model.loop`; each stage is a module of :mod:`sim.model.stages`, and the decision rules are
the pure functions of :mod:`sim.model.rules`.

One model can also run several replications of the same scenario at once (``seeds=[...]``): every state
column then has one row per replication (shape ``(R, n_slots)``), so the numpy calls and the 353 Mesa
agents are shared by the R runs. Each replication draws from its own streams and is computed independently
of the others, so replication r gives exactly the results of a model run alone with seed ``seeds[r]``.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import mesa
import numpy as np
import pandas as pd

from sim.inputs.councils import load_england
from sim.inputs.scenario import Scenario
from sim.inputs.schedules import resolve
from sim.model import loop, prices, rules, state, tables
from sim.model.agents import CouncilAgent
from sim.model.batches import MAX_BATCH, batch_slices  # noqa: F401  (re-exported)
from sim.model.draws import N_DRAW_ROWS, U_NOISE  # noqa: F401  (re-exported)
from sim.model.mesa_api import NOT_GIVEN, collect, with_parameters
from sim.model.setup import NAMED_CASES, PIPELINE_CASES, setup_start  # noqa: F401  (re-exported)
from sim.model.slots import SERVICES, funding_path, slots_for
from sim.model.stages import providers, record, transitions
from sim.model.streams import Streams, seed_from

REASONS = (
    "initial",
    "pipeline",
    "review",
    "proposal",
    "live",
    "abandoned",
    "failure",
    "contract_end",
    "retender",
    "takeover",
    "branch",
)
"""Reasons in the decision log."""


class DivestmentModel(mesa.Model):
    """English councils divesting leisure, adult social care and libraries, one step per financial year.

    Args:
        scenario: the resolved scenario (parameters and end year); the baseline defaults if None.
        seed: the run's seed, ``0 <= seed < 2**64``; all randomness flows from it (ignored when ``seeds``
            or ``rng`` is given).
        record_councils: keep the per-slot history and the decision log (needed for councils.parquet and
            decisions.csv; sweeps switch it off).
        seeds: run R = len(seeds) replications of the scenario at once, one per seed. Replication r gives
            exactly the results of ``DivestmentModel(scenario, seed=seeds[r])``, whatever the other seeds.
        rng: the seed as Mesa 3 takes it: an int, a numpy ``Generator`` or ``SeedSequence`` (a seed is
            drawn from it), or None for fresh randomness (a seed from the operating system's entropy). The
            seed used is ``model.seed``, so ``DivestmentModel(scenario, rng=model.seed)`` repeats the run.
            ``seed=None`` (what ``mesa.batch_run(iterations=...)`` passes) means the same as ``rng=None``.
        **parameters: registry parameters by their EMA-valid names (``policy__simplification=0.5``, a
            dotted key's dot written ``__``) or dotted keys, applied to the scenario's values and checked
            like a scenario file; so ``mesa.batch_run(DivestmentModel, {"policy__simplification": [0, 1]})``
            varies them.

    ``scenario`` may also be a Mesa ``Scenario`` (as SolaraViz's Reset passes): its ``spec`` attribute, if
    any, is the scenario run, and it becomes ``self.scenario``. ``model.datacollector`` collects after every
    step, whichever collector it holds then: the model's own (the headline national series) or one set on
    the model after construction.

    The yearly order of stages is :data:`sim.model.loop.STAGES`. State columns have one row per
    replication: ``mode``, ``staff``, ``spend``, ``provider``, ``contract_end``, ``pending*`` and
    ``last_review`` are (R, n_slots) arrays, ``resistance`` is (R, n_councils), and the sector outside
    local government (``out_n``, ``out_staff``, ``out_spend``) and ``cum_savings`` are (R,) arrays.
    Results: :meth:`national`, :meth:`councils_frame` and :meth:`decisions_frame` give replication r with
    ``r=``; without it, a model of one replication gives its tables as they always were, and a model of
    several gives all replications with a ``batch_index`` column first (the position of the seed in
    ``seeds``). :meth:`national_columns` and :meth:`national_rows` are the fast access for sweeps.
    ``running`` turns False when the end year is reached, so Mesa's runners stop there.
    """

    def __init__(
        self,
        scenario: Scenario | None = None,
        seed: int = 0,
        record_councils: bool = True,
        seeds: Sequence[int] | None = None,
        *,
        rng: object = NOT_GIVEN,
        **parameters: object,
    ):
        mesa_scenario = None
        if isinstance(scenario, mesa.experimental.scenarios.Scenario):  # Mesa's own (SolaraViz's Reset)
            mesa_scenario, scenario = scenario, getattr(scenario, "spec", None)  # ours, if it carries one
        if parameters:
            scenario = with_parameters(
                scenario if scenario is not None else Scenario(name="baseline"), parameters
            )
        if seeds is None:
            seeds = [seed_from(seed if rng is NOT_GIVEN else rng)]
        seeds = [int(s) for s in seeds]
        if not seeds:
            raise ValueError("seeds is empty: give at least one seed")
        self.streams_by_replication = [Streams(s) for s in seeds]  # checks every seed's range first
        super().__init__(rng=seeds[0])
        if mesa_scenario is not None:
            self.scenario = mesa_scenario  # so that a Reset rebuilds the same scenario
        self.spec = scenario if scenario is not None else Scenario(name="baseline")
        self.seeds = seeds
        self.seed = seeds[0]
        self.n_batch = R = len(seeds)
        self.params_scheduled = self.spec.params  # levers may follow schedules (sim.inputs.schedules)
        self.start_year = self.year = self.spec.start_year
        self.p = p = resolve(self.params_scheduled, self.start_year)  # the values in force this year
        self.streams = self.streams_by_replication[0]  # the first replication's streams
        self.england = eng = load_england()
        self.slots = s = slots_for(p)
        self.end_year = self.spec.end_year
        self.running = self.year < self.end_year
        self.record_councils = record_councils
        self.funding = funding_path(eng, p, self.end_year)
        real = rules.real_funding_index(self.funding, p["funding.cost_growth_per_year"])
        self.pressure_path = rules.budget_pressure(real, p["funding.pressure_scale"])
        self.price = prices.path(p, min(self.start_year, prices.BASE_YEAR), self.end_year + 1)
        state.init_state(self, R)
        state.init_keys(self, R)
        self.log: list[tuple] = []
        self.rows: list[tuple] = []  # per year: totals, staff by mode, counts by service and mode, flows
        years = self.end_year - self.start_year + 1
        if record_councils:  # per year (the state at its start), replication and slot
            self.history = {
                "mode": np.empty((years, R, s.n), dtype=np.int8),
                "staff": np.empty((years, R, s.n)),
                "spend": np.empty((years, R, s.n)),
                "provider": np.empty((years, R, s.n), dtype=np.int64),
                "units": np.empty((years, R, s.n)),
            }
        codes, names = eng.codes, eng.names
        for i in range(eng.n):
            CouncilAgent(self, i, codes[i], names[i], s.by_council[i])
        setup_start(self)
        record.record(self)
        # Mesa's reporters of the seed used and the headline national series (replication 0), collected
        # after each step, for mesa.batch_run and SolaraViz; full tables: national(), councils_frame().
        headline = ("year", "n_mutuals", "mutual_staff", "mutual_spend_gbp_m", "share_of_target")
        reporters = {"seed": lambda m: m.seed} | {c: (lambda m, c=c: m.latest(c)) for c in headline}
        self.datacollector = mesa.DataCollector(model_reporters=reporters)
        self.datacollector.collect(self)
        self._collect = functools.partial(collect, self)  # held: Mesa keeps a weak ref
        every_step = mesa.time.Schedule(interval=1.0, start=1.0)
        mesa.time.EventGenerator(self, self._collect, every_step, mesa.time.Priority.LOW).start()

    # ------------------------------------------------------------------ the year
    def step(self) -> None:
        """Advance one financial year: the stages of :data:`sim.model.loop.STAGES`, in this order.

        1. Assess pressure: the year's draws; each council's budget pressure from its funding path.
        2. Review: services under pressure are reviewed; staff may propose a mutual (bottom-up).
        3. Appraise and decide: each reviewed service's options are scored
           (:func:`sim.model.rules.appraise`); a change of mode becomes a pending transition, live after
           a lag.
        4. Transfer: pending transitions may be abandoned (a chance each year of the lag); those due go
           live at the start of next year; staff and spend move with the service.
        5. Grow or fail: next year's spend follows the council's funding plus trading growth; providers
           fail and contracts end (services return in-house next year).
        6. Outside: mutuals outside local government follow their own path.
        7. Record: the state at the start of next year (national totals, and the council table when
           recording); flows (``new_*``) are those of the year just simulated.

        Decisions are logged with the year they are made; transitions with the year they take effect.
        The first step simulates 2014-15 and records the state of 2015-16. A step at or past the end year
        does nothing (``running`` is False).
        """
        if self.year >= self.end_year:
            self.running = False
            return
        loop.run_year(self)
        self.running = self.year < self.end_year

    def run(self) -> DivestmentModel:
        """Step to the scenario's end year; returns self."""
        while self.year < self.end_year:
            self.step()
        return self

    def release(self) -> None:
        """Free the model now, for a runner that has taken its results; the model is unusable afterwards.

        A Mesa model and its agents refer to each other, so a model no longer used waits for Python's full
        garbage collection, which can be dozens of models later; a batched model holds megabytes of state.
        """
        self.__dict__.clear()  # agents, Mesa's bookkeeping, state: then nothing refers back to the model

    # ------------------------------------------------------------------ helpers for the stages
    def slot_of(self, ons_code: str, service: int, part: str | None = None) -> int:
        """Slot index of a part of a council's service (its first part if ``part`` is None).

        Raises:
            KeyError: the council does not run the service, or the service has no such part.
        """
        return self.slots_of(ons_code, service)[0] if part is None else self._slot(ons_code, service, part)

    def slots_of(self, ons_code: str, service: int) -> tuple[int, ...]:
        """Slot indices of every part of a council's service (KeyError if the council does not run it)."""
        try:
            return self.slots.by_service[(ons_code, service)]
        except KeyError:
            raise KeyError(f"{ons_code} does not run {SERVICES[service]}") from None

    def _slot(self, ons_code: str, service: int, part: str) -> int:
        try:
            return self.slots.index[(ons_code, service, part)]
        except KeyError:
            raise KeyError(f"{ons_code} has no {part} in {SERVICES[service]}") from None

    def log_events(self, r, j, y, old, new, reason, util=None) -> None:
        """Add entries (r, j) to the decision log, with staff and spend as they are now."""
        if len(j) and self.record_councils:
            self.log.append(
                (
                    y,
                    r.copy(),
                    j.copy(),
                    np.broadcast_to(old, j.shape).copy(),
                    np.broadcast_to(new, j.shape).copy(),
                    np.broadcast_to(reason, j.shape),
                    None if util is None else util.copy(),
                    self.staff[r, j],
                    self.spend[r, j],
                    self.units[r, j],
                )
            )

    def go_live(self, r, j, mode, y, reason, join=False) -> None:
        """Services ``j`` of replications ``r`` change to ``mode`` (:func:`transitions.go_live`)."""
        transitions.go_live(self, r, j, mode, y, reason, join)

    def return_in_house(self, r, j, y, reason) -> None:
        """Services ``j`` of replications ``r`` come back in-house (:func:`providers.return_in_house`)."""
        providers.return_in_house(self, r, j, y, reason)

    @property
    def warnings(self) -> list[str]:
        """Messages about the starting state (for several replications, each names its batch index)."""
        if self.n_batch == 1:
            return list(self.start_warnings[0])
        return [
            f"batch {r} (seed {s}): {w}" for r, s in enumerate(self.seeds) for w in self.start_warnings[r]
        ]

    def warnings_of(self, r: int) -> list[str]:
        """Messages about replication ``r``'s starting state."""
        return list(self.start_warnings[r])

    # ------------------------------------------------------------------ results
    def national_columns(self) -> dict[str, np.ndarray]:
        """National totals as columns, each an (R, n_years) array (the fastest access, for sweeps)."""
        return tables.national_columns(self)

    def national_rows(self, r: int = 0) -> list[dict]:
        """Replication ``r``'s national totals, one dict of Python numbers per year."""
        columns = {key: value[r].tolist() for key, value in self.national_columns().items()}
        return [dict(zip(columns, values, strict=True)) for values in zip(*columns.values(), strict=True)]

    def latest(self, column: str, r: int = 0) -> int | float:
        """The latest national value of ``column`` in replication ``r`` (cheap: for reporters each step)."""
        return tables.latest(self, column, r)

    def national(self, r: int | None = None) -> pd.DataFrame:
        """National totals, one row per year.

        Args:
            r: the replication (index into ``seeds``). None: the only replication, or, for a model of
                several, all of them (a ``batch_index`` column first; rows by replication, then year).
        """
        return tables.national(self, r)

    def councils_frame(self, r: int | None = None) -> pd.DataFrame:
        """One row per council, service and year: mode, staff, spend (requires record_councils).

        Args:
            r: the replication; None as for :meth:`national` (rows by replication, year, council and service).
        """
        return tables.councils(self, r)

    def decisions_frame(self, r: int | None = None) -> pd.DataFrame:
        """The decision log: one row per appraisal or transition, with the appraisal scores.

        Args:
            r: the replication; None as for :meth:`national` (rows by replication, then in log order).
        """
        return tables.decisions(self, r)
