"""The posterior file: parameter columns and ``weight`` in Parquet, with its provenance in JSON beside it.

``posterior.parquet`` has one row per particle: a column per fitted parameter (its registry key) and
``weight`` (normalised importance weights, summing to 1). ``posterior.json`` beside it (same stem) says
how it was made: seed, commit, command, targets and sources, population sizes, epsilons, wall time,
date. The Parquet schema carries :data:`KIND` under :data:`META_KEY`, so a calibration replaces only a
posterior it wrote (:func:`check_out`), never a user's file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.inputs import params

META_KEY = b"mutuals-sim"
KIND = b"posterior"


class PosteriorError(Exception):
    """A posterior file that cannot be used; the message names the file and what is wrong."""


def provenance_path(path: str | Path) -> Path:
    """The provenance JSON beside a posterior file."""
    return Path(path).with_suffix(".json")


def _ours(path: Path) -> bool:
    import pyarrow.parquet as pq

    try:
        meta = pq.read_schema(path).metadata or {}
    except Exception:
        return False
    return meta.get(META_KEY) == KIND


def check_out(path: str | Path) -> str | None:
    """A message if a calibration may not write ``path`` and its JSON (a file it did not make), else None."""
    path = Path(path)
    if path.suffix != ".parquet":
        return f"{path}: a posterior file ends in .parquet"
    for p, ours in ((path, _ours), (provenance_path(path), _provenance_ours)):
        if p.is_dir() or p.is_symlink():
            return f"{p}: exists and is not a regular file; give a new file name"
        if p.exists() and not ours(p):
            return f"{p}: exists and was not written by python -m sim calibrate; it is never replaced"
    return None


def _provenance_ours(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("kind") == "mutuals-sim posterior provenance"
    except (OSError, ValueError, AttributeError):
        return False


def table(posterior: pd.DataFrame):
    """The posterior as a pyarrow table whose schema marks it as this program's (see :func:`check_out`)."""
    import pyarrow as pa

    t = pa.Table.from_pandas(posterior.reset_index(drop=True), preserve_index=False)
    return t.replace_schema_metadata({**(t.schema.metadata or {}), META_KEY: KIND})


def provenance_text(provenance: dict[str, Any]) -> str:
    """The provenance JSON (marked as this program's), numpy values as plain numbers."""

    def plain(o: Any) -> Any:
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(type(o).__name__)

    body = {"kind": "mutuals-sim posterior provenance", **provenance}
    return json.dumps(body, indent=2, default=plain, allow_nan=False) + "\n"


def read(path: str | Path) -> pd.DataFrame:
    """Read and check a posterior file: registry parameters within their allowed ranges and a weight.

    Raises:
        PosteriorError: one message naming the file and the first problem.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise PosteriorError(f"{path}: no such posterior file")
    try:
        frame = pq.read_table(path).to_pandas()
    except Exception as exc:
        raise PosteriorError(
            f"{path}: not a readable Parquet posterior file ({type(exc).__name__})"
        ) from None
    if "weight" not in frame:
        raise PosteriorError(f"{path}: column weight: missing (a posterior has parameter columns and weight)")
    reg = params.registry()
    names = [c for c in frame.columns if c != "weight"]
    if not names or not len(frame):
        raise PosteriorError(f"{path}: holds no parameter columns or no rows")
    for c in names:
        if c not in reg:
            from sim.inputs.keys import suggest

            raise PosteriorError(f"{path}: column {c!r}: not a model parameter{suggest(c, tuple(reg))}")
        spec = reg[c]
        if spec.kind not in (int, float) or not pd.api.types.is_numeric_dtype(frame[c]):
            raise PosteriorError(f"{path}: column {c}: must be numeric values of a numeric parameter")
        v = frame[c].to_numpy(dtype=float)
        if not np.all(np.isfinite(v)):
            raise PosteriorError(f"{path}: column {c}: holds missing or infinite values")
        lo = -math.inf if spec.min is None else spec.min
        hi = math.inf if spec.max is None else spec.max
        if v.min() < lo or v.max() > hi:
            raise PosteriorError(
                f"{path}: column {c}: values {v.min():.4g}..{v.max():.4g} leave the allowed range "
                f"{spec.min}..{spec.max} ({spec.unit})"
            )
    w = pd.to_numeric(frame["weight"], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(w)) or w.min() < 0 or w.sum() <= 0:
        raise PosteriorError(f"{path}: column weight: weights must be finite, non-negative and not all zero")
    frame["weight"] = w / w.sum()
    return frame
