"""What the sweep's fork server loads once for every worker forked from it: the model and its data.

Importing this module imports the runner and the model, then builds and runs one small baseline model,
so that the councils' table, the service parts and the first model's set-up are read and cached in the
server; a forked worker starts with them (``sim.experiments.pool.PRELOAD``). A failure here is left for
the worker to meet and report as a run's failure: the server must start whatever happens.
"""

from __future__ import annotations

import gc

import sim.experiments.sweep  # noqa: F401  (the runner, preloaded)
from sim.model.divestment import DivestmentModel


def _warm() -> None:
    try:
        from sim.inputs.scenario import Scenario

        DivestmentModel(Scenario(name="baseline"), seed=0, record_councils=False).run().release()
    except Exception:  # noqa: BLE001  (a worker meets the same error in its first run and reports it)
        return


_warm()
gc.collect()
gc.freeze()  # what is loaded now is never collected: forked workers neither scan nor copy it
