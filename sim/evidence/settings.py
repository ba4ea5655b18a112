"""Defaults of the calibration, in a module light enough for the command line's parser to import."""

from pathlib import Path

from sim.inputs.shipped import scenarios_dir

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = scenarios_dir() / "calibration" / "calibration.toml"
ABC_SCENARIO = scenarios_dir() / "calibration" / "calibration_2010.toml"
"""The runs of ``calibrate --method abc`` and ``backtest``: from 2010, so the 2010-2014 targets count."""
"""The scenario each trial runs: the checkout's, or the copy shipped in the package."""
SHIPPED = Path(__file__).resolve().parents[1] / "data" / "calibrated.toml"
"""The calibration the defaults cite; refreshed only on purpose (``--out sim/data/calibrated.toml``)."""
DEFAULT_OUT = Path("results") / "calibrated.toml"
"""Where ``python -m sim calibrate`` writes unless told: under results/, never into the package."""
DEFAULT_TRIALS = 800
"""Optuna trials of a calibration (calibrated: enough for the TPE sampler to settle, docs/calibration.md)."""
DEFAULT_SEED = 2014
"""The sampler's seed of the shipped calibration."""
