"""What Mesa's tools pass to the model (:class:`~sim.model.divestment.DivestmentModel`) and read from it.

``mesa.batch_run`` constructs models with keyword arguments (``policy__simplification=0.5``, ``seed=None``)
and reads ``model.datacollector``; a user may set their own collector on a model after construction.
"""

from __future__ import annotations

import mesa

from sim.inputs.keys import suggest
from sim.inputs.params import registry
from sim.inputs.scenario import Scenario

NOT_GIVEN = object()
"""``rng`` not given (None is given: fresh randomness)."""


def collect(model: mesa.Model) -> None:
    """Collect into the model's data collector as it is now (a user may have set their own)."""
    collector = getattr(model, "datacollector", None)
    if collector is not None:
        collector.collect(model)


def with_parameters(scenario: Scenario, parameters: dict[str, object]) -> Scenario:
    """The scenario with registry parameters given by EMA-valid name (``a__b``) or dotted key (``a.b``).

    Raises:
        TypeError: a keyword that is no parameter (with the nearest parameter's name), as Python says.
        sim.inputs.scenario.ScenarioError: a value the registry refuses.
    """
    reg = registry()
    changes = {}
    for name, value in parameters.items():
        key = name.replace("__", ".")
        if key not in reg:
            hint = suggest(key, reg).replace(".", "__")
            raise TypeError(f"DivestmentModel() got an unexpected keyword argument {name!r}{hint}")
        changes[key] = value
    return scenario.with_changes(changes)
