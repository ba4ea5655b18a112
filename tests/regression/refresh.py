"""Refresh the regression baseline: CURRENT MODEL OUTPUT, not evidence.

Run only after a deliberate change to the model, and say why in the commit:
    uv run python tests/regression/refresh.py
"""

from pathlib import Path

import pandas as pd

from sim.experiments.run import run_scenario
from sim.inputs.scenario import load_scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
COLUMNS = [
    "n_mutuals",
    "mutual_staff",
    "mutual_spend_gbp_m",
    "n_mutuals_lg",
    "mutual_staff_lg",
    "n_latcs",
    "n_leisure_legacy_trust",
    "new_divestments",
    "cum_savings_gbp_m",
]
REPLICATIONS = 4


def current() -> pd.DataFrame:
    """The baseline's national table for the regression seeds, headline columns only."""
    scenario = load_scenario(ROOT / "scenarios" / "baseline.toml").with_changes({}, replications=REPLICATIONS)
    national = run_scenario(scenario, record_councils=False).national
    return national[["year", "replication", "seed", *COLUMNS]]


def main() -> None:
    current().to_csv(HERE / "baseline_national.csv", index=False, float_format="%.10g")
    print(f"wrote {HERE / 'baseline_national.csv'}")


if __name__ == "__main__":
    main()
