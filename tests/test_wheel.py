"""The package as a user installs it: a wheel in a fresh environment runs the baseline outside a checkout.

Builds the wheel with ``uv build`` and installs it with ``uv pip`` at the locked versions (from uv's cache,
which the test command's own ``uv sync`` has filled): seconds, not minutes. The uv is the one running the
tests (``uv run`` sets ``$UV``), else the first on PATH; skipped without uv. Marked ``slow``.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = os.environ.get("UV") or shutil.which("uv")
"""The uv running the tests (``uv run`` sets ``UV``): a ``uv`` on PATH may be a shim that fails here."""

pytestmark = [pytest.mark.slow, pytest.mark.skipif(UV is None, reason="uv is not installed")]


def _run(*cmd, cwd=None, env=None):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (
        f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    )
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("wheel")
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    env.pop("VIRTUAL_ENV", None)
    _run(UV, "build", "--wheel", "-o", str(tmp / "dist"), cwd=ROOT, env=env)
    (wheel,) = (tmp / "dist").glob("mutuals_sim-*.whl")
    requirements = tmp / "requirements.txt"
    _run(
        UV,
        "export",
        "--frozen",
        "--no-dev",
        "--no-hashes",
        "--no-emit-project",
        "-o",
        str(requirements),
        cwd=ROOT,
        env=env,
    )
    python = Path(sys.base_prefix) / "bin" / "python3"
    _run(UV, "venv", "-q", str(tmp / "venv"), "--python", str(python), env=env)
    env["VIRTUAL_ENV"] = str(tmp / "venv")
    _run(UV, "pip", "install", "-q", "-r", str(requirements), str(wheel), env=env)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return tmp / "venv" / "bin", elsewhere


def test_an_installed_wheel_runs_the_baseline_by_name_outside_a_checkout(installed):
    bin_dir, elsewhere = installed
    out = _run(str(bin_dir / "mutuals-sim"), "check", "baseline", "sweeps/levers", cwd=elsewhere).stdout
    assert "site-packages" in out and "scenario 'baseline'" in out  # the shipped copies, not the checkout's
    quiet = _run(
        str(bin_dir / "mutuals-sim"),
        *("run", "baseline", "--replications", "2", "--end-year", "2015", "--out", "res", "--quiet"),
        cwd=elsewhere,
    )
    assert quiet.stdout.strip() == "res"  # --quiet: the results folder alone
    manifest = json.loads((elsewhere / "res" / "manifest.json").read_text())
    assert manifest["git"]["commit"] is None and manifest["versions"]["mutuals-sim"] == "0.1.0"
    assert {"national.csv", "datapackage.json", "councils.parquet"} <= {
        p.name for p in (elsewhere / "res").iterdir()
    }
    assert _run(str(bin_dir / "mutuals-sim"), "--version", cwd=elsewhere).stdout.strip().endswith("0.1.0")


def test_the_wheel_carries_the_licence_and_the_calibration_scenario(installed):
    bin_dir, elsewhere = installed
    code = (
        "from importlib import metadata, resources; "
        "print(any(f.name == 'LICENSE' for f in metadata.files('mutuals-sim'))); "
        "print((resources.files('sim') / 'scenarios' / 'calibration' / 'calibration.toml').is_file()); "
        "from sim.evidence.settings import DEFAULT_OUT; print(DEFAULT_OUT)"
    )
    out = _run(str(bin_dir / "python"), "-c", code, cwd=elsewhere).stdout.split()
    assert out == ["True", "True", "results/calibrated.toml"]


def test_the_wheel_ships_the_notebooks_and_writes_them_out(installed):
    bin_dir, elsewhere = installed
    out = _run(str(bin_dir / "mutuals-sim"), "notebooks", "nb", cwd=elsewhere).stdout
    written = sorted(p.name for p in (elsewhere / "nb").glob("*.ipynb"))
    assert written == sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb")) and "jupyter lab nb" in out
    code = "import sim; print(sim.__version__)"
    assert _run(str(bin_dir / "python"), "-c", code, cwd=elsewhere).stdout.strip() == "0.1.0"
    usage = _run(str(bin_dir / "mutuals-sim"), "run", "--help", cwd=elsewhere).stdout
    assert usage.startswith("usage: mutuals-sim run")
