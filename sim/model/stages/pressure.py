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
    generators are kept for the outside sector (and set to next year's streams then).
    """
    words, y, n = m.words, year.y, m.words.shape[1]
    streams = m.streams_by_replication
    # last year's generators (or the setup's) are set to this year's streams, not built anew
    reuse = m.gens if len(m.gens) == len(streams) else [None] * len(streams)
    m.gens = [st.generator("year", y, reuse=g) for st, g in zip(streams, reuse, strict=True)]
    for r, g in enumerate(m.gens):
        words[r] = g.bit_generator.random_raw(n)  # fixed size, drawn first
    year.u = m.u = YearDraws(words)
    if year.col < 0:  # before the first year of funding data (a 2010 start's 2010-11): no cut yet
        year.pressure = np.zeros(m.slots.n)
    else:
        year.pressure = m.pressure_path[m.slots.council, year.col]
