"""Agent-based simulation of English councils divesting services to public service mutuals, 2014 on.

The public API for notebooks and scripts::

    from sim import load_scenario, run_scenario, DivestmentModel
"""

from sim.model import DivestmentModel
from sim.run import ScenarioResults, run_scenario, summarise
from sim.scenario import Scenario, ScenarioError, load_scenario

__all__ = [
    "DivestmentModel",
    "Scenario",
    "ScenarioError",
    "ScenarioResults",
    "load_scenario",
    "run_scenario",
    "summarise",
]
