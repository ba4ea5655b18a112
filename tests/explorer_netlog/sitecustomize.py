"""Loaded at start-up by any Python whose PYTHONPATH holds this folder: records every network attempt.

An audit hook (PEP 578) writes one line per ``socket.connect``, ``socket.sendto``, ``socket.getaddrinfo``,
``socket.gethostbyname`` and ``socket.gethostbyaddr`` event to the file named by ``NETLOG``: the event
and its address. The test of the explorer's privacy reads the file after loading the page.
"""

import os
import sys

_PATH = os.environ.get("NETLOG")
_EVENTS = {
    "socket.connect",
    "socket.sendto",
    "socket.getaddrinfo",
    "socket.gethostbyname",
    "socket.gethostbyaddr",
}


def _hook(event, args):
    if event in _EVENTS and _PATH:
        address = args[1] if event in ("socket.connect", "socket.sendto") else args[0]
        with open(_PATH, "a") as f:
            f.write(f"{event}\t{address!r}\n")


if _PATH:
    sys.addaudithook(_hook)
