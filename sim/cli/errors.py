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


def add_sampler_arguments(parser) -> None:
    """``--sampler`` and ``--fit``, shared by ``calibrate`` and ``backtest`` (argparse parser or group)."""
    parser.add_argument(
        "--sampler",
        choices=("mcmc", "pyabc"),
        default="mcmc",
        help="mcmc: replenishment ABC-SMC with MCMC moves, equal weights (Drovandi and Pettitt 2011; the "
        "default); pyabc: pyabc's importance-weighted ABC-SMC",
    )
    parser.add_argument(
        "--fit",
        choices=("all", "screened"),
        default="all",
        help="all: every behavioural uncertain parameter with a plausible range (the default); screened: "
        "only those the one-at-a-time screen finds move a target by a tolerance",
    )


def add_unfitted_argument(parser) -> None:
    """``--unfitted``, shared by ``run`` and ``sweep`` (what ``--posterior`` does with what it lacks)."""
    parser.add_argument(
        "--unfitted",
        choices=("prior", "defaults"),
        default="prior",
        help="with --posterior: the parameters it does not hold (the targets do not inform them) from their "
        "priors over the plausible ranges (prior, the default) or at their defaults",
    )
