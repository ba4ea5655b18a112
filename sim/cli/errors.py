"""Errors a user can cause, and the exit code they give."""

EXIT_BAD_INPUT = 2
"""Exit code for bad input: a file, key or argument the message names."""


class InputError(Exception):
    """Bad input from the user; the message says what and where."""


def positive_int(text: str) -> int:
    """An argparse type: an integer of at least 1."""
    import argparse

    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value
