"""The yearly loop: the order of the stages of one financial year, written once.

As Starsim's ``loop.py`` does, the order lives here and nowhere else; each stage is a function
``stage(model, year)`` of one module of :mod:`sim.model.stages` with one job. :meth:`DivestmentModel.step`
builds a :class:`Year` and runs :data:`STAGES` in order. Every stage runs over all replications at once;
entries are (replication, slot) pairs ``(r, j)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from sim.model.draws import YearDraws
from sim.model.stages import appraisal, outside, pressure, providers, record, review, transitions

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel


@dataclass
class Year:
    """What the stages of one year share: the year, its draws, and what earlier stages found.

    Attributes:
        y: the financial year simulated (its start, e.g. 2014 for 2014-15).
        col: its column in the funding arrays.
        u: the year's draws (:class:`sim.model.draws.YearDraws`, from words drawn first each year).
        pressure: (n_slots,) budget pressure of each slot's council this year, the same in every replication.
        duty: whether the duty to consider staff proposals is in force this year.
        reviewed: (r, j) entries reviewed or proposed this year (:func:`review.select`).
        is_proposal: (R, n_slots) whether a slot's appraisal came from a staff proposal.
        peer_counts: mutual services at the start of the year in each (replication, region-service cell)
            and each (replication, service), two int arrays (:func:`review.peer_counts`); a slot's peers
            are :func:`review.peers`.
        new: flows of the year (``new_*`` columns), each an (R,) array.
    """

    y: int
    col: int
    u: YearDraws = None
    pressure: np.ndarray = None
    duty: bool = False
    reviewed: tuple[np.ndarray, np.ndarray] = ()
    is_proposal: np.ndarray = None
    peer_counts: tuple[np.ndarray, np.ndarray] = ()
    new: dict[str, np.ndarray] = field(default_factory=dict)


STAGES = (
    pressure.assess,  # 1. draw the year's uniforms; each council's budget pressure from its funding path
    review.select,  # 2. services under pressure are reviewed; staff may propose a mutual (bottom-up)
    appraisal.appraise_and_decide,  # 3. score each reviewed service's options; a change becomes pending
    transitions.transfer,  # 4. pending transitions may be abandoned; those due go live next year
    providers.grow_or_fail,  # 5. spend follows funding; providers fail; contracts end
    outside.step,  # 6. mutuals outside local government follow their own path
    record.record,  # 7. the state at the start of next year, and the year's flows
)
"""The stages of one year, in order."""


def run_year(model: DivestmentModel) -> None:
    """Simulate the model's current year: every stage of :data:`STAGES` in order."""
    from sim.inputs.councils import FUNDING_YEARS
    from sim.inputs.schedules import resolve

    model.p = resolve(model.params_scheduled, model.year)  # scheduled levers take this year's value
    year = Year(y=model.year, col=model.year - FUNDING_YEARS[0])
    for stage in STAGES:
        stage(model, year)
