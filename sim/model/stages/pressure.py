"""Stage 1, assess pressure: the year's random draws and each council's budget pressure."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel
    from sim.model.loop import Year


def assess(m: DivestmentModel, year: Year) -> None:
    """Draw each replication's block of uniforms for the year and read this year's budget pressure.

    The block (shape (R, N_DRAW_ROWS, n_slots)) is drawn first from the replication's ("year", y) stream,
    whole, so a slot's draws never depend on other slots; the generators are kept for the outside sector.
    """
    m.gens = []
    for r, st in enumerate(m.streams_by_replication):
        g = st.generator("year", year.y)
        g.random(out=m.u[r])  # fixed size, drawn first
        m.gens.append(g)
    year.u = m.u
    year.pressure = m.pressure_path[m.slots.council, year.col]
