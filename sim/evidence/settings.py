"""Defaults of the calibration, in a module light enough for the command line's parser to import."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCENARIO = ROOT / "scenarios" / "calibration" / "calibration.toml"
DEFAULT_OUT = ROOT / "sim" / "data" / "calibrated.toml"
DEFAULT_TRIALS = 800
"""Optuna trials of a calibration (calibrated: enough for the TPE sampler to settle, docs/calibration.md)."""
DEFAULT_SEED = 2014
"""The sampler's seed of the shipped calibration."""
