"""The command line: ``python -m sim run|params|map|sweep|compare|calibrate``; one module per command."""

from sim.cli.main import main, script

__all__ = ["main", "script"]
