"""The Mesa agents: England's councils of 1 April 2014."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model import rules
from sim.model.slots import PART_NAMES, SERVICES

if TYPE_CHECKING:
    from sim.model.divestment import DivestmentModel


class CouncilAgent(mesa.Agent):
    """An English council of 1 April 2014.

    Its services' modes, staff and spend are kept by the model in columns indexed by ``slots``; the
    agent is the handle users and notebooks hold (``agent.modes()``, ``agent.ons_code``). In a model of
    several replications one agent stands for the council in all of them.
    """

    def __init__(self, model: DivestmentModel, index: int, ons_code: str, name: str, slots: np.ndarray):
        super().__init__(model)
        self.index = index
        self.ons_code = ons_code
        self.name = name
        self.slots = slots

    def modes(self, r: int = 0) -> dict[str, str]:
        """Delivery mode of each part of the council's services this year, in replication ``r``.

        Keys are ``service/part`` for adult social care (``adult_social_care/day_services``) and
        ``service/part/point`` for library points and leisure centres (``libraries/branch_libraries/3``).
        """
        m = self.model
        s = m.slots

        def key(j: int) -> str:
            base = f"{SERVICES[s.service[j]]}/{PART_NAMES[s.part[j]]}"
            return base if s.service[j] == 0 else f"{base}/{s.point[j]}"

        return {key(j): rules.MODES[m.mode[r, j]] for j in self.slots}
