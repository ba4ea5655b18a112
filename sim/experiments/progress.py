"""A dependency-free progress line for long work: done, failed, rate and time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints ``label: done/total (failed) rate, time left`` to a stream.

    On a terminal the line updates in place; otherwise a line is printed about every 10% of the work.

    Args:
        total: units of work in all.
        label: what is being counted.
        stream: where to print (standard error by default).
        done: units already complete (a resumed sweep).
    """

    def __init__(self, total: int, label: str = "runs", stream: TextIO | None = None, done: int = 0):
        self.total, self.label = total, label
        self.stream = stream or sys.stderr
        self.done, self.failed, self.start_done = done, 0, done
        self.t0 = time.perf_counter()
        self._tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self._next_print = 0

    def update(self, n: int = 1, failed: int = 0) -> None:
        """Count ``n`` more units done, ``failed`` of them failed."""
        self.done += n
        self.failed += failed
        pct = 100 * self.done / max(self.total, 1)
        if self._tty or pct >= self._next_print or self.done >= self.total:
            self._next_print = (int(pct) // 10 + 1) * 10
            self._print(end="\r" if self._tty and self.done < self.total else "\n")

    def line(self) -> str:
        """The progress line."""
        elapsed = time.perf_counter() - self.t0
        fresh = self.done - self.start_done
        rate = fresh / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else float("nan")
        failed = f", {self.failed} failed" if self.failed else ""
        return (
            f"{self.label}: {self.done}/{self.total}{failed}, {rate:,.1f}/s, "
            f"elapsed {elapsed:,.1f}s, left {left:,.1f}s"
        )

    def _print(self, end: str) -> None:
        print(self.line(), end=end, file=self.stream, flush=True)
