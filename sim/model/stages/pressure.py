"""Stage 1, assess pressure: the year's random draws and each council's budget pressure."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.model.draws import YearDraws

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def assess(m: DivestmentModel, year: Year) -> None:
    """Draw each replication's words for the year and read this year's budget pressure.

    One word per slot (shape (R, n_slots)) is drawn first from the replication's ("year", y) stream,
    whole, so a slot's draws never depend on other slots (:class:`sim.model.draws.YearDraws`); the
    generators are kept for the outside sector.
    """
    m.gens = []
    words = m.words
    for r, st in enumerate(m.streams_by_replication):
        g = st.generator("year", year.y)
        words[r] = g.bit_generator.random_raw(words.shape[1])  # fixed size, drawn first
        m.gens.append(g)
    year.u = m.u = YearDraws(words)
    if year.col < 0:  # before the first year of funding data (a 2010 start's 2010-11): no cut yet
        year.pressure = np.zeros(m.slots.n)
    else:
        year.pressure = m.pressure_path[m.slots.council, year.col]
