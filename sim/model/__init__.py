"""The model: the Mesa model of councils, its yearly loop of stages, the pure rules, random streams, slots.

``from sim.model import DivestmentModel`` and the names below load lazily, so importing a submodule such
as :mod:`sim.model.rules` does not import Mesa.
"""

from __future__ import annotations

from sim import lazy_exports

_EXPORTS = {
    "DivestmentModel": "sim.model.divestment",
    "CouncilAgent": "sim.model.agents",
    "MAX_BATCH": "sim.model.batches",
    "batch_slices": "sim.model.batches",
    "NAMED_CASES": "sim.model.setup",
    "PIPELINE_CASES": "sim.model.setup",
    "N_DRAW_ROWS": "sim.model.draws",
    "U_NOISE": "sim.model.draws",
    "REASONS": "sim.model.divestment",
    "SERVICES": "sim.model.slots",
    "ASC": "sim.model.slots",
    "LIBRARIES": "sim.model.slots",
    "LEISURE": "sim.model.slots",
    "Slots": "sim.model.slots",
    "build_slots": "sim.model.slots",
    "slots_for": "sim.model.slots",
    "funding_path": "sim.model.slots",
}

__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports("sim.model", _EXPORTS, globals())
