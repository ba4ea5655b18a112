"""Solara without its calls home, for the explorer: no telemetry, no version check, no assets from a CDN.

Solara (1.58) by default sends usage events to Mixpanel and looks up the server's public IP address
(``SOLARA_TELEMETRY_MIXPANEL_ENABLE``), ``solara run`` asks PyPI for a newer version (``--check-version``),
and its asset proxy fetches any browser file it does not hold from ``SOLARA_ASSETS_CDN`` (jsDelivr). The
explorer's page needs none of them: the browser files come from the pinned ``solara-assets``, and a file
missing from it must fail here, not be fetched. Importing this module sets those settings in the
environment (before Solara reads them, which it does once, at import) and, if Solara is already imported
(a notebook), in its settings objects too. The version check has no setting: ``python -m sim explore``
runs ``solara run --no-check-version``.
"""

from __future__ import annotations

import os
import sys

NO_CDN = "http://127.0.0.1:9/no-cdn/"
"""Where the asset proxy would fetch a missing browser file: the discard port of this machine, so a
missing file is an error on this machine and never a request to the internet."""

SETTINGS = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_ASSETS_CDN": NO_CDN,
}


def switch_off() -> None:
    """Put :data:`SETTINGS` in the environment and, if Solara is loaded, into its settings."""
    os.environ.update(SETTINGS)
    if "solara.server.settings" in sys.modules:
        sys.modules["solara.server.settings"].telemetry.mixpanel_enable = False
    if "solara.settings" in sys.modules:
        sys.modules["solara.settings"].assets.cdn = NO_CDN


switch_off()
