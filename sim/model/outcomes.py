"""The headline outcomes of a run, with their readable labels: what sweeps compare and charts name."""

METRICS = {
    "mutual_staff": "mutual staff",
    "n_mutuals": "mutuals",
    "mutual_spend_gbp_m": "mutual spending (GBP m)",
}
"""Outcomes compared, all sectors (columns of national.csv), with their labels."""
