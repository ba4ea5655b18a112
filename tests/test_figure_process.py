"""The run's figure process: forked at the command's start, it draws the two figures the run writes.

Run in a fresh interpreter each time (pytest's own process has threads, where nothing forks).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = """
import sys
from pathlib import Path
import sim.experiments.figures as F
out = Path(sys.argv[2])
figures = F.FigureProcess()
assert figures.ready, "the figure process did not start"
import pandas as pd
national = pd.read_csv(sys.argv[1])
if sys.argv[3] == "broken":
    national = national.drop(columns=[c for c in national.columns if c.startswith("n_leisure_")])
figures.draw(national, 1_000_000, "s", out / "workforce.png", out / "modes.png")
try:
    figures.wait()
except Exception as exc:
    print("ERROR", type(exc).__name__, exc)
    sys.exit(3)
import matplotlib
matplotlib.use("Agg")
from sim.model import SERVICES
from sim.model.rules import MODES
from sim.pictures import charts
charts.save(charts.workforce_figure(national, 1_000_000, scenario="s"), out / "workforce_here.png")
charts.save(charts.modes_figure(national, SERVICES, MODES, scenario="s"), out / "modes_here.png")
"""


def _run(tmp_path: Path, national: Path, mode: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(national), str(tmp_path), mode],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip


def test_the_figure_process_draws_what_this_process_draws(tmp_path, baseline_results):
    national = tmp_path / "national.csv"
    baseline_results.national.to_csv(national, index=False)
    done = _run(tmp_path, national, "ok")
    assert done.returncode == 0, done.stderr
    for name in ("workforce", "modes"):
        assert (tmp_path / f"{name}.png").read_bytes() == (tmp_path / f"{name}_here.png").read_bytes()


def test_an_error_in_the_figure_process_reaches_the_command(tmp_path, baseline_results):
    national = tmp_path / "national.csv"
    baseline_results.national.to_csv(national, index=False)
    done = _run(tmp_path, national, "broken")  # the modes figure lacks its columns
    assert done.returncode == 3, done.stdout + done.stderr
    assert "ERROR KeyError" in done.stdout and "n_leisure_" in done.stdout
    assert not (tmp_path / "modes.png").exists()
