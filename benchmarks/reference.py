"""What the benchmarks share: another revision of the package, exported to run beside this one."""

from __future__ import annotations

import subprocess
import tarfile
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def export(revision: str, into: Path) -> Path:
    """The package and scenarios of ``revision``, exported into a folder (``git archive``)."""
    data = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", revision, "sim", "scenarios"],
        check=True,
        capture_output=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def best_alternately(trees: dict[str, Path], repeat: int, measure: Callable[[Path], float]) -> dict:
    """The least of ``repeat`` measurements in each tree, taken in turn so that all see the same load."""
    best = dict.fromkeys(trees, float("inf"))
    for _ in range(repeat):
        for name, tree in trees.items():
            best[name] = min(best[name], measure(tree))
    return best
