"""Command-line entries for batch sweeps (`sweep`, `compare`); filled in by the sweep module."""

from __future__ import annotations

import argparse


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Add the sweep commands' parsers to the main parser's subparsers."""


COMMANDS: dict = {}
