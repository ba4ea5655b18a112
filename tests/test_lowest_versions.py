"""The package installs and works at the lowest versions pyproject.toml allows.

A fresh environment gets the package with every direct dependency at its declared lower bound
(``uv pip install --resolution lowest-direct .``); the test checks that each did land at its bound, then
runs the baseline and a small Latin hypercube sweep from it, outside the checkout (the same numbers and
design points as at the locked versions), and draws a progress bar through tqdm. It needs PyPI (skipped
when it cannot be reached) and uv (the one running the tests, ``$UV``, first). Marked ``slow``:
``pytest -m "not slow"`` leaves it out.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments.sweep_spec import load_sweep

ROOT = Path(__file__).resolve().parent.parent
UV = os.environ.get("UV") or shutil.which("uv")


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


LHS_SWEEP = """\
[sweep]
name = "lowest-lhs"
base = "baseline"
[run]
replications = 2
seed = 1
end_year = 2016
[design]
kind = "lhs"
samples = 4
seed = 3
[factors]
"policy.publicity" = { min = 0.5, max = 2.0 }
"appraisal.high_jump" = "plausible"
"""

PROGRESS = """\
import io
from sim.experiments.progress import Progress
class Tty(io.StringIO):
    def isatty(self):
        return True
stream = Tty()
bar = Progress(3, "runs", stream=stream)
bar.update(2)
bar.update(1, failed=1)
bar.close()
assert bar.bar is not None and "3/3" in stream.getvalue(), stream.getvalue()
print("tqdm", __import__("tqdm").__version__)
"""


def _run(*cmd, cwd, env):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    )
    return done.stdout


def lower_bounds() -> dict[str, str]:
    """Each dependency's declared lower bound, by normalised name (``scipy``: ``1.12``)."""
    bounds = {}
    for requirement in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]:
        name, low = re.match(r"([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", requirement).groups()
        bounds[re.sub(r"[-_.]+", "-", name).lower()] = low
    return bounds


def test_every_dependency_has_a_lower_bound():
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert len(lower_bounds()) == len(requirements)


@pytest.mark.slow
@pytest.mark.skipif(UV is None, reason="uv is not installed")
def test_the_lowest_allowed_versions_run_the_baseline_and_an_lhs_sweep(tmp_path):
    if not _pypi_reachable():
        pytest.skip("PyPI cannot be reached (offline)")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    venv = tmp_path / "venv"
    python = Path(sys.base_prefix) / "bin" / "python3"
    _run(UV, "venv", "-q", str(venv), "--python", str(python), cwd=tmp_path, env=env)
    env["VIRTUAL_ENV"] = str(venv)
    _run(UV, "pip", "install", "-q", "--resolution", "lowest-direct", str(ROOT), cwd=tmp_path, env=env)
    listed = json.loads(_run(UV, "pip", "list", "--format", "json", cwd=tmp_path, env=env))
    installed = {re.sub(r"[-_.]+", "-", p["name"]).lower(): p["version"] for p in listed}
    for name, low in lower_bounds().items():  # each at its bound (1.12 lands as 1.12.0)
        assert installed[name].split(".")[: len(low.split("."))] == low.split("."), (name, installed[name])

    program = str(venv / "bin" / "mutuals-sim")
    work = tmp_path / "elsewhere"
    work.mkdir()
    _run(program, "run", "baseline", "--replications", "3", "--out", "base", cwd=work, env=env)
    national = (work / "base" / "national.csv").read_text().splitlines()
    assert len(national) == 1 + 3 * 7  # 2014-2020, three replications
    # the same run here, at the locked (newest) versions: the same numbers
    assert main(["run", "baseline", "--replications", "3", "--out", str(tmp_path / "here"), "--quiet"]) == 0
    assert (tmp_path / "here" / "national.csv").read_text().splitlines() == national
    (work / "lhs.toml").write_text(LHS_SWEEP)
    _run(program, "sweep", "lhs.toml", "--out", "sw", "--workers", "2", "--quiet", cwd=work, env=env)
    points = pd.read_parquet(work / "sw" / "design.parquet")  # the LHS design under SciPy 1.12 and now
    here = load_sweep(work / "lhs.toml").design.points
    for key in ("policy.publicity", "appraisal.high_jump"):
        assert points[key].tolist() == [p[key] for p in here]
    _run(program, "compare", "sw", cwd=work, env=env)
    assert (work / "sw" / "compare" / "report.md").is_file()
    out = _run(str(venv / "bin" / "python"), "-c", PROGRESS, cwd=work, env=env)
    assert out.strip() == f"tqdm {installed['tqdm']}"
