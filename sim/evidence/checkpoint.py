"""The state of an ABC-SMC run with MCMC moves, kept between generations so an interrupted run goes on.

One ``.npz`` file: the particles (``z``, on the logits), their distances (``rho``), and as JSON the
generations so far, the simulations used, the last acceptance rate, why the run ended (if it did) and
the run's identity (seed, population, parameters, targets, settings, scenario), which a run must match
to go on from it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


class CheckpointError(ValueError):
    """A checkpoint that cannot be used to go on with this run."""


def save_checkpoint(path: Path, identity: dict, z, rho, gens: list, sims: int, rate, end) -> None:
    """Write the sampler's state atomically (a new file renamed over the old, never half written)."""
    import json
    import os

    meta = {"identity": identity, "generations": gens, "simulations": sims, "rate_before": rate, "end": end}
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, z=z, rho=rho, meta=np.array(json.dumps(meta, sort_keys=True)))
    os.replace(tmp, path)


def load_checkpoint(path: Path, identity: dict):
    """(z, rho, generations, simulations, rate, why it ended or None) in ``path``, or None if none."""
    import json

    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            z, rho, meta = data["z"], data["rho"], json.loads(str(data["meta"]))
    except (OSError, ValueError, KeyError):  # numpy's own words (about pickles) would mislead here
        raise CheckpointError(
            f"{path}: not a checkpoint of this calibration (not readable as one); delete it to start again"
        ) from None
    if meta.get("identity") != json.loads(json.dumps(identity, sort_keys=True)):
        raise CheckpointError(
            f"{path}: a checkpoint of another calibration (other seed, population, parameters, targets "
            "or settings); delete it to start again"
        )
    return z, rho, meta["generations"], int(meta["simulations"]), meta["rate_before"], meta["end"]
