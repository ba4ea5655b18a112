"""Experiments: runs of a scenario, batch sweeps and their designs, results stores and comparison."""
