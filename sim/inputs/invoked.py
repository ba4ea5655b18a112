"""How the command line was started (``mutuals-sim`` or ``python -m sim``), for usage lines and hints."""

from __future__ import annotations

import sys
from pathlib import Path


def program() -> str:
    """``python -m sim`` when started so, else ``mutuals-sim`` (the installed script; also from Python).

    Usage lines, next-step hints and messages that name a command use it, so a user is told the command
    as they typed it.
    """
    first = sys.argv[0] if sys.argv else ""
    return "python -m sim" if Path(first).name == "__main__.py" or first == "-m" else "mutuals-sim"
